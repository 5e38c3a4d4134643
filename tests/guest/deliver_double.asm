; #GP whose gate is not present raises #NP: two contributory faults make a #DF (error 0).
%include "common.inc"
start:
    gate 13, h_never, 0x0E      ; present bit clear
    gate 11, h_never, 0x8E
    gate 8, h_df, 0x8E
    lidt [idtr]
    mov cx, 0x23
    mov ds, cx
    hlt
h_never:
    mov dword [RESULT + 4], 0xbad
    hlt
h_df:
    mov eax, [esp]
    mov [RESULT], eax           ; error code 0
    mov dword [RESULT + 8], 0xdf
    hlt
idt_table

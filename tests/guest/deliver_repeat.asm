; Four #GPs in a row, each handled and returned from: none may turn into #DF.
%include "common.inc"
start:
    gate 13, h_gp, 0x8E
    gate 8, h_df, 0x8E
    lidt [idtr]
    mov cx, 0x23
    mov ds, cx
    mov ds, cx
    mov ds, cx
    mov ds, cx
    hlt
h_gp:
    inc dword [RESULT]
    add esp, 4
    add dword [esp], 2
    iretd
h_df:
    mov dword [RESULT + 4], 0xdf
    hlt
idt_table

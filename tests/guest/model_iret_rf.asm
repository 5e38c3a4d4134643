; EFLAGS.RF: an iret that loads it leaves it set for one instruction only (pushf right after
; sees it clear; Unicorn kept it to the end of the next block); a fault pushes it set in its
; frame, a software interrupt does not.
; RESULT+0: EFLAGS pushed right after an iret that loaded RF; +4: the same three instructions
; later; +8: EFLAGS in the #UD frame; +12: EFLAGS in the int3 frame; +16: EFLAGS after the
; handlers' iret; +20: done.
%include "common.inc"
start:
    gate 6, h_ud, 0x8E
    gate 3, h_bp, 0x8E
    lidt [idtr]
    pushfd
    or dword [esp], 0x10000             ; RF
    push cs
    push .next
    iretd
.next:
    pushfd
    pop dword [RESULT + 0]
    pushfd
    or dword [esp], 0x10000
    push cs
    push .later
    iretd
.later:
    nop
    nop
    nop
    pushfd
    pop dword [RESULT + 4]
    ud2
    int3
    pushfd
    pop dword [RESULT + 16]
    mov dword [RESULT + 20], 1
    cli
    hlt
h_ud:                                   ; frame: eip, cs, eflags
    mov eax, [esp + 8]
    mov [RESULT + 8], eax
    add dword [esp], 2                  ; past the ud2
    iretd
h_bp:
    mov eax, [esp + 8]
    mov [RESULT + 12], eax
    iretd
    idt_table

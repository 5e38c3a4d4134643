; A native VMI call interrupted inside its slot, whose handler makes another native call: the
; guest's trap flag raises #DB after GetInterruptMask's pushfd, and the #DB handler calls GetCR0
; before returning into the slot. RESULT+4*k: 0 EAX after GetInterruptMask, 1 EAX after the
; nested GetCR0, 2 the call site, 3 #DB traps taken inside the ROM, 4 0x600d at the end.
%include "common.inc"
%define SLOT31 (ROM + 0x100 + 31 * 32)
start:
    gate 1, h_db, 0x8E
    lidt [idtr]
    mov dword [RESULT + 8], site
    pushfd
    or dword [esp], 0x100       ; TF: #DB after each instruction from the one after popfd
    popfd
    nop
site:
    vmi 31                      ; GetInterruptMask: pushfd; pop eax; ret
    mov [RESULT + 0], eax
    mov dword [RESULT + 16], 0x600d
    cli
    hlt

h_db:                           ; frame: eip, cs, eflags
    mov eax, [esp]
    cmp eax, SLOT31 + 1         ; just after the slot's pushfd
    jne .done
    inc dword [RESULT + 12]
    vmi 19                      ; GetCR0, made while GetInterruptMask is in flight
    mov [RESULT + 4], eax
    and dword [esp + 8], ~0x100 ; no more traps once back in the slot
.done:
    iretd

    idt_table

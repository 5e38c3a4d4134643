; GetInterruptMask after an iret that loads RF: the CPU clears RF with a host write of EFLAGS
; at the next block start (cpu/model.c), which leaves the arithmetic flags of the iret's image
; in QEMU's own EFLAGS word, stale once an add computes others. RESULT+0: the mask the slot's
; pushfd returned, RESULT+16: 0x600d at the end.
%include "common.inc"
start:
    vmi 31                      ; GetInterruptMask: a pushfd before the call below
    push dword 0x000108D7       ; RF, OF, SF, ZF, AF, PF, CF (IF and DF clear)
    push dword 0x08
    push dword after
    iret
after:
    mov eax, 1
    add eax, 1                  ; no arithmetic flag set
    vmi 31                      ; GetInterruptMask
    mov [RESULT + 0], eax
    mov dword [RESULT + 16], 0x600d
    cli
    hlt

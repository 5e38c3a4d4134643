; A loop that stores into other code that has run (its page's counts are cached), entered from
; the block before it: the first store comes back to the TLB fill hook while the block runs on
; to its end and jumps back to the store. Results: RESULT+0 the rdtsc delta around it.
%include "common.inc"
start:
    call target                 ; counted: stores to its page come back to the fill hook
    rdtsc
    mov ebx, eax
    mov ecx, 4
    mov al, 0x90
.copy:
    mov [target + ecx], al      ; after its ret: the routine itself is unchanged
    loop .copy
    rdtsc
    sub eax, ebx
    mov [RESULT], eax
    cli
    hlt
align 4096
target:
    ret
    times 8 db 0xCC

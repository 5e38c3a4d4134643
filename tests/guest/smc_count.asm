; Self-modifying code and the instruction count: a routine whose first two bytes flip between
; 90 90 (two nops) and 66 90 (one xchg ax, ax) - the same length, one instruction fewer - is
; called between two rdtsc 3000 times. Results: RESULT+0 the sum of all deltas, RESULT+4.. the
; first 64 deltas.
%include "common.inc"
%define ROUNDS 3000
start:
    mov ebp, ROUNDS
    xor esi, esi                ; sum
    mov edi, RESULT + 4
.loop:
    rdtsc
    mov ebx, eax
    call patched
    rdtsc
    sub eax, ebx
    add esi, eax
    cmp edi, RESULT + 4 + 64 * 4
    jae .full
    mov [edi], eax
    add edi, 4
.full:
    xor byte [patched], 0x90 ^ 0x66  ; 90 90 <-> 66 90
    dec ebp
    jnz .loop
    mov [RESULT], esi
    cli
    hlt
align 4096
patched:
    nop
    nop
    ret

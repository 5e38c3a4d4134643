; Self-modifying code inside one block: each round flips the two bytes right after the store
; between 90 90 (two nops) and 66 90 (one xchg ax, ax), then runs them. The block being
; executed is cut at the store and translated again. The pushfd before the store keeps exact
; stops in its block off trap-flag stepping (tests/test_clock.c steps through it). Results: RESULT+0 the sum of the rdtsc deltas over 3000 rounds, RESULT+4.. the first 64
; deltas.
%include "common.inc"
%define ROUNDS 3000
start:
    mov ebp, ROUNDS
    xor esi, esi
    mov edi, RESULT + 4
.loop:
    rdtsc
    mov ebx, eax
    pushfd
    xor byte [.patched], 0x90 ^ 0x66 ; 90 90 <-> 66 90, in this very block
.patched:
    nop
    nop
    add esp, 4
    rdtsc
    sub eax, ebx
    add esi, eax
    cmp edi, RESULT + 4 + 64 * 4
    jae .full
    mov [edi], eax
    add edi, 4
.full:
    dec ebp
    jnz .loop
    mov [RESULT], esi
    cli
    hlt

; A rep movsb that stores into counted code on another page than its own block (as Linux's
; text_poke_early patches alternatives): the store retires like any other, whether or not
; the target page's code has run (been counted) before. Each round: rdtsc, mov, the 2-byte
; copy, rdtsc - the same delta every round - then a call of the patched routine, so from the
; second round on its page holds counted code. RESULT+0 the sum of the deltas, RESULT+4..
; the first 16 deltas.
%include "common.inc"
%define ROUNDS 16
start:
    mov ebp, ROUNDS
    xor edx, edx                ; sum
    mov [RESULT], edx
    mov edi, RESULT + 4
.loop:
    push edi
    mov esi, nops
    mov edi, patched
    mov ecx, 2
    rdtsc
    mov ebx, eax
    rep movsb                   ; writes 90 90 over patched's 90 90
    rdtsc
    pop edi
    sub eax, ebx
    add [RESULT], eax
    mov [edi], eax
    add edi, 4
    call patched
    dec ebp
    jnz .loop
    cli
    hlt
nops:
    db 0x90, 0x90
align 4096
patched:
    nop
    nop
    ret

; A port access inside a block finds its place in the block by decoding it, and the last answer
; is kept (cpu.c block_index). Here an `in` from an unused port (logged with its instruction
; count) sits behind bytes that flip between 90 90 (two nops) and 66 90 (one xchg ax, ax): the
; same block, the same EIP, one instruction fewer before it every other round. The flip is
; stored from another page, so the block is not cut. From one read to the next: in, ret, xor,
; dec, jnz, call, then 1 or 2: 7, then 8, in turn.
%include "common.inc"
%define ROUNDS 100
start:
    mov ebp, ROUNDS
.loop:
    call patched
    xor byte [patched], 0x90 ^ 0x66  ; 90 90 <-> 66 90
    dec ebp
    jnz .loop
    cli
    hlt
align 4096
patched:
    nop
    nop
    in al, 0x99
    ret

; A block that patches its own code only every other round, after a store to data on its page
; each round, made by a routine on another page. In the round between, the block runs unchanged, so its translation stays and its
; count is kept in it (cpu/blockpatch.c); the next round's data store (from another block)
; drops the page's counts and stops watching the page, leaving that translation valid. The
; block must then be counted afresh, its page watched again, before it runs: else its store
; into itself no longer comes back to the fill hook, and the block stays counted whole where
; Unicorn cuts it at the store. The xor writes the two bytes after it (90 90 <-> 66 90) when
; ECX points there, a far dword otherwise. Deltas between the rdtscs (rdtsc, mov, pushfd, xor,
; the one or two instructions there, add): 6, 6, 7, 7, ... RESULT+0 their sum over 3000
; rounds, RESULT+4.. the first 64.
%include "common.inc"
%define ROUNDS 3000
%define FAR (RESULT + 0x800)
start:
    mov ebp, ROUNDS
    xor esi, esi
    mov edi, RESULT + 4
.loop:
    mov ecx, FAR
    test ebp, 1
    jnz .keep
    mov ecx, .patched
.keep:
    call store_scratch
.counted:
    rdtsc
    mov ebx, eax
    pushfd
    xor byte [ecx], 0x90 ^ 0x66      ; into this very block every other round
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
scratch:
    dd 0

    align 4096
store_scratch:                       ; on the next page: no block of the patched page is cut
    mov [scratch], ebp               ; data beside the code: the patched block's page
    ret

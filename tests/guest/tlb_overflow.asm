; More pages than the TLB holds (mmu/tlb.h: MMU_TLB_CAP = 4096). Paging with 4 KiB pages: the low
; 4 MiB identity-mapped; TEST_VA (4 MiB) maps frame A and is read, then silently pointed at B;
; 8-24 MiB (4096 pages) all map frame C, whose words are 1, and are read once each: the TLB fills
; up, so it is emptied, stale entry included. RESULT+0: the stale read (A), RESULT+4: the sum of
; the 4096 reads, RESULT+8: TEST_VA afterwards (B, without any invlpg).
%include "common.inc"
%define PD 0x10000
%define PT0 0x11000             ; 0-4 MiB identity
%define PT1 0x12000             ; 4-8 MiB: TEST_VA is its entry 0
%define PTC 0x13000             ; 4 tables for 8-24 MiB, all entries -> FRAME_C
%define TEST_VA 0x400000
%define FRAME_A 0x300000
%define FRAME_B 0x301000
%define FRAME_C 0x302000
start:
    mov dword [FRAME_A], 0xAAAA0001
    mov dword [FRAME_B], 0xBBBB0002
    mov dword [FRAME_C], 1
    xor edi, edi
.fill:                          ; PT0[i] = i * 4096 | P | W
    mov eax, edi
    shl eax, 12
    or eax, 3
    mov [PT0 + edi * 4], eax
    mov dword [PTC + edi * 4], FRAME_C | 3
    mov dword [PTC + 0x1000 + edi * 4], FRAME_C | 3
    mov dword [PTC + 0x2000 + edi * 4], FRAME_C | 3
    mov dword [PTC + 0x3000 + edi * 4], FRAME_C | 3
    inc edi
    cmp edi, 1024
    jne .fill
    mov dword [PD], PT0 | 3
    mov dword [PD + 4], PT1 | 3
    mov dword [PD + 8], PTC | 3
    mov dword [PD + 12], (PTC + 0x1000) | 3
    mov dword [PD + 16], (PTC + 0x2000) | 3
    mov dword [PD + 20], (PTC + 0x3000) | 3
    mov dword [PT1], FRAME_A | 3
    paging_on PD
    mov eax, [TEST_VA]                  ; A
    mov dword [PT1], FRAME_B | 3        ; no invlpg
    mov eax, [TEST_VA]                  ; still A
    mov [RESULT], eax
    xor eax, eax
    mov esi, 0x800000
.touch:
    add eax, [esi]
    add esi, 0x1000
    cmp esi, 0x1800000
    jne .touch
    mov [RESULT + 4], eax
    mov eax, [TEST_VA]                  ; B: the full TLB was emptied
    mov [RESULT + 8], eax
    cli
    hlt

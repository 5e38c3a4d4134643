; Writes through stale entries. CLEAN_VA maps frame A and is only read (its TLB entry is made
; without the dirty bit); DIRTY_VA maps frame C and is written (entry made dirty). Both PTEs are
; then silently pointed at B and D, and both pages written:
;   CLEAN_VA: the write needs the dirty bit, so it walks again, as QEMU does (and the entry is
;     replaced): it lands in B, sets B's PTE dirty, and later reads see B.   RESULT+0: the stale
;     read before (A's value), +4: read after the write, +8: A's word, +12: the PTE.
;   DIRTY_VA: the entry allows the write: it lands in C (stale), D is untouched.  RESULT+16: C's
;     word, +20: D's word, +24: a read through DIRTY_VA (C's word).
%include "common.inc"
%define PD 0x10000
%define PT0 0x11000
%define PT1 0x12000
%define CLEAN_VA 0x400000
%define DIRTY_VA 0x401000
%define FRAME_A 0x300000
%define FRAME_B 0x301000
%define FRAME_C 0x302000
%define FRAME_D 0x303000
start:
    mov dword [FRAME_A], 0xAAAA0001
    mov dword [FRAME_B], 0xBBBB0002
    mov dword [FRAME_C], 0xCCCC0003
    mov dword [FRAME_D], 0xDDDD0004
    identity_pt PT0, 3
    mov dword [PD], PT0 | 3
    mov dword [PD + 4], PT1 | 3
    mov dword [PT1], FRAME_A | 3
    mov dword [PT1 + 4], FRAME_C | 3
    paging_on PD, 0x80010000  ; PG, WP
    mov eax, [CLEAN_VA]                 ; entry without the dirty bit
    mov dword [DIRTY_VA], 0xCCCC1003    ; dirty entry
    mov dword [PT1], FRAME_B | 3        ; no invlpg
    mov dword [PT1 + 4], FRAME_D | 3
    mov eax, [CLEAN_VA]                 ; stale: A
    mov [RESULT], eax
    mov dword [CLEAN_VA], 0x12345678    ; walks again: B
    mov eax, [CLEAN_VA]
    mov [RESULT + 4], eax
    mov eax, [FRAME_A]
    mov [RESULT + 8], eax
    mov eax, [PT1]
    mov [RESULT + 12], eax
    mov dword [DIRTY_VA], 0x87654321    ; through the stale dirty entry: C
    mov eax, [FRAME_C]
    mov [RESULT + 16], eax
    mov eax, [FRAME_D]
    mov [RESULT + 20], eax
    mov eax, [DIRTY_VA]
    mov [RESULT + 24], eax
    cli
    hlt

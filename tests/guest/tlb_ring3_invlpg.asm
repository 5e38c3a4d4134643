; invlpg at ring 3 faults (#GP) and so invalidates nothing. Paging with user pages: the low
; 4 MiB identity-mapped, TEST_VA mapped to frame A; ring 0 reads TEST_VA, points its PTE at B
; without invalidating, drops to ring 3, which reads TEST_VA (RESULT+0: stale A) and executes
; invlpg [TEST_VA]: #GP. The handler reads TEST_VA again (RESULT+4: still A), then invalidates
; it itself and reads once more (RESULT+8: B). RESULT+12: the #GP's error code (0); RESULT+16:
; the handler's address. Also NARROW_VA: a supervisor page (frame C) read by ring 0, then
; silently pointed at user frame D; ring 3's read cannot use the supervisor entry, walks again
; and replaces it (RESULT+20: D), and the handler's read then sees D too (RESULT+24).
%include "common.inc"
%define KSTACK 0x280000
%define USTACK 0x290000
%define PD 0x10000
%define PT0 0x11000
%define PT1 0x12000
%define TEST_VA 0x400000
%define FRAME_A 0x300000
%define FRAME_B 0x301000
%define NARROW_VA 0x401000
%define FRAME_C 0x302000
%define FRAME_D 0x303000
start:
    mov dword [RESULT + 16], h_gp   ; for the test: where the handler starts
    ring3_gdt_load
    tss_load KSTACK
    gate 13, h_gp, 0x8E
    lidt [idtr]
    mov dword [FRAME_A], 0xAAAA0001
    mov dword [FRAME_B], 0xBBBB0002
    mov dword [FRAME_C], 0xCCCC0003
    mov dword [FRAME_D], 0xDDDD0004
    identity_pt PT0, 7  ; PT0[i] = i * 4096 | P | W | U
    mov dword [PD], PT0 | 7
    mov dword [PD + 4], PT1 | 7
    mov dword [PT1], FRAME_A | 7
    mov dword [PT1 + 4], FRAME_C | 3    ; supervisor only
    paging_on PD
    mov eax, [TEST_VA]              ; A
    mov eax, [NARROW_VA]            ; C, a supervisor entry
    mov dword [PT1], FRAME_B | 7    ; no invlpg
    mov dword [PT1 + 4], FRAME_D | 7
    enter_ring3 user, USTACK
user:
    mov eax, [NARROW_VA]            ; walks again: D
    mov [RESULT + 20], eax
    mov eax, [TEST_VA]              ; stale: A
    mov [RESULT], eax
    invlpg [TEST_VA]                ; privileged: #GP(0)
    jmp $
h_gp:
    mov eax, [esp]
    mov [RESULT + 12], eax          ; error code
    mov eax, [TEST_VA]              ; still A: the invlpg did not run
    mov [RESULT + 4], eax
    mov eax, [NARROW_VA]            ; D: the entry was replaced
    mov [RESULT + 24], eax
    invlpg [TEST_VA]
    mov eax, [TEST_VA]              ; B
    mov [RESULT + 8], eax
    cli
    hlt
align 8
    ring3_tables

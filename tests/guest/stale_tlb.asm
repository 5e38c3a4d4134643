; A stale TLB entry the guest can see. Paging with 4 KiB pages: the low 4 MiB identity-mapped,
; linear TEST_VA mapped to frame A. The guest reads TEST_VA (the TLB now holds A), points the PTE
; at frame B without invalidating, runs ~4.2 million instructions (so vmiemu's periodic flush of
; Unicorn's TLB falls in between), reads TEST_VA again at STALE_LOAD (must still be A, as on
; hardware and QEMU), then invalidates the page and reads B. Done once with plain stores and
; invlpg (RESULT+0..8), once with VMI SetPxE and InvalPage (RESULT+12..20); then CR3 is loaded
; again with the same value after another silent PTE change (RESULT+28: the stale A before it,
; RESULT+24: B after it).
%include "common.inc"
%define PD 0x10000
%define PT0 0x11000             ; identity map of 0-4 MiB
%define PT1 0x12000             ; maps 4-8 MiB: TEST_VA is its entry 0
%define TEST_VA 0x400000
%define FRAME_A 0x300000
%define FRAME_B 0x301000
%define SPIN 2100000            ; loop iterations between the two loads (2 instructions each)
%define SHORT_SPIN 20000        ; the same, well short of the 2^22 instructions between flushes
start:
    mov dword [FRAME_A], 0xAAAA0001
    mov dword [FRAME_B], 0xBBBB0002
    identity_pt PT0, 3  ; PT0[i] = i * 4096 | P | W
    mov dword [PD], PT0 | 3
    mov dword [PD + 4], PT1 | 3
    mov dword [PT1], FRAME_A | 3
    paging_on PD
    jmp native

; --- native: plain store to the PTE, invlpg ---
times 0x100 - ($ - $$) nop
native:
    mov eax, [TEST_VA]                  ; the TLB now holds TEST_VA -> A
    mov [RESULT], eax
    mov dword [PT1], FRAME_B | 3        ; no invlpg
    mov ecx, SPIN
.spin:
    dec ecx
    jnz .spin
    jmp stale_load
times 0x140 - ($ - $$) nop
stale_load:                             ; 0x200140
    mov ebx, [TEST_VA]                  ; stale: still A
    mov [RESULT + 4], ebx
    pushfd                              ; (stopping in this block steps it with a code hook)
    add esp, 4
    invlpg [TEST_VA]
    mov ecx, [TEST_VA]                  ; B
    mov [RESULT + 8], ecx

; --- VMI: SetPxE without InvalPage, then InvalPage ---
    mov eax, FRAME_A | 3
    mov edx, PT1
    mov ecx, 1
    vmi 38                              ; SetPxE: back to A
    mov eax, TEST_VA
    vmi 46                              ; InvalPage
    mov eax, [TEST_VA]                  ; A
    mov [RESULT + 12], eax
    mov eax, FRAME_B | 3
    mov edx, PT1
    mov ecx, 1
    vmi 38                              ; SetPxE: B, no InvalPage
    mov ecx, SPIN
.spin2:
    dec ecx
    jnz .spin2
    jmp vmi_stale_load
times 0x200 - ($ - $$) nop
vmi_stale_load:                         ; 0x200200
    mov ebx, [TEST_VA]                  ; stale: still A
    mov [RESULT + 16], ebx
    mov eax, TEST_VA
    vmi 46                              ; InvalPage
    mov ecx, [TEST_VA]                  ; B
    mov [RESULT + 20], ecx

; --- a CR3 load of the same value drops the stale entry ---
    mov dword [PT1], FRAME_A | 3
    mov eax, cr3
    mov cr3, eax
    mov eax, [TEST_VA]                  ; A, fresh
    mov dword [PT1], FRAME_B | 3
    mov ecx, SHORT_SPIN                 ; snapshots fall here, no periodic host flush
.spin3:
    dec ecx
    jnz .spin3
    jmp cr3_stale_load
times 0x280 - ($ - $$) nop
cr3_stale_load:                         ; 0x200280
    mov ebx, [TEST_VA]                  ; still A: stale
    mov [RESULT + 28], ebx
    mov eax, cr3
    mov cr3, eax
    mov eax, [TEST_VA]                  ; B
    mov [RESULT + 24], eax
    cli
    hlt

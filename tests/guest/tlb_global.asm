; Global pages. CR4.PGE on; GLOBAL_VA maps frame A with the G bit, LOCAL_VA maps frame C without.
; Both are read, then silently pointed at B and D, and CR3 is loaded again with the same value:
; RESULT+0 is GLOBAL_VA (still A: global entries survive CR3 loads), RESULT+4 LOCAL_VA (D). Then
; VMI FlushTLB(1) (a CR3 reload in the ROM): RESULT+8 still A. Then FlushTLB(2) (CR4.PGE toggled
; too): RESULT+12 is B.
%include "common.inc"
%define PD 0x10000
%define PT0 0x11000             ; identity map of 0-4 MiB
%define PT1 0x12000             ; 4-8 MiB
%define GLOBAL_VA 0x400000
%define LOCAL_VA 0x401000
%define FRAME_A 0x300000
%define FRAME_B 0x301000
%define FRAME_C 0x302000
%define FRAME_D 0x303000
%define G 0x100
start:
    mov dword [FRAME_A], 0xAAAA0001
    mov dword [FRAME_B], 0xBBBB0002
    mov dword [FRAME_C], 0xCCCC0003
    mov dword [FRAME_D], 0xDDDD0004
    identity_pt PT0, 3
    mov dword [PD], PT0 | 3
    mov dword [PD + 4], PT1 | 3
    mov dword [PT1], FRAME_A | G | 3
    mov dword [PT1 + 4], FRAME_C | 3
    mov eax, cr4
    or eax, 0x80                        ; PGE
    mov cr4, eax
    paging_on PD
    mov eax, [GLOBAL_VA]                ; A
    mov eax, [LOCAL_VA]                 ; C
    mov dword [PT1], FRAME_B | G | 3    ; no invlpg
    mov dword [PT1 + 4], FRAME_D | 3
    mov eax, cr3
    mov cr3, eax
    mov eax, [GLOBAL_VA]                ; still A
    mov [RESULT], eax
    mov eax, [LOCAL_VA]                 ; D
    mov [RESULT + 4], eax
    mov eax, 1
    vmi 47                              ; FlushTLB(non-global)
    mov eax, [GLOBAL_VA]                ; still A
    mov [RESULT + 8], eax
    mov eax, 2
    vmi 47                              ; FlushTLB(also global)
    mov eax, [GLOBAL_VA]                ; B
    mov [RESULT + 12], eax
    cli
    hlt

; Code remapped at the same linear address: linear page 0x400000 is pointed in turn at two
; physical pages holding routines of the same length, 90 90 c3 (3 instructions) and 66 90 c3
; (2), and called between two rdtsc after each invlpg. Results: RESULT+0.. 16 deltas.
%include "common.inc"
%define PD 0x300000
%define PT 0x301000             ; maps linear 0x400000..0x7FFFFF
%define PT_LOW 0x302000         ; identity-maps 0..4 MiB
%define CODE_A 0x310000
%define CODE_B 0x311000
%define LINEAR 0x400000
start:
    mov dword [CODE_A], 0xC39090        ; nop; nop; ret
    mov dword [CODE_B], 0xC39066        ; xchg ax, ax; ret
    identity_pt_loop PT_LOW
    mov dword [PD], PT_LOW | 3
    mov dword [PD + 4], PT | 3
    mov dword [PT], CODE_A | 3
    paging_on PD
    mov edi, RESULT
    mov ebp, 16
.round:
    rdtsc
    mov ebx, eax
    call LINEAR
    rdtsc
    sub eax, ebx
    mov [edi], eax
    add edi, 4
    xor dword [PT], CODE_A ^ CODE_B     ; the other physical page
    invlpg [LINEAR]
    dec ebp
    jnz .round
    cli
    hlt

; Two address spaces whose code at linear 0x400000 has the same size (5 bytes) but not the same
; instruction count (A: 4 nops and ret; B: 2 two-byte nops and ret), switched by mov cr3, then by
; VMI SetCR3; each call timed with rdtsc (one cycle per instruction). RESULT+0.. holds the cycle
; counts, A then B, three rounds each way. Then PD_B is released (VMI ReleasePage), remapped to
; code C of the same size (4 instructions) and loaded again: RESULT+48 holds C's cycle count.
; Checks that block counts are kept per address space and dropped with their page directory.
%include "common.inc"
%define PD_A 0x10000
%define PD_B 0x11000
%define CODE_A 0x400000         ; 4 MiB pages: linear 0x400000 maps one of these
%define CODE_B 0x800000
%define CODE_C 0xC00000
start:
    mov dword [CODE_A], 0x90909090     ; nop x4
    mov byte [CODE_A + 4], 0xC3        ; ret: 5 instructions, 5 bytes
    mov dword [CODE_B], 0x90669066     ; xchg ax, ax x2
    mov byte [CODE_B + 4], 0xC3        ; ret: 3 instructions, 5 bytes
    mov dword [CODE_C], 0x9090C089     ; mov eax, eax; nop; nop
    mov byte [CODE_C + 4], 0xC3        ; ret: 4 instructions, 5 bytes
    mov dword [PD_A], 0x83             ; 0-4 MiB identity (this code, the ROM, RESULT)
    mov dword [PD_A + 4], CODE_A | 0x83
    mov dword [PD_B], 0x83
    mov dword [PD_B + 4], CODE_B | 0x83
    mov eax, cr4
    or eax, 0x10                       ; PSE
    mov cr4, eax
    paging_on PD_A
    push dword 0
    push dword 0
    mov eax, PD_B >> 12
    mov edx, 0x02                      ; AllocatePage(pfn, PD, no clone)
    xor ecx, ecx
    vmi 44
    add esp, 8
    mov edi, RESULT
    mov ecx, 3
.native:
    mov eax, PD_A
    mov cr3, eax
    call timed
    mov eax, PD_B
    mov cr3, eax
    call timed
    dec ecx
    jnz .native
    mov ecx, 3
.vmi:
    mov eax, PD_A
    vmi 17                             ; SetCR3
    call timed
    mov eax, PD_B
    vmi 17
    call timed
    dec ecx
    jnz .vmi
    mov eax, PD_A
    vmi 17
    mov eax, PD_B >> 12
    mov edx, 0x02                      ; ReleasePage(pfn, PD)
    vmi 45
    mov dword [PD_B + 4], CODE_C | 0x83
    mov eax, PD_B
    vmi 17
    call timed
    cli
    hlt

; Stores the cycles from one rdtsc to the next around a call of 0x400000 at [edi], edi += 4.
timed:
    rdtsc
    mov ebx, eax
    call 0x400000
    rdtsc
    sub eax, ebx
    stosd
    ret

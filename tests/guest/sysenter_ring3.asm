; Ring 3 enters ring 0 with sysenter and comes back with sysexit, twice (Linux's vDSO system
; call path); then a privileged instruction (#GP from ring 3) ends it. SYSENTER_CS 0x08 makes
; the ring-0 pair 0x08/0x10 and the ring-3 pair 0x1B/0x23, the GDT of ring3_gdt.
%include "common.inc"
%define KSTACK 0x280000
%define USTACK 0x290000
start:
    ring3_gdt_load
    tss_load KSTACK
    gate 13, h_gp, 0x8E
    lidt [idtr]
    xor edx, edx
    mov ecx, 0x174                  ; SYSENTER_CS
    mov eax, 0x08
    wrmsr
    mov ecx, 0x175                  ; SYSENTER_ESP
    mov eax, KSTACK
    wrmsr
    mov ecx, 0x176                  ; SYSENTER_EIP
    mov eax, h_sysenter
    wrmsr
    enter_ring3 user, USTACK
user:
    mov eax, 1
    mov ebp, esp                    ; as the vDSO: the user stack in ebp, sysenter
    sysenter
back1:
    mov [RESULT + 16], eax          ; the handler's answer, seen at ring 3
    mov [RESULT + 20], cs
    mov eax, 2
    mov ebp, esp
    sysenter
back2:
    mov [RESULT + 24], eax
    cli                             ; privileged at ring 3 with IOPL 0: #GP(0)
    jmp $
h_sysenter:                         ; ring 0 at SYSENTER_EIP with ESP = SYSENTER_ESP
    mov [RESULT + 0], cs
    mov [RESULT + 4], ss
    mov [RESULT + 8], esp
    inc dword [RESULT + 12]         ; entries
    mov ecx, ebp                    ; sysexit: ESP = ECX, EIP = EDX
    mov edx, back1
    cmp eax, 1
    je .out
    mov edx, back2
.out:
    add eax, 100
    sysexit
h_gp:
    mov eax, [esp + 4]
    mov [RESULT + 28], eax          ; the faulting EIP
    mov eax, [esp + 8]
    mov [RESULT + 32], eax          ; cs of the faulting code
    hlt
align 8
    ring3_tables

; Ring 3 code makes a system call through a DPL-3 gate (stack switch through the TSS), then runs
; a privileged instruction (#GP from ring 3). Handlers record the frames.
%include "common.inc"
%define KSTACK 0x280000
%define USTACK 0x290000
start:
    ring3_gdt_load
    tss_load KSTACK
    gate 0x80, h_sys, 0xEE          ; DPL 3 interrupt gate
    gate 13, h_gp, 0x8E
    lidt [idtr]
    enter_ring3 user, USTACK
user:
    mov eax, 42
    int 0x80
    cli                             ; privileged at ring 3 with IOPL 0: #GP(0)
    jmp $
h_sys:                              ; frame: eip, cs, eflags, esp, ss
    mov [RESULT + 0], esp
    mov eax, [esp + 4]
    mov [RESULT + 4], eax           ; user cs
    mov eax, [esp + 12]
    mov [RESULT + 8], eax           ; user esp
    mov eax, [esp + 16]
    mov [RESULT + 12], eax          ; user ss
    mov [RESULT + 16], cs
    iretd
h_gp:
    mov eax, [esp]
    mov [RESULT + 20], eax          ; error code
    mov eax, [esp + 8]
    mov [RESULT + 24], eax          ; cs of the faulting code
    mov [RESULT + 28], esp
    hlt
align 8
    ring3_tables

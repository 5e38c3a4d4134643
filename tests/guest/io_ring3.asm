; Port I/O from ring 3 with IOPL 0 goes by the TSS I/O bitmap: port 0x80 is allowed, 0x81 and a
; 16-bit access straddling into 0x81 are not (#GP(0) at the instruction).
%include "common.inc"
%define KSTACK 0x280000
%define USTACK 0x290000
start:
    ring3_gdt_load
    mov dword [tss + 4], KSTACK
    mov dword [tss + 8], 0x10
    mov word [tss + 0x66], iomap - tss
    mov ax, 0x28
    ltr ax
    gate 13, h_gp, 0x8E
    lidt [idtr]
    push 0x23
    push USTACK
    push 0x002
    push 0x1B
    push user
    iretd
user:
    mov al, 0x5a
    out 0x80, al                ; allowed: bit 0x80 of the bitmap is clear
    mov dword [RESULT], 1
    mov dx, 0x80
    out dx, ax                  ; 16 bits at 0x80: needs 0x81 too: #GP
    mov dword [RESULT + 4], 0xbad
    jmp $
h_gp:
    mov eax, [esp + 4]
    mov [RESULT + 8], eax       ; faulting eip
    mov eax, [esp]
    mov [RESULT + 12], eax      ; error code
    mov eax, [esp + 8]
    mov [RESULT + 16], eax      ; cs
    hlt
align 8
    ring3_gdt tss_end - tss - 1
    idtr_image
align 16
tss: times 104 db 0
iomap: times 16 db 0xFF         ; ports 0x00-0x7F denied
       db 0xFE                  ; 0x80 allowed, 0x81-0x87 denied
       times 15 db 0xFF
       db 0xFF                  ; terminator
tss_end:
    idt_area

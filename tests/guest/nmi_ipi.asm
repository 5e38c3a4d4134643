; An NMI sent to self through the local APIC's ICR (physical destination 0, this APIC's ID),
; with IF clear: taken through IDT vector 2 anyway. Its handler sends a second NMI, which NMI
; blocking holds until the handler's iret; it is then taken right there, at the instruction the
; first one returned to. Results: 0 NMIs taken, 4 first NMI's saved EIP, 8 second's, 12 NMIs
; taken when the handler's last block before its iret ran, 16 saved EFLAGS of the first, 20 done.
%include "common.inc"
%define APIC 0xFEE00000
start:
    gate 2, h_nmi, 0x8E
    lidt [idtr]
    mov dword [APIC + 0xF0], 0x1FF      ; software-enable the APIC
    cli
    mov dword [APIC + 0x310], 0         ; destination: APIC ID 0
    mov dword [APIC + 0x300], 0x4400    ; NMI, assert
    nop
    nop
    jmp .a
.a: jmp .b
.b: mov dword [RESULT + 20], 1
    cli
    hlt

h_nmi:
    inc dword [RESULT + 0]
    mov ecx, [RESULT + 0]
    mov eax, [esp]
    mov [RESULT + 4*ecx], eax
    cmp ecx, 1
    jne .out
    mov eax, [esp + 8]
    mov [RESULT + 16], eax
    mov dword [APIC + 0x300], 0x4400    ; a nested NMI: blocked until the iret
    jmp .c                              ; a few block boundaries where it must not be taken
.c: jmp .d
.d: mov eax, [RESULT + 0]
    mov [RESULT + 12], eax
.out:
    iretd
    idt_table

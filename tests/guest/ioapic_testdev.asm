; The IO-APIC at 0xFEC00000 driven by pc-testdev's interrupt lines (port 0x2000 + n): line 16
; (an IO-APIC-only GSI) routed edge-triggered to vector 0x50, line 17 level-triggered to 0x51,
; whose handler EOIs once with the line still high (the EOI broadcast sends it again) and
; lowers it the second time. Results: 0 edge interrupts, 4 level interrupts, 8 remote IRR of
; pin 17 at the end, 12 done.
%include "common.inc"
%define APIC 0xFEE00000
%define IOAPIC 0xFEC00000
%macro ioapic_write 2
    mov dword [IOAPIC], %1
    mov dword [IOAPIC + 0x10], %2
%endmacro
start:
    gate 0x50, h_edge, 0x8E
    gate 0x51, h_level, 0x8E
    lidt [idtr]
    mov dword [APIC + 0xF0], 0x1FF      ; software-enable the local APIC
    ioapic_write 0x10 + 2*16 + 1, 0     ; pin 16: destination APIC 0
    ioapic_write 0x10 + 2*16, 0x50      ; edge, vector 0x50, unmasked
    ioapic_write 0x10 + 2*17 + 1, 0
    ioapic_write 0x10 + 2*17, 0x8051    ; level, vector 0x51
    sti
    mov dx, 0x2010
    mov al, 1
    out dx, al                          ; rising edge on line 16
    mov al, 0
    out dx, al
    jmp .a
.a: mov dx, 0x2011
    mov al, 1
    out dx, al                          ; line 17 high
    jmp .b
.b: jmp .c
.c: cli
    mov dword [IOAPIC], 0x10 + 2*17
    mov eax, [IOAPIC + 0x10]
    and eax, 0x4000
    mov [RESULT + 8], eax
    mov dword [RESULT + 12], 1
    hlt

h_edge:
    inc dword [RESULT + 0]
    mov dword [APIC + 0xB0], 0
    iretd

h_level:
    inc dword [RESULT + 4]
    cmp dword [RESULT + 4], 2
    jb .eoi
    push eax
    push edx
    mov dx, 0x2011
    mov al, 0
    out dx, al                          ; the second time: lower the line first
    pop edx
    pop eax
.eoi:
    mov dword [APIC + 0xB0], 0
    iretd
    idt_table

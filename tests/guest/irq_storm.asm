; Timer interrupts every 7 cycles while the guest keeps calling the ROM with interrupts on:
; interrupts land inside native ROM slots and between calls, and every call still returns.
%include "common.inc"
%define PERIOD 7
start:
    gate 0x20, h_tick, 0x8E
    lidt [idtr]
    pic_irq0_only
    xor eax, eax
    vmi 67
    mov ecx, edx
    mov edx, eax
    push dword 0
    push dword PERIOD
    mov eax, 0x100
    vmi 68
    add esp, 8
    sti
    mov esi, 2000
.loop:
    vmi 31                      ; GetInterruptMask (native: pushfd; pop eax; ret)
    vmi 32                      ; SetInterruptMask (native: push eax; popfd; ret)
    vmi 27                      ; RDTSC (host call)
    mov ebx, eax
    vmi 65                      ; IODelay (host call)
    dec esi
    jnz .loop
    cli
    xor eax, eax
    vmi 69
    mov dword [RESULT + 12], 0x600d
    hlt
h_tick:
    inc dword [RESULT]
    push eax
    mov al, 0x20
    out 0x20, al
    pop eax
    iretd
idt_table

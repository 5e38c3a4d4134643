; The PIT programmed with port writes (no ROM): channel 0, mode 2, 100 ticks, IRQ 0 unmasked,
; then a busy loop with interrupts on. The handler records the TSC at each of 3 ticks; RESULT+4
; gets the TSC right after the programming. The first tick must come one period later, not at
; whatever stop the run had planned before the port writes.
%include "common.inc"
%define TICKS 0x5100            ; TSC at each tick (8 bytes each)
start:
    gate 0x20, h_tick, 0x8E
    lidt [idtr]
    pic_irq0_only
    pit_rate 100
    rdtsc
    mov [RESULT + 4], eax
    sti
.spin:
    cmp dword [RESULT], 3
    jb .spin
    cli
    hlt

h_tick:
    push eax
    push edx
    push ebx
    rdtsc
    mov ebx, [RESULT]
    mov [TICKS + ebx * 8], eax
    mov [TICKS + ebx * 8 + 4], edx
    inc dword [RESULT]
    mov al, 0x20                ; EOI
    out 0x20, al
    pop ebx
    pop edx
    pop eax
    iret

idt_table

; A periodic VMI alarm wired to IRQ 0 through the 8259 PIC, with Halt between ticks; then a
; one-shot alarm re-armed 3 times; then CancelAlarm. The handler records the cycle counter.
%include "common.inc"
%define PERIOD 10000
%define TICKS 0x5100            ; cycle counter at each tick (8 bytes each)
start:
    gate 0x20, h_tick, 0x8E
    lidt [idtr]
    ; remap the master PIC to 0x20, unmask IRQ 0 only
    pic_irq0_only
    ; SetAlarm(real | periodic | irq0, expiry = now + PERIOD, period = PERIOD)
    xor eax, eax
    vmi 67                      ; GetCycleCounter(real) -> EDX:EAX
    add eax, PERIOD
    adc edx, 0
    mov ecx, edx
    mov edx, eax
    push dword 0                ; period high
    push dword PERIOD           ; period low
    mov eax, 0x100
    vmi 68
    add esp, 8
.wait:
    vmi 35                      ; Halt (enables interrupts)
    cmp dword [RESULT], 5
    jb .wait
    vmi 30                      ; DisableInterrupts
    mov eax, 0
    vmi 69                      ; CancelAlarm(real) -> 1, it was pending
    mov [RESULT + 4], eax
    ; one-shot alarm, re-armed three times
    mov dword [RESULT], 0
.oneshot:
    xor eax, eax
    vmi 67
    add eax, 3 * PERIOD
    adc edx, 0
    mov ecx, edx
    mov edx, eax
    push dword 0
    push dword 0
    xor eax, eax                ; real, one-shot, irq0
    vmi 68
    add esp, 8
    vmi 35
    vmi 30
    cmp dword [RESULT], 3
    jb .oneshot
    xor eax, eax
    vmi 69                      ; nothing pending now -> 0
    mov [RESULT + 8], eax
    mov dword [RESULT + 12], 0x600d
    cli
    hlt

h_tick:
    push eax
    push edx
    push ebx
    xor eax, eax
    vmi 67
    mov ebx, [RESULT + 16]      ; every tick so far, never reset
    mov [TICKS + ebx * 8], eax
    mov [TICKS + ebx * 8 + 4], edx
    inc dword [RESULT + 16]
    inc dword [RESULT]
    mov al, 0x20                ; EOI
    out 0x20, al
    pop ebx
    pop edx
    pop eax
    iretd

idt_table

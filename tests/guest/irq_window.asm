; An interrupt waiting for IF, taken where each way of setting IF lets it in. The PIT ticks
; every 100 PIT ticks on IRQ 0; for each way the guest spins with IF clear past a tick, then
; sets IF by that way and clears it again soon after. The handler stores where it interrupted
; (the return EIP) in TAKEN; the guest stores where it must have been in EXPECT. Ways: sti
; (one more instruction first), popfd, iret to a frame with IF, EnableInterrupts and
; SetInterruptMask through the ROM (IF set by the slot's own sti / popfd). RESULT+0: the
; interrupts taken, RESULT+4: the ways tried, RESULT+12: 0x600d at the end.
%include "common.inc"
%define TAKEN 0x5100
%define EXPECT 0x5200
%define SPIN 6000               ; > one PIT period (8381 cycles at 100 MHz) of dec/jnz pairs

%macro wait_past_a_tick 0
    mov ecx, SPIN
%%l:
    dec ecx
    jnz %%l
%endmacro

%macro expect 1                 ; the next way's interrupt must come at %1
    mov ebx, [RESULT + 4]
    mov dword [EXPECT + ebx * 4], %1
    inc dword [RESULT + 4]
%endmacro

start:
    gate 0x20, h_tick, 0x8E
    lidt [idtr]
    pic_irq0_only
    mov al, 0x34                ; channel 0, lobyte/hibyte, mode 2
    out 0x43, al
    mov al, 100
    out 0x40, al
    xor al, al
    out 0x40, al

    wait_past_a_tick            ; sti: the instruction after it runs first
    expect after_sti
    sti
    nop
after_sti:
    cli

    wait_past_a_tick            ; popfd with IF in the word
    expect after_popf
    push dword 0x202
    popfd
after_popf:
    cli

    wait_past_a_tick            ; iret to a frame with IF
    expect after_iret
    push dword 0x202
    push dword 0x08
    push dword after_iret
    iret
after_iret:
    cli

    wait_past_a_tick            ; EnableInterrupts: sti; ret (ret in the shadow)
    expect after_enable
    vmi 29
after_enable:
    cli

    wait_past_a_tick            ; SetInterruptMask(IF): push eax; popfd; ret (taken in the slot)
    expect ROM + 0x100 + 32 * 32 + 2
    mov eax, 0x202
    vmi 32
    cli

    mov dword [RESULT + 12], 0x600d
    cli
    hlt

h_tick:
    push eax
    push ebx
    mov ebx, [RESULT]
    mov eax, [esp + 8]          ; the interrupted EIP
    mov [TAKEN + ebx * 4], eax
    inc dword [RESULT]
    mov al, 0x20                ; EOI
    out 0x20, al
    pop ebx
    pop eax
    iret

idt_table

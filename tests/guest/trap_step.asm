; Interrupts that land inside blocks: vmiemu steps exactly to each deadline, by the trap flag
; where the guest cannot tell. The PIT fires every 7 ticks (~5866 cycles, so the deadlines fall
; at ever other places in the loop) while the loop saves EFLAGS itself (pushf), divides by zero
; mid-block (#DE, skipped by its handler) and does plain work. Every EFLAGS image the guest
; sees is ORed into RESULT+4 (pushf), RESULT+8 (IRQ frames), RESULT+12 (#DE frames); DR6 as
; the handlers read it into RESULT+16, DR6 at the start in RESULT+20; #DE count in RESULT+24.
%include "common.inc"
%define TICKS_WANTED 120
start:
    gate 0x00, h_divide, 0x8E
    gate 0x20, h_tick, 0x8E
    lidt [idtr]
    mov eax, dr6
    mov [RESULT + 20], eax
    mov [RESULT + 16], eax
    pic_irq0_only
    pit_rate 7
    xor ecx, ecx
    sti
.spin:
    mov eax, 1
    add esi, eax
    xor edx, edx
    lea edi, [esi + 3]
    div ecx                     ; #DE mid-block: its frame must not carry the trap flag
    pushf                       ; stepping past this must not use the trap flag
    pop ebx
    or [RESULT + 4], ebx
    add edi, esi
    xor edi, esi
    rol edi, 3
    sub edi, 7
    imul edi, edi, 5
    cmp dword [RESULT], TICKS_WANTED
    jb .spin
    cli
    hlt

h_tick:
    push eax
    mov eax, [esp + 12]         ; the saved EFLAGS
    or [RESULT + 8], eax
    mov eax, dr6
    or [RESULT + 16], eax
    inc dword [RESULT]
    mov al, 0x20                ; EOI
    out 0x20, al
    pop eax
    iret

h_divide:
    push eax
    mov eax, [esp + 12]
    or [RESULT + 12], eax
    mov eax, dr6
    or [RESULT + 16], eax
    add dword [esp + 4], 2      ; past `div ecx`
    inc dword [RESULT + 24]
    pop eax
    iret

idt_table

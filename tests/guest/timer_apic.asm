; The Linux VMI timer: the local APIC enabled and its timer LVT programmed through APICWrite, a
; periodic alarm wired to the LVT vector, Halt between ticks, EOI through APICWrite.
%include "common.inc"
%define PERIOD 20000
%define VECTOR 0xEF
%define TICKS 0x5100
start:
    mov al, 0xFF                ; the 8259s masked, as a kernel taking its ticks from the local
    out 0x21, al                ; APIC does: a Multiboot kernel starts with the BIOS's timer
    out 0xA1, al                ; on IRQ 0 (emu/firmware.h)
    gate VECTOR, h_tick, 0x8E
    lidt [idtr]
    mov eax, 0xF0               ; SVR: software enable, spurious vector 0xFF
    mov edx, 0x1FF
    vmi 63
    mov eax, 0x320              ; timer LVT: vector, unmasked
    mov edx, VECTOR
    vmi 63
    mov eax, 0x320
    vmi 64                      ; APICRead
    mov [RESULT + 4], eax
    and eax, 0xFF               ; the vector Linux would take from the LVT
    xor eax, eax
    vmi 67
    add eax, PERIOD
    adc edx, 0
    mov ecx, edx
    mov edx, eax
    push dword 0
    push dword PERIOD
    mov eax, 0x10100            ; real, periodic, APIC wiring
    vmi 68
    add esp, 8
.wait:
    vmi 35
    cmp dword [RESULT], 4
    jb .wait
    vmi 30
    mov eax, 0x10000
    vmi 69
    mov [RESULT + 8], eax
    mov dword [RESULT + 12], 0x600d
    cli
    hlt
h_tick:
    pushad
    xor eax, eax
    vmi 67
    mov ebx, [RESULT]
    mov [TICKS + ebx * 8], eax
    mov [TICKS + ebx * 8 + 4], edx
    inc dword [RESULT]
%ifndef NO_EOI
    mov eax, 0xB0               ; EOI
    xor edx, edx
    vmi 63
%endif
    popad
    iretd
idt_table

; Native rdmsr/wrmsr of IA32_APICBASE (0x1B) at ring 0, as Linux's detect_init_APIC does: the
; machine answers 0xFEE00900; a write that keeps it, or disables the APIC and (moving it, which
; is ignored) enables it again, leaves it so; a reserved bit is #GP(0). SYSENTER_CS stays Unicorn's own MSR.
; Results: 0/4 first read, 8/12 after the harmless writes, 16 #GP count, 20 #GP error code,
; 24 #GP eip, 28 SYSENTER_CS read back, 32 EBX kept, 36 done, 40 VMI RDMSR(0x1B).
%include "common.inc"
start:
    gate 13, h_gp, 0x8E
    lidt [idtr]
    mov ebx, 0x5a5a5a5a
    mov ecx, 0x1B
    nop                         ; the rdmsr in the middle of its block
    rdmsr
    mov [RESULT + 0], eax
    mov [RESULT + 4], edx
    wrmsr                       ; the same value back
    and eax, ~0x800             ; "disable" it
    wrmsr
    mov eax, 0xFEF00900         ; "move" it
    wrmsr
    rdmsr
    mov [RESULT + 8], eax
    mov [RESULT + 12], edx
    mov eax, 0xFEE00D00         ; x2APIC enable: not supported, #GP
wr_reserved:
    wrmsr
    mov eax, 0xFEE00900
    mov edx, 0x10               ; above 36 physical address bits: #GP
    wrmsr
    mov ecx, 0x174              ; SYSENTER_CS: Unicorn's
    mov eax, 0x60
    xor edx, edx
    wrmsr
    xor eax, eax
    rdmsr
    mov [RESULT + 28], eax
    mov [RESULT + 32], ebx
    mov eax, 0x1B               ; VMI RDMSR: the slot's own rdmsr gets the same answer
    vmi 2
    mov [RESULT + 40], eax
    mov dword [RESULT + 36], 1
    cli
    hlt

h_gp:                           ; frame: error, eip, cs, eflags
    inc dword [RESULT + 16]
    mov eax, [esp]
    mov [RESULT + 20], eax
    mov eax, [esp + 4]
    cmp dword [RESULT + 16], 1
    jne .skip
    mov [RESULT + 24], eax
.skip:
    add esp, 4
    add dword [esp], 2          ; past the 2-byte wrmsr
    iretd
align 8
    idtr_image
    idt_area

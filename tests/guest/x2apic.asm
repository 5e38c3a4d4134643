; The local APIC's x2APIC mode (the max model; CPUID.1:ECX bit 21): entered through
; IA32_APICBASE.EXTD, the registers are MSRs 0x800-0x8FF and the page at 0xFEE00000 is gone; the
; SDM's refusals (#GP(0)) and state transitions.
; Slots (RESULT + 4*n, #GPs so far): 1 rdmsr version in xAPIC mode, 2 wrmsr APICBASE |= EXTD,
; 3 rdmsr ID, 4 rdmsr version, 5 rdmsr LDR, 6 rdmsr SVR, 7 wrmsr SVR, 8 wrmsr SELF IPI,
; 9 wrmsr ICR (dest 0), 10 rdmsr ICR, 11 wrmsr ICR (dest 0x100), 12 wrmsr ID, 13 rdmsr EOI,
; 14 wrmsr EOI 1, 15 rdmsr DFR (0x80E), 16 rdmsr 0x831, 17 wrmsr TPR bit 32, 18 wrmsr SELF IPI
; 0x100, 19 wrmsr ESR 1, 20 wrmsr TPR 0x100, 21 APICBASE x2APIC -> xAPIC, 22 -> disabled,
; 23 disabled -> x2APIC, 24 EXTD without EN, 25 -> xAPIC, 26 rdmsr version in xAPIC mode.
; Data: 0x180 APICBASE low in x2APIC mode, 0x184 ID, 0x188/0x18C version (EAX/EDX), 0x190 LDR,
; 0x194 the page's version register in x2APIC mode, 0x198 SVR after a write to the page,
; 0x1A0 self IPIs taken, 0x1A4 ICR IPIs taken, 0x1A8/0x1AC ICR read back, 0x1B0 the page's
; version register back in xAPIC mode, 0x1B4 CPUID.1:ECX, 0x1B8 done.
%include "common.inc"
%include "model_try.inc"
%define APIC 0xFEE00000
%define VEC_SELF 0x40
%define VEC_ICR 0x41

; rdmsr of %2 in slot %1, EAX (and EDX) to RESULT + %3 (and + %4) unless it faults.
%macro rd 3-4
    mov ecx, %2
    mov dword [resume], %%after
    rdmsr
    mov [RESULT + %3], eax
%if %0 == 4
    mov [RESULT + %4], edx
%endif
%%after:
    mov eax, [gp_count]
    mov [RESULT + 4*(%1)], eax
%endmacro

; wrmsr of EDX:EAX = %3:%4 to %2 in slot %1.
%macro wr 4
    mov ecx, %2
    mov edx, %3
    mov eax, %4
    try %1, {wrmsr}
%endmacro

start:
    mov al, 0xFF                        ; the 8259s masked
    out 0x21, al
    out 0xA1, al
    gate 13, h_gp, 0x8E
    gate VEC_SELF, h_self, 0x8E
    gate VEC_ICR, h_icr, 0x8E
    lidt [idtr]
    mov eax, 1
    cpuid
    mov [RESULT + 0x1B4], ecx
    rd 1, 0x803, 0x188                  ; not in x2APIC mode yet
    wr 2, 0x1B, 0, 0xFEE00D00           ; xAPIC -> x2APIC
    mov ecx, 0x1B
    rdmsr
    mov [RESULT + 0x180], eax
    rd 3, 0x802, 0x184
    rd 4, 0x803, 0x188, 0x18C
    rd 5, 0x80D, 0x190
    mov eax, [APIC + 0x30]              ; the page is not decoded
    mov [RESULT + 0x194], eax
    mov dword [APIC + 0xF0], 0x1FF      ; goes nowhere
    rd 6, 0x80F, 0x198
    wr 7, 0x80F, 0, 0x1FF               ; SVR: software enable
    sti
    wr 8, 0x83F, 0, VEC_SELF            ; SELF IPI
    nop
    cli
    sti
    wr 9, 0x830, 0, VEC_ICR             ; fixed, physical, destination 0: this APIC
    nop
    cli
    rd 10, 0x830, 0x1A8, 0x1AC
    sti
    wr 11, 0x830, 0x100, VEC_ICR        ; destination 0x100: nobody
    nop
    cli
    mov ecx, 0x808                      ; TPR 0x10, by a wrmsr that starts a block: a run to
    xor edx, edx                        ; the count after the jmp stops before it
    mov eax, 0x10
    mov dword [resume], .tpr_done       ; (coreduo: #GP)
    jmp .tpr
.tpr:
    wrmsr
.tpr_done:
    wr 12, 0x802, 0, 0                  ; the ID is read-only
    rd 13, 0x80B, 0x1F0                 ; EOI is write-only
    wr 14, 0x80B, 0, 1                  ; EOI takes only 0
    rd 15, 0x80E, 0x1F0                 ; no DFR
    rd 16, 0x831, 0x1F0                 ; the ICR is one MSR
    wr 17, 0x808, 1, 0                  ; bits 63:32 reserved
    wr 18, 0x83F, 0, 0x100              ; SELF IPI bits 31:8 reserved
    wr 19, 0x828, 0, 1                  ; ESR takes only 0
    wr 20, 0x808, 0, 0x100              ; TPR bits 31:8 reserved
    wr 21, 0x1B, 0, 0xFEE00900          ; x2APIC -> xAPIC: refused
    wr 22, 0x1B, 0, 0xFEE00100          ; x2APIC -> disabled
    wr 23, 0x1B, 0, 0xFEE00D00          ; disabled -> x2APIC: refused
    wr 24, 0x1B, 0, 0xFEE00500          ; EXTD without EN: refused
    wr 25, 0x1B, 0, 0xFEE00900          ; disabled -> xAPIC
    mov eax, [APIC + 0x30]
    mov [RESULT + 0x1B0], eax
    rd 26, 0x803, 0x1F0
    mov dword [RESULT + 0x1B8], 1
    hlt
h_self:
    inc dword [RESULT + 0x1A0]
    jmp eoi
h_icr:
    inc dword [RESULT + 0x1A4]
eoi:
    push eax
    push ecx
    push edx
    mov ecx, 0x80B
    xor eax, eax
    xor edx, edx
    wrmsr
    pop edx
    pop ecx
    pop eax
    iretd
    model_gp_code
    idt_table

; IA32_APICBASE's global enable, as kvm-unit-tests' apic_disable checks it: cleared, the APIC is
; gone (CPUID.1:EDX bit 9 clear, its page reads all ones and takes no writes); set again, it is
; back in its reset state. Results: 0 CPUID.1 EDX disabled, 4 version register disabled, 8
; APICBASE low disabled, 12 CPUID.1 EDX re-enabled, 16 version register, 20 TPR after a write
; while disabled, 24 done.
%include "common.inc"
%define APIC 0xFEE00000
start:
    mov ecx, 0x1B
    rdmsr
    and eax, ~0x800
    wrmsr
    mov eax, 1
    cpuid
    mov [RESULT + 0], edx
    mov eax, [APIC + 0x30]
    mov [RESULT + 4], eax
    mov dword [APIC + 0x80], 0x20       ; TPR: goes nowhere
    mov ecx, 0x1B
    rdmsr
    mov [RESULT + 8], eax
    or eax, 0x800
    wrmsr
    mov eax, 1
    cpuid
    mov [RESULT + 12], edx
    mov eax, [APIC + 0x30]
    mov [RESULT + 16], eax
    mov eax, [APIC + 0x80]
    mov [RESULT + 20], eax
    mov dword [RESULT + 24], 1
    cli
    hlt

; The local APIC timer's TSC-deadline mode (the max CPU model): the APIC enabled through its
; page, the timer LVT in mode 10b, IA32_TSC_DEADLINE (0x6E0) armed DELTA cycles ahead; the CPU
; spins with interrupts on until the timer's vector arrives.
; RESULT+0x00: the timer LVT read back (mode bits 18:17); 0x04: #GPs of the two MSR accesses
; (no MSR on coreduo); 0x08: the deadline written (low half); 0x0C: the MSR read back before
; it fired; 0x10: the TSC in the handler (low half); 0x14: ticks taken; 0x18: the MSR after it
; fired; 0x1C: the current count in this mode (0); 0x20: CPUID.1:ECX; 0x24 done.
%include "common.inc"
%include "model_fault.inc"
%define APIC 0xFEE00000
%define VECTOR 0x40
%define DELTA 5000
start:
    mov al, 0xFF                        ; the 8259s masked
    out 0x21, al
    out 0xA1, al
    model_fault_gates
    gate VECTOR, h_tick, 0x8E
    lidt [idtr]
    mov eax, 1
    cpuid
    mov [RESULT + 0x20], ecx
    mov dword [APIC + 0xF0], 0x1FF      ; SVR: software enable
    mov dword [APIC + 0x320], VECTOR | (2 << 17)
    mov eax, [APIC + 0x320]
    mov [RESULT + 0x00], eax
    mov dword [APIC + 0x380], 1000      ; initial count: ignored in this mode
    rdtsc
    add eax, DELTA
    adc edx, 0
    mov [RESULT + 0x08], eax
    mov dword [resume], armed
    mov ecx, 0x6E0
    wrmsr
armed:
    mov dword [resume], read
    mov ecx, 0x6E0
    xor eax, eax
    rdmsr
read:
    mov [RESULT + 0x0C], eax
    mov eax, [APIC + 0x390]
    mov [RESULT + 0x1C], eax
    mov eax, [gp_count]
    mov [RESULT + 0x04], eax
    sti
    mov ecx, 3 * DELTA                  ; wait, at most three times as long
.spin:
    cmp dword [RESULT + 0x14], 0
    jne .fired
    loop .spin
.fired:
    cli
    mov dword [resume], after
    mov ecx, 0x6E0
    mov eax, 0xDEAD
    rdmsr
after:
    mov [RESULT + 0x18], eax
    mov dword [RESULT + 0x24], 1
    hlt
h_tick:
    push eax
    push edx
    rdtsc
    mov [RESULT + 0x10], eax
    inc dword [RESULT + 0x14]
    mov dword [APIC + 0xB0], 0          ; EOI
    pop edx
    pop eax
    iretd
    model_fault_code
    idt_table

; The max CPU model's instructions and MSRs (cpu/model.c), run on both models: on coreduo each
; one is absent (#UD or #GP), on max it works.
; RESULT+0x00 #GPs after the two TSC_AUX writes (the second sets reserved bits); 0x04 rdtsc,
; 0x08 rdtscp's EAX (0xFFFFFFFF if it faulted), 0x0C its ECX (TSC_AUX), 0x10 rdtsc again, 0x14
; #UDs so far; 0x18 TSC_ADJUST read (0xDEAD if it faulted); 0x1C rdtsc's EDX after TSC_ADJUST
; := 2^32; 0x20/0x24 rdtsc after TSC := 2^20; 0x28/0x2C TSC_ADJUST then; 0x30 #UDs after
; clflush, clflushopt, clwb; 0x34 rdpkru after CR4.PKE and wrpkru(0xC); 0x38 CPUID.7.0:ECX;
; 0x3C #UDs after syscall with EFER.SCE; 0x40 #GPs in all; 0x44 done; 0x48 #UDs after rdrand and
; rdseed.
%include "common.inc"
%include "model_fault.inc"
start:
    model_fault_gates
    lidt [idtr]
    mov dword [resume], s1              ; TSC_AUX
    mov ecx, 0xC0000103
    mov eax, 0x12345678
    xor edx, edx
    wrmsr
s1: mov dword [resume], s2
    mov edx, 1
    wrmsr                               ; bits 63:32 are reserved
s2: mov eax, [gp_count]
    mov [RESULT + 0x00], eax
    rdtsc
    mov [RESULT + 0x04], eax
    mov dword [resume], s3
    xor ecx, ecx
    mov eax, 0xFFFFFFFF
    rdtscp
s3: mov [RESULT + 0x08], eax
    mov [RESULT + 0x0C], ecx
    rdtsc
    mov [RESULT + 0x10], eax
    mov eax, [ud_count]
    mov [RESULT + 0x14], eax
    mov dword [resume], s4              ; TSC_ADJUST
    mov ecx, 0x3B
    mov eax, 0xDEAD
    xor edx, edx
    rdmsr
s4: mov [RESULT + 0x18], eax
    mov dword [resume], s5
    mov ecx, 0x3B
    xor eax, eax
    mov edx, 1
    wrmsr
s5: rdtsc
    mov [RESULT + 0x1C], edx
    mov dword [resume], s6
    mov ecx, 0x10                       ; the TSC itself
    mov eax, 0x100000
    xor edx, edx
    wrmsr
s6: rdtsc
    mov [RESULT + 0x20], eax
    mov [RESULT + 0x24], edx
    mov dword [resume], s7
    mov ecx, 0x3B
    xor eax, eax
    xor edx, edx
    rdmsr
s7: mov [RESULT + 0x28], eax
    mov [RESULT + 0x2C], edx
    mov dword [resume], s8              ; cache-line flushes
    clflush [buf]
s8: mov dword [resume], s9
    clflushopt [buf]
s9: mov dword [resume], s10
    clwb [buf]
s10:mov eax, [ud_count]
    mov [RESULT + 0x30], eax
    mov dword [resume], s11             ; PKU: CR4.PKE, wrpkru, rdpkru
    mov eax, cr4
    or eax, 0x400000
    mov cr4, eax
s11:mov dword [resume], s12
    xor ecx, ecx
    xor edx, edx
    mov eax, 0xC
    db 0x0F, 0x01, 0xEF                 ; wrpkru (nasm: 64-bit only)
s12:mov dword [resume], s13
    xor ecx, ecx
    xor eax, eax
    db 0x0F, 0x01, 0xEE                 ; rdpkru
s13:mov [RESULT + 0x34], eax
    mov eax, 7
    xor ecx, ecx
    cpuid
    mov [RESULT + 0x38], ecx
    mov dword [resume], s14             ; syscall: #UD outside 64-bit mode, EFER.SCE or not
    mov ecx, 0xC0000080
    rdmsr
    or eax, 1
    wrmsr
    syscall
s14:mov eax, [ud_count]
    mov [RESULT + 0x3C], eax
    mov dword [resume], s15             ; rdrand, rdseed: the host's randomness, refused
    rdrand eax
s15:mov dword [resume], s16
    rdseed eax
s16:mov eax, [ud_count]
    mov [RESULT + 0x48], eax
    mov eax, [gp_count]
    mov [RESULT + 0x40], eax
    mov dword [RESULT + 0x44], 1
    cli
    hlt
align 64
buf: times 64 db 0
    model_fault_code
    idt_table

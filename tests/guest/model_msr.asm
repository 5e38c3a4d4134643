; rdmsr/wrmsr on the CPU model (cpu/model.c): the 64-bit MSRs, EFER bits the model lacks, MSRs
; of absent features and unknown numbers raise #GP(0); the machine-check banks take only what
; the SDM allows; PAT reads back; the time-stamp counter MSR reads the instruction clock.
; Slots (RESULT + 4*n, #GPs so far): 1 wrmsr GS_BASE, 2 rdmsr FS_BASE, 3 wrmsr LSTAR, 4 wrmsr
; EFER.NXE (NX is reported: no #GP), 5 wrmsr EFER.LME, 6 rdmsr EFER (RESULT+0x3C), 7 rdmsr 0x12345, 8 wrmsr MTRRdefType, 9 PAT write
; and read, 10 wrmsr MC9_STATUS=1, 11 rdmsr MC10_CTL, 12 wrmsr MC0_CTL=5, 13 wrmsr MC0_CTL=~0,
; 14 rdmsr MCG_CAP. RESULT+0x40/0x44: PAT read back; 0x48: MCG_CAP; 0x4C: a word read through GS
; after the GS_BASE write; 0x50..0x58: rdtsc, rdmsr(0x10), rdtsc (low halves); 0x5C: done.
%include "common.inc"
%include "model_try.inc"
start:
    gate 13, h_gp, 0x8E
    lidt [idtr]
    mov dword [0x6000], 0x600DF00D
    mov ecx, 0xC0000101             ; GS_BASE
    mov eax, 0x1000
    xor edx, edx
    try 1, {wrmsr}
    mov eax, [gs:0x6000]            ; GS did not move
    mov [RESULT + 0x4C], eax
    mov ecx, 0xC0000100             ; FS_BASE
    try 2, {rdmsr}
    mov ecx, 0xC0000082             ; LSTAR
    xor eax, eax
    xor edx, edx
    try 3, {wrmsr}
    mov ecx, 0xC0000080             ; EFER.NXE
    mov eax, 0x800
    try 4, {wrmsr}
    mov eax, 0x100                  ; EFER.LME
    try 5, {wrmsr}
    try 6, {rdmsr}
    rdmsr                           ; again: try's bookkeeping used EAX
    mov [RESULT + 0x3C], eax
    xor eax, eax
    wrmsr
    mov ecx, 0x12345
    try 7, {rdmsr}
    mov ecx, 0x2FF                  ; MTRRdefType: no MTRRs in the model
    xor eax, eax
    xor edx, edx
    try 8, {wrmsr}
    mov ecx, 0x277                  ; PAT
    mov eax, 0x00070406
    mov edx, 0x00070106
    try 9, {wrmsr}
    xor eax, eax
    xor edx, edx
    rdmsr
    mov [RESULT + 0x40], eax
    mov [RESULT + 0x44], edx
    mov ecx, 0x425                  ; MC9_STATUS: only zeros may be written
    mov eax, 1
    xor edx, edx
    try 10, {wrmsr}
    mov ecx, 0x428                  ; MC10_CTL: ten banks
    try 11, {rdmsr}
    mov ecx, 0x400                  ; MC0_CTL: all zeros or all ones
    mov eax, 5
    xor edx, edx
    try 12, {wrmsr}
    mov eax, -1
    mov edx, -1
    try 13, {wrmsr}
    mov ecx, 0x179                  ; MCG_CAP
    try 14, {rdmsr}
    rdmsr
    mov [RESULT + 0x48], eax
    rdtsc
    mov [RESULT + 0x50], eax
    mov ecx, 0x10
    rdmsr
    mov [RESULT + 0x54], eax
    rdtsc
    mov [RESULT + 0x58], eax
    mov dword [RESULT + 0x5C], 1
    cli
    hlt
    model_gp_code
    idt_table

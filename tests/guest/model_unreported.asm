; Instructions of features CPUID does not report, which Unicorn's Core Duo has: monitor, mwait
; and clflush raise #UD; rdpmc (the model has no performance counters) raises #GP(0) where
; Unicorn raised #UD. sfence (0F AE /7 with a register) still runs.
; Slots (#GPs so far): 1 rdpmc. RESULT+0x40: #UDs after monitor, +0x44 after mwait, +0x48 after
; clflush, +0x4C after sfence; RESULT+0x50..0x5C: the #UD EIPs; 0x60: done.
%include "common.inc"
%include "model_try.inc"
%macro ud_try 2
    mov dword [resume], %%after
    %2
%%after:
    mov eax, [ud_count]
    mov [RESULT + %1], eax
%endmacro
start:
    gate 13, h_gp, 0x8E
    gate 6, h_ud, 0x8E
    lidt [idtr]
    xor ecx, ecx
    try 1, {rdpmc}
    mov eax, RESULT
    xor ecx, ecx
    xor edx, edx
    ud_try 0x40, {monitor}
    xor eax, eax
    ud_try 0x44, {mwait}
    ud_try 0x48, {clflush [RESULT]}
    ud_try 0x4C, {sfence}
    mov dword [RESULT + 0x60], 1
    cli
    hlt
h_ud:                                   ; frame: eip, cs, eflags
    push eax
    push ebx
    mov ebx, [ud_count]
    mov eax, [esp + 8]
    mov [RESULT + 0x50 + ebx*4], eax
    inc dword [ud_count]
    mov eax, [resume]
    mov [esp + 8], eax
    pop ebx
    pop eax
    iretd
align 4
ud_count: dd 0
    model_gp_code
    idt_table

; mov to CR4 on the CPU model: a bit whose feature CPUID does not report raises #GP(0) and CR4
; keeps its value; the bits of reported features load.
; Slots (#GPs so far): 1 LA57, 2 PCIDE, 3 VME, 4 OSXSAVE, 5 SMEP, 6 a reserved bit (25), 7 the
; reported bits (PSE, PGE, MCE, OSFXSR, OSXMMEXCPT), 8 LA57 again, right after a pushfd.
; RESULT+0x40: CR4 after the refused writes; 0x44: CR4 after the allowed one; 0x48: done; 0x4C:
; the address of slot 8's mov.
%include "common.inc"
%include "model_try.inc"
%macro cr4_try 2                        ; slot, bits to set
    mov eax, cr4
    or eax, %2
    try %1, {mov cr4, eax}
%endmacro
start:
    gate 13, h_gp, 0x8E
    lidt [idtr]
    xor eax, eax
    mov cr4, eax
    cr4_try 1, 1 << 12
    cr4_try 2, 1 << 17
    cr4_try 3, 1 << 0
    cr4_try 4, 1 << 18
    cr4_try 5, 1 << 20
    cr4_try 6, 1 << 25
    mov eax, cr4
    mov [RESULT + 0x40], eax
    cr4_try 7, 0x6D0
    mov eax, cr4
    mov [RESULT + 0x44], eax
    mov dword [RESULT + 0x4C], step_here
    mov dword [resume], slot8_after ; slot 8: after a pushfd in its block (stepped with a hook, not TF)
    mov eax, cr4
    or eax, 1 << 12
    pushfd
step_here:
    mov cr4, eax
slot8_after:
    add esp, 4
    mov eax, [gp_count]
    mov [RESULT + 4*8], eax
    mov dword [RESULT + 0x48], 1
    cli
    hlt
    model_gp_code
    idt_table

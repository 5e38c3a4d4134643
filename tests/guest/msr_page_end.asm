; rdmsr IA32_APICBASE in the last two bytes of a mapped page, the next page absent: the machine
; still answers it (the CPU reads the instruction's bytes from its own page only), then the
; fetch of the next instruction faults. Results: 0 EAX at the #PF, 4 CR2, 8 the #PF count.
%include "common.inc"
%define AT 0x3FFFFE             ; rdmsr at the end of the one 4 MiB page
start:
    gate 14, h_pf, 0x8E
    lidt [idtr]
    mov dword [0x300000], 0x83  ; page directory: one 4 MiB identity page
    mov eax, cr4
    or eax, 0x10
    mov cr4, eax
    paging_on 0x300000
    mov word [AT], 0x320F       ; rdmsr
    mov ecx, 0x1B
    xor eax, eax
    jmp AT
h_pf:
    mov [RESULT + 0], eax
    mov eax, cr2
    mov [RESULT + 4], eax
    inc dword [RESULT + 8]
    cli
    hlt
    idt_table

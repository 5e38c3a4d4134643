; #PF with CR2 and the error code: a read and a write of an unmapped page (4 MiB pages).
%include "common.inc"
%define PD 0x300000
start:
    gate 14, h_pf, 0x8E
    lidt [idtr]
    mov edi, PD                 ; identity-map the first 16 MiB with 4 MiB pages
    mov eax, 0x83
    mov ecx, 4
.map:
    mov [edi], eax
    add eax, 0x400000
    add edi, 4
    loop .map
    mov eax, cr4
    or eax, 0x10                ; PSE
    mov cr4, eax
    paging_on PD
    mov eax, [0x40000010]       ; 5 bytes (A1 moffs): read fault
    mov [0x40000020], eax       ; 5 bytes (A3 moffs): write fault
    hlt
h_pf:
    mov ebx, [fault_no]
    mov eax, [esp]
    mov [RESULT + ebx*8], eax   ; error code
    mov eax, cr2
    mov [RESULT + ebx*8 + 4], eax
    inc dword [fault_no]
    add esp, 4
    add dword [esp], 5
    iretd
fault_no: dd 0
idt_table

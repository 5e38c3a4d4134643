; A system call from ring 3 with paging on, where the GDT, IDT and TSS sit on a supervisor-only
; page, as in every real kernel. Delivery loads the ring-0 SS (reading the GDT) before CS: that
; read is a supervisor access although CS still holds the user selector.
%include "common.inc"
%define PD 0x300000
%define PT 0x301000
%define KSTACK 0x280000
%define USTACK 0x290000
%define GDT_PAGE ((0x200000 + (gdt - $$)) >> 12)
start:
    ring3_gdt_load
    tss_load KSTACK
    gate 0x80, h_sys, 0xEE          ; DPL 3 interrupt gate
    lidt [idtr]
    mov edi, PT                     ; identity-map 0..4 MiB, user and writable
    mov eax, 0x007
    mov ecx, 1024
.map:
    mov [edi], eax
    add edi, 4
    add eax, 0x1000
    loop .map
    mov dword [PT + GDT_PAGE * 4], GDT_PAGE * 0x1000 + 3   ; the tables' page: supervisor only
    mov dword [PD], PT | 7
    paging_on PD
    enter_ring3 user, USTACK
user:
    mov eax, 42
    int 0x80
    mov [RESULT + 8], eax           ; back in ring 3 with the handler's result
    mov eax, 0x80
    int 0x80
h_sys:                              ; frame: eip, cs, eflags, esp, ss
    cmp eax, 0x80
    je .done
    inc dword [RESULT + 0]          ; calls made
    mov eax, [esp + 4]
    mov [RESULT + 4], eax           ; user cs
    mov eax, 7
    iretd
.done:
    hlt
align 4096
    ring3_tables

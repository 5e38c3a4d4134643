; Real mode: `int 0x30` and a divide error go through the IVT (the table at IDTR.base, 4-byte
; segment:offset vectors): FLAGS, CS and IP pushed as words, IF cleared, no error code; iret
; returns. The real-mode part is copied below 64 KiB and entered by clearing CR0.PE.
%include "common.inc"
%include "tasks.inc"
%define RM_BASE 0x8000
start:
    rm_copy_and_enter
    tasks_tables
    idt_table

section .rm follows=.text vstart=RM_BASE
BITS 16
    rm_enter_real
    lidt [rm_ivt]
    mov word [0x30 * 4], rm_int30
    mov word [0x30 * 4 + 2], 0
    mov word [0 * 4], rm_de
    mov word [0 * 4 + 2], 0
    mov dword [RESULT + 28], rm_after_int
    mov dword [RESULT + 32], rm_div
    sti
    int 0x30
rm_after_int:
    movzx eax, sp
    mov [RESULT + 16], eax
    xor dx, dx
    mov ax, 10
    mov bl, 0
rm_div:
    div bl                          ; #DE: the handler skips it
    mov dword [RESULT + 20], 0xD0DE
    cli
    hlt
rm_int30:
    mov bp, sp
    movzx eax, word [bp]            ; IP
    mov [RESULT + 0], eax
    movzx eax, word [bp + 2]        ; CS
    mov [RESULT + 4], eax
    movzx eax, word [bp + 4]        ; FLAGS
    mov [RESULT + 8], eax
    pushf
    pop ax
    movzx eax, ax
    mov [RESULT + 12], eax
    iret
rm_de:
    mov bp, sp
    movzx eax, word [bp]            ; IP: the div itself
    mov [RESULT + 24], eax
    add word [bp], 2                ; skip `div bl` (F6 F3)
    iret
rm_ivt: dw 0x3FF
        dd 0
rm_end:

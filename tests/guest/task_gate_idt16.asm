; A task gate in the IDT to a 16-bit (286) TSS: the #GP switches from 32-bit task A to 16-bit
; task C as a call would (NT set, back link to A, A busy), C's registers come from its TSS's
; words (their high halves 0xFFFF, as Bochs and QEMU load them), the error code is pushed as a
; word on C's 16-bit stack. C leaves through an IDT task gate to 32-bit task B (int 0x41: C
; saved in its 16-bit TSS), B's iret returns to C, C's iret returns to A, which retries its
; faulting instruction (C fixed A's saved EAX). Paging is off.
%include "common.inc"
%include "tasks.inc"
%define SEL_TSS_C SEL_CONFORMING    ; the conforming segment's GDT entry, made a 16-bit TSS here
%define C_SP 0x8000
start:
    tasks_gdt_load
    mov eax, tss_c                  ; descriptor: limit 43, base tss_c, present 16-bit TSS
    mov word [tasks_gdt + SEL_TSS_C], 43
    mov [tasks_gdt + SEL_TSS_C + 2], ax
    shr eax, 16
    mov [tasks_gdt + SEL_TSS_C + 4], al
    mov byte [tasks_gdt + SEL_TSS_C + 5], 0x81
    mov word [tasks_gdt + SEL_TSS_C + 6], 0
    mov word [tss_c + 0x0E], task_c - 0x200000 ; IP, in SEL_CODE16 (base 0x200000)
    mov word [tss_c + 0x10], 0x2    ; FLAGS
    mov word [tss_c + 0x12], 0x1234 ; AX
    mov word [tss_c + 0x1A], C_SP   ; SP
    mov word [tss_c + 0x22], 0x10   ; ES
    mov word [tss_c + 0x24], SEL_CODE16
    mov word [tss_c + 0x26], SEL_DATA16
    mov word [tss_c + 0x28], 0x10   ; DS
    mov dword [IDT + 8*13], SEL_TSS_C << 16
    mov dword [IDT + 8*13 + 4], 0x8500
    mov dword [IDT + 8*0x41], SEL_TSS_B << 16
    mov dword [IDT + 8*0x41 + 4], 0x8500
    tss_init tss_b, task_b, 0x290000
    lidt [idtr]
    mov eax, 0x60                   ; past the GDT's limit: #GP(0x60)
    mov ds, ax                      ; retried with EAX 0x10 after C's iret
    str eax
    mov [RESULT + 48], eax          ; back in A
    mov eax, ds
    mov [RESULT + 52], eax
    gdt_type eax, SEL_TSS_C
    mov [RESULT + 56], eax          ; C available again
    hlt
task_b:                             ; C's int 0x41
    movzx eax, word [tss_b + TSS_LINK]
    mov [RESULT + 32], eax          ; back link C
    gdt_type eax, SEL_TSS_C
    mov [RESULT + 36], eax          ; C busy
    movzx eax, word [tss_c + 0x0E]
    mov [RESULT + 40], eax          ; C's IP saved in its 16-bit TSS: after the int
    iretd
BITS 16
task_c:
    mov [RESULT + 28], eax          ; AX from the TSS, high half 0xFFFF
    note_task16_entry tss_c         ; back link A
    mov bp, sp
    movzx eax, word [bp]
    mov [RESULT + 12], eax          ; the error code, a word on C's stack
    movzx eax, sp
    mov [RESULT + 16], eax
    mov eax, ebx
    mov [RESULT + 20], eax          ; EBX: 0xFFFF in its high half
    movzx eax, byte [dword tasks_gdt + SEL_TSS_A + 5]
    mov [RESULT + 24], eax          ; A busy while C runs
    mov dword [RESULT + 60], c_after_int - 0x200000
    mov bx, 0x7777
    int 0x41                        ; C -> B through an IDT task gate
c_after_int:
    movzx eax, bx
    mov [RESULT + 44], eax          ; C's BX back from its 16-bit TSS
    mov dword [dword tss_a + TSS_EAX], 0x10
    add sp, 2                       ; the error code
    iret                            ; C -> A
BITS 32
align 16
tss_c: times 44 db 0
    tasks_tables
    idt_table

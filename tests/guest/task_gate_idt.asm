; Task gates in the IDT: a fault (#GP) and a software interrupt (int 0x40) each switch to task B
; as a call would (NT set, back link to A, both busy); the fault's error code is pushed on the
; new task's stack. B's iret returns to A, which retries the faulting instruction (B fixed A's
; saved EAX) or goes on after the int. Paging is on.
%include "common.inc"
%include "tasks.inc"
%macro task_gate 2                  ; IDT entry %1: task gate to TSS selector %2, DPL 0
    mov dword [IDT + 8*%1], (%2) << 16
    mov dword [IDT + 8*%1 + 4], 0x8500
%endmacro
start:
    tasks_gdt_load
    tasks_paging_on
    tss_init tss_b, task_b, 0x290000
    task_gate 13, SEL_TSS_B
    task_gate 0x40, SEL_TSS_B
    lidt [idtr]
    mov eax, 0x60                   ; past the GDT's limit: #GP(0x60)
    mov ds, ax                      ; B sets A's saved EAX to 0x10: the retry loads DS
    mov [RESULT + 24], eax
    mov eax, ds
    mov [RESULT + 28], eax
    pushfd
    pop eax
    mov [RESULT + 32], eax          ; NT clear again in A
    gdt_type eax, SEL_TSS_B
    mov [RESULT + 36], eax          ; B available again
    int 0x40
    mov dword [RESULT + 44], 0xD0DE ; after the int
    hlt
task_b:                             ; the #GP
    str eax
    mov [RESULT + 0], eax
    pushfd
    pop eax
    mov [RESULT + 4], eax           ; NT set
    mov eax, [tss_b + TSS_LINK]
    mov [RESULT + 8], eax           ; back link A
    gdt_type eax, SEL_TSS_A
    mov [RESULT + 12], eax          ; A busy
    mov eax, [esp]
    mov [RESULT + 16], eax          ; the error code, on B's stack
    mov [RESULT + 20], esp
    mov dword [tss_a + TSS_EAX], 0x10
    add esp, 4
    iretd
    mov eax, [tss_a + TSS_EIP]      ; the int: A resumes after it
    mov [RESULT + 40], eax
    iretd
    hlt
    tasks_tables
    idt_table

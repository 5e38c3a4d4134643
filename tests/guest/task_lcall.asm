; lcall to a TSS nests a task: the new task runs with NT set and its back link naming the
; caller, both TSSs busy; its iret (NT set) switches back to the caller, which resumes after
; its lcall with NT clear, and leaves the called task to restart after the iret next time.
%include "common.inc"
%include "tasks.inc"
start:
    tasks_gdt_load
    tasks_paging_on
    tss_init tss_b, task_b, 0x290000
    mov ebx, 0x1234
    call SEL_TSS_B:0
    mov [RESULT + 20], ebx          ; restored from TSS A
    pushfd
    pop eax
    mov [RESULT + 24], eax          ; NT clear in the caller
    gdt_type eax, SEL_TSS_B
    mov [RESULT + 28], eax          ; B available again
    gdt_type eax, SEL_TSS_A
    mov [RESULT + 32], eax          ; A still busy
    call SEL_GATE_B:0               ; again, through the task gate: B resumes after its iret
    mov dword [RESULT + 40], 0xD0DE
    hlt
task_b:
    str eax
    mov [RESULT + 0], eax           ; TR is B
    pushfd
    pop eax
    mov [RESULT + 4], eax           ; NT set
    mov eax, [tss_b + TSS_LINK]
    mov [RESULT + 8], eax           ; back link: A
    gdt_type eax, SEL_TSS_A
    mov [RESULT + 12], eax          ; A busy
    gdt_type eax, SEL_TSS_B
    mov [RESULT + 16], eax          ; B busy
    iretd
    mov dword [RESULT + 36], 2      ; the second call resumes here
    iretd
    hlt
    tasks_tables

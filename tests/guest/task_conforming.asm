; lcall to a task whose CS is a conforming segment of DPL 0 named with RPL 3: the CPU accepts
; it (a conforming CS needs DPL <= RPL) and the task runs at CPL 3; its iret returns. Paging on.
%include "common.inc"
%include "tasks.inc"
start:
    tasks_gdt_load
    tasks_paging_on
    tss_init tss_b, task_b, 0x290000
    mov dword [tss_b + TSS_CS], SEL_CONFORMING | 3
    mov eax, 0x23
    mov [tss_b + TSS_SS], eax
    mov [tss_b + TSS_DS], eax
    mov [tss_b + TSS_ES], eax
    mov [tss_b + TSS_FS], eax
    mov [tss_b + TSS_GS], eax
    call SEL_TSS_B:0
    mov dword [RESULT + 8], 0xD0DE
    hlt
task_b:
    mov eax, cs
    mov [RESULT + 0], eax
    mov eax, ss
    mov [RESULT + 4], eax
    iretd
    tasks_tables

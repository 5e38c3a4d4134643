; ljmp to a TSS switches tasks: the registers of the old task are saved in its TSS, the new
; task's loaded from its TSS; jumping back to the first task resumes it after its ljmp.
; Paging is on. JMP leaves NT clear and the back link alone, clears the old TSS's busy bit, sets the new one's.
%include "common.inc"
%include "tasks.inc"
start:
    tasks_gdt_load
    tasks_paging_on
    tss_init tss_b, task_b, 0x290000
    mov dword [tss_b + TSS_ESI], 0x5E5E5E5E
    mov ebx, 0x1234
    jmp SEL_TSS_B:0
    mov [RESULT + 24], ebx          ; restored from TSS A
    str eax
    mov [RESULT + 28], eax
    gdt_type eax, SEL_TSS_B
    mov [RESULT + 32], eax          ; B available again
    mov eax, [tss_a + TSS_LINK]
    mov [RESULT + 36], eax          ; TSS A's back link untouched
    mov dword [RESULT + 40], 0xD0DE
    hlt
task_b:
    mov ebx, 0x9999
    str eax
    mov [RESULT + 0], eax           ; TR is B
    mov [RESULT + 4], esi           ; loaded from TSS B
    pushfd
    pop eax
    mov [RESULT + 8], eax           ; NT clear
    gdt_type eax, SEL_TSS_A
    mov [RESULT + 12], eax          ; A available
    gdt_type eax, SEL_TSS_B
    mov [RESULT + 16], eax          ; B busy
    mov eax, [tss_a + TSS_EBX]
    mov [RESULT + 20], eax          ; A's registers saved
    jmp SEL_TSS_A:0
    hlt
    tasks_tables

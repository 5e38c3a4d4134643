; Every way into and out of a 16-bit (286) task by lcall, ljmp and iret, with paging on:
;   A (32-bit) --lcall TSS--> C (16-bit) --lcall task gate--> B (32-bit) --iret--> C
;   C --lcall TSS--> D (16-bit, with an LDT) --iret--> C --iret--> A
;   A --ljmp through memory (m16:32)--> C --ljmp through memory (m16:16)--> A
; Each task records what it sees (TR, NT, back links, busy bits, CR0.TS, its registers); the
; dword after C's 44-byte TSS must survive every save into it.
%include "common.inc"
%include "tasks.inc"
%define SEL_TSS_C 0x58              ; the conforming segment's entry, a 16-bit TSS here
%define SEL_TSS_D 0x50              ; the low 16-bit code segment's entry, a 16-bit TSS here
%define SEL_LDT 0x18                ; the ring-3 code segment's entry, D's LDT here
%define LDT_DATA 0x04               ; LDT entry 0: data at 0x6000
%define FARPTR 0x6200               ; an m16:16 pointer to TSS A, below 64 KiB for C's [bx]
start:
    tasks_gdt_load
    tasks_paging_on
    tss_init tss_b, task_b, 0x290000
    tss16_desc SEL_TSS_C, tss_c
    tss16_desc SEL_TSS_D, tss_d
    tss16_init tss_c, task_c, 0x8000
    tss16_init tss_d, task_d, 0x7000
    mov word [tss_d + TSS16_DS], LDT_DATA
    mov word [tss_d + TSS16_LDT], SEL_LDT
    mov eax, ldt                    ; LDT descriptor: base ldt, limit 7, present, type 2
    mov word [tasks_gdt + SEL_LDT], 7
    mov [tasks_gdt + SEL_LDT + 2], ax
    shr eax, 16
    mov [tasks_gdt + SEL_LDT + 4], al
    mov byte [tasks_gdt + SEL_LDT + 5], 0x82
    mov word [tasks_gdt + SEL_LDT + 6], 0
    mov word [0x6100], 0x1234       ; what D reads at LDT_DATA:0x100
    mov dword [FARPTR], SEL_TSS_A << 16
    mov dword [tss_c_end], 0xCAFEF00D
    clts
    mov ebx, 0xA0A0A0A0
    call SEL_TSS_C:0                ; A -> C
    mov [RESULT + 100], ebx         ; A's EBX back from its TSS
    str eax
    mov [RESULT + 64], eax
    pushfd
    pop eax
    mov [RESULT + 68], eax          ; NT clear in A
    gdt_type eax, SEL_TSS_C
    mov [RESULT + 72], eax          ; C available again
    movzx eax, word [tss_c + TSS16_IP]
    mov [RESULT + 76], eax          ; C's IP saved by its iret: after it
    mov dword [RESULT + 80], c_after_iret - 0x200000
    mov eax, [tss_c_end]
    mov [RESULT + 84], eax
    jmp far [c_pointer]             ; A -> C, m16:32
    str eax                         ; back from C's ljmp
    mov [RESULT + 100 - 0], ebx
    mov [RESULT + 100 + 4], eax
    gdt_type eax, SEL_TSS_C
    mov [RESULT + 108], eax         ; C available: a jump frees the task it leaves
    mov dword [RESULT + 112], 0xD0DE
    hlt
task_b:                             ; called by C through the task gate
    str eax
    mov [RESULT + 20], eax
    movzx eax, word [tss_b + TSS_LINK]
    mov [RESULT + 24], eax          ; back link C
    gdt_type eax, SEL_TSS_C
    mov [RESULT + 28], eax          ; C busy (a 16-bit busy TSS)
    iretd                           ; B -> C
BITS 16
task_c:
    note_task16_entry tss_c         ; back link A
    movzx eax, byte [dword tasks_gdt + SEL_TSS_A + 5]
    mov [RESULT + 12], eax          ; A busy
    smsw ax
    movzx eax, ax
    mov [RESULT + 16], eax          ; CR0.TS set by the switch
    mov bx, 0x5A5A
    call SEL_GATE_B:0               ; C -> B through the task gate
    movzx eax, bx
    mov [RESULT + 32], eax          ; C's BX back from its 16-bit TSS
    movzx eax, byte [dword tasks_gdt + SEL_TSS_B + 5]
    mov [RESULT + 36], eax          ; B available again
    call SEL_TSS_D:0                ; C -> D
    sldt ax
    movzx eax, ax
    mov [RESULT + 56], eax          ; C's LDT: none
    movzx eax, byte [dword tasks_gdt + SEL_TSS_D + 5]
    mov [RESULT + 60], eax          ; D available again
    iret                            ; C -> A
c_after_iret:
    str ax                          ; A jumped here
    movzx eax, ax
    mov [RESULT + 88], eax
    pushf
    pop ax
    movzx eax, ax
    mov [RESULT + 92], eax          ; NT clear: a jump does not nest
    movzx eax, byte [dword tasks_gdt + SEL_TSS_A + 5]
    mov [RESULT + 96], eax          ; A available
    mov ebx, 0xB0B0B0B0             ; A's EBX comes from A's TSS, not from here
    mov bx, FARPTR
    jmp far [bx]                    ; C -> A, m16:16
task_d:                             ; DS is D's LDT segment: results go through ES
    str ax
    movzx eax, ax
    mov [es:RESULT + 40], eax
    movzx eax, word [es:dword tss_d]
    mov [es:RESULT + 44], eax       ; back link C
    mov ax, ds
    movzx eax, ax
    mov [es:RESULT + 48], eax       ; DS: the LDT selector
    movzx eax, word [0x100]         ; through the LDT's segment (base 0x6000)
    mov [es:RESULT + 52], eax
    iret                            ; D -> C
BITS 32
align 8
ldt: dq 0x000092006000FFFF          ; data, base 0x6000, limit 64 KiB
c_pointer: dd 0
    dw SEL_TSS_C
align 16
tss_c: times 44 db 0
tss_c_end: dd 0
align 16
tss_d: times 44 db 0
    tasks_tables
    idt_table

; A 16-bit interrupt gate: the frame is FLAGS, CS and IP as words (SP moves by 6), IF is cleared,
; and only the gate's low 16 offset bits count. The handler runs in a 16-bit code segment.
%include "common.inc"
%include "tasks.inc"
start:
    tasks_gdt_load
    mov word [IDT + 8*0x41], h16 - 0x200000
    mov word [IDT + 8*0x41 + 2], SEL_CODE16
    mov word [IDT + 8*0x41 + 4], 0x8600 ; present, DPL 0, 16-bit interrupt gate
    mov word [IDT + 8*0x41 + 6], 0xFFFF ; ignored by a 16-bit gate
    lidt [idtr]
    mov [RESULT + 16], esp
    sti
    int 0x41
back32:
    mov dword [RESULT + 24], back32
    hlt
BITS 16
h16:
    mov eax, esp
    mov [dword RESULT + 0], eax
    movzx eax, word [esp]           ; IP
    mov [dword RESULT + 4], eax
    movzx eax, word [esp + 2]       ; CS
    mov [dword RESULT + 8], eax
    movzx eax, word [esp + 4]       ; FLAGS
    mov [dword RESULT + 12], eax
    pushfd
    pop eax
    mov [dword RESULT + 20], eax
    add esp, 6
    jmp dword 0x08:back32
BITS 32
    tasks_tables
    idt_table

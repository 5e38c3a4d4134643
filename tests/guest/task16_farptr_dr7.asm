; ljmp/lcall through a far pointer in memory that lies outside its segment: #GP(0) before any
; task switch (SDM vol. 2, CALL and JMP read the operand first; Unicorn checks no data segment
; limit, and vmiemu performs switches to a 16-bit TSS itself). FS is the 16-bit data segment,
; base 0, limit 0xFFFF. Then the switch into the 16-bit task clears DR7's local enables
; L0-L3 and keeps the global ones (SDM vol. 3, 17.2.4; as Unicorn's own switches do).
; Results: 0 #GPs after an ljmp m16:32 at FS:0xFFFE (ends at 0x10003), 4 #GPs after an lcall
; m16:16 at FS:0xFFFD (ends at 0x10000), 8 the last #GP's error code, 12 TR after both,
; 16 TR in task C, reached by an ljmp m16:32 at FS:0xFFFA (ends at 0xFFFF), 20 done,
; 24 DR7 in C (0x157 before the switch: L0 G0 L1 L2 L3 LE). C ends in `hlt` in a code segment
; based at 0x200000, which vmiemu took for no halt (it looked for the F4 at EIP - 1, not at the
; code segment's base + EIP - 1).
%include "common.inc"
%include "tasks.inc"
%define SEL_TSS_C 0x58              ; the conforming segment's entry, a 16-bit TSS here
start:
    tasks_gdt_load
    gate 13, h_gp, 0x8E
    lidt [idtr]
    tss16_desc SEL_TSS_C, tss_c
    tss16_init tss_c, task_c, 0x8000
    mov ax, SEL_DATA16
    mov fs, ax
    mov dword [0xFFFE], 0           ; m16:32: offset 0, selector C at 0x10002
    mov word [0x10002], SEL_TSS_C
    mov dword [resume], .after_jmp
    jmp far [fs:0xFFFE]
.after_jmp:
    mov eax, [gp_count]
    mov [RESULT + 0], eax
    mov word [0xFFFD], 0            ; m16:16: offset 0, selector C at 0xFFFF
    mov word [0xFFFF], SEL_TSS_C
    mov dword [resume], .after_call
    o16 call far [fs:0xFFFD]
.after_call:
    mov eax, [gp_count]
    mov [RESULT + 4], eax
    mov eax, [gp_error]
    mov [RESULT + 8], eax
    str eax
    mov [RESULT + 12], eax
    mov dword [0xFFFA], 0           ; m16:32 inside the limit: the switch happens
    mov word [0xFFFE], SEL_TSS_C
    mov eax, 0x157
    mov dr7, eax
    jmp far [fs:0xFFFA]
    hlt                             ; not reached
h_gp:                               ; frame: error, eip, cs, eflags
    inc dword [gp_count]
    push eax
    mov eax, [esp + 4]
    mov [gp_error], eax
    mov eax, [resume]
    mov [esp + 8], eax
    pop eax
    add esp, 4
    iretd
BITS 16
task_c:
    str ax
    movzx eax, ax
    mov [RESULT + 16], eax
    mov eax, dr7
    mov [RESULT + 24], eax
    mov dword [RESULT + 20], 1
    cli
    hlt
BITS 32
align 4
gp_count: dd 0
gp_error: dd 0xFFFF
resume: dd 0
align 16
tss_c: times 44 db 0
    tasks_tables
    idt_table

; smsw to a 32-bit register stores all of CR0, as hardware and QEMU 7.2 do (Unicorn 2.1.4 wrote
; only the low 16 bits, keeping the register's high half): in 32-bit code, and in 16-bit code
; with an operand-size prefix (kvm-unit-tests realmode "smsw"). smsw to a 16-bit register keeps
; the high half. CR0.CD is set around the reads so the high half of CR0 is not just PG/WP.
; RESULT+0: smsw eax (32-bit code); +4: CR0 then; +8: smsw ax over 0x12345678;
; +12: smsw eax in 16-bit code (66 prefix); +16: done.
%include "common.inc"
%include "tasks.inc"
start:
    mov ebx, cr0
    or ebx, 0x40000000              ; CD
    mov cr0, ebx
    mov eax, 0x12345678
    smsw eax
    mov [RESULT + 0], eax
    mov [RESULT + 4], ebx
    mov eax, 0x12345678
    smsw ax
    mov [RESULT + 8], eax
    tasks_gdt_load
    jmp SEL_CODE16:code16 - 0x200000
BITS 16
code16:
    mov eax, 0x12345678
    smsw eax                        ; 66 0F 01 E0
    mov [RESULT + 12], eax
    jmp dword 0x08:back
BITS 32
back:
    and ebx, ~0x40000000
    mov cr0, ebx
    mov dword [RESULT + 16], 1
    cli
    hlt
    tasks_tables

; UMIP (the max CPU model): with CR4.UMIP, sgdt, sidt, sldt, str and smsw raise #GP(0) at ring
; 3; at ring 0 they run. Ring 3 runs each of them twice, without and with CR4.UMIP (set by
; an `int 0x80` to ring 0 in between).
; RESULT+0x00: #GPs after the ring-3 round without UMIP, +0x04 after ring 0 with it, +0x08
; after the ring-3 round with it; +0x0C #GPs of the CR4 write (refused on coreduo); 0x10 done.
%include "common.inc"
%include "model_fault.inc"
%define KSTACK 0x280000
%define USTACK 0x290000
%macro five 0
    mov dword [resume], %%a
    sgdt [scratch]
%%a:mov dword [resume], %%b
    sidt [scratch]
%%b:mov dword [resume], %%c
    sldt ax
%%c:mov dword [resume], %%d
    str ax
%%d:mov dword [resume], %%e
    smsw eax
%%e:mov dword [resume], %%f
    smsw [scratch]
%%f:
%endmacro
start:
    ring3_gdt_load
    tss_load KSTACK
    model_fault_gates
    gate 0x80, h_syscall, 0xEE
    gate 0x81, h_end, 0xEE
    lidt [idtr]
    enter_ring3 user, USTACK
user:
    five
    mov eax, [gp_count]
    mov [RESULT + 0x00], eax
    int 0x80                            ; CR4.UMIP on, the five at ring 0
    five
    mov eax, [gp_count]
    mov [RESULT + 0x08], eax
    mov dword [RESULT + 0x10], 1
    int 0x81                            ; DPL 3 gate to the end
h_syscall:
    mov dword [resume], umip_on
    mov eax, cr4
    or eax, 0x800
    mov cr4, eax
umip_on: mov eax, [gp_count]
    mov [RESULT + 0x0C], eax
    five
    mov eax, [gp_count]
    mov [RESULT + 0x04], eax
    iretd
h_end:
    cli
    hlt
align 4
scratch: times 8 db 0
    model_fault_code
    ring3_tables

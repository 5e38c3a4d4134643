; Native VMI calls (the slot runs the real instruction) as the log must show them: GetCR0 and
; GetInterruptMask with their results, and SetLDT faulting inside its slot. RESULT+4*k:
; 0 EAX after GetCR0, 1 EAX after GetInterruptMask, 2/3 the two call sites, 4 0x600d at the
; end, 5 the EIP the #GP handler saw.
%include "common.inc"
start:
    gate 13, h_gp, 0x8E
    lidt [idtr]
    mov dword [RESULT + 8], site_cr0
    mov eax, 0x11111111
site_cr0:
    vmi 19                      ; GetCR0
    mov [RESULT + 0], eax
    mov dword [RESULT + 12], site_flags
    mov eax, 0x11111111
site_flags:
    vmi 31                      ; GetInterruptMask
    mov [RESULT + 4], eax
    mov eax, 0x1234             ; beyond the boot GDT's limit: lldt raises #GP(0x1230)
    vmi 4                       ; SetLDT
    mov dword [RESULT + 16], 0x600d
    cli
    hlt

h_gp:                           ; frame: error, eip, cs, eflags
    mov eax, [esp + 4]
    mov [RESULT + 20], eax      ; the lldt inside the slot
    add esp, 4
    add dword [esp], 3          ; past lldt to the slot's ret, which returns to the caller
    iretd

    idt_table

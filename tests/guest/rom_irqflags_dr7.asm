; GetInterruptMask with DR7 clear, then with an execution breakpoint (DR0, L0) on its slot's
; second instruction, set by the guest's own mov to DR7 after the first calls were logged at
; their entry: the #DB handler runs inside the slot, so the call cannot be logged at its entry.
; Cleared, then the same armed and cleared through SetDR (a host write of DR7).
; RESULT+0: #DBs taken, +4: DR6 seen by the handler, +16: 0x600d at the end.
%include "common.inc"
%define SLOT31 (ROM + 0x100 + 31 * 32)
start:
    mov al, 0xFF
    out 0x21, al
    out 0xA1, al
    gate 1, h_db, 0x8E
    lidt [idtr]
    vmi 31                      ; GetInterruptMask, DR7 clear
    vmi 31
    mov eax, SLOT31 + 1         ; pop eax
    mov dr0, eax
    mov eax, 0x401              ; L0: execution, one byte
    mov dr7, eax
    vmi 31                      ; GetInterruptMask: #DB inside the slot
    xor eax, eax
    mov dr7, eax
    vmi 31                      ; DR7 clear again
    mov eax, 7
    mov edx, 0x401
    vmi 24                      ; SetDR(7, L0): the host writes DR7
    vmi 31                      ; DR7 armed: not logged at its entry
    mov eax, 7
    xor edx, edx
    vmi 24                      ; SetDR(7, 0)
    vmi 31
    mov dword [RESULT + 16], 0x600d
    cli
    hlt

h_db:
    inc dword [RESULT + 0]
    mov eax, dr6
    mov [RESULT + 4], eax
    or dword [esp + 8], 0x10000 ; RF: the breakpoint's instruction runs on return
    iretd

    idt_table

; A hostile guest: nonsense arguments to every kind of call. Each must fail visibly (a failed
; call in the log, a guest-visible fault) without hurting the emulator; the run then ends
; normally at the final hlt.
%include "common.inc"
start:
    gate 14, h_pf, 0x8E
    gate 13, h_gp, 0x8E
    lidt [idtr]
    mov eax, 9
    vmi 67                      ; GetCycleCounter(9): no such counter
    push dword 0
    push dword 0
    mov eax, 0x105              ; SetAlarm on counter 5
    xor edx, edx
    xor ecx, ecx
    vmi 68
    mov eax, 0x100              ; periodic with period 0
    vmi 68
    add esp, 8
    mov eax, 7
    vmi 69                      ; CancelAlarm(counter 7) -> 0
    mov [RESULT + 0], eax
    push dword 0
    push dword 0
    mov eax, 0xFFFFF            ; AllocatePage beyond RAM
    mov edx, 1
    vmi 44
    mov eax, 0x200              ; AllocatePage with no level flag
    xor edx, edx
    vmi 44
    add esp, 8
    mov eax, 0x123              ; ReleasePage of a page never allocated: legal, accepted
    mov edx, 1
    vmi 45
    mov eax, 0xFFFFF            ; ReleasePage beyond RAM
    mov edx, 1
    vmi 45
    push dword 0
    mov eax, 9                  ; SetLinearMapping slot 9
    mov edx, 0xC0000000
    mov ecx, 10
    vmi 48
    add esp, 4
    mov eax, 7
    vmi 73                      ; SetLazyMode(7)
    mov eax, 0x123
    mov edx, 1
    vmi 63                      ; APICWrite to a non-register
    mov eax, 0x5000
    vmi 64                      ; APICRead of a non-register
    mov eax, 9
    vmi 25                      ; GetDR(9)
    mov eax, 0xF0000000
    mov edx, 1
    vmi 62                      ; SetInitialAPState from the open bus: read, recorded
    mov eax, 0x10
    mov edx, 0x1234
    vmi 14                      ; UpdateKernelStack with no task register loaded: accepted
    push dword 0
    mov eax, 0xFFFFFFF8         ; WriteGDTEntry: table + 8*index wraps
    mov edx, 0x1FFFFFFF
    vmi 11
    add esp, 4
    ; ROM reached through chained returns: IODelay returns into the RDTSC slot
    push dword after_chain
    push dword ROM + 0x100 + 27 * 32
    jmp ROM + 0x100 + 65 * 32
after_chain:
    mov [RESULT + 4], eax       ; the TSC from the chained RDTSC
    ; SetGDT from the open bus, then put the good GDT back
    sgdt [saved_gdt]
    mov eax, 0xF0000000
    vmi 3
    mov eax, saved_gdt
    vmi 3
    ; paging on, then SetPxE through an unmapped pointer: a #PF in the guest
    mov edi, 0x300000
    mov eax, 0x83
    mov [edi], eax
    mov eax, cr4
    or eax, 0x10
    mov cr4, eax
    paging_on 0x300000
    mov eax, 0x1003
    mov edx, 0x40000000         ; not mapped
    mov ecx, 1
    vmi 38
    mov dword [RESULT + 12], 0x600d
    cli
    hlt

h_pf:                           ; the native store in the ROM slot faulted
    mov eax, cr2
    mov [RESULT + 8], eax
    add esp, 4                  ; error code
    mov dword [esp], pf_resume  ; skip the rest of the slot: return to the caller
    iretd
pf_resume:
    add esp, 4                  ; the slot's return address, never used
    mov dword [RESULT + 12], 0x600d
    cli
    hlt
h_gp:
    mov dword [RESULT + 16], 0xbad
    cli
    hlt

align 8
saved_gdt: dw 0
           dd 0
idt_table

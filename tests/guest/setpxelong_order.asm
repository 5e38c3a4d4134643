; SetPxELong's two stores, made visible by an entry whose high half lies on an unmapped page:
; a clear (new low word P=0) stores the low half first, as native PAE code clears the present
; bit before the rest; a present entry stores the high half first, so the entry never shows P=1
; with a stale frame. The #PF at the high half stops each call after what it stored so far.
; Results: 0 low half after the clear, 4 low half after the present store, 8 #PF count.
%include "common.inc"
%define ENTRY 0x3FFFFC          ; high half at 0x400000: beyond the 4 MiB page
start:
    gate 14, h_pf, 0x8E
    lidt [idtr]
    mov dword [0x300000], 0x83  ; page directory: one 4 MiB identity page
    mov eax, cr4
    or eax, 0x10
    mov cr4, eax
    paging_on 0x300000
    mov dword [ENTRY], 0xAAAAAAAA
    mov dword [resume], after_clear
    push dword 0                ; flags
    xor eax, eax                ; a clear: low word 0 (P=0)
    mov edx, 0x12
    mov ecx, ENTRY
    vmi 39
after_clear:                    ; both calls fault at the high half: the slot's return address
    add esp, 8                  ; and the flags are still on the stack
    mov eax, [ENTRY]
    mov [RESULT + 0], eax
    mov dword [ENTRY], 0xAAAAAAAA
    mov dword [resume], after_present
    push dword 0
    mov eax, 0x1003             ; present
    mov edx, 0x12
    mov ecx, ENTRY
    vmi 39
after_present:
    add esp, 8
    mov eax, [ENTRY]
    mov [RESULT + 4], eax
    cli
    hlt

h_pf:                           ; a store in the ROM slot faulted: back to the caller
    inc dword [RESULT + 8]
    add esp, 4                  ; error code
    mov eax, [resume]
    mov [esp], eax
    iretd
align 4
resume: dd 0
    idt_table

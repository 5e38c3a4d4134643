; #UD, #GP(selector), int3, int 0x80 at ring 0: each handler records what it saw and returns.
%include "common.inc"
start:
    gate 6, h_ud, 0x8E
    gate 13, h_gp, 0x8E
    gate 3, h_bp, 0x8F          ; trap gate: IF stays as it was
    gate 0x80, h_sys, 0x8E
    lidt [idtr]
    sti
    ud2                         ; 2 bytes
after_ud:
    mov cx, 0x23                ; beyond the boot GDT's limit
    mov ds, cx                  ; #GP(0x20), 2 bytes
after_gp:
    int3
after_bp:
    int 0x80
after_sys:
    cli
    hlt

h_ud:                           ; frame: eip, cs, eflags
    mov eax, [esp]
    mov [RESULT + 0], eax
    mov eax, [esp + 8]
    mov [RESULT + 4], eax       ; pushed eflags (IF set)
    pushfd
    pop eax
    mov [RESULT + 8], eax       ; eflags in the handler (IF clear: interrupt gate)
    add dword [esp], 2
    iretd
h_gp:                           ; frame: error, eip, cs, eflags
    mov eax, [esp]
    mov [RESULT + 12], eax
    mov eax, [esp + 4]
    mov [RESULT + 16], eax
    add esp, 4
    add dword [esp], 2
    iretd
h_bp:
    mov eax, [esp]
    mov [RESULT + 20], eax
    pushfd
    pop eax
    mov [RESULT + 24], eax      ; IF still set: trap gate
    iretd
h_sys:
    mov eax, [esp]
    mov [RESULT + 28], eax
    mov dword [RESULT + 32], 0x5ca11
    iretd

idt_table

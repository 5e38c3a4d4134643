; ACPI reset: the FADT's RESET_VALUE (6) written to its RESET_REG (port 0x60C) restarts the machine.
%include "common.inc"
start:
    mov dword [RESULT + 0], 0
    mov dx, 0x60C
    mov al, 5
    out dx, al                      ; another value: nothing
    mov dword [RESULT + 0], 1
    mov al, 6
    out dx, al
    mov dword [RESULT + 0], 0xdead  ; must not land
    hlt

; Reset through the PIIX reset control register: 0x06 (hard reset, reset CPU) to port 0xCF9,
; Linux's reboot=pci. RESULT+0 stays 0.
%include "common.inc"
start:
    mov dword [RESULT + 0], 0
    mov dx, 0xcf9
    mov al, 0x06
    out dx, al                      ; reset
    mov dword [RESULT + 0], 0xdead  ; must not run
    hlt

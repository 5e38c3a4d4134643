; Linux's restart (reboot.c, BOOT_KBD): wait for the keyboard controller's input buffer to be
; empty, then pulse the reset line with 0xFE to port 0x64. The run ends after the `out` as a
; reboot; nothing after it runs. RESULT+0 stays 0, RESULT+4 holds the status read.
%include "common.inc"
start:
    mov dword [RESULT + 0], 0
    mov ecx, 0x10000
.wait:
    in al, 0x64
    test al, 2                      ; input buffer full?
    loopnz .wait
    movzx eax, al
    mov [RESULT + 4], eax
    mov al, 0xfe
    out 0x64, al                    ; reset
    mov dword [RESULT + 0], 0xdead  ; must not run
    hlt

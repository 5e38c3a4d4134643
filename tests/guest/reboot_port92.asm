; Fast reset through system control port A: set bit 0 of port 0x92, keeping A20 (bit 1).
; RESULT+4 holds the port as read before (A20 on: 0x02); RESULT+0 stays 0.
%include "common.inc"
start:
    mov dword [RESULT + 0], 0
    in al, 0x92
    movzx eax, al
    mov [RESULT + 4], eax
    or al, 1
    out 0x92, al                    ; reset
    mov dword [RESULT + 0], 0xdead  ; must not run
    hlt

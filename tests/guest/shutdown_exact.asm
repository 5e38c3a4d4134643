; VMI Shutdown ends the run when the call returns: nothing after it happens.
%include "common.inc"
start:
    mov dword [RESULT + 0], 0
    mov ecx, 3
.spin:
    dec ecx
    jnz .spin
    vmi 37                          ; Shutdown
after:
    mov dword [RESULT + 0], 0xdead  ; must not land
    hlt

; As exit_exact, with the port in DX set in the same block, after a UART write (a port that does
; not end the run) in that block. The pushfd/popfd make stepping through this block use the
; per-instruction hook instead of the trap flag.
%include "common.inc"
start:
    mov dword [RESULT + 0], 0
    mov ecx, 3
.spin:
    dec ecx
    jnz .spin
    pushfd
    popfd
    mov dx, 0x3f8
    mov al, '!'
    out dx, al                      ; COM1: the run goes on
    mov dword [RESULT + 4], 0x600d  ; lands
    mov dx, 0xf4
    mov al, 0x2a
    out dx, al                      ; the run ends here
    mov dword [RESULT + 0], 0xdead  ; must not land
    hlt

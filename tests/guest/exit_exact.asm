; The exit port ends the run after the `out`, not at the end of its block: a store in the same
; block and everything after it must not happen. Ends with exit value 0x2a.
%include "common.inc"
start:
    mov dword [RESULT + 0], 0
    mov dword [RESULT + 4], 0
    mov dword [RESULT + 8], 0
    xor ebx, ebx
    mov ecx, 5
.spin:                              ; a few blocks before the end
    dec ecx
    jnz .spin
    mov al, 0x2a
    out 0xf4, al                    ; the run ends here
    mov dword [RESULT + 0], 0xdead  ; same block: must not land
    inc ebx                         ; nor this
    rdtsc
    mov [RESULT + 4], eax
    jmp .next
.next:
    mov dword [RESULT + 8], 1
    hlt

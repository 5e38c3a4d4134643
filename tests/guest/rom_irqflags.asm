; The four interrupt-flag calls, three rounds, with the PICs masked (nothing to deliver when IF
; is set): each round enables, reads the mask, disables, reads it again, restores the first word
; and the second. RESULT+4*k: 0 the mask read with IF on, 1 with IF off, 4 0x600d at the end.
%include "common.inc"
start:
    mov al, 0xFF
    out 0x21, al
    out 0xA1, al
    mov ecx, 3
again:
    mov eax, 0x22222222
    vmi 29                      ; EnableInterrupts
    vmi 31                      ; GetInterruptMask
    mov [RESULT + 0], eax
    mov ebx, eax
    vmi 30                      ; DisableInterrupts
    vmi 31                      ; GetInterruptMask
    mov [RESULT + 4], eax
    mov edx, eax
    mov eax, ebx
    vmi 32                      ; SetInterruptMask: IF on
    mov eax, edx
    vmi 32                      ; SetInterruptMask: IF off
    loop again
    mov dword [RESULT + 16], 0x600d
    cli
    hlt

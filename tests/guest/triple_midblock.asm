; A triple fault in the middle of a block: no usable IDT, a divide error
; (#DE -> #GP -> #DF -> triple fault). Nothing after the divide may happen.
%include "common.inc"
start:
    mov dword [RESULT + 0], 0
    lidt [idtr]
    mov ecx, 3
.spin:
    dec ecx
    jnz .spin
    xor eax, eax
    xor edx, edx
    inc ebx
    div ecx                         ; #DE: ECX is 0
    mov dword [RESULT + 0], 0xdead
    hlt
align 8
idtr: dw 0
      dd 0

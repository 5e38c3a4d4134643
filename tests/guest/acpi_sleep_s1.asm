; A sleep type other than \_S5's (1, S1) with SLP_EN: not modelled, the guest carries on.
%include "common.inc"
start:
    mov dword [RESULT + 0], 0
    mov dx, 0x604
    mov ax, (1 << 10) | (1 << 13) | 1
    out dx, ax
    mov dword [RESULT + 0], 1
    hlt

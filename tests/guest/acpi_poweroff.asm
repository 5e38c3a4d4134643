; ACPI power-off as Linux's acpi_enter_sleep_state(S5) does it: SLP_TYP of \_S5 (5) into PM1a_CNT
; (port 0x604) first without SLP_EN, then with it. The run ends at the second write.
%include "common.inc"
start:
    mov dword [RESULT + 0], 0
    mov dx, 0x604
    in ax, dx
    mov [RESULT + 4], eax           ; PM1a_CNT as read: SCI_EN set
    and ax, 0xC3FF                  ; clear SLP_TYP and SLP_EN
    or ax, 5 << 10
    out dx, ax                      ; the sleep type alone does nothing
    mov dword [RESULT + 0], 1
    or ax, 1 << 13
    out dx, ax                      ; SLP_EN: off
    mov dword [RESULT + 0], 0xdead  ; must not land
    hlt

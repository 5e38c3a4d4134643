; A Multiboot kernel starts on the machine a BIOS leaves to the boot loader (emu/firmware.h):
; the PICs' masks as SeaBIOS leaves them, the real-mode interrupt table pointing at the BIOS's
; handlers, and PIT channel 0 running at 18.2 Hz. Real-mode code that waits in `sti; hlt` is
; woken by IRQ 0 through vector 8, whose handler sends the EOI and returns (kvm-unit-tests'
; realmode "sti inhibit"). Results: the masks, IVT[8], a marker after the hlt, the master's
; in-service register after it, and IVT[0x72] (a slave vector).
%include "common.inc"
%include "tasks.inc"
%define RM_BASE 0x8000
start:
    in al, 0x21
    movzx eax, al
    mov [RESULT + 0], eax
    in al, 0xA1
    movzx eax, al
    mov [RESULT + 4], eax
    mov eax, [8 * 4]
    mov [RESULT + 8], eax
    mov eax, [0x72 * 4]
    mov [RESULT + 20], eax
    rm_copy_and_enter
    tasks_tables
    idt_table

section .rm follows=.text vstart=RM_BASE
BITS 16
    rm_enter_real
    lidt [rm_ivt]
    sti
    hlt                             ; only the BIOS's timer can end this
    cli
    mov dword [RESULT + 12], 0xA11CE
    mov al, 0x0B                    ; OCW3: read the in-service register
    out 0x20, al
    in al, 0x20
    movzx eax, al
    mov [RESULT + 16], eax
    hlt
rm_ivt: dw 0x3FF
        dd 0
rm_end:

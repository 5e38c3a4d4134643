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
    tasks_gdt_load
    mov esi, section..rm.start
    mov edi, RM_BASE
    mov ecx, rm_end - rm_start
    rep movsb
    jmp SEL_CODE16_LOW:rm_start
    tasks_tables
    idt_table

section .rm follows=.text vstart=RM_BASE
BITS 16
rm_start:
    mov ax, SEL_DATA16
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov eax, cr0
    and eax, ~1
    mov cr0, eax
    jmp 0:rm_real
rm_real:
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7000
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

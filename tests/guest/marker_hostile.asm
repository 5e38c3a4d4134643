; Guest markers (port 0x4F8) with hostile name pointers: into the local APIC, IO-APIC and HPET
; MMIO, the VGA windows, the ROM, the last bytes of RAM without a NUL, past RAM, wrapping past
; 4 GiB; 8- and 16-bit writes and writes to the port's other three bytes; then a flood. Each
; must be logged as a marker (the odd-sized ones as unknown-port writes) without side effects; the run ends at the hlt.
%include "common.inc"
start:
    mov dx, 0x4F8
    mov esi, pointers
.next:
    lodsd
    cmp eax, 1
    je .sizes
    out dx, eax
    jmp .next
.sizes:
    mov al, 0x41
    out dx, al
    mov ax, 0x1234
    out dx, ax
    mov dx, 0x4F9
    out dx, al
    mov dx, 0x4FB
    mov eax, 0x200000
    out dx, eax
    mov ecx, 5000               ; a flood of markers
    mov dx, 0x4F8
.flood:
    mov eax, ecx
    out dx, eax
    loop .flood
    mov dword [RESULT], 0x600d
    hlt

pointers:
    dd 0xFEE00020               ; local APIC ID
    dd 0xFEE00030               ; local APIC version
    dd 0xFEC00000               ; IO-APIC select
    dd 0xFEC00010               ; IO-APIC data window
    dd 0xFED00000               ; HPET capabilities
    dd 0xFED000F0               ; HPET main counter
    dd 0xB8000                  ; VGA text
    dd 0xA0000                  ; VGA graphics window
    dd 0xC0000                  ; ROM
    dd 0x07FFFFF8               ; the last 8 bytes of 128 MiB RAM (not NUL-terminated below)
    dd 0x08000000               ; just past RAM
    dd 0xFFFFFFFF               ; wraps
    dd 0xFFFFFFF0
    dd 1                        ; end of the list

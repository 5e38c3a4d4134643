; The count an instruction sees in the middle of a block (rdtsc; port I/O: here two marker
; writes, whose events carry the count and EIP) must not depend on whether the host has written
; EIP earlier in the run: delivering `int 0x30` or a #UD does, from inside the engine's
; interrupt hook. `measure` runs once before any such write (the reference) and then after each
; delivery, three rounds (from the second on, every block involved has been counted before, and
; nothing else makes the run leave the engine).
%include "common.inc"
%define MARKER 0x4F8          ; MARKER_PORT (emu/evlog.h)
start:
    gate 0x30, h_int, 0x8E
    gate 6, h_ud, 0x8E
    lidt [idtr]
    call measure                ; reference: the host has not written EIP in this run
    mov [RESULT], eax
    mov edi, RESULT + 4
    mov ebx, 3
.round:
    int 0x30                    ; delivered by the host: it writes EIP inside the hook
    call measure
    mov [edi], eax
    ud2                         ; a fault, delivered likewise
    call measure
    mov [edi + 4], eax
    add edi, 8
    dec ebx
    jnz .round
    cli
    hlt

; TSC ticks between two rdtsc four instructions apart in one block, in EAX; two markers four
; instructions apart in one block.
measure:
    nop
    rdtsc
    mov esi, eax
    nop
    nop
    rdtsc
    sub eax, esi
    mov ecx, eax
    mov eax, name_a
    mov dx, MARKER
    out dx, eax
    nop
    nop
    mov eax, name_b
    out dx, eax
    mov eax, ecx
    ret

h_int:
    iretd
h_ud:
    add dword [esp], 2          ; past the ud2
    iretd

name_a: db "a", 0
name_b: db "b", 0

idt_table

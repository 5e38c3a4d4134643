; Every descriptor, control-register, flag and page-table call, through the ROM, checking each
; effect from inside the guest. RESULT+4*k holds what check k saw; the host test compares.
%include "common.inc"
%define PD 0x300000
%define PT 0x301000
start:
    ; SetGDT / GetGDT round trip (3, 7)
    mov eax, gdtr
    vmi 3
    mov eax, RESULT + 0x100
    vmi 7
    mov eax, [RESULT + 0x102]
    mov [RESULT + 0], eax              ; GDT base as the CPU has it
    ; WriteGDTEntry (11): a data segment based at 0x6000, loaded through a selector
    push dword 0x0040F200 | 0x00400000 ; hi: base 23..16 = 0x00, P, DPL 3, data rw, 32-bit
    mov eax, gdt
    mov edx, 3
    mov ecx, 0x6000FFFF                ; lo: base 15..0 = 0x6000, limit 0xFFFF
    vmi 11
    add esp, 4
    mov dword [0x6010], 0xfeedface
    mov ax, 0x1B
    mov fs, ax
    mov eax, [fs:0x10]
    mov [RESULT + 4], eax              ; 0xfeedface read through the new segment
    ; SetIDT / GetIDT (5, 9)
    mov eax, idtr
    vmi 5
    mov eax, RESULT + 0x110
    vmi 9
    mov eax, [RESULT + 0x112]
    mov [RESULT + 8], eax
    ; SetTR / GetTR (6, 10) and UpdateKernelStack (14)
    mov ax, 0x20
    vmi 6
    vmi 10
    mov [RESULT + 12], eax
    mov eax, 0x10
    mov edx, 0x2ABCD0
    vmi 14                             ; a notification: the TSS is the guest's to write
    mov eax, [tss + 4]
    mov [RESULT + 16], eax
    ; control registers (15..22), CLTS (28)
    vmi 19                             ; GetCR0
    or eax, 8                          ; TS
    vmi 15
    vmi 28                             ; CLTS
    vmi 19
    mov [RESULT + 20], eax             ; TS clear again
    mov eax, 0x12345000
    vmi 16                             ; SetCR2
    vmi 20
    mov [RESULT + 24], eax
    ; interrupt flag calls (29..32) keep every register
    mov eax, 0xAAAA
    mov edx, 0xDDDD
    mov ecx, 0xCCCC
    vmi 29                             ; EnableInterrupts
    pushfd
    pop ebx
    mov [RESULT + 28], ebx             ; IF set
    mov [RESULT + 32], eax             ; EAX untouched
    vmi 30                             ; DisableInterrupts
    vmi 31                             ; GetInterruptMask
    mov [RESULT + 36], eax             ; IF clear in the word
    or eax, 0x200
    vmi 32                             ; SetInterruptMask
    pushfd
    pop ebx
    mov [RESULT + 40], ebx
    vmi 30
    ; SetIOPLMask (61)
    mov eax, 0x3000
    vmi 61
    pushfd
    pop ebx
    mov [RESULT + 44], ebx
    ; page tables through AllocatePage (44) and SetPxE (38), then paging and InvalPage (46)
    push dword 0                       ; clone count
    push dword 0                       ; clone start
    mov eax, PD >> 12
    mov edx, 0x42                      ; PD | ZEROED
    xor ecx, ecx
    vmi 44
    add esp, 8
    push dword 0
    push dword 0
    mov eax, PT >> 12
    mov edx, 0x41                      ; PT | ZEROED
    xor ecx, ecx
    vmi 44
    add esp, 8
    mov edi, 0                         ; identity-map 4 MiB through PT
.fill:
    lea eax, [edi * 4 + 0]             ; entry = (edi << 12) | 3
    shl eax, 10
    or eax, 3
    lea edx, [PT + edi * 4]
    mov ecx, 1                         ; flags: PT
    vmi 38
    inc edi
    cmp edi, 1024
    jne .fill
    mov eax, PT | 3
    mov edx, PD                        ; PDE 0 -> PT
    mov ecx, 2
    vmi 38
    mov eax, 0x00000083                ; PDE 0x300 (linear 0xC0000000): 4 MiB page at 0
    mov edx, PD + 0x300 * 4
    mov ecx, 2
    vmi 38
    mov eax, cr4
    or eax, 0x10                       ; PSE
    mov cr4, eax
    mov eax, PD
    vmi 17                             ; SetCR3
    vmi 19
    or eax, 0x80000000
    vmi 15                             ; SetCR0: paging on
    mov eax, [0xC0006010]              ; through the high alias
    mov [RESULT + 48], eax
    ; remap linear page 0x6000 to physical 0x7000 with SetPxE + InvalPage
    mov dword [0x7010], 0x7777
    mov eax, [0x6010]                  ; prime the TLB with the old mapping
    mov eax, 0x7003
    mov edx, PT + 6 * 4
    mov ecx, 1
    vmi 38
    mov eax, 0x6000
    vmi 46                             ; InvalPage
    mov eax, [0x6010]
    mov [RESULT + 52], eax             ; 0x7777
    ; FlushTLB (47) after another change
    mov eax, 0x6003
    mov edx, PT + 6 * 4
    mov ecx, 1
    vmi 38
    mov eax, 1
    vmi 47
    mov eax, [0x6010]
    mov [RESULT + 56], eax             ; 0xfeedface again
    ; SetLinearMapping (48), SetLazyMode (73), ReleasePage (45)
    push dword 0
    xor eax, eax
    mov edx, 0xC0000000
    mov ecx, 1024
    vmi 48
    add esp, 4
    mov eax, 1
    vmi 73
    ; call the ROM through its high alias: GetRelocationInfo and RDTSC via 0xC00C0000
    mov eax, 27
    call 0xC00C0088
    mov [RESULT + 60], eax             ; relocated RDTSC address in the alias
    mov [RESULT + 64], edx
    call eax                           ; RDTSC through the alias
    mov [RESULT + 68], eax
    ; the ROM through an alias whose low 20 bits are not the ROM's: linear page 0x6000 -> ROM.
    ; First a plain `ret` runs where the RDTSC slot will appear, so vmiemu has seen a block
    ; there that was not a call.
    mov byte [0x6000 + 0x100 + 27 * 32], 0xC3
    call 0x6000 + 0x100 + 27 * 32
    mov eax, 0xC0000 | 3
    mov edx, PT + 6 * 4
    mov ecx, 1
    vmi 38
    mov eax, 0x6000
    vmi 46                             ; InvalPage
    mov eax, 27
    call 0x6088                        ; GetRelocationInfo through the odd alias
    mov [RESULT + 80], eax
    xor eax, eax
    call 0x6000 + 0x100 + 27 * 32      ; RDTSC through it
    mov [RESULT + 84], eax
    mov eax, 0x6003                    ; page 0x6000 back to its RAM
    mov edx, PT + 6 * 4
    mov ecx, 1
    vmi 38
    mov eax, 0x6000
    vmi 46
    ; SetDR/GetDR (24, 25)
    xor eax, eax
    mov edx, 0x1000
    vmi 24
    xor eax, eax
    vmi 25
    mov [RESULT + 72], eax
    mov dword [RESULT + 76], 0x600d
    cli
    hlt

align 8
gdt: dq 0
     dq 0x00CF9A000000FFFF             ; 0x08
     dq 0x00CF92000000FFFF             ; 0x10
     dq 0                              ; 0x18: written by WriteGDTEntry
     dw 103, tss - 0x200000            ; 0x20: TSS
     db 0x20, 0x89, 0, 0
gdt_end:
gdtr: dw gdt_end - gdt - 1
      dd gdt
align 8
idtr: dw 0x7ff
      dd 0x250000
align 16
tss: times 104 db 0

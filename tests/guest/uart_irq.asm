; COM1's interrupt through the master PIC's input 4: THR empty as soon as ETBEI is set, then
; received data (the host test queues one byte before the run). The handler logs IIR, reads
; the byte when IIR says data, turns the UART's interrupts off and sends the EOI.
%include "common.inc"
%define COM1 0x3F8
%define COUNT RESULT            ; interrupts taken
%define IIRS RESULT + 8         ; IIR as each handler read it (dwords)
%define BYTE RESULT + 4         ; the byte the handler received
start:
    gate 0x24, h_com1, 0x8E
    lidt [idtr]
    ; master PIC at 0x20-0x27, IRQ 4 the only one unmasked
    mov al, 0x11
    out 0x20, al
    mov al, 0x20
    out 0x21, al
    mov al, 0x04
    out 0x21, al
    mov al, 0x01
    out 0x21, al
    mov al, 0xEF
    out 0x21, al
    mov dx, COM1 + 2
    xor al, al                  ; FIFO off: IIR's top bits stay clear
    out dx, al
    mov dx, COM1 + 4
    mov al, 0x0B                ; DTR, RTS, OUT2 (the PC's IRQ gate)
    out dx, al
    sti
    mov dx, COM1 + 1
    mov al, 0x02                ; ETBEI with THR empty: an interrupt at once
    out dx, al
.thre:
    cmp dword [COUNT], 1
    jb .thre
    mov dx, COM1 + 1
    mov al, 0x01                ; ERBFI with a byte waiting
    out dx, al
.rx:
    cmp dword [COUNT], 2
    jb .rx
    cli
    mov dword [RESULT + 0x40], 0x600d
    hlt

h_com1:
    push eax
    push ebx
    push edx
    mov dx, COM1 + 2
    in al, dx
    movzx eax, al
    mov ebx, [COUNT]
    mov [IIRS + ebx * 4], eax
    and al, 0x0F
    cmp al, 0x04
    jne .off
    mov dx, COM1
    in al, dx
    mov [BYTE], al
.off:
    mov dx, COM1 + 1
    xor al, al
    out dx, al
    inc dword [COUNT]
    mov al, 0x20                ; EOI
    out 0x20, al
    pop edx
    pop ebx
    pop eax
    iretd

idt_table

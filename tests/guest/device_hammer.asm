; Hammers the VGA and the i8042 with pseudo-random writes and reads: VGA ports 0x3C0-0x3CF,
; 0x3D4/0x3D5 and 0x3DA with any index and value (attribute flip-flop, DAC auto-increment
; included), then every i8042 command byte except the ones that pulse the reset line (0xD1 output
; port, 0xF0-0xFF), each followed by a data byte and reads of 0x60/0x64. The run must end at the
; hlt; RESULT+0 = 0x600d.
%include "common.inc"
start:
    mov ebx, 0x12345678         ; LCG state
    mov edi, 200000
.vga:
    imul ebx, ebx, 1103515245
    add ebx, 12345
    mov eax, ebx
    shr eax, 16
    movzx edx, al
    and dl, 0x0F
    cmp dl, 0x0E
    jb .ports
    mov dx, 0x3D4               ; 0x0E: the CRTC pair, 0x0F: input status 1
    test al, 1
    jz .crtc
    mov dx, 0x3DA
    in al, dx
    jmp .done
.crtc:
    mov al, ah
    out dx, al                  ; any CRTC index
    inc dx
    mov al, bh
    out dx, al
    in al, dx
    jmp .done
.ports:
    add dx, 0x3C0
    mov al, ah
    out dx, al
    in al, dx
    mov ax, bx
    out dx, ax                  ; 16-bit: index and data at once
.done:
    dec edi
    jnz .vga
    xor ecx, ecx                ; i8042: command bytes 0x00-0xEF but 0xD1
.kbc:
    cmp cl, 0xD1
    je .skip
    mov al, cl
    out 0x64, al
    mov al, 0xA5
    out 0x60, al
    in al, 0x60
    in al, 0x64
    mov al, 0xED                ; keyboard commands through the data port as well
    out 0x60, al
    mov al, cl
    out 0x60, al
    in al, 0x60
.skip:
    inc ecx
    cmp ecx, 0xF0
    jb .kbc
    mov dword [RESULT], 0x600d
    hlt

; Colour text on the VGA as vgacon writes it: "Hi" in yellow on blue at row 2, column 5, a
; blinking 'A' (white on red, blink bit) right after, the cursor moved behind them (CRTC 0x0E/
; 0x0F) with a block shape (0x0A/0x0B = 0..15), and palette entry 1 re-programmed through the
; attribute controller to light blue (0x3DA resets the flip-flop, then index, data, 0x20 to
; give the palette back to the display). Ends in hlt with IF clear.
%include "common.inc"
%define CELL(row, col) (0xB8000 + ((row) * 80 + (col)) * 2)
start:
    mov word [CELL(2, 5)], 0x1E48   ; 'H', yellow (14) on blue (1)
    mov word [CELL(2, 6)], 0x1E69   ; 'i'
    mov word [CELL(2, 7)], 0xCF41   ; 'A', white (15) on red (4), blinking
    mov word [CELL(2, 8)], 0x0720   ; ' ', light grey on black: where the cursor goes
    mov dx, 0x3D4
    mov al, 0x0E
    out dx, al
    inc dx
    mov al, (2 * 80 + 8) >> 8
    out dx, al
    dec dx
    mov al, 0x0F
    out dx, al
    inc dx
    mov al, (2 * 80 + 8) & 0xFF
    out dx, al
    dec dx
    mov ax, 0x000A                  ; cursor start row 0 (outw: index, then data)
    out dx, ax
    mov ax, 0x0F0B                  ; cursor end row 15
    out dx, ax
    mov dx, 0x3DA
    in al, dx                       ; flip-flop to "index"
    mov dx, 0x3C0
    mov al, 0x01                    ; palette entry 1 (display loses the palette)
    out dx, al
    mov al, 0x39                    ; light blue (EGA rgbRGB 111001, as entry 9 has it)
    out dx, al
    mov al, 0x20                    ; the palette back to the display
    out dx, al
    mov dx, 0x3D4                   ; read the cursor position back
    mov al, 0x0F
    out dx, al
    inc dx
    in al, dx
    movzx eax, al
    mov [RESULT + 0], eax
    cli
    hlt

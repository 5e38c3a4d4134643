/* The VGA's registers as colour text mode (mode 3, 80x25) uses them, and the text screen drawn
 * from them and the text buffer (guest RAM at 0xB8000: the buffer is plain memory, not a
 * device).
 *
 * Modelled: the miscellaneous output register (written at 0x3C2, read at 0x3CC), the
 * sequencer (0x3C4/0x3C5), the graphics controller (0x3CE/0x3CF) and the CRTC (0x3D4/0x3D5)
 * as index/data pairs that read back what was written; the attribute controller at 0x3C0
 * (index and data through one port, alternating by a flip-flop that a read of input status 1
 * at 0x3DA resets; data read at 0x3C1; bit 5 of the index gives the palette back to the
 * display, clear it blanks the screen) and the DAC (0x3C6 mask, 0x3C7/0x3C8 read and write
 * index, 0x3C9 three 6-bit components per entry). Input status 1 alternates between retrace
 * and display on every read, so a guest polling it for a retrace always finds one.
 * What the screen shows: 80x25 cells of 8x16 pixels (640x400) from the CRTC's start address
 * (0x0C/0x0D) with a line of 80 cells, each character drawn with the VGA's 8x16 font
 * (code page 437) in its attribute's colours (foreground bits 0-3, background 4-6, bit 7
 * blink when the attribute mode control's blink bit is set, else background intensity),
 * through the attribute palette and the DAC; the cursor at CRTC 0x0E/0x0F, rows 0x0A..0x0B
 * of its cell, hidden by 0x0A bit 5.
 * Not modelled: graphics modes, planar memory and the sequencer's and graphics controller's
 * effect on it (registers only), the monochrome ports (0x3B4/0x3B5/0x3BA), other text
 * geometries (the CRTC's timing registers are kept but the screen stays 80x25), the 9th
 * pixel column, split screen, panning, loadable fonts.
 *
 * Plain data: a snapshot copies the struct. Reads have no effect on the run other than the
 * ones the hardware has (the flip-flop, the DAC's read index, the retrace toggle). */
#ifndef VMIEMU_VGA_H
#define VMIEMU_VGA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emu/state_ser.h"

#define VGA_TEXT_COLS 80
#define VGA_TEXT_ROWS 25
#define VGA_CELL_W 8
#define VGA_CELL_H 16
#define VGA_WIDTH (VGA_TEXT_COLS * VGA_CELL_W)  /* 640 */
#define VGA_HEIGHT (VGA_TEXT_ROWS * VGA_CELL_H) /* 400 */
#define VGA_TEXT_WINDOW 0x8000u                 /* the text buffer's 32 KiB at 0xB8000 */

/* Ports. */
#define VGA_ATTR_PORT 0x3C0u     /* attribute controller index/data (flip-flop) */
#define VGA_ATTR_READ 0x3C1u
#define VGA_MISC_WRITE 0x3C2u
#define VGA_SEQ_INDEX 0x3C4u
#define VGA_DAC_MASK 0x3C6u
#define VGA_DAC_READ_INDEX 0x3C7u
#define VGA_DAC_WRITE_INDEX 0x3C8u
#define VGA_DAC_DATA 0x3C9u
#define VGA_MISC_READ 0x3CCu
#define VGA_GC_INDEX 0x3CEu
#define VGA_CRTC_INDEX 0x3D4u
#define VGA_CRTC_DATA 0x3D5u
#define VGA_INPUT_STATUS_1 0x3DAu

/* CRTC registers the screen uses. */
#define VGA_CRTC_CURSOR_START 0x0A /* bit 5: cursor off; bits 0-4: first row */
#define VGA_CRTC_CURSOR_END 0x0B   /* bits 0-4: last row */
#define VGA_CRTC_START_HI 0x0C
#define VGA_CRTC_START_LO 0x0D
#define VGA_CRTC_CURSOR_HI 0x0E
#define VGA_CRTC_CURSOR_LO 0x0F
/* Attribute controller registers. */
#define VGA_ATTR_MODE 0x10         /* bit 3: blink (else background intensity) */
#define VGA_ATTR_PLANE_ENABLE 0x12
#define VGA_ATTR_COLOR_SELECT 0x14
#define VGA_ATTR_PAS 0x20          /* index bit 5: the palette belongs to the display */

typedef struct vga {
    uint8_t misc;
    uint8_t seq_index, seq[8];
    uint8_t gc_index, gc[16];
    uint8_t crtc_index, crtc[32];
    uint8_t attr_index;   /* with VGA_ATTR_PAS */
    bool attr_data_next;  /* the flip-flop: the next write to 0x3C0 is data */
    uint8_t attr[32];
    uint8_t dac_mask, dac_read, dac_write, dac_component;
    bool dac_reading;     /* the DAC state 0x3C7 reads: the last index written was a read index */
    uint8_t dac[256][3];  /* 6-bit components */
    bool retrace;         /* what the next read of input status 1 reports */
} vga;

/* Power-on: the registers as the BIOS leaves them in mode 3 (the EGA palette in the DAC). */
void vga_init(vga *v);
uint8_t vga_read(vga *v, uint16_t port);
void vga_write(vga *v, uint16_t port, uint8_t value);
void vga_serialise(const vga *v, state_writer *w);

/* Where the screen starts in the text buffer (in cells, from CRTC 0x0C/0x0D). */
uint16_t vga_start_cell(const vga *v);
/* The cursor's cell relative to the screen's first (may lie off screen), and whether it shows. */
uint16_t vga_cursor_cell(const vga *v);
bool vga_cursor_visible(const vga *v);

/* Draw the text screen into rgb (VGA_WIDTH x VGA_HEIGHT pixels, 0x00RRGGBB) from the text
 * buffer `text` (VGA_TEXT_WINDOW bytes, the guest's 0xB8000). blink_on: the phase in which
 * blinking characters and the cursor show. Reads only. */
void vga_render(const vga *v, const uint8_t *text, bool blink_on, uint32_t *rgb);

/* Row `row` (0-24) of the text screen as text, NUL-terminated in out (VGA_TEXT_COLS + 1 bytes),
 * trailing blanks dropped: printable ASCII as itself, NUL as a blank, any other code page 437
 * character as '.'. For tests and the shell: what the screen says, without the picture. */
void vga_text_row(const vga *v, const uint8_t *text, unsigned row, char *out);

/* Draw a grid of cols x rows text cells (each a character in code page 437, low byte, and a
 * VGA attribute, high byte) with the same font and the BIOS's 16 colours (mode 3's palette,
 * whatever a guest did to its own), no blinking (bit 7 is background intensity), into rgb at
 * `stride` pixels a line. For what the host shows beside the screen (frontend/panel.h). */
void vga_draw_cells(const uint16_t *cells, unsigned cols, unsigned rows, uint32_t *rgb, size_t stride);

#endif

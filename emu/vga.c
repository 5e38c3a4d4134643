/* VGA registers and the text screen (emu/vga.h). */
#include "emu/vga.h"

#include <string.h>

#include "vga_font.inc" /* vga_font_8x16: generated at build time by scripts/vgafont.py */

/* Mode 3 as the BIOS sets it (the register values every VGA BIOS's mode table has). */
static const uint8_t mode3_seq[5] = {0x03, 0x00, 0x03, 0x00, 0x02};
static const uint8_t mode3_crtc[25] = {0x5F, 0x4F, 0x50, 0x82, 0x55, 0x81, 0xBF, 0x1F, 0x00, 0x4F, 0x0D, 0x0E, 0x00,
                                       0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x28, 0x1F, 0x96, 0xB9, 0xA3, 0xFF};
static const uint8_t mode3_gc[9] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0E, 0x00, 0xFF};
static const uint8_t mode3_attr[21] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3A,
                                       0x3B, 0x3C, 0x3D, 0x3E, 0x3F, 0x0C, 0x00, 0x0F, 0x08, 0x00};

void vga_init(vga *v)
{
    memset(v, 0, sizeof *v);
    v->misc = 0x67; /* colour ports at 0x3Dx, RAM enabled, 25 MHz clock */
    memcpy(v->seq, mode3_seq, sizeof mode3_seq);
    memcpy(v->crtc, mode3_crtc, sizeof mode3_crtc);
    memcpy(v->gc, mode3_gc, sizeof mode3_gc);
    memcpy(v->attr, mode3_attr, sizeof mode3_attr);
    v->attr_index = VGA_ATTR_PAS;
    v->dac_mask = 0xFF;
    /* The EGA's 64 colours, rgbRGB: a primary bit adds 2/3 of full scale, a secondary 1/3. */
    for (int i = 0; i < 64; i++) {
        v->dac[i][0] = (uint8_t)((i >> 2 & 1) * 42 + (i >> 5 & 1) * 21);
        v->dac[i][1] = (uint8_t)((i >> 1 & 1) * 42 + (i >> 4 & 1) * 21);
        v->dac[i][2] = (uint8_t)((i & 1) * 42 + (i >> 3 & 1) * 21);
    }
}

static uint8_t dac_read_data(vga *v)
{
    uint8_t value = v->dac[v->dac_read][v->dac_component];
    if (++v->dac_component == 3) {
        v->dac_component = 0;
        v->dac_read++;
    }
    return value;
}

static void dac_write_data(vga *v, uint8_t value)
{
    v->dac[v->dac_write][v->dac_component] = value & 0x3F;
    if (++v->dac_component == 3) {
        v->dac_component = 0;
        v->dac_write++;
    }
}

uint8_t vga_read(vga *v, uint16_t port)
{
    switch (port) {
    case VGA_ATTR_PORT:
        return v->attr_index;
    case VGA_ATTR_READ:
        return v->attr[v->attr_index & 0x1F];
    case VGA_SEQ_INDEX:
        return v->seq_index;
    case VGA_SEQ_INDEX + 1:
        return v->seq[v->seq_index & 7];
    case VGA_DAC_MASK:
        return v->dac_mask;
    case VGA_DAC_READ_INDEX:
        return v->dac_reading ? 0x03 : 0x00;
    case VGA_DAC_WRITE_INDEX:
        return v->dac_write;
    case VGA_DAC_DATA:
        return dac_read_data(v);
    case VGA_MISC_READ:
        return v->misc;
    case VGA_GC_INDEX:
        return v->gc_index;
    case VGA_GC_INDEX + 1:
        return v->gc[v->gc_index & 15];
    case VGA_CRTC_INDEX:
        return v->crtc_index;
    case VGA_CRTC_DATA:
        return v->crtc[v->crtc_index & 31];
    case VGA_INPUT_STATUS_1: {
        /* Bit 3 vertical retrace, bit 0 display disabled: both during a retrace. */
        uint8_t value = v->retrace ? 0x09 : 0x00;
        v->retrace = !v->retrace;
        v->attr_data_next = false;
        return value;
    }
    default:
        return 0xFF; /* input status 0, feature control, ... read as an open bus */
    }
}

void vga_write(vga *v, uint16_t port, uint8_t value)
{
    switch (port) {
    case VGA_ATTR_PORT:
        if (v->attr_data_next)
            v->attr[v->attr_index & 0x1F] = value;
        else
            v->attr_index = value & 0x3F;
        v->attr_data_next = !v->attr_data_next;
        break;
    case VGA_MISC_WRITE:
        v->misc = value;
        break;
    case VGA_SEQ_INDEX:
        v->seq_index = value;
        break;
    case VGA_SEQ_INDEX + 1:
        v->seq[v->seq_index & 7] = value;
        break;
    case VGA_DAC_MASK:
        v->dac_mask = value;
        break;
    case VGA_DAC_READ_INDEX:
        v->dac_read = value;
        v->dac_component = 0;
        v->dac_reading = true;
        break;
    case VGA_DAC_WRITE_INDEX:
        v->dac_write = value;
        v->dac_component = 0;
        v->dac_reading = false;
        break;
    case VGA_DAC_DATA:
        dac_write_data(v, value);
        break;
    case VGA_GC_INDEX:
        v->gc_index = value;
        break;
    case VGA_GC_INDEX + 1:
        v->gc[v->gc_index & 15] = value;
        break;
    case VGA_CRTC_INDEX:
        v->crtc_index = value;
        break;
    case VGA_CRTC_DATA:
        v->crtc[v->crtc_index & 31] = value;
        break;
    default:
        break; /* read-only or unused: ignored */
    }
}

void vga_serialise(const vga *v, state_writer *w)
{
    state_put_u8(w, v->misc);
    state_put_u8(w, v->seq_index);
    state_put_bytes(w, v->seq, sizeof v->seq);
    state_put_u8(w, v->gc_index);
    state_put_bytes(w, v->gc, sizeof v->gc);
    state_put_u8(w, v->crtc_index);
    state_put_bytes(w, v->crtc, sizeof v->crtc);
    state_put_u8(w, v->attr_index);
    state_put_bool(w, v->attr_data_next);
    state_put_bytes(w, v->attr, sizeof v->attr);
    state_put_u8(w, v->dac_mask);
    state_put_u8(w, v->dac_read);
    state_put_u8(w, v->dac_write);
    state_put_u8(w, v->dac_component);
    state_put_bool(w, v->dac_reading);
    state_put_bytes(w, v->dac, sizeof v->dac);
    state_put_bool(w, v->retrace);
}

uint16_t vga_start_cell(const vga *v)
{
    return (uint16_t)(v->crtc[VGA_CRTC_START_HI] << 8 | v->crtc[VGA_CRTC_START_LO]);
}

uint16_t vga_cursor_cell(const vga *v)
{
    uint16_t at = (uint16_t)(v->crtc[VGA_CRTC_CURSOR_HI] << 8 | v->crtc[VGA_CRTC_CURSOR_LO]);
    return (uint16_t)(at - vga_start_cell(v));
}

bool vga_cursor_visible(const vga *v)
{
    uint8_t start = v->crtc[VGA_CRTC_CURSOR_START], end = v->crtc[VGA_CRTC_CURSOR_END] & 0x1F;
    return !(start & 0x20) && (start & 0x1F) <= end && vga_cursor_cell(v) < VGA_TEXT_COLS * VGA_TEXT_ROWS;
}

/* A 4-bit colour through the attribute palette (and colour select) and the DAC. */
static uint32_t colour(const vga *v, unsigned index)
{
    unsigned p = v->attr[index & v->attr[VGA_ATTR_PLANE_ENABLE] & 0x0F] & 0x3F;
    uint8_t select = v->attr[VGA_ATTR_COLOR_SELECT];
    if (v->attr[VGA_ATTR_MODE] & 0x80)
        p = (p & 0x0F) | (select & 0x03u) << 4;
    p = (p | (select & 0x0Cu) << 4) & v->dac_mask;
    uint32_t rgb = 0;
    for (int c = 0; c < 3; c++) /* 6 bits to 8: scale so that 63 is 255 */
        rgb = rgb << 8 | (uint32_t)(v->dac[p][c] * 255 / 63);
    return rgb;
}

void vga_text_row(const vga *v, const uint8_t *text, unsigned row, char *out)
{
    uint16_t start = vga_start_cell(v);
    size_t len = 0;
    for (unsigned col = 0; col < VGA_TEXT_COLS && row < VGA_TEXT_ROWS; col++) {
        uint8_t ch = text[((uint32_t)(start + row * VGA_TEXT_COLS + col) * 2) % VGA_TEXT_WINDOW];
        out[col] = ch == 0 ? ' ' : ch >= 0x20 && ch < 0x7F ? (char)ch : '.';
        if (out[col] != ' ')
            len = col + 1;
    }
    out[len] = 0;
}

void vga_render(const vga *v, const uint8_t *text, bool blink_on, uint32_t *rgb)
{
    /* The attribute controller without its palette (index bit 5 clear), or the sequencer's
     * screen-off bit: the display shows nothing. */
    if (!(v->attr_index & VGA_ATTR_PAS) || (v->seq[1] & 0x20)) {
        memset(rgb, 0, sizeof *rgb * VGA_WIDTH * VGA_HEIGHT);
        return;
    }
    bool blink_mode = v->attr[VGA_ATTR_MODE] & 0x08;
    uint16_t start = vga_start_cell(v);
    for (unsigned cell = 0; cell < VGA_TEXT_COLS * VGA_TEXT_ROWS; cell++) {
        uint32_t off = ((uint32_t)(start + cell) * 2) % VGA_TEXT_WINDOW;
        uint8_t ch = text[off], a = text[off + 1];
        unsigned fg = a & 0x0F, bg = a >> 4;
        if (blink_mode) {
            bg &= 7;
            if ((a & 0x80) && !blink_on)
                fg = bg;
        }
        uint32_t fc = colour(v, fg), bc = colour(v, bg);
        uint32_t *px = rgb + (cell / VGA_TEXT_COLS) * VGA_CELL_H * VGA_WIDTH + (cell % VGA_TEXT_COLS) * VGA_CELL_W;
        for (int y = 0; y < VGA_CELL_H; y++, px += VGA_WIDTH)
            for (int x = 0; x < VGA_CELL_W; x++)
                px[x] = (vga_font_8x16[ch][y] & (0x80 >> x)) ? fc : bc;
    }
    if (!blink_on || !vga_cursor_visible(v))
        return;
    unsigned cell = vga_cursor_cell(v);
    uint32_t off = ((uint32_t)(start + cell) * 2) % VGA_TEXT_WINDOW;
    uint32_t fc = colour(v, text[off + 1] & 0x0F);
    unsigned first = v->crtc[VGA_CRTC_CURSOR_START] & 0x1F, last = v->crtc[VGA_CRTC_CURSOR_END] & 0x1F;
    for (unsigned y = first; y <= last && y < VGA_CELL_H; y++) {
        uint32_t *px = rgb + ((cell / VGA_TEXT_COLS) * VGA_CELL_H + y) * VGA_WIDTH + (cell % VGA_TEXT_COLS) * VGA_CELL_W;
        for (int x = 0; x < VGA_CELL_W; x++)
            px[x] = fc;
    }
}

void vga_draw_cells(const uint16_t *cells, unsigned cols, unsigned rows, uint32_t *rgb, size_t stride)
{
    static vga bios; /* mode 3 as the BIOS sets it: its colours */
    static bool ready;
    if (!ready) {
        vga_init(&bios);
        ready = true;
    }
    for (unsigned r = 0; r < rows; r++)
        for (unsigned c = 0; c < cols; c++) {
            uint16_t cell = cells[r * cols + c];
            uint8_t ch = (uint8_t)cell, a = (uint8_t)(cell >> 8);
            uint32_t fc = colour(&bios, a & 0x0Fu), bc = colour(&bios, a >> 4);
            uint32_t *px = rgb + (size_t)r * VGA_CELL_H * stride + (size_t)c * VGA_CELL_W;
            for (int y = 0; y < VGA_CELL_H; y++, px += stride)
                for (int x = 0; x < VGA_CELL_W; x++)
                    px[x] = (vga_font_8x16[ch][y] & (0x80 >> x)) ? fc : bc;
        }
}

/* The VGA (emu/vga.h) as the machine's device: its colour-mode ports 0x3C0-0x3CF, 0x3D4/0x3D5
 * and 0x3DA; the text buffer is guest RAM at 0xB8000. No interrupts, no timers. */
#include "emu/machine.h"

/* A 16- or 32-bit access is its bytes on consecutive ports, lowest first (outw 0x3D4 sets the
 * index and the data at once, as on the real card). */
static uint32_t port_read(machine *m, uint16_t port, int size)
{
    uint32_t value = 0;
    for (int i = 0; i < size; i++)
        value |= (uint32_t)vga_read(&m->vga, (uint16_t)(port + i)) << (8 * i);
    return value;
}

static void port_write(machine *m, uint16_t port, int size, uint32_t value)
{
    for (int i = 0; i < size; i++)
        vga_write(&m->vga, (uint16_t)(port + i), (uint8_t)(value >> (8 * i)));
}

void machine_render_screen(const machine *m, bool blink_on, uint32_t *rgb)
{
    vga_render(&m->vga, phys_ptr(&m->mem, PHYS_VGA_TEXT), blink_on, rgb);
}

void machine_screen_row(const machine *m, unsigned row, char *out)
{
    vga_text_row(&m->vga, phys_ptr(&m->mem, PHYS_VGA_TEXT), row, out);
}

static void reset(machine *m) { vga_init(&m->vga); }

static void serialise(const machine *m, state_writer *w) { vga_serialise(&m->vga, w); }

const device dev_vga = {
    .name = "vga",
    .reset = reset,
    .ports = {{VGA_ATTR_PORT, 16, port_read, port_write, false},
              {VGA_CRTC_INDEX, 2, port_read, port_write, false},
              {VGA_INPUT_STATUS_1, 1, port_read, port_write, false}},
    .serialise = serialise,
};

/* vgatext: colour text on the VGA and keys from the keyboard. Draws "Hi" yellow on blue at
 * row 1, column 0, a blinking white-on-red 'A' after it, and the cursor (a block, CRTC
 * 0x0A/0x0B) after that (CRTC 0x0E/0x0F); then, with keys=N on the command line, takes N
 * scan-code bytes on IRQ 1 (port 0x60), printing each on the serial line and showing each make
 * code's byte in hex on row 3 (spinning meanwhile), and exits PASS. keys=0 (default): exits PASS at once. */
#include <stdint.h>

#include "check.h"
#include "cpu.h"
#include "io.h"
#include "kernel.h"
#include "kprintf.h"
#include "multiboot.h"
#include "pic.h"
#include "trap.h"

#define TEXT ((volatile uint16_t *)0xB8000)
#define CELL(row, col) ((row) * 80 + (col))
#define IRQ_KEYBOARD 1

static volatile uint32_t received;
static uint32_t shown;

static void crtc(uint8_t index, uint8_t value)
{
    outb(0x3D4, index);
    outb(0x3D5, value);
}

static void irq1(struct trap_frame *f)
{
    (void)f;
    uint8_t code = inb(0x60);
    kprintf("vgatext: scancode 0x%02x\n", code);
    received++;
    if (!(code & 0x80) && shown < 26) {
        static const char hex[] = "0123456789ABCDEF";
        TEXT[CELL(3, shown * 3)] = (uint16_t)(0x0A00 | hex[code >> 4]);
        TEXT[CELL(3, shown * 3 + 1)] = (uint16_t)(0x0A00 | hex[code & 15]);
        shown++;
    }
    pic_eoi(IRQ_KEYBOARD);
}

void kmain(uint32_t magic, const struct multiboot_info *mbi)
{
    kernel_start("vgatext");
    uint32_t keys = 0;
    if (mb_cmdline_u32(mb_cmdline(magic, mbi), "keys", &keys) < 0) {
        check("command line", false, "bad keys=");
        check_finish("vgatext");
    }
    TEXT[CELL(1, 0)] = 0x1E00 | 'H';
    TEXT[CELL(1, 1)] = 0x1E00 | 'i';
    TEXT[CELL(1, 2)] = 0xCF00 | 'A';
    TEXT[CELL(1, 3)] = 0x0700 | ' ';
    crtc(0x0A, 0x00);
    crtc(0x0B, 0x0F);
    crtc(0x0E, CELL(1, 3) >> 8);
    crtc(0x0F, CELL(1, 3) & 0xFF);
    kprintf("vgatext: screen drawn\n");
    if (keys) {
        pic_init(1u << IRQ_KEYBOARD);
        trap_set_handler(PIC_VECTOR_BASE + IRQ_KEYBOARD, irq1, 0);
        native_sti();
        while (received < keys) /* spinning, not halting: the count runs on to the keys */
            __asm__ volatile("pause" ::: "memory");
        native_cli();
        kprintf("vgatext: %u scancode bytes\n", received);
    }
    check_finish("vgatext");
}

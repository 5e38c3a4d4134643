#include "pic.h"

#include "io.h"
#include "vmi.h"

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xA0
#define PIC2_DATA 0xA1
#define ICW1_INIT_ICW4 0x11
#define ICW4_8086 0x01
#define OCW2_EOI 0x20

/* Old PICs need a moment between initialisation words: Linux uses outb_p. */
static void out_p(uint16_t port, uint8_t v)
{
    outb(port, v);
    vmi_io_delay();
}

void pic_set_unmasked(uint16_t unmasked)
{
    if (unmasked & 0xFF00)
        unmasked |= 1u << 2; /* the cascade */
    outb(PIC1_DATA, (uint8_t)~unmasked);
    outb(PIC2_DATA, (uint8_t)~(unmasked >> 8));
}

void pic_init(uint16_t unmasked)
{
    out_p(PIC1_CMD, ICW1_INIT_ICW4);
    out_p(PIC2_CMD, ICW1_INIT_ICW4);
    out_p(PIC1_DATA, PIC_VECTOR_BASE);
    out_p(PIC2_DATA, PIC_VECTOR_BASE + 8);
    out_p(PIC1_DATA, 1u << 2); /* slave on input 2 */
    out_p(PIC2_DATA, 2);       /* slave identity */
    out_p(PIC1_DATA, ICW4_8086);
    out_p(PIC2_DATA, ICW4_8086);
    pic_set_unmasked(unmasked);
}

void pic_eoi(unsigned irq)
{
    if (irq >= 8)
        outb(PIC2_CMD, OCW2_EOI);
    outb(PIC1_CMD, OCW2_EOI);
}

#include "emu/pic.h"

#include <stddef.h>
#include <string.h>

/* Command-port write decoding (bits 4 and 3 tell ICW1, OCW2 and OCW3 apart). */
#define ICW1_SELECT 0x10u
#define ICW1_IC4 0x01u
#define ICW1_SNGL 0x02u
#define OCW3_SELECT 0x08u
#define OCW3_POLL 0x04u
#define OCW3_READ_CMD 0x02u /* with bit 0: 1 = read ISR, 0 = read IRR */
#define OCW3_READ_ISR 0x01u
#define ICW4_AEOI 0x02u

enum { OCW2_NONSPECIFIC_EOI = 1, OCW2_SPECIFIC_EOI = 3, OCW2_ROTATE_NONSPECIFIC_EOI = 5,
       OCW2_ROTATE_SPECIFIC_EOI = 7 };

/* The pair a chip belongs to: chips live in pic.chip[], and each knows its index. */
static pic *pair_of(pic_chip *c)
{
    return (pic *)(void *)((char *)(c - c->index) - offsetof(pic, chip));
}

/* Lowest set bit (IRQ 0 has the highest priority), or 8 for none. */
static int highest_priority(uint8_t bits)
{
    for (int i = 0; i < 8; i++)
        if (bits & (1u << i))
            return i;
    return 8;
}

/* The input this chip would present to its output: the best unmasked request that beats
 * everything in service, or -1. */
static int chip_pending(const pic_chip *c)
{
    int req = highest_priority((uint8_t)(c->irr & ~c->imr));
    if (req == 8)
        return -1;
    return req < highest_priority(c->isr) ? req : -1;
}

/* Latch a rising edge on one input; a held level does not trigger again. A level-triggered
 * input requests exactly while its line is high. */
static void chip_set_line(pic_chip *c, int n, int level)
{
    uint8_t bit = (uint8_t)(1u << n);
    if (c->elcr & bit) {
        c->irr = (uint8_t)(level ? c->irr | bit : c->irr & ~bit);
        c->lines = (uint8_t)(level ? c->lines | bit : c->lines & ~bit);
    } else if (level) {
        if (!(c->lines & bit))
            c->irr |= bit;
        c->lines |= bit;
    } else {
        c->lines &= (uint8_t)~bit;
    }
}

/* The chip's part of an INTA cycle for input n. A level-triggered request stays while its
 * line is high: after the EOI it is taken again unless the device lowered the line. */
static void chip_intack(pic_chip *c, int n)
{
    uint8_t bit = (uint8_t)(1u << n);
    if (!(c->elcr & bit))
        c->irr &= (uint8_t)~bit;
    if (!c->auto_eoi)
        c->isr |= bit;
}

static bool cascaded(const pic *p) { return !p->chip[PIC_MASTER].single; }

/* The slave's output is the master's input 2: recompute it after every change of state. */
static void update_cascade(pic *p)
{
    if (cascaded(p))
        chip_set_line(&p->chip[PIC_MASTER], PIC_CASCADE_IRQ, chip_pending(&p->chip[PIC_SLAVE]) >= 0);
}

static void chip_reset(pic_chip *c, uint8_t index)
{
    memset(c, 0, sizeof *c);
    c->index = index;
}

void pic_init(pic *p)
{
    chip_reset(&p->chip[PIC_MASTER], PIC_MASTER);
    chip_reset(&p->chip[PIC_SLAVE], PIC_SLAVE);
    p->chip[PIC_MASTER].vector_base = 0x08;
    p->chip[PIC_MASTER].icw3 = 1u << PIC_CASCADE_IRQ;
    p->chip[PIC_MASTER].icw4 = 0x01;
    p->chip[PIC_MASTER].imr = (uint8_t)~(1u << PIC_CASCADE_IRQ);
    p->chip[PIC_SLAVE].vector_base = 0x70;
    p->chip[PIC_SLAVE].icw3 = PIC_CASCADE_IRQ;
    p->chip[PIC_SLAVE].icw4 = 0x01;
    p->chip[PIC_SLAVE].imr = 0xFF;
}

/* ICW1 starts initialisation: the datasheet clears the mask and the edge detectors' memory
 * of pending requests, and selects IRR for reading. Input levels are kept, so a line held
 * high across initialisation must fall and rise again to be seen. */
static void write_icw1(pic_chip *c, uint8_t v)
{
    c->irr = 0;
    c->isr = 0;
    c->imr = 0;
    c->read_isr = false;
    c->poll = false;
    c->auto_eoi = false;
    c->icw4 = 0;
    c->single = v & ICW1_SNGL;
    c->icw4_expected = v & ICW1_IC4;
    c->init_step = 2;
}

/* ICW2..ICW4 arrive on the data port in order; ICW3 only when cascaded, ICW4 only if asked. */
static void write_init_word(pic_chip *c, uint8_t v)
{
    switch (c->init_step) {
    case 2:
        c->vector_base = v & 0xF8;
        c->init_step = !c->single ? 3 : c->icw4_expected ? 4 : 0;
        break;
    case 3:
        c->icw3 = v;
        c->init_step = c->icw4_expected ? 4 : 0;
        break;
    default:
        c->icw4 = v;
        c->auto_eoi = v & ICW4_AEOI;
        c->init_step = 0;
        break;
    }
}

static void write_ocw2(pic_chip *c, uint8_t v)
{
    switch (v >> 5) {
    case OCW2_NONSPECIFIC_EOI:
    case OCW2_ROTATE_NONSPECIFIC_EOI: {
        int n = highest_priority(c->isr);
        if (n < 8)
            c->isr &= (uint8_t)~(1u << n);
        break;
    }
    case OCW2_SPECIFIC_EOI:
    case OCW2_ROTATE_SPECIFIC_EOI:
        c->isr &= (uint8_t)~(1u << (v & 7));
        break;
    default:
        break; /* rotate in auto-EOI, set priority, no-op: priority stays fixed */
    }
}

static void write_ocw3(pic_chip *c, uint8_t v)
{
    if (v & OCW3_READ_CMD)
        c->read_isr = v & OCW3_READ_ISR;
    c->poll = v & OCW3_POLL; /* special mask mode bits (5, 6) are ignored */
}

/* A poll is an INTA done by a port read on this chip alone: bit 7 says whether an input was
 * pending, bits 0-2 which one. The guest polls the slave itself after the master says 2. */
static uint8_t chip_poll(pic_chip *c)
{
    c->poll = false;
    int n = chip_pending(c);
    if (n < 0)
        return 0;
    chip_intack(c, n);
    return (uint8_t)(0x80u | (unsigned)n);
}

uint32_t pic_read(void *opaque, uint16_t offset, int size)
{
    (void)size;
    pic_chip *c = opaque;
    switch (offset) {
    case 0:
        if (c->poll) {
            uint8_t v = chip_poll(c);
            update_cascade(pair_of(c));
            return v;
        }
        return c->read_isr ? c->isr : c->irr;
    case 1: return c->imr;
    default: return 0xFF;
    }
}

void pic_write(void *opaque, uint16_t offset, int size, uint32_t value)
{
    (void)size;
    pic_chip *c = opaque;
    uint8_t v = (uint8_t)value;
    if (offset == 0) {
        if (v & ICW1_SELECT)
            write_icw1(c, v);
        else if (v & OCW3_SELECT)
            write_ocw3(c, v);
        else
            write_ocw2(c, v);
    } else if (offset == 1) {
        if (c->init_step)
            write_init_word(c, v);
        else
            c->imr = v;
    }
    update_cascade(pair_of(c));
}

/* IRQs 0, 1, 2 (timer, keyboard, cascade), 8 (RTC) and 13 (FPU) are edge-only on the PIIX. */
static const uint8_t elcr_writable[2] = {0xF8, 0xDE};

uint8_t pic_elcr_read(const pic *p, int chip) { return chip == 0 || chip == 1 ? p->chip[chip].elcr : 0xFF; }

void pic_elcr_write(pic *p, int chip, uint8_t value)
{
    if (chip != 0 && chip != 1)
        return;
    pic_chip *c = &p->chip[chip];
    uint8_t was = c->elcr;
    c->elcr = value & elcr_writable[chip];
    /* An input turned level-triggered requests by its present level; one turned edge keeps
     * what it latched. */
    uint8_t to_level = (uint8_t)(c->elcr & ~was);
    c->irr = (uint8_t)((c->irr & ~to_level) | (c->lines & to_level));
    update_cascade(p);
}

void pic_set_irq(pic *p, int irq, int level)
{
    if (irq < 0 || irq > 15 || irq == PIC_CASCADE_IRQ)
        return;
    chip_set_line(&p->chip[irq >> 3], irq & 7, level);
    update_cascade(p);
}

void pic_pulse_irq(pic *p, int irq)
{
    if (irq < 0 || irq > 15 || irq == PIC_CASCADE_IRQ)
        return;
    pic_chip *c = &p->chip[irq >> 3];
    uint8_t bit = (uint8_t)(1u << (irq & 7));
    if (!(c->elcr & bit))
        c->irr |= bit;
    update_cascade(p);
}

static void irq_line_set(void *opaque, int n, int level) { pic_set_irq(opaque, n, level); }

irq_line pic_irq_line(pic *p, int irq) { return (irq_line){irq_line_set, p, irq}; }

bool pic_irq_masked(const pic *p, int irq)
{
    if (irq < 0 || irq > 15)
        return true;
    if (irq < 8)
        return (p->chip[PIC_MASTER].imr >> irq) & 1;
    return ((p->chip[PIC_SLAVE].imr >> (irq - 8)) & 1) || ((p->chip[PIC_MASTER].imr >> PIC_CASCADE_IRQ) & 1);
}

bool pic_has_interrupt(const pic *p) { return chip_pending(&p->chip[PIC_MASTER]) >= 0; }

int pic_acknowledge(pic *p)
{
    pic_chip *m = &p->chip[PIC_MASTER], *s = &p->chip[PIC_SLAVE];
    int n = chip_pending(m);
    if (n < 0)
        return m->vector_base + 7; /* spurious IRQ 7: the request went away before INTA */
    chip_intack(m, n);
    int vector;
    if (n == PIC_CASCADE_IRQ && cascaded(p)) {
        int sn = chip_pending(s);
        if (sn < 0)
            sn = 7; /* spurious IRQ 15: the slave's request went away */
        else
            chip_intack(s, sn);
        vector = s->vector_base + sn;
    } else {
        vector = m->vector_base + n;
    }
    update_cascade(p);
    return vector;
}

void pic_serialise(const pic *p, state_writer *w)
{
    for (int i = 0; i < 2; i++) {
        const pic_chip *c = &p->chip[i];
        state_put_u8(w, c->index);
        state_put_u8(w, c->irr);
        state_put_u8(w, c->isr);
        state_put_u8(w, c->imr);
        state_put_u8(w, c->lines);
        state_put_u8(w, c->vector_base);
        state_put_u8(w, c->init_step);
        state_put_bool(w, c->icw4_expected);
        state_put_bool(w, c->single);
        state_put_bool(w, c->auto_eoi);
        state_put_bool(w, c->read_isr);
        state_put_bool(w, c->poll);
        state_put_u8(w, c->icw3);
        state_put_u8(w, c->icw4);
        state_put_u8(w, c->elcr);
    }
}

/* The PC's pair of 8259A interrupt controllers: the master at ports 0x20/0x21 drives the CPU's
 * INTR, the slave at 0xA0/0xA1 feeds the master's input 2, so ISA IRQs 8-15 share IRQ 2's
 * priority.
 *
 * Modelled: ICW1-ICW4 (single or cascade, vector base, 8086 mode, auto-EOI), OCW1 (mask), OCW2
 * (non-specific and specific EOI), OCW3 (read IRR / read ISR, poll), edge latching, fixed
 * priority with in-service blocking, spurious IRQ 7 and IRQ 15, and the PIIX's edge/level
 * control registers (ELCR, ports 0x4D0 master and 0x4D1 slave, one bit per IRQ; IRQs 0, 1, 2,
 * 8 and 13 are edge-only, their bits read 0): an input marked level-triggered requests while
 * its line is high and stops when it falls, and its request is not cleared by the acknowledge
 * (no vmiemu device drives a line level-triggered yet; they all pulse or hold edges).
 * Not modelled (accepted and ignored, the chip keeps fixed priority): rotation and
 * set-priority commands (OCW2 0x00, 0x80, 0xC0; the EOI part of 0xA0 and 0xE0 is done),
 * special mask mode, special fully nested mode, ICW1 LTIM (the ELCR decides, as on the PIIX),
 * buffered mode, MCS-80 vectors (8086 vectors are always used), ICW3 (the wiring is fixed:
 * the slave is on master input 2, unless the master is initialised in single mode).
 *
 * Plain data: a snapshot copies the struct. The machine's ports reach it through emu/dev_pic.c
 * (opaque = &p->chip[PIC_MASTER] for 0x20/0x21, &p->chip[PIC_SLAVE] for 0xA0/0xA1). */
#ifndef VMIEMU_PIC_H
#define VMIEMU_PIC_H

#include <stdbool.h>
#include <stdint.h>

#include "emu/state_ser.h"
#include "emu/irq.h"
#include "mmu/error.h"

#define PIC_MASTER_PORT 0x20u
#define PIC_SLAVE_PORT 0xA0u
#define PIC_CASCADE_IRQ 2
#define PIC_ELCR_PORT 0x4D0u /* 0x4D0 master, 0x4D1 slave */

enum { PIC_MASTER = 0, PIC_SLAVE = 1 };

/* One 8259A. `index` says which half of the pair it is, so port handlers find the pair. */
typedef struct pic_chip {
    uint8_t index;       /* PIC_MASTER or PIC_SLAVE */
    uint8_t irr;         /* interrupt requests latched, waiting for acknowledge */
    uint8_t isr;         /* interrupts being serviced (acknowledged, no EOI yet) */
    uint8_t imr;         /* masked inputs (OCW1) */
    uint8_t lines;       /* current input levels, for edge detection */
    uint8_t vector_base; /* ICW2, low 3 bits clear */
    uint8_t init_step;   /* 0: operational; 2, 3, 4: the next port-1 write is that ICW */
    bool icw4_expected;
    bool single;         /* ICW1 SNGL: no cascade */
    bool auto_eoi;       /* ICW4 AEOI */
    bool read_isr;       /* OCW3: port-0 reads return ISR (else IRR) */
    bool poll;           /* OCW3 poll: the next port-0 read is a poll */
    uint8_t icw3;        /* stored, unused: the wiring is fixed */
    uint8_t icw4;        /* stored as written, for inspection */
    uint8_t elcr;        /* inputs that are level-triggered (ELCR) */
} pic_chip;

typedef struct pic {
    pic_chip chip[2];
} pic;

/* Power-on state as a PC BIOS leaves it: master vectors 0x08-0x0F, slave 0x70-0x77, cascade,
 * 8086 mode, edge triggered, every input masked except the master's cascade input. */
void pic_init(pic *p);

/* Port handlers for one chip (opaque = &p->chip[PIC_MASTER] or &p->chip[PIC_SLAVE]);
 * offset 0 is the command port, 1 the data port; other offsets read 0xFF and ignore writes. */
uint32_t pic_read(void *opaque, uint16_t offset, int size);
void pic_write(void *opaque, uint16_t offset, int size, uint32_t value);

/* The ELCR pair (emu/dev_pic.c at 0x4D0/0x4D1): `chip` 0 master, 1 slave. */
uint8_t pic_elcr_read(const pic *p, int chip);
void pic_elcr_write(pic *p, int chip, uint8_t value);

/* Set the level of ISA IRQ 0..15; a rising edge latches the request (a level-triggered input
 * requests while high). IRQ 2 is the cascade
 * input and out-of-range numbers are ignored (ISA devices wired to "IRQ 2" use IRQ 9). */
void pic_set_irq(pic *p, int irq, int level);

/* An edge on an edge-triggered input from a source of its own (the VMI alarm on IRQ 0):
 * latches the request whatever level the input's other source (the PIT) holds, which it leaves
 * as it is. On a level-triggered input it does nothing: a pulse has no level to hold. */
void pic_pulse_irq(pic *p, int irq);

/* An irq_line that drives pic_set_irq(p, irq, level). */
irq_line pic_irq_line(pic *p, int irq);

/* Is ISA IRQ `irq` masked on its way to the CPU (its chip's IMR bit; for 8..15 also the master's
 * cascade input)? An edge there would not reach the CPU now. */
bool pic_irq_masked(const pic *p, int irq);

/* Is the master asserting INTR: a latched, unmasked request not blocked by one in service? */
bool pic_has_interrupt(const pic *p);

/* The INTA cycle: the vector to deliver, moving the request from IRR to ISR (not with
 * auto-EOI) on the master and, for IRQ 2, on the slave. If nothing is pending the master
 * answers its IRQ 7 vector (spurious) without setting ISR; if the master acknowledges IRQ 2
 * but the slave has nothing, the slave answers its IRQ 15 vector and only the master's ISR
 * bit 2 is set, so the guest must send the master an EOI, as on real hardware. */
int pic_acknowledge(pic *p);

/* Write the state field by field (emu/state_ser.h). */
void pic_serialise(const pic *p, state_writer *w);

#endif

/* The two 8259A interrupt controllers of a PC (master at 0x20, slave at 0xA0, cascaded on
 * master input 2). Used the same way with and without a ROM: VMI has no PIC calls. */
#ifndef TK_PIC_H
#define TK_PIC_H

#include <stdint.h>

#define PIC_VECTOR_BASE 0x20 /* IRQ n arrives at vector 0x20 + n */
#define PIC_IRQ_TIMER 0

/* Remap: ICW1 0x11 (edge, cascade, ICW4), ICW2 vector base (0x20 / 0x28), ICW3 (master:
 * slave on input 2; slave: id 2), ICW4 0x01 (8086 mode, normal EOI); then mask every IRQ
 * whose bit is clear in `unmasked` (bit n = IRQ n; any slave IRQ also opens IRQ 2). */
void pic_init(uint16_t unmasked);

/* OCW1: the new set of unmasked IRQs (same rule as pic_init). */
void pic_set_unmasked(uint16_t unmasked);

/* Non-specific EOI (OCW2 0x20) for `irq`: to the slave too when irq >= 8. */
void pic_eoi(unsigned irq);

#endif

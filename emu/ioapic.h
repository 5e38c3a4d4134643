/* The I/O APIC (Intel 82093AA) at 0xFEC00000: 24 interrupt input pins, each with a redirection
 * entry that turns the pin's signal into an interrupt message to the local APIC.
 *
 * Modelled: the indirect register window (IOREGSEL at +0x00, IOWIN at +0x10), the ID register
 * (bits 24-27 writable), the version register (0x00170011: version 0x11, 24 entries), the
 * arbitration ID (reads the ID, read-only), and the 24 redirection entries: vector, delivery
 * mode, physical or logical destination (matched against the one local APIC,
 * apic_is_destination), polarity (stored only: pins are active high), edge or level trigger,
 * mask, and the read-only delivery status (always idle) and remote IRR. An edge entry sends on
 * a rising edge of its pin, and a masked one ignores the edge (as the 82093AA does). A level
 * entry sends while its pin is high and remote IRR is clear, sets remote IRR, and sends again
 * after the local APIC broadcasts the EOI of its vector (ioapic_eoi) if the pin is still high;
 * unmasking it with the pin high sends it. Fixed and lowest-priority entries set the vector in
 * the local APIC's IRR (its TMR bit for level entries), NMI entries make an NMI pending.
 * Not modelled: SMI, INIT and ExtINT delivery (ignored), active-low polarity, the EOI register
 * of version 0x20 IO-APICs.
 *
 * Plain data without pointers. The pins are the machine's GSIs 0-23; ISA IRQ n drives GSI n,
 * except IRQ 0 (the PIT), which drives GSI 2 (the MADT says so with an interrupt source
 * override, as on a PC). */
#ifndef VMIEMU_IOAPIC_H
#define VMIEMU_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "emu/apic.h"
#include "emu/state_ser.h"

#define IOAPIC_BASE 0xFEC00000ull
#define IOAPIC_SIZE 0x1000ull
#define IOAPIC_PINS 24
#define IOAPIC_VERSION 0x00170011u /* max redirection entry 23, version 0x11 */

/* Redirection entry bits (low word). */
#define IOAPIC_RTE_LOGICAL 0x800u
#define IOAPIC_RTE_REMOTE_IRR 0x4000u
#define IOAPIC_RTE_LEVEL 0x8000u
#define IOAPIC_RTE_MASKED 0x10000u

typedef struct ioapic {
    uint32_t id;              /* ID register: bits 24-27 */
    uint32_t select;          /* IOREGSEL */
    uint64_t redir[IOAPIC_PINS];
    uint32_t pins;            /* the level of each input pin, bit n for pin n */
} ioapic;

/* Reset: ID ACPI_IOAPIC_ID (what the MADT says), every entry masked (and otherwise zero), every pin low. */
void ioapic_init(ioapic *io);

/* A 32-bit access at `offset` in the MMIO page (IOREGSEL at 0, IOWIN at 0x10; anything else
 * reads 0 and ignores writes). Writes may send interrupts to `lapic`. */
uint32_t ioapic_read(const ioapic *io, uint32_t offset);
void ioapic_write(ioapic *io, apic *lapic, uint32_t offset, uint32_t value);

/* Drive input `pin` to `level` (0 low, else high). */
void ioapic_set_irq(ioapic *io, apic *lapic, int pin, int level);

/* The local APIC broadcast the EOI of a level-triggered `vector`: clear remote IRR of the
 * level entries with that vector, and send again where the pin is still high. */
void ioapic_eoi(ioapic *io, apic *lapic, uint8_t vector);

/* Is `pin`'s entry masked? */
bool ioapic_pin_masked(const ioapic *io, int pin);

void ioapic_serialise(const ioapic *io, state_writer *w);

#endif

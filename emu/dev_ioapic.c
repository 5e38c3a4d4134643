/* The IO-APIC (emu/ioapic.h) as the machine's device: its page at 0xFEC00000. Its pins are
 * the machine's GSIs (machine_gsi, machine_isa_irq_line in machine_irq.c); it sends into the
 * local APIC, which the CPU asks for interrupts, so it is no interrupt controller of its own
 * in the table. */
#include "emu/machine.h"

static uint32_t mmio_read(machine *m, uint64_t offset, unsigned size)
{
    (void)size;
    return ioapic_read(&m->ioapic, (uint32_t)(offset & ~3ull)) >> (8 * (offset & 3));
}

static void mmio_write(machine *m, uint64_t offset, unsigned size, uint32_t value)
{
    if (size == 1 && offset == 0) /* IOREGSEL is an 8-bit register: a byte write selects */
        ioapic_write(&m->ioapic, &m->lapic, 0, value & 0xFF);
    else if (!(offset & 3))
        ioapic_write(&m->ioapic, &m->lapic, (uint32_t)offset, value);
}

static void reset(machine *m) { ioapic_init(&m->ioapic); }

static void serialise(const machine *m, state_writer *w) { ioapic_serialise(&m->ioapic, w); }

const device dev_ioapic = {
    .name = "ioapic",
    .reset = reset,
    /* a redirection entry unmasked with its pin high sends at once */
    .mmio = {IOAPIC_BASE, IOAPIC_SIZE, mmio_read, mmio_write, true},
    .serialise = serialise,
};

/* pc-testdev (emu/pctestdev.h) as the machine's device. */
#include "emu/pctestdev.h"

#include "emu/machine.h"

#define PORT_DATA 0xE0u       /* the scratch register, 0xE0-0xE3 */
#define PORT_FLUSH 0xE4u      /* flush page, 0xE4-0xE7 */
#define PORT_DATA_BYTES 0xE8u /* the same register in byte accesses, 0xE8-0xEB */
#define PORT_IRQ 0x2000u      /* interrupt line (GSI) n at 0x2000 + n, n < 24 */
#define IRQ_LINES 24u

/* The register read or written at byte (port & 3) for `size` bytes, as QEMU does: 0xE2 with
 * size 2 is its upper half. */
static uint32_t lane_mask(uint16_t port, int size, unsigned *shift)
{
    *shift = 8u * (port & 3u);
    uint64_t mask = size >= 4 ? 0xFFFFFFFFull : (1ull << (8 * size)) - 1;
    return (uint32_t)(mask << *shift);
}

static uint32_t data_read(machine *m, uint16_t port, int size)
{
    if (port >= PORT_FLUSH && port < PORT_FLUSH + 4)
        return 0;
    unsigned shift;
    uint32_t mask = lane_mask(port, size, &shift);
    return (m->testdev.ioport_data & mask) >> shift;
}

static void data_write(machine *m, uint16_t port, int size, uint32_t value)
{
    if (port >= PORT_FLUSH && port < PORT_FLUSH + 4)
        return; /* QEMU drops the host mapping of the page; the guest sees nothing */
    unsigned shift;
    uint32_t mask = lane_mask(port, size, &shift);
    m->testdev.ioport_data = (m->testdev.ioport_data & ~mask) | ((uint32_t)((uint64_t)value << shift) & mask);
}

static uint32_t irq_read(machine *m, uint16_t port, int size)
{
    (void)m, (void)port, (void)size;
    return 0;
}

static void irq_write(machine *m, uint16_t port, int size, uint32_t value)
{
    (void)size;
    machine_gsi(m, (int)(port - PORT_IRQ), value & 0xFF ? 1 : 0); /* 16-23: the IO-APIC's only */
}

static uint32_t ioram_read(machine *m, uint64_t offset, unsigned size)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < size && i < 4; i++)
        if (offset + i < PCTESTDEV_IORAM_KEPT)
            v |= (uint32_t)m->testdev.ioram[offset + i] << (8 * i);
    return v;
}

static void ioram_write(machine *m, uint64_t offset, unsigned size, uint32_t value)
{
    for (unsigned i = 0; i < size && i < 4; i++)
        if (offset + i < PCTESTDEV_IORAM_KEPT)
            m->testdev.ioram[offset + i] = (uint8_t)(value >> (8 * i));
}

static void reset(machine *m) { m->testdev = (pctestdev){0}; }

void pctestdev_serialise(const pctestdev *t, state_writer *w)
{
    state_put_u32(w, t->ioport_data);
    state_put_bytes(w, t->ioram, sizeof t->ioram);
}

static void serialise(const machine *m, state_writer *w) { pctestdev_serialise(&m->testdev, w); }

const device dev_pctestdev = {
    .name = "pc-testdev",
    .reset = reset,
    .ports = {{PORT_DATA, 12, data_read, data_write, false},
              /* a line raised or lowered changes what the PIC or IO-APIC delivers */
              {PORT_IRQ, IRQ_LINES, irq_read, irq_write, true}},
    .mmio = {PCTESTDEV_IORAM_BASE, PCTESTDEV_IORAM_WINDOW, ioram_read, ioram_write, false},
    .serialise = serialise,
};

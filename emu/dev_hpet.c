/* The HPET (emu/hpet.h) as the machine's device: its registers at 0xFED00000, its counter on
 * the machine's cycle count. No interrupts: its timers never fire. */
#include "emu/machine.h"

static uint32_t mmio_read(machine *m, uint64_t offset, unsigned size)
{
    (void)size;
    return hpet_read(&m->hpet, machine_cycles(m), (uint32_t)(offset & ~3ull)) >> (8 * (offset & 3));
}

static void mmio_write(machine *m, uint64_t offset, unsigned size, uint32_t value)
{
    (void)size;
    if (!(offset & 3)) /* partial register writes: ignored */
        hpet_write(&m->hpet, machine_cycles(m), (uint32_t)offset, value);
}

static void reset(machine *m) { hpet_init(&m->hpet, machine_cycle_hz(m)); }

static void serialise(const machine *m, state_writer *w) { hpet_serialise(&m->hpet, w); }

const device dev_hpet = {
    .name = "hpet",
    .reset = reset,
    .mmio = {HPET_BASE, HPET_SIZE, mmio_read, mmio_write, false},
    .serialise = serialise,
};

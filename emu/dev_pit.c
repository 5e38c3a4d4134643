/* The 8254 PIT as the machine's device: ports 0x40-0x43 and the gate/speaker port 0x61; channel
 * 0 drives ISA IRQ 0 (the master PIC's input 0, the IO-APIC's pin 2). */
#include "emu/machine.h"

#define PIT_IRQ 0

static irq_line irq0(machine *m) { return machine_isa_irq_line(m, PIT_IRQ); }

static uint32_t port_read(machine *m, uint16_t port, int size)
{
    (void)size;
    irq_line l = irq0(m);
    if (port == PIT_SPEAKER_PORT)
        return pit_speaker_read(&m->pit, &l, machine_cycles(m));
    return pit_read(&m->pit, &l, machine_cycles(m), (uint16_t)(port - PIT_PORT));
}

static void port_write(machine *m, uint16_t port, int size, uint32_t value)
{
    (void)size;
    irq_line l = irq0(m);
    if (port == PIT_SPEAKER_PORT)
        pit_speaker_write(&m->pit, &l, machine_cycles(m), value);
    else
        pit_write(&m->pit, &l, machine_cycles(m), (uint16_t)(port - PIT_PORT), value);
}

static void reset(machine *m) { pit_init(&m->pit, machine_cycle_hz(m)); }

static uint64_t next_event(machine *m) { return pit_next_event(&m->pit); }

static void advance(machine *m, uint64_t now)
{
    irq_line l = irq0(m);
    pit_advance(&m->pit, &l, now);
}

static bool can_wake(machine *m)
{
    return !machine_isa_irq_masked(m, PIT_IRQ) && pit_next_event(&m->pit) != UINT64_MAX;
}

static void serialise(const machine *m, state_writer *w) { pit_serialise(&m->pit, w); }

const device dev_pit = {
    .name = "pit",
    .reset = reset,
    .ports = {{PIT_PORT, 4, port_read, port_write, true}, {PIT_SPEAKER_PORT, 1, port_read, port_write, true}},
    .next_event = next_event,
    .advance = advance,
    .can_wake = can_wake,
    .serialise = serialise,
};

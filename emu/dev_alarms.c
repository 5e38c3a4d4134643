/* The VMI alarms (the ROM's timer calls, emu/alarm.h) as the machine's device: no ports, two
 * counters, each wired to ISA IRQ 0 (PIC input 0, IO-APIC pin 2) or, with ALARM_WIRE_APIC, to the local APIC's timer
 * vector. */
#include "emu/machine.h"

#define ALARM_IRQ 0

static void reset(machine *m) { alarms_init(&m->alarms); }

static uint64_t next_event(machine *m) { return alarms_next(&m->alarms); }

static void fire(void *ctx, uint32_t flags)
{
    machine *m = ctx;
    if (flags & ALARM_WIRE_APIC) {
        if (!apic_timer_masked(&m->lapic))
            apic_accept(&m->lapic, apic_timer_vector(&m->lapic));
        return;
    }
    /* An edge of its own: Linux parks the PIT in mode 5 (vmi_time_init), whose output then holds
     * IRQ 0 high, and an edge drawn on that shared level would be lost. */
    machine_isa_irq_pulse(m, ALARM_IRQ);
}

static void advance(machine *m, uint64_t now) { alarms_fire_due(&m->alarms, now, fire, m); }

static bool can_wake(machine *m)
{
    for (int i = 0; i < ALARM_COUNTERS; i++) {
        const vmi_alarm *a = &m->alarms.a[i];
        if (a->armed && ((a->flags & ALARM_WIRE_APIC) ? !apic_timer_masked(&m->lapic) : !machine_isa_irq_masked(m, ALARM_IRQ)))
            return true;
    }
    return false;
}

static void serialise(const machine *m, state_writer *w) { alarms_serialise(&m->alarms, w); }

const device dev_alarms = {
    .name = "vmi-alarms",
    .reset = reset,
    .next_event = next_event,
    .advance = advance,
    .can_wake = can_wake,
    .serialise = serialise,
};

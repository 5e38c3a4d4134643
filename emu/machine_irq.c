/* Timers and external interrupts: VMI alarms, the PIT and the APIC timer feed the PIC and the
 * local APIC; the machine delivers what they raise when the CPU's IF allows, and a halted CPU
 * sleeps by jumping virtual time to the next event (no host waiting, fully deterministic). */
#include "emu/machine.h"

#define EFLAGS_IF 0x200u
#define MAX_IDLE_ROUNDS 100000 /* events that fire while halted without anything deliverable */

uint64_t machine_next_event(machine *m)
{
    uint64_t next = alarms_next(&m->alarms), t = pit_next_event(&m->pit);
    if (t < next)
        next = t;
    t = apic_next_event(&m->lapic);
    return t < next ? t : next;
}

static void fire_alarm(void *ctx, uint32_t flags)
{
    machine *m = ctx;
    if (flags & ALARM_WIRE_APIC) {
        if (!apic_timer_masked(&m->lapic))
            apic_accept(&m->lapic, apic_timer_vector(&m->lapic));
        return;
    }
    pic_set_irq(&m->pic, 0, 1); /* an edge on IRQ 0 */
    pic_set_irq(&m->pic, 0, 0);
}

void machine_fire_due(machine *m)
{
    uint64_t now = machine_cycles(m);
    alarms_fire_due(&m->alarms, now, fire_alarm, m);
    irq_line irq0 = pic_irq_line(&m->pic, 0);
    pit_advance(&m->pit, &irq0, now);
    apic_advance(&m->lapic, now);
}

static bool interrupt_pending(const machine *m)
{
    return apic_pending_vector(&m->lapic) >= 0 || pic_has_interrupt(&m->pic);
}

void machine_service_interrupts(machine *m)
{
    vcpu_request_irq_window(m->cpu, false);
    if (m->end != END_RUNNING || !interrupt_pending(m))
        return;
    if (!(vcpu_get(m->cpu, CPU_EFLAGS) & EFLAGS_IF)) {
        vcpu_request_irq_window(m->cpu, true);
        return;
    }
    if (vcpu_in_irq_shadow(m->cpu)) {
        m->step_shadow = true; /* run the instruction after sti first */
        return;
    }
    int vector = apic_pending_vector(&m->lapic) >= 0 ? apic_acknowledge(&m->lapic) : pic_acknowledge(&m->pic);
    uint32_t eip = vcpu_get(m->cpu, CPU_EIP);
    vcpu_event ev = {.vector = (uint32_t)vector, .external = true, .eip = eip, .fault_eip = eip};
    machine_deliver(m, &ev);
}

/* Could any timer that is still running raise an interrupt the CPU would take? */
static bool can_wake(machine *m)
{
    bool irq0_open = !(m->pic.chip[PIC_MASTER].imr & 1);
    for (int i = 0; i < ALARM_COUNTERS; i++) {
        const vmi_alarm *a = &m->alarms.a[i];
        if (a->armed && ((a->flags & ALARM_WIRE_APIC) ? !apic_timer_masked(&m->lapic) : irq0_open))
            return true;
    }
    return (irq0_open && pit_next_event(&m->pit) != UINT64_MAX) || apic_next_event(&m->lapic) != UINT64_MAX;
}

void machine_idle(machine *m)
{
    m->halt_requested = false;
    if (!(vcpu_get(m->cpu, CPU_EFLAGS) & EFLAGS_IF)) {
        machine_end_run(m, END_HALTED, "guest halted with interrupts disabled (nothing can wake it)");
        return;
    }
    for (int round = 0; !interrupt_pending(m); round++) {
        uint64_t next = machine_next_event(m);
        if (!can_wake(m) || next == UINT64_MAX) {
            machine_end_run(m, END_HALTED, "guest halted with no pending events (nothing can wake it)");
            return;
        }
        if (round == MAX_IDLE_ROUNDS) {
            machine_end_run(m, END_HALTED, "guest halted: timer events keep arriving but none can be taken "
                                           "(masked, or waiting for an EOI)");
            return;
        }
        uint64_t now = machine_cycles(m);
        if (next > now)
            m->idle_cycles += next - now; /* sleep: time passes without instructions */
        machine_fire_due(m);
    }
}

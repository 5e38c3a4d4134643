/* Timers and external interrupts, over the device table (emu/device.h): devices with timed
 * events raise interrupts on the lines of the interrupt controllers; the machine delivers what
 * those hold when the CPU's IF allows, and a halted CPU sleeps by jumping virtual time to the
 * next event (no host waiting, fully deterministic). */
#include "emu/machine.h"

#define EFLAGS_IF 0x200u
#define MAX_IDLE_ROUNDS 100000 /* events that fire while halted without anything deliverable */

uint64_t machine_next_event(machine *m)
{
    uint64_t next = UINT64_MAX;
    for (size_t i = 0; i < machine_device_count; i++)
        if (machine_devices[i]->next_event) {
            uint64_t t = machine_devices[i]->next_event(m);
            if (t < next)
                next = t;
        }
    return next;
}

void machine_fire_due(machine *m)
{
    uint64_t now = machine_cycles(m);
    for (size_t i = 0; i < machine_device_count; i++)
        if (machine_devices[i]->advance)
            machine_devices[i]->advance(m, now);
}

/* The first interrupt controller (in table order) with a vector for the CPU, or NULL. */
static const device *interrupt_source(const machine *m)
{
    for (size_t i = 0; i < machine_device_count; i++)
        if (machine_devices[i]->irq_pending && machine_devices[i]->irq_pending(m))
            return machine_devices[i];
    return NULL;
}

/* ISA IRQ n is IO-APIC pin n, except the PIT's IRQ 0 on pin 2. */
static int isa_pin(int irq) { return irq == 0 ? 2 : irq; }

void machine_gsi(machine *m, int gsi, int level)
{
    if (gsi < 16)
        pic_set_irq(&m->pic, gsi, level);
    ioapic_set_irq(&m->ioapic, &m->lapic, isa_pin(gsi), level); /* 0 arrives at pin 2, as in QEMU */
}

static void isa_line_set(void *opaque, int irq, int level)
{
    machine *m = opaque;
    pic_set_irq(&m->pic, irq, level);
    ioapic_set_irq(&m->ioapic, &m->lapic, isa_pin(irq), level);
}

irq_line machine_isa_irq_line(machine *m, int irq) { return (irq_line){isa_line_set, m, irq}; }

bool machine_isa_irq_masked(const machine *m, int irq)
{
    return pic_irq_masked(&m->pic, irq) && ioapic_pin_masked(&m->ioapic, isa_pin(irq));
}

void machine_isa_irq_pulse(machine *m, int irq)
{
    pic_pulse_irq(&m->pic, irq);
    int pin = isa_pin(irq);
    bool high = m->ioapic.pins & (1u << pin);
    if (high)
        ioapic_set_irq(&m->ioapic, &m->lapic, pin, 0);
    ioapic_set_irq(&m->ioapic, &m->lapic, pin, 1);
    if (!high)
        ioapic_set_irq(&m->ioapic, &m->lapic, pin, 0);
}

/* An NMI the CPU can take now: one is pending at the local APIC and no NMI handler runs (NMI
 * blocking, until the next iret). IF does not mask it. */
static bool nmi_deliverable(const machine *m) { return apic_nmi_pending(&m->lapic) && !m->nmi_blocked; }

/* Deliver a pending NMI through IDT vector 2 and block NMIs until the next iret (the CPU
 * reports it: vcpu_watch_iret). Not in the shadow of sti or mov ss. */
static void service_nmi(machine *m)
{
    if (!nmi_deliverable(m))
        return;
    if (vcpu_in_irq_shadow(m->cpu)) {
        m->step_shadow = true; /* run the instruction after sti first */
        return;
    }
    apic_take_nmi(&m->lapic);
    uint32_t eip = vcpu_get(m->cpu, CPU_EIP);
    vcpu_event ev = {.vector = 2, .external = true, .eip = eip, .fault_eip = eip};
    if (machine_deliver(m, &ev)) {
        m->nmi_blocked = true;
        vcpu_watch_iret(m->cpu, true);
    }
}

void machine_nmi_iret(machine *m)
{
    m->nmi_blocked = false;
    vcpu_watch_iret(m->cpu, false);
    if (apic_nmi_pending(&m->lapic))
        vcpu_request_replan(m->cpu); /* stop before the next instruction: it is taken there */
}

void machine_service_interrupts(machine *m)
{
    vcpu_request_irq_window(m->cpu, false);
    if (m->end == END_RUNNING)
        service_nmi(m); /* first, as the CPU prioritises it; an interrupt may follow at once */
    const device *src = interrupt_source(m);
    if (m->end != END_RUNNING || !src)
        return;
    if (!(vcpu_get(m->cpu, CPU_EFLAGS) & EFLAGS_IF)) {
        vcpu_request_irq_window(m->cpu, true);
        return;
    }
    if (vcpu_in_irq_shadow(m->cpu)) {
        m->step_shadow = true; /* run the instruction after sti first */
        return;
    }
    int vector = src->irq_acknowledge(m);
    uint32_t eip = vcpu_get(m->cpu, CPU_EIP);
    vcpu_event ev = {.vector = (uint32_t)vector, .external = true, .eip = eip, .fault_eip = eip};
    machine_deliver(m, &ev);
}

/* Could any device's pending timed event raise an interrupt the CPU would take? */
static bool can_wake(machine *m)
{
    for (size_t i = 0; i < machine_device_count; i++)
        if (machine_devices[i]->can_wake && machine_devices[i]->can_wake(m))
            return true;
    return false;
}

void machine_idle(machine *m)
{
    m->halt_requested = false;
    if (nmi_deliverable(m))
        return; /* an NMI wakes the CPU whatever IF says */
    if (!(vcpu_get(m->cpu, CPU_EFLAGS) & EFLAGS_IF)) {
        machine_end_run(m, END_HALTED, "guest halted with interrupts disabled (nothing can wake it)");
        return;
    }
    for (int round = 0; !interrupt_source(m); round++) {
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

/* The local APIC as the machine's device: its page at 0xFEE00000 (32-bit registers at 16-byte
 * offsets, as the native, non-VMI path uses it), its timer, and the interrupt controller the CPU
 * asks first. */
#include "emu/machine.h"

#define APIC_BASE 0xFEE00000ull
#define APIC_SIZE 0x1000ull

static uint32_t mmio_read(machine *m, uint64_t offset, unsigned size)
{
    (void)size;
    uint32_t v = 0;
    if (!apic_hw_enabled(&m->lapic) || apic_x2apic_mode(&m->lapic))
        return 0xFFFFFFFFu; /* globally disabled or in x2APIC mode: nothing answers */
    if (!apic_read(&m->lapic, machine_cycles(m), (uint32_t)(offset & ~3ull), &v))
        return 0;
    return v >> (8 * (offset & 3));
}

apic_status machine_lapic_write(machine *m, uint32_t offset, uint32_t value)
{
    int level_vector = offset == APIC_EOI && !apic_x2apic_mode(&m->lapic) ? apic_eoi_broadcast_vector(&m->lapic) : -1;
    apic_status st = apic_write(&m->lapic, machine_cycles(m), offset, value);
    if (level_vector >= 0)
        ioapic_eoi(&m->ioapic, &m->lapic, (uint8_t)level_vector);
    return st;
}

apic_status machine_lapic_msr_write(machine *m, uint32_t msr, uint64_t value)
{
    int level_vector = msr == APIC_MSR_X2APIC_EOI && value == 0 ? apic_eoi_broadcast_vector(&m->lapic) : -1;
    apic_status st = apic_x2apic_msr_write(&m->lapic, machine_cycles(m), msr, value);
    if (level_vector >= 0 && st == APIC_OK)
        ioapic_eoi(&m->ioapic, &m->lapic, (uint8_t)level_vector);
    return st;
}

static void mmio_write(machine *m, uint64_t offset, unsigned size, uint32_t value)
{
    (void)size;
    if (offset & 3)
        return; /* partial register writes are undefined on hardware; ignore them */
    (void)machine_lapic_write(m, (uint32_t)offset, value); /* a bad register is only the guest's error */
}

static void reset(machine *m)
{
    apic_init(&m->lapic, 0, machine_cycle_hz(m));
    m->lapic.deadline_ok = m->cfg.cpu_model == VCPU_MODEL_MAX; /* CPUID.1:ECX.TSC_DEADLINE */
    m->lapic.x2apic_ok = m->cfg.cpu_model == VCPU_MODEL_MAX;   /* CPUID.1:ECX.x2APIC */
}

static uint64_t next_event(machine *m) { return apic_next_event(&m->lapic); }

static void advance(machine *m, uint64_t now) { apic_advance(&m->lapic, now); }

/* A running timer counts as able to wake the CPU, whatever its LVT mask. */
static bool can_wake(machine *m) { return apic_next_event(&m->lapic) != UINT64_MAX; }

static bool pending(const machine *m) { return apic_pending_vector(&m->lapic) >= 0; }

static int acknowledge(machine *m) { return apic_acknowledge(&m->lapic); }

static void serialise(const machine *m, state_writer *w) { apic_serialise(&m->lapic, w); }

const device dev_lapic = {
    .name = "lapic",
    .reset = reset,
    /* EOI or the timer may change what can be delivered */
    .mmio = {APIC_BASE, APIC_SIZE, mmio_read, mmio_write, true},
    .next_event = next_event,
    .advance = advance,
    .can_wake = can_wake,
    .irq_pending = pending,
    .irq_acknowledge = acknowledge,
    .serialise = serialise,
};

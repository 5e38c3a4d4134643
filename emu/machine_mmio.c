/* Physical addresses above RAM: the local APIC's page at 0xFEE00000 and, everywhere else, an
 * open bus as on a PC (reads all ones, writes go nowhere), each access logged. */
#include "emu/machine.h"

#define APIC_BASE 0xFEE00000ull
#define APIC_SIZE 0x1000ull
#define TOP (1ull << 32)

static void log_access(machine *m, uint64_t addr, int access)
{
    vm_event ev = {0};
    ev.kind = EV_MEMORY;
    ev.icount = machine_insns(m);
    ev.eip = vcpu_get(m->cpu, CPU_EIP);
    ev.args[0] = (uint32_t)addr;
    ev.args[1] = (uint32_t)access;
    machine_log(m, &ev);
}

static uint32_t bus_read(void *opaque, uint64_t offset, unsigned size)
{
    machine_open_bus *b = opaque;
    log_access(b->m, b->base + offset, 'r');
    return size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
}

static void bus_write(void *opaque, uint64_t offset, unsigned size, uint32_t value)
{
    (void)size;
    (void)value;
    machine_open_bus *b = opaque;
    log_access(b->m, b->base + offset, 'w');
}

/* The APIC page: 32-bit registers at 16-byte offsets, as the native (non-VMI) path uses it. */
static uint32_t apic_mmio_read(void *opaque, uint64_t offset, unsigned size)
{
    (void)size;
    machine *m = opaque;
    uint32_t v = 0;
    if (!apic_read(&m->lapic, machine_cycles(m), (uint32_t)(offset & ~3ull), &v))
        return 0;
    return v >> (8 * (offset & 3));
}

static void apic_mmio_write(void *opaque, uint64_t offset, unsigned size, uint32_t value)
{
    (void)size;
    machine *m = opaque;
    if (offset & 3)
        return; /* partial register writes are undefined on hardware; ignore them */
    apic_write(&m->lapic, machine_cycles(m), (uint32_t)offset, value);
    vcpu_request_replan(m->cpu); /* EOI or the timer may change what can be delivered */
}

bool machine_map_high_memory(machine *m, vm_error *err)
{
    m->open_bus[0] = (machine_open_bus){m, m->mem.size};
    m->open_bus[1] = (machine_open_bus){m, APIC_BASE + APIC_SIZE};
    return vcpu_map_mmio(m->cpu, m->open_bus[0].base, APIC_BASE - m->open_bus[0].base, bus_read, bus_write,
                         &m->open_bus[0], err) &&
           vcpu_map_mmio(m->cpu, APIC_BASE, APIC_SIZE, apic_mmio_read, apic_mmio_write, m, err) &&
           vcpu_map_mmio(m->cpu, m->open_bus[1].base, TOP - m->open_bus[1].base, bus_read, bus_write,
                         &m->open_bus[1], err);
}

/* Physical addresses above RAM: the local APIC's page at 0xFEE00000 and, everywhere else, an
 * open bus as on a PC (reads all ones, writes go nowhere), each access logged. */
#include "emu/machine.h"

#define APIC_BASE 0xFEE00000ull
#define APIC_SIZE 0x1000ull
#define TOP (1ull << 32)

typedef struct open_bus {
    machine *m;
    uint64_t base;
} open_bus;

static void log_access(machine *m, uint64_t addr, int access)
{
    vm_event ev = {0};
    ev.kind = EV_MEMORY;
    ev.icount = machine_insns(m);
    ev.eip = vcpu_get(m->cpu, CPU_EIP);
    ev.args[0] = (uint32_t)addr;
    ev.args[1] = (uint32_t)access;
    evlog_add(&m->log, &ev);
}

static uint32_t bus_read(void *opaque, uint64_t offset, unsigned size)
{
    machine *m = opaque;
    log_access(m, m->mem.size + offset, 'r');
    return size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
}

static void bus_write(void *opaque, uint64_t offset, unsigned size, uint32_t value)
{
    (void)size;
    (void)value;
    machine *m = opaque;
    log_access(m, m->mem.size + offset, 'w');
}

static uint32_t high_read(void *opaque, uint64_t offset, unsigned size)
{
    machine *m = opaque;
    log_access(m, APIC_BASE + APIC_SIZE + offset, 'r');
    return size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
}

static void high_write(void *opaque, uint64_t offset, unsigned size, uint32_t value)
{
    (void)size;
    (void)value;
    machine *m = opaque;
    log_access(m, APIC_BASE + APIC_SIZE + offset, 'w');
}

/* The APIC page: 32-bit registers at 16-byte offsets, as the native (non-VMI) path uses it. */
static uint32_t apic_mmio_read(void *opaque, uint64_t offset, unsigned size)
{
    (void)size;
    machine *m = opaque;
    uint32_t v = 0;
    if (!apic_read(&m->lapic, (uint32_t)(offset & ~3ull), &v))
        return 0;
    return v >> (8 * (offset & 3));
}

static void apic_mmio_write(void *opaque, uint64_t offset, unsigned size, uint32_t value)
{
    (void)size;
    machine *m = opaque;
    if (offset & 3)
        return; /* partial register writes are undefined on hardware; ignore them */
    apic_write(&m->lapic, (uint32_t)offset, value);
    vcpu_request_stop(m->cpu); /* EOI or the timer may change what can be delivered */
}

bool machine_map_high_memory(machine *m, vm_error *err)
{
    return vcpu_map_mmio(m->cpu, m->mem.size, APIC_BASE - m->mem.size, bus_read, bus_write, m, err) &&
           vcpu_map_mmio(m->cpu, APIC_BASE, APIC_SIZE, apic_mmio_read, apic_mmio_write, m, err) &&
           vcpu_map_mmio(m->cpu, APIC_BASE + APIC_SIZE, TOP - APIC_BASE - APIC_SIZE, high_read, high_write, m, err);
}

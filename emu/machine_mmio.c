/* Physical addresses above RAM: the devices' MMIO ranges (emu/device.h; the local APIC's page)
 * and, everywhere else, an open bus as on a PC (reads all ones, writes go nowhere), each access
 * logged. */
#include "emu/machine.h"

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

static uint32_t slot_read(void *opaque, uint64_t offset, unsigned size)
{
    machine_mmio_slot *s = opaque;
    if (s->dev)
        return s->dev->read(s->m, offset, size);
    log_access(s->m, s->base + offset, 'r');
    return size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
}

static void slot_write(void *opaque, uint64_t offset, unsigned size, uint32_t value)
{
    machine_mmio_slot *s = opaque;
    if (s->dev) {
        s->dev->write(s->m, offset, size, value);
        if (s->dev->affects_interrupts)
            vcpu_request_replan(s->m->cpu);
        return;
    }
    log_access(s->m, s->base + offset, 'w');
}

static bool map_slot(machine *m, int *n, uint64_t base, uint64_t size, const device_mmio *dev, vm_error *err)
{
    if (size == 0)
        return true;
    if (*n == MACHINE_MMIO_SLOTS)
        return vm_fail(err, VM_EINVAL, "too many MMIO ranges above RAM");
    machine_mmio_slot *s = &m->mmio[(*n)++];
    *s = (machine_mmio_slot){m, dev, base};
    return vcpu_map_mmio(m->cpu, base, size, slot_read, slot_write, s, err);
}

bool machine_map_high_memory(machine *m, vm_error *err)
{
    int n = 0;
    uint64_t at = m->mem.size; /* mapped up to here */
    for (;;) {
        const device_mmio *next = NULL; /* the lowest device range not yet mapped */
        for (size_t i = 0; i < machine_device_count; i++) {
            const device_mmio *r = &machine_devices[i]->mmio;
            if (r->size && r->base >= at && (!next || r->base < next->base))
                next = r;
        }
        if (!next)
            return map_slot(m, &n, at, TOP - at, NULL, err);
        if (!map_slot(m, &n, at, next->base - at, NULL, err) || !map_slot(m, &n, next->base, next->size, next, err))
            return false;
        at = next->base + next->size;
    }
}

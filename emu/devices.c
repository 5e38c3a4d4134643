/* The machine's devices: the one list the machine iterates (emu/device.h). Order matters:
 * devices advance in it (the VMI alarms before the PIT, as both may drive IRQ 0), interrupt
 * controllers are asked in it (the local APIC before the PIC), and the state digest takes the
 * devices in it. */
#include "emu/device.h"

#include <stdio.h>

extern const device dev_alarms, dev_pit, dev_lapic, dev_ioapic, dev_pic, dev_com1, dev_rtc, dev_exitport, dev_post, dev_acpi,
    dev_kbc, dev_port92, dev_pci, dev_fwcfg, dev_pctestdev, dev_hpet, dev_marker, dev_vga;

const device *const machine_devices[] = {
    &dev_alarms, &dev_pit, &dev_lapic, &dev_ioapic, &dev_pic, &dev_com1, &dev_rtc, &dev_exitport, &dev_post, &dev_acpi, &dev_kbc,
    &dev_port92, &dev_pci, &dev_fwcfg, &dev_pctestdev, &dev_hpet, &dev_marker, &dev_vga,
};

const size_t machine_device_count = sizeof machine_devices / sizeof machine_devices[0];

const device_ports *device_find_port(uint16_t port, const device **owner)
{
    for (size_t i = 0; i < machine_device_count; i++) {
        const device *d = machine_devices[i];
        for (const device_ports *r = d->ports; r < d->ports + DEVICE_MAX_PORTS && r->len; r++)
            if ((uint16_t)(port - r->base) < r->len) {
                if (owner)
                    *owner = d;
                return r;
            }
    }
    return NULL;
}

static bool overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen) { return a < b + blen && b < a + alen; }

bool device_table_check(char *why, size_t why_len)
{
    for (size_t i = 0; i < machine_device_count; i++) {
        const device *d = machine_devices[i];
        for (size_t j = i; j < machine_device_count; j++) {
            const device *e = machine_devices[j];
            for (int a = 0; a < DEVICE_MAX_PORTS && d->ports[a].len; a++)
                for (int b = i == j ? a + 1 : 0; b < DEVICE_MAX_PORTS && e->ports[b].len; b++)
                    if (overlap(d->ports[a].base, d->ports[a].len, e->ports[b].base, e->ports[b].len)) {
                        unsigned first = d->ports[a].base > e->ports[b].base ? d->ports[a].base : e->ports[b].base;
                        snprintf(why, why_len, "device table: %s and %s both claim port 0x%x", d->name, e->name, first);
                        return false;
                    }
            if (j > i && d->mmio.size && e->mmio.size &&
                overlap(d->mmio.base, d->mmio.size, e->mmio.base, e->mmio.size)) {
                uint64_t first = d->mmio.base > e->mmio.base ? d->mmio.base : e->mmio.base;
                snprintf(why, why_len, "device table: %s and %s both claim MMIO at 0x%llx", d->name, e->name,
                         (unsigned long long)first);
                return false;
            }
        }
    }
    return true;
}

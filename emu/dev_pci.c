/* PCI configuration mechanism #1 and the host bridge (emu/pci.h) as the machine's device:
 * ports 0xCF8-0xCFF; the reset control register's bit 2 (0xCF9) ends the run as a reboot. */
#include "emu/machine.h"

static uint32_t port_read(machine *m, uint16_t port, int size)
{
    return pci_read(&m->pci, (uint16_t)(port - PCI_CONFIG_PORT), size);
}

static void port_write(machine *m, uint16_t port, int size, uint32_t value)
{
    if (pci_write(&m->pci, (uint16_t)(port - PCI_CONFIG_PORT), size, value))
        machine_end_run(m, END_REBOOT, "guest reset the CPU (reset control register 0xCF9 bit 2)");
}

static void reset(machine *m) { pci_init(&m->pci); }

static void serialise(const machine *m, state_writer *w) { pci_serialise(&m->pci, w); }

const device dev_pci = {
    .name = "pci",
    .reset = reset,
    .ports = {{PCI_CONFIG_PORT, PCI_CONFIG_PORTS, port_read, port_write, false}},
    .serialise = serialise,
};

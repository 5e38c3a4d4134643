/* The PC platform devices around the CPU that a kernel probes at boot: the keyboard controller
 * (emu/i8042.c), system control port A (emu/port92.c) and PCI configuration (emu/pci.c). Each
 * is plain data in machine_state; these wrappers give them the machine's interrupt lines and
 * turn their reset lines into the end of the run (END_REBOOT, which --reboot-restarts turns
 * into a power-on, as VMI Reboot does). */
#include "emu/machine.h"

static i8042_irqs kbc_irqs(machine *m)
{
    return (i8042_irqs){pic_irq_line(&m->pic, I8042_KBD_IRQ), pic_irq_line(&m->pic, I8042_AUX_IRQ)};
}

static void reset_line(machine *m, bool pulled, const char *how)
{
    if (pulled)
        machine_end_run(m, END_REBOOT, "guest reset the CPU (%s)", how);
}

static uint32_t kbc_data_read(void *opaque, uint16_t offset, int size)
{
    (void)offset, (void)size;
    machine *m = opaque;
    i8042_irqs irqs = kbc_irqs(m);
    return i8042_read_data(&m->kbc, &irqs);
}

static void kbc_data_write(void *opaque, uint16_t offset, int size, uint32_t value)
{
    (void)offset, (void)size;
    machine *m = opaque;
    i8042_irqs irqs = kbc_irqs(m);
    reset_line(m, i8042_write_data(&m->kbc, &irqs, (uint8_t)value) == I8042_RESET,
               "keyboard controller output port, bit 0 low");
}

static uint32_t kbc_status_read(void *opaque, uint16_t offset, int size)
{
    (void)offset, (void)size;
    return i8042_read_status(&((machine *)opaque)->kbc);
}

static void kbc_command_write(void *opaque, uint16_t offset, int size, uint32_t value)
{
    (void)offset, (void)size;
    machine *m = opaque;
    i8042_irqs irqs = kbc_irqs(m);
    reset_line(m, i8042_write_command(&m->kbc, &irqs, (uint8_t)value) == I8042_RESET,
               "keyboard controller reset line, 0xFE to port 0x64");
}

static uint32_t sysctl_read(void *opaque, uint16_t offset, int size)
{
    (void)offset, (void)size;
    return port92_read(&((machine *)opaque)->sysctl);
}

static void sysctl_write(void *opaque, uint16_t offset, int size, uint32_t value)
{
    (void)offset, (void)size;
    machine *m = opaque;
    reset_line(m, port92_write(&m->sysctl, (uint8_t)value), "port 0x92 bit 0");
}

static uint32_t pci_port_read(void *opaque, uint16_t offset, int size)
{
    return pci_read(&((machine *)opaque)->pci, offset, size);
}

static void pci_port_write(void *opaque, uint16_t offset, int size, uint32_t value)
{
    machine *m = opaque;
    reset_line(m, pci_write(&m->pci, offset, size, value), "reset control register 0xCF9 bit 2");
}

void machine_platform_reset(machine *m)
{
    i8042_init(&m->kbc);
    port92_init(&m->sysctl);
    pci_init(&m->pci);
}

bool machine_platform_register(machine *m)
{
    return iobus_register(&m->io, I8042_DATA_PORT, 1, m, kbc_data_read, kbc_data_write) &&
           iobus_register(&m->io, I8042_COMMAND_PORT, 1, m, kbc_status_read, kbc_command_write) &&
           iobus_register(&m->io, PORT92_PORT, 1, m, sysctl_read, sysctl_write) &&
           iobus_register(&m->io, PCI_CONFIG_PORT, PCI_CONFIG_PORTS, m, pci_port_read, pci_port_write);
}

size_t machine_key_input(machine *m, const uint8_t *bytes, size_t n)
{
    i8042_irqs irqs = kbc_irqs(m);
    size_t taken = i8042_kbd_push(&m->kbc, &irqs, bytes, n);
    if (m->cpu)
        vcpu_request_replan(m->cpu); /* a byte may raise IRQ 1 */
    return taken;
}

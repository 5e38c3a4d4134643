/* The keyboard controller (emu/i8042.h) as the machine's device: data port 0x60, status and
 * command port 0x64, ISA IRQ 1 and IRQ 12 (PIC and IO-APIC). Its reset line ends the run as a reboot. */
#include "emu/machine.h"

static i8042_irqs lines(machine *m)
{
    return (i8042_irqs){machine_isa_irq_line(m, I8042_KBD_IRQ), machine_isa_irq_line(m, I8042_AUX_IRQ)};
}

static void reset_line(machine *m, i8042_effect e, const char *how)
{
    if (e == I8042_RESET)
        machine_end_run(m, END_REBOOT, "guest reset the CPU (keyboard controller %s)", how);
}

static uint32_t port_read(machine *m, uint16_t port, int size)
{
    (void)size;
    if (port == I8042_COMMAND_PORT)
        return i8042_read_status(&m->kbc);
    i8042_irqs irqs = lines(m);
    /* Taking the byte can move the next one in and raise its interrupt: re-plan, as a write to
     * an affects_interrupts range does. */
    vcpu_request_replan(m->cpu);
    return i8042_read_data(&m->kbc, &irqs);
}

static void port_write(machine *m, uint16_t port, int size, uint32_t value)
{
    (void)size;
    i8042_irqs irqs = lines(m);
    if (port == I8042_COMMAND_PORT)
        reset_line(m, i8042_write_command(&m->kbc, &irqs, (uint8_t)value), "reset line, 0xFE to port 0x64");
    else
        reset_line(m, i8042_write_data(&m->kbc, &irqs, (uint8_t)value), "output port, bit 0 low");
}

size_t machine_key_input(machine *m, const uint8_t *bytes, size_t n)
{
    i8042_irqs irqs = lines(m);
    size_t taken = i8042_kbd_push(&m->kbc, &irqs, bytes, n);
    if (m->cpu)
        vcpu_request_replan(m->cpu); /* a byte may raise IRQ 1 */
    return taken;
}

static void reset(machine *m) { i8042_init(&m->kbc); }

static void serialise(const machine *m, state_writer *w) { i8042_serialise(&m->kbc, w); }

const device dev_kbc = {
    .name = "kbc",
    .reset = reset,
    .ports = {{I8042_DATA_PORT, 1, port_read, port_write, true}, {I8042_COMMAND_PORT, 1, port_read, port_write, true}},
    .serialise = serialise,
};

/* System control port A (emu/port92.h) as the machine's device: port 0x92; bit 0 rising ends
 * the run as a reboot. */
#include "emu/machine.h"

static uint32_t port_read(machine *m, uint16_t port, int size)
{
    (void)port, (void)size;
    return port92_read(&m->sysctl);
}

static void port_write(machine *m, uint16_t port, int size, uint32_t value)
{
    (void)port, (void)size;
    if (port92_write(&m->sysctl, (uint8_t)value))
        machine_end_run(m, END_REBOOT, "guest reset the CPU (port 0x92 bit 0)");
}

static void reset(machine *m) { port92_init(&m->sysctl); }

static void serialise(const machine *m, state_writer *w) { port92_serialise(&m->sysctl, w); }

const device dev_port92 = {
    .name = "port92",
    .reset = reset,
    .ports = {{PORT92_PORT, 1, port_read, port_write, false}},
    .serialise = serialise,
};

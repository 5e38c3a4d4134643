/* QEMU's isa-debug-exit at 0xF4: a write ends the run, and the process exits with
 * (value << 1) | 1. No state. */
#include "emu/machine.h"

static uint32_t port_read(machine *m, uint16_t port, int size)
{
    (void)m, (void)port, (void)size;
    return 0xFFFFFFFFu;
}

static void port_write(machine *m, uint16_t port, int size, uint32_t value)
{
    (void)port, (void)size;
    m->exit_value = value; /* already masked to the access size */
    machine_end_run(m, END_EXIT_PORT, "guest wrote 0x%x to the exit port", value);
}

const device dev_exitport = {
    .name = "debug-exit",
    .ports = {{MACHINE_EXIT_PORT, 4, port_read, port_write, false}},
};

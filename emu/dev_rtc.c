/* The CMOS clock and RAM (emu/cmos.h) as the machine's device: ports 0x70-0x71, the guest wall
 * clock from the cycle count. */
#include "emu/machine.h"

static uint32_t port_read(machine *m, uint16_t port, int size)
{
    (void)size;
    return cmos_read(&m->rtc, machine_wall_ns(m), (uint16_t)(port - CMOS_PORT));
}

static void port_write(machine *m, uint16_t port, int size, uint32_t value)
{
    (void)size;
    cmos_write(&m->rtc, (uint16_t)(port - CMOS_PORT), value);
}

static void init(machine *m) { cmos_init(&m->rtc); }

static void serialise(const machine *m, state_writer *w) { cmos_serialise(&m->rtc, w); }

/* No reset: the CMOS RAM is battery-backed. */
const device dev_rtc = {
    .name = "rtc",
    .init = init,
    .ports = {{CMOS_PORT, 2, port_read, port_write, false}},
    .serialise = serialise,
};

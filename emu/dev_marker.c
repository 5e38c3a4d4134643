/* Guest markers at MARKER_PORT (emu/evlog.h): a 32-bit write of the linear address of a
 * NUL-terminated name logs an EV_MARKER event naming that moment, which the log, the record,
 * the timeline (--trace-out), `calls` and `goto marker NAME` show. The name is read through the
 * guest's own page tables, as a supervisor read would go, and never written: no guest state
 * changes, so a run with markers takes the same path as one without. An unreadable byte ends
 * the name (an empty name is still a marker). Only a 32-bit write to MARKER_PORT itself is a
 * marker: an 8- or 16-bit write, or one to the port's other three bytes, is logged as a write
 * to an unknown port and ignored (its value is no address). Reads give all ones, like an
 * absent device. No state. */
#include "emu/machine.h"

static uint32_t port_read(machine *m, uint16_t port, int size)
{
    (void)m, (void)port, (void)size;
    return 0xFFFFFFFFu;
}

static void port_write(machine *m, uint16_t port, int size, uint32_t value)
{
    vm_event ev = {0};
    ev.icount = machine_insns(m);
    ev.eip = vcpu_get(m->cpu, CPU_EIP);
    if (port != MARKER_PORT || size != 4) {
        ev.kind = EV_PORT_OUT;
        ev.num = port;
        ev.args[0] = (uint32_t)size;
        ev.args[1] = value;
        machine_log(m, &ev);
        return;
    }
    char name[EV_MARKER_NAME_MAX];
    size_t n = 0;
    for (; n < sizeof name; n++) /* byte by byte: a name may end just before an unmapped page */
        if (!vcpu_read_linear(m->cpu, value + (uint32_t)n, &name[n], 1) || !name[n])
            break;
    ev.kind = EV_MARKER;
    ev_set_marker_name(&ev, name, n);
    machine_log(m, &ev);
}

const device dev_marker = {
    .name = "marker",
    .ports = {{MARKER_PORT, 4, port_read, port_write, false}},
};

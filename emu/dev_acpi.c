/* The ACPI power-management registers (emu/acpi_pm.h) as the machine's device: ports
 * 0x600-0x60F. The PM timer reads virtual time; power-off and reset end the run as VMI Shutdown
 * and Reboot do; a sleep state vmiemu does not model is logged as a port write nothing acted
 * on, and the guest carries on. */
#include "emu/machine.h"

static uint32_t port_read(machine *m, uint16_t port, int size)
{
    return acpi_pm_read(&m->acpi, (uint16_t)(port - ACPI_PM_BASE), size, machine_cycles(m), machine_cycle_hz(m));
}

static void log_ignored_sleep(machine *m, uint16_t port, int size, uint32_t value)
{
    vm_event ev = {0};
    ev.kind = EV_PORT_OUT;
    ev.num = port;
    ev.icount = machine_insns(m);
    ev.eip = vcpu_get(m->cpu, CPU_EIP);
    ev.args[0] = (uint32_t)size;
    ev.args[1] = value;
    machine_log(m, &ev);
}

static void port_write(machine *m, uint16_t port, int size, uint32_t value)
{
    switch (acpi_pm_write(&m->acpi, (uint16_t)(port - ACPI_PM_BASE), size, value)) {
    case ACPI_PM_NONE:
        break;
    case ACPI_PM_POWER_OFF:
        machine_end_run(m, END_SHUTDOWN, "guest powered off (ACPI sleep state S5: SLP_TYP %u, SLP_EN to PM1a_CNT)",
                        acpi_pm_sleep_type(&m->acpi));
        break;
    case ACPI_PM_SLEEP:
        log_ignored_sleep(m, port, size, value);
        break;
    case ACPI_PM_RESET:
        machine_end_run(m, END_REBOOT, "guest reset the machine (ACPI reset register: 0x%02x to port 0x%x)",
                        ACPI_RESET_VALUE, ACPI_PM_BASE + ACPI_RESET_OFF);
        break;
    }
}

static void reset(machine *m) { acpi_pm_init(&m->acpi); }

static void serialise(const machine *m, state_writer *w) { acpi_pm_serialise(&m->acpi, w); }

const device dev_acpi = {
    .name = "acpi-pm",
    .reset = reset,
    .ports = {{ACPI_PM_BASE, ACPI_PM_LEN, port_read, port_write, false}},
    .serialise = serialise,
};

/* COM1 (emu/uart.h) as the machine's device: ports 0x3F8-0x3FF, ISA IRQ 4 (the master PIC's
 * input 4, the IO-APIC's pin 4); transmitted bytes go to the frontend's serial sink. */
#include "emu/machine.h"

#include <string.h>

static irq_line com1_irq(machine *m) { return machine_isa_irq_line(m, UART_COM1_IRQ); }

static uint32_t port_read(machine *m, uint16_t port, int size)
{
    (void)size;
    irq_line l = com1_irq(m);
    return uart_read(&m->com1, &l, (uint16_t)(port - UART_COM1));
}

/* No range is flagged affects_interrupts: the UART asks for a re-plan itself, only when a write
 * raises its line (a rising edge latches IRQ 4), so polled output costs no stop per byte. */
static void port_write(machine *m, uint16_t port, int size, uint32_t value)
{
    (void)size;
    irq_line l = com1_irq(m);
    bool was_raised = m->com1.irq_level;
    int tx = uart_write(&m->com1, &l, (uint16_t)(port - UART_COM1), value);
    if (!was_raised && m->com1.irq_level && m->cpu)
        vcpu_request_replan(m->cpu);
    if (tx != UART_NO_TX && m->serial_out)
        m->serial_out(m->serial_ctx, (uint8_t)tx);
}

/* COM1's half of machine_host_input: the UART's input queue takes what fits. */
size_t machine_serial_input(machine *m, const uint8_t *bytes, size_t n)
{
    irq_line l = com1_irq(m);
    return uart_push_input(&m->com1, &l, bytes, n);
}

/* Every power-on, reboots too: the chip as at power-on, input the guest had not read dropped.
 * Its line is low, as the PIC, reset by the same power-on, has all its inputs. */
static void reset(machine *m) { uart_init(&m->com1); }

static void serialise(const machine *m, state_writer *w) { uart_serialise(&m->com1, w); }

const device dev_com1 = {
    .name = "com1",
    .reset = reset,
    .ports = {{UART_COM1, 8, port_read, port_write, false}},
    .serialise = serialise,
};

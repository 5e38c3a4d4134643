/* COM1 (emu/uart.h) as the machine's device: ports 0x3F8-0x3FF, ISA IRQ 4 (the master PIC's
 * input 4); transmitted bytes go to the frontend's serial sink. */
#include "emu/machine.h"

#include <string.h>

static irq_line com1_irq(machine *m) { return pic_irq_line(&m->pic, UART_COM1_IRQ); }

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

/* Host input (or a replayed record's) reaches the guest here, logged in chunks of 16 bytes. */
void machine_serial_input(machine *m, const uint8_t *bytes, size_t n)
{
    for (size_t done = 0; done < n;) {
        size_t k = n - done < 16 ? n - done : 16;
        vm_event ev = {0};
        ev.kind = EV_INPUT;
        ev.num = (uint16_t)k;
        ev.icount = machine_insns(m);
        ev.eip = vcpu_get(m->cpu, CPU_EIP);
        memcpy(ev.args, bytes + done, k);
        irq_line l = com1_irq(m);
        uart_push_input(&m->com1, &l, bytes + done, k);
        machine_log(m, &ev);
        done += k;
    }
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

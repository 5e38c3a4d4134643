/* COM1 (emu/uart.h) as the machine's device: ports 0x3F8-0x3FF; transmitted bytes go to the
 * frontend's serial sink. */
#include "emu/machine.h"

#include <string.h>

static uint32_t port_read(machine *m, uint16_t port, int size)
{
    (void)size;
    return uart_read(&m->com1, (uint16_t)(port - UART_COM1));
}

static void port_write(machine *m, uint16_t port, int size, uint32_t value)
{
    (void)size;
    int tx = uart_write(&m->com1, (uint16_t)(port - UART_COM1), value);
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
        uart_push_input(&m->com1, bytes + done, k);
        machine_log(m, &ev);
        done += k;
    }
}

static void init(machine *m) { uart_init(&m->com1); }

static void serialise(const machine *m, state_writer *w) { uart_serialise(&m->com1, w); }

/* No reset: the queue of host input survives a reboot. The interrupt registers (IER, IIR/FCR,
 * LCR, MCR) are the ones whose writes may change what gets delivered. */
const device dev_com1 = {
    .name = "com1",
    .init = init,
    .ports = {{UART_COM1, 1, port_read, port_write, false},
              {UART_COM1 + 1, 4, port_read, port_write, true},
              {UART_COM1 + 5, 3, port_read, port_write, false}},
    .serialise = serialise,
};

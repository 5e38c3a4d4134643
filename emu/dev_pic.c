/* The two 8259A PICs as the machine's device: ports 0x20/0xA0 and the ELCR at 0x4D0/0x4D1, and the interrupt controller the
 * CPU asks after the local APIC. Other devices drive its inputs with pic_set_irq. */
#include "emu/machine.h"

static pic_chip *chip_at(machine *m, uint16_t port)
{
    return &m->pic.chip[port >= PIC_SLAVE_PORT ? PIC_SLAVE : PIC_MASTER];
}

static uint32_t port_read(machine *m, uint16_t port, int size)
{
    return pic_read(chip_at(m, port), (uint16_t)(port & 1), size);
}

static void port_write(machine *m, uint16_t port, int size, uint32_t value)
{
    pic_write(chip_at(m, port), (uint16_t)(port & 1), size, value);
}

static uint32_t elcr_read(machine *m, uint16_t port, int size)
{
    (void)size;
    return pic_elcr_read(&m->pic, port - PIC_ELCR_PORT);
}

static void elcr_write(machine *m, uint16_t port, int size, uint32_t value)
{
    (void)size;
    pic_elcr_write(&m->pic, port - PIC_ELCR_PORT, (uint8_t)value);
}

static void reset(machine *m) { pic_init(&m->pic); }

static bool pending(const machine *m) { return pic_has_interrupt(&m->pic); }

static int acknowledge(machine *m) { return pic_acknowledge(&m->pic); }

static void serialise(const machine *m, state_writer *w) { pic_serialise(&m->pic, w); }

const device dev_pic = {
    .name = "pic",
    .reset = reset,
    .ports = {{PIC_MASTER_PORT, 2, port_read, port_write, true},
              {PIC_SLAVE_PORT, 2, port_read, port_write, true},
              {PIC_ELCR_PORT, 2, elcr_read, elcr_write, true}},
    .irq_pending = pending,
    .irq_acknowledge = acknowledge,
    .serialise = serialise,
};

#include "emu/firmware.h"

#include <string.h>

#include "emu/device.h"
#include "emu/le.h"
#include "emu/machine.h"

/* Real-mode code at FIRMWARE_HANDLERS (segment 0xF000, offset 0xF000 + n). */
enum { IRET_AT = 0, MASTER_EOI_AT = 1, SLAVE_EOI_AT = 8 };
static const uint8_t handlers[] = {
    0xCF,                                           /* iret */
    0x50, 0xB0, 0x20, 0xE6, 0x20, 0x58, 0xCF,       /* push ax; mov al, 0x20; out 0x20, al; pop ax; iret */
    0x50, 0xB0, 0x20, 0xE6, 0xA0, 0xE6, 0x20, 0x58, /* push ax; mov al, 0x20; out 0xA0, al; out 0x20, al; */
    0xCF,                                           /* pop ax; iret */
};
_Static_assert(sizeof handlers <= FIRMWARE_HANDLERS_SIZE, "the handlers fit their space");

void firmware_write_memory(physmem *pm, bool ivt)
{
    memcpy(phys_ptr(pm, FIRMWARE_HANDLERS), handlers, sizeof handlers);
    if (!ivt)
        return;
    const uint16_t seg = (uint16_t)(FIRMWARE_HANDLERS >> 4 & 0xF000u);
    const uint16_t base = (uint16_t)(FIRMWARE_HANDLERS - ((uint32_t)seg << 4));
    for (unsigned v = 0; v < 256; v++) {
        unsigned at = v - 0x08u < 8u ? MASTER_EOI_AT : v - 0x70u < 8u ? SLAVE_EOI_AT : IRET_AT;
        uint8_t *e = phys_ptr(pm, FIRMWARE_IVT + 4u * v);
        put16(e, (uint16_t)(base + at));
        put16(e + 2, seg);
    }
}

static void port_write(machine *m, uint16_t port, uint8_t value)
{
    const device_ports *r = device_find_port(port, NULL);
    if (r)
        r->write(m, port, 1, value);
}

void firmware_program_devices(machine *m)
{
    port_write(m, 0x43, FIRMWARE_PIT_MODE);
    port_write(m, 0x40, 0x00); /* count 0: 65536 */
    port_write(m, 0x40, 0x00);
    port_write(m, 0x21, FIRMWARE_PIC_MASTER_MASK);
    port_write(m, 0xA1, FIRMWARE_PIC_SLAVE_MASK);
    vcpu_request_replan(m->cpu);
}

/* Port 0x80 (POST codes, the classic I/O delay): known and ignored, so that it is not logged as
 * an access to nothing. No state. */
#include "emu/machine.h"

#define POST_PORT 0x80u

static uint32_t port_read(machine *m, uint16_t port, int size)
{
    (void)m, (void)port, (void)size;
    return 0xFF;
}

static void port_write(machine *m, uint16_t port, int size, uint32_t value)
{
    (void)m, (void)port, (void)size, (void)value;
}

const device dev_post = {
    .name = "post",
    .ports = {{POST_PORT, 1, port_read, port_write, false}},
};

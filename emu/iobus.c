#include "emu/iobus.h"

#include <stddef.h>

bool iobus_register(iobus *bus, uint16_t base, uint16_t len, void *opaque, io_read_fn rd, io_write_fn wr)
{
    if (bus->count >= IOBUS_MAX_RANGES || len == 0)
        return false;
    bus->ranges[bus->count++] = (io_range){base, len, opaque, rd, wr};
    return true;
}

const io_range *iobus_find(const iobus *bus, uint16_t port)
{
    for (int i = 0; i < bus->count; i++) {
        const io_range *r = &bus->ranges[i];
        if ((uint16_t)(port - r->base) < r->len)
            return r;
    }
    return NULL;
}

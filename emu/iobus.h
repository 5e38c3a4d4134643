/* The I/O port bus: devices register (base, length, opaque, read, write) as in TinyEMU;
 * an access to no device is logged as an event and reads as all ones. */
#ifndef VMIEMU_IOBUS_H
#define VMIEMU_IOBUS_H

#include <stdbool.h>
#include <stdint.h>

#include "mmu/error.h"

typedef uint32_t (*io_read_fn)(void *opaque, uint16_t offset, int size);
typedef void (*io_write_fn)(void *opaque, uint16_t offset, int size, uint32_t value);

typedef struct io_range {
    uint16_t base, len;
    void *opaque;
    io_read_fn read;
    io_write_fn write;
} io_range;

#define IOBUS_MAX_RANGES 16

typedef struct iobus {
    io_range ranges[IOBUS_MAX_RANGES];
    int count;
} iobus;

VM_MUST_CHECK bool iobus_register(iobus *bus, uint16_t base, uint16_t len, void *opaque, io_read_fn rd, io_write_fn wr);
/* The range holding `port`, or NULL. */
const io_range *iobus_find(const iobus *bus, uint16_t port);

#endif

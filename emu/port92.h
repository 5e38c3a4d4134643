/* System control port A (port 0x92, "fast A20 and reset" of PS/2-era chipsets and the PIIX).
 * Bit 1 is the A20 gate, bit 0 resets the CPU when it goes from 0 to 1. A20 masking is not
 * modelled: vmiemu's A20 is always on, and the port reads back both bits as last written.
 * Plain data: a snapshot copies the struct. */
#ifndef VMIEMU_PORT92_H
#define VMIEMU_PORT92_H

#include <stdbool.h>
#include <stdint.h>

#include "emu/state_ser.h"

#define PORT92_PORT 0x92u
#define PORT92_RESET 0x01u
#define PORT92_A20 0x02u

typedef struct port92 {
    uint8_t value; /* as last written */
} port92;

/* As a BIOS leaves it: A20 on, reset bit clear. */
void port92_init(port92 *p);
uint8_t port92_read(const port92 *p);
/* True if the write resets the machine (bit 0 rising). */
bool port92_write(port92 *p, uint8_t v);

void port92_serialise(const port92 *p, state_writer *w);

#endif

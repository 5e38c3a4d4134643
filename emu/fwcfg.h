/* QEMU's firmware configuration device (fw_cfg), its legacy I/O interface only: a 16-bit write
 * to FWCFG_PORT selects an item, each byte read from FWCFG_PORT + 1 is the item's next byte
 * (0 past its end or for an item the machine does not have). Peer test suites (kvm-unit-tests)
 * read the signature, the CPU count and the RAM size through it. The items are computed from
 * the machine's configuration when read; the state is only where the reader is. */
#ifndef VMIEMU_FWCFG_H
#define VMIEMU_FWCFG_H

#include <stdint.h>

#include "emu/state_ser.h"

#define FWCFG_PORT 0x510u

typedef struct fwcfg {
    uint16_t selector; /* the item selected */
    uint32_t offset;   /* the next byte of it to read */
} fwcfg;

void fwcfg_serialise(const fwcfg *f, state_writer *w);

#endif

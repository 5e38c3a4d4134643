/* QEMU's pc-testdev, as far as kvm-unit-tests uses it: a 32-bit scratch register behind ports
 * 0xE0-0xE3 (and, byte by byte, 0xE8-0xEB), a "flush page" port at 0xE4 (a host-side mprotect
 * in QEMU: nothing a guest can see), interrupt lines (GSIs 0-23: PIC and IO-APIC) at 0x2000 + n, and RAM behind MMIO at
 * 0xFF000000, which the emulator test maps to run instructions against MMIO. */
#ifndef VMIEMU_PCTESTDEV_H
#define VMIEMU_PCTESTDEV_H

#include <stdint.h>

#include "emu/state_ser.h"

#define PCTESTDEV_IORAM_BASE 0xFF000000ull
#define PCTESTDEV_IORAM_WINDOW 0x10000u /* QEMU's region: 64 KiB */
/* The RAM behind it that vmiemu keeps: the first page, which is all the tests map (machine_state
 * is copied whole into every snapshot, so 64 KiB would cost each snapshot that much). Beyond it
 * the window reads 0 and ignores writes. */
#define PCTESTDEV_IORAM_KEPT 0x1000u

typedef struct pctestdev {
    uint32_t ioport_data;
    uint8_t ioram[PCTESTDEV_IORAM_KEPT];
} pctestdev;

void pctestdev_serialise(const pctestdev *t, state_writer *w);

#endif

/* What a PC BIOS leaves behind for the boot loader, given to Multiboot kernels.
 *
 * A Multiboot kernel is started by a boot loader (GRUB, or QEMU's -kernel through SeaBIOS) on a
 * machine the BIOS has set up, and real-mode kernels count on it: kvm-unit-tests' realmode
 * waits in `sti; hlt` for the BIOS's 18.2 Hz timer interrupt. vmiemu has no BIOS, so the
 * Multiboot loader leaves the same state a BIOS would (SeaBIOS 1.16 with QEMU 7.2, read with
 * `info pic` at the kernel's entry):
 *   - the real-mode interrupt table at 0 filled: every vector points at an `iret` in the BIOS
 *     area, the PICs' vectors (0x08-0x0F, 0x70-0x77) at handlers that send the EOI (to the
 *     master, or to both for the slave's) and return. They keep no BIOS data area tick count.
 *     Skipped when a kernel segment covers the table.
 *   - PIT channel 0 counting in mode 2 from 65536 (18.2 Hz), the PICs' masks 0xB8 (master:
 *     IRQ 0, 1, 2 and 6 open) and 0x8E (slave: IRQ 8, 12, 13 and 14 open), their vector bases
 *     0x08 and 0x70 being the machine's power-on state already (emu/pic.h).
 * Not given: the BIOS data area, the ELCR's PCI levels, BIOS services (int 0x10, 0x13, 0x15...
 * reach the `iret`). Linux boots (emu/boot_linux.c) start from the bare machine as before: the
 * 32-bit boot protocol sets up everything it uses. */
#ifndef VMIEMU_FIRMWARE_H
#define VMIEMU_FIRMWARE_H

#include <stdbool.h>
#include <stdint.h>

#include "mmu/physmem.h"

#define FIRMWARE_IVT 0x00000000u       /* 256 vectors, segment:offset */
#define FIRMWARE_IVT_SIZE 0x400u
#define FIRMWARE_HANDLERS 0x000FF000u  /* the handlers' code, in the BIOS area (F000:F000) */
#define FIRMWARE_HANDLERS_SIZE 0x20u

#define FIRMWARE_PIC_MASTER_MASK 0xB8u
#define FIRMWARE_PIC_SLAVE_MASK 0x8Eu
#define FIRMWARE_PIT_MODE 0x34u /* channel 0, low then high byte, mode 2, binary */

/* Writes the handlers and, if `ivt` (no kernel segment covers it), the interrupt table. */
void firmware_write_memory(physmem *pm, bool ivt);

struct machine;
/* Programs the PIT and the PICs as the BIOS leaves them, through their ports, as the machine
 * starts (after the devices' power-on reset). */
void firmware_program_devices(struct machine *m);

#endif

/* Guest physical memory: one host-owned buffer that Unicorn maps with uc_mem_map_ptr,
 * so the debugger, snapshots and loaders read and write it directly.
 *
 *   0x00000000 +--------------------------+
 *              | conventional RAM 640 KiB |  boot info at PHYS_BOOTINFO (emu/boot.h)
 *   0x000A0000 +--------------------------+
 *              | VGA (text at 0xB8000)    |
 *   0x000C0000 +--------------------------+
 *              | VMI option ROM           |  PHYS_ROM_BASE, PHYS_ROM_SIZE
 *   0x000C8000 +--------------------------+
 *              | option ROM / BIOS hole   |  reserved, reads as zero
 *   0x000F0000 |   BIOS area              |  PHYS_BIOS_BASE: read-only, executable
 *   0x00100000 +--------------------------+
 *              | extended RAM             |
 *   ram size   +--------------------------+
 */
#ifndef VMIEMU_PHYSMEM_H
#define VMIEMU_PHYSMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmu/error.h"

#define PHYS_LOW_RAM_END 0x000A0000u
#define PHYS_VGA_BASE 0x000A0000u
#define PHYS_VGA_TEXT 0x000B8000u
#define PHYS_ROM_BASE 0x000C0000u
#define PHYS_ROM_SIZE 0x00008000u
#define PHYS_BIOS_BASE 0x000F0000u /* the BIOS's 64 KiB: boot GDT, Multiboot's BIOS handlers */
#define PHYS_HOLE_END 0x00100000u
#define PHYS_BOOTINFO 0x00008000u /* Multiboot info or Linux boot_params + command line */
#define PHYS_BOOTINFO_SIZE 0x00008000u

#define PHYS_MIN_MIB 2u
#define PHYS_MAX_MIB 3072u

typedef enum phys_kind {
    PHYS_RAM,
    PHYS_VGA,
    PHYS_ROM,
    PHYS_HOLE,
    PHYS_NONE, /* beyond the end of RAM */
} phys_kind;

typedef struct physmem {
    uint8_t *ram;  /* size bytes; covers the hole too, so offsets equal addresses */
    uint64_t size; /* bytes, a multiple of 1 MiB */
} physmem;

VM_MUST_CHECK bool phys_init(physmem *pm, uint32_t mib, vm_error *err);
void phys_free(physmem *pm);
/* Zero all of guest memory (power-on); pages never touched stay unbacked. */
void phys_clear(physmem *pm);

/* What lives at a physical address. */
phys_kind phys_kind_at(const physmem *pm, uint64_t addr);

/* True if [addr, addr+len) lies inside the buffer with no overflow. */
static inline bool phys_range_ok(const physmem *pm, uint64_t addr, uint64_t len)
{
    return addr <= pm->size && len <= pm->size - addr;
}

/* True if [addr, addr+len) lies entirely in usable RAM (not VGA, ROM or hole). */
bool phys_range_is_ram(const physmem *pm, uint64_t addr, uint64_t len);

/* Host pointer to addr; the caller has checked the range. */
static inline uint8_t *phys_ptr(const physmem *pm, uint64_t addr) { return pm->ram + addr; }

VM_MUST_CHECK bool phys_read(const physmem *pm, uint64_t addr, void *dst, size_t len);
VM_MUST_CHECK bool phys_write(physmem *pm, uint64_t addr, const void *src, size_t len);
uint32_t phys_read32(const physmem *pm, uint64_t addr); /* 0 if out of range */

#endif

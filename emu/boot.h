/* Boot protocols: how a kernel file becomes guest memory plus the CPU state the kernel is
 * entered in. A protocol is {name, probe, load}: probe looks at the file's content only, load
 * validates the whole file (and initrd, command line) before writing anything, then writes
 * guest RAM and says what it wrote and how the CPU starts. The machine takes the first
 * protocol whose probe recognises the file (boot_load), so `vmiemu FILE` boots a Multiboot ELF
 * and a Linux bzImage alike; a new protocol is one more row in boot.c's table.
 *
 * Where a boot puts things besides the kernel (RAM, hole and ROM: mmu/physmem.h):
 *
 *   0x00000000 +---------------------------------+
 *              | Multiboot: real-mode IVT        |  as a BIOS leaves it (emu/firmware.h)
 *              | stack: ESP = BOOT_ESP at entry  |  grows down
 *   0x00008000 +---------------------------------+  PHYS_BOOTINFO
 *              | Multiboot: info, memory map,    |  (or the first page above clear of the
 *              |   loader name, command line     |   kernel's segments: emu/loader.c)
 *              | Linux: boot_params (4 KiB)      |  ESI at entry
 *   0x00009000 |   command line (< 28 KiB)       |  hdr.cmd_line_ptr
 *   0x00010000 +---------------------------------+  PHYS_BOOTINFO + PHYS_BOOTINFO_SIZE
 *              | free low RAM                    |
 *   0x0009F000 +---------------------------------+
 *              | Linux: ACPI tables (emu/acpi.h) |  reserved in its e820 map
 *   0x000A0000 +---------------------------------+
 *              | VGA, VMI ROM, BIOS hole         |  reserved in every memory map;
 *   0x000E0000 |   Linux: ACPI RSDP              |  where an OS scans for it
 *   0x000F0000 |   boot GDT (BOOT_GDT)           |  the GDT lives in the hole
 *   0x000FF000 |   Multiboot: BIOS handlers      |  FIRMWARE_HANDLERS (emu/firmware.h)
 *   0x00100000 +---------------------------------+
 *              | Multiboot: ELF segments         |  at their p_paddr
 *              | Linux: protected-mode kernel    |  code32_start; it decompresses to
 *              |   ... init_size ...             |  pref_address (or here if relocatable)
 *              +---------------------------------+
 *              | Linux: initrd                   |  page-aligned, as high as RAM and
 *   RAM end    +---------------------------------+  initrd_addr_max allow, above init_size
 */
#ifndef VMIEMU_BOOT_H
#define VMIEMU_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu/cpu.h"
#include "mmu/error.h"
#include "mmu/physmem.h"

#define BOOT_GDT 0x000F0000u /* boot GDT, in the BIOS area (reserved in every memory map) */
#define BOOT_ESP 0x00007FF0u /* neither protocol defines ESP; give a usable one below the boot info */
#define BOOT_MAX_WRITES 8

/* The kernel file (the whole of it) and its name for messages. */
typedef struct boot_image {
    const char *path;
    const uint8_t *data;
    size_t size;
} boot_image;

/* What the user asked for besides the kernel. */
typedef struct boot_options {
    const char *cmdline;     /* --append; NULL = none */
    const char *initrd_path; /* --initrd, for messages; NULL = none */
    const uint8_t *initrd;
    size_t initrd_size;
} boot_options;

/* One stretch of guest memory a load wrote. */
typedef struct boot_write {
    uint32_t base, size;
    const char *what; /* "kernel", "boot_params", ... */
} boot_write;

typedef struct boot_result {
    const char *protocol; /* the protocol's name */
    vcpu_entry cpu;       /* the entry state, for vcpu_reset */
    uint32_t entry;       /* cpu.eip */
    boot_write writes[BOOT_MAX_WRITES];
    unsigned nwrites;
    bool bios_devices;    /* start the PIT and PICs as a BIOS leaves them (emu/firmware.h) */
} boot_result;

typedef struct boot_protocol {
    const char *name;
    /* Does the file look like this protocol's? Content only; a yes may still fail to load. */
    bool (*probe)(const uint8_t *data, size_t size);
    /* Validate everything, then write guest memory and fill *out. On any problem: false, guest
     * memory untouched, err = VM_EFORMAT (or VM_EINVAL for options) "FILE: problem". */
    bool (*load)(physmem *pm, const boot_image *img, const boot_options *opt, boot_result *out, vm_error *err);
} boot_protocol;

extern const boot_protocol boot_multiboot; /* emu/loader.c */
extern const boot_protocol boot_linux;     /* emu/boot_linux.c */

/* The first protocol that recognises the file, NULL if none does. */
const boot_protocol *boot_select(const uint8_t *data, size_t size);

/* Select a protocol by content and load with it; a file no protocol recognises is refused. */
VM_MUST_CHECK bool boot_load(physmem *pm, const boot_image *img, const boot_options *opt, boot_result *out, vm_error *err);

/* For protocols: write `n` descriptors at BOOT_GDT and point e's GDTR at them. */
void boot_put_gdt(physmem *pm, const uint64_t *gdt, unsigned n, vcpu_entry *e);
/* For protocols: note that [base, base+size) was written. */
void boot_note_write(boot_result *out, uint32_t base, uint32_t size, const char *what);

#endif

/* Multiboot (v1) ELF loader: validates a kernel file and places it in guest RAM,
 * then builds the Multiboot information structure the kernel receives in EBX. */
#ifndef VMIEMU_LOADER_H
#define VMIEMU_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "mmu/error.h"
#include "mmu/physmem.h"

#define MB_BOOT_MAGIC 0x2BADB002u   /* EAX at kernel entry */
#define MB_HEADER_MAGIC 0x1BADB002u /* in the kernel's Multiboot header */

typedef struct loaded_kernel {
    uint32_t entry;        /* physical entry point (ELF e_entry) */
    uint32_t load_lo;      /* lowest physical byte loaded */
    uint32_t load_hi;      /* one past the highest physical byte loaded (incl. bss) */
    uint32_t header_flags; /* Multiboot header flags */
    uint32_t mbi_addr;     /* physical address of the Multiboot info (EBX) */
    bool acpi;             /* the ACPI tables' page is free of kernel and info: the memory map
                              reserves it, and the caller writes the tables (emu/acpi.h) */
} loaded_kernel;

/* Validate `image` (the whole file, `size` bytes, named `path` in messages) as a Multiboot v1
 * ELF32 i386 kernel, copy its PT_LOAD segments to their physical addresses (p_paddr) in pm,
 * zero their bss, and build the Multiboot info at PHYS_BOOTINFO with mem_lower/mem_upper,
 * a memory map (RAM, VGA, ROM, hole, and the ACPI tables' page if out->acpi), `cmdline` (may be NULL) and the boot loader name.
 * On any problem: false, err->code = VM_EFORMAT, err->msg = "PATH: problem". */
VM_MUST_CHECK bool loader_load_multiboot(physmem *pm, const char *path, const uint8_t *image, size_t size,
                           const char *cmdline, loaded_kernel *out, vm_error *err);

/* Read a whole file into a malloc'ed buffer (freed by the caller). */
VM_MUST_CHECK bool loader_read_file(const char *path, uint8_t **data, size_t *size, vm_error *err);

#endif

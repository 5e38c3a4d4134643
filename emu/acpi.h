/* ACPI tables as a PC's firmware leaves them (ACPI 2.0), so that a kernel finds the power
 * management registers of emu/acpi_pm.h and the sleep type that powers the machine off.
 *
 * Built: RSDP (revision 0, pointing at the RSDT), RSDT (one entry: the FADT), FADT (revision 3,
 * the ACPI 2.0 layout, 244 bytes), FACS, and a DSDT whose AML is only `\_S5` (Linux prints
 * S0 as supported without asking, and looks for S1-S4 quietly).
 * No MADT: Linux finds the local APIC through CPUID, and a MADT without an IO-APIC entry (no
 * IO-APIC is modelled) makes Linux 2.6.32 print "ACPI: No IOAPIC entries present" as an error
 * once CPUID reports an APIC (arch/x86/kernel/acpi/boot.c:1113). No SSDT, no devices in the
 * namespace, no GPE block, no SCI source: the SCI (IRQ 9) is declared but never raised.
 *
 * Where (emu/boot.h draws the rest):
 *
 *   0x0009F000 +---------------------------+  ACPI_TABLES_ADDR, RAM reserved in the e820 map
 *              | RSDT, FADT, FACS, DSDT    |  (where a BIOS keeps its EBDA; Linux reserves
 *   0x000A0000 +---------------------------+   0x9F000-1 MiB itself when the BDA says nothing)
 *              ...
 *   0x000E0000 |  RSDP                     |  ACPI_RSDP_ADDR, in the read-only BIOS area, where
 *              ...                              an OS scans for it (0xE0000-0xFFFFF, 16-aligned)
 *
 * The tables sit in RAM, not beside the RSDP, because the FACS must be writable (global lock,
 * waking vector) and the BIOS area is read-only to the guest. Only the Linux boot protocol
 * writes them: a Multiboot kernel may load itself up to 640 KiB, where the tables would be. */
#ifndef VMIEMU_ACPI_H
#define VMIEMU_ACPI_H

#include <stddef.h>
#include <stdint.h>

#include "emu/acpi_pm.h"
#include "mmu/physmem.h"

#define ACPI_RSDP_ADDR 0x000E0000u
#define ACPI_RSDP_SIZE 20u /* revision 0: no XSDT */
#define ACPI_TABLES_ADDR 0x0009F000u
#define ACPI_TABLES_SIZE 0x00001000u

/* Offsets of the tables inside the area (FACS 64-byte aligned, as ACPI requires). */
#define ACPI_RSDT_OFF 0x000u
#define ACPI_FACS_OFF 0x040u
#define ACPI_FADT_OFF 0x080u
#define ACPI_DSDT_OFF 0x180u

#define ACPI_FADT_SIZE 244u
#define ACPI_FADT_REVISION 3u
#define ACPI_FACS_SIZE 64u
#define ACPI_HEADER_SIZE 36u
#define ACPI_SCI_IRQ 9u

/* Write the RSDP and the tables into guest memory (the caller has checked nothing: both
 * addresses are fixed and below 1 MiB, inside every machine's memory). */
void acpi_build_tables(physmem *pm);

/* The byte that makes `len` bytes sum to zero, as every ACPI checksum field holds. */
uint8_t acpi_checksum(const uint8_t *p, size_t len);

#endif

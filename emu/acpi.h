/* ACPI tables as a PC's firmware leaves them (ACPI 2.0), so that a kernel finds the power
 * management registers of emu/acpi_pm.h and the sleep type that powers the machine off.
 *
 * Built: RSDP (revision 0, pointing at the RSDT), RSDT (FADT, MADT, HPET), FADT (revision 3,
 * the ACPI 2.0 layout, 244 bytes), FACS, a DSDT whose AML is `\_S5` and the PCI host bridge
 * (Linux prints S0 as supported without asking, and looks for S1-S4 quietly), a MADT (the
 * local APIC, the IO-APIC of emu/ioapic.h with GSI base 0, interrupt source overrides IRQ 0 ->
 * GSI 2 and the SCI level-triggered, LINT1 as NMI) and the HPET table (emu/hpet.h). No SSDT,
 * no devices in the namespace but the PCI bridge, no GPE block, no SCI source: the SCI (IRQ 9)
 * is declared but never raised.
 *
 * Where (emu/boot.h draws the rest):
 *
 *   0x0009F000 +---------------------------+  ACPI_TABLES_ADDR, RAM reserved in the e820 map
 *              | RSDT, FACS, FADT, DSDT,   |  (where a BIOS keeps its EBDA; Linux reserves
 *              | MADT, HPET                |
 *   0x000A0000 +---------------------------+   0x9F000-1 MiB itself when the BDA says nothing)
 *              ...
 *   0x000E0000 |  RSDP                     |  ACPI_RSDP_ADDR, in the read-only BIOS area, where
 *              ...                              an OS scans for it (0xE0000-0xFFFFF, 16-aligned)
 *
 * The tables sit in RAM, not beside the RSDP, because the FACS must be writable (global lock,
 * waking vector) and the BIOS area is read-only to the guest. The Linux boot protocol writes
 * them always; a Multiboot boot when neither the kernel nor its boot information lies in the
 * tables' page (its memory map then reserves the page: emu/loader.c). */
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
#define ACPI_MADT_OFF 0x200u
#define ACPI_HPET_OFF 0x280u

#define ACPI_FADT_SIZE 244u
#define ACPI_FADT_REVISION 3u
#define ACPI_FACS_SIZE 64u
#define ACPI_HEADER_SIZE 36u
#define ACPI_SCI_IRQ 9u
#define ACPI_HPET_SIZE 56u
#define ACPI_IOAPIC_ID 1u /* the IO-APIC's ID (emu/ioapic.c resets to it): not the CPU's 0 */

/* Write the RSDP and the tables into guest memory (the caller has checked nothing: both
 * addresses are fixed and below 1 MiB, inside every machine's memory). */
void acpi_build_tables(physmem *pm);

/* The byte that makes `len` bytes sum to zero, as every ACPI checksum field holds. */
uint8_t acpi_checksum(const uint8_t *p, size_t len);

#endif

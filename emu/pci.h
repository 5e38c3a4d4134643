/* PCI configuration mechanism #1 (address at 0xCF8, data at 0xCFC-0xCFF) on a bus that holds
 * one device: an Intel 440FX host bridge at 00:00.0 (8086:1237, class 0x060000, header type 0),
 * the chipset QEMU's "pc" machine has. Every other bus, device and function is absent: its
 * configuration space reads all ones and ignores writes, as when nothing answers.
 *
 * The address register takes only dword writes (bit 31 enable, bus, device, function, register;
 * bits 30-24 and 1-0 read 0). Data-port accesses of any size at any offset reach the register
 * the address names plus the offset; with the enable bit clear they read all ones. Byte and
 * word accesses to 0xCF8-0xCFB are not the address register: writes are ignored and reads
 * return that part of it, as QEMU does (Linux's type-1 probe writes 0xCFB), except 0xCF9, the
 * PIIX reset control register: a write with bit 2 set resets the CPU, bit 1 reads back.
 * The bridge's read-only registers ignore writes; the command register's enable bits, the
 * latency timer, the interrupt line and the device-specific registers 0x40-0xFF keep what is
 * written but change nothing (the PAM and SMRAM registers do not remap memory; the status
 * register's write-one-to-clear bits are not modelled). No interrupt routing ($PIR) and no ISA
 * bridge: the bridge alone is what Linux needs to find PCI.
 * Plain data: a snapshot copies the struct. */
#ifndef VMIEMU_PCI_H
#define VMIEMU_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "emu/state_ser.h"

#define PCI_CONFIG_PORT 0xCF8u /* 0xCF8-0xCFB address (0xCF9 reset control), 0xCFC-0xCFF data */
#define PCI_CONFIG_PORTS 8u
#define PCI_ENABLE 0x80000000u
#define PCI_RCR_RESET 0x04u    /* 0xCF9 bit 2: reset the CPU */
#define PCI_RCR_HARD 0x02u     /* 0xCF9 bit 1: hard reset (kept, reads back) */

typedef struct pci_bus {
    uint32_t address;          /* 0xCF8 */
    uint8_t rcr;               /* 0xCF9 reset control */
    uint8_t bridge[256];       /* the host bridge's configuration space */
} pci_bus;

/* The bridge as a BIOS leaves it (memory and bus-master enabled). */
void pci_init(pci_bus *p);

/* Port 0xCF8 + offset (0..7), size 1, 2 or 4 bytes. pci_write returns true if the write
 * resets the machine (0xCF9 bit 2). */
uint32_t pci_read(const pci_bus *p, uint16_t offset, int size);
bool pci_write(pci_bus *p, uint16_t offset, int size, uint32_t value);

void pci_serialise(const pci_bus *p, state_writer *w);

#endif

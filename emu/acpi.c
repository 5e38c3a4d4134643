/* ACPI tables (emu/acpi.h), written byte by byte in the layouts of the ACPI 2.0 specification
 * (section 5.2); every field not set here is zero. */
#include "emu/acpi.h"
#include "emu/hpet.h"
#include "emu/ioapic.h"
#include "emu/le.h"

#include <string.h>

#define ACPI_OEM_ID "VMIEMU"     /* 6 bytes */
#define ACPI_OEM_TABLE "VMIEMU  " /* 8 bytes */
#define ACPI_CREATOR "VMIE"
#define ACPI_SPACE_IO 1u

/* FADT flags (ACPI 2.0 table 5-9). */
#define FADT_WBINVD (1u << 0)        /* WBINVD flushes caches: the only flush an OS needs */
#define FADT_PROC_C1 (1u << 2)       /* C1 (hlt) works */
#define FADT_PWR_BUTTON (1u << 4)    /* no fixed-feature power button */
#define FADT_SLP_BUTTON (1u << 5)    /* no fixed-feature sleep button */
#define FADT_RESET_REG_SUP (1u << 10)
#define FADT_BOOT_LEGACY_DEVICES (1u << 0) /* IAPC_BOOT_ARCH: ISA-style devices (UART, PIT, CMOS) */
#define FADT_BOOT_8042 (1u << 1)

/* The AML of the DSDT, the ASL `Name (\_S5, Package (4) {5, 5, 0, 0})` by hand (ACPI 2.0
 * section 16.2): no compiler needed for six opcodes.
 *   08           NameOp
 *   5F 53 35 5F  NameSeg "_S5_" (in the root scope: the definition block's)
 *   12           PackageOp
 *   08           PkgLength: one byte, counting itself and the 7 that follow
 *   04           NumElements
 *   0A 05        BytePrefix 5: SLP_TYP for PM1a_CNT (ACPI_S5_SLP_TYP)
 *   0A 05        BytePrefix 5: SLP_TYP for PM1b_CNT (none here; the same value, as usual)
 *   00 00        ZeroOp twice: reserved */
#define ACPI_AML_S5 \
    0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04, 0x0A, ACPI_S5_SLP_TYP, 0x0A, ACPI_S5_SLP_TYP, 0x00, 0x00

/* Then the PCI host bridge, as every PC's DSDT describes it: with ACPI enabled, Linux scans PCI
 * only below the root bridges the namespace names (drivers/acpi/pci_root.c), so without this
 * the 440FX on bus 0 is never probed. ASL:
 *   Scope (\_SB) { Device (PCI0) { Name (_HID, EisaId ("PNP0A03")) Name (_UID, 0) } }
 *   10 1D              ScopeOp, PkgLength 29 (itself, the name, the Device)
 *   5C 5F 53 42 5F     "\_SB_"
 *   5B 82 15           DeviceOp, PkgLength 21 (itself, the name, two Names)
 *   50 43 49 30        "PCI0"
 *   08 5F 48 49 44     NameOp "_HID"
 *   0C 41 D0 0A 03     DWordPrefix: EisaId("PNP0A03") (compressed "PNP", product 0x0A03)
 *   08 5F 55 49 44 00  NameOp "_UID", ZeroOp (bus 0: _BBN left to its default 0) */
#define ACPI_AML_PCI0                                                                                \
    0x10, 0x1D, 0x5C, '_', 'S', 'B', '_', 0x5B, 0x82, 0x15, 'P', 'C', 'I', '0', 0x08, '_', 'H', 'I', 'D', \
        0x0C, 0x41, 0xD0, 0x0A, 0x03, 0x08, '_', 'U', 'I', 'D', 0x00

static const uint8_t acpi_dsdt_aml[] = {ACPI_AML_S5, ACPI_AML_PCI0};

uint8_t acpi_checksum(const uint8_t *p, size_t len)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + p[i]);
    return (uint8_t)-sum;
}

/* The 36-byte header every table but the RSDP and FACS starts with; the checksum (byte 9) is
 * set by finish_table once the body is written. */
static void put_header(uint8_t *t, const char sig[4], uint32_t len, uint8_t revision)
{
    memcpy(t, sig, 4);
    put32(t + 4, len);
    t[8] = revision;
    memcpy(t + 10, ACPI_OEM_ID, 6);
    memcpy(t + 16, ACPI_OEM_TABLE, 8);
    put32(t + 24, 1); /* OEM revision */
    memcpy(t + 28, ACPI_CREATOR, 4);
    put32(t + 32, 1); /* creator revision */
}

static void finish_table(uint8_t *t, uint32_t len)
{
    t[9] = 0;
    t[9] = acpi_checksum(t, len);
}

/* A Generic Address Structure (12 bytes) for an I/O port register of `bytes` bytes. */
static void put_gas_io(uint8_t *g, uint16_t port, unsigned bytes)
{
    g[0] = ACPI_SPACE_IO;
    g[1] = (uint8_t)(8 * bytes);
    g[2] = 0; /* bit offset */
    g[3] = 0; /* access size: ACPI 2.0 reserves it (0) */
    put64(g + 4, port);
}

/* ACPI 2.0 table 5-9; offsets in the comments. 32-bit block addresses and their X_ twins
 * agree, so ACPICA finds no mismatch whichever it prefers. */
static void build_fadt(uint8_t *t, uint32_t facs, uint32_t dsdt)
{
    const uint16_t evt = ACPI_PM_BASE + ACPI_PM1_EVT_OFF, cnt = ACPI_PM_BASE + ACPI_PM1_CNT_OFF,
                   tmr = ACPI_PM_BASE + ACPI_PM_TMR_OFF;
    put_header(t, "FACP", ACPI_FADT_SIZE, ACPI_FADT_REVISION);
    put32(t + 36, facs);
    put32(t + 40, dsdt);
    put16(t + 46, ACPI_SCI_IRQ);
    put32(t + 48, 0); /* SMI_CMD 0: ACPI mode is always on, there is nothing to enable */
    put32(t + 56, evt);
    put32(t + 64, cnt);
    put32(t + 76, tmr);
    t[88] = 4;                /* PM1_EVT_LEN: status + enable */
    t[89] = 2;                /* PM1_CNT_LEN */
    t[91] = 4;                /* PM_TMR_LEN */
    put16(t + 96, 101);       /* P_LVL2_LAT > 100: no C2 */
    put16(t + 98, 1001);      /* P_LVL3_LAT > 1000: no C3 */
    t[108] = 0x32;            /* CENTURY: the CMOS century register (emu/cmos.c) */
    put16(t + 109, FADT_BOOT_LEGACY_DEVICES | FADT_BOOT_8042);
    put32(t + 112, FADT_WBINVD | FADT_PROC_C1 | FADT_PWR_BUTTON | FADT_SLP_BUTTON | FADT_RESET_REG_SUP);
    put_gas_io(t + 116, ACPI_PM_BASE + ACPI_RESET_OFF, 1);
    t[128] = ACPI_RESET_VALUE;
    put64(t + 132, facs);
    put64(t + 140, dsdt);
    put_gas_io(t + 148, evt, 4);
    put_gas_io(t + 172, cnt, 2);
    put_gas_io(t + 208, tmr, 4);
    finish_table(t, ACPI_FADT_SIZE);
}

/* ACPI 2.0 table 5-10: no checksum; version 1; the global lock and waking vector start 0. */
static void build_facs(uint8_t *t)
{
    memcpy(t, "FACS", 4);
    put32(t + 4, ACPI_FACS_SIZE);
    t[32] = 1;
}

/* MADT (ACPI 2.0 section 5.2.10.4): the local APIC's address, PC-AT compatible (8259s present),
 * then its entries. Returns the length. */
static uint32_t build_madt(uint8_t *t)
{
    uint32_t at = ACPI_HEADER_SIZE;
    put32(t + at, 0xFEE00000u);
    put32(t + at + 4, 1); /* PCAT_COMPAT */
    at += 8;
    uint8_t *e = t + at; /* processor local APIC: ACPI processor 0, APIC ID 0, enabled */
    e[0] = 0, e[1] = 8, e[2] = 0, e[3] = 0;
    put32(e + 4, 1);
    at += 8;
    e = t + at; /* IO-APIC: its ID, address, GSI base 0 */
    e[0] = 1, e[1] = 12, e[2] = ACPI_IOAPIC_ID, e[3] = 0;
    put32(e + 4, (uint32_t)IOAPIC_BASE);
    put32(e + 8, 0);
    at += 12;
    /* interrupt source overrides: ISA IRQ 0 (the PIT) is GSI 2; the SCI is level, active high */
    static const struct { uint8_t irq; uint32_t gsi; uint16_t flags; } iso[] = {{0, 2, 0}, {ACPI_SCI_IRQ, ACPI_SCI_IRQ, 0xD}};
    for (size_t i = 0; i < sizeof iso / sizeof iso[0]; i++, at += 10) {
        e = t + at;
        e[0] = 2, e[1] = 10, e[2] = 0 /* ISA */, e[3] = iso[i].irq;
        put32(e + 4, iso[i].gsi);
        put16(e + 8, iso[i].flags);
    }
    e = t + at; /* local APIC NMI: every processor (0xFF), LINT1, conforming */
    e[0] = 4, e[1] = 6, e[2] = 0xFF;
    put16(e + 3, 0);
    e[5] = 1;
    at += 6;
    put_header(t, "APIC", at, 1);
    finish_table(t, at);
    return at;
}

/* HPET description table (IA-PC HPET specification 1.0a, section 3.2.4). */
static void build_hpet(uint8_t *t)
{
    put_header(t, "HPET", ACPI_HPET_SIZE, 1);
    /* event timer block ID: vendor 0x8086, legacy capable, 64-bit, comparators - 1, revision */
    put32(t + 36, 0x8086u << 16 | 1u << 15 | 1u << 13 | (HPET_TIMERS - 1u) << 8 | 1u);
    t[40] = 0; /* base address: system memory, 64 bits wide */
    t[41] = 64;
    put64(t + 44, HPET_BASE);
    t[52] = 0;        /* HPET number */
    put16(t + 53, 0); /* minimum clock tick in periodic mode */
    t[55] = 0;        /* no page protection */
    finish_table(t, ACPI_HPET_SIZE);
}

void acpi_build_tables(physmem *pm)
{
    uint8_t *area = phys_ptr(pm, ACPI_TABLES_ADDR);
    memset(area, 0, ACPI_TABLES_SIZE);
    const uint32_t rsdt = ACPI_TABLES_ADDR + ACPI_RSDT_OFF, facs = ACPI_TABLES_ADDR + ACPI_FACS_OFF,
                   fadt = ACPI_TABLES_ADDR + ACPI_FADT_OFF, dsdt = ACPI_TABLES_ADDR + ACPI_DSDT_OFF;

    uint8_t *t = area + ACPI_DSDT_OFF;
    uint32_t dsdt_len = ACPI_HEADER_SIZE + (uint32_t)sizeof acpi_dsdt_aml;
    put_header(t, "DSDT", dsdt_len, 2); /* revision 2: 64-bit integers */
    memcpy(t + ACPI_HEADER_SIZE, acpi_dsdt_aml, sizeof acpi_dsdt_aml);
    finish_table(t, dsdt_len);

    build_facs(area + ACPI_FACS_OFF);
    build_fadt(area + ACPI_FADT_OFF, facs, dsdt);
    build_madt(area + ACPI_MADT_OFF);
    build_hpet(area + ACPI_HPET_OFF);

    t = area + ACPI_RSDT_OFF;
    const uint32_t entries[] = {fadt, ACPI_TABLES_ADDR + ACPI_MADT_OFF, ACPI_TABLES_ADDR + ACPI_HPET_OFF};
    uint32_t rsdt_len = ACPI_HEADER_SIZE + 4 * (uint32_t)(sizeof entries / sizeof entries[0]);
    put_header(t, "RSDT", rsdt_len, 1);
    for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++)
        put32(t + ACPI_HEADER_SIZE + 4 * i, entries[i]);
    finish_table(t, rsdt_len);

    /* RSDP, revision 0 (ACPI 1.0's 20 bytes): signature, checksum, OEM ID, revision, RSDT. */
    uint8_t *r = phys_ptr(pm, ACPI_RSDP_ADDR);
    memset(r, 0, ACPI_RSDP_SIZE);
    memcpy(r, "RSD PTR ", 8);
    memcpy(r + 9, ACPI_OEM_ID, 6);
    r[15] = 0;
    put32(r + 16, rsdt);
    r[8] = acpi_checksum(r, ACPI_RSDP_SIZE);
}

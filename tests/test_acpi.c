/* ACPI: the tables read the way an OS reads them (scan for the RSDP, follow RSDT -> FADT ->
 * DSDT/FACS, check signatures, lengths and checksums), the PM registers, and a guest that
 * powers off or resets through them. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "emu/acpi.h"
#include "emu/acpi_pm.h"
#include "support/suite_main.h"
#include "support/testutil.h"

#define RESULT 0x5000u

static physmem pm;

static void setup(void)
{
    vm_error err = {0};
    ck_assert_msg(phys_init(&pm, 16, &err), "%s", err.msg);
    acpi_build_tables(&pm);
}

static void teardown(void) { phys_free(&pm); }

static uint8_t ram8(uint32_t a) { return *phys_ptr(&pm, a); }
static uint16_t ram16(uint32_t a) { return (uint16_t)(ram8(a) | ram8(a + 1) << 8); }
static uint32_t ram32(uint32_t a) { return phys_read32(&pm, a); }
static uint64_t ram64(uint32_t a) { return ram32(a) | (uint64_t)ram32(a + 4) << 32; }

static bool sums_to_zero(uint32_t a, uint32_t len)
{
    uint8_t sum = 0;
    for (uint32_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + ram8(a + i));
    return sum == 0;
}

/* Linux's acpi_scan_rsdp: every 16 bytes of 0xE0000-0xFFFFF, signature and checksum. */
static uint32_t find_rsdp(void)
{
    for (uint32_t a = 0xE0000; a < 0x100000; a += 16)
        if (memcmp(phys_ptr(&pm, a), "RSD PTR ", 8) == 0 && sums_to_zero(a, 20))
            return a;
    return 0;
}

/* A table with this signature at `a`, whose length covers its header and whose bytes sum to 0. */
static void assert_table(uint32_t a, const char *sig)
{
    ck_assert_uint_ne(a, 0);
    ck_assert_msg(memcmp(phys_ptr(&pm, a), sig, 4) == 0, "no %s at 0x%x", sig, a);
    ck_assert_uint_ge(ram32(a + 4), ACPI_HEADER_SIZE);
    ck_assert_msg(sums_to_zero(a, ram32(a + 4)), "%s checksum", sig);
}

static uint32_t fadt_addr(void)
{
    uint32_t rsdt = ram32(find_rsdp() + 16);
    return ram32(rsdt + ACPI_HEADER_SIZE);
}

/* ---- tables ---- */

START_TEST(test_rsdp_is_found_by_the_bios_area_scan_with_revision_0)
{
    uint32_t rsdp = find_rsdp();
    ck_assert_uint_eq(rsdp, ACPI_RSDP_ADDR);
    ck_assert_uint_eq(ram8(rsdp + 15), 0); /* ACPI 1.0 RSDP: RSDT only */
}
END_TEST

START_TEST(test_rsdt_is_valid_and_lists_the_fadt_madt_and_hpet)
{
    uint32_t rsdt = ram32(find_rsdp() + 16);
    assert_table(rsdt, "RSDT");
    ck_assert_uint_eq(ram32(rsdt + 4), ACPI_HEADER_SIZE + 12);
    assert_table(ram32(rsdt + ACPI_HEADER_SIZE), "FACP");
    assert_table(ram32(rsdt + ACPI_HEADER_SIZE + 4), "APIC");
    assert_table(ram32(rsdt + ACPI_HEADER_SIZE + 8), "HPET");
}
END_TEST

static uint32_t rsdt_entry(int i) { return ram32(ram32(find_rsdp() + 16) + ACPI_HEADER_SIZE + 4u * (uint32_t)i); }

/* The MADT as Linux's acpi_parse_madt walks it: the local APIC, PC-AT 8259s, one enabled CPU
 * (APIC ID 0), the IO-APIC at 0xFEC00000 with GSI base 0, IRQ 0 on GSI 2, the SCI level. */
START_TEST(test_madt_describes_the_cpu_the_ioapic_and_the_isa_overrides)
{
    uint32_t t = rsdt_entry(1), len = ram32(t + 4);
    ck_assert_uint_eq(ram32(t + 36), 0xFEE00000u);
    ck_assert_uint_eq(ram32(t + 40) & 1, 1);
    int lapics = 0, ioapics = 0, overrides = 0;
    for (uint32_t e = t + 44; e < t + len; e += ram8(e + 1)) {
        ck_assert_uint_ge(ram8(e + 1), 2);
        switch (ram8(e)) {
        case 0: lapics++; ck_assert_uint_eq(ram8(e + 3), 0); ck_assert_uint_eq(ram32(e + 4) & 1, 1); break;
        case 1:
            ioapics++;
            ck_assert_uint_eq(ram8(e + 2), ACPI_IOAPIC_ID);
            ck_assert_uint_eq(ram32(e + 4), 0xFEC00000u);
            ck_assert_uint_eq(ram32(e + 8), 0);
            break;
        case 2:
            overrides++;
            if (ram8(e + 3) == 0)
                ck_assert_uint_eq(ram32(e + 4), 2);
            else
                ck_assert_uint_eq(ram16(e + 8), 0xD); /* SCI: active high, level */
            break;
        default: break;
        }
    }
    ck_assert_int_eq(lapics, 1);
    ck_assert_int_eq(ioapics, 1);
    ck_assert_int_eq(overrides, 2);
}
END_TEST

START_TEST(test_hpet_table_gives_the_block_id_and_its_memory_address)
{
    uint32_t t = rsdt_entry(2);
    ck_assert_uint_eq(ram32(t + 4), 56);
    ck_assert_uint_eq(ram32(t + 36), 0x8086A201u);
    ck_assert_uint_eq(ram8(t + 40), 0); /* system memory */
    ck_assert_uint_eq(ram64(t + 44), 0xFED00000u);
}
END_TEST

START_TEST(test_fadt_is_the_acpi_2_0_layout_linux_accepts)
{
    uint32_t f = fadt_addr();
    ck_assert_uint_eq(ram32(f + 4), 244);
    ck_assert_uint_eq(ram8(f + 8), 3);
}
END_TEST

START_TEST(test_fadt_gives_the_pm_blocks_sci_9_and_no_smi_command)
{
    uint32_t f = fadt_addr();
    ck_assert_uint_eq(ram16(f + 46), 9);       /* SCI_INT */
    ck_assert_uint_eq(ram32(f + 48), 0);       /* SMI_CMD: ACPI mode always on */
    ck_assert_uint_eq(ram32(f + 56), 0x600);   /* PM1a_EVT_BLK */
    ck_assert_uint_eq(ram32(f + 64), 0x604);   /* PM1a_CNT_BLK */
    ck_assert_uint_eq(ram32(f + 76), 0x608);   /* PM_TMR_BLK */
    ck_assert_uint_eq(ram8(f + 88), 4);
    ck_assert_uint_eq(ram8(f + 89), 2);
    ck_assert_uint_eq(ram8(f + 91), 4);
    ck_assert_uint_eq(ram32(f + 60) | ram32(f + 68) | ram32(f + 72) | ram32(f + 80) | ram32(f + 84), 0);
}
END_TEST

/* ACPICA prefers the 32-bit fields and warns when an X_ twin differs in address or width. */
START_TEST(test_fadt_extended_blocks_agree_with_the_32_bit_ones)
{
    uint32_t f = fadt_addr();
    static const struct { unsigned x, a32, len; } pairs[] = {{148, 56, 88}, {172, 64, 89}, {208, 76, 91}};
    for (unsigned i = 0; i < 3; i++) {
        ck_assert_uint_eq(ram8(f + pairs[i].x), 1); /* system I/O */
        ck_assert_uint_eq(ram8(f + pairs[i].x + 1), 8 * ram8(f + pairs[i].len));
        ck_assert_uint_eq(ram64(f + pairs[i].x + 4), ram32(f + pairs[i].a32));
    }
    ck_assert_uint_eq(ram64(f + 132), ram32(f + 36));
    ck_assert_uint_eq(ram64(f + 140), ram32(f + 40));
}
END_TEST

START_TEST(test_fadt_reset_register_is_an_io_byte_taking_the_reset_value)
{
    uint32_t f = fadt_addr();
    ck_assert_uint_ne(ram32(f + 112) & (1u << 10), 0); /* RESET_REG_SUP */
    ck_assert_uint_eq(ram8(f + 116), 1);               /* system I/O */
    ck_assert_uint_eq(ram8(f + 117), 8);
    ck_assert_uint_eq(ram8(f + 118), 0);
    ck_assert_uint_eq(ram64(f + 120), ACPI_PM_BASE + ACPI_RESET_OFF);
    ck_assert_uint_eq(ram8(f + 128), ACPI_RESET_VALUE);
}
END_TEST

START_TEST(test_fadt_points_at_a_64_byte_aligned_facs)
{
    uint32_t facs = ram32(fadt_addr() + 36);
    ck_assert_uint_eq(facs % 64, 0);
    ck_assert_mem_eq(phys_ptr(&pm, facs), "FACS", 4);
    ck_assert_uint_eq(ram32(facs + 4), 64);
}
END_TEST

START_TEST(test_dsdt_is_valid_and_names_s5_with_sleep_type_5)
{
    uint32_t dsdt = ram32(fadt_addr() + 40);
    assert_table(dsdt, "DSDT");
    static const uint8_t aml[] = {0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04, 0x0A, 5, 0x0A, 5, 0x00, 0x00};
    ck_assert_mem_eq(phys_ptr(&pm, dsdt + ACPI_HEADER_SIZE), aml, sizeof aml);
}
END_TEST

/* Scope (\_SB) { Device (PCI0) { Name (_HID, EisaId ("PNP0A03")) Name (_UID, 0) } } right after
 * \_S5, ending the table: with ACPI on, Linux probes PCI only below such a root bridge. */
START_TEST(test_dsdt_names_the_pci_root_bridge_and_ends_there)
{
    uint32_t dsdt = ram32(fadt_addr() + 40);
    static const uint8_t aml[] = {0x10, 0x1D, 0x5C, '_', 'S', 'B', '_', 0x5B, 0x82, 0x15, 'P', 'C', 'I', '0',
                                  0x08, '_', 'H', 'I', 'D', 0x0C, 0x41, 0xD0, 0x0A, 0x03,
                                  0x08, '_', 'U', 'I', 'D', 0x00};
    uint32_t s5_len = 14;
    ck_assert_uint_eq(ram32(dsdt + 4), ACPI_HEADER_SIZE + s5_len + sizeof aml);
    ck_assert_mem_eq(phys_ptr(&pm, dsdt + ACPI_HEADER_SIZE + s5_len), aml, sizeof aml);
}
END_TEST

START_TEST(test_every_table_lies_inside_the_tables_page)
{
    uint32_t f = fadt_addr(), rsdt = ram32(find_rsdp() + 16);
    const uint32_t at[][2] = {{rsdt, ram32(rsdt + 4)}, {f, ram32(f + 4)}, {ram32(f + 36), 64},
                              {ram32(f + 40), ram32(ram32(f + 40) + 4)}};
    for (unsigned i = 0; i < 4; i++) {
        ck_assert_uint_ge(at[i][0], ACPI_TABLES_ADDR);
        ck_assert_uint_le(at[i][0] + at[i][1], ACPI_TABLES_ADDR + ACPI_TABLES_SIZE);
    }
}
END_TEST

/* ---- PM registers ---- */

static acpi_pm p;

static void pm_setup(void) { acpi_pm_init(&p); }

START_TEST(test_pm1_control_reads_sci_enabled)
{
    ck_assert_uint_eq(acpi_pm_read(&p, ACPI_PM1_CNT_OFF, 2, 0, 1000) & ACPI_PM1_SCI_EN, ACPI_PM1_SCI_EN);
    ck_assert_int_eq(acpi_pm_write(&p, ACPI_PM1_CNT_OFF, 2, 0), ACPI_PM_NONE);
    ck_assert_uint_eq(acpi_pm_read(&p, ACPI_PM1_CNT_OFF, 2, 0, 1000) & ACPI_PM1_SCI_EN, ACPI_PM1_SCI_EN);
}
END_TEST

START_TEST(test_pm1_status_bits_clear_when_written_with_one)
{
    p.sts = 0x8021;
    ck_assert_int_eq(acpi_pm_write(&p, ACPI_PM1_EVT_OFF, 2, 0x8001), ACPI_PM_NONE);
    ck_assert_uint_eq(acpi_pm_read(&p, ACPI_PM1_EVT_OFF, 2, 0, 1000), 0x0020);
}
END_TEST

START_TEST(test_pm1_enable_reads_back_what_was_written_bytewise_or_whole)
{
    acpi_pm_write(&p, ACPI_PM1_EVT_OFF + 2, 2, 0x0120);
    ck_assert_uint_eq(acpi_pm_read(&p, ACPI_PM1_EVT_OFF + 2, 2, 0, 1000), 0x0120);
    acpi_pm_write(&p, ACPI_PM1_EVT_OFF + 3, 1, 0x04);
    ck_assert_uint_eq(acpi_pm_read(&p, ACPI_PM1_EVT_OFF, 4, 0, 1000), 0x04200000u);
}
END_TEST

START_TEST(test_slp_en_with_the_s5_sleep_type_powers_off)
{
    ck_assert_int_eq(acpi_pm_write(&p, ACPI_PM1_CNT_OFF, 2, 5u << 10), ACPI_PM_NONE);
    ck_assert_int_eq(acpi_pm_write(&p, ACPI_PM1_CNT_OFF, 2, 5u << 10 | ACPI_PM1_SLP_EN), ACPI_PM_POWER_OFF);
    ck_assert_uint_eq(acpi_pm_read(&p, ACPI_PM1_CNT_OFF, 2, 0, 1000) & ACPI_PM1_SLP_EN, 0); /* write-only */
}
END_TEST

START_TEST(test_slp_en_with_another_sleep_type_is_only_reported)
{
    ck_assert_int_eq(acpi_pm_write(&p, ACPI_PM1_CNT_OFF, 2, 1u << 10 | ACPI_PM1_SLP_EN), ACPI_PM_SLEEP);
    ck_assert_uint_eq(acpi_pm_sleep_type(&p), 1);
}
END_TEST

START_TEST(test_only_the_reset_value_in_the_reset_register_resets)
{
    ck_assert_int_eq(acpi_pm_write(&p, ACPI_RESET_OFF, 1, 0x05), ACPI_PM_NONE);
    ck_assert_int_eq(acpi_pm_write(&p, ACPI_RESET_OFF, 1, ACPI_RESET_VALUE), ACPI_PM_RESET);
}
END_TEST

START_TEST(test_pm_timer_counts_3579545_ticks_a_second_in_24_bits)
{
    const uint64_t hz = 1000000000u;
    ck_assert_uint_eq(acpi_pm_timer(0, hz), 0);
    ck_assert_uint_eq(acpi_pm_timer(hz / 2, hz), 3579545u / 2);
    ck_assert_uint_eq(acpi_pm_timer(4 * hz, hz), (4u * 3579545u) & 0xFFFFFFu);
    ck_assert_uint_eq(acpi_pm_read(&p, ACPI_PM_TMR_OFF, 4, hz, hz), 3579545u);
    /* a year of cycles at 1 GHz: no overflow on the way */
    uint64_t year = 365ull * 86400 * hz;
    ck_assert_uint_eq(acpi_pm_timer(year, hz), (uint32_t)((365ull * 86400 * 3579545u) & 0xFFFFFFu));
}
END_TEST

/* ---- a guest ---- */

static machine m;

static void machine_teardown(void) { machine_free(&m); }

static uint32_t result(int i)
{
    uint32_t v;
    memcpy(&v, m.mem.ram + RESULT + 4u * (uint32_t)i, sizeof v);
    return v;
}

START_TEST(test_guest_writing_s5_to_pm1a_control_ends_the_run_with_shutdown)
{
    ck_assert_int_eq(tu_run_snippet(&m, "acpi_poweroff"), END_SHUTDOWN);
    ck_assert_uint_eq(result(0), 1);
    ck_assert_uint_eq(result(1) & ACPI_PM1_SCI_EN, ACPI_PM1_SCI_EN);
    ck_assert_ptr_nonnull(strstr(m.end_message, "S5"));
}
END_TEST

START_TEST(test_guest_writing_the_reset_register_ends_the_run_with_reboot)
{
    ck_assert_int_eq(tu_run_snippet(&m, "acpi_reset"), END_REBOOT);
    ck_assert_uint_eq(result(0), 1);
}
END_TEST

START_TEST(test_reset_register_restarts_the_machine_with_reboot_restarts)
{
    machine_config c;
    machine_config_defaults(&c);
    c.reboot_restarts = true;
    c.snap_every = 0;
    ck_assert(tu_load_snippet_with(&m, "acpi_reset", &c));
    machine_end e = machine_run(&m);
    ck_assert_uint_eq(m.reboots, 1);
    ck_assert_int_ne(e, END_REBOOT);
}
END_TEST

START_TEST(test_guest_sleeping_in_s1_carries_on)
{
    ck_assert_int_ne(tu_run_snippet(&m, "acpi_sleep_s1"), END_SHUTDOWN);
    ck_assert_uint_eq(result(0), 1);
    bool logged = false; /* as a port write nothing acted on */
    for (size_t i = 0; i < evlog_count(&m.log); i++) {
        const vm_event *ev = tu_event(&m.log, i);
        logged |= ev->kind == EV_PORT_OUT && ev->num == ACPI_PM_BASE + ACPI_PM1_CNT_OFF && ev->args[1] == 0x2401;
    }
    ck_assert(logged);
}
END_TEST

static Suite *acpi_suite(void)
{
    Suite *s = suite_create("acpi");
    TCase *t = tcase_create("tables");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, test_rsdp_is_found_by_the_bios_area_scan_with_revision_0);
    tcase_add_test(t, test_rsdt_is_valid_and_lists_the_fadt_madt_and_hpet);
    tcase_add_test(t, test_madt_describes_the_cpu_the_ioapic_and_the_isa_overrides);
    tcase_add_test(t, test_hpet_table_gives_the_block_id_and_its_memory_address);
    tcase_add_test(t, test_fadt_is_the_acpi_2_0_layout_linux_accepts);
    tcase_add_test(t, test_fadt_gives_the_pm_blocks_sci_9_and_no_smi_command);
    tcase_add_test(t, test_fadt_extended_blocks_agree_with_the_32_bit_ones);
    tcase_add_test(t, test_fadt_reset_register_is_an_io_byte_taking_the_reset_value);
    tcase_add_test(t, test_fadt_points_at_a_64_byte_aligned_facs);
    tcase_add_test(t, test_dsdt_is_valid_and_names_s5_with_sleep_type_5);
    tcase_add_test(t, test_dsdt_names_the_pci_root_bridge_and_ends_there);
    tcase_add_test(t, test_every_table_lies_inside_the_tables_page);
    suite_add_tcase(s, t);

    TCase *r = tcase_create("registers");
    tcase_add_checked_fixture(r, pm_setup, NULL);
    tcase_add_test(r, test_pm1_control_reads_sci_enabled);
    tcase_add_test(r, test_pm1_status_bits_clear_when_written_with_one);
    tcase_add_test(r, test_pm1_enable_reads_back_what_was_written_bytewise_or_whole);
    tcase_add_test(r, test_slp_en_with_the_s5_sleep_type_powers_off);
    tcase_add_test(r, test_slp_en_with_another_sleep_type_is_only_reported);
    tcase_add_test(r, test_only_the_reset_value_in_the_reset_register_resets);
    tcase_add_test(r, test_pm_timer_counts_3579545_ticks_a_second_in_24_bits);
    suite_add_tcase(s, r);

    TCase *g = tcase_create("guest");
    tcase_add_checked_fixture(g, NULL, machine_teardown);
    tcase_set_timeout(g, 60);
    tcase_add_test(g, test_guest_writing_s5_to_pm1a_control_ends_the_run_with_shutdown);
    tcase_add_test(g, test_guest_writing_the_reset_register_ends_the_run_with_reboot);
    tcase_add_test(g, test_reset_register_restarts_the_machine_with_reboot_restarts);
    tcase_add_test(g, test_guest_sleeping_in_s1_carries_on);
    suite_add_tcase(s, g);
    return s;
}

SUITE_MAIN(acpi_suite)

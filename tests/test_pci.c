/* PCI configuration mechanism #1 (emu/pci.c): the 440FX host bridge at 00:00.0 and nothing
 * else, through ports 0xCF8-0xCFF as a kernel reaches them. */
#include <check.h>

#include "emu/pci.h"
#include "support/suite_main.h"

static pci_bus P;

static void setup(void) { pci_init(&P); }

static uint32_t in(uint16_t port, int size) { return pci_read(&P, (uint16_t)(port - 0xCF8), size); }
static bool out(uint16_t port, int size, uint32_t v) { return pci_write(&P, (uint16_t)(port - 0xCF8), size, v); }

static uint32_t cfg_addr(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
    return PCI_ENABLE | bus << 16 | dev << 11 | fn << 8 | (reg & 0xFC);
}

static uint32_t cfg_read(unsigned bus, unsigned dev, unsigned fn, unsigned reg, int size)
{
    out(0xCF8, 4, cfg_addr(bus, dev, fn, reg));
    return in((uint16_t)(0xCFC + (reg & 3)), size);
}

static void cfg_write(unsigned bus, unsigned dev, unsigned fn, unsigned reg, int size, uint32_t v)
{
    out(0xCF8, 4, cfg_addr(bus, dev, fn, reg));
    out((uint16_t)(0xCFC + (reg & 3)), size, v);
}

START_TEST(test_address_register_reads_back_as_written)
{
    out(0xCF8, 4, 0x80000000u);
    ck_assert_uint_eq(in(0xCF8, 4), 0x80000000u); /* Linux's type-1 check */
    out(0xCF8, 4, 0x7F000003u);
    ck_assert_uint_eq(in(0xCF8, 4), 0); /* reserved bits read 0 */
}
END_TEST

START_TEST(test_byte_writes_near_the_address_register_leave_it_alone)
{
    out(0xCF8, 4, 0x80001234u & ~3u);
    out(0xCFB, 1, 0x01); /* Linux's type-1 probe */
    out(0xCF8, 1, 0x00);
    out(0xCFA, 2, 0x0000);
    ck_assert_uint_eq(in(0xCF8, 4), 0x80001234u & ~3u);
    ck_assert_uint_eq(in(0xCFB, 1), 0x80);
}
END_TEST

START_TEST(test_host_bridge_is_an_intel_440fx)
{
    ck_assert_uint_eq(cfg_read(0, 0, 0, 0x00, 4), 0x12378086u);
    ck_assert_uint_eq(cfg_read(0, 0, 0, 0x08, 4), 0x06000002u); /* class 060000, revision 2 */
    ck_assert_uint_eq(cfg_read(0, 0, 0, 0x0E, 1), 0x00);        /* header type 0, one function */
}
END_TEST

START_TEST(test_word_and_byte_reads_at_data_offsets_pick_the_right_bytes)
{
    ck_assert_uint_eq(cfg_read(0, 0, 0, 0x02, 2), 0x1237);
    ck_assert_uint_eq(cfg_read(0, 0, 0, 0x0B, 1), 0x06);
    ck_assert_uint_eq(cfg_read(0, 0, 0, 0x0A, 2), 0x0600); /* PCI_CLASS_DEVICE, Linux's sanity check */
}
END_TEST

START_TEST(test_absent_devices_read_all_ones)
{
    ck_assert_uint_eq(cfg_read(0, 1, 0, 0x00, 4), 0xFFFFFFFFu);
    ck_assert_uint_eq(cfg_read(0, 0, 1, 0x00, 2), 0xFFFFu);
    ck_assert_uint_eq(cfg_read(1, 0, 0, 0x00, 4), 0xFFFFFFFFu);
}
END_TEST

START_TEST(test_data_port_without_the_enable_bit_reads_all_ones)
{
    out(0xCF8, 4, 0x00000000u);
    ck_assert_uint_eq(in(0xCFC, 4), 0xFFFFFFFFu);
}
END_TEST

START_TEST(test_writes_to_read_only_registers_are_ignored)
{
    cfg_write(0, 0, 0, 0x00, 4, 0xDEADBEEFu);
    cfg_write(0, 0, 0, 0x08, 4, 0);
    cfg_write(0, 0, 0, 0x10, 4, 0xFFFFFFFFu); /* BAR sizing: no BARs */
    ck_assert_uint_eq(cfg_read(0, 0, 0, 0x00, 4), 0x12378086u);
    ck_assert_uint_eq(cfg_read(0, 0, 0, 0x08, 4), 0x06000002u);
    ck_assert_uint_eq(cfg_read(0, 0, 0, 0x10, 4), 0);
}
END_TEST

START_TEST(test_writable_registers_keep_their_writable_bits)
{
    cfg_write(0, 0, 0, 0x04, 2, 0xFFFF);
    ck_assert_uint_eq(cfg_read(0, 0, 0, 0x04, 2), 0x0547);
    cfg_write(0, 0, 0, 0x0D, 1, 0x40);
    ck_assert_uint_eq(cfg_read(0, 0, 0, 0x0D, 1), 0x40);
    cfg_write(0, 0, 0, 0x59, 1, 0x33); /* a PAM register */
    ck_assert_uint_eq(cfg_read(0, 0, 0, 0x59, 1), 0x33);
}
END_TEST

START_TEST(test_writes_to_absent_devices_go_nowhere)
{
    cfg_write(0, 1, 0, 0x0D, 1, 0x40);
    ck_assert_uint_eq(cfg_read(0, 0, 0, 0x0D, 1), 0x00);
}
END_TEST

START_TEST(test_reset_control_bit_2_resets_and_bit_1_reads_back)
{
    ck_assert(!out(0xCF9, 1, PCI_RCR_HARD));
    ck_assert_uint_eq(in(0xCF9, 1), PCI_RCR_HARD);
    ck_assert(out(0xCF9, 1, PCI_RCR_HARD | PCI_RCR_RESET));
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("pci");
    TCase *tc = tcase_create("config1");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_address_register_reads_back_as_written);
    tcase_add_test(tc, test_byte_writes_near_the_address_register_leave_it_alone);
    tcase_add_test(tc, test_host_bridge_is_an_intel_440fx);
    tcase_add_test(tc, test_word_and_byte_reads_at_data_offsets_pick_the_right_bytes);
    tcase_add_test(tc, test_absent_devices_read_all_ones);
    tcase_add_test(tc, test_data_port_without_the_enable_bit_reads_all_ones);
    tcase_add_test(tc, test_writes_to_read_only_registers_are_ignored);
    tcase_add_test(tc, test_writable_registers_keep_their_writable_bits);
    tcase_add_test(tc, test_writes_to_absent_devices_go_nowhere);
    tcase_add_test(tc, test_reset_control_bit_2_resets_and_bit_1_reads_back);
    suite_add_tcase(s, tc);
    return s;
}

SUITE_MAIN(make_suite)

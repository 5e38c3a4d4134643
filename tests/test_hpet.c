/* The HPET model (emu/hpet.c): capabilities, a main counter on virtual time at 100 MHz that
 * runs only while enabled, and the registers a guest reads back. */
#include <check.h>

#include "emu/hpet.h"
#include "support/suite_main.h"

#define CPU_HZ 1000000000ull /* 10 cycles per HPET count */

static hpet H;

static void setup(void) { hpet_init(&H, CPU_HZ); }

static uint64_t rd64(uint64_t now, uint32_t reg)
{
    return hpet_read(&H, now, reg) | (uint64_t)hpet_read(&H, now, reg + 4) << 32;
}

START_TEST(test_capabilities_give_three_64_bit_timers_at_10_ns)
{
    uint64_t cap = rd64(0, 0x000);
    ck_assert_uint_eq(cap >> 32, HPET_PERIOD_FS);
    ck_assert_uint_eq(cap & 0xFF, 1);               /* revision */
    ck_assert_uint_eq((cap >> 8) & 0x1F, 2);        /* timers - 1 */
    ck_assert_uint_eq((cap >> 13) & 1, 1);          /* 64-bit counter */
    ck_assert_uint_eq((cap >> 16) & 0xFFFF, 0x8086);
}
END_TEST

START_TEST(test_counter_stands_until_enabled_then_counts_cycles_scaled_to_100_mhz)
{
    ck_assert_uint_eq(rd64(5000, 0x0F0), 0);
    hpet_write(&H, 5000, 0x010, 1);
    ck_assert_uint_eq(rd64(5000, 0x0F0), 0);
    ck_assert_uint_eq(rd64(5010, 0x0F0), 1);
    ck_assert_uint_eq(rd64(5000 + 10 * 12345, 0x0F0), 12345);
}
END_TEST

START_TEST(test_disabling_holds_the_count_and_enabling_continues_from_it)
{
    hpet_write(&H, 0, 0x010, 1);
    hpet_write(&H, 1000, 0x010, 0);
    ck_assert_uint_eq(rd64(9000, 0x0F0), 100);
    hpet_write(&H, 9000, 0x010, 1);
    ck_assert_uint_eq(rd64(9100, 0x0F0), 110);
}
END_TEST

START_TEST(test_counter_is_writable_only_while_halted)
{
    hpet_write(&H, 0, 0x0F0, 500);
    hpet_write(&H, 0, 0x0F4, 1);
    ck_assert_uint_eq(rd64(0, 0x0F0), (1ull << 32) + 500);
    hpet_write(&H, 0, 0x010, 1);
    hpet_write(&H, 0, 0x0F0, 7);
    ck_assert_uint_eq(rd64(100, 0x0F0), (1ull << 32) + 510);
}
END_TEST

START_TEST(test_timer_registers_read_back_with_their_capabilities)
{
    hpet_write(&H, 0, 0x108, 0x1234);
    ck_assert_uint_eq(rd64(0, 0x108), 0xFFFFFFFF00001234ull);
    hpet_write(&H, 0, 0x100, 0x4 | 0x8);
    uint64_t conf = rd64(0, 0x100);
    ck_assert_uint_eq(conf & 0xC, 0xC);
    ck_assert_uint_eq(conf & 0x30, 0x30);            /* periodic and 64-bit capable */
    ck_assert_uint_eq(rd64(0, 0x120) & 0x10, 0);     /* timer 1: not periodic capable */
}
END_TEST

START_TEST(test_interrupt_status_is_write_one_to_clear)
{
    H.status = 5;
    hpet_write(&H, 0, 0x020, 1);
    ck_assert_uint_eq(rd64(0, 0x020), 4);
}
END_TEST

static Suite *hpet_suite(void)
{
    Suite *s = suite_create("hpet");
    TCase *tc = tcase_create("hpet");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_capabilities_give_three_64_bit_timers_at_10_ns);
    tcase_add_test(tc, test_counter_stands_until_enabled_then_counts_cycles_scaled_to_100_mhz);
    tcase_add_test(tc, test_disabling_holds_the_count_and_enabling_continues_from_it);
    tcase_add_test(tc, test_counter_is_writable_only_while_halted);
    tcase_add_test(tc, test_timer_registers_read_back_with_their_capabilities);
    tcase_add_test(tc, test_interrupt_status_is_write_one_to_clear);
    suite_add_tcase(s, tc);
    return s;
}

SUITE_MAIN(hpet_suite)

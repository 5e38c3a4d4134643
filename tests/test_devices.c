/* Devices behind the port bus: the 8250 UART and the CMOS clock. */
#include <check.h>
#include <string.h>

#include "emu/cmos.h"
#include "emu/uart.h"
#include "support/suite_main.h"

static uint8_t sent[64];
static size_t nsent;

static void tx(void *ctx, uint8_t b)
{
    (void)ctx;
    if (nsent < sizeof sent)
        sent[nsent++] = b;
}

/* A write as the machine does it: a transmitted byte goes to tx. */
static void wr(uart *u, uint16_t offset, uint32_t value)
{
    int b = uart_write(u, NULL, offset, value);
    if (b != UART_NO_TX)
        tx(NULL, (uint8_t)b);
}

START_TEST(test_uart_transmits_data_register_writes)
{
    uart u;
    nsent = 0;
    uart_init(&u);
    wr(&u, 0, 'h');
    wr(&u, 0, 'i');
    ck_assert_uint_eq(nsent, 2);
    ck_assert_mem_eq(sent, "hi", 2);
    ck_assert_uint_eq(u.tx_bytes, 2);
}
END_TEST

START_TEST(test_uart_line_status_shows_transmitter_ready_and_data)
{
    uart u;
    uart_init(&u);
    ck_assert_uint_eq(uart_read(&u, NULL, 5), 0x60);
    ck_assert_uint_eq(uart_push_input(&u, NULL, (const uint8_t *)"ok", 2), 2);
    ck_assert_uint_eq(uart_read(&u, NULL, 5), 0x61);
    ck_assert_uint_eq(uart_read(&u, NULL, 0), 'o');
    ck_assert_uint_eq(uart_read(&u, NULL, 0), 'k');
    ck_assert_uint_eq(uart_read(&u, NULL, 5) & 1, 0);
}
END_TEST

START_TEST(test_uart_divisor_latch_is_reached_with_dlab)
{
    uart u;
    nsent = 0;
    uart_init(&u);
    wr(&u, 3, 0x80);
    wr(&u, 0, 0x01);
    wr(&u, 1, 0x00);
    ck_assert_uint_eq(u.divisor, 1);
    ck_assert_uint_eq(nsent, 0); /* divisor writes are not data */
    ck_assert_uint_eq(uart_read(&u, NULL, 0), 1);
    wr(&u, 3, 0x03);
    ck_assert_uint_eq(uart_read(&u, NULL, 3), 0x03);
}
END_TEST

START_TEST(test_uart_input_queue_is_bounded)
{
    static uart u;
    uart_init(&u);
    static uint8_t big[UART_INPUT_MAX + 10];
    ck_assert_uint_eq(uart_push_input(&u, NULL, big, sizeof big), UART_INPUT_MAX);
}
END_TEST

static uint64_t fixed_ns;

static uint8_t rd(cmos *c, uint8_t reg)
{
    cmos_write(c, 0, reg);
    return (uint8_t)cmos_read(c, fixed_ns, 1);
}

START_TEST(test_cmos_reports_the_virtual_wall_clock_in_bcd)
{
    cmos c;
    cmos_init(&c);
    fixed_ns = 1767237907ull * 1000000000ull; /* 2026-01-01 03:25:07 UTC, a Thursday */
    ck_assert_uint_eq(rd(&c, 0), 0x07);
    ck_assert_uint_eq(rd(&c, 2), 0x25);
    ck_assert_uint_eq(rd(&c, 4), 0x03);
    ck_assert_uint_eq(rd(&c, 6), 5);
    ck_assert_uint_eq(rd(&c, 7), 0x01);
    ck_assert_uint_eq(rd(&c, 8), 0x01);
    ck_assert_uint_eq(rd(&c, 9), 0x26);
    ck_assert_uint_eq(rd(&c, 0x32), 0x20);
}
END_TEST

/* UIP: set from 244 us before each second's update to the end of the update (1984 us), clear
 * in between; the guest cannot write it, but it can write the divider and rate bits. */
START_TEST(test_cmos_update_in_progress_brackets_each_second_boundary)
{
    cmos c;
    cmos_init(&c);
    uint64_t second = 1767237907ull * 1000000000ull;
    static const struct { int64_t offset_ns; uint8_t uip; } cases[] = {
        {-244001, 0}, {-244000, 0x80}, {-1, 0x80}, {0, 0x80}, {1983999, 0x80}, {1984000, 0}, {500000000, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fixed_ns = second + (uint64_t)cases[i].offset_ns;
        ck_assert_msg((rd(&c, 0x0A) & 0x80) == cases[i].uip, "offset %lld ns", (long long)cases[i].offset_ns);
        ck_assert_uint_eq(rd(&c, 0x0A) & 0x7F, 0x26);
    }
    cmos_write(&c, 0, 0x0A);
    cmos_write(&c, 1, 0xA6); /* rate 6 (1024 Hz), and an attempt to set UIP */
    fixed_ns = second + 500000000u;
    ck_assert_uint_eq(rd(&c, 0x0A), 0x26);
    cmos_write(&c, 0, 0x0A);
    cmos_write(&c, 1, 0x2F);
    ck_assert_uint_eq(rd(&c, 0x0A), 0x2F);
}
END_TEST

START_TEST(test_cmos_binary_mode_when_the_guest_asks)
{
    cmos c;
    cmos_init(&c);
    fixed_ns = 951782400ull * 1000000000ull; /* 2000-02-29 00:00:00 */
    cmos_write(&c, 0, 0x0B);
    cmos_write(&c, 1, 0x06);
    ck_assert_uint_eq(rd(&c, 7), 29);
    ck_assert_uint_eq(rd(&c, 8), 2);
    ck_assert_uint_eq(rd(&c, 9), 0);
}
END_TEST

START_TEST(test_civil_dates_across_leap_years)
{
    int y, m, d;
    cmos_civil_from_days(0, &y, &m, &d);
    ck_assert(y == 1970 && m == 1 && d == 1);
    cmos_civil_from_days(11016, &y, &m, &d);
    ck_assert(y == 2000 && m == 2 && d == 29);
    cmos_civil_from_days(20454, &y, &m, &d);
    ck_assert(y == 2026 && m == 1 && d == 1);
}
END_TEST

static Suite *devices_suite(void)
{
    Suite *s = suite_create("devices");
    TCase *tc = tcase_create("ports");
    tcase_add_test(tc, test_uart_transmits_data_register_writes);
    tcase_add_test(tc, test_uart_line_status_shows_transmitter_ready_and_data);
    tcase_add_test(tc, test_uart_divisor_latch_is_reached_with_dlab);
    tcase_add_test(tc, test_uart_input_queue_is_bounded);
    tcase_add_test(tc, test_cmos_reports_the_virtual_wall_clock_in_bcd);
    tcase_add_test(tc, test_cmos_binary_mode_when_the_guest_asks);
    tcase_add_test(tc, test_cmos_update_in_progress_brackets_each_second_boundary);
    tcase_add_test(tc, test_civil_dates_across_leap_years);
    suite_add_tcase(s, tc);
    return s;
}

SUITE_MAIN(devices_suite)

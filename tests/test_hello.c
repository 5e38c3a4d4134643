/* The hello kernel end to end, in-process: what it prints, the calls it makes in order with
 * their instruction counts, bit-identical repeat runs, and the native path without a ROM. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "rom/rom.h"
#include "support/suite_main.h"
#include "support/testutil.h"

static tu_machine *t;

static void setup(void) { t = calloc(1, sizeof *t); }

static void teardown(void)
{
    machine_free(&t->m);
    free(t);
}

static void run_hello(const machine_config *cfg)
{
    vm_error err = {0};
    ck_assert_msg(tu_boot_and_run(t, cfg, tu_kernel("hello"), &err), "%s", err.msg);
}

static size_t count_calls(const machine *m, uint16_t num)
{
    size_t n = 0;
    for (size_t i = 0; i < evlog_count(&m->log); i++)
        n += tu_event(&m->log, i)->kind == EV_VMI_CALL && tu_event(&m->log, i)->num == num;
    return n;
}

START_TEST(test_hello_passes_and_exits_through_the_exit_port)
{
    run_hello(NULL);
    ck_assert_ptr_nonnull(strstr(t->serial, "VMI ROM found at 0x000c0000, API 3.0"));
    ck_assert_ptr_nonnull(strstr(t->serial, "rom checksum: ok"));
    ck_assert_ptr_nonnull(strstr(t->serial, "hello: PASS"));
    ck_assert_ptr_null(strstr(t->serial, "FAIL"));
    ck_assert_int_eq(t->m.end, END_EXIT_PORT);
    ck_assert_uint_eq(t->m.exit_value, 0x10);
}
END_TEST

START_TEST(test_hello_calls_init_first_then_relocation_for_every_number)
{
    run_hello(NULL);
    const evlog *log = &t->m.log;
    ck_assert_uint_ge(evlog_count(log), 1 + ROM_NUM_CALLS);
    ck_assert_uint_eq(tu_event(log, 0)->num, EV_NUM_INIT);
    for (uint32_t n = 0; n < ROM_NUM_CALLS; n++) {
        const vm_event *ev = tu_event(log, 1 + n);
        ck_assert_uint_eq(ev->kind, EV_VMI_CALL);
        ck_assert_uint_eq(ev->num, EV_NUM_RELOC);
        ck_assert_uint_eq(ev->args[0], n);
        ck_assert_uint_eq(ev->result >> 32 & 0xFF, rom_reloc_of(n));
    }
}
END_TEST

START_TEST(test_hello_makes_every_foundation_call_in_order)
{
    run_hello(NULL);
    const evlog *log = &t->m.log;
    const uint16_t expect[] = {0, 0, 27, 27, 66, 67, 67, 67, 67, 67, 67, 70, 71}; /* IODelay: NOP */
    size_t first = 1 + ROM_NUM_CALLS, n = sizeof expect / sizeof expect[0];
    ck_assert_uint_eq(evlog_count(log), first + n + 1); /* + the end event */
    for (size_t i = 0; i < n; i++)
        ck_assert_uint_eq(tu_event(log, first + i)->num, expect[i]);
    ck_assert_uint_eq(tu_event(log, first + n)->kind, EV_END);
    /* The counter argument walks real, available, stolen, two reads each. */
    for (size_t i = 0; i < 6; i++)
        ck_assert_uint_eq(tu_event(log, first + 5 + i)->args[0], i / 2);
}
END_TEST

START_TEST(test_event_icounts_increase_and_time_results_equal_them)
{
    run_hello(NULL);
    const evlog *log = &t->m.log;
    for (size_t i = 1; i < evlog_count(log); i++)
        ck_assert_uint_gt(tu_event(log, i)->icount, tu_event(log, i - 1)->icount);
    for (size_t i = 0; i < evlog_count(log); i++) {
        const vm_event *ev = tu_event(log, i);
        if (ev->kind == EV_VMI_CALL && (ev->num == 27 || (ev->num == 67 && ev->args[0] < 2)))
            ck_assert_uint_eq(ev->result, ev->icount);
        if (ev->kind == EV_VMI_CALL && ev->num == 70)
            ck_assert_uint_eq(ev->result, (uint64_t)MACHINE_DEFAULT_EPOCH * 1000000000ull
                                              + ev->icount * 1000u / MACHINE_DEFAULT_MHZ);
    }
}
END_TEST

START_TEST(test_two_runs_give_identical_logs_and_serial_output)
{
    run_hello(NULL);
    char *log1 = tu_log_text(&t->m);
    char *serial1 = strdup(t->serial);
    machine_free(&t->m);
    run_hello(NULL);
    char *log2 = tu_log_text(&t->m);
    ck_assert_str_eq(log1, log2);
    ck_assert_str_eq(serial1, t->serial);
    free(log1);
    free(log2);
    free(serial1);
}
END_TEST

START_TEST(test_options_change_time_but_not_determinism)
{
    machine_config c;
    machine_config_defaults(&c);
    c.cpu_mhz = 250;
    c.epoch = 1000000000;
    run_hello(&c);
    ck_assert_ptr_nonnull(strstr(t->serial, "cycle frequency: 250000000 Hz"));
    ck_assert_ptr_nonnull(strstr(t->serial, "wallclock: 1000000000."));
    ck_assert_ptr_nonnull(strstr(t->serial, "hello: PASS"));
}
END_TEST

START_TEST(test_without_rom_hello_runs_natively_and_passes)
{
    machine_config c;
    machine_config_defaults(&c);
    c.rom_enabled = false;
    run_hello(&c);
    ck_assert_ptr_nonnull(strstr(t->serial, "running natively"));
    ck_assert_ptr_nonnull(strstr(t->serial, "hello: PASS"));
    ck_assert_uint_eq(count_calls(&t->m, EV_NUM_INIT), 0);
    ck_assert_uint_eq(evlog_count(&t->m.log), 1); /* only the end */
    ck_assert_uint_eq(t->m.exit_value, 0x10);
}
END_TEST

START_TEST(test_native_wallclock_comes_from_the_virtual_cmos_clock)
{
    machine_config c;
    machine_config_defaults(&c);
    c.rom_enabled = false;
    c.epoch = 1767225600 + 3 * 3600 + 25 * 60 + 7; /* 2026-01-01 03:25:07 */
    run_hello(&c);
    ck_assert_ptr_nonnull(strstr(t->serial, "wallclock: 1767237907."));
}
END_TEST

START_TEST(test_endings_shutdown_halt_reboot)
{
    static const struct { const char *word; machine_end end; } cases[] = {
        {"shutdown", END_SHUTDOWN}, {"halt", END_HALTED}, {"reboot", END_REBOOT}};
    for (size_t i = 0; i < 3; i++) {
        machine_config c;
        machine_config_defaults(&c);
        c.cmdline = cases[i].word;
        run_hello(&c);
        ck_assert_int_eq(t->m.end, cases[i].end);
        ck_assert_ptr_nonnull(strstr(t->serial, "hello: PASS"));
        machine_free(&t->m);
    }
    memset(&t->m, 0, sizeof t->m);
}
END_TEST

START_TEST(test_reboot_restarts_boots_again_and_time_keeps_running)
{
    machine_config c;
    machine_config_defaults(&c);
    c.cmdline = "reboot";
    c.reboot_restarts = true;
    c.max_insns = 600000;
    run_hello(&c);
    ck_assert_int_eq(t->m.end, END_LIMIT);
    ck_assert_uint_ge(t->m.reboots, 2);
    ck_assert_uint_eq(machine_insns(&t->m), 600000);
    ck_assert_uint_ge(count_calls(&t->m, EV_NUM_INIT), 3);
    /* Time never goes back: the second boot's first RDTSC is beyond the first boot's last. */
    const evlog *log = &t->m.log;
    for (size_t i = 1; i < evlog_count(log); i++)
        ck_assert_uint_ge(tu_event(log, i)->icount, tu_event(log, i - 1)->icount);
}
END_TEST

static Suite *hello_suite(void)
{
    Suite *s = suite_create("hello");
    TCase *tc = tcase_create("boot");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_hello_passes_and_exits_through_the_exit_port);
    tcase_add_test(tc, test_hello_calls_init_first_then_relocation_for_every_number);
    tcase_add_test(tc, test_hello_makes_every_foundation_call_in_order);
    tcase_add_test(tc, test_event_icounts_increase_and_time_results_equal_them);
    tcase_add_test(tc, test_two_runs_give_identical_logs_and_serial_output);
    tcase_add_test(tc, test_options_change_time_but_not_determinism);
    tcase_add_test(tc, test_without_rom_hello_runs_natively_and_passes);
    tcase_add_test(tc, test_native_wallclock_comes_from_the_virtual_cmos_clock);
    tcase_add_test(tc, test_endings_shutdown_halt_reboot);
    tcase_add_test(tc, test_reboot_restarts_boots_again_and_time_keeps_running);
    suite_add_tcase(s, tc);
    return s;
}

SUITE_MAIN(hello_suite)

/* The ways a PC guest resets itself, each ending the run as a reboot (exit status 6), or
 * restarting the machine under --reboot-restarts: the keyboard controller's reset line (0xFE to
 * port 0x64, Linux's restart), fast reset at port 0x92, the PIIX reset control register 0xCF9
 * and a triple fault (Linux's last resort). */
#include <check.h>
#include <string.h>

#include "support/suite_main.h"
#include "support/testutil.h"

#define RESULT 0x5000u

static machine m;

static void teardown(void) { machine_free(&m); }

static uint32_t result(int i)
{
    uint32_t v;
    memcpy(&v, m.mem.ram + RESULT + 4u * (uint32_t)i, sizeof v);
    return v;
}

static const vm_event *last_event(void) { return tu_event(&m.log, evlog_count(&m.log) - 1); }

START_TEST(test_0xfe_to_port_0x64_reboots_right_after_the_out)
{
    ck_assert_int_eq(tu_run_snippet(&m, "reboot_kbc"), END_REBOOT);
    ck_assert_uint_eq(result(0), 0);
    ck_assert_uint_eq(result(1) & 0x02, 0); /* the input buffer was empty at once */
    ck_assert_ptr_nonnull(strstr(m.end_message, "port 0x64"));
    ck_assert_uint_eq(last_event()->kind, EV_END);
    ck_assert_uint_eq(last_event()->num, END_REBOOT);
}
END_TEST

START_TEST(test_setting_bit_0_of_port_0x92_reboots)
{
    ck_assert_int_eq(tu_run_snippet(&m, "reboot_port92"), END_REBOOT);
    ck_assert_uint_eq(result(0), 0);
    ck_assert_uint_eq(result(1), 0x02); /* A20 on, as the BIOS leaves it */
    ck_assert_ptr_nonnull(strstr(m.end_message, "0x92"));
}
END_TEST

START_TEST(test_reset_bit_of_port_0xcf9_reboots)
{
    ck_assert_int_eq(tu_run_snippet(&m, "reboot_cf9"), END_REBOOT);
    ck_assert_uint_eq(result(0), 0);
    ck_assert_ptr_nonnull(strstr(m.end_message, "0xCF9"));
}
END_TEST

START_TEST(test_a_triple_fault_reboots_and_says_so)
{
    ck_assert_int_eq(tu_run_snippet(&m, "deliver_triple"), END_REBOOT);
    ck_assert_ptr_nonnull(strstr(m.end_message, "triple"));
}
END_TEST

/* Under --reboot-restarts the machine powers on again and boots its kernel afresh (hello,
 * which then ends by itself), as with VMI Reboot. */
static void run_restarting(const char *snippet)
{
    machine_config c;
    machine_config_defaults(&c);
    c.reboot_restarts = true;
    ck_assert(tu_load_snippet_with(&m, snippet, &c));
    machine_end end = machine_run(&m);
    ck_assert_int_ne(end, END_REBOOT);
    ck_assert_int_ne(end, END_CRASH);
    ck_assert_uint_eq(m.reboots, 1);
}

START_TEST(test_keyboard_controller_reset_restarts_the_machine_with_reboot_restarts)
{
    run_restarting("reboot_kbc");
}
END_TEST

START_TEST(test_a_triple_fault_restarts_the_machine_with_reboot_restarts)
{
    run_restarting("deliver_triple");
}
END_TEST

START_TEST(test_the_keyboard_controller_is_back_in_its_power_on_state_after_a_restart)
{
    machine_config c;
    machine_config_defaults(&c);
    c.reboot_restarts = true;
    ck_assert(tu_load_snippet_with(&m, "reboot_kbc", &c));
    m.kbc.ram[0] = 0;
    m.sysctl.value = 0x03;
    machine_run(&m);
    ck_assert_uint_eq(m.reboots, 1);
    ck_assert_uint_ne(m.kbc.ram[0], 0);
    ck_assert_uint_eq(m.sysctl.value, 0x02);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("platform");
    TCase *tc = tcase_create("reset");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, test_0xfe_to_port_0x64_reboots_right_after_the_out);
    tcase_add_test(tc, test_setting_bit_0_of_port_0x92_reboots);
    tcase_add_test(tc, test_reset_bit_of_port_0xcf9_reboots);
    tcase_add_test(tc, test_a_triple_fault_reboots_and_says_so);
    tcase_add_test(tc, test_keyboard_controller_reset_restarts_the_machine_with_reboot_restarts);
    tcase_add_test(tc, test_a_triple_fault_restarts_the_machine_with_reboot_restarts);
    tcase_add_test(tc, test_the_keyboard_controller_is_back_in_its_power_on_state_after_a_restart);
    suite_add_tcase(s, tc);
    return s;
}

SUITE_MAIN(make_suite)

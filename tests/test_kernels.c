/* The test kernels of the complete machine boot on vmiemu and pass every check they print;
 * their event logs show the VMI traffic each one is about. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support/suite_main.h"
#include "support/testutil.h"

static run_result r;
static char *log_text;

static void teardown(void)
{
    tu_free(&r);
    free(log_text);
    log_text = NULL;
}

/* Boot NAME with --log into a temp file; assert exit 33, "NAME: PASS" and no FAIL line. */
static char *boot_passes(const char *name)
{
    char log[4096], want[128];
    snprintf(log, sizeof log, "%s", tu_tmp(name));
    const char *args[] = {"--log", log, tu_kernel(name), NULL};
    r = tu_run(args);
    snprintf(want, sizeof want, "%s: PASS", name);
    ck_assert_msg(r.status == 33, "%s exited %d\n%s%s", name, r.status, r.out, r.err);
    ck_assert_msg(strstr(r.out, want), "%s did not pass:\n%s", name, r.out);
    ck_assert_msg(!strstr(r.out, "FAIL"), "%s printed a FAIL:\n%s", name, r.out);
    FILE *f = fopen(log, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    free(log_text);
    log_text = malloc((size_t)size + 1);
    size_t n = fread(log_text, 1, (size_t)size, f);
    log_text[n] = 0;
    fclose(f);
    unlink(log);
    return log_text;
}

static int count(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

/* bench's measure of an interrupt-flag call: 3 calls per iteration, each in the event log. */
START_TEST(test_callloop_irqflags_makes_three_logged_flag_calls_per_iteration)
{
    char log[4096];
    snprintf(log, sizeof log, "%s", tu_tmp("callloop-irqflags"));
    const char *args[] = {"--log", log, "--append", "iters=100 irqflags", tu_kernel("callloop"), NULL};
    r = tu_run(args);
    ck_assert_msg(r.status == 33, "callloop exited %d\n%s%s", r.status, r.out, r.err);
    ck_assert_msg(strstr(r.out, "100 x 3 interrupt-flag calls via the ROM, IF set 0 times"), "%s", r.out);
    FILE *f = fopen(log, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    log_text = malloc((size_t)size + 1);
    size_t n = fread(log_text, 1, (size_t)size, f);
    log_text[n] = 0;
    fclose(f);
    unlink(log);
    /* 100 iterations + one of each that the library makes before the loop (iters=0 makes 1) */
    ck_assert_int_eq(count(log_text, "\"call\":\"GetInterruptMask\""), 101);
    ck_assert_int_eq(count(log_text, "\"call\":\"DisableInterrupts\""), 101);
    ck_assert_int_eq(count(log_text, "\"call\":\"SetInterruptMask\""), 101);
}
END_TEST

START_TEST(test_exceptions_kernel_passes_with_every_class_delivered)
{
    char *log = boot_passes("exceptions");
    ck_assert_int_gt(count(log, "\"kind\":\"exception\""), 10);
    ck_assert_int_gt(count(log, "\"vector\":14"), 0);
}
END_TEST

START_TEST(test_paging_kernel_passes_through_set_pxe_and_the_alias)
{
    char *log = boot_passes("paging");
    ck_assert_int_gt(count(log, "\"call\":\"SetPxE\""), 10);
    ck_assert_int_gt(count(log, "\"call\":\"AllocatePage\""), 0);
    ck_assert_int_gt(count(log, "\"call\":\"InvalPage\""), 0);
    ck_assert_int_gt(count(log, "\"eip\":3222" /* 0xC00C.... callers through the alias */), 0);
}
END_TEST

START_TEST(test_usermode_kernel_passes_with_syscalls_and_iret)
{
    char *log = boot_passes("usermode");
    ck_assert_int_gt(count(log, "\"vector\":128"), 0);
    ck_assert_int_gt(count(log, "\"call\":\"IRET\""), 0);
}
END_TEST

START_TEST(test_timer_kernel_passes_with_alarms_and_halts)
{
    char *log = boot_passes("timer");
    ck_assert_int_ge(count(log, "\"call\":\"SetAlarm\""), 2);
    ck_assert_int_ge(count(log, "\"call\":\"Halt\""), 10);
    ck_assert_int_ge(count(log, "\"source\":\"external\""), 10);
}
END_TEST

START_TEST(test_descriptors_kernel_passes)
{
    char *log = boot_passes("descriptors");
    ck_assert_int_gt(count(log, "\"call\":\"WriteGDTEntry\""), 0);
    ck_assert_int_gt(count(log, "\"call\":\"SetLDT\""), 0);
}
END_TEST

START_TEST(test_linuxlike_kernel_follows_the_linux_client_order)
{
    char *log = boot_passes("linuxlike");
    const char *init = strstr(log, "\"call\":\"Init\"");
    const char *mapping = strstr(log, "\"call\":\"SetLinearMapping\"");
    const char *lvt = strstr(log, "\"call\":\"APICWrite\"");
    ck_assert_ptr_nonnull(init);
    ck_assert_ptr_nonnull(mapping);
    ck_assert_ptr_nonnull(lvt);
    ck_assert(init < mapping && mapping < lvt); /* Init, ..., SetLinearMapping, then the APIC timer */
    ck_assert_ptr_nonnull(strstr(mapping, "\"linear\":\"0xc0000000\""));
    ck_assert_int_ge(count(log, "\"call\":\"SetPxE\""), 2050);
    ck_assert_int_ge(count(log, "\"flags\":\"real periodic apic-lvt\""), 1);
}
END_TEST

static Suite *kernels_suite(void)
{
    Suite *s = suite_create("kernels");
    TCase *tc = tcase_create("vmiemu");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 600); /* timer writes ~600 MB of log: 3.5 min under the sanitizers, more on a loaded machine */
    tcase_add_test(tc, test_exceptions_kernel_passes_with_every_class_delivered);
    tcase_add_test(tc, test_callloop_irqflags_makes_three_logged_flag_calls_per_iteration);
    tcase_add_test(tc, test_paging_kernel_passes_through_set_pxe_and_the_alias);
    tcase_add_test(tc, test_usermode_kernel_passes_with_syscalls_and_iret);
    tcase_add_test(tc, test_timer_kernel_passes_with_alarms_and_halts);
    tcase_add_test(tc, test_descriptors_kernel_passes);
    tcase_add_test(tc, test_linuxlike_kernel_follows_the_linux_client_order);
    suite_add_tcase(s, tc);
    return s;
}

SUITE_MAIN(kernels_suite)

/* --quiet-calls irqflags: the interrupt-flag calls run in their ROM slots as plain guest code,
 * neither logged nor recorded; the guest gets the same answers, the record replays, and a
 * VMI-call breakpoint on one of them still stops there (the debugger's and the GDB stub's). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "support/suite_main.h"
#include "support/testutil.h"

#define RUN(...) TU_RUN(r, __VA_ARGS__)

#define LOOP "iters=200 irqflags" /* callloop: 200 x (GetInterruptMask, DisableInterrupts, SetInterruptMask) */

static run_result r;

static void teardown(void) { tu_free(&r); }

/* How many lines of the --log file at path log a call named `call` (not GetRelocationInfo's
 * answers about it). */
static size_t calls_logged(const char *path, const char *call)
{
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char line[4096], needle[64];
    snprintf(needle, sizeof needle, "\"kind\":\"vmi\",\"call\":\"%s\"", call);
    size_t n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

static long file_size(const char *path)
{
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    return (long)st.st_size;
}

static size_t count_of(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

START_TEST(test_quiet_irqflags_leave_the_calls_out_of_the_log_and_the_record_which_replays)
{
    char log[4096], quiet_log[4096], rec[4096], quiet_rec[4096];
    snprintf(log, sizeof log, "%s", tu_tmp("quiet_loud.jsonl"));
    snprintf(quiet_log, sizeof quiet_log, "%s", tu_tmp("quiet_quiet.jsonl"));
    snprintf(rec, sizeof rec, "%s", tu_tmp("quiet_loud.rec"));
    snprintf(quiet_rec, sizeof quiet_rec, "%s", tu_tmp("quiet_quiet.rec"));
    RUN("--serial", "stdio", "--log", log, "--record", rec, "--append", LOOP, tu_kernel("callloop"));
    ck_assert_int_eq(r.status, 33);
    ck_assert_ptr_nonnull(strstr(r.out, "callloop: PASS"));
    ck_assert_uint_ge(calls_logged(log, "DisableInterrupts"), 200);
    ck_assert_uint_ge(calls_logged(log, "SetInterruptMask"), 200);
    RUN("--serial", "stdio", "--quiet-calls", "irqflags", "--log", quiet_log, "--record", quiet_rec, "--append", LOOP,
        tu_kernel("callloop"));
    ck_assert_int_eq(r.status, 33);
    ck_assert_ptr_nonnull(strstr(r.out, "callloop: PASS")); /* the mask read back IF clear each time */
    static const char *const quiet[] = {"EnableInterrupts", "DisableInterrupts", "GetInterruptMask", "SetInterruptMask"};
    for (size_t i = 0; i < 4; i++)
        ck_assert_uint_eq(calls_logged(quiet_log, quiet[i]), 0);
    ck_assert_uint_gt(calls_logged(quiet_log, "GetRelocationInfo"), 0); /* the rest is still there */
    ck_assert_int_lt(file_size(quiet_rec), file_size(rec));
    /* The replay takes the setting from the record and matches it. */
    RUN("--serial", "none", "--replay", quiet_rec, tu_kernel("callloop"));
    ck_assert_msg(r.status == 33 && strstr(r.err, "replay matched the record"), "status %d: %s", r.status, r.err);
    /* A record with every call cannot be replayed leaving some out. */
    RUN("--serial", "none", "--quiet-calls", "irqflags", "--replay", rec, tu_kernel("callloop"));
    ck_assert_int_eq(r.status, 2);
    ck_assert_msg(strstr(r.err, "calls left out (--quiet-calls: 0 = none, 1 = irqflags): recorded 0, this run 1"), "%s",
                  r.err);
}
END_TEST

START_TEST(test_break_vmi_stops_at_a_quiet_call_and_leaves_it_unlogged)
{
    char log[4096], script[4096];
    snprintf(log, sizeof log, "%s", tu_tmp("quiet_break.jsonl"));
    snprintf(script, sizeof script, "%s", tu_tmp("quiet_break.txt"));
    tu_write_text(script, "break vmi DisableInterrupts\ncontinue\ncontinue\ndelete 1\ncontinue\n");
    RUN("--serial", "none", "--quiet-calls", "irqflags", "--log", log, "-x", script, "--append", LOOP,
        tu_kernel("callloop"));
    ck_assert_msg(r.status == 33, "status %d: %s%s", r.status, r.out, r.err);
    ck_assert_msg(count_of(r.out, "Breakpoint 1, VMI call DisableInterrupts (#30) at 0x000c04c0") == 2, "%s", r.out);
    ck_assert_msg(count_of(r.out, "=> 0x000c04c0: cli") == 2, "%s", r.out);
    ck_assert_uint_eq(calls_logged(log, "DisableInterrupts"), 0);
}
END_TEST

START_TEST(test_quiet_calls_refuse_unknown_sets_and_the_checker)
{
    RUN("--quiet-calls", "rdtsc", tu_kernel("hello"));
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "--quiet-calls: 'rdtsc' is not a set of calls (irqflags)"));
    RUN("--serial", "none", "--quiet-calls", "irqflags", "--check-vmi", tu_kernel("hello"));
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "--quiet-calls and --check-vmi cannot be used together"));
}
END_TEST

static Suite *quiet_calls_suite(void)
{
    Suite *s = suite_create("quiet_calls");
    TCase *tc = tcase_create("irqflags");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, test_quiet_irqflags_leave_the_calls_out_of_the_log_and_the_record_which_replays);
    tcase_add_test(tc, test_break_vmi_stops_at_a_quiet_call_and_leaves_it_unlogged);
    tcase_add_test(tc, test_quiet_calls_refuse_unknown_sets_and_the_checker);
    suite_add_tcase(s, tc);
    return s;
}

SUITE_MAIN(quiet_calls_suite)

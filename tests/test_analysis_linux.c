/* diff, stats and --trace-out on the real VMI Linux guest (skipped, exit 77, without it): two
 * boots that differ only in their command line, cut at the same instruction count. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support/suite_main.h"
#include "support/testutil.h"

#define BOOT_INSNS "62000000" /* past parse_args (where `quiet` first changes the calls) and the first timer interrupts */

static char bzimage[TU_GUEST_PATH], initramfs[TU_GUEST_PATH], sysmap[TU_GUEST_PATH];
static char rec_a[512], rec_b[512];
static run_result r;

static void teardown(void) { tu_free(&r); }

static void boot(char *rec, const char *stem, const char *append, const char *trace)
{
    snprintf(rec, 512, "%s", tu_tmp(stem));
    const char *args[] = {"--serial", "none", "--max-insns", BOOT_INSNS, "--initrd", initramfs, "--append", append,
                          "--record", rec, trace ? "--trace-out" : bzimage, trace, trace ? bzimage : NULL, NULL};
    tu_free(&r);
    r = tu_run(args);
    ck_assert_msg(r.status == 8, "boot '%s': status %d: %s", append, r.status, r.err);
}

START_TEST(test_diff_of_two_linux_boots_names_the_functions_where_they_part)
{
    boot(rec_a, "linux-a.rec", "console=ttyS0", NULL);
    boot(rec_b, "linux-b.rec", "console=ttyS0 quiet", NULL);
    const char *args[] = {"diff", "--symbols", sysmap, rec_a, rec_b, NULL};
    tu_free(&r);
    r = tu_run(args);
    ck_assert_msg(r.status == 1, "status %d: %s%s", r.status, r.out, r.err);
    char *lt = strstr(r.out, "  < A call #"), *gt = strstr(r.out, "  > B call #");
    ck_assert_msg(lt && gt, "%s", r.out);
    /* Both callers are named from System.map, and they differ or the call does. */
    ck_assert_msg(strstr(lt, " <") && strstr(gt, " <"), "%s", r.out);
    ck_assert_ptr_nonnull(strstr(r.out, "from there on: A has"));
    ck_assert_ptr_nonnull(strstr(r.out, "command line 'console=ttyS0 quiet'"));
    const char *same[] = {"diff", rec_a, rec_a, NULL};
    tu_free(&r);
    r = tu_run(same);
    ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.out);
}
END_TEST

START_TEST(test_stats_of_a_linux_boot_names_its_top_callers)
{
    boot(rec_a, "linux-s.rec", "console=ttyS0", NULL);
    const char *args[] = {"stats", "--symbols", sysmap, "--top", "3", rec_a, NULL};
    tu_free(&r);
    r = tu_run(args);
    ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
    ck_assert_ptr_nonnull(strstr(r.out, "SetPxE"));
    char *top = strstr(r.out, "top callers (by function):\n");
    ck_assert_ptr_nonnull(top);
    int rows = 0;
    for (char *line = strchr(top, '\n'); line && line[1] == ' ' && line[2] == ' '; line = strchr(line + 1, '\n'))
        rows++;
    ck_assert_int_eq(rows, 3);
}
END_TEST

START_TEST(test_trace_of_a_linux_boot_parses_and_has_every_track)
{
    const char *trace = tu_tmp("linux.json");
    char path[512];
    snprintf(path, sizeof path, "%s", trace);
    boot(rec_a, "linux-t.rec", "console=ttyS0", path);
    json_error_t e;
    json_t *root = json_load_file(path, 0, &e);
    ck_assert_msg(root, "%s: %s", path, e.text);
    unlink(path); /* read: a Linux timeline takes megabytes */
    json_t *events = json_object_get(root, "traceEvents"), *ev;
    size_t i, per_tid[6] = {0};
    json_array_foreach(events, i, ev) {
        json_int_t tid = json_integer_value(json_object_get(ev, "tid"));
        if (tid >= 1 && tid <= 5 && strcmp(json_string_value(json_object_get(ev, "ph")), "M"))
            per_tid[tid]++;
    }
    ck_assert_uint_gt(per_tid[1], 10000); /* VMI calls */
    ck_assert_uint_gt(per_tid[2], 0);      /* the timer's interrupts */
    ck_assert_uint_gt(per_tid[3], 0);      /* page faults */
    json_decref(root);
}
END_TEST

int main(void)
{
    if (!tu_linux_guest_files(bzimage, "bzImage", initramfs, "initramfs.cpio.gz", sysmap, "System.map", NULL))
        return TU_SKIP;
    Suite *s = suite_create("analysis_linux");
    TCase *tc = tcase_create("linux");
    tcase_set_timeout(tc, 300);
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, test_diff_of_two_linux_boots_names_the_functions_where_they_part);
    tcase_add_test(tc, test_stats_of_a_linux_boot_names_its_top_callers);
    tcase_add_test(tc, test_trace_of_a_linux_boot_parses_and_has_every_track);
    suite_add_tcase(s, tc);
    return suite_run(s);
}

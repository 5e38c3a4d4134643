/* Recording and replay with reverse execution: the record is the timeline as finally lived.
 * Going back (goto, reverse-stepi, reverse-continue, restore) while recording cuts the record
 * back to the snapshot restored, at once (a run killed then leaves a readable record), and the
 * finished record holds exactly the entries of a plain recording of the same run. Going back
 * during a replay checks the re-run stretch again against the record. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emu/recplay.h"
#include "emu/snapshot.h"
#include "frontend/exitcode.h"
#include "support/suite_main.h"
#include "support/testutil.h"

static run_result r;
static char rec[4096], plain[4096], script[4096];

static void setup(void)
{
    snprintf(rec, sizeof rec, "%s", tu_tmp("rec"));
    snprintf(plain, sizeof plain, "%s", tu_tmp("plain"));
    snprintf(script, sizeof script, "%s", tu_tmp("script"));
}

static void teardown(void)
{
    tu_free(&r);
    unlink(rec);
    unlink(plain);
    unlink(script);
}

/* Run vmiemu with `mode file` (--record or --replay; a replay takes --snap-every from the
 * record), an extra option if any, and the script; r holds the result. */
static void run_script(const char *kernel, const char *mode, const char *file, const char *text, const char *extra)
{
    tu_write_text(script, text);
    const char *args[16];
    int n = 0;
    args[n++] = "--serial";
    args[n++] = "none";
    if (!strcmp(mode, "--record")) {
        args[n++] = "--snap-every";
        args[n++] = "1000";
    }
    args[n++] = mode;
    args[n++] = file;
    args[n++] = "-x";
    args[n++] = script;
    if (extra)
        args[n++] = extra;
    args[n++] = kernel;
    args[n] = NULL;
    tu_free(&r);
    r = tu_run(args);
}

static void record_plain(const char *kernel, const char *path)
{
    const char *args[] = {"--serial", "none", "--snap-every", "1000", "--record", path, kernel, NULL};
    tu_free(&r);
    r = tu_run(args);
    ck_assert_msg(r.status == 33, "plain recording exited %d: %s", r.status, r.err);
}

/* Every entry of a record, read to its clean end (a cut or corrupt record fails the test). */
static rec_entry *entries_of(const char *path, size_t *n)
{
    rec_header h;
    vm_error err = {0};
    rec_reader *rd = rec_open(path, &h, &err);
    ck_assert_msg(rd, "%s", err.msg);
    size_t cap = 1024;
    rec_entry *v = malloc(cap * sizeof *v);
    *n = 0;
    int got;
    for (;;) {
        if (*n == cap)
            v = realloc(v, (cap *= 2) * sizeof *v);
        if ((got = rec_next(rd, &v[*n], &err)) != 1)
            break;
        ++*n;
    }
    ck_assert_msg(got == 0, "%s does not read to a clean end: %s", path, err.msg);
    rec_close_reader(rd);
    return v;
}

static void assert_same_entries(const char *a, const char *b)
{
    size_t na, nb;
    rec_entry *ea = entries_of(a, &na), *eb = entries_of(b, &nb);
    ck_assert_uint_gt(na, 100);
    for (size_t i = 0; i < na && i < nb; i++)
        ck_assert_msg(ea[i].kind == eb[i].kind && ea[i].icount == eb[i].icount && ea[i].len == eb[i].len &&
                          memcmp(ea[i].payload, eb[i].payload, ea[i].len) == 0,
                      "entry %zu differs: kind %u icount %llu vs kind %u icount %llu", i, ea[i].kind,
                      (unsigned long long)ea[i].icount, eb[i].kind, (unsigned long long)eb[i].icount);
    ck_assert_uint_eq(na, nb);
    free(ea);
    free(eb);
}

/* Forwards and backwards through hello: breakpoint hits, reverse-continue to an earlier hit,
 * goto back and forth, reverse-stepi, then on to the end. */
static const char *const going_back =
    "break put_number\ncontinue\ncontinue\ncontinue\nreverse-continue\ndelete\n"
    "goto icount 30000\nstepi 7000\nreverse-stepi 2500\ngoto icount 52000\nreverse-stepi 1\ncontinue\n";

START_TEST(test_a_recording_that_went_back_equals_a_plain_recording)
{
    run_script(tu_kernel("hello"), "--record", rec, going_back, NULL);
    ck_assert_msg(r.status == 33, "exited %d: %s", r.status, r.err);
    ck_assert_msg(strstr(r.out, "Breakpoint 1, 0x") && strstr(r.out, "At icount 30000"), "%s", r.out);
    record_plain(tu_kernel("hello"), plain);
    assert_same_entries(rec, plain);
    const char *args[] = {"--serial", "none", "--replay", rec, tu_kernel("hello"), NULL};
    tu_free(&r);
    r = tu_run(args);
    ck_assert_msg(r.status == 33, "replay exited %d: %s", r.status, r.err);
    ck_assert_ptr_nonnull(strstr(r.err, "replay matched the record"));
}
END_TEST

START_TEST(test_restore_in_the_middle_of_a_recording_equals_a_plain_recording)
{
    run_script(tu_kernel("hello"), "--record", rec, "stepi 60000\nrestore 20\nstepi 100\nrestore\ngoto call 40\ncontinue\n",
               NULL);
    ck_assert_msg(r.status == 33, "exited %d: %s", r.status, r.err);
    ck_assert_msg(strstr(r.out, "At snapshot #20"), "%s", r.out);
    record_plain(tu_kernel("hello"), plain);
    assert_same_entries(rec, plain);
}
END_TEST

/* Snapshots taken on request, restoring them, and scheduled ones in between: none of it shows
 * in the record (a replay takes only the scheduled snapshots, every 1000 instructions). */
START_TEST(test_snapshots_the_user_takes_leave_a_plain_recording)
{
    run_script(tu_kernel("hello"), "--record", rec,
               "stepi 1500\nsnapshot\nstepi 2700\nsnapshot\nstepi 3000\nrestore 2\nstepi 2600\nrestore\nsnapshot\ncontinue\n",
               NULL);
    ck_assert_msg(r.status == 33, "exited %d: %s", r.status, r.err);
    ck_assert_msg(strstr(r.out, "Snapshot #2 at icount 1500") && strstr(r.out, "At snapshot #2, icount 1500"), "%s", r.out);
    record_plain(tu_kernel("hello"), plain);
    assert_same_entries(rec, plain);
}
END_TEST

/* What a SIGKILL right after going back would leave: the record as it is on disk then. */
START_TEST(test_going_back_cuts_the_record_on_disk_at_once_to_a_readable_prefix)
{
    tu_machine *t = tu_start_recording(tu_kernel("hello"), rec);
    vm_error err = {0};
    machine_run_until(&t->m, 90000); /* hello makes VMI calls from icount 74461 on */
    ck_assert_msg(snap_goto(&t->m, 80500, &err), "%s", err.msg);
    size_t n, calls = 0;
    rec_entry *e = entries_of(rec, &n);
    ck_assert_uint_eq(e[n - 1].kind, REC_HASH); /* the snapshot restored ends it */
    ck_assert_uint_eq(e[n - 1].icount, 80000);
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_le(e[i].icount, 80000);
        calls += e[i].kind == REC_CALL;
    }
    ck_assert_uint_gt(calls, 20);
    free(e);
    /* Going back to power-on leaves the header alone. */
    ck_assert_msg(snap_goto(&t->m, 0, &err), "%s", err.msg);
    e = entries_of(rec, &n);
    ck_assert_uint_eq(n, 0);
    free(e);
    machine_free(&t->m);
    free(t);
}
END_TEST

/* "replay matched the record: N checks" -> N */
static unsigned long checks_in(const char *text)
{
    const char *p = strstr(text, "replay matched the record: ");
    ck_assert_msg(p, "%s", text);
    return strtoul(p + strlen("replay matched the record: "), NULL, 10);
}

START_TEST(test_a_replay_that_goes_back_checks_the_rerun_stretch_again)
{
    record_plain(tu_kernel("hello"), rec);
    const char *args[] = {"--serial", "none", "--replay", rec, tu_kernel("hello"), NULL};
    tu_free(&r);
    r = tu_run(args);
    unsigned long checks = checks_in(r.err);
    run_script(tu_kernel("hello"), "--replay", rec, going_back, NULL);
    ck_assert_msg(r.status == 33, "exited %d: %s", r.status, r.err);
    ck_assert_uint_eq(checks_in(r.err), checks);
}
END_TEST

START_TEST(test_a_replay_that_goes_back_before_a_divergence_finds_it_again)
{
    record_plain(tu_fixture("diverge"), rec);
    run_script(tu_fixture("diverge_variant"), "--replay", rec, "continue\nreverse-stepi 700\ncontinue\n", "--replay-any-kernel");
    ck_assert_msg(r.status == EXIT_DIVERGED, "exited %d: %s", r.status, r.err);
    const char *first = strstr(r.out, "The guest ended: diverged: replay diverged at icount ");
    ck_assert_msg(first, "%s", r.out);
    const char *second = strstr(first + 1, "The guest ended: diverged: replay diverged at icount ");
    ck_assert_msg(second, "%s", r.out);
    size_t len = strcspn(first, "(");
    ck_assert_msg(strncmp(first, second, len) == 0, "first %.*s, then %.*s", (int)len, first, (int)len, second);
}
END_TEST

static Suite *timetravel_suite(void)
{
    Suite *s = suite_create("record_timetravel");
    TCase *tc = tcase_create("going_back");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_a_recording_that_went_back_equals_a_plain_recording);
    tcase_add_test(tc, test_restore_in_the_middle_of_a_recording_equals_a_plain_recording);
    tcase_add_test(tc, test_snapshots_the_user_takes_leave_a_plain_recording);
    tcase_add_test(tc, test_going_back_cuts_the_record_on_disk_at_once_to_a_readable_prefix);
    tcase_add_test(tc, test_a_replay_that_goes_back_checks_the_rerun_stretch_again);
    tcase_add_test(tc, test_a_replay_that_goes_back_before_a_divergence_finds_it_again);
    suite_add_tcase(s, tc);
    return s;
}

SUITE_MAIN(timetravel_suite)

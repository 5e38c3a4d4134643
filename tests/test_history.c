/* History queries and what-if replays on the test kernels, through the vmiemu binary:
 * `vmiemu query RECORD history ...` names every change of a page-table entry, descriptor or
 * CR3 with the VMI call or raw write that made it, at an instruction count where the shell
 * sees the value change; the shell's `history` answers for the past up to where it stands;
 * `--override` changes one call's outcome and the run goes on live (the kernel sees the lie:
 * a cycle frequency, an alarm fired late). Bad queries and override specs exit 2. */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emu/machine.h"
#include "frontend/exitcode.h"
#include "support/suite_main.h"
#include "support/testutil.h"

static run_result r;
static char rec[4096], script[4096], rec2[4096];

static void setup(void)
{
    snprintf(rec, sizeof rec, "%s", tu_tmp("hist_rec"));
    snprintf(rec2, sizeof rec2, "%s", tu_tmp("hist_rec2"));
    snprintf(script, sizeof script, "%s", tu_tmp("hist_script"));
}

static void teardown(void)
{
    tu_free(&r);
    unlink(rec);
    unlink(rec2);
    unlink(script);
}

/* The timer kernel at 1000 Hz for 2 ticks: short enough for the sanitizer build. */
static void record(const char *kernel)
{
    const char *args[] = {"--record", rec, tu_kernel(kernel), NULL};
    const char *timer[] = {"--record", rec, "--append", "hz=1000 ticks=2", tu_kernel(kernel), NULL};
    tu_free(&r);
    r = tu_run(strcmp(kernel, "timer") ? args : timer);
    ck_assert_msg(r.status == 33, "recording %s exited %d: %s", kernel, r.status, r.err);
}

/* vmiemu query rec history WHAT [ARG] kernel; r holds the result. */
static void query(const char *kernel, const char *what, const char *arg)
{
    const char *with[] = {"query", rec, "history", what, arg, tu_kernel(kernel), NULL};
    const char *without[] = {"query", rec, "history", what, tu_kernel(kernel), NULL};
    tu_free(&r);
    r = tu_run(arg ? with : without);
}

static size_t count(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

/* The lines of text holding needle, each parsed for "icount N" and "#N" (VMI call). */
typedef struct line_nums {
    uint64_t icount[64], call[64];
    char line[64][400];
    int n;
} line_nums;

static void lines_with(const char *text, const char *needle, line_nums *out)
{
    out->n = 0;
    for (const char *p = text; *p && out->n < 64;) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char line[400];
        snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line - 1 ? len : sizeof line - 1), p);
        if (strstr(line, needle)) {
            const char *ic = strstr(line, "icount"), *call = strchr(line, '#');
            const char *num = ic ? ic + 6 + strspn(ic + 6, " =") : NULL;
            out->icount[out->n] = num ? strtoull(num, NULL, 10) : 0;
            out->call[out->n] = call ? strtoull(call + 1, NULL, 10) : UINT64_MAX;
            snprintf(out->line[out->n], sizeof out->line[0], "%s", line);
            out->n++;
        }
        p += len + (end ? 1 : 0);
    }
}

START_TEST(test_pte_history_names_the_calls_and_the_raw_write_at_its_instruction)
{
    record("paging");
    query("paging", "pte", "0x40000000");
    ck_assert_msg(r.status == 0, "query exited %d: %s", r.status, r.err);
    ck_assert_msg(strstr(r.err, "replay matched the record"), "%s", r.err);
    ck_assert_msg(strstr(r.out, "history of the page-table entry mapping 0x40000000"), "%s", r.out);
    /* paging maps, remaps (twice) and unmaps the page with SetPxE, and makes it read-only and
     * writable again with its own stores before telling UpdatePxE. */
    line_nums calls, raw;
    lines_with(r.out, "SetPxE", &calls);
    lines_with(r.out, "raw write to", &raw);
    ck_assert_msg(calls.n >= 4, "%s", r.out);
    ck_assert_msg(raw.n == 2, "%s", r.out);
    ck_assert_msg(strstr(r.out, "initial:"), "%s", r.out);
    char *history = strdup(r.out);

    /* Each call named is that call in the event log: `history call SetPxE` lists it. */
    query("paging", "call", "SetPxE");
    ck_assert_msg(r.status == 0, "%s", r.err);
    for (int i = 0; i < calls.n; i++) {
        char want[40];
        snprintf(want, sizeof want, "#%" PRIu64 " icount=%" PRIu64 " ", calls.call[i], calls.icount[i]);
        ck_assert_msg(strstr(r.out, want), "%s not among\n%s", want, r.out);
    }
    ck_assert_msg(strstr(r.out, "calls of SetPxE among"), "%s", r.out);

    /* The first raw write: before its icount the shell's walk shows the old entry, one
     * instruction later the new one, as the history says. */
    char old[16], new[16];
    const char *arrow = strstr(raw.line[0], "PTE 0x");
    ck_assert_ptr_nonnull(arrow);
    snprintf(old, sizeof old, "%.10s", arrow + 4);
    arrow = strstr(arrow + 1, "-> PTE 0x");
    ck_assert_ptr_nonnull(arrow);
    snprintf(new, sizeof new, "%.10s", arrow + 7);
    ck_assert_str_ne(old, new);
    char text[300];
    snprintf(text, sizeof text, "goto icount %" PRIu64 "\npt 0x40000000\nstepi\npt 0x40000000\n", raw.icount[0]);
    tu_write_text(script, text);
    const char *args[] = {"--serial", "none", "--replay", rec, "-x", script, tu_kernel("paging"), NULL};
    tu_free(&r);
    r = tu_run(args);
    ck_assert_msg(r.status == EXIT_STOPPED, "%d %s", r.status, r.err);
    const char *first = strstr(r.out, "PTE[0] at "), *second = first ? strstr(first + 1, "PTE[0] at ") : NULL;
    ck_assert_msg(first && second, "%s", r.out);
    ck_assert_msg(strstr(first, old) && strstr(first, old) < second, "old %s not first in\n%s", old, r.out);
    ck_assert_msg(strstr(second, new), "new %s not after the stepi in\n%s", new, r.out);
    free(history);
}
END_TEST

START_TEST(test_cr3_history_is_every_setcr3_that_changed_it)
{
    record("paging");
    query("paging", "cr3", NULL);
    ck_assert_msg(r.status == 0, "%s", r.err);
    line_nums changes;
    lines_with(r.out, "by VMI call", &changes);
    ck_assert_msg(changes.n >= 1, "%s", r.out);
    for (int i = 0; i < changes.n; i++)
        ck_assert_msg(strstr(changes.line[i], "SetCR3"), "%s", changes.line[i]);
    char *history = strdup(r.out);
    query("paging", "call", "SetCR3");
    for (int i = 0; i < changes.n; i++) {
        char want[40];
        snprintf(want, sizeof want, "#%" PRIu64 " ", changes.call[i]);
        ck_assert_msg(strstr(r.out, want), "%s not in\n%s", want, r.out);
    }
    free(history);
}
END_TEST

START_TEST(test_gdt_and_idt_history_follow_the_descriptor_writes)
{
    record("descriptors");
    /* Every WriteGDTEntry of index 8 that changes it is in its history, by number. */
    query("descriptors", "call", "WriteGDTEntry");
    ck_assert_msg(r.status == 0, "%s", r.err);
    line_nums writes;
    lines_with(r.out, "index=8,", &writes);
    ck_assert_msg(writes.n >= 2, "%s", r.out);
    query("descriptors", "gdt", "8");
    ck_assert_msg(r.status == 0, "%s", r.err);
    for (int i = 0; i < writes.n; i++) {
        char want[60];
        snprintf(want, sizeof want, "by VMI call #%" PRIu64 " WriteGDTEntry", writes.call[i]);
        ck_assert_msg(strstr(r.out, want), "%s not in\n%s", want, r.out);
    }
    /* The IDT gate that descriptors rewrites and whose table it switches with SetIDT. */
    query("descriptors", "call", "WriteIDTEntry");
    lines_with(r.out, "index=64,", &writes);
    ck_assert_msg(writes.n >= 2, "%s", r.out);
    query("descriptors", "idt", "64");
    ck_assert_msg(r.status == 0, "%s", r.err);
    ck_assert_msg(count(r.out, "WriteIDTEntry") >= 2, "%s", r.out);
}
END_TEST

START_TEST(test_shell_history_covers_the_past_up_to_where_it_stands)
{
    record("paging");
    query("paging", "pte", "0x40000000");
    line_nums all;
    lines_with(r.out, "  by ", &all);
    ck_assert_msg(all.n >= 4, "%s", r.out);
    uint64_t mid = 0; /* the shell stands just before the first raw write (an exact change) */
    for (int i = all.n - 1; i >= 0; i--)
        if (strstr(all.line[i], "raw write"))
            mid = all.icount[i];
    ck_assert_msg(mid > 0, "%s", r.out);
    char text[300];
    snprintf(text, sizeof text, "goto icount %" PRIu64 "\nhistory pte 0x40000000\nprint $eip\nhistory cr3\n", mid);
    tu_write_text(script, text);
    const char *args[] = {"--serial", "none", "--replay", rec, "-x", script, tu_kernel("paging"), NULL};
    tu_free(&r);
    r = tu_run(args);
    ck_assert_msg(r.status == EXIT_STOPPED, "%d %s", r.status, r.err);
    line_nums shell;
    lines_with(r.out, "  by ", &shell);
    /* The changes before mid, the same as the whole run's; none from mid on. */
    int before = 0;
    while (before < all.n && all.icount[before] < mid)
        before++;
    int pte_lines = 0;
    for (int i = 0; i < shell.n; i++)
        if (!strstr(shell.line[i], "SetCR3") || strstr(shell.line[i], "PTE") || strstr(shell.line[i], "PDE"))
            pte_lines++;
    ck_assert_msg(pte_lines == before, "%d changes before %" PRIu64 ", shell listed %d:\n%s", before, mid, pte_lines,
                  r.out);
    for (int i = 0; i < before; i++)
        ck_assert_msg(strstr(r.out, all.line[i]), "missing in the shell: %s\n%s", all.line[i], r.out);
    /* And it is still where it was: the replay stops there, unchanged. */
    char at[80];
    snprintf(at, sizeof at, "icount %" PRIu64 ")", mid);
    ck_assert_msg(strstr(r.err, at), "%s", r.err);
    ck_assert_msg(strstr(r.err, "no divergence up to there"), "%s", r.err);
}
END_TEST

START_TEST(test_bad_queries_exit_2_with_a_message)
{
    record("paging");
    static const char *const bad[][3] = {
        {"pte", NULL, "is not a number"}, {"idt", "256", "past the largest vector"}, {"gdt", "x", "not a number"},
        {"foo", "1", "is not pte, gdt, idt, cr3 or call"}, {"call", "NoSuchCall", "no VMI call is named"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        query("paging", bad[i][0], bad[i][1]);
        ck_assert_msg(r.status == EXIT_USAGE, "%s %s: %d", bad[i][0], bad[i][1], r.status);
        ck_assert_msg(strstr(r.err, bad[i][2]), "%s %s: %s", bad[i][0], bad[i][1], r.err);
    }
    const char *norec[] = {"query", "/nonexistent.rec", "history", "cr3", tu_kernel("paging"), NULL};
    tu_free(&r);
    r = tu_run(norec);
    ck_assert_int_eq(r.status, EXIT_USAGE);
    const char *other[] = {"query", rec, "history", "cr3", tu_kernel("hello"), NULL};
    tu_free(&r);
    r = tu_run(other);
    ck_assert_msg(r.status == EXIT_USAGE && strstr(r.err, "differ"), "%d %s", r.status, r.err);
    /* A second record after the query's own: refused, not answered for the second one. */
    const char *second[] = {"query", rec, "history", "cr3", "--replay", "other.rec", tu_kernel("paging"), NULL};
    tu_free(&r);
    r = tu_run(second);
    ck_assert_msg(r.status == EXIT_USAGE && strstr(r.err, "--replay other.rec is not taken") && !r.out[0], "%d %s %s",
                  r.status, r.out, r.err);
}
END_TEST

/* The record's VMI call NAME numbered as `calls` does: the first one. */
static uint64_t first_call(const char *kernel, const char *name)
{
    query(kernel, "call", name);
    line_nums l;
    lines_with(r.out, " vmi ", &l);
    ck_assert_msg(r.status == 0 && l.n >= 1, "%s %s", r.out, r.err);
    return l.call[0];
}

static void replay_with(const char *kernel, const char *spec, const char *record_to)
{
    const char *plain[] = {"--replay", rec, "--override", spec, tu_kernel(kernel), NULL};
    const char *recording[] = {"--replay", rec, "--override", spec, "--record", record_to, tu_kernel(kernel), NULL};
    tu_free(&r);
    r = tu_run(record_to ? recording : plain);
}

START_TEST(test_a_lying_cycle_frequency_is_what_the_kernel_sees)
{
    record("timer");
    char *straight = strdup(r.out);
    const uint64_t hz = MACHINE_DEFAULT_MHZ * 1000000ull, lie = hz / 2;
    char want[160];
    snprintf(want, sizeof want, "cycle frequency %" PRIu64 " Hz", hz);
    ck_assert_msg(strstr(straight, want), "%s", straight);
    uint64_t n = first_call("timer", "GetCycleFrequency");
    char spec[80];
    snprintf(spec, sizeof spec, "call %" PRIu64 " result=%" PRIu64, n, lie);
    replay_with("timer", spec, rec2);
    /* The kernel takes the lie: half the frequency, half the period (hz=1000); its alarms
     * still tick one (shorter) period apart, so it passes. */
    snprintf(want, sizeof want, "cycle frequency %" PRIu64 " Hz", lie);
    ck_assert_msg(strstr(r.out, want), "%s", r.out);
    snprintf(want, sizeof want, "period %" PRIu64 " cycles", lie / 1000);
    ck_assert_msg(strstr(r.out, want), "%s", r.out);
    ck_assert_msg(r.status == 33, "%d %s", r.status, r.err);
    snprintf(want, sizeof want, "up to VMI call #%" PRIu64 ", where VMI call #%" PRIu64 " (GetCycleFrequency) returned 0x%" PRIx64 " instead of 0x%" PRIx64, n, n, lie, hz);
    ck_assert_msg(strstr(r.err, want), "%s", r.err);
    ck_assert_msg(strstr(r.err, "from there on the run was live, not replayed"), "%s", r.err);
    /* The alternate run was recorded: it agrees with the first up to the call and differs
     * there, so a plain replay of it against the original kernel diverges at that call. */
    const char *args[] = {"--replay", rec2, "--serial", "none", tu_kernel("timer"), NULL};
    tu_free(&r);
    r = tu_run(args);
    snprintf(want, sizeof want, "VMI call #%" PRIu64 " differs (the result", n);
    ck_assert_msg(r.status == EXIT_DIVERGED && strstr(r.err, want), "%d %s", r.status, r.err);
    free(straight);
}
END_TEST

START_TEST(test_an_alarm_set_late_is_noticed_by_the_kernel)
{
    record("timer");
    uint64_t n = first_call("timer", "SetAlarm");
    char spec[80];
    snprintf(spec, sizeof spec, "call %" PRIu64 " delay=100000", n);
    replay_with("timer", spec, NULL);
    ck_assert_msg(strstr(r.out, "periodic alarm: first tick at expiry: FAIL"), "%s", r.out);
    ck_assert_msg(r.status == 35, "%d %s", r.status, r.err);
    ck_assert_msg(strstr(r.err, "armed its alarm 100000 cycles late"), "%s", r.err);
}
END_TEST

START_TEST(test_shell_override_goes_back_and_changes_the_call)
{
    record("timer");
    uint64_t n = first_call("timer", "GetCycleFrequency");
    char text[300];
    snprintf(text, sizeof text, "goto call %" PRIu64 "\nstepi 100\noverride call %" PRIu64
                                " result=250000000\noverride\ncontinue\noverride\n", n, n);
    tu_write_text(script, text);
    const char *args[] = {"--replay", rec, "-x", script, tu_kernel("timer"), NULL};
    tu_free(&r);
    r = tu_run(args);
    ck_assert_msg(strstr(r.out, "just before VMI call #"), "%s", r.out);
    ck_assert_msg(strstr(r.out, "override armed for VMI call #"), "%s", r.out);
    ck_assert_msg(strstr(r.out, "cycle frequency 250000000 Hz"), "%s", r.out);
    ck_assert_msg(strstr(r.out, "override applied: VMI call #"), "%s", r.out);
    ck_assert_msg(r.status == 33, "%d %s", r.status, r.err);
    ck_assert_msg(strstr(r.err, "from there on the run was live"), "%s", r.err);
}
END_TEST

START_TEST(test_bad_overrides_exit_2_with_a_message)
{
    record("timer");
    uint64_t freq = first_call("timer", "GetCycleFrequency"), alarm = first_call("timer", "SetAlarm");
    char s[6][80];
    snprintf(s[0], sizeof s[0], "call %" PRIu64 " result=1", alarm);
    snprintf(s[1], sizeof s[1], "call %" PRIu64 " delay=5", freq);
    snprintf(s[2], sizeof s[2], "call 99999999999 result=1");
    snprintf(s[3], sizeof s[3], "call %" PRIu64, freq);
    snprintf(s[4], sizeof s[4], "calls %" PRIu64 " result=1", freq);
    snprintf(s[5], sizeof s[5], "call %" PRIu64 " result=-1", freq);
    static const char *const why[] = {"returns nothing", "delay= applies to SetAlarm only", "there is no call",
                                      "say what changes", "expected 'call N", "is not result=V"};
    for (int i = 0; i < 6; i++) {
        replay_with("timer", s[i], NULL);
        ck_assert_msg(r.status == EXIT_USAGE, "%s: %d", s[i], r.status);
        ck_assert_msg(strstr(r.err, why[i]), "%s: %s", s[i], r.err);
    }
    const char *noreplay[] = {"--override", "call 1 result=1", tu_kernel("timer"), NULL};
    tu_free(&r);
    r = tu_run(noreplay);
    ck_assert_msg(r.status == EXIT_USAGE && strstr(r.err, "needs --replay"), "%s", r.err);
}
END_TEST

/* Init and GetRelocationInfo are entries at rom+0x80/0x88, not numbered calls: overriding and
 * naming them works as for any call (they were refused as "?, which returns nothing"). */
START_TEST(test_init_and_relocation_info_can_be_overridden_and_are_named)
{
    record("hello");
    query("hello", "call", "Init");
    ck_assert_msg(r.status == 0 && strstr(r.out, "1 calls of Init among"), "%d %s %s", r.status, r.out, r.err);
    uint64_t init = first_call("hello", "Init");
    char spec[80];
    snprintf(spec, sizeof spec, "call %" PRIu64 " result=010", init); /* decimal: ten, not octal */
    replay_with("hello", spec, NULL);
    ck_assert_msg(strstr(r.out, "hello: FAIL (Init returned non-zero)"), "%s\n%s", r.out, r.err);
    ck_assert_msg(strstr(r.err, "(Init) returned 0xa instead of 0x0"), "%s", r.err);
    uint64_t reloc = first_call("hello", "GetRelocationInfo");
    snprintf(spec, sizeof spec, "call %" PRIu64 " result=0", reloc);
    replay_with("hello", spec, NULL);
    ck_assert_msg(strstr(r.err, "(GetRelocationInfo) returned 0x0 instead of"), "%s", r.err);
    snprintf(spec, sizeof spec, "call %" PRIu64 " delay=1", init);
    replay_with("hello", spec, NULL);
    ck_assert_msg(r.status == EXIT_USAGE && strstr(r.err, "is Init: delay= applies to SetAlarm only"), "%s", r.err);
}
END_TEST

static Suite *history_suite(void)
{
    Suite *s = suite_create("history");
    TCase *h = tcase_create("history");
    tcase_set_timeout(h, 240);
    tcase_add_checked_fixture(h, setup, teardown);
    tcase_add_test(h, test_pte_history_names_the_calls_and_the_raw_write_at_its_instruction);
    tcase_add_test(h, test_cr3_history_is_every_setcr3_that_changed_it);
    tcase_add_test(h, test_gdt_and_idt_history_follow_the_descriptor_writes);
    tcase_add_test(h, test_shell_history_covers_the_past_up_to_where_it_stands);
    tcase_add_test(h, test_bad_queries_exit_2_with_a_message);
    suite_add_tcase(s, h);
    TCase *w = tcase_create("whatif");
    tcase_set_timeout(w, 240);
    tcase_add_checked_fixture(w, setup, teardown);
    tcase_add_test(w, test_a_lying_cycle_frequency_is_what_the_kernel_sees);
    tcase_add_test(w, test_an_alarm_set_late_is_noticed_by_the_kernel);
    tcase_add_test(w, test_shell_override_goes_back_and_changes_the_call);
    tcase_add_test(w, test_bad_overrides_exit_2_with_a_message);
    tcase_add_test(w, test_init_and_relocation_info_can_be_overridden_and_are_named);
    suite_add_tcase(s, w);
    return s;
}

SUITE_MAIN(history_suite)

/* Looking at runs: guest markers (port 0x4F8), `vmiemu diff`, `vmiemu stats`, the shell's
 * `stats` and `goto marker`, and --trace-out's trace-event JSON. The markers test kernel names
 * "boot done", "work start" and "work end" around iters= cycle-counter reads (testkernels/
 * markers/markers.c). */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emu/record.h"
#include "support/suite_main.h"
#include "support/testutil.h"

#define RUN(...) TU_RUN(r, __VA_ARGS__)

static run_result r;

static void teardown(void) { tu_free(&r); }

static void assert_out(const char *needle)
{
    ck_assert_msg(strstr(r.out, needle), "stdout lacks '%s':\n%s", needle, r.out);
}

static void assert_err(const char *needle)
{
    ck_assert_msg(strstr(r.err, needle), "stderr lacks '%s':\n%s", needle, r.err);
}

/* A fresh temporary path that outlives the next tu_tmp (tu_run takes some too). */
static const char *tmp(const char *stem)
{
    static char keep[8][512];
    static int next;
    char *p = keep[next++ % 8];
    snprintf(p, 512, "%s", tu_tmp(stem));
    return p;
}

/* The directory part of path (a static copy). */
static const char *dirname_of(const char *path)
{
    static char dir[512];
    const char *slash = strrchr(path, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
    return dir;
}

/* Record the markers kernel with cmdline into a fresh file; its path. */
static const char *record(const char *stem, const char *cmdline)
{
    const char *p = tmp(stem);
    RUN("--serial", "none", "--record", p, "--append", cmdline, tu_kernel("markers"));
    ck_assert_msg(r.status == 33, "recording %s: status %d: %s", cmdline, r.status, r.err);
    return p;
}

/* The count in the row of `label` in a table of `label  count ...` lines, or -1. */
static long long row_count(const char *text, const char *label)
{
    for (const char *p = text; (p = strstr(p, label)); p++) {
        if (p > text && p[-1] != ' ' && p[-1] != '\n')
            continue;
        long long n;
        if (sscanf(p + strlen(label), " %lld", &n) == 1)
            return n;
    }
    return -1;
}

START_TEST(test_markers_are_logged_with_their_names_with_and_without_the_rom)
{
    for (int i = 0; i < 2; i++) {
        if (i)
            RUN("--no-rom", "--log", "-", "--serial", "none", tu_kernel("markers"));
        else
            RUN("--log", "-", "--serial", "none", tu_kernel("markers"));
        ck_assert_msg(r.status == 33, "status %d: %s", r.status, r.err);
        const char *a = strstr(r.err, "marker \"boot done\""), *b = strstr(r.err, "marker \"work start\""),
                   *c = strstr(r.err, "marker \"work end\"");
        ck_assert_msg(a && b && c && a < b && b < c, "markers missing or out of order:\n%s", r.err);
        ck_assert_ptr_nonnull(strstr(a, "<kmain+")); /* the caller: marker() is inline */
    }
}
END_TEST

START_TEST(test_a_hostile_marker_pointer_and_a_long_name_are_cut_not_fatal)
{
    RUN("--serial", "none", "--log", "-", "--append", "hostile", tu_kernel("markers"));
    ck_assert_msg(r.status == 33, "status %d: %s", r.status, r.err);
    ck_assert_ptr_nonnull(strstr(r.err, "marker \"\"\n")); /* past RAM: nothing readable */
    assert_err("marker \"a name much longer than the thir\"\n"); /* its first 32 bytes */
}
END_TEST

START_TEST(test_markers_in_the_json_log_have_kind_and_name)
{
    const char *log = tmp("markers.jsonl");
    RUN("--serial", "none", "--log", log, tu_kernel("markers"));
    ck_assert_int_eq(r.status, 33);
    FILE *f = fopen(log, "r");
    ck_assert_ptr_nonnull(f);
    char line[4096];
    int markers = 0;
    while (fgets(line, sizeof line, f)) {
        json_error_t e;
        json_t *o = json_loads(line, 0, &e);
        ck_assert_msg(o, "not JSON: %s", line);
        if (!strcmp(json_string_value(json_object_get(o, "kind")), "marker")) {
            const char *want[] = {"boot done", "work start", "work end"};
            ck_assert_int_lt(markers, 3);
            ck_assert_str_eq(json_string_value(json_object_get(o, "name")), want[markers++]);
        }
        json_decref(o);
    }
    fclose(f);
    ck_assert_int_eq(markers, 3);
}
END_TEST

START_TEST(test_markers_are_recorded_and_a_replay_checks_them)
{
    const char *a = record("m3.rec", "iters=3");
    RUN("--serial", "none", "--replay", a, tu_kernel("markers"));
    ck_assert_msg(r.status == 33, "status %d: %s", r.status, r.err);
    assert_err("replay matched the record");
    RUN("stats", a);
    ck_assert_int_eq(r.status, 0);
    ck_assert_int_eq(row_count(r.out, "other events:"), 3);
    ck_assert_int_eq(row_count(r.out, "marker \"work start\""), 1);
}
END_TEST

/* A copy of the record at from with the first byte of each marker's name changed. */
static void rename_markers(const char *from, const char *to)
{
    vm_error err = {0};
    rec_header h;
    rec_reader *in = rec_open(from, &h, &err);
    ck_assert_msg(in, "%s", err.msg);
    rec_writer *out = rec_create(to, &h, &err);
    ck_assert_msg(out, "%s", err.msg);
    rec_entry e;
    int got, renamed = 0;
    while ((got = rec_next(in, &e, &err)) == 1) {
        if (e.kind == REC_MARKER) {
            e.payload[8] ^= 1; /* the name's first byte: the event's args start at byte 8 */
            renamed++;
        }
        ck_assert_msg(rec_append(out, &e, &err), "%s", err.msg);
    }
    ck_assert_int_eq(got, 0);
    ck_assert_int_eq(renamed, 3);
    rec_close_reader(in);
    ck_assert_msg(rec_close(out, &err), "%s", err.msg);
}

START_TEST(test_a_replay_diverges_at_a_marker_that_differs_from_the_record)
{
    const char *a = record("named.rec", "iters=3"), *b = tmp("renamed.rec");
    rename_markers(a, b);
    RUN("--serial", "none", "--replay", b, tu_kernel("markers"));
    ck_assert_msg(r.status == 14, "status %d: %s", r.status, r.err);
    assert_err("a marker differs");
    assert_err("marker \"coot done\""); /* expected: the record's */
    assert_err("marker \"boot done\""); /* actual */
}
END_TEST

START_TEST(test_diff_of_a_record_with_itself_says_same_and_exits_0)
{
    const char *a = record("same.rec", "iters=3");
    RUN("diff", a, a);
    ck_assert_msg(r.status == 0, "status %d: %s%s", r.status, r.out, r.err);
    assert_out("same sequence");
}
END_TEST

START_TEST(test_diff_finds_the_first_different_call_and_counts_the_rest)
{
    const char *a = record("a.rec", "iters=3"), *b = record("b.rec", "iters=5 variant");
    RUN("diff", "--symbols", tu_kernel("markers"), a, b);
    ck_assert_msg(r.status == 1, "status %d: %s%s", r.status, r.out, r.err);
    assert_out("first difference at event");
    /* Before the first difference: the markers that both have, as context. */
    char *first = strstr(r.out, "first difference");
    ck_assert_ptr_nonnull(strstr(first, "marker \"work start\""));
    /* The rest: A reads the counter 3 times then marks the end; B 4 times and the wall clock once. */
    char *rest = strstr(r.out, "from there on");
    ck_assert_ptr_nonnull(rest);
    ck_assert_int_eq(row_count(rest, "GetWallclockTime"), 0);
    ck_assert_ptr_nonnull(strstr(rest, "+1"));
    ck_assert_int_eq(row_count(rest, "GetCycleCounter"), 3);
    ck_assert_ptr_nonnull(strstr(r.out, "<kmain+")); /* callers by symbol */
}
END_TEST

START_TEST(test_diff_ignoring_the_clock_finds_the_extra_call)
{
    const char *a = record("c3.rec", "iters=3"), *b = record("c4.rec", "iters=4");
    RUN("diff", "--ignore-clock", a, b);
    ck_assert_msg(r.status == 1, "status %d: %s%s", r.status, r.out, r.err);
    /* Same calls up to the fourth read, which A does not make: A marks the end there. */
    char *lt = strstr(r.out, "  < A "), *gt = strstr(r.out, "  > B ");
    ck_assert_ptr_nonnull(lt);
    ck_assert_ptr_nonnull(gt);
    ck_assert_msg(strstr(lt, "marker \"work end\"") && strstr(lt, "marker \"work end\"") < gt, "%s", r.out);
    ck_assert_msg(strstr(gt, "GetCycleCounter"), "%s", r.out);
}
END_TEST

/* The index in "first difference at event N" of r.out. */
static long first_difference(void)
{
    long n = -1;
    const char *at = strstr(r.out, "first difference at event ");
    ck_assert_msg(at && sscanf(at, "first difference at event %ld", &n) == 1, "%s", r.out);
    return n;
}

START_TEST(test_diff_across_two_kernels_compares_callers_by_function)
{
    char hello[512];
    snprintf(hello, sizeof hello, "%s", tmp("hello.rec"));
    RUN("--serial", "none", "--record", hello, tu_kernel("hello"));
    ck_assert_int_eq(r.status, 33);
    const char *m = record("two.rec", "iters=3");
    char hello_elf[512], markers_elf[512];
    snprintf(hello_elf, sizeof hello_elf, "%s", tu_kernel("hello"));
    snprintf(markers_elf, sizeof markers_elf, "%s", tu_kernel("markers"));
    /* Both kernels start with the library's Init and relocation queries, from functions at
     * other addresses: the same calls by function name, so the runs part only after them. */
    RUN("diff", "--symbols-a", hello_elf, "--symbols-b", markers_elf, hello, m);
    ck_assert_int_eq(r.status, 1);
    long by_function = first_difference();
    ck_assert_int_gt(by_function, 10);
    char *lt = strstr(r.out, "  < A ");
    ck_assert_ptr_nonnull(lt);
    const char *eol = strchr(lt, '\n'), *reloc = strstr(lt, "GetRelocationInfo");
    ck_assert_msg(!reloc || reloc > eol, "parted at a relocation query: %s", r.out);
    ck_assert_msg(strstr(r.out, "<vmi_query_reloc") < lt, "%s", r.out);
    /* The markers kernel's EIPs looked up in hello's symbols name other functions: parted at once. */
    RUN("diff", "--symbols", hello_elf, hello, m);
    ck_assert_int_eq(r.status, 1);
    ck_assert_int_lt(first_difference(), by_function);
    /* Without symbols for both, callers of two kernels are not compared, and the note says so. */
    RUN("diff", hello, m);
    ck_assert_int_eq(r.status, 1);
    assert_out("callers are not compared");
    ck_assert_int_eq(first_difference(), by_function);
}
END_TEST

START_TEST(test_diff_and_stats_refuse_bad_input_with_status_2)
{
    const char *a = record("good.rec", "iters=3");
    const char *missing = tmp("missing.rec");
    RUN("diff", a, missing);
    ck_assert_int_eq(r.status, 2);
    assert_err(missing);
    const char *junk = tmp("junk.rec");
    tu_write_text(junk, "this is not a record\n");
    RUN("diff", junk, a);
    ck_assert_int_eq(r.status, 2);
    assert_err(junk);
    RUN("stats", junk);
    ck_assert_int_eq(r.status, 2);
    assert_err(junk);
    RUN("diff", a);
    ck_assert_int_eq(r.status, 2);
    assert_err("usage:");
    RUN("stats", "--top", "0", a);
    ck_assert_int_eq(r.status, 2);
    RUN("diff", "--bogus", a, a);
    ck_assert_int_eq(r.status, 2);
    /* A corrupt chunk: one byte of the payload flipped (the CRC catches it). */
    FILE *f = fopen(a, "r+b");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, -3, SEEK_END), 0);
    int c = fgetc(f);
    ck_assert_int_eq(fseek(f, -3, SEEK_END), 0);
    fputc(c ^ 0x55, f);
    fclose(f);
    RUN("stats", a);
    ck_assert_int_eq(r.status, 2);
    assert_err("chunk");
}
END_TEST

START_TEST(test_a_cut_record_is_read_up_to_where_it_ends)
{
    const char *a = record("whole.rec", "iters=3");
    const char *cut = tmp("cut.rec");
    FILE *in = fopen(a, "rb"), *out = fopen(cut, "wb");
    ck_assert(in && out);
    char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, in);
    ck_assert_uint_gt(n, 200);
    fwrite(buf, 1, n - 5, out); /* the last chunk loses its end */
    fclose(in);
    fclose(out);
    RUN("stats", cut);
    ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
    assert_out("cut short");
    RUN("diff", cut, a);
    ck_assert_int_eq(r.status, 1);
    assert_out("cut short");
}
END_TEST

START_TEST(test_stats_counts_calls_by_kind_and_names_callers)
{
    const char *a = record("s5.rec", "iters=5");
    RUN("stats", "--symbols", tu_kernel("markers"), a);
    ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
    ck_assert_int_eq(row_count(r.out, "GetCycleCounter"), 5);
    ck_assert_int_eq(row_count(r.out, "Init"), 1);
    long long relocs = row_count(r.out, "GetRelocationInfo"), total = -1;
    ck_assert_int_gt(relocs, 0);
    ck_assert_int_eq(sscanf(strstr(r.out, "VMI calls: "), "VMI calls: %lld", &total), 1);
    ck_assert_int_eq(total, relocs + 5 + 1 + 1); /* and SetIDT */
    ck_assert_ptr_nonnull(strstr(r.out, "guest instructions between calls: mean"));
    char *top = strstr(r.out, "top callers (by function)");
    ck_assert_ptr_nonnull(top);
    ck_assert_ptr_nonnull(strstr(top, "vmi_query_reloc"));
    ck_assert_int_eq(row_count(top, "kmain"), 5);
    assert_out("host time per call: not measured");
}
END_TEST

START_TEST(test_shell_lists_markers_goes_to_one_and_shows_stats)
{
    const char *script = tmp("markers.gdb");
    tu_write_text(script, "continue\ncalls\ngoto marker work start\nstats\ngoto marker no such marker\n");
    RUN("--serial", "none", "-x", script, tu_kernel("markers"));
    ck_assert_int_eq(r.status, 2); /* the last line fails */
    assert_err("no marker 'no such marker'");
    char *listed = strstr(r.out, "-- icount=");
    ck_assert_ptr_nonnull(listed);
    const char *start = strstr(r.out, "marker \"work start\"");
    ck_assert_ptr_nonnull(start);
    const char *line = start;
    while (line > r.out && line[-1] != '\n')
        line--;
    unsigned long long logged = 0, reached = 0;
    ck_assert_int_eq(sscanf(line, "-- icount=%llu", &logged), 1);
    const char *at = strstr(r.out, "At marker \"work start\", icount ");
    ck_assert_ptr_nonnull(at);
    ck_assert_int_eq(sscanf(at, "At marker \"work start\", icount %llu", &reached), 1);
    ck_assert_uint_eq(reached, logged);
    ck_assert_ptr_nonnull(strstr(at, "out dx, eax")); /* just before the marking instruction */
    /* Stats of the run so far (back at the marker: no cycle-counter read yet), with host time. */
    char *stats = strstr(at, "VMI calls: ");
    ck_assert_ptr_nonnull(stats);
    ck_assert_ptr_nonnull(strstr(stats, "host ns/call"));
    ck_assert_int_eq(row_count(stats, "GetCycleCounter"), -1);
    ck_assert_int_eq(row_count(stats, "marker \"boot done\""), 1);
    ck_assert_int_eq(row_count(stats, "marker \"work start\""), -1);
}
END_TEST

/* --trace-out of `kernel`: the file parsed whole with jansson and its structure checked against
 * the trace-event format; returns the traceEvents array (the caller owns *root). */
static json_t *trace_of(const char *kernel, const char *cmdline, json_t **root)
{
    const char *path = tmp("trace.json");
    RUN("--serial", "none", "--trace-out", path, "--append", cmdline, kernel);
    ck_assert_msg(r.status == 33, "status %d: %s", r.status, r.err);
    json_error_t e;
    *root = json_load_file(path, JSON_REJECT_DUPLICATES, &e);
    ck_assert_msg(*root, "%s is not JSON: %s at line %d", path, e.text, e.line);
    unlink(path); /* read: a timeline takes room */
    ck_assert(json_is_object(*root));
    json_t *events = json_object_get(*root, "traceEvents");
    ck_assert(json_is_array(events));
    bool named[6] = {false};
    size_t i;
    json_t *ev;
    json_array_foreach(events, i, ev) {
        ck_assert(json_is_object(ev));
        const char *ph = json_string_value(json_object_get(ev, "ph"));
        ck_assert_ptr_nonnull(ph);
        ck_assert(json_is_integer(json_object_get(ev, "pid")));
        json_int_t tid = json_integer_value(json_object_get(ev, "tid"));
        ck_assert(json_is_integer(json_object_get(ev, "tid")));
        ck_assert(json_is_string(json_object_get(ev, "name")));
        if (!strcmp(ph, "M")) {
            ck_assert(json_is_object(json_object_get(ev, "args")));
            if (!strcmp(json_string_value(json_object_get(ev, "name")), "thread_name") && tid >= 1 && tid <= 5)
                named[tid] = true;
            continue;
        }
        ck_assert_msg(!strcmp(ph, "X") || !strcmp(ph, "i"), "phase %s", ph);
        ck_assert(json_is_integer(json_object_get(ev, "ts")));
        ck_assert_int_ge(json_integer_value(json_object_get(ev, "ts")), 0);
        ck_assert_int_ge(tid, 1);
        ck_assert_int_le(tid, 5);
        if (!strcmp(ph, "X"))
            ck_assert_int_ge(json_integer_value(json_object_get(ev, "dur")), 1);
        else
            ck_assert_str_eq(json_string_value(json_object_get(ev, "s")), "t");
    }
    for (int t = 1; t <= 5; t++)
        ck_assert_msg(named[t], "track %d has no thread_name", t);
    return events;
}

static size_t on_track(json_t *events, int tid, const char *name_prefix)
{
    size_t i, n = 0;
    json_t *ev;
    json_array_foreach(events, i, ev) {
        const char *name = json_string_value(json_object_get(ev, "name"));
        n += json_integer_value(json_object_get(ev, "tid")) == tid &&
             strcmp(json_string_value(json_object_get(ev, "ph")), "M") && !strncmp(name, name_prefix, strlen(name_prefix));
    }
    return n;
}

START_TEST(test_trace_out_is_trace_event_json_with_calls_and_markers_on_their_tracks)
{
    json_t *root;
    json_t *events = trace_of(tu_kernel("markers"), "iters=4", &root);
    ck_assert_uint_eq(on_track(events, 1, "GetCycleCounter"), 4);
    ck_assert_uint_eq(on_track(events, 4, ""), 3);
    ck_assert_uint_eq(on_track(events, 4, "work "), 2);
    /* Markers keep their order on the instruction timeline. */
    size_t i;
    json_t *ev;
    json_int_t last = -1;
    json_array_foreach(events, i, ev) if (json_integer_value(json_object_get(ev, "tid")) == 4 &&
                                          strcmp(json_string_value(json_object_get(ev, "ph")), "M")) {
        json_int_t ts = json_integer_value(json_object_get(ev, "ts"));
        ck_assert_int_gt(ts, last);
        last = ts;
    }
    json_decref(root);
}
END_TEST

START_TEST(test_trace_out_puts_interrupts_and_exceptions_on_their_tracks)
{
    json_t *root;
    json_t *events = trace_of(tu_kernel("linuxlike"), "ticks=3", &root); /* IRQ 0, then the APIC timer */
    ck_assert_uint_ge(on_track(events, 2, "interrupt 0x"), 3);
    ck_assert_uint_eq(on_track(events, 3, "interrupt"), 0);
    json_decref(root);
    events = trace_of(tu_kernel("exceptions"), "", &root);
    ck_assert_uint_ge(on_track(events, 3, "exception 0"), 1);  /* #DE */
    ck_assert_uint_ge(on_track(events, 3, "exception 14"), 1); /* #PF */
    json_decref(root);
}
END_TEST

START_TEST(test_the_trace_is_the_timeline_as_finally_lived_after_going_back)
{
    const char *script = tmp("back.gdb"), *path = tmp("back.json");
    tu_write_text(script, "continue\ngoto marker work start\n");
    RUN("--serial", "none", "-x", script, "--trace-out", path, tu_kernel("markers"));
    ck_assert_int_eq(r.status, 16);
    json_error_t e;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &e);
    ck_assert_msg(root, "%s", e.text);
    json_t *events = json_object_get(root, "traceEvents");
    /* Back before the marking `out` of "work start": only "boot done" was lived, and none of
     * the reads after it. */
    ck_assert_uint_eq(on_track(events, 4, ""), 1);
    ck_assert_uint_eq(on_track(events, 4, "boot done"), 1);
    ck_assert_uint_eq(on_track(events, 1, "GetCycleCounter"), 0);
    ck_assert_uint_gt(on_track(events, 1, "GetRelocationInfo"), 0);
    json_decref(root);
}
END_TEST

START_TEST(test_an_unwritable_trace_file_is_refused_before_running)
{
    RUN("--serial", "none", "--trace-out", "/nonexistent-dir/t.json", tu_kernel("markers"));
    ck_assert_int_eq(r.status, 2);
    assert_err("--trace-out /nonexistent-dir/t.json");
    ck_assert_ptr_null(strstr(r.out, "markers:"));
}
END_TEST

/* An output that is an input (the record being replayed, under another name too) or another
 * output is refused before anything is opened: the record stays whole and replays after. */
START_TEST(test_an_output_over_an_input_or_another_output_is_refused)
{
    const char *rec = record("clash.rec", "iters=2");
    char dotted[600];
    snprintf(dotted, sizeof dotted, "%s/./%s", dirname_of(rec), strrchr(rec, '/') + 1);
    char shot[600];
    snprintf(shot, sizeof shot, "0:%s", rec);
    RUN("--serial", "none", "--replay", rec, "--trace-out", dotted, tu_kernel("markers"));
    ck_assert_int_eq(r.status, 2);
    assert_err("is the same file as --replay");
    assert_err("writing it would destroy what the run reads");
    RUN("--serial", "none", "--replay", rec, "--log", rec, tu_kernel("markers"));
    ck_assert_int_eq(r.status, 2);
    RUN("--serial", "none", "--replay", rec, "--screenshot-at", shot, tu_kernel("markers"));
    ck_assert_int_eq(r.status, 2);
    RUN("--serial", "none", "--replay", rec, "--override", "call 0 result=0", "--record", rec, tu_kernel("markers"));
    ck_assert_int_eq(r.status, 2);
    RUN("--serial", "none", "--log", tu_kernel("markers"), tu_kernel("markers"));
    ck_assert_int_eq(r.status, 2);
    assert_err("is the same file as KERNEL");
    const char *both = tmp("clash.out");
    RUN("--serial", "none", "--record", both, "--trace-out", both, tu_kernel("markers"));
    ck_assert_int_eq(r.status, 2);
    assert_err("writing it would mix two outputs in one file");
    ck_assert_int_ne(access(both, F_OK), 0);
    RUN("--serial", "none", "--replay", rec, tu_kernel("markers"));
    ck_assert_msg(r.status == 33, "the record was damaged: %d %s", r.status, r.err);
    /* Devices take any number of outputs. */
    RUN("--serial", "file:/dev/null", "--log", "/dev/null", "--trace-out", "/dev/null", tu_kernel("markers"));
    ck_assert_int_eq(r.status, 33);
}
END_TEST

/* The shell's `screenshot FILE` refuses the run's inputs and outputs as the command line does:
 * the record being replayed stays whole, the script too. */
START_TEST(test_a_shell_screenshot_over_an_input_is_refused)
{
    const char *rec = record("shot.rec", "iters=2");
    const char *script = tmp("shot.vmi");
    FILE *f = fopen(script, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "screenshot %s\n", rec);
    fclose(f);
    RUN("--serial", "none", "--replay", rec, "-x", script, tu_kernel("markers"));
    assert_err("screenshot ");
    assert_err("is the same file as --replay");
    RUN("--serial", "none", "--replay", rec, tu_kernel("markers"));
    ck_assert_msg(r.status == 33, "the record was damaged: %d %s", r.status, r.err);
    f = fopen(script, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "screenshot %s\n", script);
    fclose(f);
    RUN("--serial", "none", "-x", script, tu_kernel("markers"));
    assert_err("is the same file as -x");
    f = fopen(script, "r");
    char line[12] = "";
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    fclose(f);
    ck_assert_str_eq(line, "screenshot "); /* not a PNG */
}
END_TEST

/* `goto marker NAME` in a replay runs the record forward to a marker not reached yet, as `goto
 * call N` does; a plain run is searched only as far as it has run, and the message says why. */
START_TEST(test_goto_marker_runs_a_replay_forward_to_it)
{
    const char *rec = record("goto.rec", "iters=2");
    const char *script = tmp("goto.gdb");
    tu_write_text(script, "goto marker work end\ngoto marker work start\n");
    RUN("--serial", "none", "--replay", rec, "-x", script, tu_kernel("markers"));
    assert_out("At marker \"work end\"");
    assert_out("At marker \"work start\""); /* back again */
    tu_write_text(script, "goto marker work end\n");
    RUN("--serial", "none", "-x", script, tu_kernel("markers"));
    ck_assert_int_eq(r.status, 2);
    assert_err("no marker 'work end' in the run so far (not a replay");
    tu_write_text(script, "goto marker no such marker\n");
    RUN("--serial", "none", "--replay", rec, "-x", script, tu_kernel("markers"));
    ck_assert_int_eq(r.status, 2);
    assert_err("no marker 'no such marker' in the record");
}
END_TEST


/* ---- interrupt-flag calls: counted in a record, not held ---- */

/* The interrupt-flag calls in a --log JSON file. */
static long ifcalls_logged(const char *path)
{
    static const char *const names[] = {"\"kind\":\"vmi\",\"call\":\"EnableInterrupts\"",
                                        "\"kind\":\"vmi\",\"call\":\"DisableInterrupts\"",
                                        "\"kind\":\"vmi\",\"call\":\"GetInterruptMask\"",
                                        "\"kind\":\"vmi\",\"call\":\"SetInterruptMask\""};
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char line[2048];
    long n = 0;
    while (fgets(line, sizeof line, f))
        for (size_t i = 0; i < 4; i++)
            n += strstr(line, names[i]) != NULL; /* the call's name, not a GetRelocationInfo argument */
    fclose(f);
    return n;
}

/* Record kernel with cmdline (and extra, if not NULL) and a --log; the record's path, and the
 * interrupt-flag calls logged. */
static const char *record_logged(const char *stem, const char *kernel, const char *cmdline, const char *extra,
                                 long *ifcalls)
{
    const char *p = tmp(stem), *log = tmp("ifc.jsonl");
    if (extra)
        RUN("--serial", "none", "--record", p, "--log", log, extra, "irqflags", "--append", cmdline, tu_kernel(kernel));
    else
        RUN("--serial", "none", "--record", p, "--log", log, "--append", cmdline, tu_kernel(kernel));
    ck_assert_msg(r.status == 33, "recording %s: status %d: %s", cmdline, r.status, r.err);
    *ifcalls = ifcalls_logged(log);
    unlink(log);
    return p;
}

START_TEST(test_diff_and_stats_see_interrupt_flag_calls_as_counts)
{
    long n3, n4;
    const char *a = record_logged("if3.rec", "callloop", "iters=3 irqflags", NULL, &n3);
    const char *b = record_logged("if4.rec", "callloop", "iters=4 irqflags", NULL, &n4);
    ck_assert_int_eq(n3, 9); /* three a loop iteration */
    ck_assert_int_eq(n4, 12);
    RUN("stats", a);
    ck_assert_msg(r.status == 0, "status %d: %s%s", r.status, r.out, r.err);
    char want[200];
    snprintf(want, sizeof want, "interrupt-flag calls: %ld (", n3);
    assert_out(want);
    RUN("diff", a, a);
    ck_assert_msg(r.status == 0, "status %d: %s%s", r.status, r.out, r.err);
    snprintf(want, sizeof want, "and %ld interrupt-flag calls counted between them)", n3);
    assert_out(want);
    /* The same recorded calls, but one more iteration of interrupt-flag calls: a difference. */
    RUN("diff", a, b);
    ck_assert_msg(r.status == 1, "status %d: %s%s", r.status, r.out, r.err);
    snprintf(want, sizeof want, "but %ld and %ld interrupt-flag calls (counted) in all", n3, n4);
    assert_out(want);
}
END_TEST

START_TEST(test_diff_compares_the_interrupt_flag_calls_before_each_event_and_numbers_calls_with_them)
{
    long loud, quiet;
    const char *a = record_logged("loud.rec", "linuxlike", "ticks=5", NULL, &loud);
    const char *b = record_logged("quiet.rec", "linuxlike", "ticks=5", "--quiet-calls", &quiet);
    ck_assert_int_gt(loud, 0);
    ck_assert_int_eq(quiet, 0);
    RUN("diff", a, b);
    ck_assert_msg(r.status == 1, "status %d: %s%s", r.status, r.out, r.err);
    /* The first event after some interrupt-flag calls: the same call, numbered k further on in A,
     * after k of them in A and none in B. */
    const char *lt = strstr(r.out, "  < A call #"), *gt = strstr(r.out, "  > B call #");
    ck_assert_msg(lt && gt, "%s", r.out);
    unsigned long na, nb, ka, kb;
    ck_assert_int_eq(sscanf(lt, "  < A call #%lu", &na), 1);
    ck_assert_int_eq(sscanf(gt, "  > B call #%lu", &nb), 1);
    const char *after_a = strstr(lt, "(after "), *after_b = strstr(gt, "(after ");
    ck_assert_msg(after_a && after_a < gt && after_b, "%s", r.out);
    ck_assert_int_eq(sscanf(after_a, "(after %lu interrupt-flag call", &ka), 1);
    ck_assert_int_eq(sscanf(after_b, "(after %lu interrupt-flag call", &kb), 1);
    ck_assert_uint_gt(ka, 0);
    ck_assert_uint_eq(kb, 0);
    ck_assert_uint_eq(na, nb + ka);
    /* None came before the first difference (B has none), so the rest holds all of A's. */
    ck_assert_int_eq(row_count(strstr(r.out, "from there on"), "interrupt-flag calls (counted)"), loud);
}
END_TEST

static Suite *analysis_suite(void)
{
    Suite *s = suite_create("analysis");
    TCase *tc = tcase_create("analysis");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, test_markers_are_logged_with_their_names_with_and_without_the_rom);
    tcase_add_test(tc, test_a_hostile_marker_pointer_and_a_long_name_are_cut_not_fatal);
    tcase_add_test(tc, test_markers_in_the_json_log_have_kind_and_name);
    tcase_add_test(tc, test_markers_are_recorded_and_a_replay_checks_them);
    tcase_add_test(tc, test_a_replay_diverges_at_a_marker_that_differs_from_the_record);
    tcase_add_test(tc, test_diff_of_a_record_with_itself_says_same_and_exits_0);
    tcase_add_test(tc, test_diff_finds_the_first_different_call_and_counts_the_rest);
    tcase_add_test(tc, test_diff_ignoring_the_clock_finds_the_extra_call);
    tcase_add_test(tc, test_diff_across_two_kernels_compares_callers_by_function);
    tcase_add_test(tc, test_diff_and_stats_refuse_bad_input_with_status_2);
    tcase_add_test(tc, test_a_cut_record_is_read_up_to_where_it_ends);
    tcase_add_test(tc, test_stats_counts_calls_by_kind_and_names_callers);
    tcase_add_test(tc, test_shell_lists_markers_goes_to_one_and_shows_stats);
    tcase_add_test(tc, test_trace_out_is_trace_event_json_with_calls_and_markers_on_their_tracks);
    tcase_add_test(tc, test_trace_out_puts_interrupts_and_exceptions_on_their_tracks);
    tcase_add_test(tc, test_the_trace_is_the_timeline_as_finally_lived_after_going_back);
    tcase_add_test(tc, test_an_unwritable_trace_file_is_refused_before_running);
    tcase_add_test(tc, test_an_output_over_an_input_or_another_output_is_refused);
    tcase_add_test(tc, test_a_shell_screenshot_over_an_input_is_refused);
    tcase_add_test(tc, test_goto_marker_runs_a_replay_forward_to_it);
    tcase_add_test(tc, test_diff_and_stats_see_interrupt_flag_calls_as_counts);
    tcase_add_test(tc, test_diff_compares_the_interrupt_flag_calls_before_each_event_and_numbers_calls_with_them);
    suite_add_tcase(s, tc);
    return s;
}

SUITE_MAIN(analysis_suite)

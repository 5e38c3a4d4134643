/* Record and replay: a recorded run replays clean; a kernel changed by one instruction is
 * reported at the first call after the change; cut or corrupted records give clear errors or a
 * clean partial replay; and a kernel runs bit-identically 20 times. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "emu/recplay.h"
#include "emu/snapshot.h"
#include "support/suite_main.h"
#include "support/testutil.h"

static run_result r;
static char rec[4096];

static void setup(void) { snprintf(rec, sizeof rec, "%s", tu_tmp("rec")); }

static void teardown(void)
{
    tu_free(&r);
    unlink(rec);
}

static void record(const char *kernel)
{
    const char *args[] = {"--serial", "none", "--snap-every", "1000", "--record", rec, kernel, NULL};
    r = tu_run(args);
    ck_assert_msg(r.status == 33, "recording exited %d: %s", r.status, r.err);
    tu_free(&r);
}

static void replay(const char *kernel, const char *extra)
{
    const char *args[] = {"--serial", "none", "--replay", rec, kernel, extra, NULL};
    r = tu_run(args);
}

START_TEST(test_recorded_run_replays_clean)
{
    record(tu_kernel("hello"));
    replay(tu_kernel("hello"), NULL);
    ck_assert_msg(r.status == 33, "replay exited %d: %s", r.status, r.err);
    ck_assert_ptr_nonnull(strstr(r.err, "replay matched the record"));
}
END_TEST

START_TEST(test_replay_refuses_a_different_kernel_before_running)
{
    record(tu_fixture("diverge"));
    replay(tu_fixture("diverge_variant"), NULL);
    ck_assert_int_eq(r.status, 2);
    ck_assert_msg(strstr(r.err, "inputs differ from the recorded ones: kernel") && strstr(r.err, "diverge_variant.elf"),
                  "%s", r.err);
}
END_TEST

/* The icount of the k-th GetCycleCounter call in a run of `kernel`. */
static uint64_t nth_counter_call(const char *kernel, int k)
{
    tu_machine *t = calloc(1, sizeof *t);
    vm_error err = {0};
    ck_assert(tu_boot_and_run(t, NULL, kernel, &err));
    uint64_t at = 0;
    for (size_t i = 0; i < evlog_count(&t->m.log); i++)
        if (tu_event(&t->m.log, i)->kind == EV_VMI_CALL && tu_event(&t->m.log, i)->num == 67 && k-- == 0)
            at = tu_event(&t->m.log, i)->icount;
    machine_free(&t->m);
    free(t);
    return at;
}

START_TEST(test_one_changed_instruction_diverges_at_the_next_call)
{
    record(tu_fixture("diverge"));
    replay(tu_fixture("diverge_variant"), "--replay-any-kernel");
    ck_assert_int_eq(r.status, 14);
    /* The change runs after the 100th call (esi counts 200 down to 100); the 101st shows it. */
    char want[64];
    snprintf(want, sizeof want, "replay diverged at icount %llu,", (unsigned long long)nth_counter_call(tu_fixture("diverge"), 100));
    ck_assert_msg(strstr(r.err, want), "want '%s' in:\n%s", want, r.err);
    ck_assert_ptr_nonnull(strstr(r.err, "ebx    expected 0x"));
}
END_TEST

START_TEST(test_replay_refuses_an_option_that_differs_from_the_record_naming_both_values)
{
    record(tu_kernel("hello"));
    const char *args[] = {"-m", "64", "--replay", rec, tu_kernel("hello"), NULL};
    r = tu_run(args);
    ck_assert_int_eq(r.status, 2);
    ck_assert_msg(strstr(r.err, "RAM in MiB (-m): recorded 128, this run 64"), "%s", r.err);
}
END_TEST

/* The CPU model is part of the record: a record made with --cpu max replays on max without
 * being told, and a replay on another model is refused before it runs. */
START_TEST(test_a_record_keeps_its_cpu_model)
{
    const char *rec_args[] = {"--serial", "none", "--cpu", "max", "--snap-every", "1000", "--record", rec,
                              tu_kernel("hello"), NULL};
    r = tu_run(rec_args);
    ck_assert_msg(r.status == 33, "recording exited %d: %s", r.status, r.err);
    tu_free(&r);
    replay(tu_kernel("hello"), NULL);
    ck_assert_msg(r.status == 33, "replay exited %d: %s", r.status, r.err);
    ck_assert_ptr_nonnull(strstr(r.err, "replay matched the record"));
    tu_free(&r);
    const char *args[] = {"--cpu", "coreduo", "--replay", rec, tu_kernel("hello"), NULL};
    r = tu_run(args);
    ck_assert_int_eq(r.status, 2);
    ck_assert_msg(strstr(r.err, "CPU model (--cpu: 0 = coreduo, 1 = max): recorded 1, this run 0"), "%s", r.err);
}
END_TEST

START_TEST(test_replay_accepts_options_equal_to_the_recorded_ones)
{
    record(tu_kernel("hello"));
    const char *args[] = {"--serial", "none", "-m", "128", "--snap-every", "1000", "--replay", rec, tu_kernel("hello"), NULL};
    r = tu_run(args);
    ck_assert_msg(r.status == 33, "replay exited %d: %s", r.status, r.err);
    ck_assert_ptr_nonnull(strstr(r.err, "replay matched the record"));
}
END_TEST

START_TEST(test_record_and_replay_together_are_refused)
{
    const char *args[] = {"--record", "/tmp/x", "--replay", "/tmp/y", tu_kernel("hello"), NULL};
    r = tu_run(args);
    ck_assert_int_eq(r.status, 2);
}
END_TEST

START_TEST(test_corrupted_record_names_the_chunk)
{
    record(tu_kernel("hello"));
    FILE *f = fopen(rec, "r+b");
    fseek(f, -100, SEEK_END); /* inside the last chunk */
    int c = fgetc(f);
    fseek(f, -100, SEEK_END);
    fputc(c ^ 0x5A, f);
    fclose(f);
    replay(tu_kernel("hello"), NULL);
    ck_assert_int_eq(r.status, 2); /* a bad record file, as a bad header is */
    ck_assert_ptr_nonnull(strstr(r.err, "chunk"));
    ck_assert_ptr_nonnull(strstr(r.err, "CRC mismatch"));
}
END_TEST

START_TEST(test_cut_records_replay_partially_or_fail_clearly)
{
    record(tu_fixture("diverge"));
    struct stat st;
    ck_assert_int_eq(stat(rec, &st), 0);
    FILE *f = fopen(rec, "rb");
    uint8_t *whole = malloc((size_t)st.st_size);
    ck_assert_uint_eq(fread(whole, 1, (size_t)st.st_size, f), (size_t)st.st_size);
    fclose(f);
    int partial = 0, refused = 0;
    for (off_t cut = 0; cut < st.st_size; cut += cut < 128 ? 1 : 401) {
        f = fopen(rec, "wb");
        fwrite(whole, 1, (size_t)cut, f);
        fclose(f);
        tu_free(&r);
        replay(tu_fixture("diverge"), NULL);
        /* A cut record is never a success: with its header whole it replays up to where it ends
         * (status 18), else it is a bad record file (2). */
        ck_assert_msg(strstr(r.err, rec) != NULL, "cut at %lld: %s", (long long)cut, r.err);
        if (r.status == 18) {
            ck_assert_msg(strstr(r.err, "replay matched the record up to where it ends"), "cut at %lld: %s",
                          (long long)cut, r.err);
            partial++;
        } else {
            ck_assert_msg(r.status == 2, "cut at %lld: status %d: %s", (long long)cut, r.status, r.err);
            refused++;
        }
    }
    ck_assert_int_gt(partial, 10);
    ck_assert_int_gt(refused, 10);
    free(whole);
}
END_TEST

/* Append `bytes` (n of them) to rec. */
static void append_to_record(const void *bytes, size_t n)
{
    FILE *f = fopen(rec, "ab");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(bytes, 1, n, f), n);
    fclose(f);
}

static uint8_t *slurp(const char *path, size_t *n)
{
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    uint8_t *buf = malloc((size_t)st.st_size);
    FILE *f = fopen(path, "rb");
    ck_assert_uint_eq(fread(buf, 1, (size_t)st.st_size, f), (size_t)st.st_size);
    fclose(f);
    *n = (size_t)st.st_size;
    return buf;
}

START_TEST(test_a_record_with_junk_after_its_end_is_a_bad_record_file)
{
    record(tu_kernel("hello"));
    tu_free(&r);
    append_to_record("junkjunk\n", 9);
    replay(tu_kernel("hello"), NULL);
    ck_assert_msg(r.status == 2, "status %d: %s", r.status, r.err);
    ck_assert_msg(strstr(r.err, "goes on after its end entry"), "%s", r.err);
    ck_assert_msg(!strstr(r.err, "replay matched"), "%s", r.err);
}
END_TEST

START_TEST(test_a_record_followed_by_a_copy_of_itself_is_a_bad_record_file)
{
    record(tu_kernel("hello"));
    tu_free(&r);
    size_t n;
    uint8_t *whole = slurp(rec, &n);
    append_to_record(whole, n);
    free(whole);
    replay(tu_kernel("hello"), NULL);
    ck_assert_msg(r.status == 2, "status %d: %s", r.status, r.err);
    ck_assert_msg(strstr(r.err, "goes on after its end entry"), "%s", r.err);
}
END_TEST

/* Cut inside its first chunk, a record holds nothing to check: the replay stops at once. */
START_TEST(test_a_record_cut_inside_its_first_chunk_stops_at_once_with_status_18)
{
    record(tu_kernel("hello"));
    tu_free(&r);
    size_t n;
    uint8_t *whole = slurp(rec, &n);
    FILE *f = fopen(rec, "wb");
    size_t chunk0 = 0;
    while (chunk0 + 4 <= n && memcmp(whole + chunk0, "RCHK", 4) != 0)
        chunk0++;
    size_t keep = chunk0 + 30; /* past the first chunk's 24-byte header */
    ck_assert_uint_lt(keep, n);
    ck_assert_uint_eq(fwrite(whole, 1, keep, f), keep);
    fclose(f);
    free(whole);
    replay(tu_kernel("hello"), NULL);
    ck_assert_msg(r.status == 18, "status %d: %s", r.status, r.err);
    ck_assert_msg(strstr(r.err, "0 checks, stopped at icount 0"), "%s", r.err);
    ck_assert_msg(strstr(r.err, "truncated"), "%s", r.err);
}
END_TEST

START_TEST(test_killed_recording_replays_up_to_its_last_chunk)
{
    pid_t pid = fork();
    if (pid == 0) {
        const char *argv[] = {VMIEMU_BINARY, "--serial", "none", "--snap-every", "100000", "--record", rec,
                              "--append", "iters=1000000000", tu_kernel("callloop"), NULL};
        execv(VMIEMU_BINARY, (char *const *)argv);
        _exit(127);
    }
    /* Kill it once some chunks are on disk (a sanitizer build starts slowly). */
    struct stat sb;
    for (int i = 0; i < 600 && (stat(rec, &sb) != 0 || sb.st_size < 100000); i++)
        usleep(50000);
    kill(pid, SIGKILL);
    int st;
    waitpid(pid, &st, 0);
    ck_assert(WIFSIGNALED(st));
    /* Replay a bounded prefix: the record holds at least some checks, then ends mid-way. */
    tu_machine *t = calloc(1, sizeof *t);
    rec_header h;
    vm_error err = {0};
    ck_assert_msg(recplay_read_header(rec, &h, &err), "%s", err.msg);
    machine_config c;
    recplay_config(&h, &c);
    ck_assert_msg(machine_init(&t->m, &c, tu_kernel("callloop"), &err), "%s", err.msg);
    machine_set_serial_out(&t->m, NULL, NULL);
    ck_assert_msg(recplay_replay(&t->m, rec, false, &err), "%s", err.msg);
    /* Run until the record is exhausted: no divergence on the way, and the run stops there. */
    char note[1024] = "";
    for (uint64_t at = 1000000; t->m.end == END_RUNNING && at < 4000000000ull; at += 1000000)
        machine_run_until(&t->m, at);
    ck_assert_msg(recplay_over(&t->m, note, sizeof note), "%s", t->m.end_message);
    ck_assert_int_eq(t->m.end, END_STOPPED);
    ck_assert(recplay_record_cut(&t->m));
    ck_assert(!recplay_diverged(&t->m));
    ck_assert_msg(strstr(note, "truncated") || strstr(note, "cut short"), "%s", note);
    machine_free(&t->m);
    free(t);
}
END_TEST

START_TEST(test_twenty_runs_are_bit_identical)
{
    uint64_t first_state = 0;
    char *first_log = NULL;
    for (int i = 0; i < 20; i++) {
        tu_machine *t = calloc(1, sizeof *t);
        machine_config c;
        machine_config_defaults(&c);
        c.ram_mib = 16;
        vm_error err = {0};
        ck_assert(tu_boot_and_run(t, &c, tu_kernel("hello"), &err));
        char *log = tu_log_text(&t->m);
        uint64_t state = machine_state_hash(&t->m);
        if (i == 0) {
            first_log = log;
            first_state = state;
        } else {
            ck_assert_str_eq(log, first_log);
            ck_assert_uint_eq(state, first_state);
            free(log);
        }
        machine_free(&t->m);
        free(t);
    }
    free(first_log);
}
END_TEST

START_TEST(test_serial_input_is_recorded_and_replayed_at_the_same_instruction)
{
    const char *rec_args[] = {"--record", rec, tu_fixture("echo"), NULL};
    r = tu_run_input(rec_args, "abc xyz q");
    ck_assert_msg(r.status == 33, "%d: %s", r.status, r.err);
    ck_assert_str_eq(r.out, "ABC XYZ \n");
    tu_free(&r);
    const char *args[] = {"--replay", rec, tu_fixture("echo"), NULL};
    r = tu_run(args); /* no input now: it comes from the record */
    ck_assert_msg(r.status == 33, "%d: %s", r.status, r.err);
    ck_assert_str_eq(r.out, "ABC XYZ \n");
    ck_assert_ptr_nonnull(strstr(r.err, "replay matched the record"));
}
END_TEST

/* How an entry is changed in a copy of a record. */
typedef void entry_edit(rec_entry *e);

/* Copy the record at rec into `to`, passing the first entry of `kind` that `pick` accepts
 * through edit; that entry's icount goes into *at and, for a REC_CALL, its number (as the
 * event log numbers calls: the interrupt-flag calls before it, counted in the record, too)
 * into *num. */
static void copy_editing(const char *to, uint8_t kind, bool (*pick)(const rec_entry *e, uint64_t num),
                         entry_edit *edit, uint64_t *at, uint64_t *num)
{
    rec_header h;
    vm_error err = {0};
    rec_reader *rd = rec_open(rec, &h, &err);
    ck_assert_msg(rd != NULL, "%s", err.msg);
    rec_writer *w = rec_create(to, &h, &err);
    ck_assert_msg(w != NULL, "%s", err.msg);
    rec_entry e;
    uint64_t calls = 0;
    bool done = false;
    int got;
    while ((got = rec_next(rd, &e, &err)) == 1) {
        calls += recplay_entry_ifcalls(&e);
        if (!done && e.kind == kind && pick(&e, calls)) {
            edit(&e);
            *at = e.icount;
            *num = calls;
            done = true;
        }
        calls += e.kind == REC_CALL;
        ck_assert_msg(rec_append(w, &e, &err), "%s", err.msg);
    }
    ck_assert_int_eq(got, 0);
    ck_assert_msg(done, "no entry of kind %u to change", kind);
    ck_assert(rec_close(w, &err));
    rec_close_reader(rd);
}

static bool from_call_57(const rec_entry *e, uint64_t num) { return (void)e, num >= 57; }
/* the result's low byte (emu/recplay.c's REC_CALL payload) */
static void flip_result(rec_entry *e) { e->payload[28] ^= 1; }

START_TEST(test_a_record_with_one_call_result_altered_diverges_at_that_call)
{
    record(tu_fixture("diverge"));
    char rec2[4096];
    snprintf(rec2, sizeof rec2, "%s", tu_tmp("rec2"));
    uint64_t at = 0, num = 0;
    copy_editing(rec2, REC_CALL, from_call_57, flip_result, &at, &num);
    const char *args[] = {"--serial", "none", "--replay", rec2, tu_fixture("diverge"), NULL};
    r = tu_run(args);
    unlink(rec2);
    ck_assert_int_eq(r.status, 14);
    char want[128];
    snprintf(want, sizeof want, "replay diverged at icount %llu,", (unsigned long long)at);
    ck_assert_msg(strstr(r.err, want), "want '%s' in:\n%s", want, r.err);
    snprintf(want, sizeof want, "VMI call #%llu differs (the result)", (unsigned long long)num);
    ck_assert_msg(strstr(r.err, want), "want '%s' in:\n%s", want, r.err);
    snprintf(want, sizeof want, "expected: #%llu icount=%llu", (unsigned long long)num, (unsigned long long)at);
    ck_assert_msg(strstr(r.err, want), "want '%s' in:\n%s", want, r.err);
}
END_TEST

/* The record holds what a replay needs and compact checks: a call loop's record grows by far
 * less than a byte a call (the bound leaves room; version 1 took 99 bytes). */
START_TEST(test_a_recorded_call_loop_takes_under_16_bytes_a_call)
{
    enum { CALLS = 200000 };
    const char *args[] = {"--serial", "none", "--record", rec, "--append", "iters=200000", tu_kernel("callloop"), NULL};
    r = tu_run(args);
    ck_assert_msg(r.status == 33, "recording exited %d: %s", r.status, r.err);
    struct stat st;
    ck_assert_int_eq(stat(rec, &st), 0);
    ck_assert_msg((uint64_t)st.st_size < 16u * CALLS, "%lld bytes for %d calls", (long long)st.st_size, CALLS);
    tu_free(&r);
    const char *again[] = {"--serial", "none", "--replay", rec, tu_kernel("callloop"), NULL};
    r = tu_run(again);
    ck_assert_msg(r.status == 33, "replay exited %d: %s", r.status, r.err);
    ck_assert_ptr_nonnull(strstr(r.err, "replay matched the record"));
}
END_TEST


/* ---- interrupt-flag calls: logged, counted in the record, not in it ---- */

static bool is_irqflag_name(const char *name)
{
    return !strcmp(name, "EnableInterrupts") || !strcmp(name, "DisableInterrupts") ||
           !strcmp(name, "GetInterruptMask") || !strcmp(name, "SetInterruptMask");
}

/* The VMI calls of a --log JSON file: how many, how many of them interrupt-flag calls, and the
 * number (among the calls) of the first interrupt-flag call after call `after`. */
static void log_calls(const char *path, uint64_t after, uint64_t *calls, uint64_t *ifcalls, uint64_t *first_if)
{
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char line[2048];
    *calls = *ifcalls = 0;
    *first_if = UINT64_MAX;
    while (fgets(line, sizeof line, f)) {
        char name[64];
        const char *at = strstr(line, "\"kind\":\"vmi\",\"call\":\"");
        if (!at || sscanf(at + 21, "%63[^\"]", name) != 1)
            continue;
        if (is_irqflag_name(name)) {
            if (*calls > after && *first_if == UINT64_MAX)
                *first_if = *calls;
            ++*ifcalls;
        }
        ++*calls;
    }
    fclose(f);
}

/* The record at rec by kind, and the sum of the interrupt-flag counts its entries carry. */
static void record_counts(uint64_t by_kind[8], uint64_t *ifcalls)
{
    rec_header h;
    vm_error err = {0};
    rec_reader *rd = rec_open(rec, &h, &err);
    ck_assert_msg(rd != NULL, "%s", err.msg);
    memset(by_kind, 0, 8 * sizeof by_kind[0]);
    *ifcalls = 0;
    rec_entry e;
    int got;
    while ((got = rec_next(rd, &e, &err)) == 1) {
        by_kind[e.kind & 7]++;
        *ifcalls += recplay_entry_ifcalls(&e);
    }
    ck_assert_msg(got == 0, "%s", err.msg);
    rec_close_reader(rd);
}

static void record_linuxlike(const char *log)
{
    const char *args[] = {"--serial", "none", "--snap-every", "20000", "--record", rec, "--log", log,
                          tu_kernel("linuxlike"), NULL};
    r = tu_run(args);
    ck_assert_msg(r.status == 33, "recording exited %d: %s", r.status, r.err);
    tu_free(&r);
}

START_TEST(test_interrupt_flag_calls_are_logged_and_counted_but_not_recorded)
{
    char log[4096];
    snprintf(log, sizeof log, "%s", tu_tmp("ifcalls.jsonl"));
    record_linuxlike(log);
    uint64_t calls, ifcalls, first_if, kinds[8], counted;
    log_calls(log, 0, &calls, &ifcalls, &first_if);
    record_counts(kinds, &counted);
    ck_assert_uint_gt(ifcalls, 10); /* linuxlike turns interrupts off and on around its calls */
    ck_assert_uint_eq(kinds[REC_CALL], calls - ifcalls); /* every other call is an entry */
    ck_assert_uint_eq(counted, ifcalls);                 /* these are counted only */
    ck_assert_uint_eq(kinds[6], 0); /* no REC_IFCALL (version 18) entries */
    ck_assert_uint_gt(kinds[REC_HASH], 0);
    ck_assert_uint_eq(kinds[REC_END], 1);
    /* The replay's log is the recording's, interrupt-flag calls and all. */
    char log2[4096];
    snprintf(log2, sizeof log2, "%s", tu_tmp("ifcalls2.jsonl"));
    const char *args[] = {"--serial", "none", "--replay", rec, "--log", log2, tu_kernel("linuxlike"), NULL};
    r = tu_run(args);
    ck_assert_msg(r.status == 33 && strstr(r.err, "replay matched the record"), "%d: %s", r.status, r.err);
    uint64_t calls2, ifcalls2, first_if2;
    log_calls(log2, 0, &calls2, &ifcalls2, &first_if2);
    ck_assert_uint_eq(calls2, calls);
    ck_assert_uint_eq(ifcalls2, ifcalls);
    unlink(log);
    unlink(log2);
}
END_TEST

static bool counts_some(const rec_entry *e, uint64_t num) { return (void)num, recplay_entry_ifcalls(e) > 0; }

/* One more interrupt-flag call than the entry says were made before it: the count is the last
 * 8 bytes of a REC_CALL's or REC_HASH's payload, bytes 8-15 of a REC_END's (emu/recplay.c). */
static void count_one_more(rec_entry *e)
{
    uint64_t before = recplay_entry_ifcalls(e);
    e->payload[e->kind == REC_END ? 8 : e->len - 8]++;
    ck_assert_uint_eq(recplay_entry_ifcalls(e), before + 1);
}

/* A replay against the record at rec2 diverges at icount at about the interrupt-flag calls
 * before `where`, expecting one more than it made. */
static void assert_ifcall_divergence(const char *rec2, const char *kernel, uint64_t at, const char *where)
{
    const char *args[] = {"--serial", "none", "--replay", rec2, kernel, NULL};
    r = tu_run(args);
    ck_assert_msg(r.status == 14, "replay exited %d: %s", r.status, r.err);
    char want[300];
    snprintf(want, sizeof want, "replay diverged at icount %llu,", (unsigned long long)at);
    ck_assert_msg(strstr(r.err, want), "want '%s' in:\n%s", want, r.err);
    snprintf(want, sizeof want, "interrupt-flag calls (EnableInterrupts, DisableInterrupts, GetInterruptMask, "
                                "SetInterruptMask: counted, not recorded) before %s differs", where);
    ck_assert_msg(strstr(r.err, want), "want '%s' in:\n%s", want, r.err);
    unsigned long long exp_total, exp_since, act_total, act_since;
    const char *e = strstr(r.err, "expected: "), *a = strstr(r.err, "actual:   ");
    ck_assert_msg(e && a, "%s", r.err);
    ck_assert_int_eq(sscanf(e, "expected: %llu interrupt-flag calls up to here (%llu since", &exp_total, &exp_since), 2);
    ck_assert_int_eq(sscanf(a, "actual:   %llu interrupt-flag calls up to here (%llu since", &act_total, &act_since), 2);
    ck_assert_uint_eq(exp_total, act_total + 1);
    ck_assert_uint_eq(exp_since, act_since + 1);
}

START_TEST(test_a_replay_making_a_different_number_of_interrupt_flag_calls_diverges)
{
    record_linuxlike(tu_tmp("ifcount.jsonl"));
    unlink(tu_tmp("ifcount.jsonl"));
    char rec2[4096];
    snprintf(rec2, sizeof rec2, "%s", tu_tmp("ifcount.rec"));
    uint64_t at = 0, num = 0;
    copy_editing(rec2, REC_CALL, counts_some, count_one_more, &at, &num);
    char where[64];
    snprintf(where, sizeof where, "VMI call #%llu", (unsigned long long)num);
    assert_ifcall_divergence(rec2, tu_kernel("linuxlike"), at, where);
    tu_free(&r);
    /* The state digest and the end carry the count too: callloop's interrupt-flag loop makes no
     * other call, so only they can tell. */
    const char *args[] = {"--serial", "none", "--snap-every", "20000", "--record", rec, "--append",
                          "iters=3000 irqflags", tu_kernel("callloop"), NULL};
    r = tu_run(args);
    ck_assert_msg(r.status == 33, "recording exited %d: %s", r.status, r.err);
    tu_free(&r);
    copy_editing(rec2, REC_HASH, counts_some, count_one_more, &at, &num);
    assert_ifcall_divergence(rec2, tu_kernel("callloop"), at, "the state digest");
    tu_free(&r);
    copy_editing(rec2, REC_END, counts_some, count_one_more, &at, &num);
    assert_ifcall_divergence(rec2, tu_kernel("callloop"), at, "the end of the run");
    unlink(rec2);
}
END_TEST

START_TEST(test_override_of_an_interrupt_flag_call_is_refused_naming_the_recorded_calls_around_it)
{
    char log[4096];
    snprintf(log, sizeof log, "%s", tu_tmp("ifover.jsonl"));
    record_linuxlike(log);
    uint64_t calls, ifcalls, n;
    log_calls(log, 20, &calls, &ifcalls, &n); /* an interrupt-flag call after the first few */
    unlink(log);
    ck_assert_uint_lt(n, calls);
    char spec[64];
    snprintf(spec, sizeof spec, "call %llu result=1", (unsigned long long)n);
    const char *args[] = {"--serial", "none", "--replay", rec, "--override", spec, tu_kernel("linuxlike"), NULL};
    r = tu_run(args);
    ck_assert_msg(r.status == 2, "exited %d: %s", r.status, r.err);
    char want[200];
    snprintf(want, sizeof want, "VMI call #%llu is an interrupt-flag call", (unsigned long long)n);
    ck_assert_msg(strstr(r.err, want), "want '%s' in:\n%s", want, r.err);
    ck_assert_msg(strstr(r.err, "--override cannot change one; the nearest recorded calls: #"), "%s", r.err);
    /* The numbers it names are recorded calls, which an override finds. */
    unsigned long long before, after;
    const char *near = strstr(r.err, "the nearest recorded calls: #");
    ck_assert_int_eq(sscanf(near, "the nearest recorded calls: #%llu before it, #%llu after it", &before, &after), 2);
    ck_assert_uint_lt(before, n);
    ck_assert_uint_gt(after, n);
    snprintf(spec, sizeof spec, "call %llu result=1", after);
    tu_free(&r);
    r = tu_run(args);
    ck_assert_msg(!strstr(r.err, "is an interrupt-flag call"), "%s", r.err);
    ck_assert_msg(strstr(r.err, "override:") || strstr(r.err, "what-if"), "exited %d: %s", r.status, r.err);
}
END_TEST

static Suite *replay_suite(void)
{
    Suite *s = suite_create("replay");
    TCase *tc = tcase_create("record");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_recorded_run_replays_clean);
    tcase_add_test(tc, test_replay_refuses_a_different_kernel_before_running);
    tcase_add_test(tc, test_one_changed_instruction_diverges_at_the_next_call);
    tcase_add_test(tc, test_a_record_with_one_call_result_altered_diverges_at_that_call);
    tcase_add_test(tc, test_a_recorded_call_loop_takes_under_16_bytes_a_call);
    tcase_add_test(tc, test_replay_refuses_an_option_that_differs_from_the_record_naming_both_values);
    tcase_add_test(tc, test_a_record_keeps_its_cpu_model);
    tcase_add_test(tc, test_replay_accepts_options_equal_to_the_recorded_ones);
    tcase_add_test(tc, test_record_and_replay_together_are_refused);
    tcase_add_test(tc, test_corrupted_record_names_the_chunk);
    tcase_add_test(tc, test_cut_records_replay_partially_or_fail_clearly);
    tcase_add_test(tc, test_a_record_with_junk_after_its_end_is_a_bad_record_file);
    tcase_add_test(tc, test_a_record_followed_by_a_copy_of_itself_is_a_bad_record_file);
    tcase_add_test(tc, test_a_record_cut_inside_its_first_chunk_stops_at_once_with_status_18);
    tcase_add_test(tc, test_killed_recording_replays_up_to_its_last_chunk);
    tcase_add_test(tc, test_twenty_runs_are_bit_identical);
    tcase_add_test(tc, test_serial_input_is_recorded_and_replayed_at_the_same_instruction);
    tcase_add_test(tc, test_interrupt_flag_calls_are_logged_and_counted_but_not_recorded);
    tcase_add_test(tc, test_a_replay_making_a_different_number_of_interrupt_flag_calls_diverges);
    tcase_add_test(tc, test_override_of_an_interrupt_flag_call_is_refused_naming_the_recorded_calls_around_it);
    suite_add_tcase(s, tc);
    return s;
}

SUITE_MAIN(replay_suite)

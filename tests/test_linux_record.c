/* Determinism on the real guest (Linux 2.6.32 with CONFIG_VMI and its initramfs, found as
 * test_linux_guest finds it; without it the suite exits 77 and ctest reports it skipped): two
 * plain boots write byte-identical event logs and serial output; a recorded boot replays with
 * the same log, serial output and ending; a record is refused with another kernel, initrd or
 * command line; and `goto call N` (early, middle and late in the boot) and `reverse-continue`
 * in an -x script land where a straight run stands at that call's instruction count, with the
 * same registers, and the record made meanwhile replays as a straight run. */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emu/machine.h"
#include "support/suite_main.h"
#include "support/testutil.h"

#define CMDLINE "console=ttyS0"
/* The boot up to /init's first output (73 M instructions, about 340,000 VMI calls), also in a
 * sanitizer build, where the kernel's first serial output comes after 54 M. The whole boot to
 * its power-off (109 M, 5.2 M calls in timed waits) would write 600 MB of log per run. */
#define BOOT_INSNS "75000000"

static char bzimage[TU_GUEST_PATH], initramfs[TU_GUEST_PATH], other_initrd[TU_GUEST_PATH];

/* One boot through the binary: its log, serial output and how it ended. */
typedef struct boot_files {
    char log[4096], serial[4096];
    int status;
    char *err;
} boot_files;

static boot_files straight; /* the reference boot, made once for the whole suite */

static void boot_paths(boot_files *b, const char *stem)
{
    snprintf(b->log, sizeof b->log, "%s.jsonl", tu_tmp(stem));
    snprintf(b->serial, sizeof b->serial, "%s.txt", tu_tmp(stem));
}

/* Boot the guest with --log and --serial into files; `mode` and `rec` add --record/--replay. */
static void boot(boot_files *b, const char *stem, const char *mode, const char *rec)
{
    boot_paths(b, stem);
    char logopt[4200], serialopt[4200];
    snprintf(logopt, sizeof logopt, "--log=%s", b->log);
    snprintf(serialopt, sizeof serialopt, "--serial=file:%s", b->serial);
    const char *plain[] = {logopt, serialopt, "--initrd", initramfs, "--append", CMDLINE, "--max-insns", BOOT_INSNS,
                           bzimage, NULL};
    const char *recording[] = {logopt, serialopt, "--initrd", initramfs, "--append", CMDLINE, "--max-insns",
                               BOOT_INSNS, "--record", rec, bzimage, NULL};
    const char *replaying[] = {logopt, serialopt, "--initrd", initramfs, "--replay", rec, bzimage, NULL};
    run_result r = tu_run(!mode ? plain : strcmp(mode, "record") == 0 ? recording : replaying);
    b->status = r.status;
    b->err = r.err;
    r.err = NULL;
    tu_free(&r);
}

static void unlink_boot(boot_files *b)
{
    unlink(b->log);
    unlink(b->serial);
    free(b->err);
    b->err = NULL;
}

static char *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = 0;
    fclose(f);
    *size = (size_t)n;
    return buf;
}

/* Byte-identical files, or a failure naming the first differing offset. */
static void assert_same_file(const char *a, const char *b)
{
    size_t na, nb;
    char *x = slurp(a, &na), *y = slurp(b, &nb);
    size_t i = 0;
    while (i < na && i < nb && x[i] == y[i])
        i++;
    ck_assert_msg(na == nb && i == na, "%s (%zu bytes) and %s (%zu bytes) differ from byte %zu", a, na, b, nb, i);
    ck_assert_msg(na > 0, "%s is empty", a);
    free(x);
    free(y);
}

static void straight_setup(void)
{
    boot(&straight, "linux-straight", NULL, NULL);
}

static void straight_teardown(void) { unlink_boot(&straight); }

START_TEST(test_two_plain_boots_give_identical_logs_and_serial_output)
{
    boot_files again;
    boot(&again, "linux-again", NULL, NULL);
    ck_assert_int_eq(again.status, straight.status);
    assert_same_file(straight.log, again.log);
    assert_same_file(straight.serial, again.serial);
    unlink_boot(&again);
}
END_TEST

START_TEST(test_recorded_boot_replays_with_identical_log_serial_output_and_ending)
{
    char rec[4096];
    snprintf(rec, sizeof rec, "%s", tu_tmp("linux-rec"));
    boot_files recorded, replayed;
    boot(&recorded, "linux-recorded", "record", rec);
    ck_assert_msg(recorded.status == straight.status, "recording exited %d: %s", recorded.status, recorded.err);
    assert_same_file(straight.log, recorded.log); /* recording does not change the run */
    assert_same_file(straight.serial, recorded.serial);
    boot(&replayed, "linux-replayed", "replay", rec);
    ck_assert_msg(replayed.status == straight.status, "replay exited %d: %s", replayed.status, replayed.err);
    ck_assert_msg(strstr(replayed.err, "replay matched the record"), "%s", replayed.err);
    assert_same_file(straight.log, replayed.log);
    assert_same_file(straight.serial, replayed.serial);
    unlink_boot(&recorded);
    unlink_boot(&replayed);
    unlink(rec);
}
END_TEST

/* ---- a record refused with other inputs ---- */

static char short_rec[4096];

/* A record of the first million instructions: enough to be refused, cheap to make. */
static void short_record_setup(void)
{
    snprintf(short_rec, sizeof short_rec, "%s", tu_tmp("linux-short"));
    const char *args[] = {"--serial", "none", "--initrd", initramfs, "--append", CMDLINE, "--max-insns", "1000000",
                          "--record", short_rec, bzimage, NULL};
    run_result r = tu_run(args);
    ck_assert_msg(r.status == 8, "recording exited %d: %s", r.status, r.err);
    tu_free(&r);
}

static void short_record_teardown(void) { unlink(short_rec); }

static run_result refused;

static void replay_short(const char *kernel, const char *initrd, const char *append)
{
    const char *args[10] = {"--serial", "none", "--replay", short_rec};
    int n = 4;
    if (initrd) {
        args[n++] = "--initrd";
        args[n++] = initrd;
    }
    if (append) {
        args[n++] = "--append";
        args[n++] = append;
    }
    args[n] = kernel;
    refused = tu_run(args);
}

/* Status 2 and one line naming the record and each needle. */
static void assert_refused(const char *needle1, const char *needle2)
{
    ck_assert_msg(refused.status == 2, "status %d: %s", refused.status, refused.err);
    ck_assert_msg(strstr(refused.err, short_rec) && strstr(refused.err, "inputs differ from the recorded ones"), "%s",
                  refused.err);
    ck_assert_msg(strstr(refused.err, needle1) && (!needle2 || strstr(refused.err, needle2)), "%s", refused.err);
    ck_assert_msg(strchr(refused.err, '\n') == refused.err + strlen(refused.err) - 1, "not one line: %s", refused.err);
    tu_free(&refused);
}

START_TEST(test_linux_record_replays_its_first_million_instructions)
{
    replay_short(bzimage, initramfs, NULL);
    ck_assert_msg(refused.status == 8 && strstr(refused.err, "replay matched the record"), "status %d: %s",
                  refused.status, refused.err);
    tu_free(&refused);
}
END_TEST

START_TEST(test_linux_record_is_refused_with_another_initrd)
{
    replay_short(bzimage, other_initrd, NULL);
    assert_refused("initrd (--initrd: give the recorded one): recorded initramfs.cpio.gz (",
                   "this run init-reboot.cpio.gz (");
}
END_TEST

START_TEST(test_linux_record_is_refused_without_its_initrd)
{
    replay_short(bzimage, NULL, NULL);
    assert_refused("initrd (--initrd: give the recorded one): recorded initramfs.cpio.gz (", "this run none");
}
END_TEST

START_TEST(test_linux_record_is_refused_with_another_append)
{
    replay_short(bzimage, initramfs, "console=ttyS0 init=/bin/sh");
    assert_refused("command line (--append): recorded 'console=ttyS0', this run 'console=ttyS0 init=/bin/sh'", NULL);
}
END_TEST

START_TEST(test_linux_record_is_refused_with_another_kernel)
{
    replay_short(tu_kernel("hello"), NULL, NULL); /* a Multiboot kernel takes no initrd */
    assert_refused("kernel (--replay-any-kernel replays another): recorded ", "this run hello.elf (");
}
END_TEST

/* ---- going back and forth in the boot ---- */

/* The VMI calls of the straight boot's log: instruction count and call name of each. */
typedef struct call_list {
    size_t n;
    uint64_t *icount;
    char (*name)[32];
} call_list;

static void read_calls(const char *log, call_list *c)
{
    size_t size;
    char *text = slurp(log, &size);
    size_t cap = 1024;
    c->n = 0;
    c->icount = malloc(cap * sizeof *c->icount);
    c->name = malloc(cap * sizeof *c->name);
    for (char *line = text, *nl; line && *line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        if (nl)
            *nl = 0;
        const char *ic = strstr(line, "\"icount\":"), *call = strstr(line, "\"call\":\"");
        if (!strstr(line, "\"kind\":\"vmi\"") || !ic || !call)
            continue;
        if (c->n == cap) {
            cap *= 2;
            c->icount = realloc(c->icount, cap * sizeof *c->icount);
            c->name = realloc(c->name, cap * sizeof *c->name);
        }
        c->icount[c->n] = strtoull(ic + 9, NULL, 10);
        ck_assert_int_eq(sscanf(call + 8, "%31[^\"]", c->name[c->n]), 1);
        c->n++;
    }
    free(text);
}

/* "info registers" as the shell prints it for the machine where it stands. */
static void registers_text(machine *m, char *buf, size_t len)
{
    size_t n = 0;
    for (int r = 0; r < CPU_NREGS; r++) {
        uint32_t v = vcpu_get(m->cpu, (cpu_reg)r);
        n += (size_t)snprintf(buf + n, len - n, "%-8s 0x%08x %u\n", vcpu_reg_names[r], v, v);
    }
    snprintf(buf + n, len - n, "%-8s %llu\n", "icount", (unsigned long long)machine_insns(m));
}

#define STOPS 5

/* The script output's "At icount" and breakpoint lines (for a failure message). */
static const char *stops_of(const char *out)
{
    static char buf[1024];
    size_t n = 0;
    buf[0] = 0;
    for (const char *line = out; line && *line && n + 1 < sizeof buf; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        size_t len = strcspn(line, "\n");
        if ((strncmp(line, "At icount", 9) == 0 || strncmp(line, "Breakpoint", 10) == 0 || strncmp(line, "icount", 6) == 0) &&
            n + len + 2 < sizeof buf)
            n += (size_t)snprintf(buf + n, sizeof buf - n, "%.*s\n", (int)len, line);
    }
    return buf;
}

START_TEST(test_goto_call_and_reverse_continue_land_where_a_straight_run_stands_and_replay)
{
    call_list calls;
    read_calls(straight.log, &calls);
    ck_assert_uint_gt(calls.n, 1000);
    size_t early = calls.n / 20, middle = calls.n / 2, late = calls.n - calls.n / 20;
    /* reverse-continue from call `late` with a break on a kind of call: the last call of that
     * kind before `late`. A native call first (SetPxE: its slot runs after the ROM entry where
     * the breakpoint stops; the log's icount is that entry), host calls if there is none. */
    static const char *const kinds[] = {"SetPxE", "GetCycleCounter", "UpdateKernelStack", "SetLazyMode",
                                             "WriteIDTEntry", "GetRelocationInfo"}; /* the last: all at Init */
    const char *kind = NULL;
    size_t back = 0;
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0] && !kind; k++)
        for (size_t i = 0; i < late; i++)
            if (strcmp(calls.name[i], kinds[k]) == 0 && calls.icount[i] < calls.icount[late]) {
                kind = kinds[k];
                back = i;
            }
    ck_assert_msg(kind, "no call of a known kind before call %zu", late);
    ck_assert_str_eq(kind, "SetPxE"); /* the boot makes thousands */
    /* The script visits late, early, middle (back and forth across snapshots), then late again
     * and reverse-continues. */
    const size_t order[STOPS] = {late, early, middle, late, back};
    char script[4096];
    snprintf(script, sizeof script, "%s", tu_tmp("linux-script"));
    FILE *f = fopen(script, "w");
    ck_assert_ptr_nonnull(f);
    for (int i = 0; i < STOPS - 1; i++)
        fprintf(f, "goto call %zu\ninfo registers\n", order[i]);
    fprintf(f, "break vmi %s\nreverse-continue\ninfo registers\n", kind);
    fclose(f);
    char rec[4096];
    snprintf(rec, sizeof rec, "%s", tu_tmp("linux-script-rec"));
    const char *args[] = {"--serial", "none", "--initrd", initramfs, "--append", CMDLINE, "--max-insns", BOOT_INSNS,
                          "--record", rec, "-x", script, bzimage, NULL};
    run_result r = tu_run(args);
    ck_assert_msg(r.status == 16, "script run exited %d: %.300s", r.status, r.err);
    /* Recorded while going back and forth, the timeline as lived replays as a straight run. */
    const char *replay_args[] = {"--serial", "none", "--initrd", initramfs, "--replay", rec, bzimage, NULL};
    run_result p = tu_run(replay_args);
    ck_assert_msg(p.status == 16 && strstr(p.err, "replay matched the record") &&
                      strstr(p.err, "where the recording was stopped"),
                  "replay of the script's record exited %d: %.600s", p.status, p.err);
    tu_free(&p);
    unlink(rec);

    /* The straight run, in-process, stopped at each call's instruction count in turn. */
    size_t sorted[STOPS];
    memcpy(sorted, order, sizeof sorted);
    for (int i = 0; i < STOPS; i++)
        for (int j = i + 1; j < STOPS; j++)
            if (sorted[j] < sorted[i]) {
                size_t t = sorted[i];
                sorted[i] = sorted[j];
                sorted[j] = t;
            }
    machine_config cfg;
    machine_config_defaults(&cfg);
    cfg.cmdline = CMDLINE;
    cfg.initrd = initramfs;
    cfg.snap_every = 0;
    machine *m = calloc(1, sizeof *m);
    vm_error err = {0};
    ck_assert_msg(machine_init(m, &cfg, bzimage, &err), "%s", err.msg);
    machine_set_serial_out(m, NULL, NULL);
    const char *from = r.out;
    for (int i = 0; i < STOPS; i++) {
        ck_assert_int_eq(machine_run_until(m, calls.icount[sorted[i]]), END_RUNNING);
        ck_assert_uint_eq(machine_insns(m), calls.icount[sorted[i]]);
        char want[2048];
        registers_text(m, want, sizeof want);
        ck_assert_msg(strstr(r.out, want), "call %zu (%s at icount %llu): the script never stood at\n%.600s",
                      sorted[i], calls.name[sorted[i]], (unsigned long long)calls.icount[sorted[i]], want);
    }
    /* And in the script's order: each stop's "At icount" (goto) or breakpoint line, then its registers. */
    for (int i = 0; i < STOPS; i++) {
        char at[64];
        snprintf(at, sizeof at, "icount   %llu\n", (unsigned long long)calls.icount[order[i]]);
        const char *hit = strstr(from, at);
        ck_assert_msg(hit, "stop %d (call %zu) not at icount %llu; the script's stops:\n%.600s", i, order[i],
                      (unsigned long long)calls.icount[order[i]], stops_of(r.out));
        from = hit + strlen(at);
    }
    machine_free(m);
    free(m);
    tu_free(&r);
    unlink(script);
    free(calls.icount);
    free(calls.name);
}
END_TEST

static Suite *linux_record_suite(void)
{
    Suite *s = suite_create("linux_record");
    TCase *runs = tcase_create("boots");
    tcase_set_timeout(runs, 1200);
    tcase_add_unchecked_fixture(runs, straight_setup, straight_teardown);
    tcase_add_test(runs, test_two_plain_boots_give_identical_logs_and_serial_output);
    tcase_add_test(runs, test_recorded_boot_replays_with_identical_log_serial_output_and_ending);
    tcase_add_test(runs, test_goto_call_and_reverse_continue_land_where_a_straight_run_stands_and_replay);
    suite_add_tcase(s, runs);
    TCase *refuse = tcase_create("refused");
    tcase_set_timeout(refuse, 600);
    tcase_add_unchecked_fixture(refuse, short_record_setup, short_record_teardown);
    tcase_add_test(refuse, test_linux_record_replays_its_first_million_instructions);
    tcase_add_test(refuse, test_linux_record_is_refused_with_another_initrd);
    tcase_add_test(refuse, test_linux_record_is_refused_without_its_initrd);
    tcase_add_test(refuse, test_linux_record_is_refused_with_another_append);
    tcase_add_test(refuse, test_linux_record_is_refused_with_another_kernel);
    suite_add_tcase(s, refuse);
    return s;
}

int main(void)
{
    if (!tu_linux_guest_files(bzimage, "bzImage", initramfs, "initramfs.cpio.gz", other_initrd, "init-reboot.cpio.gz", NULL))
        return TU_SKIP;
    return suite_run(linux_record_suite());
}

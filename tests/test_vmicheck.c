/* The VMI checker (--check-vmi, emu/vmicheck.h): the vmicheck test kernel's correct run gives
 * no finding and each of its deliberate violations exactly one, of the right kind; the other
 * test kernels give none but their deliberate ones; the event log is the same with the
 * checker and without; the command line writes findings to stderr and the --log file, and the
 * shell's `check` lists them. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emu/debug.h"
#include "emu/vmicheck.h"
#include "support/suite_main.h"
#include "support/testutil.h"

static tu_machine *boot(const char *kernel, const char *cmdline, bool check, bool rom)
{
    tu_machine *t = calloc(1, sizeof *t);
    ck_assert_ptr_nonnull(t);
    machine_config cfg;
    machine_config_defaults(&cfg);
    cfg.cmdline = cmdline;
    cfg.check_vmi = check;
    cfg.rom_enabled = rom;
    cfg.max_insns = 50000000;
    vm_error err = {0};
    ck_assert_msg(tu_boot_and_run(t, &cfg, tu_kernel(kernel), &err), "%s", err.msg);
    return t;
}

static void done(tu_machine *t)
{
    machine_free(&t->m);
    free(t);
}

static void assert_counts(const tu_machine *t, const char *what, int kind, uint64_t n)
{
    const vmicheck *c = t->m.check;
    ck_assert_ptr_nonnull(c);
    for (int k = 0; k < VMICHECK_KINDS; k++)
        ck_assert_msg(c->counts[k] == (k == kind ? n : 0), "%s: %llu %s findings, want %llu (first: %s)", what,
                      (unsigned long long)c->counts[k], vmicheck_kind_name((vmicheck_kind)k),
                      (unsigned long long)(k == kind ? n : 0), c->nkept ? c->kept[0].what : "none");
}

START_TEST(test_the_correct_kernel_gives_no_finding)
{
    tu_machine *t = boot("vmicheck", "clean", true, true);
    ck_assert_ptr_nonnull(strstr(t->serial, "vmicheck: PASS"));
    assert_counts(t, "clean", -1, 0);
    done(t);
}
END_TEST

static const struct {
    const char *name;
    vmicheck_kind kind;
    const char *use; /* in the finding's advice */
} cases[] = {
    {"pt-write", VMICHECK_PT_WRITE, "UpdatePxE"},
    {"dt-write", VMICHECK_DT_WRITE, "WriteGDTEntry"},
    {"raw-cr3", VMICHECK_RAW_INSN, "SetCR3"},
    {"raw-cr0read", VMICHECK_RAW_INSN, "GetCR0"},
    {"raw-lgdt", VMICHECK_RAW_INSN, "SetGDT"},
    {"raw-invlpg", VMICHECK_RAW_INSN, "InvalPage"},
    {"raw-wbinvd", VMICHECK_RAW_INSN, "WBINVD"},
    {"raw-wrmsr", VMICHECK_RAW_INSN, "WRMSR"},
    {"raw-sti", VMICHECK_RAW_INSN, "EnableInterrupts"},
    {"raw-popf", VMICHECK_RAW_INSN, "SetInterruptMask"},
    {"stale-tlb", VMICHECK_STALE_TLB, "InvalPage"},
    {"unregistered-pxe", VMICHECK_UNREGISTERED_PXE, "AllocatePage"},
    {"page-balance", VMICHECK_PAGE_BALANCE, "ReleasePage"},
};

START_TEST(test_each_violation_is_one_finding_of_its_kind)
{
    tu_machine *t = boot("vmicheck", cases[_i].name, true, true);
    ck_assert_msg(strstr(t->serial, "vmicheck: PASS"), "%s: %s", cases[_i].name, t->serial);
    assert_counts(t, cases[_i].name, cases[_i].kind, 1);
    const vmicheck_finding *f = &t->m.check->kept[0];
    ck_assert_msg(strstr(f->use, cases[_i].use), "%s: use '%s'", cases[_i].name, f->use);
    ck_assert_uint_ne(f->eip, 0);
    ck_assert(f->icount > 0 && f->icount < machine_insns(&t->m));
    done(t);
}
END_TEST

START_TEST(test_a_violation_is_not_reported_without_a_rom)
{
    tu_machine *t = boot("vmicheck", cases[_i].name, true, false); /* natively: no Init, nothing to check */
    ck_assert_ptr_nonnull(strstr(t->serial, "vmicheck: PASS"));
    assert_counts(t, cases[_i].name, -1, 0);
    done(t);
}
END_TEST

static const char *const clean_kernels[] = {"hello", "callloop", "exceptions", "descriptors", "timer", "linuxlike"};

START_TEST(test_the_other_test_kernels_give_no_finding)
{
    tu_machine *t = boot(clean_kernels[_i], NULL, true, true);
    assert_counts(t, clean_kernels[_i], -1, 0);
    done(t);
}
END_TEST

/* paging reads through a stale TLB entry on purpose (it shows that the TLB is modelled), and
 * usermode writes SYSENTER_CS with a native wrmsr, as Linux does. */
START_TEST(test_paging_and_usermode_give_their_deliberate_findings)
{
    tu_machine *t = boot("paging", NULL, true, true);
    assert_counts(t, "paging", VMICHECK_STALE_TLB, 1);
    ck_assert_ptr_nonnull(strstr(t->m.check->kept[0].what, "0x40000000"));
    done(t);
    t = boot("usermode", NULL, true, true);
    assert_counts(t, "usermode", VMICHECK_RAW_INSN, 1);
    ck_assert_ptr_nonnull(strstr(t->m.check->kept[0].what, "wrmsr of MSR 0x174"));
    done(t);
}
END_TEST

static const char *const same_log[][2] = {
    {"vmicheck", "clean"}, {"vmicheck", "pt-write"}, {"vmicheck", "stale-tlb"}, {"vmicheck", "raw-sti"},
    {"vmicheck", "dt-write"}, {"paging", NULL}, {"usermode", NULL}, {"exceptions", NULL},
};

START_TEST(test_the_event_log_is_the_same_with_the_checker_and_without)
{
    tu_machine *on = boot(same_log[_i][0], same_log[_i][1], true, true);
    tu_machine *off = boot(same_log[_i][0], same_log[_i][1], false, true);
    ck_assert_ptr_null(off->m.check);
    ck_assert_uint_eq(machine_insns(&on->m), machine_insns(&off->m));
    size_t n = evlog_count(&on->m.log);
    ck_assert_uint_eq(n, evlog_count(&off->m.log));
    for (size_t i = 0; i < n; i++) {
        vm_event a, b;
        ck_assert(evlog_get(&on->m.log, i, &a) && evlog_get(&off->m.log, i, &b));
        ck_assert_msg(!memcmp(&a, &b, sizeof a), "%s %s: event %zu differs", same_log[_i][0],
                      same_log[_i][1] ? same_log[_i][1] : "", i);
    }
    ck_assert_str_eq(on->serial, off->serial);
    done(on);
    done(off);
}
END_TEST

/* A case's only finding, from a straight run. */
static vmicheck_finding straight_finding(const char *name)
{
    tu_machine *t = boot("vmicheck", name, true, true);
    ck_assert_uint_eq(vmicheck_total(t->m.check), 1);
    vmicheck_finding f = t->m.check->kept[0];
    done(t);
    return f;
}

/* Run to `stop`, go back to `back` (snapshots every 1000 instructions), run to the end. */
static tu_machine *run_with_a_return(const char *name, uint64_t stop, uint64_t back, uint64_t *seen_at_stop)
{
    tu_machine *t = calloc(1, sizeof *t);
    ck_assert_ptr_nonnull(t);
    machine_config cfg;
    machine_config_defaults(&cfg);
    cfg.cmdline = name;
    cfg.check_vmi = true;
    cfg.snap_every = 1000;
    vm_error err = {0};
    ck_assert_msg(machine_init(&t->m, &cfg, tu_kernel("vmicheck"), &err), "%s", err.msg);
    ck_assert_int_eq(machine_run_until(&t->m, stop), END_RUNNING);
    *seen_at_stop = vmicheck_total(t->m.check);
    dbg d;
    dbg_init(&d, &t->m);
    ck_assert_int_eq(dbg_goto(&d, back, &err), DBG_STOPPED);
    ck_assert_uint_eq(machine_insns(&t->m), back);
    machine_run(&t->m);
    ck_assert_int_eq(t->m.end, END_EXIT_PORT);
    return t;
}

START_TEST(test_going_back_in_time_neither_repeats_nor_loses_a_finding)
{
    /* Reported before the return: not again when the same instructions run once more. */
    vmicheck_finding f = straight_finding("stale-tlb");
    uint64_t seen;
    tu_machine *t = run_with_a_return("stale-tlb", f.icount + 20, f.icount - 200, &seen);
    ck_assert_uint_eq(seen, 1);
    assert_counts(t, "stale-tlb, back and forth", VMICHECK_STALE_TLB, 1);
    done(t);
    /* A store still waiting for its UpdatePxE when the run went back: reported once, later. */
    f = straight_finding("pt-write");
    t = run_with_a_return("pt-write", f.icount + 2, f.icount - 200, &seen);
    ck_assert_uint_eq(seen, 0);
    assert_counts(t, "pt-write, back and forth", VMICHECK_PT_WRITE, 1);
    ck_assert_uint_eq(t->m.check->kept[0].icount, f.icount);
    ck_assert_uint_eq(t->m.check->kept[0].eip, f.eip);
    done(t);
}
END_TEST

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

START_TEST(test_the_command_line_reports_findings_on_stderr_and_in_the_log)
{
    char log[4096];
    snprintf(log, sizeof log, "%s", tu_tmp("vmicheck_log")); /* tu_tmp's buffer is reused by tu_run */
    const char *args[] = {"--check-vmi", "--serial", "none", "--log", log, "--append", "raw-cr3",
                          tu_kernel("vmicheck"), NULL};
    run_result r = tu_run(args);
    ck_assert_int_eq(r.status, 33);
    ck_assert_msg(strstr(r.err, "raw-insn: raw mov to cr3 at CPL 0; use SetCR3"), "%s", r.err);
    ck_assert_msg(strstr(r.err, "> raw-insn:"), "no symbol: %s", r.err); /* eip=0x... <symbol+0x..> */
    ck_assert_ptr_nonnull(strstr(r.err, "check: 1 finding: pt-write 0, dt-write 0, raw-insn 1,"));
    const char *text = slurp(log);
    ck_assert_ptr_nonnull(strstr(text, "{\"check\":\"raw-insn\",\"icount\":"));
    ck_assert_ptr_nonnull(strstr(text, "\"use\":\"SetCR3\""));
    ck_assert_ptr_nonnull(strstr(text, "{\"check\":\"summary\",\"findings\":1,"));
    ck_assert_ptr_nonnull(strstr(text, "\"seq\":0,")); /* the events are there too */
    tu_free(&r);
    unlink(log);
}
END_TEST

START_TEST(test_the_shell_check_command_lists_findings_and_a_summary)
{
    char script[4096];
    snprintf(script, sizeof script, "%s", tu_tmp("vmicheck_script"));
    tu_write_text(script, "continue\ncheck\n");
    const char *args[] = {"--check-vmi", "--serial", "none", "--append", "page-balance", "-x", script,
                          tu_kernel("vmicheck"), NULL};
    run_result r = tu_run(args);
    ck_assert_msg(strstr(r.out, "check #0 icount="), "%s", r.out);
    ck_assert_ptr_nonnull(strstr(r.out, "page-balance: AllocatePage(pfn"));
    ck_assert_ptr_nonnull(strstr(r.out, "check: 1 finding:"));
    tu_free(&r);
    const char *off[] = {"--serial", "none", "-x", script, tu_kernel("vmicheck"), NULL};
    r = tu_run(off);
    ck_assert_msg(strstr(r.err, "the VMI checker is off"), "%s", r.err);
    ck_assert_int_ne(r.status, 0);
    tu_free(&r);
    unlink(script);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("vmicheck");
    TCase *tc = tcase_create("vmicheck");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_the_correct_kernel_gives_no_finding);
    tcase_add_loop_test(tc, test_each_violation_is_one_finding_of_its_kind, 0, sizeof cases / sizeof cases[0]);
    tcase_add_loop_test(tc, test_a_violation_is_not_reported_without_a_rom, 0, sizeof cases / sizeof cases[0]);
    tcase_add_loop_test(tc, test_the_other_test_kernels_give_no_finding, 0,
                        sizeof clean_kernels / sizeof clean_kernels[0]);
    tcase_add_test(tc, test_paging_and_usermode_give_their_deliberate_findings);
    tcase_add_loop_test(tc, test_the_event_log_is_the_same_with_the_checker_and_without, 0,
                        sizeof same_log / sizeof same_log[0]);
    tcase_add_test(tc, test_going_back_in_time_neither_repeats_nor_loses_a_finding);
    tcase_add_test(tc, test_the_command_line_reports_findings_on_stderr_and_in_the_log);
    tcase_add_test(tc, test_the_shell_check_command_lists_findings_and_a_summary);
    suite_add_tcase(s, tc);
    return s;
}

SUITE_MAIN(make_suite)

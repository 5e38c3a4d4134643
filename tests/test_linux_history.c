/* History queries and a what-if replay on the shared VMI Linux guest (skipped, exit 77, when
 * it is absent): a recorded boot answers `history pte` and `history idt` with the kernel's own
 * VMI calls, named by symbol; a GetCycleFrequency that lies is the processor speed the kernel
 * reports. The first 64 million instructions of the boot (past the clock's set-up and its
 * "Detected ... MHz"): every run here replays them, and the sanitizer build is slow. */
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


static char bzimage[TU_GUEST_PATH], initramfs[TU_GUEST_PATH], rec[TU_GUEST_PATH];
static char *straight_out; /* the recorded boot's console */

static void record_setup(void)
{
    snprintf(rec, sizeof rec, "%s", tu_tmp("linux_hist_rec"));
    const char *args[] = {"--record", rec, "--max-insns", "64000000", "--initrd", initramfs, "--append", "console=ttyS0",
                          bzimage, NULL};
    run_result r = tu_run(args);
    ck_assert_msg(r.status == EXIT_LIMIT, "recording exited %d: %s", r.status, r.err);
    straight_out = strdup(r.out);
    tu_free(&r);
}

static void record_teardown(void)
{
    unlink(rec);
    free(straight_out);
}

static run_result query(const char *what, const char *arg)
{
    const char *with[] = {"query", rec, "history", what, arg, "--initrd", initramfs, bzimage, NULL};
    const char *without[] = {"query", rec, "history", what, "--initrd", initramfs, bzimage, NULL};
    run_result r = tu_run(arg ? with : without);
    ck_assert_msg(r.status == 0, "query %s exited %d: %s", what, r.status, r.err);
    ck_assert_msg(strstr(r.err, "replay matched the record"), "%s", r.err);
    return r;
}

START_TEST(test_pte_and_idt_history_name_the_vmi_calls)
{
    run_result r = query("pte", "0xc0100000");
    ck_assert_msg(strstr(r.out, "SetPxE") && strstr(r.out, "<vmi_set_pte"), "%s", r.out);
    tu_free(&r);
    r = query("idt", "14"); /* the page-fault gate */
    ck_assert_msg(strstr(r.out, "WriteIDTEntry") && strstr(r.out, "<vmi_write_idt_entry"), "%s", r.out);
    tu_free(&r);
}
END_TEST

START_TEST(test_a_lying_cycle_frequency_is_the_processor_speed_linux_reports)
{
    char detected[64];
    snprintf(detected, sizeof detected, "Detected %u.000 MHz processor.", MACHINE_DEFAULT_MHZ);
    ck_assert_msg(strstr(straight_out, detected), "no '%s' in the recorded console", detected);
    run_result r = query("call", "GetCycleFrequency");
    const char *line = strstr(r.out, "<vmi_tsc_khz"); /* the call behind "Detected ... MHz" */
    ck_assert_msg(line, "%s", r.out);
    while (line > r.out && line[-1] != '\n')
        line--;
    ck_assert_int_eq(line[0], '#');
    uint64_t n = strtoull(line + 1, NULL, 10);
    tu_free(&r);
    char spec[80];
    snprintf(spec, sizeof spec, "call %" PRIu64 " result=2000000000", n);
    const char *args[] = {"--replay", rec, "--override", spec, "--initrd", initramfs, bzimage, NULL};
    r = tu_run(args);
    ck_assert_msg(r.status == EXIT_LIMIT, "%d %s", r.status, r.err); /* the recorded limit holds */
    ck_assert_msg(strstr(r.out, "Detected 2000.000 MHz processor."), "no 2000 MHz in the console");
    ck_assert_msg(strstr(r.out, "4000.00 BogoMIPS (lpj=8000000)"), "the delay loop does not follow the lie");
    ck_assert_msg(strstr(r.err, "from there on the run was live, not replayed"), "%s", r.err);
    tu_free(&r);
}
END_TEST

static Suite *linux_history_suite(void)
{
    Suite *s = suite_create("linux_history");
    TCase *t = tcase_create("boot");
    tcase_set_timeout(t, 900);
    tcase_add_unchecked_fixture(t, record_setup, record_teardown);
    tcase_add_test(t, test_pte_and_idt_history_name_the_vmi_calls);
    tcase_add_test(t, test_a_lying_cycle_frequency_is_the_processor_speed_linux_reports);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    if (!tu_linux_guest_files(bzimage, "bzImage", initramfs, "initramfs.cpio.gz", NULL))
        return TU_SKIP;
    return suite_run(linux_history_suite());
}

/* Every way out of a run finishes the record and exits with its documented status: the
 * guest's own end (also under -x and -d), quit, the end of a script, a failing script line,
 * SIGINT, an emulator error; a replay of a run stopped before the guest ended checks up to
 * the stop and succeeds; a replay that diverges exits 14 in every frontend mode. (GDB's
 * detach and kill are in test_gdb_real.sh, with a real gdb.) */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "emu/recplay.h"
#include "frontend/exitcode.h"
#include "support/suite_main.h"
#include "support/testutil.h"

static run_result r;
static char rec[4096], script[4096];

static void setup(void)
{
    snprintf(rec, sizeof rec, "%s", tu_tmp("rec"));
    snprintf(script, sizeof script, "%s", tu_tmp("script"));
}

static void teardown(void)
{
    tu_free(&r);
    unlink(rec);
    unlink(script);
}

/* Record `kernel`, under the script `text` unless it is NULL; r holds the result. */
static void record_script(const char *kernel, const char *text)
{
    const char *plain[] = {"--serial", "none", "--snap-every", "1000", "--record", rec, kernel, NULL};
    const char *scripted[] = {"--serial", "none", "--snap-every", "1000", "--record", rec, "-x", script, kernel, NULL};
    if (text)
        tu_write_text(script, text);
    tu_free(&r);
    r = tu_run(text ? scripted : plain);
}

/* Replay rec against kernel with no debugger; r holds the result. */
static void replay(const char *kernel)
{
    const char *args[] = {"--serial", "none", "--replay", rec, kernel, NULL};
    tu_free(&r);
    r = tu_run(args);
}

static void assert_replays_up_to_a_stop(const char *kernel)
{
    replay(kernel);
    ck_assert_msg(r.status == EXIT_STOPPED, "replay exited %d: %s", r.status, r.err);
    ck_assert_msg(strstr(r.err, "replay matched the record") && strstr(r.err, "where the recording was stopped"),
                  "%s", r.err);
}

START_TEST(test_a_guest_that_ends_under_a_script_exits_with_its_own_status_and_records_its_end)
{
    record_script(tu_kernel("hello"), "continue\n");
    ck_assert_msg(r.status == 33, "exited %d: %s", r.status, r.err);
    replay(tu_kernel("hello"));
    ck_assert_msg(r.status == 33, "replay exited %d: %s", r.status, r.err);
    ck_assert_msg(strstr(r.err, "replay matched the record") && strstr(r.err, "ended 'exit-port'"), "%s", r.err);
}
END_TEST

START_TEST(test_a_guest_ending_on_the_limit_under_a_script_keeps_status_8)
{
    tu_write_text(script, "continue\nquit\n");
    const char *args[] = {"--serial", "none", "--snap-every", "1000", "--max-insns", "5000", "--record", rec,
                          "-x", script, tu_kernel("hello"), NULL};
    tu_free(&r);
    r = tu_run(args);
    ck_assert_msg(r.status == EXIT_LIMIT, "exited %d: %s", r.status, r.err);
    replay(tu_kernel("hello"));
    ck_assert_msg(r.status == EXIT_LIMIT, "replay exited %d: %s", r.status, r.err);
    ck_assert_ptr_nonnull(strstr(r.err, "replay matched the record"));
}
END_TEST

START_TEST(test_the_end_of_a_script_before_the_guest_ends_is_a_recorded_stop)
{
    record_script(tu_kernel("hello"), "break kmain\ncontinue\n");
    ck_assert_msg(r.status == EXIT_STOPPED, "exited %d: %s", r.status, r.err);
    ck_assert_msg(strstr(r.err, "stopped by the end of the script (icount 47391)"), "%s", r.err);
    assert_replays_up_to_a_stop(tu_kernel("hello"));
    ck_assert_msg(strstr(r.err, "up to icount 47391"), "%s", r.err);
}
END_TEST

/* The replay plans its run while a call is the next entry: with no snapshot or timer event
 * near, only the call before the stop can bound it there. */
START_TEST(test_a_stop_between_two_calls_far_from_any_snapshot_replays_up_to_it)
{
    tu_write_text(script, "goto icount 500003\n");
    const char *args[] = {"--serial", "none", "--append", "iters=100000", "--record", rec, "-x", script,
                          tu_kernel("callloop"), NULL};
    tu_free(&r);
    r = tu_run(args);
    ck_assert_msg(r.status == EXIT_STOPPED, "exited %d: %s", r.status, r.err);
    assert_replays_up_to_a_stop(tu_kernel("callloop"));
    ck_assert_msg(strstr(r.err, "up to icount 500003"), "%s", r.err);
}
END_TEST

START_TEST(test_quit_in_a_script_is_a_recorded_stop_and_quit_n_chooses_the_status)
{
    record_script(tu_kernel("hello"), "break kmain\ncontinue\nquit\nstepi\n");
    ck_assert_msg(r.status == EXIT_STOPPED, "exited %d: %s", r.status, r.err);
    ck_assert_msg(strstr(r.err, "stopped by the user (quit)"), "%s", r.err);
    assert_replays_up_to_a_stop(tu_kernel("hello"));
    record_script(tu_kernel("hello"), "break kmain\ncontinue\nquit 0\n");
    ck_assert_msg(r.status == 0, "exited %d: %s", r.status, r.err);
    assert_replays_up_to_a_stop(tu_kernel("hello"));
}
END_TEST

START_TEST(test_a_failing_script_line_exits_2_and_still_ends_the_record)
{
    record_script(tu_kernel("hello"), "break kmain\ncontinue\nbogus\n");
    ck_assert_msg(r.status == EXIT_USAGE, "exited %d: %s", r.status, r.err);
    assert_replays_up_to_a_stop(tu_kernel("hello"));
}
END_TEST

/* Replay the record of diverge against diverge_variant under the script `text`: it must diverge. */
static void assert_variant_replay_diverges_under(const char *text)
{
    tu_write_text(script, text);
    const char *args[] = {"--serial", "none", "--replay", rec, "--replay-any-kernel", "-x", script,
                          tu_fixture("diverge_variant"), NULL};
    tu_free(&r);
    r = tu_run(args);
    ck_assert_msg(r.status == EXIT_DIVERGED, "exited %d: %s", r.status, r.err);
    ck_assert_ptr_nonnull(strstr(r.err, "replay diverged at icount"));
}

START_TEST(test_a_replay_that_diverges_under_a_script_exits_14)
{
    record_script(tu_fixture("diverge"), NULL);
    ck_assert_msg(r.status == 33, "exited %d: %s", r.status, r.err);
    assert_variant_replay_diverges_under("continue\n");
}
END_TEST

START_TEST(test_a_replay_that_diverged_exits_14_even_after_going_back_before_it)
{
    record_script(tu_fixture("diverge"), NULL);
    assert_variant_replay_diverges_under("continue\nreverse-stepi 500\n");
}
END_TEST

/* The interactive shell with its commands on stdin (a pipe, not a terminal). */
static void debugger(const char *kernel, const char *commands, const char *mode, const char *file)
{
    const char *args[] = {"--serial", "none", "--snap-every", "1000", mode, file, "-d", kernel, NULL};
    tu_free(&r);
    r = tu_run_input(args, commands);
}

START_TEST(test_quit_in_the_debugger_records_a_stop_that_replays)
{
    debugger(tu_kernel("hello"), "break kmain\ncontinue\nquit\n", "--record", rec);
    ck_assert_msg(r.status == EXIT_STOPPED, "exited %d: %s", r.status, r.err);
    assert_replays_up_to_a_stop(tu_kernel("hello"));
}
END_TEST

START_TEST(test_end_of_input_in_the_debugger_after_the_guest_ended_keeps_its_status)
{
    debugger(tu_kernel("hello"), "continue\n", "--record", rec);
    ck_assert_msg(r.status == 33, "exited %d: %s", r.status, r.err);
    replay(tu_kernel("hello"));
    ck_assert_msg(r.status == 33, "replay exited %d: %s", r.status, r.err);
    ck_assert_ptr_nonnull(strstr(r.err, "replay matched the record"));
}
END_TEST

START_TEST(test_a_replay_that_diverges_in_the_debugger_exits_14)
{
    record_script(tu_fixture("diverge"), NULL);
    const char *args[] = {"--serial", "none", "--replay", rec, "--replay-any-kernel", "-d", tu_fixture("diverge_variant"), NULL};
    tu_free(&r);
    r = tu_run_input(args, "continue\nquit\n");
    ck_assert_msg(r.status == EXIT_DIVERGED, "exited %d: %s", r.status, r.err);
    ck_assert_ptr_nonnull(strstr(r.err, "replay diverged at icount"));
}
END_TEST

START_TEST(test_a_replay_stopped_early_by_the_user_is_not_a_divergence)
{
    record_script(tu_kernel("hello"), NULL);
    const char *args[] = {"--serial", "none", "--replay", rec, "-d", tu_kernel("hello"), NULL};
    tu_free(&r);
    r = tu_run_input(args, "break kmain\ncontinue\nquit\n");
    ck_assert_msg(r.status == EXIT_STOPPED, "exited %d: %s", r.status, r.err);
    ck_assert_msg(strstr(r.err, "replay stopped by the user at icount 47391") && strstr(r.err, "no divergence"), "%s",
                  r.err);
}
END_TEST

/* Start vmiemu with args, its output thrown away; send it sig once the record has grown past
 * `bytes`; return its raw wait status. */
static int signal_when_recorded(const char *const *args, off_t bytes, int sig)
{
    const char *argv[32];
    int n = 0;
    argv[n++] = VMIEMU_BINARY;
    for (int i = 0; args[i] && n < 31; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        execv(VMIEMU_BINARY, (char *const *)argv);
        _exit(127);
    }
    struct stat sb;
    for (int i = 0; i < 600 && (stat(rec, &sb) != 0 || sb.st_size < bytes); i++)
        usleep(50000);
    kill(pid, sig);
    int st = 0;
    waitpid(pid, &st, 0);
    return st;
}

/* The same with SIGINT; its exit status (128 + the signal if it killed vmiemu). */
static int interrupt_when_recorded(const char *const *args, off_t bytes)
{
    int st = signal_when_recorded(args, bytes, SIGINT);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* SIGTERM or SIGHUP: vmiemu exits (not killed) with 128 + the signal, having flushed the serial
 * file and the log and ended the record. */
static void assert_signal_stops_cleanly(int sig, const char *name)
{
    char serial[4096], log[4096], sarg[4200];
    snprintf(serial, sizeof serial, "%s", tu_tmp("serial"));
    snprintf(log, sizeof log, "%s", tu_tmp("log"));
    snprintf(sarg, sizeof sarg, "file:%s", serial);
    const char *args[] = {"--serial", sarg, "--log", log, "--snap-every", "100000", "--record", rec, "--append",
                          "iters=1000000000", tu_kernel("callloop"), NULL};
    int st = signal_when_recorded(args, 100000, sig);
    ck_assert_msg(WIFEXITED(st), "%s killed vmiemu (signal %d)", name, WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    ck_assert_int_eq(WEXITSTATUS(st), 128 + sig);
    FILE *f = fopen(serial, "r");
    char text[256] = "";
    ck_assert_ptr_nonnull(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    ck_assert_msg(strstr(text, "callloop: GetCycleCounter via"), "serial file: '%s'", text);
    f = fopen(log, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, -1, SEEK_END), 0);
    ck_assert_int_eq(fgetc(f), '\n'); /* the log is not cut mid-line */
    fclose(f);
    unlink(serial);
    unlink(log);
    assert_replays_up_to_a_stop(tu_kernel("callloop"));
    char said[64];
    snprintf(said, sizeof said, "stopped by %s", name);
    ck_assert_msg(strstr(r.err, said), "%s", r.err);
}

START_TEST(test_sigterm_stops_a_run_with_status_143_flushing_serial_log_and_record)
{
    assert_signal_stops_cleanly(SIGTERM, "SIGTERM");
}
END_TEST

START_TEST(test_sighup_stops_a_run_with_status_129_flushing_serial_log_and_record)
{
    assert_signal_stops_cleanly(SIGHUP, "SIGHUP");
}
END_TEST

START_TEST(test_sigint_stops_a_recorded_run_with_status_130_and_an_end_entry)
{
    const char *args[] = {"--serial", "none", "--snap-every", "100000", "--record", rec, "--append",
                          "iters=1000000000", tu_kernel("callloop"), NULL};
    int st = interrupt_when_recorded(args, 100000);
    ck_assert_int_eq(st, EXIT_SIGINT);
    assert_replays_up_to_a_stop(tu_kernel("callloop"));
    ck_assert_msg(strstr(r.err, "stopped by SIGINT"), "%s", r.err);
}
END_TEST

START_TEST(test_sigint_stops_a_script_with_status_130_and_an_end_entry)
{
    tu_write_text(script, "continue\ninfo registers\n");
    const char *args[] = {"--serial", "none", "--snap-every", "100000", "--record", rec, "--append",
                          "iters=1000000000", "-x", script, tu_kernel("callloop"), NULL};
    int st = interrupt_when_recorded(args, 100000);
    ck_assert_int_eq(st, EXIT_SIGINT);
    assert_replays_up_to_a_stop(tu_kernel("callloop"));
}
END_TEST

/* An emulator error ends the run as END_ERROR: the record says so, and a replay checks up to
 * there and stops (the error itself is the host's, not something a replay must reproduce). */
START_TEST(test_an_emulator_error_is_recorded_and_a_replay_stops_there)
{
    tu_machine *t = tu_start_recording(tu_kernel("hello"), rec);
    vm_error err = {0};
    machine_run_until(&t->m, 60000);
    machine_end_run(&t->m, END_ERROR, "emulator error: a test says so");
    char report[2048];
    ck_assert(recplay_finish(&t->m, report, sizeof report, &err));
    machine_free(&t->m);
    free(t);
    replay(tu_kernel("hello"));
    ck_assert_msg(r.status == EXIT_STOPPED, "replay exited %d: %s", r.status, r.err);
    ck_assert_msg(strstr(r.err, "the recording failed here (emulator error: a test says so)"), "%s", r.err);
    ck_assert_msg(strstr(r.err, "replay matched the record") && strstr(r.err, "up to icount 60000"), "%s", r.err);
}
END_TEST

static Suite *endings_suite(void)
{
    Suite *s = suite_create("record_endings");
    TCase *tc = tcase_create("ways_out");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_a_guest_that_ends_under_a_script_exits_with_its_own_status_and_records_its_end);
    tcase_add_test(tc, test_a_guest_ending_on_the_limit_under_a_script_keeps_status_8);
    tcase_add_test(tc, test_the_end_of_a_script_before_the_guest_ends_is_a_recorded_stop);
    tcase_add_test(tc, test_a_stop_between_two_calls_far_from_any_snapshot_replays_up_to_it);
    tcase_add_test(tc, test_quit_in_a_script_is_a_recorded_stop_and_quit_n_chooses_the_status);
    tcase_add_test(tc, test_a_failing_script_line_exits_2_and_still_ends_the_record);
    tcase_add_test(tc, test_a_replay_that_diverges_under_a_script_exits_14);
    tcase_add_test(tc, test_a_replay_that_diverged_exits_14_even_after_going_back_before_it);
    tcase_add_test(tc, test_quit_in_the_debugger_records_a_stop_that_replays);
    tcase_add_test(tc, test_end_of_input_in_the_debugger_after_the_guest_ended_keeps_its_status);
    tcase_add_test(tc, test_a_replay_that_diverges_in_the_debugger_exits_14);
    tcase_add_test(tc, test_a_replay_stopped_early_by_the_user_is_not_a_divergence);
    tcase_add_test(tc, test_sigint_stops_a_recorded_run_with_status_130_and_an_end_entry);
    tcase_add_test(tc, test_sigint_stops_a_script_with_status_130_and_an_end_entry);
    tcase_add_test(tc, test_sigterm_stops_a_run_with_status_143_flushing_serial_log_and_record);
    tcase_add_test(tc, test_sighup_stops_a_run_with_status_129_flushing_serial_log_and_record);
    tcase_add_test(tc, test_an_emulator_error_is_recorded_and_a_replay_stops_there);
    suite_add_tcase(s, tc);
    return s;
}

SUITE_MAIN(endings_suite)

/* Kill-safety: every file a recording run writes is whole or a readable prefix after SIGKILL at
 * any moment. Fifty recording runs (record, JSON event log, serial file) are killed at points
 * drawn from a seeded generator (VMIEMU_KILL_SEED=N picks another seed; the delays are host
 * time, so the exact instruction a kill lands on still varies from run to run). Each record is
 * then replayed up to where it ends: the replay must match it all the way (no divergence), stop
 * there and say the record is cut (status 18, never the guest's status); each log must hold
 * whole JSON lines only. */
#include <check.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "frontend/exitcode.h"
#include "support/suite_main.h"
#include "support/testutil.h"

#define KILLS 50

static char rec[4096], log_path[4096], serial[4096], serial_arg[4200];

/* xorshift64*: the kill points are the same for the same seed on every machine. */
static uint64_t rng_state;
static uint64_t rng_next(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

/* Start a recording of callloop (long enough never to finish first), wait delay_us (from the
 * start, or from when the record's header is on disk with after_header), SIGKILL it. */
static void record_and_kill(long delay_us, bool after_header)
{
    const char *argv[] = {VMIEMU_BINARY, "--serial", serial_arg, "--log", log_path, "--snap-every", "50000",
                          "--record", rec, "--append", "iters=1000000000", tu_kernel("callloop"), NULL};
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        execv(VMIEMU_BINARY, (char *const *)argv);
        _exit(127);
    }
    struct stat sb;
    for (int i = 0; after_header && i < 2000 && (stat(rec, &sb) != 0 || sb.st_size < 100); i++)
        usleep(5000); /* a loaded machine, or a sanitizer build, starts slowly */
    struct timespec ts = {delay_us / 1000000, (delay_us % 1000000) * 1000};
    nanosleep(&ts, NULL);
    kill(pid, SIGKILL);
    int st = 0;
    waitpid(pid, &st, 0);
    ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "the recording ended by itself (status %d)", st);
}

/* The log is empty or whole lines, the last of which is a JSON object. */
static void assert_log_is_whole_lines(int i)
{
    FILE *f = fopen(log_path, "rb");
    if (!f)
        return; /* killed before it was created */
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long size = ftell(f);
    if (size == 0) {
        fclose(f);
        return;
    }
    long from = size > 4096 ? size - 4096 : 0;
    char tail[4097];
    ck_assert_int_eq(fseek(f, from, SEEK_SET), 0);
    size_t n = fread(tail, 1, (size_t)(size - from), f);
    fclose(f);
    tail[n] = 0;
    ck_assert_msg(n > 0 && tail[n - 1] == '\n', "kill %d: the log ends inside a line", i);
    tail[n - 1] = 0;
    char *last = strrchr(tail, '\n');
    last = last ? last + 1 : tail;
    json_error_t jerr;
    json_t *obj = json_loads(last, 0, &jerr);
    ck_assert_msg(obj && json_is_object(obj), "kill %d: the log's last line is not JSON (%s): %s", i, jerr.text, last);
    json_decref(obj);
}

static off_t file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? sb.st_size : -1;
}

START_TEST(test_recordings_killed_at_fifty_points_replay_up_to_where_they_end)
{
    snprintf(rec, sizeof rec, "%s", tu_tmp("killrec"));
    snprintf(log_path, sizeof log_path, "%s", tu_tmp("killlog"));
    snprintf(serial, sizeof serial, "%s", tu_tmp("killserial"));
    snprintf(serial_arg, sizeof serial_arg, "file:%s", serial);
    const char *seed = getenv("VMIEMU_KILL_SEED");
    rng_state = seed ? strtoull(seed, NULL, 0) | 1 : 0x5EEDF00Dull;
    int replayed = 0, no_header = 0;
    for (int i = 0; i < KILLS; i++) {
        unlink(rec);
        unlink(log_path);
        unlink(serial);
        /* Most kills land while the record grows; every tenth anywhere from the start, before
         * the header too. */
        bool early = i % 10 == 0;
        long delay = (long)(rng_next() % (early ? 150000 : 300000));
        record_and_kill(delay, !early);
        assert_log_is_whole_lines(i);
        const char *args[] = {"--serial", "none", "--replay", rec, tu_kernel("callloop"), NULL};
        run_result r = tu_run(args);
        ck_assert_msg(!strstr(r.err, "diverged"), "kill %d after %ld us: %s", i, delay, r.err);
        if (r.status == EXIT_USAGE && file_size(rec) < 200) {
            /* Killed before the header was written: there is nothing to replay, and it says so. */
            ck_assert_msg(strstr(r.err, rec), "kill %d: %s", i, r.err);
            no_header++;
        } else {
            ck_assert_msg(r.status == EXIT_RECORD_CUT, "kill %d after %ld us (record %lld bytes): status %d: %s", i,
                          delay, (long long)file_size(rec), r.status, r.err);
            ck_assert_msg(strstr(r.err, "replay matched the record up to where it ends"), "kill %d: %s", i, r.err);
            ck_assert_msg(strstr(r.err, "the record is not complete"), "kill %d: %s", i, r.err);
            replayed++;
        }
        tu_free(&r);
    }
    fprintf(stderr, "%d killed recordings replayed to their cut, %d killed before the header\n", replayed, no_header);
    ck_assert_int_ge(replayed, KILLS * 4 / 5);
    unlink(rec);
    unlink(log_path);
    unlink(serial);
}
END_TEST

static Suite *killsafe_suite(void)
{
    Suite *s = suite_create("killsafe");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_recordings_killed_at_fifty_points_replay_up_to_where_they_end);
    suite_add_tcase(s, tc);
    return s;
}

SUITE_MAIN(killsafe_suite)

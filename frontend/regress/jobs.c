#define _POSIX_C_SOURCE 200809L
#include "frontend/regress/jobs.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define OUTPUT_CAP (64 * 1024) /* bytes of a replay's stderr kept for the report */
#define POLL_NS 10000000L      /* how often running replays are checked */

/* vmiemu's exit statuses (README, "Exit status") that say a replay could not be judged. */
enum { STATUS_BAD_INPUT = 2, STATUS_EMULATOR_ERROR = 12, STATUS_DIVERGED = 14 };

typedef struct slot {
    pid_t pid;
    size_t job;
    int errfd;
    double started;
    bool term_sent;
} slot;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

void job_free(replay_job *j)
{
    free(j->record);
    free(j->name);
    free(j->kernel);
    free(j->initrd);
    free(j->setup_error);
    free(j->output);
    free(j->message);
}

/* A temporary file for a child's stderr, already unlinked. */
static int temp_output(void)
{
    const char *dir = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/vmiemu-regress-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd >= 0)
        unlink(path);
    return fd;
}

static bool start(const job_options *o, replay_job *j, slot *s, char *err, size_t errlen)
{
    const char *argv[10];
    int k = 0;
    argv[k++] = o->vmiemu;
    argv[k++] = "--serial";
    argv[k++] = "none";
    argv[k++] = "--replay";
    argv[k++] = j->record;
    if (j->initrd) {
        argv[k++] = "--initrd";
        argv[k++] = j->initrd;
    }
    argv[k++] = "--";
    argv[k++] = j->kernel;
    argv[k] = NULL;
    s->errfd = temp_output();
    if (s->errfd < 0) {
        snprintf(err, errlen, "cannot create a temporary file: %s", strerror(errno));
        return false;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, s->errfd, 2);
    int r = posix_spawn(&s->pid, o->vmiemu, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (r != 0) {
        close(s->errfd);
        snprintf(err, errlen, "cannot run %s: %s", o->vmiemu, strerror(r));
        return false;
    }
    s->started = now_s();
    s->term_sent = false;
    return true;
}

static char *read_output(int fd)
{
    char *buf = malloc(OUTPUT_CAP + 1);
    if (!buf)
        return NULL;
    ssize_t n = pread(fd, buf, OUTPUT_CAP, 0);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

/* The first line of text that contains `needle`, or the first line at all. */
static char *line_with(const char *text, const char *needle)
{
    const char *at = needle ? strstr(text, needle) : NULL;
    if (at)
        while (at > text && at[-1] != '\n')
            at--;
    else
        at = text;
    return strndup(at, strcspn(at, "\n"));
}

static void judge(replay_job *j, bool timed_out)
{
    const char *out = j->output ? j->output : "";
    if (timed_out) {
        j->verdict = JOB_ERROR;
        j->message = strdup("timed out (stopped with SIGTERM)");
    } else if (j->status > 128) {
        j->verdict = JOB_ERROR;
        char m[64];
        snprintf(m, sizeof m, "vmiemu was killed by signal %d", j->status - 128);
        j->message = strdup(m);
    } else if (j->status == STATUS_DIVERGED) {
        j->verdict = JOB_FAILED;
        j->message = line_with(out, "diverged");
    } else if (j->status == STATUS_BAD_INPUT || j->status == STATUS_EMULATOR_ERROR) {
        j->verdict = JOB_ERROR;
        j->message = line_with(out, "vmiemu:");
    } else if (strstr(out, "replay matched the record")) {
        j->verdict = JOB_PASSED;
        j->message = line_with(out, "replay matched the record");
    } else {
        j->verdict = JOB_FAILED;
        j->message = strdup("the replay ended without saying it matched its record");
    }
}

static void finish(slot *s, replay_job *j, int wstatus)
{
    j->seconds = now_s() - s->started;
    j->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
    j->output = read_output(s->errfd);
    close(s->errfd);
    judge(j, s->term_sent);
    s->pid = 0;
}

static void show_progress(const replay_job *jobs, size_t n, size_t done, double t0)
{
    size_t failed = 0;
    for (size_t i = 0; i < n; i++)
        failed += jobs[i].verdict != JOB_PASSED && (jobs[i].message || jobs[i].setup_error);
    double el = now_s() - t0, rate = el > 0 ? (double)done / el : 0;
    double left = rate > 0 ? (double)(n - done) / rate : 0;
    fprintf(stderr, "\r\033[Kvmiemu-regress: %zu/%zu replayed, %zu not passed, %.1f/min, %.0f s left", done, n,
            failed, rate * 60, left);
    fflush(stderr);
}

bool jobs_run(replay_job *jobs, size_t n, const job_options *o, char *err, size_t errlen)
{
    int par = o->parallel > 0 ? o->parallel : 1;
    slot *slots = calloc((size_t)par, sizeof *slots);
    if (!slots) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    size_t next = 0, done = 0, running = 0;
    bool ok = true;
    double t0 = now_s(), shown = 0;
    for (size_t i = 0; i < n; i++)
        if (jobs[i].setup_error) {
            jobs[i].verdict = JOB_ERROR;
            done++;
        }
    while (done < n) {
        for (int k = 0; ok && k < par && next < n; k++) {
            if (slots[k].pid)
                continue;
            while (next < n && jobs[next].setup_error)
                next++;
            if (next == n)
                break;
            if (!start(o, &jobs[next], &slots[k], err, errlen))
                ok = false;
            else
                slots[k].job = next++, running++;
        }
        if (running == 0)
            break;
        int ws;
        pid_t pid = waitpid(-1, &ws, WNOHANG);
        if (pid > 0) {
            for (int k = 0; k < par; k++)
                if (slots[k].pid == pid) {
                    finish(&slots[k], &jobs[slots[k].job], ws);
                    running--, done++;
                }
            continue;
        }
        if (pid < 0 && errno != EINTR)
            break;
        for (int k = 0; k < par; k++)
            if (slots[k].pid && o->timeout > 0 && !slots[k].term_sent && now_s() - slots[k].started > o->timeout) {
                kill(slots[k].pid, SIGTERM);
                slots[k].term_sent = true;
            }
        if (o->progress && now_s() - shown > 0.25) {
            show_progress(jobs, n, done, t0);
            shown = now_s();
        }
        nanosleep(&(struct timespec){0, POLL_NS}, NULL);
    }
    for (size_t i = 0; i < n; i++)
        if (!jobs[i].message && !jobs[i].setup_error) { /* a child could not be started */
            jobs[i].verdict = JOB_ERROR;
            jobs[i].message = strdup("not replayed: vmiemu could not be started");
        }
    if (o->progress) {
        show_progress(jobs, n, done, t0);
        fputs("\r\033[K", stderr);
    }
    free(slots);
    return ok;
}

/* vmiemu-regress: replays every record under a folder, in parallel, and reports like a test
 * suite (a summary, JUnit XML); sharded for CI farms. docs/SCALE.md. */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "emu/record.h"
#include "frontend/regress/find.h"
#include "frontend/regress/jobs.h"
#include "frontend/regress/junit.h"

enum { STATUS_ALL_PASSED = 0, STATUS_NOT_ALL_PASSED = 1, STATUS_USAGE = 2 };

typedef struct regress_options {
    const char *dir, *junit, *vmiemu;
    path_list kernels;
    unsigned long jobs, shard, shards;
    double timeout;
    bool merge;
} regress_options;

static const char usage[] =
    "usage: vmiemu-regress [options] DIR\n"
    "       vmiemu-regress --merge OUT.xml IN.xml...\n"
    "Replays every *.rec under DIR with vmiemu and reports which matched their record.\n"
    "A record's kernel and initrd are found by the hash and size it holds, among the files\n"
    "beside it and under each --kernels folder.\n"
    "  -j, --jobs N        replays at once (default: the number of CPUs)\n"
    "  -k, --kernels DIR   also look for kernels and initrds under DIR (may repeat)\n"
    "      --junit FILE    write a JUnit XML report (one testcase per record)\n"
    "      --shard K/N     replay only the records K, K+N, K+2N, ... of the sorted list (0 <= K < N)\n"
    "      --timeout SECS  stop a replay that runs longer (it counts as an error)\n"
    "      --vmiemu PATH   the vmiemu to run (default: the one beside vmiemu-regress)\n"
    "      --merge         merge the JUnit reports of shards: OUT.xml IN.xml...\n"
    "  -h, --help          this text\n"
    "Exit status: 0 every record replayed and matched, 1 some did not, 2 bad usage or folder.\n";

static bool digits(const char *s, unsigned long *v)
{
    if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 9)
        return false;
    *v = strtoul(s, NULL, 10);
    return true;
}

static bool parse_shard(const char *s, regress_options *o)
{
    char buf[32];
    const char *slash = strchr(s, '/');
    if (!slash || (size_t)(slash - s) >= sizeof buf)
        return false;
    memcpy(buf, s, (size_t)(slash - s));
    buf[slash - s] = '\0';
    return digits(buf, &o->shard) && digits(slash + 1, &o->shards) && o->shards > 0 && o->shard < o->shards;
}

static char *beside_me(const char *name)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return strdup(name);
    self[n] = '\0';
    char *dir = dirname(self);
    size_t len = strlen(dir) + strlen(name) + 2;
    char *p = malloc(len);
    if (p)
        snprintf(p, len, "%s/%s", dir, name);
    return p;
}

static int parse(int argc, char **argv, regress_options *o)
{
    enum { OPT_JUNIT = 256, OPT_SHARD, OPT_TIMEOUT, OPT_VMIEMU, OPT_MERGE };
    static const struct option longs[] = {
        {"jobs", required_argument, NULL, 'j'},      {"kernels", required_argument, NULL, 'k'},
        {"junit", required_argument, NULL, OPT_JUNIT}, {"shard", required_argument, NULL, OPT_SHARD},
        {"timeout", required_argument, NULL, OPT_TIMEOUT}, {"vmiemu", required_argument, NULL, OPT_VMIEMU},
        {"merge", no_argument, NULL, OPT_MERGE},     {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    o->jobs = cpus > 0 ? (unsigned long)cpus : 1;
    o->shards = 1;
    int c;
    unsigned long secs;
    while ((c = getopt_long(argc, argv, "j:k:h", longs, NULL)) != -1) {
        switch (c) {
        case 'j':
            if (!digits(optarg, &o->jobs) || o->jobs == 0 || o->jobs > 1024)
                return fprintf(stderr, "vmiemu-regress: --jobs wants a number from 1 to 1024, not '%s'\n", optarg), -1;
            break;
        case 'k':
            if (!o->kernels.paths && !(o->kernels.paths = calloc((size_t)argc, sizeof(char *))))
                return -1;
            o->kernels.paths[o->kernels.count++] = optarg;
            break;
        case OPT_JUNIT: o->junit = optarg; break;
        case OPT_SHARD:
            if (!parse_shard(optarg, o))
                return fprintf(stderr, "vmiemu-regress: --shard wants K/N with 0 <= K < N, not '%s'\n", optarg), -1;
            break;
        case OPT_TIMEOUT:
            if (!digits(optarg, &secs) || secs == 0)
                return fprintf(stderr, "vmiemu-regress: --timeout wants whole seconds, not '%s'\n", optarg), -1;
            o->timeout = (double)secs;
            break;
        case OPT_VMIEMU: o->vmiemu = optarg; break;
        case OPT_MERGE: o->merge = true; break;
        case 'h': fputs(usage, stdout); return 0;
        default: fputs(usage, stderr); return -1;
        }
    }
    return 1;
}

/* The record's path below the suite's folder, for the report. */
static char *relative(const char *dir, const char *path)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    if (strncmp(path, dir, n) == 0 && path[n] == '/')
        return strdup(path + n + 1);
    return strdup(path);
}

/* Reads the record's header and finds its kernel and initrd. */
static void prepare(replay_job *j, const regress_options *o, file_index *ix)
{
    char msg[1200];
    vm_error err = {0};
    rec_header h;
    rec_reader *r = rec_open(j->record, &h, &err);
    if (!r) {
        j->setup_error = strdup(err.msg);
        return;
    }
    rec_close_reader(r);
    char *copy = strdup(j->record), errbuf[512];
    if (copy && !file_index_add_dir(ix, dirname(copy), errbuf, sizeof errbuf)) {
        free(copy);
        j->setup_error = strdup(errbuf);
        return;
    }
    free(copy);
    const char *k = file_index_lookup(ix, h.kernel_size, h.kernel_hash);
    const char *i = h.has_initrd ? file_index_lookup(ix, h.initrd_size, h.initrd_hash) : NULL;
    const char *where = o->kernels.count ? "beside the record or under --kernels" : "beside the record (give --kernels DIR)";
    if (!k)
        snprintf(msg, sizeof msg, "no kernel of %llu bytes with the recorded hash %016llx %s",
                 (unsigned long long)h.kernel_size, (unsigned long long)h.kernel_hash, where);
    else if (h.has_initrd && !i)
        snprintf(msg, sizeof msg, "no initrd like the recorded %s (%llu bytes, hash %016llx) %s", h.initrd,
                 (unsigned long long)h.initrd_size, (unsigned long long)h.initrd_hash, where);
    if (!k || (h.has_initrd && !i)) {
        j->setup_error = strdup(msg);
        return;
    }
    j->kernel = strdup(k);
    j->initrd = i ? strdup(i) : NULL;
}

static double wall_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int report(const replay_job *jobs, size_t n, double wall)
{
    size_t counts[3] = {0};
    for (size_t i = 0; i < n; i++) {
        counts[jobs[i].verdict]++;
        if (jobs[i].verdict != JOB_PASSED)
            printf("%s %s: %s\n", jobs[i].verdict == JOB_FAILED ? "FAIL " : "ERROR", jobs[i].name,
                   jobs[i].setup_error ? jobs[i].setup_error : jobs[i].message);
    }
    printf("vmiemu-regress: %zu records: %zu passed, %zu failed, %zu errors; %.1f s, %.1f records/min\n", n,
           counts[JOB_PASSED], counts[JOB_FAILED], counts[JOB_ERROR], wall, wall > 0 ? (double)n * 60 / wall : 0);
    return counts[JOB_PASSED] == n ? STATUS_ALL_PASSED : STATUS_NOT_ALL_PASSED;
}

static int run_suite(regress_options *o)
{
    char err[1024];
    path_list recs = {0};
    if (!find_records(o->dir, &recs, err, sizeof err))
        return fprintf(stderr, "vmiemu-regress: %s\n", err), STATUS_USAGE;
    if (recs.count == 0) {
        path_list_free(&recs);
        return fprintf(stderr, "vmiemu-regress: %s: no records (*.rec) in it\n", o->dir), STATUS_USAGE;
    }
    file_index *ix = file_index_new();
    replay_job *jobs = calloc(recs.count, sizeof *jobs);
    size_t n = 0;
    int status = STATUS_USAGE;
    for (size_t i = 0; ix && jobs && i < o->kernels.count; i++)
        if (!file_index_add_dir(ix, o->kernels.paths[i], err, sizeof err)) {
            fprintf(stderr, "vmiemu-regress: --kernels %s\n", err);
            goto out;
        }
    for (size_t i = 0; ix && jobs && i < recs.count; i++)
        if (i % o->shards == o->shard) {
            jobs[n].record = strdup(recs.paths[i]);
            jobs[n].name = relative(o->dir, recs.paths[i]);
            prepare(&jobs[n++], o, ix);
        }
    job_options jo = {.vmiemu = o->vmiemu, .parallel = (int)o->jobs, .timeout = o->timeout,
                      .progress = isatty(2)};
    double t0 = wall_now();
    if (!jobs_run(jobs, n, &jo, err, sizeof err))
        fprintf(stderr, "vmiemu-regress: %s\n", err);
    status = report(jobs, n, wall_now() - t0);
    if (o->junit && !junit_write(o->junit, "vmiemu-regress", jobs, n, err, sizeof err)) {
        fprintf(stderr, "vmiemu-regress: %s\n", err);
        status = STATUS_USAGE;
    }
out:
    for (size_t i = 0; jobs && i < n; i++)
        job_free(&jobs[i]);
    free(jobs);
    file_index_free(ix);
    path_list_free(&recs);
    return status;
}

int main(int argc, char **argv)
{
    regress_options o = {0};
    int p = parse(argc, argv, &o);
    if (p <= 0) {
        free(o.kernels.paths);
        return p == 0 ? STATUS_ALL_PASSED : STATUS_USAGE;
    }
    int status;
    char err[1024];
    if (o.merge) {
        status = STATUS_USAGE;
        if (argc - optind < 2)
            fprintf(stderr, "vmiemu-regress: --merge wants OUT.xml and at least one IN.xml\n");
        else if (!junit_merge(argv[optind], (const char *const *)argv + optind + 1, (size_t)(argc - optind - 1),
                              err, sizeof err))
            fprintf(stderr, "vmiemu-regress: %s\n", err);
        else
            status = STATUS_ALL_PASSED;
    } else if (argc - optind != 1) {
        fputs(usage, stderr);
        status = STATUS_USAGE;
    } else {
        char *real = realpath(argv[optind], NULL); /* records are found below the real path */
        o.dir = real ? real : argv[optind];
        char *mine = o.vmiemu ? NULL : beside_me("vmiemu");
        if (!o.vmiemu)
            o.vmiemu = mine;
        status = o.vmiemu ? run_suite(&o) : STATUS_USAGE;
        free(mine);
        free(real);
    }
    free(o.kernels.paths);
    return status;
}

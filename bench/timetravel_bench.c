/* Time-travel costs on a long run: snapshot time and storage, reverse-stepi and goto latency,
 * recording overhead. Usage: timetravel_bench KERNEL_DIR [instructions]
 * Prints one "name value unit" line per figure (bench/README.md). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "emu/machine.h"
#include "emu/recplay.h"
#include "emu/snapshot.h"
#include "emu/timetravel.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static machine *boot(const char *dir, const char *name, const char *cmdline, uint64_t snap_every)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s.elf", dir, name);
    machine_config c;
    machine_config_defaults(&c);
    c.cmdline = cmdline;
    c.snap_every = snap_every;
    machine *m = calloc(1, sizeof *m);
    vm_error err = {0};
    if (!m || !machine_init(m, &c, path, &err)) {
        fprintf(stderr, "timetravel_bench: %s\n", err.msg);
        exit(1);
    }
    machine_set_serial_out(m, NULL, NULL);
    return m;
}

static void done(machine *m)
{
    machine_free(m);
    free(m);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: timetravel_bench KERNEL_DIR [instructions]\n");
        return 2;
    }
    const char *dir = argv[1];
    uint64_t total = argc > 2 ? strtoull(argv[2], NULL, 0) : 1000000000ull;
    char loop_args[64];
    snprintf(loop_args, sizeof loop_args, "iters=%llu", (unsigned long long)(total / 6 + 1000));
    vm_error err = {0};

    /* A long run with the default snapshot interval: storage, snapshot time, going back. */
    machine *m = boot(dir, "loop", loop_args, MACHINE_DEFAULT_SNAP_EVERY);
    double t0 = now();
    machine_run_until(m, total);
    double run = now() - t0;
    printf("run_seconds %.3f s (%llu instructions, snapshots on)\n", run, (unsigned long long)total);
    printf("snapshots %zu count\n", snap_count(m));
    printf("snapshot_storage %.2f MiB per 1e9 instructions\n",
           (double)snap_bytes(m) / (1 << 20) * 1e9 / (double)total);
    int reps = 5;
    double worst = 0, sum = 0;
    for (int i = 0; i < reps; i++) {
        t0 = now();
        if (!tt_reverse_stepi(m, 1, &err)) {
            fprintf(stderr, "reverse-stepi: %s\n", err.msg);
            return 1;
        }
        double d = now() - t0;
        sum += d;
        worst = d > worst ? d : worst;
    }
    printf("reverse_stepi_mean %.1f ms\nreverse_stepi_worst %.1f ms\n", sum / reps * 1e3, worst * 1e3);
    t0 = now();
    for (int i = 0; i < 100; i++)
        if (!snap_take(m, &err))
            return 1;
    printf("snapshot_take_mean %.3f ms (128 MiB guest, loop workload)\n", (now() - t0) / 100 * 1e3);
    done(m);

    /* Same run without snapshots: their cost on the run itself. */
    m = boot(dir, "loop", loop_args, 0);
    t0 = now();
    machine_run_until(m, total);
    double plain = now() - t0;
    printf("run_seconds_no_snapshots %.3f s\nsnapshot_overhead %.1f %%\n", plain, (run - plain) / plain * 100);
    done(m);

    /* goto call N on a call-heavy run: every VMI call is an event. */
    m = boot(dir, "callloop", "iters=2000000", MACHINE_DEFAULT_SNAP_EVERY);
    machine_run(m);
    size_t calls = evlog_count_kind(&m->log, EV_VMI_CALL, evlog_count(&m->log));
    uint64_t end = machine_insns(m);
    sum = worst = 0;
    for (int i = 0; i < reps; i++) { /* backwards through the run: every goto goes back */
        size_t n = calls / 7 * (size_t)(reps - i);
        t0 = now();
        if (!tt_goto_call(m, n, &err)) {
            fprintf(stderr, "goto call: %s\n", err.msg);
            return 1;
        }
        double d = now() - t0;
        sum += d;
        worst = d > worst ? d : worst;
    }
    printf("goto_call_mean %.1f ms (%zu calls over %llu instructions)\ngoto_call_worst %.1f ms\n", sum / reps * 1e3,
           calls, (unsigned long long)end, worst * 1e3);
    done(m);

    /* Recording: the call-heavy run with and without --record. */
    double with = 0, without = 0;
    for (int rec = 0; rec < 2; rec++) {
        m = boot(dir, "callloop", "iters=2000000", MACHINE_DEFAULT_SNAP_EVERY);
        if (rec && !recplay_record(m, "/tmp/timetravel_bench.rec", &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        t0 = now();
        machine_run(m);
        char report[256];
        if (!recplay_finish(m, report, sizeof report, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        if (rec)
            with = now() - t0;
        else
            without = now() - t0;
        done(m);
    }
    remove("/tmp/timetravel_bench.rec");
    printf("record_overhead_callloop %.1f %% (%.3f s vs %.3f s)\n", (with - without) / without * 100, with, without);
    return 0;
}

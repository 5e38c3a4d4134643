/* vmiemu stats RECORD: statistics of a recorded run's VMI calls and markers, read from the
 * record (frontend/callstats.c). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "frontend/callstats.h"
#include "frontend/evseq.h"
#include "frontend/subcommands.h"

static int usage(const char *prog, const char *why)
{
    fprintf(stderr, "%s stats: %s\nusage: %s stats [--symbols FILE] [--top N] RECORD\n", prog, why, prog);
    return 2;
}

int vmiemu_stats(int argc, char **argv, const char *prog)
{
    static const struct option longs[] = {{"symbols", required_argument, NULL, 's'},
                                           {"top", required_argument, NULL, 't'},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
    const char *syms_path = NULL;
    unsigned top = 10;
    optind = 1;
    opterr = 0;
    for (int c; (c = getopt_long(argc, argv, "+", longs, NULL)) != -1;) {
        char *end;
        switch (c) {
        case 's': syms_path = optarg; break;
        case 't': {
            unsigned long v = optarg[0] >= '0' && optarg[0] <= '9' ? strtoul(optarg, &end, 10) : 0;
            if (v < 1 || v > 1000 || *end)
                return usage(prog, "--top takes a number from 1 to 1000");
            top = (unsigned)v;
            break;
        }
        case 'h': usage(prog, "statistics of a record's VMI calls"); return 0;
        default: return usage(prog, "unknown option");
        }
    }
    if (argc - optind != 1)
        return usage(prog, "needs one record");
    const char *path = argv[optind];
    vm_error err = {0};
    evseq seq;
    symtab syms = {0};
    if (!evseq_open(&seq, path, &err) || (syms_path && !symtab_load_file(&syms, syms_path, &err))) {
        fprintf(stderr, "%s stats: %s\n", prog, err.msg);
        evseq_close(&seq);
        return 2;
    }
    callstats st;
    callstats_init(&st, &syms);
    vm_event ev;
    int got;
    bool ok = true;
    while (ok && (got = evseq_next(&seq, &ev, &err)) == 1)
        ok = callstats_add(&st, &ev) || !vm_fail(&err, VM_ENOMEM, "out of memory");
    if (ok && got == 0) {
        printf("%s: command line '%s'", path, seq.h.cmdline);
        if (seq.ended)
            printf(", ended '%s' at icount %llu\n", machine_end_name((machine_end)seq.end_reason),
                   (unsigned long long)seq.end_icount);
        else
            printf(", cut short (%s)\n", seq.cut);
        if (seq.ifcalls) /* emu/recplay.c: a record counts them and holds nothing else of them */
            printf("interrupt-flag calls: %llu (EnableInterrupts, DisableInterrupts, GetInterruptMask, "
                   "SetInterruptMask: counted in the record, not held, so not in the figures below)\n",
                   (unsigned long long)seq.ifcalls);
        callstats_print(&st, NULL, top, stdout);
    } else {
        fprintf(stderr, "%s stats: %s\n", prog, err.msg);
    }
    callstats_free(&st);
    symtab_free(&syms);
    evseq_close(&seq);
    return ok && got == 0 ? 0 : 2;
}

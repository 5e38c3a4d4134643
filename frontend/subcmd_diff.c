/* vmiemu diff A.rec B.rec: where two runs' sequences of VMI calls and markers first differ.
 * Two events are the same when their call (or marker name), decoded arguments and result are,
 * and so are their callers: the function the caller's EIP lies in when both sides have
 * symbols, the EIP itself when both runs booted the same kernel, else nothing (raw addresses of
 * two different kernels say nothing). Instruction counts are shown, never compared: two
 * kernels booted with the same inputs run different numbers of instructions between the same
 * calls. The interrupt-flag calls are only counted in a record (emu/recplay.c): two events are
 * the same only if as many of them came before each, and calls are numbered with them, as the
 * event log numbers them. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu/machine.h"
#include "frontend/plural.h"
#include "frontend/evseq.h"
#include "frontend/subcommands.h"
#include "frontend/vmicall.h"

typedef struct side {
    const char *path, *syms_path;
    evseq seq;
    symtab syms;
} side;

/* An event with its number among the calls (`calls`, `goto call N`). */
typedef struct numbered {
    vm_event ev;
    uint64_t call_no;
    uint64_t ifcalls_before; /* interrupt-flag calls between it and the event before */
} numbered;

#define DIFF_MAX_CONTEXT 100u

typedef struct diff_ctx {
    side s[2];
    bool by_symbol, by_eip;
    bool ignore_clock; /* results of clock readings are not compared */
    unsigned context;
    numbered ring[DIFF_MAX_CONTEXT]; /* the last events both runs share */
    struct kind_count *kinds;        /* the rest, counted by kind */
    size_t nkinds, capkinds;
    vm_error err;
    bool failed;
} diff_ctx;

static void caller_text(const diff_ctx *d, int k, const vm_event *ev, char *buf, size_t len)
{
    const side *s = &d->s[k];
    char sym[160];
    if (s->syms.count && symtab_describe(&s->syms, ev->eip, sym, sizeof sym))
        snprintf(buf, len, "<%s>", sym);
    else
        snprintf(buf, len, "eip=0x%08x", ev->eip);
}

/* Calls whose result is a reading of the instruction clock: two kernels (or two command lines)
 * read different values at the same call, which --ignore-clock lets pass. */
static bool reads_clock(const vm_event *ev)
{
    static const char *const names[] = {"RDTSC", "RDPMC", "GetCycleCounter", "GetWallclockTime"};
    if (ev->kind != EV_VMI_CALL)
        return false;
    const char *name = vmicall_name(ev->num);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(name, names[i]))
            return true;
    return false;
}

static bool same_event(const diff_ctx *d, const vm_event *a, const vm_event *b)
{
    if (a->kind != b->kind)
        return false;
    char x[512], y[512];
    evseq_body(a, x, sizeof x);
    evseq_body(b, y, sizeof y);
    if (d->ignore_clock && reads_clock(a)) { /* compare up to the result */
        char *rx = strstr(x, ") = "), *ry = strstr(y, ") = ");
        if (rx && ry)
            rx[1] = ry[1] = 0;
    }
    if (strcmp(x, y))
        return false;
    if (d->by_symbol) {
        const char *p = evseq_caller(&d->s[0].syms, a), *q = evseq_caller(&d->s[1].syms, b);
        if (p || q)
            return p && q && strcmp(p, q) == 0;
    }
    return !d->by_eip || a->eip == b->eip;
}

/* with_ifcalls: say how many interrupt-flag calls came just before it (where that differs). */
static void show(const diff_ctx *d, const char *tag, int k, const numbered *x, bool with_ifcalls)
{
    const vm_event *ev = &x->ev;
    char body[512], who[200], no[32];
    evseq_body(ev, body, sizeof body);
    caller_text(d, k, ev, who, sizeof who);
    if (ev->kind == EV_VMI_CALL)
        snprintf(no, sizeof no, "call #%llu", (unsigned long long)x->call_no);
    else
        snprintf(no, sizeof no, "marker");
    printf("%s %-12s icount %-10llu %s %s", tag, no, (unsigned long long)ev->icount, who, body);
    if (with_ifcalls)
        printf("  (after %llu interrupt-flag call%s)", (unsigned long long)x->ifcalls_before,
               plural_s(x->ifcalls_before));
    printf("\n");
}

typedef struct kind_count {
    char label[80];
    uint64_t n[2];
} kind_count;

static int by_change(const void *a, const void *b)
{
    const kind_count *x = a, *y = b;
    uint64_t dx = x->n[0] > x->n[1] ? x->n[0] - x->n[1] : x->n[1] - x->n[0];
    uint64_t dy = y->n[0] > y->n[1] ? y->n[0] - y->n[1] : y->n[1] - y->n[0];
    if (dx != dy)
        return dx < dy ? 1 : -1;
    return strcmp(x->label, y->label);
}

/* Count n under label for side k. */
static void add_kind(diff_ctx *d, int k, const char *label, uint64_t n)
{
    size_t j = 0;
    while (j < d->nkinds && strcmp(d->kinds[j].label, label))
        j++;
    if (j == d->nkinds) {
        if (d->nkinds == d->capkinds) {
            size_t c = d->capkinds ? 2 * d->capkinds : 64;
            kind_count *grown = realloc(d->kinds, c * sizeof *grown);
            if (!grown) {
                d->failed = true;
                vm_fail(&d->err, VM_ENOMEM, "out of memory");
                return;
            }
            d->kinds = grown;
            d->capkinds = c;
        }
        memset(&d->kinds[j], 0, sizeof d->kinds[j]);
        snprintf(d->kinds[j].label, sizeof d->kinds[j].label, "%s", label);
        d->nkinds++;
    }
    d->kinds[j].n[k] += n;
}

/* Count x of side k under its kind (a call's name, a marker's name). */
static void count_kind(diff_ctx *d, int k, const numbered *x)
{
    char label[80];
    if (x->ev.kind == EV_MARKER)
        evseq_body(&x->ev, label, sizeof label);
    else
        evseq_kind_label(&x->ev, label, sizeof label);
    add_kind(d, k, label, 1);
}

/* The next event of side k, numbered; false at its end (or on a failure, noted in d). */
static bool next(diff_ctx *d, int k, numbered *x)
{
    const evseq *q = &d->s[k].seq;
    int got = d->failed ? 0 : evseq_next(&d->s[k].seq, &x->ev, &d->err);
    if (got < 0)
        d->failed = true;
    x->call_no = q->call_no;
    x->ifcalls_before = q->ifcalls_before;
    return got == 1;
}

static void summarise_rest(const diff_ctx *d, size_t restA, size_t restB)
{
    if (d->nkinds)
        qsort(d->kinds, d->nkinds, sizeof *d->kinds, by_change);
    printf("from there on: A has %zu more events, B %zu; counts by kind (A, B, B-A):\n", restA, restB);
    size_t same = 0, shown = 0;
    for (size_t j = 0; j < d->nkinds; j++) {
        const kind_count *c = &d->kinds[j];
        if (c->n[0] == c->n[1]) {
            same++;
            continue;
        }
        if (shown++ < 20)
            printf("  %-36s %10llu %10llu %+11lld\n", c->label, (unsigned long long)c->n[0], (unsigned long long)c->n[1],
                   (long long)c->n[1] - (long long)c->n[0]);
    }
    if (shown > 20)
        printf("  ... %zu more kinds with different counts\n", shown - 20);
    if (same)
        printf("  %zu kind%s with equal counts\n", same, same == 1 ? "" : "s");
}

static void describe_side(const char *tag, const side *s)
{
    const evseq *q = &s->seq;
    printf("%s: %s: %zu call%s", tag, s->path, q->calls, plural_s(q->calls));
    if (q->ifcalls)
        printf(" and %llu interrupt-flag call%s (counted)", (unsigned long long)q->ifcalls, plural_s(q->ifcalls));
    printf(", %zu marker%s, ", q->markers, plural_s(q->markers));
    if (q->ended)
        printf("ended '%s' at icount %llu", machine_end_name((machine_end)q->end_reason), (unsigned long long)q->end_icount);
    else
        printf("cut short (%s)", q->cut);
    printf("; command line '%s'\n", q->h.cmdline);
}

/* Both records in step: the shared prefix keeps only its last `context` events. */
static int compare(diff_ctx *d)
{
    numbered x[2];
    bool more[2];
    size_t i = 0;
    uint64_t shared_ifcalls = 0; /* interrupt-flag calls up to the last event both share */
    for (;; i++) {
        more[0] = next(d, 0, &x[0]);
        more[1] = next(d, 1, &x[1]);
        if (d->failed || !more[0] || !more[1] || !same_event(d, &x[0].ev, &x[1].ev) ||
            x[0].ifcalls_before != x[1].ifcalls_before)
            break;
        shared_ifcalls = d->s[0].seq.ifcalls;
        if (d->context)
            d->ring[i % d->context] = x[0];
    }
    if (d->failed)
        return DIFF_TROUBLE;
    if (!d->by_eip && !d->by_symbol)
        printf("note: different kernels and no symbols for both: callers are not compared (--symbols-a, --symbols-b)\n");
    if (!more[0] && !more[1]) {
        describe_side("A", &d->s[0]);
        describe_side("B", &d->s[1]);
        const evseq *a = &d->s[0].seq, *b = &d->s[1].seq;
        if (a->ifcalls != b->ifcalls) { /* after the last event: counted by the end entries */
            printf("same sequence of %zu event%s, but %llu and %llu interrupt-flag calls (counted) in all\n", i,
                   plural_s(i), (unsigned long long)a->ifcalls, (unsigned long long)b->ifcalls);
            return DIFF_DIFFERENT;
        }
        if (a->ended == b->ended && (!a->ended || a->end_reason == b->end_reason)) {
            printf("same sequence: %zu event%s (%zu call%s", i, plural_s(i), a->calls, plural_s(a->calls));
            if (a->ifcalls)
                printf(", and %llu interrupt-flag call%s counted between them", (unsigned long long)a->ifcalls,
                       plural_s(a->ifcalls));
            printf(")\n");
            return DIFF_SAME;
        }
        printf("same sequence of %zu event%s, but the runs end differently\n", i, plural_s(i));
        return DIFF_DIFFERENT;
    }
    printf("first difference at event %zu of the sequence:\n", i);
    size_t from = i > d->context ? i - d->context : 0;
    for (size_t j = from; j < i; j++)
        show(d, "   ", 0, &d->ring[j % d->context], false);
    bool ifcalls_differ = more[0] && more[1] && x[0].ifcalls_before != x[1].ifcalls_before;
    for (int k = 0; k < 2; k++) {
        if (more[k]) {
            show(d, k ? "  > B" : "  < A", k, &x[k], ifcalls_differ);
            count_kind(d, k, &x[k]);
        } else {
            printf("%s (the sequence ends here)\n", k ? "  > B" : "  < A");
        }
    }
    size_t rest[2] = {more[0], more[1]};
    for (int k = 0; k < 2; k++) {
        numbered y;
        for (unsigned shown = 0; more[k] && next(d, k, &y); rest[k]++) {
            if (shown++ < d->context)
                show(d, k ? "    B" : "    A", k, &y, false);
            count_kind(d, k, &y);
        }
    }
    if (d->failed)
        return DIFF_TROUBLE;
    if (d->s[0].seq.ifcalls != shared_ifcalls || d->s[1].seq.ifcalls != shared_ifcalls)
        for (int k = 0; k < 2 && !d->failed; k++)
            add_kind(d, k, "interrupt-flag calls (counted)", d->s[k].seq.ifcalls - shared_ifcalls);
    if (d->failed)
        return DIFF_TROUBLE;
    summarise_rest(d, rest[0], rest[1]);
    describe_side("A", &d->s[0]);
    describe_side("B", &d->s[1]);
    return DIFF_DIFFERENT;
}

static bool load_side(side *s, vm_error *err)
{
    if (!evseq_open(&s->seq, s->path, err))
        return false;
    return !s->syms_path || symtab_load_file(&s->syms, s->syms_path, err);
}

static int usage(const char *prog, const char *why)
{
    fprintf(stderr, "%s diff: %s\nusage: %s diff [--symbols FILE] [--symbols-a FILE] [--symbols-b FILE] [--context N] "
                    "[--ignore-clock] A.rec B.rec\n", prog, why, prog);
    return DIFF_TROUBLE;
}

int vmiemu_diff(int argc, char **argv, const char *prog)
{
    static const struct option longs[] = {{"symbols", required_argument, NULL, 's'},
                                           {"symbols-a", required_argument, NULL, 'a'},
                                           {"symbols-b", required_argument, NULL, 'b'},
                                           {"context", required_argument, NULL, 'c'},
                                           {"ignore-clock", no_argument, NULL, 'i'},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
    diff_ctx d = {0};
    d.context = 3;
    optind = 1;
    opterr = 0;
    for (int c; (c = getopt_long(argc, argv, "+", longs, NULL)) != -1;) {
        char *end;
        switch (c) {
        case 's': d.s[0].syms_path = d.s[1].syms_path = optarg; break;
        case 'a': d.s[0].syms_path = optarg; break;
        case 'b': d.s[1].syms_path = optarg; break;
        case 'i': d.ignore_clock = true; break;
        case 'c': {
            unsigned long v = optarg[0] >= '0' && optarg[0] <= '9' ? strtoul(optarg, &end, 10) : 1000;
            if (v > DIFF_MAX_CONTEXT || *end)
                return usage(prog, "--context takes a number from 0 to 100");
            d.context = (unsigned)v;
            break;
        }
        case 'h':
            usage(prog, "where two records' VMI call sequences first differ");
            return DIFF_SAME;
        default: return usage(prog, "unknown option");
        }
    }
    if (argc - optind != 2)
        return usage(prog, "needs two records");
    d.s[0].path = argv[optind];
    d.s[1].path = argv[optind + 1];
    int status = DIFF_TROUBLE;
    if (load_side(&d.s[0], &d.err) && load_side(&d.s[1], &d.err)) {
        d.by_symbol = d.s[0].syms.count && d.s[1].syms.count;
        d.by_eip = d.s[0].seq.h.kernel_hash == d.s[1].seq.h.kernel_hash &&
                   d.s[0].seq.h.kernel_size == d.s[1].seq.h.kernel_size;
        status = compare(&d);
    }
    fflush(stdout);
    if (status == DIFF_TROUBLE)
        fprintf(stderr, "%s diff: %s\n", prog, d.err.msg);
    for (int k = 0; k < 2; k++) {
        evseq_close(&d.s[k].seq);
        symtab_free(&d.s[k].syms);
    }
    free(d.kinds);
    return status;
}

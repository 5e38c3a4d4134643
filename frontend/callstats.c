#include "frontend/callstats.h"

#include <stdlib.h>
#include <string.h>

#include "frontend/evseq.h"

void callstats_init(callstats *s, const symtab *syms)
{
    memset(s, 0, sizeof *s);
    s->syms = syms && syms->count ? syms : NULL;
    for (size_t i = 0; i < CALL_TIMING_NUMS; i++)
        s->by_num[i] = -1;
    s->gap_min = UINT64_MAX;
}

void callstats_free(callstats *s)
{
    free(s->kinds);
    free(s->caller_key);
    free(s->caller_count);
    memset(s, 0, sizeof *s);
}

static callstats_kind *kind_of(callstats *s, const vm_event *ev)
{
    bool call = ev->kind == EV_VMI_CALL;
    if (call && ev->num < CALL_TIMING_NUMS && s->by_num[ev->num] >= 0)
        return &s->kinds[s->by_num[ev->num]];
    char label[48];
    if (ev->kind == EV_MARKER) /* markers by name: how often each moment came */
        evseq_body(ev, label, sizeof label);
    else
        evseq_kind_label(ev, label, sizeof label);
    for (size_t i = 0; !call && i < s->nkinds; i++) /* few kinds other than calls */
        if (!s->kinds[i].call && !strcmp(s->kinds[i].label, label))
            return &s->kinds[i];
    if (s->nkinds == s->capkinds) {
        size_t cap = s->capkinds ? 2 * s->capkinds : 64;
        callstats_kind *grown = realloc(s->kinds, cap * sizeof *grown);
        if (!grown)
            return NULL;
        s->kinds = grown;
        s->capkinds = cap;
    }
    callstats_kind *k = &s->kinds[s->nkinds];
    memset(k, 0, sizeof *k);
    snprintf(k->label, sizeof k->label, "%s", label);
    k->call = call;
    k->num = ev->num;
    if (call && ev->num < CALL_TIMING_NUMS)
        s->by_num[ev->num] = (int32_t)s->nkinds;
    s->nkinds++;
    return k;
}

static uint32_t hash32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    return x;
}

/* Key 0 marks a free slot, so key k is stored as k + 1 (an EIP of 0xFFFFFFFF shares with 0). */
static bool count_caller(callstats *s, uint32_t key)
{
    key = key + 1 ? key + 1 : key;
    if (2 * (s->callers + 1) > s->caller_cap) {
        size_t cap = s->caller_cap ? 2 * s->caller_cap : 256;
        uint32_t *keys = calloc(cap, sizeof *keys);
        uint64_t *counts = calloc(cap, sizeof *counts);
        if (!keys || !counts) {
            free(keys);
            free(counts);
            return false;
        }
        for (size_t i = 0; i < s->caller_cap; i++)
            if (s->caller_key[i]) {
                size_t j = hash32(s->caller_key[i]) & (cap - 1);
                while (keys[j])
                    j = (j + 1) & (cap - 1);
                keys[j] = s->caller_key[i];
                counts[j] = s->caller_count[i];
            }
        free(s->caller_key);
        free(s->caller_count);
        s->caller_key = keys;
        s->caller_count = counts;
        s->caller_cap = cap;
    }
    size_t j = hash32(key) & (s->caller_cap - 1);
    while (s->caller_key[j] && s->caller_key[j] != key)
        j = (j + 1) & (s->caller_cap - 1);
    if (!s->caller_key[j]) {
        s->caller_key[j] = key;
        s->callers++;
    }
    s->caller_count[j]++;
    return true;
}

bool callstats_add(callstats *s, const vm_event *ev)
{
    if (ev->kind == EV_END || ev->kind == EV_INPUT)
        return true;
    callstats_kind *k = kind_of(s, ev);
    if (!k)
        return false;
    k->count++;
    if (ev->kind != EV_VMI_CALL) {
        s->others++;
        return true;
    }
    if (s->calls) {
        uint64_t gap = ev->icount > s->last ? ev->icount - s->last : 0; /* nested native calls: 0 */
        s->gap_sum += gap;
        s->gap_min = gap < s->gap_min ? gap : s->gap_min;
        s->gap_max = gap > s->gap_max ? gap : s->gap_max;
        s->gaps++;
        unsigned b = 0;
        for (uint64_t limit = 10; b < CALLSTATS_GAP_BUCKETS - 1 && gap >= limit; limit *= 10)
            b++;
        s->gap_hist[b]++;
    } else {
        s->first = ev->icount;
    }
    s->last = ev->icount;
    s->calls++;
    const symbol *sym = s->syms ? symtab_find(s->syms, ev->eip) : NULL;
    return count_caller(s, sym ? sym->addr : ev->eip);
}

static int by_count(const void *a, const void *b)
{
    const callstats_kind *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return strcmp(x->label, y->label);
}

typedef struct caller_row {
    uint32_t key;
    uint64_t count;
} caller_row;

static int by_caller_count(const void *a, const void *b)
{
    const caller_row *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return x->key < y->key ? -1 : x->key > y->key;
}

static void print_callers(const callstats *s, unsigned top, FILE *out)
{
    caller_row *rows = s->callers ? malloc(s->callers * sizeof *rows) : NULL;
    if (!rows)
        return;
    size_t n = 0;
    for (size_t i = 0; i < s->caller_cap; i++)
        if (s->caller_key[i])
            rows[n++] = (caller_row){s->caller_key[i] - 1, s->caller_count[i]};
    qsort(rows, n, sizeof *rows, by_caller_count);
    fprintf(out, "top callers%s:\n", s->syms ? " (by function)" : " (by EIP: no symbols, --symbols FILE names them)");
    for (size_t i = 0; i < n && i < top; i++) {
        const symbol *sym = s->syms ? symtab_find(s->syms, rows[i].key) : NULL;
        char where[160];
        if (sym && sym->addr == rows[i].key)
            snprintf(where, sizeof where, "%s", sym->name);
        else
            snprintf(where, sizeof where, "0x%08x", rows[i].key);
        fprintf(out, "  %-40s %10llu  %5.1f%%\n", where, (unsigned long long)rows[i].count,
                100.0 * (double)rows[i].count / (double)s->calls);
    }
    free(rows);
}

void callstats_print(const callstats *s, const call_timing *timing, unsigned top, FILE *out)
{
    callstats_kind *sorted = s->nkinds ? malloc(s->nkinds * sizeof *sorted) : NULL;
    if (s->nkinds && !sorted) {
        fprintf(out, "out of memory\n");
        return;
    }
    if (s->nkinds) {
        memcpy(sorted, s->kinds, s->nkinds * sizeof *sorted);
        qsort(sorted, s->nkinds, sizeof *sorted, by_count);
    }
    fprintf(out, "VMI calls: %llu", (unsigned long long)s->calls);
    if (s->calls)
        fprintf(out, " from icount %llu to %llu", (unsigned long long)s->first, (unsigned long long)s->last);
    fprintf(out, "\n");
    if (s->calls) {
        fprintf(out, "  %-28s %10s %7s", "call", "count", "share");
        if (timing)
            fprintf(out, " %12s %10s", "host ms", "host ns/call");
        fprintf(out, "\n");
        for (size_t i = 0; i < s->nkinds; i++) {
            const callstats_kind *k = &sorted[i];
            if (!k->call)
                continue;
            fprintf(out, "  %-28s %10llu %6.1f%%", k->label, (unsigned long long)k->count,
                    100.0 * (double)k->count / (double)s->calls);
            if (timing && k->num < CALL_TIMING_NUMS && timing->count[k->num])
                fprintf(out, " %12.3f %10llu", (double)timing->ns[k->num] / 1e6,
                        (unsigned long long)(timing->ns[k->num] / timing->count[k->num]));
            fprintf(out, "\n");
        }
    }
    if (s->gaps) {
        fprintf(out, "guest instructions between calls: mean %.1f, min %llu, max %llu\n",
                (double)s->gap_sum / (double)s->gaps, (unsigned long long)s->gap_min, (unsigned long long)s->gap_max);
        static const char *const bucket[CALLSTATS_GAP_BUCKETS] = {"< 10", "< 100", "< 1000", "< 10^4", "< 10^5",
                                                                  "< 10^6", ">= 10^6"};
        for (unsigned b = 0; b < CALLSTATS_GAP_BUCKETS; b++)
            if (s->gap_hist[b])
                fprintf(out, "  %-8s %10llu  %5.1f%%\n", bucket[b], (unsigned long long)s->gap_hist[b],
                        100.0 * (double)s->gap_hist[b] / (double)s->gaps);
    }
    if (s->calls)
        print_callers(s, top, out);
    if (s->others) {
        fprintf(out, "other events: %llu\n", (unsigned long long)s->others);
        for (size_t i = 0; i < s->nkinds; i++)
            if (!sorted[i].call)
                fprintf(out, "  %-28s %10llu\n", sorted[i].label, (unsigned long long)sorted[i].count);
    }
    if (!timing)
        fprintf(out, "host time per call: not measured (a record holds none; the shell's `stats` measures it)\n");
    free(sorted);
}

/* Statistics of a run's events, for `vmiemu stats RECORD` and the shell's `stats`: VMI calls by
 * kind with counts and share, guest instructions between calls, top callers by symbol, host
 * time per kind (when measured: live runs only, emu/machine.h call_timing), and the other
 * events (markers, interrupts, exceptions) by kind. */
#ifndef VMIEMU_CALLSTATS_H
#define VMIEMU_CALLSTATS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "emu/machine.h"
#include "frontend/symbols.h"

typedef struct callstats_kind {
    char label[48];
    bool call;    /* a VMI call (else another event kind) */
    uint16_t num; /* its event number, for the host time */
    uint64_t count;
} callstats_kind;

#define CALLSTATS_GAP_BUCKETS 7 /* <10, <100, ... <10^6, more */

typedef struct callstats {
    const symtab *syms;
    callstats_kind *kinds;
    size_t nkinds, capkinds;
    int32_t by_num[CALL_TIMING_NUMS]; /* kinds index of each call number, -1 none yet */
    uint64_t calls, others;
    uint64_t first, last; /* icounts of the first and the last VMI call */
    uint64_t gap_sum, gap_min, gap_max, gaps;
    uint64_t gap_hist[CALLSTATS_GAP_BUCKETS];
    uint32_t *caller_key; /* open addressing: a symbol's address, or the EIP without symbols */
    uint64_t *caller_count;
    size_t caller_cap, callers;
} callstats;

void callstats_init(callstats *s, const symtab *syms);
/* Count one event; false if memory ran out. */
VM_MUST_CHECK bool callstats_add(callstats *s, const vm_event *ev);
/* The report; timing (NULL: not measured) gives the host time column, top the callers shown. */
void callstats_print(const callstats *s, const call_timing *timing, unsigned top, FILE *out);
void callstats_free(callstats *s);

#endif

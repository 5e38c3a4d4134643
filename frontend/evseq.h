/* A run's sequence of VMI calls and guest markers, as `vmiemu diff` and `vmiemu stats` read it
 * from a record (every call and marker is an entry there, so nothing needs replaying, but the
 * interrupt-flag calls: the record only counts those, emu/recplay.c), and the words they show
 * an event in. */
#ifndef VMIEMU_EVSEQ_H
#define VMIEMU_EVSEQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emu/evlog.h"
#include "emu/record.h"
#include "frontend/symbols.h"
#include "mmu/error.h"

/* A record read one call or marker at a time, so a run of millions of calls costs no more
 * memory than a few (the record's own reader keeps one chunk). */
typedef struct evseq {
    rec_reader *r;
    rec_header h;
    const char *path;
    size_t calls, markers; /* read so far */
    uint64_t ifcalls;      /* interrupt-flag calls counted so far (up to the last event read, or to
                              the end entry once over): not among the events */
    uint64_t ifcalls_before; /* those of them just before the last event read */
    uint64_t call_no;      /* the last event's number among the calls as the event log numbers
                              them (interrupt-flag calls too); for a marker the next call's */
    bool over;             /* evseq_next returned 0: the counts are the record's */
    bool ended;            /* the record has its end entry */
    uint64_t end_icount;
    uint32_t end_reason;   /* a machine_end, if ended */
    char cut[600];         /* why the record stops early (cut short), or "" */
} evseq;

/* Open the record at path: VM_EIO (cannot be read), VM_EFORMAT (not a record), VM_ENOMEM. */
VM_MUST_CHECK bool evseq_open(evseq *s, const char *path, vm_error *err);
/* The next call or marker: 1 with *ev filled; 0 at the end of the record (ended, or cut short:
 * a killed recording is read up to where it ends, and cut says so); -1 for a corrupt chunk
 * (VM_EFORMAT naming it) or a read error. */
VM_MUST_CHECK int evseq_next(evseq *s, vm_event *ev, vm_error *err);
void evseq_close(evseq *s);

/* The event without its number, icount and EIP: `vmi GetCycleCounter(counter=real) = 1207`,
 * `marker "fork start"`. */
void evseq_body(const vm_event *ev, char *buf, size_t len);
/* What statistics count it as: the call's name, "marker", "interrupt 0x20", "exception 14"...
 * Returns buf. */
const char *evseq_kind_label(const vm_event *ev, char *buf, size_t len);
/* The function the event's EIP lies in (no offset), or NULL without symbols or a match. */
const char *evseq_caller(const symtab *syms, const vm_event *ev);

#endif

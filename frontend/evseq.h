/* A run's sequence of VMI calls and guest markers, as `vmiemu diff` and `vmiemu stats` read it
 * from a record (every call and marker is an entry there, so nothing needs replaying), and the
 * words they show an event in. */
#ifndef VMIEMU_EVSEQ_H
#define VMIEMU_EVSEQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emu/evlog.h"
#include "emu/record.h"
#include "frontend/symbols.h"
#include "mmu/error.h"

typedef struct evseq {
    rec_header h;
    vm_event *ev; /* calls and markers in the order they were logged */
    size_t n, cap;
    size_t calls; /* of them, VMI calls */
    bool ended;   /* the record has its end entry */
    uint64_t end_icount;
    uint32_t end_reason; /* a machine_end, if ended */
    char cut[600];       /* why the record stops early (cut short), or "" */
} evseq;

/* Read every call and marker of the record at path. VM_EIO (cannot be read), VM_EFORMAT (not a
 * record, a corrupt chunk: the message names it), VM_ENOMEM. A record cut short (a killed
 * recording) is read up to where it ends, and cut says so. */
VM_MUST_CHECK bool evseq_load(evseq *s, const char *path, vm_error *err);
void evseq_free(evseq *s);

/* The event without its number, icount and EIP: `vmi GetCycleCounter(counter=real) = 1207`,
 * `marker "fork start"`. */
void evseq_body(const vm_event *ev, char *buf, size_t len);
/* What statistics count it as: the call's name, "marker", "interrupt 0x20", "exception 14"...
 * Returns buf. */
const char *evseq_kind_label(const vm_event *ev, char *buf, size_t len);
/* The function the event's EIP lies in (no offset), or NULL without symbols or a match. */
const char *evseq_caller(const symtab *syms, const vm_event *ev);

#endif

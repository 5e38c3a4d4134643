/* History of one piece of guest state over a run: every change of a page-table entry, a GDT
 * or IDT entry, or CR3, with where it happened and what made it (a VMI call, or a raw write).
 *
 * Collected while the machine runs (a replay of a record, or the shell re-running the past):
 * a store trace over guest RAM catches raw writes at their exact instruction, and every event
 * the log takes re-reads the value, which catches what VMI calls change (host calls write
 * guest memory without a guest store; native calls are logged once their slot has run). No
 * per-instruction trace: the value is read at events and at stores into its own bytes only. */
#ifndef VMIEMU_HISTORY_H
#define VMIEMU_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emu/evlog.h"
#include "mmu/error.h"

struct machine;

typedef enum hist_kind { HIST_PTE, HIST_GDT, HIST_IDT, HIST_CR3 } hist_kind;

/* What a value is: the leaf entry that maps a linear address (or the directory entry when
 * there is no table under it), a descriptor, a register, or nothing to read. */
typedef enum hist_what {
    HIST_NONE,  /* paging off, PAE (not walked), beyond the table's limit, or unreadable */
    HIST_PDE,   /* pte: the directory entry (not present, or a 4 MiB page) */
    HIST_PTE_V, /* pte: the table entry */
    HIST_VALUE, /* a descriptor (8 bytes) or CR3 */
} hist_what;

typedef enum hist_cause {
    HIST_INITIAL,   /* the value when collection began */
    HIST_BY_CALL,   /* a VMI call that changes this kind of state; `call` numbers it */
    HIST_RAW_WRITE, /* a guest store into the value's bytes, at its exact instruction */
    HIST_RAW_SEEN,  /* changed without a store or a call that does such things (mov cr3, lgdt,
                       a task switch, paging turned on): seen at the next event, not exact */
    HIST_CPU_BITS,  /* only Accessed/Dirty bits set: the CPU's page walk (seen at the next event:
                       vmiemu's TLB fill sets them, not a guest store) or a segment load (exact) */
} hist_cause;

typedef struct hist_change {
    uint64_t icount;  /* a call: its entry (goto call N lands there); a store: just before it */
    uint32_t eip;     /* the caller's or the storing instruction's EIP */
    uint64_t old_value, new_value;
    uint8_t old_what, new_what; /* hist_what */
    uint8_t cause;    /* hist_cause */
    uint16_t callnum; /* HIST_BY_CALL: the VMI call number (rom_call_id) */
    uint64_t call;    /* HIST_BY_CALL: its index in the event log's calls (`calls`, `goto call`) */
    uint64_t where;   /* HIST_RAW_WRITE: the physical address stored to */
    uint64_t since;   /* seen, not caught (HIST_RAW_SEEN, HIST_CPU_BITS without where): it
                         happened after this icount, where the value was last read */
} hist_change;

typedef struct history {
    struct machine *m;
    hist_kind kind;
    uint32_t arg;          /* pte: the linear address; gdt/idt: the entry index */
    hist_change *v;        /* the changes, the initial value first */
    size_t n, cap;
    bool oom;              /* a change could not be kept */
    bool trace_failed;     /* the store trace could not follow the value: raw writes may be missed */
    uint64_t value;        /* the value as last seen */
    uint8_t what;
    uint64_t calls;        /* VMI calls logged so far: the next call's index */
    size_t events;         /* events logged so far (calls is recounted if another path added some) */
    uint64_t looked;       /* the icount the value was last read at */
} history;

/* Start collecting on m (its CPU must be open): the value now is the initial entry. One
 * collection at a time; history_stop ends it and keeps the changes in h. */
VM_MUST_CHECK bool history_start(struct machine *m, history *h, hist_kind kind, uint32_t arg, vm_error *err);
void history_stop(history *h);
/* Look once more (at a host boundary, at the end of the run: a raw register change between
 * events is seen within one interval). */
void history_check(history *h);
void history_free(history *h);

/* Called by machine_log for each event logged while a collection runs. */
void history_on_event(history *h, const vm_event *ev);

const char *hist_kind_name(hist_kind k);

#endif

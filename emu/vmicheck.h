/* The VMI compliance checker (--check-vmi; the shell's `check`). Once the guest has called
 * Init, it reports what the guest does behind the ROM's back:
 *   pt-write          a store to a page announced by AllocatePage that neither the ROM made
 *                     (SetPxE) nor an UpdatePxE naming that entry followed
 *   dt-write          a store into a GDT, IDT or LDT loaded through SetGDT/SetIDT/SetLDT,
 *                     other than the ROM's Write*Entry
 *   raw-insn          a privileged instruction run outside the ROM where the ROM offers a call
 *                     for it (mov crN, lgdt/lidt/lldt/ltr, invlpg, clts, wbinvd, mov drN,
 *                     rdmsr/wrmsr; cli/sti/popf that change IF; hlt; iret to an outer ring)
 *   stale-tlb         a page-table change that took access away (not present, another frame,
 *                     read-only, supervisor-only) was followed by a use of that linear page
 *                     through the old TLB entry: no InvalPage/FlushTLB came between
 *   unregistered-pxe  SetPxE into a page AllocatePage never announced
 *   page-balance      AllocatePage of a page already announced, ReleasePage of one never
 *                     announced
 * Each finding has the instruction count, the EIP and what should have been used. The
 * checker only looks: the run, its event log and its record are the same with it or without
 * (its findings go to its own sink, not into the event log). With the option off the machine
 * holds no checker and nothing is hooked. Findings are reported on the straight run only:
 * running again over instructions already run (after going back in time) reports nothing,
 * while the checker gathers again what it holds about the moment (waiting stores, TLB
 * watches), so a finding that was still waiting when the run went back comes once later. */
#ifndef VMIEMU_VMICHECK_H
#define VMIEMU_VMICHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu/disasm.h"
#include "emu/evlog.h"

struct machine;

typedef enum vmicheck_kind {
    VMICHECK_PT_WRITE,
    VMICHECK_DT_WRITE,
    VMICHECK_RAW_INSN,
    VMICHECK_STALE_TLB,
    VMICHECK_UNREGISTERED_PXE,
    VMICHECK_PAGE_BALANCE,
    VMICHECK_KINDS
} vmicheck_kind;

typedef struct vmicheck_finding {
    uint64_t icount;  /* instructions retired before the offending one */
    uint32_t eip;     /* the offending instruction, or the caller of the offending call */
    vmicheck_kind kind;
    char what[200];   /* what happened */
    const char *use;  /* the call that should have been used */
} vmicheck_finding;

typedef void (*vmicheck_sink)(void *ctx, const vmicheck_finding *f);

#define VMICHECK_KEEP 10000u   /* findings kept for `check`; beyond that only counted */
#define VMICHECK_PENDING 64u   /* raw page-table stores waiting for their UpdatePxE */
#define VMICHECK_DT_PAGES 17u  /* a 64 KiB table spans 17 pages at most */

struct vmicheck_pending {
    uint64_t addr;   /* physical address of the entry stored to (4-byte aligned) */
    uint64_t icount;
    uint32_t eip;
    uint32_t old;    /* the entry before the first store */
};

/* A store seen by the write hook, which Unicorn calls before it checks the page's write
 * permission: it is a finding only once the instruction did not fault. */
struct vmicheck_store {
    uint64_t addr, value;
    uint32_t eip, old;
    int size, dt; /* dt: the table (0 GDT, 1 IDT, 2 LDT) or -1 */
    bool pt;
};
#define VMICHECK_STORES 8u /* stores of one instruction held (a rep stos counts as one) */

struct vmicheck_dt_range {
    uint64_t lo, hi; /* physical bytes [lo, hi] */
};

struct vmicheck_change {
    uint32_t vpage;  /* a linear page whose TLB entry may be stale */
    uint64_t icount;
    uint32_t eip;
    uint16_t call;   /* the call that changed the entry */
};

typedef struct vmicheck {
    uint64_t counts[VMICHECK_KINDS];
    vmicheck_finding *kept;
    size_t nkept;
    vmicheck_sink sink;
    void *sink_ctx;
    /* Descriptor tables as loaded through the ROM: 0 GDT, 1 IDT, 2 LDT. */
    struct vmicheck_dt_range dt[3][VMICHECK_DT_PAGES];
    unsigned ndt[3];
    struct vmicheck_store stores[VMICHECK_STORES];
    unsigned nstores;
    uint64_t last_dt_entry, last_dt_icount; /* the descriptor the last descriptor-table store hit */
    uint64_t stores_icount;
    struct vmicheck_pending pending[VMICHECK_PENDING];
    unsigned npending;
    /* The SetPxE in flight: its entry before the ROM's store. */
    bool pxe_valid;
    uint32_t pxe_ptr;
    uint64_t pxe_phys, pxe_old;
    /* Page-table changes that took access away, waiting for a use of their page. */
    struct vmicheck_change changes[64];
    unsigned nchanges, next_change;
    uint32_t pt_count_seen; /* the ROM's page-table count after the last AllocatePage/ReleasePage */
    size_t log_seen;        /* events in the log when the checker last looked: fewer = went back */
    uint64_t insns_seen;    /* the instruction count then: smaller = went back */
} vmicheck;

/* The short name of a kind ("pt-write"), and the kinds' names in order. */
const char *vmicheck_kind_name(vmicheck_kind k);

/* Turn the checker on for machine m (before it runs: m->check). False: out of memory. */
bool vmicheck_open(struct machine *m);
void vmicheck_close(struct machine *m);
/* A power-on (a reboot with --reboot-restarts): forget the tables and stores of the boot before;
 * the findings stay. */
void vmicheck_reset(struct machine *m);

/* The machine's feeds (each does nothing unless the guest has called Init). */
void vmicheck_event(struct machine *m, const vm_event *ev);     /* every event logged */
void vmicheck_native_entry(struct machine *m);                  /* a native call was entered */
void vmicheck_write(struct machine *m, uint64_t addr, int size, uint64_t value);
void vmicheck_insn(struct machine *m, uint32_t pc, const disasm_priv_insn *insn);
void vmicheck_msr(struct machine *m, bool write, uint32_t msr);
void vmicheck_stale(struct machine *m, uint32_t linear, uint64_t tlb_page, char access);
/* The run ended: stores still waiting for an UpdatePxE become findings. */
void vmicheck_end(struct machine *m);

/* "3 findings: pt-write 1, dt-write 0, ..." (no newline). */
size_t vmicheck_summary(const vmicheck *c, char *buf, size_t len);
/* One finding as a line of text (no newline), EIP as given (the caller adds a symbol). */
size_t vmicheck_format_text(const vmicheck_finding *f, size_t index, const char *symbol, char *buf, size_t len);
/* One finding, or the summary (f NULL), as a JSON object without newline; returns its length
 * (>= len: cut short). */
size_t vmicheck_format_json(const vmicheck *c, const vmicheck_finding *f, const char *symbol, char *buf, size_t len);
uint64_t vmicheck_total(const vmicheck *c);

#endif

/* Actions at exact instruction counts, given on the command line: --screenshot-at ICOUNT:FILE
 * and --keys-at ICOUNT:TEXT. The run stops at each count (machine_run_until), does what is due
 * and goes on, so the actions land at the same instruction in every run; a screenshot whose
 * count the run never reaches is taken when it has ended. */
#ifndef VMIEMU_SCHEDULE_H
#define VMIEMU_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

#include "emu/machine.h"
#include "frontend/panel.h"
#include "mmu/error.h"

typedef enum sched_kind { SCHED_SCREENSHOT, SCHED_KEYS } sched_kind;

typedef struct sched_action {
    uint64_t icount;
    sched_kind kind;
    const char *arg; /* the file, or the text (points into argv) */
} sched_action;

#define SCHED_MAX 64

/* Instructions between two batches of keys when the keyboard's buffer is full: the guest
 * reads its buffer from IRQ 1 well within that. */
#define SCHED_KEY_GAP 100000u

typedef struct schedule {
    sched_action v[SCHED_MAX];
    size_t n;
    size_t done;         /* actions before this one have been done (v is kept sorted by icount) */
    uint8_t keys[4096];  /* scan codes typed but not yet taken by the keyboard */
    size_t keys_len;
    uint64_t keys_at;    /* when to offer them again */
    size_t keys_total;   /* scan codes of every --keys-at: all must fit in keys at once */
    panel *panel;        /* --panel: screenshots show it beside the screen; NULL: not */
} schedule;

/* Add "ICOUNT:ARG"; false with a message naming `option` if malformed or too many. */
VM_MUST_CHECK bool sched_add(schedule *s, sched_kind kind, const char *spec, const char *option, vm_error *err);

/* The count of the next action not done yet, UINT64_MAX if none. */
uint64_t sched_next(const schedule *s);

/* Do the actions due at the machine's instruction count (all that are left once the run has
 * ended: screenshots of the end, keys dropped with a warning). false with err if one failed. */
VM_MUST_CHECK bool sched_fire(schedule *s, machine *m, vm_error *err);

/* TEXT as the scan codes (set 1, as the guest reads them through a translating controller) a
 * US keyboard sends: each character's make and break codes, shift around capitals and shifted
 * symbols; a newline is Enter, "\\n" and "\\t" in TEXT too. Returns the number of bytes (at
 * most cap) or 0 with err if a character has no key. */
size_t sched_scancodes(const char *text, uint8_t *out, size_t cap, vm_error *err);

/* Offer bytes to the keyboard now (logged and recorded, machine_host_input), whole keys at a
 * time; returns how many it took. */
size_t sched_push_keys(machine *m, const uint8_t *codes, size_t n);

#endif

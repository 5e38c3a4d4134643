/* Going back: the reverse-execution commands a debugger offers, built on snapshots and goto. */
#ifndef VMIEMU_TIMETRAVEL_H
#define VMIEMU_TIMETRAVEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmu/error.h"

struct machine;

/* Back n instructions. */
VM_MUST_CHECK bool tt_reverse_stepi(struct machine *m, uint64_t n, vm_error *err);

/* To just before the n-th VMI call of the run (0-based, as numbered in the event log), back
 * or forward: to its entry icount, the ROM entry where `break vmi` stops, for host and native
 * calls alike. */
VM_MUST_CHECK bool tt_goto_call(struct machine *m, size_t n, vm_error *err);

/* To just before the first guest marker named `name`. In a replay the record is run forward
 * to it if it has not been reached yet (to the record's end at most); a plain run is only
 * searched as far as it has run (it has no known end). */
VM_MUST_CHECK bool tt_goto_marker(struct machine *m, const char *name, vm_error *err);

/* Back to just before (the entry of) the latest VMI call entered before now. */
VM_MUST_CHECK bool tt_reverse_step_call(struct machine *m, vm_error *err);

/* Back to the latest hit before now of a breakpoint (vcpu_set_breakpoints), a VMI-call
 * breakpoint (m->vmi_breaks: just before the call) or a watchpoint (vcpu_set_watchpoints: just
 * after the write), or to the start of the recorded past if there is none (*found false). */
VM_MUST_CHECK bool tt_reverse_continue(struct machine *m, bool *found, vm_error *err);

#endif

/* Provoking an exception on purpose and checking how it was delivered.
 *
 *   fault_catch(TRAP_UD);
 *   __asm__ volatile(FAULT_BEGIN "ud2" FAULT_END ::: "memory");
 *   ok = fault.count == 1 && fault.vector == TRAP_UD && fault.eip == fault_at;
 *
 * FAULT_BEGIN records the address of the first instruction of the provoking sequence in
 * `fault_at` and the address just after it in `fault_resume`. The handler records the
 * frame in `fault` and resumes at `fault_resume` (so a fault skips the rest of the sequence;
 * a trap such as int3 already points there), with EFLAGS.TF and EFLAGS.NT cleared in the
 * frame (single-step and the #TS test would otherwise repeat). A fix-up function may instead
 * repair the cause and return true to re-run the faulting instruction (#NM: CLTS; #PF: map
 * the page). A fault while fault_resume is 0 (no sequence in progress) is reported by the
 * catch-all and fails the test. Works from ring 3 too: the handler returns there. */
#ifndef TK_FAULT_H
#define TK_FAULT_H

#include <stdbool.h>
#include <stdint.h>

#include "trap.h"

struct fault_info {
    uint32_t count; /* faults recorded since fault_reset() */
    uint32_t vector, error, eip, cs, eflags;
    uint32_t cr2;      /* #PF only: GetCR2 in the handler */
    uint32_t esp;      /* the handler's own stack pointer */
    uint32_t user_esp; /* from an outer ring: the interrupted stack pointer */
};

extern volatile struct fault_info fault;
extern volatile uint32_t fault_at, fault_resume;

#define FAULT_BEGIN "movl $9001f, fault_at\n\tmovl $9002f, fault_resume\n9001:\n\t"
#define FAULT_END "\n9002:\n\t"

/* Install the recording handler for `vector` (gate DPL 0). */
void fault_catch(unsigned vector);

/* Called first by the handler; true = retry the instruction (the fault is still counted). */
typedef bool (*fault_fixup)(struct trap_frame *f);
void fault_set_fixup(fault_fixup fn);

/* Forget the last fault and the sequence addresses. */
void fault_reset(void);

#endif

/* What-if replay: one VMI call's outcome changed (its result, or for SetAlarm when it fires),
 * and the run goes on live from there: the record's later inputs and checks no longer apply.
 *
 *   call N result=V   the registers the call returns in hold V: EDX:EAX for a call with a
 *                     64-bit result (GetCycleFrequency, GetCycleCounter, RDTSC, RDMSR,
 *                     GetWallclockTime, ...), EAX for the others (CPUID: EAX only). A call
 *                     without a result (SetAlarm, SetPxE, ...) refuses it.
 *   call N delay=D    SetAlarm only: the alarm is armed D cycles later than the guest asked.
 *
 * N numbers calls as `calls` and `goto call N` do (0-based). Both may be given together. */
#ifndef VMIEMU_WHATIF_H
#define VMIEMU_WHATIF_H

#include <stdbool.h>
#include <stdint.h>

#include "emu/evlog.h"
#include "mmu/error.h"

struct machine;

typedef struct whatif {
    uint64_t call;         /* the call's index */
    bool set_result;
    uint64_t result;
    bool set_delay;
    uint64_t delay;        /* cycles */
    uint64_t applied;      /* times it was applied (again after going back before it) */
    uint16_t callnum;      /* the call it was applied to, and its real result */
    uint64_t real_result;
    char refused[200];     /* why the call reached could not take the override (then nothing changed) */
    size_t events;         /* the event log's length when calls was last counted */
    uint64_t calls;        /* VMI calls logged so far */
} whatif;

/* Parse "call N result=V [delay=D]" (numbers decimal or 0x hex); false with a message naming
 * what is wrong. */
VM_MUST_CHECK bool whatif_parse(const char *spec, whatif *w, vm_error *err);

/* Can the override apply to a call with this number (result= needs a result, delay= SetAlarm,
 * a 32-bit result a value that fits)? false with a message. */
VM_MUST_CHECK bool whatif_fits(const whatif *w, unsigned num, vm_error *err);

/* Called for each VMI call just before it is logged (its registers are the ones after it):
 * the override's call gets its outcome changed (ev too), and a replay goes live. */
void whatif_on_call(struct machine *m, vm_event *ev);

/* "result=0x... (was 0x...)" of the override as applied, for messages. */
void whatif_describe(const whatif *w, char *buf, size_t len);

#endif

/* The VMI alarms (SetAlarm/CancelAlarm): one per counter, one-shot or periodic, expiring at an
 * absolute cycle count and wired to IRQ 0 or to the local APIC timer vector. Pure bookkeeping
 * on the cycle count: the machine asks when the next one is due and fires them at that count. */
#ifndef VMIEMU_ALARM_H
#define VMIEMU_ALARM_H

#include <stdbool.h>
#include <stdint.h>

#include "emu/state_ser.h"
#include "mmu/error.h"

#define ALARM_COUNTER_MASK 0xFFu
#define ALARM_PERIODIC 0x100u
#define ALARM_WIRE_APIC 0x10000u
#define ALARM_COUNTERS 2 /* real and available; stolen time cannot have an alarm */

typedef struct vmi_alarm {
    bool armed;
    uint32_t flags;
    uint64_t expiry; /* absolute, in cycles */
    uint64_t period; /* cycles; 0 for one-shot */
    uint64_t fired;  /* how many times it went off */
} vmi_alarm;

typedef struct alarms {
    vmi_alarm a[ALARM_COUNTERS];
} alarms;

void alarms_init(alarms *as);

/* SetAlarm: false (and nothing armed) for an unknown counter or wiring bits. A periodic alarm
 * with period 0 fires once, like a one-shot. An expiry in the past fires at once. */
VM_MUST_CHECK bool alarms_set(alarms *as, uint32_t flags, uint64_t expiry, uint64_t period);

/* CancelAlarm: returns whether an alarm was pending on that counter. */
bool alarms_cancel(alarms *as, uint32_t flags);

/* The earliest expiry of any armed alarm, UINT64_MAX if none. */
uint64_t alarms_next(const alarms *as);

/* Fire every alarm due at `now`: calls fire(ctx, flags) once per expiry (a periodic alarm that
 * fell behind fires once and is re-armed at its next period after `now`, as a lost tick). */
void alarms_fire_due(alarms *as, uint64_t now, void (*fire)(void *ctx, uint32_t flags), void *ctx);

/* Write the state field by field (emu/state_ser.h). */
void alarms_serialise(const alarms *as, state_writer *w);

#endif

#include "emu/alarm.h"

#include <string.h>

void alarms_init(alarms *as) { memset(as, 0, sizeof *as); }

static bool flags_ok(uint32_t flags)
{
    return (flags & ALARM_COUNTER_MASK) < ALARM_COUNTERS &&
           (flags & ~(ALARM_COUNTER_MASK | ALARM_PERIODIC | ALARM_WIRE_APIC)) == 0;
}

bool alarms_set(alarms *as, uint32_t flags, uint64_t expiry, uint64_t period)
{
    if (!flags_ok(flags))
        return false;
    vmi_alarm *a = &as->a[flags & ALARM_COUNTER_MASK];
    a->armed = true;
    a->flags = flags;
    a->expiry = expiry;
    a->period = (flags & ALARM_PERIODIC) ? period : 0; /* periodic with period 0: fires once */
    return true;
}

bool alarms_cancel(alarms *as, uint32_t flags)
{
    uint32_t counter = flags & ALARM_COUNTER_MASK;
    if (counter >= ALARM_COUNTERS)
        return false;
    bool was = as->a[counter].armed;
    as->a[counter].armed = false;
    return was;
}

uint64_t alarms_next(const alarms *as)
{
    uint64_t next = UINT64_MAX;
    for (int i = 0; i < ALARM_COUNTERS; i++)
        if (as->a[i].armed && as->a[i].expiry < next)
            next = as->a[i].expiry;
    return next;
}

void alarms_fire_due(alarms *as, uint64_t now, void (*fire)(void *ctx, uint32_t flags), void *ctx)
{
    for (int i = 0; i < ALARM_COUNTERS; i++) {
        vmi_alarm *a = &as->a[i];
        if (!a->armed || a->expiry > now)
            continue;
        a->fired++;
        if (a->period) {
            uint64_t steps = (now - a->expiry) / a->period + 1;
            if (a->period > (UINT64_MAX - a->expiry) / steps)
                a->armed = false; /* the next expiry is past the end of time */
            else
                a->expiry += steps * a->period;
        } else {
            a->armed = false;
        }
        fire(ctx, a->flags);
    }
}

void alarms_serialise(const alarms *as, state_writer *w)
{
    for (int i = 0; i < ALARM_COUNTERS; i++) {
        const vmi_alarm *a = &as->a[i];
        state_put_bool(w, a->armed);
        state_put_u32(w, a->flags);
        state_put_u64(w, a->expiry);
        state_put_u64(w, a->period);
        state_put_u64(w, a->fired);
    }
}

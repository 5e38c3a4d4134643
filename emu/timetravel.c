#include "emu/timetravel.h"

#include <string.h>

#include "emu/machine.h"
#include "emu/recplay.h"
#include "emu/snapshot.h"

bool tt_reverse_stepi(machine *m, uint64_t n, vm_error *err)
{
    uint64_t now = machine_insns(m);
    if (n > now)
        return vm_fail(err, VM_EINVAL, "cannot go back %llu instructions: only %llu have run", (unsigned long long)n,
                       (unsigned long long)now);
    return snap_goto(m, now - n, err);
}

/* The n-th VMI call event of the log (found through the log's index by kind). */
static bool nth_call(const machine *m, size_t n, vm_event *ev)
{
    size_t i;
    return evlog_find_kind(&m->log, EV_VMI_CALL, n, &i) && evlog_get(&m->log, i, ev);
}

#define GOTO_CALL_STRIDE 1000000 /* instructions run forward at a time looking for a call */

bool tt_goto_call(machine *m, size_t n, vm_error *err)
{
    vm_event ev;
    bool found = nth_call(m, n, &ev);
    /* Not in the log yet: run forward until it is (the goto below then lands exactly). */
    while (!found && m->end == END_RUNNING) {
        machine_run_until(m, machine_insns(m) + GOTO_CALL_STRIDE);
        found = nth_call(m, n, &ev);
    }
    if (!found)
        return vm_fail(err, VM_EINVAL, "the run ended before VMI call %zu", n);
    return snap_goto(m, ev.icount, err); /* its entry, where `break vmi` stops: before the call */
}

/* The first marker event named `name` in the log. */
static bool first_marker(const machine *m, const char *name, vm_event *ev)
{
    size_t i;
    char got[EV_MARKER_NAME_MAX + 1];
    for (size_t k = 0; evlog_find_kind(&m->log, EV_MARKER, k, &i); k++)
        if (evlog_get(&m->log, i, ev) && ev_marker_name(ev, got) == strlen(name) && !strcmp(got, name))
            return true;
    return false;
}

bool tt_goto_marker(machine *m, const char *name, vm_error *err)
{
    vm_event ev;
    bool found = strlen(name) <= EV_MARKER_NAME_MAX && first_marker(m, name, &ev);
    bool replay = recplay_replaying(m) && !recplay_live(m);
    /* A replay has a known end, the record's: run forward to the marker as `goto call N` does. */
    while (!found && replay && m->end == END_RUNNING) {
        uint64_t before = machine_insns(m);
        machine_run_until(m, before + GOTO_CALL_STRIDE);
        found = first_marker(m, name, &ev);
        if (machine_insns(m) == before)
            break; /* stopped where it stood (a breakpoint): the marker is not reached */
    }
    if (!found)
        return vm_fail(err, VM_EINVAL,
                       replay ? "no marker '%s' in the record (calls lists the markers)"
                              : "no marker '%s' in the run so far (not a replay: the run is not run forward to "
                                "look for it; continue first; calls lists the markers)",
                       name);
    return snap_goto(m, ev.icount, err);
}

bool tt_reverse_step_call(machine *m, vm_error *err)
{
    uint64_t now = machine_insns(m);
    /* The last call entered before now: among those logged by now (a native call whose slot
     * ended here counts), skipping any entered at now (a host call just made here). */
    size_t calls = evlog_count_kind(&m->log, EV_VMI_CALL, evlog_find_icount(&m->log, now + 1));
    vm_event ev;
    while (calls > 0 && nth_call(m, calls - 1, &ev)) {
        if (ev.icount < now)
            return snap_goto(m, ev.icount, err);
        calls--;
    }
    return vm_fail(err, VM_EINVAL, "no VMI call before instruction %llu", (unsigned long long)now);
}

/* Run [from, to) with breakpoints, returning the instruction count of the last hit (or
 * UINT64_MAX). The machine is left at `to` or where the guest ended. */
static uint64_t last_hit_between(machine *m, uint64_t from, uint64_t to, vm_error *err)
{
    uint64_t last = UINT64_MAX;
    if (!snap_goto(m, from, err))
        return UINT64_MAX;
    if (from < to && vcpu_is_breakpoint(m->cpu, vcpu_get(m->cpu, CPU_EIP)))
        last = from; /* the run arrived at a breakpoint exactly here */
    m->vmi_break_skip = UINT64_MAX; /* a VMI-call breakpoint exactly here stops the run below */
    while (machine_insns(m) < to) {
        machine_end e = machine_run_until(m, to);
        bool hit = m->break_hit || m->watch_hit;
        if (hit && machine_insns(m) < to)
            last = machine_insns(m);
        if (e != END_RUNNING || !hit)
            break;
    }
    return last;
}

bool tt_reverse_continue(machine *m, bool *found, vm_error *err)
{
    uint64_t now = machine_insns(m);
    *found = false;
    if (snap_count(m) == 0)
        return vm_fail(err, VM_EINVAL, "snapshots are off (use --snap-every)");
    /* Search the snapshot intervals backwards from the present: the first interval with a hit
     * holds the latest one. Snapshots taken while searching are re-taken identically. */
    uint64_t hi = now;
    for (;;) {
        size_t k = snap_count(m);
        while (k > 0 && snap_insns(m, k - 1) >= hi)
            k--;
        uint64_t lo = k > 0 ? snap_insns(m, k - 1) : 0;
        if (k == 0 && hi == 0)
            break;
        uint64_t hit = last_hit_between(m, lo, hi, err);
        if (err && err->code)
            return false;
        if (hit != UINT64_MAX) {
            *found = true;
            return snap_goto(m, hit, err);
        }
        if (lo == 0)
            break;
        hi = lo;
    }
    return snap_goto(m, snap_count(m) ? snap_insns(m, 0) : 0, err);
}

#include "emu/debug.h"

#include <string.h>

#include "emu/snapshot.h"
#include "emu/timetravel.h"

void dbg_init(dbg *d, machine *m)
{
    memset(d, 0, sizeof *d);
    d->m = m;
    d->next_id = 1;
}

void dbg_interrupt(dbg *d)
{
    d->interrupt = 1;
    machine_interrupt(d->m); /* the run pauses at its next host boundary */
}

uint64_t dbg_icount(dbg *d) { return machine_insns(d->m); }

const char *dbg_stop_name(dbg_stop s)
{
    static const char *const names[] = {"stopped", "breakpoint", "watchpoint", "ended", "start of history",
                                        "interrupted", "failed"};
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

/* Hand every point of each kind to the machine and the CPU. */
static bool apply(dbg *d, vm_error *err)
{
    uint32_t bps[VCPU_MAX_BREAKPOINTS];
    vcpu_watch ws[VCPU_MAX_WATCHPOINTS];
    int nb = 0, nw = 0;
    bool before[MACHINE_VMI_BREAKS];
    memcpy(before, d->m->vmi_breaks, sizeof before);
    memset(d->m->vmi_breaks, 0, sizeof d->m->vmi_breaks);
    for (int i = 0; i < DBG_MAX_POINTS; i++) {
        const dbg_point *p = &d->points[i];
        if (!p->id)
            continue;
        if (p->kind == DBG_BREAK && nb < VCPU_MAX_BREAKPOINTS)
            bps[nb++] = p->addr;
        else if (p->kind == DBG_WATCH && nw < VCPU_MAX_WATCHPOINTS)
            ws[nw++] = (vcpu_watch){p->phys, p->len, p->access};
        else if (p->kind == DBG_VMI_BREAK)
            d->m->vmi_breaks[p->call] = true;
    }
    machine_rom_breaks_changed(d->m, before);
    if (!vcpu_set_breakpoints(d->m->cpu, bps, nb) || !vcpu_set_watchpoints(d->m->cpu, ws, nw))
        return vm_fail(err, VM_EENGINE, "the CPU refused the breakpoints");
    return true;
}

static int add(dbg *d, dbg_point p, vm_error *err)
{
    int count[3] = {0};
    for (int i = 0; i < DBG_MAX_POINTS; i++)
        if (d->points[i].id)
            count[d->points[i].kind]++;
    if ((p.kind == DBG_BREAK && count[DBG_BREAK] >= VCPU_MAX_BREAKPOINTS) ||
        (p.kind == DBG_WATCH && count[DBG_WATCH] >= VCPU_MAX_WATCHPOINTS)) {
        vm_fail(err, VM_EINVAL, "too many %s", p.kind == DBG_BREAK ? "breakpoints" : "watchpoints");
        return 0;
    }
    for (int i = 0; i < DBG_MAX_POINTS; i++)
        if (!d->points[i].id) {
            p.id = d->next_id++;
            d->points[i] = p;
            return apply(d, err) ? p.id : 0;
        }
    vm_fail(err, VM_EINVAL, "too many breakpoints and watchpoints (%d)", DBG_MAX_POINTS);
    return 0;
}

int dbg_break(dbg *d, uint32_t linear, vm_error *err)
{
    return add(d, (dbg_point){.kind = DBG_BREAK, .addr = linear}, err);
}

int dbg_watch(dbg *d, uint32_t linear, uint32_t len, bool physical, vm_error *err)
{
    return dbg_watch_access(d, linear, len, physical, 'w', err);
}

int dbg_watch_access(dbg *d, uint32_t linear, uint32_t len, bool physical, char access, vm_error *err)
{
    uint64_t phys = linear;
    if (len == 0 || len > 4096) {
        vm_fail(err, VM_EINVAL, "a watchpoint covers 1 to 4096 bytes");
        return 0;
    }
    if (!physical && !vcpu_translate(d->m->cpu, linear, false, &phys)) {
        vm_fail(err, VM_EINVAL, "0x%08x is not mapped: watch a physical address instead", linear);
        return 0;
    }
    if (access != 'w' && access != 'r' && access != 'a') {
        vm_fail(err, VM_EINVAL, "a watchpoint watches reads, writes or both");
        return 0;
    }
    return add(d, (dbg_point){.kind = DBG_WATCH, .addr = linear, .phys = phys, .len = len, .access = access}, err);
}

int dbg_vmi_break(dbg *d, uint16_t call, vm_error *err)
{
    if (call >= MACHINE_VMI_BREAKS) {
        vm_fail(err, VM_EINVAL, "no VMI call numbered %u", call);
        return 0;
    }
    return add(d, (dbg_point){.kind = DBG_VMI_BREAK, .call = call}, err);
}

bool dbg_delete(dbg *d, int id)
{
    bool found = false;
    for (int i = 0; i < DBG_MAX_POINTS; i++)
        if (d->points[i].id && (id == 0 || d->points[i].id == id)) {
            d->points[i].id = 0;
            found = true;
        }
    vm_error err = {0};
    apply(d, &err);
    return found || id == 0;
}

/* Which point the machine stopped at, counting the hit. */
static dbg_stop classify(dbg *d)
{
    machine *m = d->m;
    d->last_hit = NULL;
    if (m->end != END_RUNNING)
        return DBG_ENDED;
    if (!m->break_hit && !m->watch_hit)
        return DBG_STOPPED;
    uint32_t eip = vcpu_get(m->cpu, CPU_EIP);
    uint16_t call = 0; /* a VMI-call breakpoint stops at the ROM entry of its call */
    bool at_call = m->break_hit && m->vmi_break_skip == machine_insns(m) && machine_rom_entry_here(m, &call);
    for (int i = 0; i < DBG_MAX_POINTS; i++) {
        dbg_point *p = &d->points[i];
        bool at = p->id && ((m->watch_hit && p->kind == DBG_WATCH && m->watch.addr >= p->phys &&
                             m->watch.addr < p->phys + p->len && (p->access == 'a' || p->access == m->watch.access)) ||
                            (m->break_hit && p->kind == DBG_BREAK && p->addr == eip) ||
                            (at_call && p->kind == DBG_VMI_BREAK && p->call == call));
        if (at) {
            p->hits++;
            d->last_hit = p;
            break;
        }
    }
    return m->watch_hit ? DBG_WATCHPOINT : DBG_BREAKPOINT;
}

dbg_stop dbg_stepi(dbg *d, uint64_t n, vm_error *err)
{
    (void)err;
    machine_run_until(d->m, machine_insns(d->m) + n);
    return classify(d);
}

dbg_stop dbg_run(dbg *d, vm_error *err)
{
    (void)err;
    machine_run(d->m);
    return classify(d);
}

dbg_stop dbg_run_on(dbg *d, vm_error *err)
{
    (void)err;
    machine_run_on(d->m);
    return classify(d);
}

dbg_stop dbg_continue(dbg *d, vm_error *err)
{
    d->interrupt = 0;
    machine_clear_interrupt(d->m);
    for (bool first = true;; first = false) {
        dbg_stop s = first ? dbg_run(d, err) : dbg_run_on(d, err);
        if (s != DBG_STOPPED)
            return s;
        if (d->interrupt) {
            d->interrupt = 0;
            machine_clear_interrupt(d->m);
            return DBG_INTERRUPTED;
        }
    }
}

dbg_stop dbg_reverse_stepi(dbg *d, uint64_t n, vm_error *err)
{
    if (!tt_reverse_stepi(d->m, n, err))
        return DBG_FAILED;
    return DBG_STOPPED;
}

dbg_stop dbg_reverse_continue(dbg *d, vm_error *err)
{
    bool found;
    if (!tt_reverse_continue(d->m, &found, err))
        return DBG_FAILED;
    if (!found)
        return DBG_START;
    /* Report which point it was, as a forward stop would. */
    d->m->break_hit = !d->m->watch_hit;
    dbg_stop s = classify(d);
    d->m->break_hit = d->m->watch_hit = false;
    return s == DBG_STOPPED ? DBG_BREAKPOINT : s;
}

dbg_stop dbg_goto(dbg *d, uint64_t icount, vm_error *err)
{
    return snap_goto(d->m, icount, err) ? DBG_STOPPED : DBG_FAILED;
}

dbg_stop dbg_goto_call(dbg *d, size_t n, vm_error *err)
{
    return tt_goto_call(d->m, n, err) ? DBG_STOPPED : DBG_FAILED;
}

dbg_stop dbg_goto_marker(dbg *d, const char *name, vm_error *err)
{
    return tt_goto_marker(d->m, name, err) ? DBG_STOPPED : DBG_FAILED;
}

uint32_t dbg_reg(dbg *d, cpu_reg r) { return vcpu_get(d->m->cpu, r); }
bool dbg_set_reg(dbg *d, cpu_reg r, uint32_t value) { return vcpu_set(d->m->cpu, r, value); }
bool dbg_read(dbg *d, uint32_t linear, void *buf, uint32_t len) { return vcpu_read_linear(d->m->cpu, linear, buf, len); }
/* Does [linear, linear+len) touch read-only memory: the ROM or the BIOS hole above it,
 * [PHYS_ROM_BASE, PHYS_HOLE_END), as the CPU maps them? Checked page by page. */
static bool hits_read_only(dbg *d, uint32_t linear, uint32_t len)
{
    for (uint64_t a = linear, end = (uint64_t)linear + len; a < end;) {
        uint64_t next = (a | 0xFFF) + 1, stop = next < end ? next : end, phys;
        if (vcpu_translate(d->m->cpu, (uint32_t)a, false, &phys) && phys < PHYS_HOLE_END &&
            phys + (stop - a) > PHYS_ROM_BASE)
            return true;
        a = next;
    }
    return false;
}

bool dbg_write(dbg *d, uint32_t linear, const void *buf, uint32_t len)
{
    /* The debugger writes where the guest may: a guest write to the ROM ends the run, so a
     * debugger's write there is refused rather than quietly changing the ROM. */
    if (hits_read_only(d, linear, len))
        return false;
    bool ok = vcpu_write_linear(d->m->cpu, linear, buf, len);
    if (ok)
        vcpu_flush_code(d->m->cpu); /* the write may have changed code (e.g. a patched instruction) */
    return ok;
}

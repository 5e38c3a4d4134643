#include "emu/recplay.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu/machine.h"

/* REC_CALL payload: the event, then the general registers, EIP and EFLAGS after it (segment,
 * control and debug registers are covered by the state digest at each snapshot), then the
 * interrupt-flag count (below). The entry's icount is where the call was logged
 * (ev_logged_at); the payload's insns says how many instructions earlier it was entered. A
 * REC_MARKER's payload is laid out the same. */
#define CALL_BYTES (2 + 1 + 1 + 4 + 5 * 4 + 8 + 3 * 4 + 4)
#define CALL_REGS 10 /* CPU_EAX .. CPU_EFLAGS */
#define REGS_BYTES (CALL_REGS * 4)
#define CALL_IFC_AT (CALL_BYTES + REGS_BYTES)
/* The interrupt-flag calls (rom_call_is_irqflag: EnableInterrupts, DisableInterrupts,
 * GetInterruptMask, SetInterruptMask) are not in the record: each follows from the machine
 * state at its entry, which a replay reproduces, so it makes the same calls by itself. They
 * are still logged (and numbered among the calls, as the event log numbers them); recording
 * one costs a counter. What a replay needs is to notice when it made a different number of
 * them, so every entry it checks (REC_CALL, REC_MARKER, REC_HASH, REC_END) carries how many
 * were logged since the entry before that carries the count: 8 bytes, two words of which the
 * high one is always 0. A count per entry rather than a running total because the delta coder
 * (emu/record.h) codes each word against the same word of the previous entry of the kind: a
 * running total changes at every entry with any interrupt-flag call before it (a mask bit and
 * a varint), a count only when the pattern between calls changes (a loop of calls with none
 * between gives 0, 0, 0; a spinlock's save, disable and restore 3, 3, 3), which is then free. */
#define IFC_BYTES 8
#define HASH_IFC_AT (8 + REGS_BYTES) /* REC_HASH: the digest, the registers, the count */

typedef struct recplay {
    rec_writer *writer;      /* recording */
    rec_reader *reader;      /* replaying */
    char *path;
    bool ahead;              /* `next` holds the next expected entry */
    rec_entry next;
    bool record_over;        /* the record ended (cleanly or cut short): no more checks */
    char note[600];          /* why checking stopped early, if it did */
    char report[2048];       /* the divergence, if any */
    uint64_t checked;
    uint64_t calls;          /* replay: VMI calls checked (REC_CALL entries: not the interrupt-flag calls) */
    uint64_t ifcalls;        /* interrupt-flag calls logged so far (not in the record, counted) */
    uint64_t if_written;     /* recording: ifcalls when the last entry carrying the count was written */
    uint64_t if_checked;     /* replay: ifcalls at the last entry carrying the count checked */
    bool injecting;          /* the input being logged comes from the record */
    bool diverged;           /* the replay diverged (report holds where), even if it went back since */
    bool at_stop;            /* the replay ended the run where the recording was stopped */
    bool bad_file;           /* the record is corrupt, or goes on after its end entry (sticky,
                                like diverged): the replay checked less than a run */
    bool cut;                /* the record ends without an end entry (a killed recording): the
                                replay stopped where it ends (sticky) */
    uint64_t cut_at;         /* the instruction count the replay stopped at */
    bool live;               /* a what-if override changed a call: the run left the record there */
    uint64_t live_call;      /* that call's index */
    uint64_t live_checked;   /* checks passed before it */
    char live_why[300];      /* what the override did */
} recplay;

/* REC_END payload: the machine_end and the exit port's value, the interrupt-flag count, then
 * (for a run stopped before the guest ended, or by an emulator error) the message saying why,
 * without its NUL. */
#define END_IFC_AT 8
#define END_BYTES (END_IFC_AT + IFC_BYTES)

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static uint32_t get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint64_t get64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static void put_regs(machine *m, uint8_t *p)
{
    uint32_t regs[CALL_REGS];
    vcpu_get_first(m->cpu, regs, CALL_REGS);
    memcpy(p, regs, sizeof regs);
}

/* The payload of a call or marker ev, logged after ifc interrupt-flag calls since the entry before. */
static uint16_t encode_call(machine *m, const vm_event *ev, uint64_t ifc, uint8_t *p)
{
    memcpy(p, &ev->num, 2);
    p[2] = ev->nargs;
    p[3] = ev->failed;
    put32(p + 4, ev->eip);
    for (int i = 0; i < 5; i++)
        put32(p + 8 + 4 * i, ev->args[i]);
    memcpy(p + 28, &ev->result, 8);
    for (int i = 0; i < 3; i++)
        put32(p + 36 + 4 * i, ev->extra[i]);
    put32(p + 48, ev->insns);
    put_regs(m, p + CALL_BYTES);
    put64(p + CALL_IFC_AT, ifc);
    return CALL_IFC_AT + IFC_BYTES;
}

static void decode_call(const rec_entry *e, vm_event *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->kind = e->kind == REC_MARKER ? EV_MARKER : EV_VMI_CALL;
    memcpy(&ev->num, e->payload, 2);
    ev->nargs = e->payload[2];
    ev->failed = e->payload[3];
    ev->eip = get32(e->payload + 4);
    for (int i = 0; i < 5; i++)
        ev->args[i] = get32(e->payload + 8 + 4 * i);
    memcpy(&ev->result, e->payload + 28, 8);
    for (int i = 0; i < 3; i++)
        ev->extra[i] = get32(e->payload + 36 + 4 * i);
    ev->insns = get32(e->payload + 48);
    ev->icount = e->icount - (ev->insns <= e->icount ? ev->insns : e->icount);
}

bool recplay_decode_event(const rec_entry *e, vm_event *ev)
{
    if ((e->kind != REC_CALL && e->kind != REC_MARKER) || e->len < CALL_BYTES)
        return false;
    decode_call(e, ev);
    return true;
}

uint64_t recplay_entry_ifcalls(const rec_entry *e)
{
    size_t at = e->kind == REC_CALL || e->kind == REC_MARKER ? CALL_IFC_AT : e->kind == REC_HASH ? HASH_IFC_AT
              : e->kind == REC_END ? END_IFC_AT : REC_MAX_PAYLOAD;
    return at + IFC_BYTES <= e->len ? get64(e->payload + at) : 0;
}

static void append_entry(machine *m, const rec_entry *e)
{
    vm_error err = {0};
    if (!rec_append(m->recplay->writer, e, &err))
        machine_end_run(m, END_ERROR, "recording failed: %s", err.msg);
}

static void append(machine *m, uint8_t kind, uint64_t icount, const uint8_t *payload, uint16_t len)
{
    rec_entry e = {.kind = kind, .icount = icount, .len = len};
    memcpy(e.payload, payload, len);
    append_entry(m, &e);
}

/* The next entry of the record, skipping nothing; false once the record is over. */
static bool peek(machine *m, rec_entry **e)
{
    recplay *rp = m->recplay;
    if (rp->record_over)
        return false;
    if (!rp->ahead) {
        vm_error err = {0};
        int r = rec_next(rp->reader, &rp->next, &err);
        if (r <= 0) {
            rp->record_over = true;
            rec_position at = rec_reader_position(rp->reader);
            if (r < 0 && !at.truncated) {
                rp->bad_file = true;
                machine_end_run(m, END_ERROR, "replay stopped: %s", err.msg);
                return false;
            }
            /* A whole record ends with its end entry, read before this: the recording was killed
             * (or its file cut). Nothing after its last entry can be checked, so the replay stops
             * here, at once: this is found just after the last entry was consumed. */
            rp->cut = true;
            rp->cut_at = machine_insns(m);
            if (r == 0)
                snprintf(rp->note, sizeof rp->note,
                         "%s ends after %llu entries without an end entry (the recording was cut short)", rp->path,
                         (unsigned long long)at.entries);
            else
                snprintf(rp->note, sizeof rp->note, "%s", err.msg);
            machine_end_run(m, END_STOPPED, "the record ends here (cut short: the recording did not finish)");
            return false;
        }
        rp->ahead = true;
    }
    *e = &rp->next;
    return true;
}

static void describe_call(const vm_event *ev, uint64_t index, char *buf, size_t len)
{
    if (ev)
        ev_format_text(ev, (size_t)index, buf, len);
    else
        snprintf(buf, len, "(none)");
}

static const char *kind_name(uint8_t k)
{
    return k == REC_CALL ? "a VMI call" : k == REC_HASH ? "a state digest" : k == REC_END ? "the end"
         : k == REC_MARKER ? "a marker" : "an input";
}

/* Stop the run: the replay differs. `what` says how; registers are compared if recorded. */
static void diverge(machine *m, const rec_entry *want, const char *what, const char *expected, const char *actual,
                    const uint8_t *want_regs)
{
    recplay *rp = m->recplay;
    int n = snprintf(rp->report, sizeof rp->report,
                     "replay diverged at icount %llu, eip 0x%08x: %s\n  expected: %s\n  actual:   %s\n",
                     (unsigned long long)machine_insns(m), vcpu_get(m->cpu, CPU_EIP), what, expected, actual);
    for (int r = 0; want_regs && r < CALL_REGS && n > 0 && (size_t)n < sizeof rp->report; r++) {
        uint32_t w = get32(want_regs + 4 * r), a = vcpu_get(m->cpu, (cpu_reg)r);
        if (w != a)
            n += snprintf(rp->report + n, sizeof rp->report - (size_t)n, "  %-6s expected 0x%08x, actual 0x%08x\n",
                          vcpu_reg_names[r], w, a);
    }
    (void)want;
    rp->diverged = true;
    machine_end_run(m, END_DIVERGED, "replay diverged at icount %llu (%s)", (unsigned long long)machine_insns(m), what);
}

/* What differs between a recorded call and the one made, field by field. */
typedef struct payload_field {
    const char *name;
    size_t at, size;
} payload_field;

static void call_differences(const rec_entry *e, const vm_event *ev, const uint8_t *mine, char *buf, size_t len)
{
    static const payload_field call[] = {
        {"the call number", 0, 2}, {"the argument count or failure flag", 2, 2}, {"the caller's eip", 4, 4},
        {"the arguments", 8, 20}, {"the result", 28, 8}, {"the extra values", 36, 12},
        {"the instructions its slot ran", 48, 4}, {"the registers after it", CALL_BYTES, REGS_BYTES},
        {"the interrupt-flag calls before it", CALL_IFC_AT, IFC_BYTES}, {NULL, 0, 0}};
    size_t n = (size_t)snprintf(buf, len, "%s", e->icount != ev_logged_at(ev) ? "the icount" : "");
    for (size_t i = 0; call[i].name && n < len; i++)
        if (call[i].at + call[i].size <= e->len && memcmp(e->payload + call[i].at, mine + call[i].at, call[i].size))
            n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? ", " : "", call[i].name);
}

/* The entry e matches everything but its interrupt-flag count want: the replay made a
 * different number of those calls before `where` than the recording did. */
static void diverge_ifcalls(machine *m, const rec_entry *e, uint64_t want, const char *where)
{
    recplay *rp = m->recplay;
    char what[300], expected[160], actual[160];
    snprintf(what, sizeof what,
             "the number of interrupt-flag calls (EnableInterrupts, DisableInterrupts, GetInterruptMask, "
             "SetInterruptMask: counted, not recorded) before %s differs", where);
    snprintf(expected, sizeof expected, "%llu interrupt-flag calls up to here (%llu since the check before)",
             (unsigned long long)(rp->if_checked + want), (unsigned long long)want);
    snprintf(actual, sizeof actual, "%llu interrupt-flag calls up to here (%llu since the check before)",
             (unsigned long long)rp->ifcalls, (unsigned long long)(rp->ifcalls - rp->if_checked));
    diverge(m, e, what, expected, actual, NULL);
}

static bool is_stop_point(const rec_entry *e);

/* The run was planned while a call was the next entry, so without a bound from the record: if
 * an input or the recording's stop comes next, the machine must plan again to stop exactly at
 * its instruction count (a long stretch without timer events or snapshots would run past it). */
static void replan_if_input_next(machine *m)
{
    rec_entry *e;
    if (peek(m, &e) && (e->kind == REC_INPUT || is_stop_point(e)))
        vcpu_request_replan(m->cpu);
}

static void check_call(machine *m, const vm_event *ev)
{
    recplay *rp = m->recplay;
    rec_entry *e;
    if (!peek(m, &e))
        return;
    char expected[400], actual[400];
    uint64_t index = rp->calls + rp->ifcalls; /* the event log's number: interrupt-flag calls count */
    describe_call(ev, index, actual, sizeof actual);
    bool marker = ev->kind == EV_MARKER;
    uint8_t kind = marker ? REC_MARKER : REC_CALL;
    if (e->kind != kind) {
        snprintf(expected, sizeof expected, "%s at icount %llu", kind_name(e->kind), (unsigned long long)e->icount);
        diverge(m, e, marker ? "a marker the record does not have" : "a VMI call the record does not have", expected,
                actual, NULL);
        return;
    }
    vm_event want;
    decode_call(e, &want);
    uint8_t mine[REC_MAX_PAYLOAD] = {0};
    uint16_t len = encode_call(m, ev, rp->ifcalls - rp->if_checked, mine);
    rp->ahead = false;
    if (e->icount == ev_logged_at(ev) && e->len == len && memcmp(e->payload, mine, len) == 0) {
        rp->checked++;
        rp->calls += !marker;
        rp->if_checked = rp->ifcalls;
        replan_if_input_next(m);
        return;
    }
    char what[300], diff[200];
    if (e->icount == ev_logged_at(ev) && e->len == len && memcmp(e->payload, mine, CALL_IFC_AT) == 0) {
        char where[40];
        if (marker)
            snprintf(where, sizeof where, "a marker");
        else
            snprintf(where, sizeof where, "VMI call #%llu", (unsigned long long)index);
        diverge_ifcalls(m, e, recplay_entry_ifcalls(e), where);
        return;
    }
    describe_call(&want, index, expected, sizeof expected);
    call_differences(e, ev, mine, diff, sizeof diff);
    if (marker)
        snprintf(what, sizeof what, "a marker differs (%s)", diff);
    else
        snprintf(what, sizeof what, "VMI call #%llu differs (%s)", (unsigned long long)index, diff);
    diverge(m, e, what, expected, actual,
            e->kind == REC_CALL && e->len >= CALL_BYTES + REGS_BYTES ? e->payload + CALL_BYTES : NULL);
}

bool recplay_replaying(const machine *m) { return m->recplay && m->recplay->reader && !m->recplay->live; }

void recplay_go_live(machine *m, uint64_t call, const char *why)
{
    recplay *rp = m->recplay;
    if (!recplay_replaying(m))
        return;
    rp->live = true;
    rp->live_call = call;
    rp->live_checked = rp->checked;
    snprintf(rp->live_why, sizeof rp->live_why, "%s", why);
}

bool recplay_live(const machine *m) { return m->recplay && m->recplay->live; }

/* A recorded end that was not the guest's (the user stopped the recording, or the emulator
 * failed): the replay stops there too, and has checked everything up to it. */
static bool is_stop_point(const rec_entry *e)
{
    return e->kind == REC_END && (get32(e->payload) == END_STOPPED || get32(e->payload) == END_ERROR);
}

uint64_t recplay_next_input(machine *m)
{
    rec_entry *e;
    if (!recplay_replaying(m) || m->end != END_RUNNING || !peek(m, &e) || (e->kind != REC_INPUT && !is_stop_point(e)))
        return UINT64_MAX;
    return e->icount;
}

/* The recorded run was stopped here: so is the replay, once it has made as many interrupt-flag
 * calls as the recording had. */
static void stop_here(machine *m, const rec_entry *e)
{
    recplay *rp = m->recplay;
    uint64_t want = recplay_entry_ifcalls(e);
    if (want != rp->ifcalls - rp->if_checked) {
        diverge_ifcalls(m, e, want, "the point where the recording was stopped");
        return;
    }
    char why[200];
    snprintf(why, sizeof why, "%.*s", (int)(e->len > END_BYTES ? e->len - END_BYTES : 0), (const char *)e->payload + END_BYTES);
    rp->at_stop = true;
    machine_end_run(m, END_STOPPED, "the recording %s here (%s)", get32(e->payload) == END_ERROR ? "failed" : "was stopped",
                    why[0] ? why : "no reason recorded");
}

void recplay_inject_inputs(machine *m)
{
    recplay *rp = m->recplay;
    rec_entry *e;
    while (recplay_replaying(m) && m->end == END_RUNNING && peek(m, &e) && (e->kind == REC_INPUT || is_stop_point(e)) &&
           e->icount <= machine_insns(m)) {
        if (e->icount < machine_insns(m)) {
            char expected[120], actual[120];
            snprintf(expected, sizeof expected, "%s at icount %llu", e->kind == REC_INPUT ? "input" : "the end",
                     (unsigned long long)e->icount);
            snprintf(actual, sizeof actual, "the run is past it at icount %llu", (unsigned long long)machine_insns(m));
            diverge(m, e, "a recorded input was not reached in time", expected, actual, NULL);
            return;
        }
        if (e->kind == REC_END) {
            stop_here(m, e);
            return;
        }
        rp->ahead = false;
        rp->injecting = true;
        if (e->len < 1 || e->payload[0] >= HOST_DEVICES) {
            char actual[120];
            snprintf(actual, sizeof actual, "an input for device %u at icount %llu", e->len ? e->payload[0] : 0u,
                     (unsigned long long)e->icount);
            diverge(m, e, "a recorded input names a device this vmiemu does not have",
                    "an input for device 0 (com1) or 1 (keyboard)", actual, NULL);
            return;
        }
        host_input in = {.device = (host_device)e->payload[0], .kind = HOST_BYTES, .bytes = e->payload + 1, .len = e->len - 1u};
        machine_host_input(m, &in);
        rp->injecting = false;
        rp->checked++;
    }
}

/* Every other event (observe below): written, checked or both. Kept out of observe so that the
 * interrupt-flag calls' path does not pay this one's stack frame (~25 host instructions). */
static __attribute__((noinline)) void observe_event(machine *m, const vm_event *ev)
{
    recplay *rp = m->recplay;
    if (ev->kind == EV_INPUT && rp->writer) {
        uint8_t payload[17]; /* the device, then its bytes */
        payload[0] = (uint8_t)ev->args[4];
        memcpy(payload + 1, ev->args, ev->num);
        append(m, REC_INPUT, ev->icount, payload, (uint16_t)(ev->num + 1u));
        return;
    }
    if (ev->kind == EV_INPUT && recplay_replaying(m) && !rp->injecting) {
        char actual[120];
        snprintf(actual, sizeof actual, "%s input at icount %llu", host_device_name(ev->args[4]), (unsigned long long)ev->icount);
        diverge(m, NULL, "input the record does not have", "(no input here)", actual, NULL);
        return;
    }
    if ((ev->kind != EV_VMI_CALL && ev->kind != EV_MARKER) || m->end == END_DIVERGED)
        return;
    if (rp->writer) {
        rec_entry e; /* only the payload's first len bytes are read */
        e.kind = ev->kind == EV_MARKER ? REC_MARKER : REC_CALL;
        e.icount = ev_logged_at(ev);
        e.len = encode_call(m, ev, rp->ifcalls - rp->if_written, e.payload);
        rp->if_written = rp->ifcalls;
        append_entry(m, &e);
    }
    if (recplay_replaying(m))
        check_call(m, ev);
}

/* The event log's observer. An interrupt-flag call is only counted: not recorded (the next
 * entry carrying the count carries it), and checked by a replay at that entry. */
static void observe(void *ctx, const vm_event *ev)
{
    machine *m = ctx;
    if (ev->kind == EV_VMI_CALL && rom_call_is_irqflag(ev->num)) {
        m->recplay->ifcalls++;
        return;
    }
    observe_event(m, ev);
}

/* Where the replay stands: before the peeked entry if there is one. */
static recplay_mark replay_mark(const recplay *rp)
{
    return (recplay_mark){.at = rec_reader_mark(rp->reader, rp->ahead), .checked = rp->checked, .calls = rp->calls,
                          .ifcalls = rp->ifcalls, .if_done = rp->if_checked, .replaying = true};
}

static void check_digest(machine *m, uint64_t digest);

recplay_mark recplay_on_snapshot(machine *m, uint64_t digest, bool scheduled)
{
    recplay *rp = m->recplay;
    uint8_t p[HASH_IFC_AT + IFC_BYTES];
    memcpy(p, &digest, 8);
    put_regs(m, p + 8);
    recplay_mark mk = {0};
    if (rp->writer) {
        if (scheduled) {
            put64(p + HASH_IFC_AT, rp->ifcalls - rp->if_written);
            rp->if_written = rp->ifcalls;
            append(m, REC_HASH, machine_insns(m), p, sizeof p);
        }
        mk.ifcalls = rp->ifcalls;
        mk.if_done = rp->if_written;
        vm_error err = {0};
        if (!rec_mark_here(rp->writer, &mk.at, &err)) /* a killed run keeps everything up to here */
            machine_end_run(m, END_ERROR, "recording failed: %s", err.msg);
    }
    if (!recplay_replaying(m))
        return mk; /* also a replay gone live: restoring this snapshot stays live */
    if (scheduled)
        check_digest(m, digest);
    if (rp->writer)
        return mk; /* replaying and recording at once (a what-if run): no going back */
    return replay_mark(rp);
}

void recplay_on_restore(machine *m, const recplay_mark *mk)
{
    recplay *rp = m->recplay;
    vm_error err = {0};
    if (rp->writer) {
        if (!rec_rewind(rp->writer, &mk->at, &err))
            machine_end_run(m, END_ERROR, "recording failed: %s", err.msg);
        rp->ifcalls = mk->ifcalls;
        rp->if_written = mk->if_done;
        return;
    }
    bool at_start = mk->at.offset == 0 && mk->checked == 0; /* the power-on snapshot, before replay began */
    if (!rp->reader || (rp->live && !mk->replaying && !at_start))
        return; /* still live: the snapshot was taken after the run left the record */
    rp->live = false; /* back before the override: replayed and checked again up to it */
    rp->ahead = false;
    rp->record_over = false;
    rp->cut = false;
    rp->note[0] = 0;
    rp->at_stop = false;
    rp->checked = mk->checked;
    rp->calls = mk->calls;
    rp->ifcalls = mk->ifcalls;
    rp->if_checked = mk->if_done;
    if (!rec_reader_seek(rp->reader, &mk->at, &err))
        machine_end_run(m, END_ERROR, "replay stopped: %s", err.msg);
}

static void check_digest(machine *m, uint64_t digest)
{
    recplay *rp = m->recplay;
    uint64_t now = machine_insns(m);
    rec_entry *e;
    if (m->end == END_DIVERGED || !peek(m, &e))
        return;
    if (is_stop_point(e) && e->icount == now) { /* the recording stopped here before taking this snapshot */
        stop_here(m, e);
        return;
    }
    char expected[200], actual[200];
    snprintf(actual, sizeof actual, "state digest 0x%016llx at icount %llu", (unsigned long long)digest,
             (unsigned long long)now);
    if (e->kind != REC_HASH) {
        snprintf(expected, sizeof expected, "%s at icount %llu", kind_name(e->kind), (unsigned long long)e->icount);
        diverge(m, e, "a snapshot the record does not have", expected, actual, NULL);
        return;
    }
    rp->ahead = false;
    uint64_t want;
    memcpy(&want, e->payload, 8);
    if (want == digest && e->icount == now && recplay_entry_ifcalls(e) != rp->ifcalls - rp->if_checked) {
        diverge_ifcalls(m, e, recplay_entry_ifcalls(e), "the state digest");
        return;
    }
    if (want == digest && e->icount == now) {
        rp->checked++;
        rp->if_checked = rp->ifcalls;
        (void)peek(m, &e); /* a record cut after this digest stops the replay here */
        return;
    }
    snprintf(expected, sizeof expected, "state digest 0x%016llx at icount %llu", (unsigned long long)want,
             (unsigned long long)e->icount);
    diverge(m, e, "the machine state differs", expected, actual, e->payload + 8);
}

static recplay *attach(machine *m, const char *path, vm_error *err)
{
    recplay *rp = calloc(1, sizeof *rp);
    if (!rp || !(rp->path = strdup(path))) {
        free(rp);
        vm_fail(err, VM_ENOMEM, "out of memory");
        return NULL;
    }
    m->recplay = rp;
    m->log.observer = observe;
    m->log.observer_ctx = m;
    return rp;
}

static void header_of(const machine *m, rec_header *h)
{
    memset(h, 0, sizeof *h);
    h->kernel_hash = rec_hash_bytes(m->kernel, m->kernel_size);
    h->kernel_size = m->kernel_size;
    h->ram_mib = m->cfg.ram_mib;
    h->cpu_mhz = m->cfg.cpu_mhz;
    h->cpu_model = m->cfg.cpu_model;
    h->quiet_calls = m->cfg.quiet_calls;
    h->epoch = m->cfg.epoch;
    h->max_insns = m->cfg.max_insns;
    h->rom_enabled = m->cfg.rom_enabled;
    h->reboot_restarts = m->cfg.reboot_restarts;
    h->snap_every = m->cfg.snap_every;
    snprintf(h->cmdline, sizeof h->cmdline, "%s", m->cfg.cmdline ? m->cfg.cmdline : "");
    if (m->cfg.initrd) {
        h->has_initrd = 1;
        h->initrd_hash = rec_hash_bytes(m->initrd, m->initrd_size);
        h->initrd_size = m->initrd_size;
        snprintf(h->initrd, sizeof h->initrd, "%s", m->cfg.initrd);
    }
}

/* A file input (kernel, initrd) as a message names it: its base name and size, and its hash
 * when the sizes agree (the error message is one line of limited length). */
static void describe_file(const char *name, bool present, uint64_t size, uint64_t hash, bool with_hash, char *buf,
                          size_t len)
{
    const char *slash = name ? strrchr(name, '/') : NULL;
    const char *base = slash ? slash + 1 : name ? name : "";
    if (!present)
        snprintf(buf, len, "none");
    else if (with_hash)
        snprintf(buf, len, "%s%s%llu bytes, hash 0x%016llx%s", base, *base ? " (" : "", (unsigned long long)size,
                 (unsigned long long)hash, *base ? ")" : "");
    else
        snprintf(buf, len, "%s%s%llu bytes%s", base, *base ? " (" : "", (unsigned long long)size, *base ? ")" : "");
}

/* Append "WHAT: recorded A, this run B" to the list in buf (cut short if it does not fit). */
static void add_difference(char *buf, size_t len, const char *what, const char *recorded, const char *mine)
{
    size_t n = strlen(buf);
    if (n + 1 < len && snprintf(buf + n, len - n, "%s%s: recorded %s, this run %s", n ? "; " : "", what, recorded,
                                mine) < 0)
        buf[n] = 0;
}

/* The header's integer field at byte offset `at` of `size` bytes (1, 4 or 8). */
static uint64_t header_field(const rec_header *h, size_t at, size_t size)
{
    const uint8_t *p = (const uint8_t *)h + at;
    uint8_t u8;
    uint32_t u32;
    uint64_t u64;
    if (size == 1)
        return memcpy(&u8, p, 1), u8;
    if (size == 4)
        return memcpy(&u32, p, 4), u32;
    return memcpy(&u64, p, 8), u64;
}

/* Every input of the run that differs between the record (rec) and this machine (mine), as a
 * list; empty if none. The kernel is left out with any_kernel. */
static void header_differences(const rec_header *rec, const rec_header *mine, const char *kernel, bool any_kernel,
                               char *buf, size_t len)
{
    char a[REC_MAX_NAME + 200], b[REC_MAX_NAME + 200];
    buf[0] = 0;
    if (!any_kernel && (rec->kernel_hash != mine->kernel_hash || rec->kernel_size != mine->kernel_size)) {
        bool hash = rec->kernel_size == mine->kernel_size;
        describe_file(NULL, true, rec->kernel_size, rec->kernel_hash, hash, a, sizeof a);
        describe_file(kernel, true, mine->kernel_size, mine->kernel_hash, hash, b, sizeof b);
        add_difference(buf, len, "kernel (--replay-any-kernel replays another)", a, b);
    }
    if (rec->has_initrd != mine->has_initrd || rec->initrd_hash != mine->initrd_hash ||
        rec->initrd_size != mine->initrd_size) {
        bool hash = rec->has_initrd && mine->has_initrd && rec->initrd_size == mine->initrd_size;
        describe_file(rec->initrd, rec->has_initrd, rec->initrd_size, rec->initrd_hash, hash, a, sizeof a);
        describe_file(mine->initrd, mine->has_initrd, mine->initrd_size, mine->initrd_hash, hash, b, sizeof b);
        add_difference(buf, len, "initrd (--initrd: give the recorded one)", a, b);
    }
    if (strcmp(rec->cmdline, mine->cmdline) != 0) {
        snprintf(a, sizeof a, "'%s'", rec->cmdline);
        snprintf(b, sizeof b, "'%s'", mine->cmdline);
        add_difference(buf, len, "command line (--append)", a, b);
    }
#define FIELD(f) offsetof(rec_header, f), sizeof(((rec_header *)0)->f)
    static const struct {
        const char *what;
        size_t at, size;
    } numbers[] = {
        {"RAM in MiB (-m)", FIELD(ram_mib)},
        {"cpu MHz (--cpu-mhz)", FIELD(cpu_mhz)},
        {"CPU model (--cpu: 0 = coreduo, 1 = max)", FIELD(cpu_model)},
        {"calls left out (--quiet-calls: 0 = none, 1 = irqflags)", FIELD(quiet_calls)},
        {"epoch (--epoch)", FIELD(epoch)},
        {"instruction limit (--max-insns, 0 = none)", FIELD(max_insns)},
        {"VMI ROM (1 = on, 0 = --no-rom)", FIELD(rom_enabled)},
        {"--reboot-restarts (1 = on)", FIELD(reboot_restarts)},
        {"snapshot interval (--snap-every)", FIELD(snap_every)},
    };
#undef FIELD
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
        uint64_t r = header_field(rec, numbers[i].at, numbers[i].size);
        uint64_t me = header_field(mine, numbers[i].at, numbers[i].size);
        if (r == me)
            continue;
        snprintf(a, sizeof a, "%llu", (unsigned long long)r);
        snprintf(b, sizeof b, "%llu", (unsigned long long)me);
        add_difference(buf, len, numbers[i].what, a, b);
    }
}

bool recplay_record(machine *m, const char *path, vm_error *err)
{
    if (m->cfg.snap_every == 0)
        return vm_fail(err, VM_EINVAL, "--record needs snapshots: state digests are taken at them (drop --snap-every 0)");
    rec_header h;
    header_of(m, &h);
    recplay *rp = m->recplay ? m->recplay : attach(m, path, err); /* a what-if replay records too */
    if (!rp)
        return false;
    rp->writer = rec_create(path, &h, err);
    return rp->writer != NULL;
}

bool recplay_read_header(const char *path, rec_header *h, vm_error *err)
{
    rec_reader *r = rec_open(path, h, err);
    rec_close_reader(r);
    return r != NULL;
}

void recplay_config(const rec_header *h, machine_config *cfg)
{
    static char cmdline[sizeof h->cmdline];
    machine_config_defaults(cfg);
    cfg->ram_mib = h->ram_mib;
    cfg->cpu_mhz = h->cpu_mhz;
    cfg->cpu_model = h->cpu_model;
    cfg->quiet_calls = h->quiet_calls;
    cfg->epoch = h->epoch;
    cfg->max_insns = h->max_insns;
    cfg->rom_enabled = h->rom_enabled;
    cfg->reboot_restarts = h->reboot_restarts;
    cfg->snap_every = h->snap_every;
    snprintf(cmdline, sizeof cmdline, "%s", h->cmdline);
    cfg->cmdline = cmdline[0] ? cmdline : NULL;
}

bool recplay_replay(machine *m, const char *path, bool any_kernel, vm_error *err)
{
    rec_header h;
    rec_reader *r = rec_open(path, &h, err);
    if (!r)
        return false;
    rec_header mine;
    header_of(m, &mine);
    char diff[sizeof err->msg];
    header_differences(&h, &mine, m->kernel_path, any_kernel, diff, sizeof diff);
    if (diff[0]) {
        rec_close_reader(r);
        return vm_fail(err, VM_EINVAL, "%s: this run's inputs differ from the recorded ones: %s", path, diff);
    }
    recplay *rp = attach(m, path, err);
    if (!rp) {
        rec_close_reader(r);
        return false;
    }
    rp->reader = r;
    return true;
}

bool recplay_find_call(const char *path, uint64_t n, vm_event *ev, vm_error *err)
{
    rec_header h;
    rec_reader *r = rec_open(path, &h, err);
    if (!r)
        return false;
    rec_entry e;
    uint64_t calls = 0, last = 0; /* calls numbered so far (recorded or counted); the last recorded one */
    bool any = false;
    int got;
    while ((got = rec_next(r, &e, err)) > 0) {
        calls += recplay_entry_ifcalls(&e); /* the interrupt-flag calls before the entry: numbered too */
        if (calls > n)
            break;
        if (e.kind != REC_CALL)
            continue;
        if (calls == n) {
            decode_call(&e, ev);
            rec_close_reader(r);
            return true;
        }
        last = calls++;
        any = true;
    }
    if (got > 0) { /* n is one of the interrupt-flag calls just before e: name the recorded calls around it */
        char after[60] = "";
        vm_error ignored = {0};
        while (e.kind != REC_CALL && rec_next(r, &e, &ignored) > 0)
            calls += recplay_entry_ifcalls(&e);
        if (e.kind == REC_CALL)
            snprintf(after, sizeof after, "%s#%llu after it", any ? ", " : "", (unsigned long long)calls);
        char before[60] = "";
        if (any)
            snprintf(before, sizeof before, "#%llu before it", (unsigned long long)last);
        rec_close_reader(r);
        return vm_fail(err, VM_EINVAL,
                       "%s: VMI call #%llu is an interrupt-flag call (EnableInterrupts, DisableInterrupts, "
                       "GetInterruptMask or SetInterruptMask): a record counts those but does not hold them (a "
                       "replay makes them by itself), so --override cannot change one%s%s%s",
                       path, (unsigned long long)n, any || after[0] ? "; the nearest recorded calls: " : "", before,
                       after);
    }
    rec_close_reader(r);
    if (got < 0)
        return false;
    return vm_fail(err, VM_EINVAL, "%s has %llu VMI calls (numbered from 0): there is no call %llu", path,
                   (unsigned long long)calls, (unsigned long long)n);
}

bool recplay_diverged(const machine *m) { return m->recplay && m->recplay->diverged; }

/* After the end entry the file must end: appended bytes (junk, a second copy of a record) make
 * it a bad record file, not one that matched. */
static void trailing_data(recplay *rp, char *why, size_t len)
{
    rec_entry extra;
    vm_error err = {0};
    int r = rec_next(rp->reader, &extra, &err);
    if (r > 0)
        snprintf(why, len, "%s has entries after its end entry", rp->path);
    else if (r < 0)
        snprintf(why, len, "the file goes on after its end entry: %s", err.msg);
    if (r != 0)
        rp->bad_file = true;
}

bool recplay_record_bad(const machine *m) { return m->recplay && m->recplay->bad_file; }

bool recplay_record_cut(const machine *m) { return m->recplay && m->recplay->cut && !m->recplay->bad_file; }

bool recplay_finish(machine *m, char *report, size_t len, vm_error *err)
{
    recplay *rp = m->recplay;
    report[0] = 0;
    if (!rp)
        return true;
    uint8_t p[REC_MAX_PAYLOAD];
    put32(p, (uint32_t)m->end);
    put32(p + 4, m->exit_value);
    uint16_t n = END_BYTES;
    if (m->end == END_STOPPED || m->end == END_ERROR) {
        size_t k = strnlen(m->end_message, REC_MAX_PAYLOAD - END_BYTES);
        memcpy(p + END_BYTES, m->end_message, k);
        n += (uint16_t)k;
    }
    if (rp->writer) {
        put64(p + END_IFC_AT, rp->ifcalls - rp->if_written);
        append(m, REC_END, machine_insns(m), p, n);
        bool ok = rec_close(rp->writer, err);
        rp->writer = NULL;
        if (!ok || !rp->reader)
            return ok;
    }
    put64(p + END_IFC_AT, rp->ifcalls - rp->if_checked); /* what the end entry must say when checked */
    rec_entry *e;
    if (rp->live && !rp->diverged) {
        snprintf(report, len,
                 "what-if: replayed and checked %llu entries of the record up to VMI call #%llu, where %s; from there "
                 "on the run was live, not replayed: it ended '%s' at icount %llu",
                 (unsigned long long)rp->live_checked, (unsigned long long)rp->live_call, rp->live_why,
                 machine_end_name(m->end), (unsigned long long)machine_insns(m));
    } else if (m->end == END_DIVERGED || rp->diverged) { /* also if it went back before the divergence since */
        snprintf(report, len, "%s", rp->report);
    } else if (rp->cut) {
        snprintf(report, len,
                 "replay matched the record up to where it ends: %llu checks, stopped at icount %llu; the record is "
                 "not complete: %s",
                 (unsigned long long)rp->checked, (unsigned long long)rp->cut_at, rp->note);
    } else if (m->end == END_STOPPED && !rp->at_stop) {
        snprintf(report, len, "replay stopped by the user at icount %llu: %llu checks passed, no divergence up to there",
                 (unsigned long long)machine_insns(m), (unsigned long long)rp->checked);
    } else if (m->end != END_ERROR && peek(m, &e)) {
        char after[700] = "";
        if (e->kind == REC_END)
            trailing_data(rp, after, sizeof after);
        if (after[0] && e->icount == machine_insns(m))
            snprintf(report, len, "replay reached the record's end entry at icount %llu (%llu checks), but %s",
                     (unsigned long long)e->icount, (unsigned long long)rp->checked, after);
        else if (e->kind == REC_END && e->icount == machine_insns(m) && rp->at_stop)
            snprintf(report, len, "replay matched the record: %llu checks, up to icount %llu where the recording was stopped",
                     (unsigned long long)rp->checked, (unsigned long long)e->icount);
        else if (e->kind == REC_END && e->icount == machine_insns(m) && memcmp(e->payload, p, END_BYTES) == 0)
            snprintf(report, len, "replay matched the record: %llu checks, ended '%s' at icount %llu",
                     (unsigned long long)rp->checked, machine_end_name(m->end), (unsigned long long)e->icount);
        else if (e->kind == REC_END && e->icount == machine_insns(m) && memcmp(e->payload, p, END_IFC_AT) == 0) {
            m->end = END_RUNNING; /* let the divergence take the end */
            diverge_ifcalls(m, e, recplay_entry_ifcalls(e), "the end of the run");
            snprintf(report, len, "%s", rp->report);
        } else {
            char expected[200], actual[200];
            snprintf(expected, sizeof expected, "%s at icount %llu", kind_name(e->kind), (unsigned long long)e->icount);
            snprintf(actual, sizeof actual, "the run ended '%s' at icount %llu", machine_end_name(m->end),
                     (unsigned long long)machine_insns(m));
            m->end = END_RUNNING; /* let the divergence take the end */
            diverge(m, e, "the run ends differently", expected, actual, NULL);
            snprintf(report, len, "%s", rp->report);
        }
    } else if (rp->note[0]) {
        snprintf(report, len, "replay: %s (%llu checks passed before that)", rp->note, (unsigned long long)rp->checked);
    }
    return true;
}

bool recplay_over(const machine *m, char *note, size_t len)
{
    const recplay *rp = m->recplay;
    if (!rp || !rp->record_over)
        return false;
    snprintf(note, len, "%s", rp->note);
    return true;
}

void recplay_free(machine *m)
{
    recplay *rp = m->recplay;
    if (!rp)
        return;
    vm_error err = {0};
    if (!rec_close(rp->writer, &err)) {
        /* still open only if recplay_finish never ran: the record has no end entry, and a
         * replay reports it cut short whether or not this last flush reached the file */
    }
    rec_close_reader(rp->reader);
    free(rp->path);
    free(rp);
    m->recplay = NULL;
    m->log.observer = NULL;
}

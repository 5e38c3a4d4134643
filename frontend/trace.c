#include "frontend/trace.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "frontend/evseq.h"

FILE *trace_open(const char *path, vm_error *err)
{
    FILE *f = fopen(path, "w");
    if (!f)
        vm_fail(err, VM_EIO, "--trace-out %s: %s", path, strerror(errno));
    return f;
}

static int tid_of(const vm_event *ev)
{
    switch ((ev_kind)ev->kind) {
    case EV_VMI_CALL: return TRACE_TID_CALLS;
    case EV_EXCEPTION: return ev->args[2] & 4 ? TRACE_TID_INTERRUPTS : TRACE_TID_EXCEPTIONS;
    case EV_MARKER: return TRACE_TID_MARKERS;
    default: return TRACE_TID_OTHER;
    }
}

static void put(FILE *f, json_t *obj, bool *first)
{
    if (obj) {
        fputs(*first ? "\n" : ",\n", f);
        json_dumpf(obj, f, JSON_COMPACT);
        *first = false;
    }
    json_decref(obj);
}

static json_t *meta(const char *what, int tid, const char *name)
{
    return json_pack("{s:s, s:s, s:i, s:i, s:{s:s}}", "ph", "M", "name", what, "pid", 1, "tid", tid, "args", "name", name);
}

static json_t *event(const vm_event *ev, size_t seq, const symtab *syms)
{
    char name[80], body[512], sym[160];
    if (ev->kind == EV_MARKER)
        ev_marker_name(ev, name);
    else
        evseq_kind_label(ev, name, sizeof name);
    evseq_body(ev, body, sizeof body);
    char eip[12];
    snprintf(eip, sizeof eip, "0x%08x", ev->eip);
    json_t *args = json_pack("{s:I, s:s, s:s}", "seq", (json_int_t)seq, "event", body, "eip", eip);
    if (args && syms && symtab_describe(syms, ev->eip, sym, sizeof sym))
        json_object_set_new(args, "caller", json_string(sym));
    bool call = ev->kind == EV_VMI_CALL;
    /* Guest bytes (a marker's name) are not trusted to be UTF-8: jansson refuses those, so the
     * name falls back to its escaped form from the text log. */
    json_t *jname = json_string(name);
    if (!jname)
        jname = json_string(ev->kind == EV_MARKER ? body : "?");
    json_t *o = json_pack("{s:o, s:s, s:s, s:I, s:i, s:i, s:o}", "name", jname, "cat", ev_kind_name((ev_kind)ev->kind),
                          "ph", call ? "X" : "i", "ts", (json_int_t)ev->icount, "pid", 1, "tid", tid_of(ev), "args", args);
    if (o && call)
        json_object_set_new(o, "dur", json_integer(ev->insns ? ev->insns : 1));
    else if (o)
        json_object_set_new(o, "s", json_string("t"));
    return o;
}

bool trace_write(FILE *f, const char *path, const evlog *log, const symtab *syms, vm_error *err)
{
    bool first = true;
    fputs("{\"displayTimeUnit\":\"ns\",\"otherData\":{\"generator\":\"vmiemu\",\"clock\":\"instructions: one "
          "microsecond on the timeline is one guest instruction (icount)\"},\"traceEvents\":[", f);
    put(f, meta("process_name", 0, "vmiemu guest"), &first);
    static const char *const tracks[] = {NULL, "VMI calls", "interrupts", "exceptions and int n", "markers", "other events"};
    for (int t = TRACE_TID_CALLS; t <= TRACE_TID_OTHER; t++) {
        put(f, meta("thread_name", t, tracks[t]), &first);
        json_t *order = json_pack("{s:s, s:s, s:i, s:i, s:{s:i}}", "ph", "M", "name", "thread_sort_index", "pid", 1,
                                  "tid", t, "args", "sort_index", t);
        put(f, order, &first);
    }
    size_t n = evlog_count(log);
    bool read_ok = true;
    for (size_t i = 0; i < n; i++) {
        vm_event ev;
        if (!evlog_get(log, i, &ev)) {
            read_ok = false;
            break;
        }
        put(f, event(&ev, i, syms), &first);
    }
    fputs("\n]}\n", f);
    bool ok = !ferror(f);
    ok = fclose(f) == 0 && ok;
    if (!read_ok)
        return vm_fail(err, VM_EIO, "--trace-out %s: the event log could not be read back", path);
    if (!ok)
        return vm_fail(err, VM_EIO, "--trace-out %s: write failed", path);
    return true;
}

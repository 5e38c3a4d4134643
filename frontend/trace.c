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

/* s as a JSON string. Events are written by hand, not through jansson: a Linux boot has
 * millions, and building a jansson object for each cost 10 us (tests/test_analysis.c parses
 * the result with jansson). Bytes below 0x20, quotes and backslashes are escaped; bytes from
 * 0x80 (a marker's name is the guest's) become the code point of the same number, as the
 * JSON log writes serial bytes, so the file is always valid UTF-8. */
static void put_string(FILE *f, const char *s)
{
    putc('"', f);
    for (const uint8_t *p = (const uint8_t *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else if (*p >= 0x80)
            fprintf(f, "\\u%04x", *p);
        else
            putc(*p, f);
    }
    putc('"', f);
}

static void put_event(FILE *f, const vm_event *ev, size_t seq, const symtab *syms)
{
    char name[80], body[512], sym[160];
    if (ev->kind == EV_MARKER)
        ev_marker_name(ev, name);
    else
        evseq_kind_label(ev, name, sizeof name);
    evseq_body(ev, body, sizeof body);
    bool call = ev->kind == EV_VMI_CALL;
    fputs(",\n{\"name\":", f);
    put_string(f, name);
    static const char *const cats[] = {NULL, "vmi", "interrupt", "exception", "marker", "other"};
    fprintf(f, ",\"cat\":\"%s\",\"ph\":\"%s\",\"ts\":%llu,", cats[tid_of(ev)], call ? "X" : "i",
            (unsigned long long)ev->icount);
    if (call)
        fprintf(f, "\"dur\":%u,", ev->insns ? ev->insns : 1);
    else
        fputs("\"s\":\"t\",", f);
    fprintf(f, "\"pid\":1,\"tid\":%d,\"args\":{\"seq\":%zu,\"event\":", tid_of(ev), seq);
    put_string(f, body);
    fprintf(f, ",\"eip\":\"0x%08x\"", ev->eip);
    if (syms && symtab_describe(syms, ev->eip, sym, sizeof sym)) {
        fputs(",\"caller\":", f);
        put_string(f, sym);
    }
    fputs("}}", f);
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
        put_event(f, &ev, i, syms);
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

#include "emu/evlog.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cpu/descriptor.h"
#include "emu/machine.h"
#include "rom/rom.h"

void evlog_init(evlog *log)
{
    log->events = NULL;
    log->count = log->capacity = 0;
    log->sink = NULL;
    log->sink_ctx = NULL;
    log->observer = NULL;
    log->observer_ctx = NULL;
}

void evlog_free(evlog *log)
{
    free(log->events);
    log->events = NULL;
    log->count = log->capacity = 0;
}

bool evlog_add(evlog *log, const vm_event *ev)
{
    if (log->sink)
        log->sink(log->sink_ctx, ev);
    if (log->observer)
        log->observer(log->observer_ctx, ev);
    if (log->count == log->capacity) {
        size_t cap = log->capacity ? log->capacity * 2 : 1024;
        vm_event *n = realloc(log->events, cap * sizeof *n);
        if (!n)
            return false;
        log->events = n;
        log->capacity = cap;
    }
    log->events[log->count++] = *ev;
    return true;
}

const char *ev_kind_name(ev_kind k)
{
    static const char *const names[] = {"vmi", "port-in", "port-out", "exception", "memory", "guest-error", "end",
                                        "input"};
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

/* A bounded appender: writes never overrun, the total length is tracked. */
typedef struct out {
    char *buf;
    size_t len, pos;
} out;

__attribute__((format(printf, 2, 3))) static void put(out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->pos < o->len ? o->buf + o->pos : NULL, o->pos < o->len ? o->len - o->pos : 0, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->pos += (size_t)n;
}

static const rom_call *call_of(const vm_event *ev)
{
    if (ev->num == EV_NUM_INIT)
        return &rom_entry_init;
    if (ev->num == EV_NUM_RELOC)
        return &rom_entry_reloc;
    return rom_call_find(ev->num);
}

static const char *counter_name(uint32_t v)
{
    static const char *const names[] = {"real", "available", "stolen"};
    return v < 3 ? names[v] : "invalid";
}

static const char *reloc_name(uint32_t v)
{
    static const char *const names[] = {"NONE", "CALL_REL", "JUMP_REL", "NOP"};
    return v < 4 ? names[v] : "?";
}

/* Names of the set bits of v, "|"-separated; bits without a name are ignored. */
static void put_bits(out *o, uint32_t v, const char *const names[], int n, const char *sep)
{
    bool first = true;
    for (int i = 0; i < n; i++)
        if ((v >> i & 1) && names[i]) {
            put(o, "%s%s", first ? "" : sep, names[i]);
            first = false;
        }
    if (first)
        put(o, "-");
}

static void put_pte(out *o, uint32_t v)
{
    static const char *const bits[] = {"P", "RW", "US", "PWT", "PCD", "A", "D", "PS", "G"};
    put(o, "0x%08x [frame 0x%08x ", v, v & 0xFFFFF000u);
    put_bits(o, v, bits, 9, " ");
    put(o, "]");
}

static void put_page_flags(out *o, uint32_t v)
{
    static const char *const bits[] = {"PT", "PD", "PDP", "PML4", "CURRENT_AS", "DEFER"};
    put_bits(o, v & 0x3F, bits, 6, "|");
    if (v & 0x10)
        put(o, " va=0x%08x", v & 0xFFFFF000u);
}

static void put_alloc_flags(out *o, uint32_t v)
{
    static const char *const bits[] = {"PT", "PD", "PDP", "PML4", "PAE", "CLONE", "ZEROED"};
    put_bits(o, v, bits, 7, "|");
}

static void put_alarm_flags(out *o, uint32_t v)
{
    put(o, "%s %s %s", counter_name(v & 0xFF), v & 0x100 ? "periodic" : "one-shot",
        v & 0x10000 ? "apic-lvt" : "irq0");
}

static void put_descriptor(out *o, uint32_t lo, uint32_t hi)
{
    seg_desc d;
    char text[96];
    desc_decode((uint64_t)hi << 32 | lo, &d);
    desc_format(&d, text, sizeof text);
    put(o, "0x%08x [%s]", lo, text);
}

static void put_gate(out *o, uint32_t lo, uint32_t hi)
{
    gate_desc g;
    gate_decode((uint64_t)hi << 32 | lo, &g);
    const char *kind = g.type == GATE_INT32 ? "int32" : g.type == GATE_TRAP32 ? "trap32" : g.type == GATE_TASK ? "task"
                       : g.type == GATE_INT16 ? "int16" : g.type == GATE_TRAP16 ? "trap16" : "invalid";
    put(o, "0x%08x [%04x:%08x %s dpl=%u%s]", lo, g.selector, g.offset, kind, g.dpl, g.present ? " P" : " NP");
}

/* One value as text (JSON writes the non-numeric ones as strings of this text). */
static void put_value(out *o, rom_type t, uint64_t v, const vm_event *ev, int argi)
{
    uint32_t next = argi >= 0 && argi < 4 ? ev->args[argi + 1] : 0; /* the high half of a two-slot value */
    switch (t) {
    case ROM_T_DEC: put(o, "%u", (uint32_t)v); break;
    case ROM_T_U64: case ROM_T_NS: put(o, "%llu", (unsigned long long)v); break;
    case ROM_T_COUNTER: put(o, "%s", counter_name((uint32_t)v)); break;
    case ROM_T_CALL: {
        const rom_call *c = rom_call_find((uint32_t)v);
        put(o, "%s", c ? c->name : "undefined");
        break;
    }
    case ROM_T_RELOC: put(o, "%s 0x%08x", reloc_name((uint32_t)(v >> 32) & 0xFF), (uint32_t)v); break;
    case ROM_T_CPUID:
        put(o, "eax=0x%08x ebx=0x%08x ecx=0x%08x edx=0x%08x", (uint32_t)v, ev->extra[0], ev->extra[1], ev->extra[2]);
        break;
    case ROM_T_PTE: put_pte(o, (uint32_t)v); break;
    case ROM_T_PAGEFLAGS: put_page_flags(o, (uint32_t)v); break;
    case ROM_T_ALLOCFLAGS: put_alloc_flags(o, (uint32_t)v); break;
    case ROM_T_ALARM: put_alarm_flags(o, (uint32_t)v); break;
    case ROM_T_U64LO: put(o, "%llu", (unsigned long long)((uint64_t)next << 32 | (uint32_t)v)); break;
    case ROM_T_DESCLO: put_descriptor(o, (uint32_t)v, next); break;
    case ROM_T_GATELO: put_gate(o, (uint32_t)v, next); break;
    default: put(o, "0x%08x", (uint32_t)v); break;
    }
}

static void put_call(out *o, const vm_event *ev)
{
    const rom_call *c = call_of(ev);
    put(o, " vmi %s(", c ? c->name : "undefined");
    bool first = true;
    for (int i = 0; c && i < ev->nargs && i < 5; i++) {
        if (!c->arg_names[i] || !c->arg_names[i][0])
            continue;
        put(o, "%s%s=", first ? "" : ", ", c->arg_names[i]);
        put_value(o, c->arg_types[i], ev->args[i], ev, i);
        first = false;
    }
    put(o, ")");
    if (c && c->result_type != ROM_T_NONE) {
        put(o, " = ");
        put_value(o, c->result_type, ev->result, ev, -1);
    }
    if (ev->failed)
        put(o, " FAILED");
}

static const char *exception_source(const vm_event *ev)
{
    return ev->args[2] & 4 ? "external" : ev->args[2] & 2 ? "software" : "exception";
}

static void put_payload(out *o, const vm_event *ev)
{
    switch ((ev_kind)ev->kind) {
    case EV_VMI_CALL: put_call(o, ev); break;
    case EV_PORT_IN:
        put(o, " port 0x%x in size=%u value=0x%llx", ev->num, ev->args[0], (unsigned long long)ev->result);
        break;
    case EV_PORT_OUT: put(o, " port 0x%x out size=%u value=0x%x", ev->num, ev->args[0], ev->args[1]); break;
    case EV_EXCEPTION:
        put(o, " vector=%u", ev->num);
        if (ev->args[2] & 1)
            put(o, " error=0x%x", ev->args[0]);
        if (ev->num == 14)
            put(o, " cr2=0x%08x", ev->args[1]);
        put(o, " (%s)", exception_source(ev));
        if (ev->failed)
            put(o, " NOT DELIVERED");
        else if (ev->result != ev->num)
            put(o, " delivered as vector %llu", (unsigned long long)ev->result);
        break;
    case EV_MEMORY: put(o, " address=0x%08x access=%c", ev->args[0], (char)ev->args[1]); break;
    case EV_GUEST_ERROR: put(o, " rom_offset=0x%x", ev->args[0]); break;
    case EV_INPUT: {
        put(o, " serial %u bytes \"", ev->num);
        const uint8_t *bytes = (const uint8_t *)ev->args;
        for (unsigned i = 0; i < ev->num && i < 16; i++)
            put(o, bytes[i] >= 0x20 && bytes[i] < 0x7F && bytes[i] != '"' && bytes[i] != '\\' ? "%c" : "\\x%02x",
                bytes[i]);
        put(o, "\"");
        break;
    }
    case EV_END: put(o, " %s value=%u", machine_end_name((machine_end)ev->num), ev->args[0]); break;
    }
}

size_t ev_format_text(const vm_event *ev, size_t index, char *buf, size_t len)
{
    out o = {buf, len, 0};
    put(&o, "#%zu icount=%llu eip=0x%08x", index, (unsigned long long)ev->icount, ev->eip);
    if (ev->kind != EV_VMI_CALL)
        put(&o, " %s", ev_kind_name((ev_kind)ev->kind));
    put_payload(&o, ev);
    return o.pos;
}

/* JSON through jansson, so the output is valid JSON whatever the guest feeds in. */

static void set(json_t *obj, const char *key, json_t *v) { json_object_set_new(obj, key, v); }

/* An unsigned number; above what jansson's signed integers hold, its decimal text. */
static json_t *json_u64(uint64_t v)
{
    if (v <= (uint64_t)INT64_MAX)
        return json_integer((json_int_t)v);
    char text[24];
    snprintf(text, sizeof text, "%llu", (unsigned long long)v);
    return json_string(text);
}

static json_t *json_value(rom_type t, uint64_t v, const vm_event *ev, int argi)
{
    switch (t) {
    case ROM_T_DEC: return json_integer((uint32_t)v);
    case ROM_T_U64: case ROM_T_NS: return json_u64(v);
    case ROM_T_U64LO: return json_u64((uint64_t)(argi >= 0 && argi < 4 ? ev->args[argi + 1] : 0) << 32 | (uint32_t)v);
    default: {
        char text[160];
        out o = {text, sizeof text, 0};
        put_value(&o, t, v, ev, argi);
        return json_string(text);
    }
    }
}

static void json_call(json_t *obj, const vm_event *ev)
{
    const rom_call *c = call_of(ev);
    set(obj, "call", json_string(c ? c->name : "undefined"));
    set(obj, "num", json_integer(ev->num));
    json_t *args = json_object();
    for (int i = 0; c && i < ev->nargs && i < 5; i++)
        if (c->arg_names[i] && c->arg_names[i][0])
            set(args, c->arg_names[i], json_value(c->arg_types[i], ev->args[i], ev, i));
    set(obj, "args", args);
    if (c && c->result_type != ROM_T_NONE)
        set(obj, "result", json_value(c->result_type, ev->result, ev, -1));
    if (ev->failed)
        set(obj, "failed", json_true());
}

/* Serial bytes as a string whose code points are the bytes (U+0000..U+00FF), so any byte,
 * including control characters and bytes above 0x7F, survives as valid JSON. */
static json_t *json_bytes(const uint8_t *bytes, unsigned n)
{
    char utf8[2 * 16];
    size_t len = 0;
    for (unsigned i = 0; i < n && i < 16; i++) {
        if (bytes[i] < 0x80) {
            utf8[len++] = (char)bytes[i];
        } else {
            utf8[len++] = (char)(0xC0 | bytes[i] >> 6);
            utf8[len++] = (char)(0x80 | (bytes[i] & 0x3F));
        }
    }
    return json_stringn(utf8, len);
}

static void json_payload(json_t *obj, const vm_event *ev)
{
    switch ((ev_kind)ev->kind) {
    case EV_VMI_CALL: json_call(obj, ev); break;
    case EV_PORT_IN:
        set(obj, "port", json_integer(ev->num));
        set(obj, "size", json_integer(ev->args[0]));
        set(obj, "value", json_u64(ev->result));
        break;
    case EV_PORT_OUT:
        set(obj, "port", json_integer(ev->num));
        set(obj, "size", json_integer(ev->args[0]));
        set(obj, "value", json_integer(ev->args[1]));
        break;
    case EV_EXCEPTION:
        set(obj, "vector", json_integer(ev->num));
        if (ev->args[2] & 1)
            set(obj, "error", json_integer(ev->args[0]));
        if (ev->num == 14)
            set(obj, "cr2", json_integer(ev->args[1]));
        set(obj, "source", json_string(exception_source(ev)));
        if (ev->failed)
            set(obj, "delivered", json_false());
        else if (ev->result != ev->num)
            set(obj, "delivered_as", json_u64(ev->result));
        break;
    case EV_MEMORY: {
        char access[2] = {(char)(ev->args[1] & 0x7F), 0};
        set(obj, "address", json_integer(ev->args[0]));
        set(obj, "access", json_string(access));
        break;
    }
    case EV_GUEST_ERROR: set(obj, "rom_offset", json_integer(ev->args[0])); break;
    case EV_INPUT:
        set(obj, "bytes", json_integer(ev->num));
        set(obj, "text", json_bytes((const uint8_t *)ev->args, ev->num));
        break;
    case EV_END:
        set(obj, "reason", json_string(machine_end_name((machine_end)ev->num)));
        set(obj, "value", json_integer(ev->args[0]));
        break;
    }
}

size_t ev_format_json(const vm_event *ev, size_t index, char *buf, size_t len)
{
    json_t *obj = json_object();
    if (!obj)
        return 0;
    set(obj, "seq", json_u64(index));
    set(obj, "icount", json_u64(ev->icount));
    set(obj, "eip", json_integer(ev->eip));
    set(obj, "kind", json_string(ev_kind_name((ev_kind)ev->kind)));
    json_payload(obj, ev);
    size_t n = json_dumpb(obj, buf, len, JSON_COMPACT);
    json_decref(obj);
    if (len)
        buf[n < len ? n : len - 1] = 0;
    return n;
}

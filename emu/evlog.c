#include "emu/evlog.h"

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

/* One value as text; json selects quoting of non-numeric values. */
static void put_value(out *o, rom_type t, uint64_t v, const vm_event *ev, bool json, int argi)
{
    const char *q = json ? "\"" : "";
    switch (t) {
    case ROM_T_DEC: put(o, "%u", (uint32_t)v); break;
    case ROM_T_U64: case ROM_T_NS: put(o, "%llu", (unsigned long long)v); break;
    case ROM_T_COUNTER: put(o, "%s%s%s", q, counter_name((uint32_t)v), q); break;
    case ROM_T_CALL: {
        const rom_call *c = rom_call_find((uint32_t)v);
        put(o, "%s%s%s", q, c ? c->name : "undefined", q);
        break;
    }
    case ROM_T_RELOC:
        put(o, "%s%s 0x%08x%s", q, reloc_name((uint32_t)(v >> 32) & 0xFF), (uint32_t)v, q);
        break;
    case ROM_T_CPUID:
        put(o, "%seax=0x%08x ebx=0x%08x ecx=0x%08x edx=0x%08x%s", q, (uint32_t)v, ev->extra[0], ev->extra[1],
            ev->extra[2], q);
        break;
    case ROM_T_PTE: put(o, "%s", q); put_pte(o, (uint32_t)v); put(o, "%s", q); break;
    case ROM_T_PAGEFLAGS: put(o, "%s", q); put_page_flags(o, (uint32_t)v); put(o, "%s", q); break;
    case ROM_T_ALLOCFLAGS: put(o, "%s", q); put_alloc_flags(o, (uint32_t)v); put(o, "%s", q); break;
    case ROM_T_ALARM: put(o, "%s", q); put_alarm_flags(o, (uint32_t)v); put(o, "%s", q); break;
    case ROM_T_U64LO:
        put(o, "%llu", (unsigned long long)((uint64_t)(argi < 4 ? ev->args[argi + 1] : 0) << 32 | (uint32_t)v));
        break;
    case ROM_T_DESCLO: put(o, "%s", q); put_descriptor(o, (uint32_t)v, argi < 4 ? ev->args[argi + 1] : 0); put(o, "%s", q); break;
    case ROM_T_GATELO: put(o, "%s", q); put_gate(o, (uint32_t)v, argi < 4 ? ev->args[argi + 1] : 0); put(o, "%s", q); break;
    default: put(o, "%s0x%08x%s", q, (uint32_t)v, q); break;
    }
}

static void put_call(out *o, const vm_event *ev, bool json)
{
    const rom_call *c = call_of(ev);
    const char *name = c ? c->name : "undefined";
    if (json)
        put(o, ",\"call\":\"%s\",\"num\":%u,\"args\":{", name, ev->num);
    else
        put(o, " vmi %s(", name);
    bool first = true;
    for (int i = 0; c && i < ev->nargs && i < 5; i++) {
        if (!c->arg_names[i] || !c->arg_names[i][0])
            continue;
        put(o, json ? "%s\"%s\":" : "%s%s=", first ? "" : json ? "," : ", ", c->arg_names[i]);
        put_value(o, c->arg_types[i], ev->args[i], ev, json, i);
        first = false;
    }
    put(o, json ? "}" : ")");
    if (c && c->result_type != ROM_T_NONE) {
        put(o, json ? ",\"result\":" : " = ");
        put_value(o, c->result_type, ev->result, ev, json, -1);
    }
    if (ev->failed)
        put(o, json ? ",\"failed\":true" : " FAILED");
}

static void put_payload(out *o, const vm_event *ev, bool json)
{
    switch ((ev_kind)ev->kind) {
    case EV_VMI_CALL: put_call(o, ev, json); break;
    case EV_PORT_IN:
        put(o, json ? ",\"port\":%u,\"size\":%u,\"value\":%llu" : " port 0x%x in size=%u value=0x%llx", ev->num,
            ev->args[0], (unsigned long long)ev->result);
        break;
    case EV_PORT_OUT:
        put(o, json ? ",\"port\":%u,\"size\":%u,\"value\":%u" : " port 0x%x out size=%u value=0x%x", ev->num,
            ev->args[0], ev->args[1]);
        break;
    case EV_EXCEPTION:
        put(o, json ? ",\"vector\":%u" : " vector=%u", ev->num);
        if (ev->args[2] & 1)
            put(o, json ? ",\"error\":%u" : " error=0x%x", ev->args[0]);
        if (ev->num == 14)
            put(o, json ? ",\"cr2\":%u" : " cr2=0x%08x", ev->args[1]);
        put(o, json ? ",\"source\":\"%s\"" : " (%s)",
            ev->args[2] & 4 ? "external" : ev->args[2] & 2 ? "software" : "exception");
        if (ev->failed)
            put(o, json ? ",\"delivered\":false" : " NOT DELIVERED");
        else if (ev->result != ev->num)
            put(o, json ? ",\"delivered_as\":%llu" : " delivered as vector %llu", (unsigned long long)ev->result);
        break;
    case EV_MEMORY:
        put(o, json ? ",\"address\":%u,\"access\":\"%c\"" : " address=0x%08x access=%c", ev->args[0], (char)ev->args[1]);
        break;
    case EV_GUEST_ERROR: put(o, json ? ",\"rom_offset\":%u" : " rom_offset=0x%x", ev->args[0]); break;
    case EV_INPUT: {
        char text[64];
        size_t n = 0;
        const uint8_t *bytes = (const uint8_t *)ev->args;
        for (unsigned i = 0; i < ev->num && i < 16 && n + 5 < sizeof text; i++)
            n += (size_t)snprintf(text + n, sizeof text - n, bytes[i] >= 0x20 && bytes[i] < 0x7F && bytes[i] != '"' &&
                                  bytes[i] != '\\' ? "%c" : "\\x%02x", bytes[i]);
        put(o, json ? ",\"bytes\":%u,\"text\":\"%s\"" : " serial %u bytes \"%s\"", ev->num, text);
        break;
    }
    case EV_END:
        put(o, json ? ",\"reason\":\"%s\",\"value\":%u" : " %s value=%u", machine_end_name((machine_end)ev->num),
            ev->args[0]);
        break;
    }
}

size_t ev_format_text(const vm_event *ev, size_t index, char *buf, size_t len)
{
    out o = {buf, len, 0};
    put(&o, "#%zu icount=%llu eip=0x%08x", index, (unsigned long long)ev->icount, ev->eip);
    if (ev->kind != EV_VMI_CALL)
        put(&o, " %s", ev_kind_name((ev_kind)ev->kind));
    put_payload(&o, ev, false);
    return o.pos;
}

size_t ev_format_json(const vm_event *ev, size_t index, char *buf, size_t len)
{
    out o = {buf, len, 0};
    put(&o, "{\"seq\":%zu,\"icount\":%llu,\"eip\":%u,\"kind\":\"%s\"", index, (unsigned long long)ev->icount, ev->eip,
        ev_kind_name((ev_kind)ev->kind));
    put_payload(&o, ev, true);
    put(&o, "}");
    return o.pos;
}

#include "frontend/evseq.h"

#include <stdio.h>
#include <string.h>

#include "emu/recplay.h"
#include "frontend/vmicall.h"

bool evseq_open(evseq *s, const char *path, vm_error *err)
{
    memset(s, 0, sizeof *s);
    s->path = path;
    s->r = rec_open(path, &s->h, err);
    return s->r != NULL;
}

int evseq_next(evseq *s, vm_event *ev, vm_error *err)
{
    if (s->over)
        return 0;
    rec_entry e;
    int got;
    uint64_t ifc = 0; /* counted by the entries since the last event */
    while ((got = rec_next(s->r, &e, err)) == 1) {
        ifc += recplay_entry_ifcalls(&e);
        if (e.kind == REC_END) {
            s->ended = true;
            s->end_icount = e.icount;
            memcpy(&s->end_reason, e.payload, sizeof s->end_reason);
        } else if (recplay_decode_event(&e, ev)) {
            s->ifcalls += ifc;
            s->ifcalls_before = ifc;
            s->call_no = s->calls + s->ifcalls;
            s->calls += ev->kind == EV_VMI_CALL;
            s->markers += ev->kind == EV_MARKER;
            return 1;
        }
    }
    s->ifcalls += ifc;
    rec_position at = rec_reader_position(s->r);
    if (got < 0 && !at.truncated) /* corrupt: what follows cannot be trusted as a run */
        return -1;
    if (got < 0)
        snprintf(s->cut, sizeof s->cut, "%s", err->msg);
    else if (!s->ended)
        snprintf(s->cut, sizeof s->cut, "%s ends after %llu entries without an end entry", s->path,
                 (unsigned long long)at.entries);
    err->code = 0;
    err->msg[0] = 0;
    s->over = true;
    return 0;
}

void evseq_close(evseq *s)
{
    rec_close_reader(s->r);
    s->r = NULL;
}

void evseq_body(const vm_event *ev, char *buf, size_t len)
{
    char line[512];
    ev_format_text(ev, 0, line, sizeof line);
    const char *at = strstr(line, " eip=0x");
    at = at && strlen(at) >= 15 ? at + 15 : line; /* " eip=0x" and eight digits */
    while (*at == ' ')
        at++;
    snprintf(buf, len, "%s", at);
}

const char *evseq_kind_label(const vm_event *ev, char *buf, size_t len)
{
    switch ((ev_kind)ev->kind) {
    case EV_VMI_CALL: snprintf(buf, len, "%s", vmicall_name(ev->num)); break;
    case EV_EXCEPTION:
        if (ev->args[2] & 4)
            snprintf(buf, len, "interrupt 0x%02x", ev->num);
        else if (ev->args[2] & 2)
            snprintf(buf, len, "int 0x%02x", ev->num);
        else
            snprintf(buf, len, "exception %u", ev->num);
        break;
    case EV_PORT_IN: case EV_PORT_OUT:
        snprintf(buf, len, "%s 0x%x", ev_kind_name((ev_kind)ev->kind), ev->num);
        break;
    default: snprintf(buf, len, "%s", ev_kind_name((ev_kind)ev->kind)); break;
    }
    return buf;
}

const char *evseq_caller(const symtab *syms, const vm_event *ev)
{
    const symbol *sym = syms ? symtab_find(syms, ev->eip) : NULL;
    return sym ? sym->name : NULL;
}

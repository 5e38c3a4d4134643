#include "emu/whatif.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu/machine.h"
#include "emu/recplay.h"
#include "rom/rom.h"

/* A number, decimal or 0x hex, all of the text (a leading 0 is not octal: 010 is ten). */
static bool parse_num(const char *s, uint64_t *v)
{
    if (!*s || *s == '-' || *s == '+' || *s == ' ')
        return false;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? 16 : 10);
    if (errno || *end)
        return false;
    *v = x;
    return true;
}

bool whatif_parse(const char *spec, whatif *w, vm_error *err)
{
    *w = (whatif){0};
    char buf[256];
    if (strlen(spec) >= sizeof buf)
        return vm_fail(err, VM_EINVAL, "override '%.40s...': too long", spec);
    snprintf(buf, sizeof buf, "%s", spec);
    char *save = NULL, *word = strtok_r(buf, " \t", &save);
    if (!word || strcmp(word, "call") != 0)
        return vm_fail(err, VM_EINVAL, "override '%s': expected 'call N result=V' or 'call N delay=CYCLES'", spec);
    word = strtok_r(NULL, " \t", &save);
    if (!word || !parse_num(word, &w->call))
        return vm_fail(err, VM_EINVAL, "override '%s': 'call' needs a call number N (as `calls` lists them)", spec);
    while ((word = strtok_r(NULL, " \t", &save))) {
        char *eq = strchr(word, '=');
        uint64_t v;
        if (!eq || !parse_num(eq + 1, &v))
            return vm_fail(err, VM_EINVAL, "override '%s': '%s' is not result=V or delay=CYCLES (a number)", spec, word);
        *eq = 0;
        if (strcmp(word, "result") == 0 && !w->set_result)
            w->set_result = true, w->result = v;
        else if (strcmp(word, "delay") == 0 && !w->set_delay)
            w->set_delay = true, w->delay = v;
        else
            return vm_fail(err, VM_EINVAL, "override '%s': '%s' is not result or delay, or is given twice", spec, word);
    }
    if (!w->set_result && !w->set_delay)
        return vm_fail(err, VM_EINVAL, "override '%s': say what changes: result=V or delay=CYCLES", spec);
    return true;
}

static int result_bits(const rom_call *c)
{
    switch (c->result_type) {
    case ROM_T_NONE:
        return 0;
    case ROM_T_U64:
    case ROM_T_NS:
    case ROM_T_RELOC:
        return 64;
    default:
        return 32;
    }
}

bool whatif_fits(const whatif *w, unsigned num, vm_error *err)
{
    const rom_call *c = rom_call_logged(num);
    const char *name = c ? c->name : "?";
    if (w->set_result && (!c || result_bits(c) == 0))
        return vm_fail(err, VM_EINVAL, "override: VMI call #%llu is %s, which returns nothing: result= does not apply%s",
                       (unsigned long long)w->call, name, num == VMI_CALL_SetAlarm ? " (delay=CYCLES does)" : "");
    if (w->set_result && result_bits(c) == 32 && w->result > UINT32_MAX)
        return vm_fail(err, VM_EINVAL, "override: VMI call #%llu is %s, which returns 32 bits in EAX: 0x%llx does not fit",
                       (unsigned long long)w->call, name, (unsigned long long)w->result);
    if (w->set_delay && num != VMI_CALL_SetAlarm)
        return vm_fail(err, VM_EINVAL, "override: VMI call #%llu is %s: delay= applies to SetAlarm only",
                       (unsigned long long)w->call, name);
    return true;
}

void whatif_describe(const whatif *w, char *buf, size_t len)
{
    const rom_call *c = rom_call_logged(w->callnum);
    int n = snprintf(buf, len, "VMI call #%llu (%s)", (unsigned long long)w->call, c ? c->name : "?");
    if (w->set_result && n > 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, " returned 0x%llx instead of 0x%llx", (unsigned long long)w->result,
                      (unsigned long long)w->real_result);
    if (w->set_delay && n > 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, "%s armed its alarm %llu cycles late", w->set_result ? " and" : "",
                 (unsigned long long)w->delay);
}

void whatif_on_call(machine *m, vm_event *ev)
{
    whatif *w = m->whatif;
    size_t total = evlog_count(&m->log);
    if (total != w->events) /* another event, or the log went back: count afresh */
        w->calls = evlog_count_kind(&m->log, EV_VMI_CALL, total);
    uint64_t index = w->calls;
    w->calls = index + 1; /* this one, about to be logged */
    w->events = total + 1;
    if (index != w->call)
        return;
    vm_error err = {0};
    if (!whatif_fits(w, ev->num, &err)) { /* only where nothing checked it before (a live run) */
        snprintf(w->refused, sizeof w->refused, "%.190s", err.msg);
        return;
    }
    w->refused[0] = 0;
    w->callnum = ev->num;
    w->real_result = ev->result;
    if (w->set_result) {
        bool ok = vcpu_set(m->cpu, CPU_EAX, (uint32_t)w->result);
        if (result_bits(rom_call_logged(ev->num)) == 64)
            ok &= vcpu_set(m->cpu, CPU_EDX, (uint32_t)(w->result >> 32));
        if (!ok)
            machine_end_run(m, END_ERROR, "emulator error: cannot set the overridden result of VMI call #%llu",
                            (unsigned long long)index);
        ev->result = w->result;
    }
    if (w->set_delay && !ev->failed) {
        vmi_alarm *a = &m->alarms.a[ev->args[0] & ALARM_COUNTER_MASK]; /* SetAlarm succeeded: a known counter */
        a->expiry = a->expiry + w->delay < a->expiry ? UINT64_MAX : a->expiry + w->delay;
        vcpu_request_stop(m->cpu); /* plan the next timer event again */
    }
    w->applied++;
    m->furthest = machine_insns(m); /* an alternate future: its output is new, and shown */
    char why[200];
    whatif_describe(w, why, sizeof why);
    recplay_go_live(m, index, why);
}

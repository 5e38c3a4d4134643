/* The shell's `history` and `override` commands: history queries over the run so far (the
 * past is run again from the first snapshot with a collection running), and what-if overrides
 * of one VMI call's outcome. */
#include "frontend/shell.h"

#include <string.h>

#include "emu/recplay.h"
#include "emu/snapshot.h"
#include "emu/whatif.h"
#include "frontend/query.h"
#include "rom/rom.h"

static bool eval_cb(void *ctx, const char *text, uint32_t *v, vm_error *err) { return shell_eval(ctx, text, v, err); }

bool shell_cmd_history(shell *s, int argc, char **argv, vm_error *err)
{
    static query q;
    if (!query_parse(&q, argc - 1, argv + 1, eval_cb, s, err))
        return false;
    if (q.calls) { /* the event log has every call so far */
        query_end(&q, s->m, s->syms, s->out);
        return true;
    }
    uint64_t now = dbg_icount(&s->d);
    if (now > 0 && (snap_count(s->m) == 0 || snap_insns(s->m, 0) > 0))
        return vm_fail(err, VM_EINVAL, "history runs the past again from power-on: it needs snapshots (drop --snap-every 0)");
    if (now > 0 && dbg_goto(&s->d, 0, err) == DBG_FAILED)
        return false;
    if (!query_begin(&q, s->m, err)) {
        vm_error back = {0};
        if (now > 0 && dbg_goto(&s->d, now, &back) == DBG_FAILED)
            fprintf(s->out, "could not return to icount %llu: %s\n", (unsigned long long)now, back.msg);
        return false;
    }
    dbg_stop why = now > 0 ? dbg_goto(&s->d, now, err) : DBG_STOPPED;
    query_end(&q, s->m, s->syms, s->out);
    return why != DBG_FAILED;
}

static void show_override(shell *s)
{
    whatif *w = s->m->whatif;
    char text[300];
    if (!w)
        fprintf(s->out, "no override\n");
    else if (w->refused[0])
        fprintf(s->out, "override not applied: %s\n", w->refused);
    else if (w->applied) {
        whatif_describe(w, text, sizeof text);
        fprintf(s->out, "override applied: %s; the run is live from there%s\n", text,
                recplay_live(s->m) ? " (the record no longer applies)" : "");
    } else
        fprintf(s->out, "override armed for VMI call #%llu\n", (unsigned long long)w->call);
}

bool shell_cmd_override(shell *s, int argc, char **argv, vm_error *err)
{
    static whatif w;
    if (argc == 1) {
        show_override(s);
        return true;
    }
    if (argc == 2 && strcmp(argv[1], "off") == 0) {
        s->m->whatif = NULL; /* a call already changed stays changed: go back before it to undo */
        fprintf(s->out, "override off\n");
        return true;
    }
    char spec[256] = "";
    for (int i = 1; i < argc; i++)
        snprintf(spec + strlen(spec), sizeof spec - strlen(spec), "%s%s", i > 1 ? " " : "", argv[i]);
    whatif nw;
    if (!whatif_parse(spec, &nw, err))
        return false;
    size_t at, calls = evlog_count_kind(&s->m->log, EV_VMI_CALL, evlog_count(&s->m->log));
    vm_event ev;
    if (nw.call < calls) { /* made already: check it fits, then go back to just before it */
        if (!evlog_find_kind(&s->m->log, EV_VMI_CALL, nw.call, &at) || !evlog_get(&s->m->log, at, &ev))
            return vm_fail(err, VM_EIO, "cannot read VMI call #%llu from the event log", (unsigned long long)nw.call);
        if (!whatif_fits(&nw, ev.num, err))
            return false;
        if (dbg_goto_call(&s->d, (size_t)nw.call, err) == DBG_FAILED)
            return false;
        fprintf(s->out, "At icount %llu, just before VMI call #%llu\n", (unsigned long long)dbg_icount(&s->d),
                (unsigned long long)nw.call);
    }
    w = nw;
    s->m->whatif = &w;
    fprintf(s->out, "override armed for VMI call #%llu: when it is made, %s\n", (unsigned long long)w.call,
            recplay_replaying(s->m) ? "the run leaves the record (from there on it is live, not replayed)"
                                    : "its outcome changes");
    return true;
}

#include "frontend/query.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/eventsink.h"
#include "frontend/exitcode.h"
#include "frontend/options.h"
#include "frontend/vmiemu_main.h"
#include "frontend/plural.h"
#include "mmu/pagewalk.h"
#include "rom/rom.h"

static bool parse_number(const char *s, uint32_t *v)
{
    if (!*s || *s == '-' || *s == '+' || *s == ' ')
        return false;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 0);
    if (errno || *end || x > UINT32_MAX)
        return false;
    *v = (uint32_t)x;
    return true;
}

#define USAGE "history pte LINEAR | history gdt N | history idt V | history cr3 | history call NAME"

bool query_parse(query *q, int argc, char **argv, bool (*eval)(void *ctx, const char *s, uint32_t *v, vm_error *err),
                 void *ctx, vm_error *err)
{
    *q = (query){0};
    static const struct {
        const char *word;
        hist_kind kind;
        bool arg;
    } kinds[] = {{"pte", HIST_PTE, true}, {"gdt", HIST_GDT, true}, {"idt", HIST_IDT, true}, {"cr3", HIST_CR3, false}};
    if (argc < 1)
        return vm_fail(err, VM_EINVAL, "usage: " USAGE);
    if (strcmp(argv[0], "call") == 0) {
        const rom_call *c = argc == 2 ? rom_call_by_name(argv[1]) : NULL;
        if (!c)
            return vm_fail(err, VM_EINVAL, argc == 2 ? "history call: no VMI call is named '%s'" : "usage: history call NAME",
                           argc == 2 ? argv[1] : "");
        q->calls = true;
        q->callnum = c->num;
        return true;
    }
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (strcmp(argv[0], kinds[i].word) != 0)
            continue;
        q->kind = kinds[i].kind;
        if (argc != (kinds[i].arg ? 2 : 1))
            return vm_fail(err, VM_EINVAL, "usage: " USAGE);
        if (!kinds[i].arg)
            return true;
        if (eval ? !eval(ctx, argv[1], &q->arg, err) : !parse_number(argv[1], &q->arg))
            return err->code ? false : vm_fail(err, VM_EINVAL, "history %s: '%s' is not a number", argv[0], argv[1]);
        if ((q->kind == HIST_IDT && q->arg > 255) || (q->kind == HIST_GDT && q->arg > 8191))
            return vm_fail(err, VM_EINVAL, "history %s: %u is past the largest %s (%u)", argv[0], q->arg,
                           q->kind == HIST_IDT ? "vector" : "descriptor", q->kind == HIST_IDT ? 255u : 8191u);
        return true;
    }
    return vm_fail(err, VM_EINVAL, "history: '%s' is not pte, gdt, idt, cr3 or call (usage: " USAGE ")", argv[0]);
}

bool query_begin(query *q, machine *m, vm_error *err)
{
    if (q->calls)
        return true;
    return history_start(m, &q->h, q->kind, q->arg, err);
}

static void format_value(const query *q, uint8_t what, uint64_t v, char *buf, size_t len)
{
    char flags[64];
    switch (what) {
    case HIST_NONE:
        snprintf(buf, len, "%s", q->kind == HIST_PTE ? "(no entry: paging off or PAE)" : "(beyond the table's limit)");
        return;
    case HIST_PDE:
        pagewalk_flags((uint32_t)v, flags, sizeof flags);
        snprintf(buf, len, "PDE 0x%08x [%s]%s", (uint32_t)v, flags, v & 1 ? " (4 MiB page)" : " (no table)");
        return;
    case HIST_PTE_V:
        pagewalk_flags((uint32_t)v, flags, sizeof flags);
        snprintf(buf, len, "PTE 0x%08x [%s]", (uint32_t)v, flags);
        return;
    default:
        if (q->kind == HIST_CR3)
            snprintf(buf, len, "0x%08x", (uint32_t)v);
        else
            snprintf(buf, len, "0x%016llx", (unsigned long long)v);
    }
}

static void print_change(const query *q, const hist_change *c, const symtab *syms, FILE *out)
{
    char sym[200] = "", old[100], new[100], cause[200];
    char name[160];
    if (syms && symtab_describe(syms, c->eip, name, sizeof name))
        snprintf(sym, sizeof sym, " <%s>", name);
    format_value(q, c->old_what, c->old_value, old, sizeof old);
    format_value(q, c->new_what, c->new_value, new, sizeof new);
    const rom_call *rc = rom_call_logged(c->callnum);
    switch (c->cause) {
    case HIST_INITIAL:
        fprintf(out, "icount %-12llu eip 0x%08x%s  initial: %s\n", (unsigned long long)c->icount, c->eip, sym, new);
        return;
    case HIST_BY_CALL:
        snprintf(cause, sizeof cause, "VMI call #%llu %s", (unsigned long long)c->call, rc ? rc->name : "?");
        break;
    case HIST_RAW_WRITE:
        snprintf(cause, sizeof cause, "raw write to 0x%08llx", (unsigned long long)c->where);
        break;
    case HIST_CPU_BITS:
        if (c->where)
            snprintf(cause, sizeof cause, "the CPU (accessed bit), store to 0x%08llx", (unsigned long long)c->where);
        else
            snprintf(cause, sizeof cause, "the CPU (accessed/dirty bits), after icount %llu", (unsigned long long)c->since);
        break;
    default:
        snprintf(cause, sizeof cause, "raw change without a store (mov cr3, lgdt/lidt, paging on) after icount %llu",
                 (unsigned long long)c->since);
    }
    fprintf(out, "icount %-12llu eip 0x%08x%s  %s -> %s  by %s\n", (unsigned long long)c->icount, c->eip, sym, old, new,
            cause);
}

static void print_calls(const query *q, machine *m, const symtab *syms, FILE *out)
{
    size_t count = evlog_count(&m->log), n = 0, shown = 0;
    vm_event ev;
    for (size_t i = 0; i < count && evlog_get(&m->log, i, &ev); i++) {
        if (ev.kind != EV_VMI_CALL)
            continue;
        if (ev.num == q->callnum) {
            char text[512];
            eventsink_format_text(&ev, n, syms, text, sizeof text);
            fprintf(out, "%s\n", text);
            shown++;
        }
        n++;
    }
    const rom_call *c = rom_call_logged(q->callnum);
    fprintf(out, "%zu call%s of %s among %zu VMI call%s; `goto call N` goes to one\n", shown, plural_s(shown),
            c ? c->name : "?", n, plural_s(n));
}

void query_end(query *q, machine *m, const symtab *syms, FILE *out)
{
    if (q->calls) {
        print_calls(q, m, syms, out);
        return;
    }
    if (q->h.m) {
        history_check(&q->h); /* a raw register change after the last event */
        history_stop(&q->h);
    }
    char what[80];
    if (q->kind == HIST_PTE)
        snprintf(what, sizeof what, "the page-table entry mapping 0x%08x", q->arg);
    else if (q->kind == HIST_CR3)
        snprintf(what, sizeof what, "CR3");
    else
        snprintf(what, sizeof what, "%s entry %u", q->kind == HIST_GDT ? "GDT" : "IDT", q->arg);
    fprintf(out, "history of %s: %zu change%s\n", what, q->h.n ? q->h.n - 1 : 0, q->h.n == 2 ? "" : "s");
    for (size_t i = 0; i < q->h.n; i++)
        print_change(q, &q->h.v[i], syms, out);
    if (q->h.oom)
        fprintf(out, "(out of memory: later changes are missing)\n");
    if (q->h.trace_failed)
        fprintf(out, "(the store trace failed: raw writes may be missing)\n");
    if (q->h.n > 1)
        fprintf(out, "`goto icount N` goes to just before any of them\n");
    history_free(&q->h);
}

int query_main(int argc, char **argv, const char *prog)
{
    /* query RECORD history KIND [ARG] [options] KERNEL */
    if (argc < 4 || strcmp(argv[2], "history") != 0) {
        fprintf(stderr, "%s: usage: %s query RECORD " USAGE " [options] KERNEL\n", prog, prog);
        return EXIT_USAGE;
    }
    static query q;
    vm_error err = {0};
    int words = strcmp(argv[3], "cr3") == 0 ? 1 : 2;
    if (3 + words > argc)
        words = argc - 3;
    if (!query_parse(&q, words, argv + 3, NULL, NULL, &err)) {
        fprintf(stderr, "%s: query: %s\n", prog, err.msg);
        return EXIT_USAGE;
    }
    /* The rest is a replay's command line: the kernel, --initrd, and options. */
    int rest = argc - 3 - words, n = 0;
    char **args = calloc((size_t)rest + 6, sizeof *args);
    if (!args) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return EXIT_EMULATOR;
    }
    args[n++] = (char *)prog;
    args[n++] = "--serial";
    args[n++] = "none";
    args[n++] = "--replay";
    args[n++] = argv[1];
    for (int i = 0; i < rest; i++)
        args[n++] = argv[3 + words + i];
    options o;
    int status;
    if (!options_parse(&o, n, args, &err)) {
        fprintf(stderr, "%s: query: %s\n", prog, err.msg);
        status = EXIT_USAGE;
    } else if (o.shell || o.script || o.gdb_spec || o.record_path || o.override_given) {
        fprintf(stderr, "%s: query: runs the record alone (no -d, -x, --gdb, --record, --override)\n", prog);
        status = EXIT_USAGE;
    } else if (o.replay_path != argv[1]) { /* a later --replay would quietly answer for another record */
        fprintf(stderr, "%s: query: the record is %s: --replay %s is not taken\n", prog, argv[1], o.replay_path);
        status = EXIT_USAGE;
    } else {
        o.query = &q;
        status = vmiemu_run_options(&o, prog);
        /* The answer stands if the replay matched; how the guest ended is the record's business. */
        if (status != EXIT_USAGE && status != EXIT_EMULATOR && status != EXIT_DIVERGED && status != EXIT_RECORD_CUT &&
            status < 128)
            status = 0;
    }
    free(args);
    return status;
}

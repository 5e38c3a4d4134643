#include "frontend/shell.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/descriptor.h"
#include "emu/recplay.h"
#include "emu/snapshot.h"
#include "frontend/callstats.h"
#include "frontend/checkreport.h"
#include "frontend/eventsink.h"
#include "frontend/exitcode.h"
#include "frontend/schedule.h"
#include "frontend/screenshot.h"
#include "frontend/stopsignal.h"
#include "frontend/unwind.h"
#include "frontend/vmicall.h"
#include "frontend/outpaths.h"
#include "frontend/plural.h"
#include "mmu/pagewalk.h"
#include "rom/rom.h"

#define MAX_ARGS 8

typedef bool (*command_fn)(shell *s, int argc, char **argv, vm_error *err);

typedef struct command {
    const char *name;
    const char *alias;
    command_fn run;
    const char *usage;
    const char *help;
} command;

static const command *find_command(const char *name);

/* ---- parsing ---- */

static bool parse_u64(const char *t, uint64_t *v)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(t, &end, 0);
    if (!*t || *end || errno || *t == '-')
        return false;
    *v = x;
    return true;
}

static bool reg_by_name(const char *name, cpu_reg *r)
{
    for (int i = 0; i < CPU_NREGS; i++)
        if (strcmp(vcpu_reg_names[i], name) == 0) {
            *r = (cpu_reg)i;
            return true;
        }
    return false;
}

/* An address or value: 0x100, 42, $eax, a symbol, symbol+0x10, with an optional leading '*'. */
static bool eval(shell *s, const char *text, uint32_t *v, vm_error *err)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", text[0] == '*' ? text + 1 : text);
    uint32_t offset = 0;
    char *plus = strchr(buf, '+');
    if (plus) {
        uint64_t o;
        if (!parse_u64(plus + 1, &o))
            return vm_fail(err, VM_EINVAL, "'%s' is not an offset", plus + 1);
        offset = (uint32_t)o;
        *plus = 0;
    }
    uint64_t n;
    cpu_reg r;
    if (buf[0] == '$' && reg_by_name(buf + 1, &r))
        *v = dbg_reg(&s->d, r);
    else if (parse_u64(buf, &n) && n <= 0xFFFFFFFFu)
        *v = (uint32_t)n;
    else if (!symtab_lookup(s->syms, buf, v))
        return vm_fail(err, VM_EINVAL, "'%s' is not a number, register ($eax) or symbol", buf);
    *v += offset;
    return true;
}

bool shell_eval(shell *s, const char *text, uint32_t *v, vm_error *err) { return eval(s, text, v, err); }

static const char *where(shell *s, uint32_t addr, char *buf, size_t len)
{
    char sym[96];
    if (symtab_describe(s->syms, addr, sym, sizeof sym))
        snprintf(buf, len, "0x%08x <%s>", addr, sym);
    else
        snprintf(buf, len, "0x%08x", addr);
    return buf;
}

/* ---- reporting ---- */

/* Read up to max bytes at addr, stopping at the first one that cannot be read (the end of RAM,
 * an unmapped page); returns how many were read. */
static size_t read_upto(shell *s, uint32_t addr, void *buf, size_t max)
{
    if (dbg_read(&s->d, addr, buf, max))
        return max;
    size_t n = 0;
    while (n < max && dbg_read(&s->d, addr + (uint32_t)n, (uint8_t *)buf + n, 1))
        n++;
    return n;
}

static void show_insn(shell *s, uint32_t addr, bool current)
{
    uint8_t code[16];
    char text[96], at[128];
    size_t got = read_upto(s, addr, code, sizeof code);
    if (got == 0) {
        fprintf(s->out, "%s %s: (unmapped)\n", current ? "=>" : "  ", where(s, addr, at, sizeof at));
        return;
    }
    disasm_one(s->dis, code, got, addr, text, sizeof text);
    fprintf(s->out, "%s %s: %s\n", current ? "=>" : "  ", where(s, addr, at, sizeof at), text);
}

static void report_stop(shell *s, dbg_stop why)
{
    char at[128];
    uint32_t eip = dbg_reg(&s->d, CPU_EIP);
    const dbg_point *p = s->d.last_hit;
    char call[64];
    switch (why) {
    case DBG_BREAKPOINT:
        if (p && p->kind == DBG_VMI_BREAK) /* stopped at the ROM entry, before the call */
            fprintf(s->out, "Breakpoint %d, VMI call %s at %s", p->id, vmicall_label(p->call, call, sizeof call),
                    where(s, eip, at, sizeof at));
        else
            fprintf(s->out, "Breakpoint %d, %s", p ? p->id : 0, where(s, eip, at, sizeof at));
        break;
    case DBG_WATCHPOINT:
        fprintf(s->out, "Watchpoint %d: %s 0x%08llx by %s", p ? p->id : 0,
                s->m->watch.access == 'r' ? "read of" : "write to", (unsigned long long)s->m->watch.addr,
                where(s, s->m->watch.eip, at, sizeof at));
        break;
    case DBG_ENDED:
        fprintf(s->out, "The guest ended: %s%s%s", machine_end_name(s->m->end), s->m->end_message[0] ? ": " : "",
                s->m->end_message);
        break;
    case DBG_START:
        fprintf(s->out, "No earlier hit: at the start of the recorded past");
        break;
    case DBG_INTERRUPTED:
        fprintf(s->out, "Interrupted at %s", where(s, eip, at, sizeof at));
        break;
    default:
        break;
    }
    if (why == DBG_ENDED && exitcode_message_has_icount(s->m))
        fprintf(s->out, "\n");
    else if (why != DBG_STOPPED)
        fprintf(s->out, " (icount %llu)\n", (unsigned long long)dbg_icount(&s->d));
    if (why != DBG_ENDED)
        show_insn(s, eip, true);
}

static bool run_result(shell *s, dbg_stop why, vm_error *err)
{
    if (why == DBG_FAILED)
        return false;
    report_stop(s, why);
    (void)err;
    return true;
}

static bool count_arg(int argc, char **argv, uint64_t *n, vm_error *err)
{
    *n = 1;
    if (argc > 1 && (!parse_u64(argv[1], n) || *n == 0))
        return vm_fail(err, VM_EINVAL, "'%s' is not a positive count", argv[1]);
    return true;
}

/* ---- commands ---- */

static bool cmd_stepi(shell *s, int argc, char **argv, vm_error *err)
{
    uint64_t n;
    return count_arg(argc, argv, &n, err) && run_result(s, dbg_stepi(&s->d, n, err), err);
}

/* nexti: a call instruction runs to its return address; anything else is a stepi. */
static bool cmd_nexti(shell *s, int argc, char **argv, vm_error *err)
{
    uint64_t n;
    if (!count_arg(argc, argv, &n, err))
        return false;
    for (uint64_t i = 0; i < n; i++) {
        uint32_t eip = dbg_reg(&s->d, CPU_EIP);
        uint8_t code[16];
        char text[96];
        size_t len = dbg_read(&s->d, eip, code, sizeof code) ? disasm_one(s->dis, code, sizeof code, eip, text, sizeof text) : 0;
        dbg_stop why;
        if (len && strncmp(text, "call", 4) == 0) {
            int id = dbg_break(&s->d, eip + (uint32_t)len, err);
            if (!id)
                return false;
            why = dbg_continue(&s->d, err);
            dbg_delete(&s->d, id);
            if (why == DBG_BREAKPOINT && dbg_reg(&s->d, CPU_EIP) == eip + len)
                why = DBG_STOPPED;
        } else {
            why = dbg_stepi(&s->d, 1, err);
        }
        if (why != DBG_STOPPED || i + 1 == n)
            return run_result(s, why, err);
    }
    return true;
}

static bool cmd_continue(shell *s, int argc, char **argv, vm_error *err)
{
    (void)argc;
    (void)argv;
    return run_result(s, dbg_continue(&s->d, err), err);
}

static bool cmd_reverse_stepi(shell *s, int argc, char **argv, vm_error *err)
{
    uint64_t n;
    return count_arg(argc, argv, &n, err) && run_result(s, dbg_reverse_stepi(&s->d, n, err), err);
}

static bool cmd_reverse_continue(shell *s, int argc, char **argv, vm_error *err)
{
    (void)argc;
    (void)argv;
    return run_result(s, dbg_reverse_continue(&s->d, err), err);
}

static bool cmd_break(shell *s, int argc, char **argv, vm_error *err)
{
    if (argc < 2)
        return vm_fail(err, VM_EINVAL, "usage: break ADDR|SYMBOL, or break vmi NAME|NUMBER");
    int id;
    if (strcmp(argv[1], "vmi") == 0) {
        uint16_t num = 0;
        if (argc < 3 || !vmicall_number(argv[2], &num, err))
            return err->code ? false : vm_fail(err, VM_EINVAL, "usage: break vmi NAME|NUMBER");
        if (!(id = dbg_vmi_break(&s->d, num, err)))
            return false;
        char call[64];
        fprintf(s->out, "Breakpoint %d before VMI call %s\n", id, vmicall_label(num, call, sizeof call));
        return true;
    }
    uint32_t addr;
    char at[128];
    if (!eval(s, argv[1], &addr, err) || !(id = dbg_break(&s->d, addr, err)))
        return false;
    fprintf(s->out, "Breakpoint %d at %s\n", id, where(s, addr, at, sizeof at));
    return true;
}

static bool cmd_watch(shell *s, int argc, char **argv, vm_error *err)
{
    uint32_t addr, len = 4;
    uint64_t l;
    bool physical = argc > 3 && strcmp(argv[3], "phys") == 0;
    if (argc < 2 || !eval(s, argv[1], &addr, err))
        return err->code ? false : vm_fail(err, VM_EINVAL, "usage: watch ADDR [LEN] [phys]");
    if (argc > 2) {
        if (!parse_u64(argv[2], &l) || l == 0 || l > 4096)
            return vm_fail(err, VM_EINVAL, "'%s' is not a length from 1 to 4096", argv[2]);
        len = (uint32_t)l;
    }
    char access = argv[0][0] == 'r' ? 'r' : argv[0][0] == 'a' ? 'a' : 'w';
    int id = dbg_watch_access(&s->d, addr, len, physical, access, err);
    if (!id)
        return false;
    fprintf(s->out, "%s %d: %u bytes at 0x%08x%s\n", access == 'r' ? "Read watchpoint" : access == 'a' ? "Access watchpoint" : "Watchpoint",
            id, len, addr, physical ? " (physical)" : "");
    return true;
}

static bool cmd_delete(shell *s, int argc, char **argv, vm_error *err)
{
    uint64_t id = 0;
    if (argc > 1 && !parse_u64(argv[1], &id))
        return vm_fail(err, VM_EINVAL, "'%s' is not a breakpoint number", argv[1]);
    if (!dbg_delete(&s->d, (int)id))
        return vm_fail(err, VM_EINVAL, "no breakpoint number %llu", (unsigned long long)id);
    return true;
}

static void info_registers(shell *s)
{
    for (int r = 0; r < CPU_NREGS; r++) {
        uint32_t v = dbg_reg(&s->d, (cpu_reg)r);
        fprintf(s->out, "%-8s 0x%08x %u\n", vcpu_reg_names[r], v, v);
    }
    fprintf(s->out, "%-8s %llu\n", "icount", (unsigned long long)dbg_icount(&s->d));
}

static void info_breakpoints(shell *s)
{
    int n = 0;
    char at[128];
    for (int i = 0; i < DBG_MAX_POINTS; i++) {
        const dbg_point *p = &s->d.points[i];
        if (!p->id)
            continue;
        if (!n++)
            fprintf(s->out, "Num  Type        What\n");
        if (p->kind == DBG_BREAK)
            fprintf(s->out, "%-4d breakpoint  %s", p->id, where(s, p->addr, at, sizeof at));
        else if (p->kind == DBG_WATCH)
            fprintf(s->out, "%-4d %cwatchpoint %u bytes at 0x%08x (physical 0x%08llx)", p->id,
                    p->access == 'w' ? ' ' : p->access, p->len, p->addr, (unsigned long long)p->phys);
        else
            fprintf(s->out, "%-4d vmi-break   %s", p->id, vmicall_name(p->call));
        fprintf(s->out, " (hit %llu times)\n", (unsigned long long)p->hits);
    }
    if (!n)
        fprintf(s->out, "No breakpoints or watchpoints.\n");
}

static void info_snapshots(shell *s)
{
    size_t n = snap_count(s->m);
    fprintf(s->out, "%zu snapshot%s, %.1f KiB\n", n, plural_s(n), (double)snap_bytes(s->m) / 1024);
    for (size_t i = 0; i < n; i++)
        fprintf(s->out, "  #%zu icount %llu\n", i, (unsigned long long)snap_insns(s->m, i));
}

static void info_table(shell *s, cpu_table which, const char *name)
{
    vcpu_table_reg t;
    if (!vcpu_get_table(s->m->cpu, which, &t)) {
        fprintf(s->out, "%s: unavailable\n", name);
        return;
    }
    fprintf(s->out, "%s base 0x%08x limit 0x%x\n", name, t.base, t.limit);
    for (uint32_t i = 0; i * 8 + 7 <= t.limit && i < 256; i++) {
        uint64_t raw;
        if (!dbg_read(&s->d, t.base + i * 8, &raw, 8) || raw == 0)
            continue;
        char text[128];
        if (which == CPU_IDTR) {
            gate_desc g;
            gate_decode(raw, &g);
            snprintf(text, sizeof text, "%04x:%08x type 0x%x dpl %u%s", g.selector, g.offset, g.type, g.dpl,
                     g.present ? "" : " not present");
        } else {
            seg_desc d;
            desc_decode(raw, &d);
            desc_format(&d, text, sizeof text);
        }
        fprintf(s->out, "  [%3u] %s\n", i, text);
    }
}

static void info_tss(shell *s)
{
    vcpu_table_reg tr;
    uint32_t tss[26];
    if (!vcpu_get_table(s->m->cpu, CPU_TR, &tr) || tr.limit < 0x67 || !dbg_read(&s->d, tr.base, tss, sizeof tss)) {
        fprintf(s->out, "No task register loaded.\n");
        return;
    }
    fprintf(s->out, "TR 0x%04x base 0x%08x limit 0x%x\n  esp0 0x%08x ss0 0x%04x\n  esp1 0x%08x ss1 0x%04x\n"
                    "  esp2 0x%08x ss2 0x%04x\n  cr3 0x%08x\n",
            tr.selector, tr.base, tr.limit, tss[1], tss[2] & 0xFFFF, tss[3], tss[4] & 0xFFFF, tss[5], tss[6] & 0xFFFF,
            tss[7]);
}

static void info_rom(shell *s)
{
    machine *m = s->m;
    fprintf(s->out, "VMI ROM %s at 0x%05x, API %d.%d, %u bytes; Init %s\n", m->cfg.rom_enabled ? "present" : "absent",
            PHYS_ROM_BASE, ROM_API_MAJOR, ROM_API_MINOR, ROM_IMAGE_SIZE, m->rom.initialized ? "called" : "not called");
    fprintf(s->out, "page tables tracked: %u; lazy mode %u\n", m->rom.pt_count, m->rom.lazy_mode);
    for (int i = 0; i < ROM_LINEAR_SLOTS; i++)
        if (m->rom.linear_maps[i].set)
            fprintf(s->out, "linear mapping %d: 0x%08x, %u pages from pfn 0x%x\n", i, m->rom.linear_maps[i].linear,
                    m->rom.linear_maps[i].pages, m->rom.linear_maps[i].pfn);
}

/* info symbol ADDR: as gdb says it, "start_kernel + 18 in section .init.text" without the section. */
static bool info_symbol(shell *s, int argc, char **argv, vm_error *err)
{
    uint32_t addr;
    if (argc < 3 || !eval(s, argv[2], &addr, err))
        return err->code ? false : vm_fail(err, VM_EINVAL, "usage: info symbol ADDR");
    const symbol *sym = symtab_find(s->syms, addr);
    if (!sym)
        fprintf(s->out, "No symbol matches 0x%08x.\n", addr);
    else if (addr == sym->addr)
        fprintf(s->out, "%s (0x%08x)\n", sym->name, addr);
    else
        fprintf(s->out, "%s + %u (0x%08x)\n", sym->name, addr - sym->addr, addr);
    return true;
}

static bool cmd_info(shell *s, int argc, char **argv, vm_error *err)
{
    const char *what = argc > 1 ? argv[1] : "";
    if (!strcmp(what, "symbol"))
        return info_symbol(s, argc, argv, err);
    if (!strcmp(what, "registers") || !strcmp(what, "reg") || !strcmp(what, "r"))
        info_registers(s);
    else if (!strcmp(what, "breakpoints") || !strcmp(what, "b"))
        info_breakpoints(s);
    else if (!strcmp(what, "snapshots"))
        info_snapshots(s);
    else if (!strcmp(what, "gdt"))
        info_table(s, CPU_GDTR, "GDT");
    else if (!strcmp(what, "idt"))
        info_table(s, CPU_IDTR, "IDT");
    else if (!strcmp(what, "tss"))
        info_tss(s);
    else if (!strcmp(what, "rom"))
        info_rom(s);
    else
        return vm_fail(err, VM_EINVAL, "usage: info registers|breakpoints|snapshots|gdt|idt|tss|rom, info symbol ADDR");
    return true;
}

/* x/NFU ADDR: N units of U (b, h, w) in format F (x, d, u, i, s). */
static bool cmd_x(shell *s, int argc, char **argv, vm_error *err)
{
    uint64_t count = 1;
    char fmt = 'x', unit = 'w';
    const char *spec = argv[0][1] == '/' ? argv[0] + 2 : "";
    char *end;
    if (isdigit((unsigned char)*spec)) {
        count = strtoull(spec, &end, 10);
        spec = end;
    }
    for (; *spec; spec++) {
        if (strchr("xduis", *spec))
            fmt = *spec;
        else if (strchr("bhw", *spec))
            unit = *spec;
        else
            return vm_fail(err, VM_EINVAL, "x/: unknown format or unit '%c' (formats x d u i s, units b h w)", *spec);
    }
    uint32_t addr;
    if (argc < 2 || !eval(s, argv[1], &addr, err))
        return err->code ? false : vm_fail(err, VM_EINVAL, "usage: x/NFU ADDR");
    if (count > 4096)
        return vm_fail(err, VM_EINVAL, "at most 4096 units");
    if (fmt == 'i') {
        for (uint64_t i = 0; i < count; i++) {
            uint8_t code[16];
            char text[96];
            size_t got = read_upto(s, addr, code, sizeof code);
            if (got == 0)
                return vm_fail(err, VM_EINVAL, "cannot read memory at 0x%08x", addr);
            size_t len = disasm_one(s->dis, code, got, addr, text, sizeof text);
            show_insn(s, addr, addr == dbg_reg(&s->d, CPU_EIP));
            addr += len ? (uint32_t)len : 1;
        }
        return true;
    }
    if (fmt == 's') {
        char str[257];
        size_t got = read_upto(s, addr, str, 256); /* a string may end where memory does */
        if (got == 0)
            return vm_fail(err, VM_EINVAL, "cannot read memory at 0x%08x", addr);
        str[got] = 0;
        fprintf(s->out, "0x%08x: \"%s\"\n", addr, str);
        return true;
    }
    unsigned size = unit == 'b' ? 1 : unit == 'h' ? 2 : 4, per_line = 16 / size;
    for (uint64_t i = 0; i < count; i++) {
        uint32_t v = 0;
        if (!dbg_read(&s->d, addr + (uint32_t)i * size, &v, size))
            return vm_fail(err, VM_EINVAL, "cannot read memory at 0x%08x", addr + (uint32_t)i * size);
        if (i % per_line == 0)
            fprintf(s->out, "%s0x%08x:", i ? "\n" : "", addr + (uint32_t)i * size);
        if (fmt == 'x')
            fprintf(s->out, " 0x%0*x", size * 2, v);
        else if (fmt == 'd')
            fprintf(s->out, " %d", size == 1 ? (int8_t)v : size == 2 ? (int16_t)v : (int32_t)v);
        else
            fprintf(s->out, " %u", v);
    }
    fprintf(s->out, "\n");
    return true;
}

static bool cmd_print(shell *s, int argc, char **argv, vm_error *err)
{
    uint32_t v;
    if (argc < 2 || !eval(s, argv[1], &v, err))
        return err->code ? false : vm_fail(err, VM_EINVAL, "usage: print EXPR");
    char at[128];
    fprintf(s->out, "%s = %u (%s)\n", argv[1], v, where(s, v, at, sizeof at));
    return true;
}

static bool cmd_disassemble(shell *s, int argc, char **argv, vm_error *err)
{
    uint32_t addr = dbg_reg(&s->d, CPU_EIP);
    uint64_t n = 10;
    if (argc > 1 && !eval(s, argv[1], &addr, err))
        return false;
    if (argc > 2 && (!parse_u64(argv[2], &n) || n == 0 || n > 1000))
        return vm_fail(err, VM_EINVAL, "'%s' is not a count from 1 to 1000", argv[2]);
    char spec[32];
    snprintf(spec, sizeof spec, "x/%llui", (unsigned long long)n);
    char at[16];
    snprintf(at, sizeof at, "0x%x", addr);
    char *args[] = {spec, at};
    return cmd_x(s, 2, args, err);
}

static bool cmd_pt(shell *s, int argc, char **argv, vm_error *err)
{
    uint32_t addr;
    if (argc < 2 || !eval(s, argv[1], &addr, err))
        return err->code ? false : vm_fail(err, VM_EINVAL, "usage: pt ADDR");
    pagewalk w;
    pagewalk_walk(&s->m->mem, dbg_reg(&s->d, CPU_CR0), dbg_reg(&s->d, CPU_CR3), dbg_reg(&s->d, CPU_CR4), addr, &w);
    char flags[64];
    if (!w.paging) {
        fprintf(s->out, "paging is off: 0x%08x is physical 0x%08x\n", addr, addr);
        return true;
    }
    if (w.pae)
        return vm_fail(err, VM_EINVAL, "PAE page tables are not walked yet");
    pagewalk_flags(w.pde, flags, sizeof flags);
    fprintf(s->out, "CR3 0x%08x\nPDE[%u] at 0x%08x = 0x%08x [%s]\n", dbg_reg(&s->d, CPU_CR3), addr >> 22, w.pde_addr,
            w.pde, flags);
    if (w.has_pte) {
        pagewalk_flags(w.pte, flags, sizeof flags);
        fprintf(s->out, "PTE[%u] at 0x%08x = 0x%08x [%s]\n", (addr >> 12) & 0x3FF, w.pte_addr, w.pte, flags);
    }
    if (w.mapped)
        fprintf(s->out, "0x%08x -> physical 0x%08llx%s\n", addr, (unsigned long long)w.phys, w.large ? " (4 MiB page)" : "");
    else
        fprintf(s->out, "0x%08x is not mapped\n", addr);
    return true;
}

static bool cmd_calls(shell *s, int argc, char **argv, vm_error *err)
{
    uint64_t from = 0, to = UINT64_MAX;
    if ((argc > 1 && !parse_u64(argv[1], &from)) || (argc > 2 && !parse_u64(argv[2], &to)))
        return vm_fail(err, VM_EINVAL, "usage: calls [FROM [TO]] (call numbers as listed)");
    /* Straight to call FROM through the log's index, then on through the events. */
    size_t i, n = (size_t)from, count = evlog_count(&s->m->log);
    if (!evlog_find_kind(&s->m->log, EV_VMI_CALL, n, &i))
        return true;
    vm_event ev;
    for (; i < count && n <= to && evlog_get(&s->m->log, i, &ev); i++) {
        char text[512];
        if (ev.kind == EV_MARKER) { /* between the calls, unnumbered: "-- icount=... marker "x"" */
            eventsink_format_text(&ev, 0, s->syms, text, sizeof text);
            fprintf(s->out, "--%s\n", text + 2);
        }
        if (ev.kind != EV_VMI_CALL)
            continue;
        eventsink_format_text(&ev, n, s->syms, text, sizeof text);
        fprintf(s->out, "%s\n", text);
        n++;
    }
    return true;
}

/* stats: the run so far, from the event log, with the host time this session measured. */
static bool cmd_stats(shell *s, int argc, char **argv, vm_error *err)
{
    uint64_t top = 10;
    if (argc > 1 && (!parse_u64(argv[1], &top) || top < 1 || top > 1000))
        return vm_fail(err, VM_EINVAL, "usage: stats [TOP] (callers shown, 1 to 1000)");
    callstats st;
    callstats_init(&st, s->syms);
    size_t count = evlog_count(&s->m->log);
    vm_event ev;
    for (size_t i = 0; i < count; i++)
        if (!evlog_get(&s->m->log, i, &ev) || !callstats_add(&st, &ev)) {
            callstats_free(&st);
            return vm_fail(err, VM_ENOMEM, "cannot read the event log (out of memory)");
        }
    callstats_print(&st, &s->timing, (unsigned)top, s->out);
    callstats_free(&st);
    return true;
}

/* check: the VMI checker's findings so far (--check-vmi), then its summary. */
static bool cmd_check(shell *s, int argc, char **argv, vm_error *err)
{
    (void)argc;
    (void)argv;
    const vmicheck *c = s->m->check;
    if (!c)
        return vm_fail(err, VM_EINVAL, "the VMI checker is off (start vmiemu with --check-vmi)");
    char line[512];
    for (size_t i = 0; i < c->nkept; i++) {
        checkreport_format(&c->kept[i], i, s->syms, line, sizeof line);
        fprintf(s->out, "%s\n", line);
    }
    if (vmicheck_total(c) > c->nkept)
        fprintf(s->out, "(%llu more not kept)\n", (unsigned long long)(vmicheck_total(c) - c->nkept));
    vmicheck_summary(c, line, sizeof line);
    fprintf(s->out, "check: %s\n", line);
    return true;
}

static bool cmd_goto(shell *s, int argc, char **argv, vm_error *err)
{
    uint64_t n;
    if (argc >= 3 && !strcmp(argv[1], "marker")) {
        char name[EV_MARKER_NAME_MAX + 1] = "";
        size_t len = 0;
        for (int a = 2; a < argc; a++) /* the name's words, as the guest spelt them with single spaces */
            len += (size_t)snprintf(name + len, len < sizeof name ? sizeof name - len : 0, "%s%s", a > 2 ? " " : "",
                                    argv[a]);
        if (len > EV_MARKER_NAME_MAX)
            return vm_fail(err, VM_EINVAL, "no marker '%s': a marker's name has at most %d bytes", name,
                           EV_MARKER_NAME_MAX);
        if (dbg_goto_marker(&s->d, name, err) == DBG_FAILED)
            return false;
        fprintf(s->out, "At marker \"%s\", icount %llu\n", name, (unsigned long long)dbg_icount(&s->d));
        show_insn(s, dbg_reg(&s->d, CPU_EIP), true);
        return true;
    }
    if (argc > 3) /* only a marker's name may have several words */
        return vm_fail(err, VM_EINVAL, "goto takes at most 2 arguments, not %d, but for a marker's name (usage: %s)",
                       argc - 1, "goto icount N | goto call N | goto marker NAME...");
    if (argc < 3 || !parse_u64(argv[2], &n) || (strcmp(argv[1], "icount") && strcmp(argv[1], "call")))
        return vm_fail(err, VM_EINVAL, "usage: goto icount N | goto call N | goto marker NAME...");
    dbg_stop why = argv[1][0] == 'i' ? dbg_goto(&s->d, n, err) : dbg_goto_call(&s->d, (size_t)n, err);
    if (why == DBG_FAILED)
        return false;
    fprintf(s->out, "At icount %llu\n", (unsigned long long)dbg_icount(&s->d));
    show_insn(s, dbg_reg(&s->d, CPU_EIP), true);
    return true;
}

#define EXPLAIN_MAX_STEPS 100000 /* instructions stepped looking for the call's end */

/* explain N: the call's spec text, then what it changed (registers, memory) by going to just
 * before it, stepping over it, and comparing. */
static bool cmd_explain(shell *s, int argc, char **argv, vm_error *err)
{
    uint64_t n;
    if (argc < 2 || !parse_u64(argv[1], &n))
        return vm_fail(err, VM_EINVAL, "usage: explain N (a call number from `calls`)");
    uint64_t back = dbg_icount(&s->d);
    if (dbg_goto_call(&s->d, (size_t)n, err) == DBG_FAILED)
        return false;
    const vm_event *ev = NULL;
    uint32_t before[CPU_NREGS], after[CPU_NREGS];
    for (int r = 0; r < CPU_NREGS; r++)
        before[r] = dbg_reg(&s->d, (cpu_reg)r);
    size_t pages = s->m->mem.size >> 12;
    uint8_t *old = malloc(s->m->mem.size);
    if (!old)
        return vm_fail(err, VM_ENOMEM, "out of memory");
    memcpy(old, s->m->mem.ram, s->m->mem.size);
    /* Step until the call is logged: a host call at its entry, a native call once its slot
     * has returned (a few instructions, more if an interrupt comes in between). */
    size_t at;
    bool logged = false;
    for (int k = 0; k < EXPLAIN_MAX_STEPS && !logged && s->m->end == END_RUNNING; k++) {
        if (dbg_stepi(&s->d, 1, err) == DBG_FAILED) {
            free(old);
            vm_error back_err = {0};
            if (dbg_goto(&s->d, back, &back_err) == DBG_FAILED) {
                /* the step's error is the one the user needs; going back is best effort */
            }
            return false;
        }
        logged = evlog_find_kind(&s->m->log, EV_VMI_CALL, (size_t)n, &at);
    }
    vm_event last;
    ev = logged && evlog_get(&s->m->log, at, &last) ? &last : NULL;
    const rom_call *c = ev && ev->kind == EV_VMI_CALL
                            ? (ev->num == EV_NUM_INIT ? &rom_entry_init : ev->num == EV_NUM_RELOC ? &rom_entry_reloc : rom_call_find(ev->num))
                            : NULL;
    char text[512];
    if (ev && c) {
        eventsink_format_text(ev, (size_t)n, s->syms, text, sizeof text);
        fprintf(s->out, "%s\n\n%s\n\nChanged:\n", text, c->spec);
    }
    for (int r = 0; r < CPU_NREGS; r++) {
        after[r] = dbg_reg(&s->d, (cpu_reg)r);
        if (after[r] != before[r])
            fprintf(s->out, "  %-6s 0x%08x -> 0x%08x\n", vcpu_reg_names[r], before[r], after[r]);
    }
    int shown = 0;
    for (size_t p = 0; p < pages && shown < 32; p++) {
        if (!memcmp(old + p * 4096, s->m->mem.ram + p * 4096, 4096))
            continue;
        for (uint32_t o = 0; o < 4096 && shown < 32; o += 4) {
            uint32_t a, b;
            memcpy(&a, old + p * 4096 + o, 4);
            memcpy(&b, s->m->mem.ram + p * 4096 + o, 4);
            if (a != b) {
                fprintf(s->out, "  memory 0x%08zx: 0x%08x -> 0x%08x\n", p * 4096 + o, a, b);
                shown++;
            }
        }
    }
    free(old);
    if (dbg_goto(&s->d, back, err) == DBG_FAILED) /* back to where the user was */
        return false;
    return true;
}

static bool cmd_snapshot(shell *s, int argc, char **argv, vm_error *err)
{
    (void)argc;
    (void)argv;
    if (!s->m->timeline)
        return vm_fail(err, VM_EINVAL, "snapshots are off (--snap-every 0)");
    if (!snap_take(s->m, err))
        return false;
    fprintf(s->out, "Snapshot #%zu at icount %llu\n", snap_count(s->m) - 1, (unsigned long long)dbg_icount(&s->d));
    return true;
}

/* screenshot FILE: the text screen as it is now, as a PNG. */
static bool cmd_screenshot(shell *s, int argc, char **argv, vm_error *err)
{
    if (argc != 2)
        return vm_fail(err, VM_EINVAL, "usage: screenshot FILE.png");
    if (s->opts && !outpaths_check_write(s->opts, "screenshot", argv[1], err))
        return false;
    if (!screenshot_png(s->m, s->panel, argv[1], err))
        return false;
    fprintf(s->out, "Screenshot of icount %llu in %s\n", (unsigned long long)dbg_icount(&s->d), argv[1]);
    return true;
}

/* panel: the hypercall panel's page as text, as the window and --panel screenshots show it. */
static bool cmd_panel(shell *s, int argc, char **argv, vm_error *err)
{
    (void)argv;
    if (argc != 1)
        return vm_fail(err, VM_EINVAL, "usage: panel");
    /* One page for the shell's life: its counters are brought up to the log's end at each look. */
    if (!s->panel && !s->own_panel) {
        if (!(s->own_panel = malloc(sizeof *s->own_panel)))
            return vm_fail(err, VM_ENOMEM, "panel: out of memory");
        panel_init(s->own_panel, s->syms);
    }
    panel *p = s->panel ? s->panel : s->own_panel;
    p->syms = s->syms;
    panel_update(p, s->m, s->m->end == END_RUNNING ? "stopped" : machine_end_name(s->m->end));
    char row[PANEL_COLS + 1];
    for (unsigned r = 0; r < PANEL_ROWS; r++)
        fprintf(s->out, "%s\n", panel_row(p, r, row, sizeof row));
    return true;
}

/* screen: the VGA text screen as it is now, as text (a line per row, trailing blanks dropped;
 * characters outside printable ASCII as '.'), for reading it without a window or a picture. */
static bool cmd_screen(shell *s, int argc, char **argv, vm_error *err)
{
    (void)argv;
    if (argc != 1)
        return vm_fail(err, VM_EINVAL, "usage: screen");
    char row[VGA_TEXT_COLS + 1];
    for (unsigned r = 0; r < VGA_TEXT_ROWS; r++) {
        machine_screen_row(s->m, r, row);
        fprintf(s->out, "%s\n", row);
    }
    return true;
}

/* sendkey TEXT: type the rest of the line (shell_exec passes it as one word, its blanks kept)
 * now, as keyboard input: logged and recorded, so a replay types it at the same count. Keys
 * that do not fit in the keyboard's buffer are dropped, as from a real keyboard the guest does
 * not read. */
static bool cmd_sendkey(shell *s, int argc, char **argv, vm_error *err)
{
    if (argc < 2)
        return vm_fail(err, VM_EINVAL, "usage: sendkey TEXT (\\n: Enter)");
    if (s->m->end != END_RUNNING)
        return vm_fail(err, VM_EINVAL, "the guest has ended: no keyboard to type on");
    if (recplay_replaying(s->m) || machine_replaying_past(s->m))
        return vm_fail(err, VM_EINVAL, "the machine re-runs a run that happened: its keys are given (go to its end first)");
    if (strlen(argv[1]) >= 1024)
        return vm_fail(err, VM_EINVAL, "sendkey: text too long (at most 1023 characters)");
    uint8_t codes[4096];
    size_t n = sched_scancodes(argv[1], codes, sizeof codes, err);
    if (!n)
        return false;
    size_t took = sched_push_keys(s->m, codes, n);
    fprintf(s->out, "Sent %zu scan code bytes at icount %llu", took, (unsigned long long)dbg_icount(&s->d));
    if (took < n)
        fprintf(s->out, "; %zu dropped (the keyboard's buffer is full: continue and send them again)", n - took);
    fprintf(s->out, "\n");
    return true;
}

/* restore [N]: back (or forward) to snapshot N, the latest by default. */
static bool cmd_restore(shell *s, int argc, char **argv, vm_error *err)
{
    size_t n = snap_count(s->m);
    uint64_t k = n ? n - 1 : 0;
    if (!n)
        return vm_fail(err, VM_EINVAL, "no snapshots (--snap-every 0)");
    if (argc > 1 && (!parse_u64(argv[1], &k) || k >= n))
        return vm_fail(err, VM_EINVAL, "no snapshot #%s (there are %zu; see info snapshots)", argv[1], n);
    if (dbg_goto(&s->d, snap_insns(s->m, (size_t)k), err) == DBG_FAILED)
        return false;
    fprintf(s->out, "At snapshot #%llu, icount %llu\n", (unsigned long long)k, (unsigned long long)dbg_icount(&s->d));
    show_insn(s, dbg_reg(&s->d, CPU_EIP), true);
    return true;
}

/* bt: frontend/unwind.h finds the frames; a guessed one (a stack scan without proof) ends in "?". */
static bool cmd_bt(shell *s, int argc, char **argv, vm_error *err)
{
    uint64_t max = 32;
    if (argc > 1 && (!parse_u64(argv[1], &max) || max == 0 || max > UNWIND_MAX_FRAMES))
        return vm_fail(err, VM_EINVAL, "'%s' is not a frame count from 1 to %u", argv[1], UNWIND_MAX_FRAMES);
    char text[UNWIND_MAX_FRAMES * 160];
    unwind_format(&s->d, s->syms, (size_t)max, text, sizeof text);
    fputs(text, s->out);
    return true;
}

static bool cmd_source(shell *s, int argc, char **argv, vm_error *err)
{
    if (argc < 2)
        return vm_fail(err, VM_EINVAL, "usage: source FILE");
    return shell_source(s, argv[1], err);
}

static bool cmd_quit(shell *s, int argc, char **argv, vm_error *err)
{
    uint64_t n = 0;
    if (argc > 1 && (!parse_u64(argv[1], &n) || n > 255))
        return vm_fail(err, VM_EINVAL, "'%s' is not an exit status from 0 to 255", argv[1]);
    s->quit = true;
    s->quit_status = argc > 1 ? (int)n : -1;
    return true;
}

static bool cmd_help(shell *s, int argc, char **argv, vm_error *err);

static const command commands[] = {
    {"stepi", "si", cmd_stepi, "stepi [N]", "run N instructions (default 1)"},
    {"nexti", "ni", cmd_nexti, "nexti [N]", "like stepi, but a call runs until it returns"},
    {"continue", "c", cmd_continue, "continue", "run until a breakpoint, watchpoint or the end (Ctrl-C stops)"},
    {"reverse-stepi", "rsi", cmd_reverse_stepi, "reverse-stepi [N]", "go back N instructions"},
    {"reverse-continue", "rc", cmd_reverse_continue, "reverse-continue", "go back to the previous breakpoint, watchpoint or VMI-call hit"},
    {"break", "b", cmd_break, "break ADDR|SYMBOL | break vmi NAME|NUMBER", "stop before an address, or before a VMI call"},
    {"watch", NULL, cmd_watch, "watch ADDR [LEN] [phys]", "stop after a write to memory (linear, or physical)"},
    {"rwatch", NULL, cmd_watch, "rwatch ADDR [LEN] [phys]", "stop after a read of memory"},
    {"awatch", NULL, cmd_watch, "awatch ADDR [LEN] [phys]", "stop after a read or write of memory"},
    {"delete", "d", cmd_delete, "delete [N]", "delete breakpoint N (all without N)"},
    {"info", "i", cmd_info, "info registers|breakpoints|snapshots|gdt|idt|tss|rom | info symbol ADDR",
     "show machine state; the symbol an address lies in"},
    {"x", NULL, cmd_x, "x/NFU ADDR", "examine memory: N units, F format x d u i s, U unit b h w"},
    {"print", "p", cmd_print, "print EXPR", "a number, $register, symbol or symbol+offset"},
    {"disassemble", "disas", cmd_disassemble, "disassemble [ADDR] [N]", "N instructions (default 10) from ADDR or EIP"},
    {"pt", NULL, cmd_pt, "pt ADDR", "walk the page tables for a linear address"},
    {"calls", NULL, cmd_calls, "calls [FROM [TO]]", "the VMI calls so far, decoded, and the guest's markers between them"},
    {"check", NULL, cmd_check, "check", "the VMI checker's findings so far and a summary (--check-vmi)"},
    {"goto", NULL, cmd_goto, "goto icount N | goto call N | goto marker NAME...",
     "go to an instruction count, to just before a VMI call, or to a guest marker (its first)"},
    {"stats", NULL, cmd_stats, "stats [TOP]",
     "VMI calls by kind, instructions between calls, top callers, host time per call, other events"},
    {"explain", NULL, cmd_explain, "explain N", "what VMI call N is and what guest state it changed"},
    {"history", NULL, shell_cmd_history, "history pte LINEAR | history gdt N | history idt V | history cr3 | history call NAME",
     "every change so far of a page-table entry, descriptor or CR3 (runs the past again), or every call of NAME"},
    {"override", NULL, shell_cmd_override, "override call N result=V delay=CYCLES | override off",
     "what-if: VMI call N returns V (or SetAlarm fires CYCLES late); a replay is live from there"},
    {"snapshot", NULL, cmd_snapshot, "snapshot", "take a snapshot now"},
    {"restore", NULL, cmd_restore, "restore [N]", "go to snapshot N (the latest by default)"},
    {"screenshot", NULL, cmd_screenshot, "screenshot FILE.png", "the VGA text screen as it is now, as a PNG"},
    {"screen", NULL, cmd_screen, "screen", "the VGA text screen as it is now, as text (25 lines)"},
    {"panel", NULL, cmd_panel, "panel", "the hypercall panel as text: latest VMI calls, counters, IF/CPL/CR3"},
    {"sendkey", NULL, cmd_sendkey, "sendkey TEXT", "type TEXT, the rest of the line, on the keyboard now (recorded; \\n is Enter)"},
    {"bt", "backtrace", cmd_bt, "bt [N]", "the call stack, N frames (default 32); ? marks a frame found by scanning the stack"},
    {"source", NULL, cmd_source, "source FILE", "run commands from a file"},
    {"help", "h", cmd_help, "help [COMMAND]", "list commands, or explain one"},
    {"quit", "q", cmd_quit, "quit [STATUS]", "leave; the exit status is the guest's if it ended, else 16 (or STATUS)"},
};

static const command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(commands[i].name, name) || (commands[i].alias && !strcmp(commands[i].alias, name)))
            return &commands[i];
    if (!strncmp(name, "x/", 2))
        return find_command("x");
    return NULL;
}

static bool cmd_help(shell *s, int argc, char **argv, vm_error *err)
{
    if (argc > 1) {
        const command *c = find_command(argv[1]);
        if (!c)
            return vm_fail(err, VM_EINVAL, "no command '%s'", argv[1]);
        fprintf(s->out, "%s\n  %s%s%s\n", c->usage, c->help, c->alias ? "\n  alias: " : "", c->alias ? c->alias : "");
        return true;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(s->out, "  %-45s %s\n", commands[i].usage, commands[i].help);
    return true;
}

/* Edit distance, for "did you mean". */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), prev[64], cur[64];
    if (la > 63 || lb > 63)
        return 99;
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, (lb + 1) * sizeof *cur);
    }
    return prev[lb];
}

static const char *closest(const char *name)
{
    const char *best = NULL;
    size_t bd = 99;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        size_t d = distance(name, commands[i].name);
        if (d < bd) {
            bd = d;
            best = commands[i].name;
        }
    }
    return best;
}

/* The most words a command line for c can have, counted from its usage (alternatives are
 * separated by " | ": "goto icount N | goto call N" takes 3), so the limit and the help text
 * cannot disagree. A word ending in "..." repeats, up to MAX_ARGS. */
static int max_words(const command *c)
{
    int most = 0, words = 0;
    for (const char *p = c->usage; *p;) {
        size_t n = strcspn(p, " ");
        if (n == 1 && *p == '|') {
            words = 0;
        } else if (n) {
            words++;
            if (n >= 3 && !strncmp(p + n - 3, "...", 3))
                words = MAX_ARGS;
        }
        most = words > most ? words : most;
        p += n;
        p += strspn(p, " ");
    }
    return most;
}

bool shell_exec(shell *s, const char *line, vm_error *err)
{
    /* A copy as long as the line: a long line is one command, never cut into two. */
    char *buf = strdup(line), *argv[MAX_ARGS], *save = NULL;
    if (!buf)
        return vm_fail(err, VM_ENOMEM, "out of memory");
    int argc = 0, words = 0; /* words: all of them, argv keeps the first MAX_ARGS */
    for (char *t = strtok_r(buf, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save), words++)
        if (argc < MAX_ARGS)
            argv[argc++] = t;
    bool ok = true;
    if (argc == 0 || argv[0][0] == '#') {
        ok = true;
    } else {
        const command *c = find_command(argv[0]);
        const char *near = c ? NULL : closest(argv[0]);
        if (c && c->run == cmd_sendkey) {
            /* Its text is the rest of the line as typed, blanks inside kept: one argument. */
            const char *text = line + strspn(line, " \t");
            text += strcspn(text, " \t\r\n");
            text += strspn(text, " \t");
            char *copy = strndup(text, strcspn(text, "\r\n"));
            if (!copy) {
                free(buf);
                return vm_fail(err, VM_ENOMEM, "out of memory");
            }
            char *raw[2] = {argv[0], copy};
            ok = c->run(s, *copy ? 2 : 1, raw, err);
            free(copy);
        } else if (c && words > max_words(c))
            ok = vm_fail(err, VM_EINVAL, "%s takes at most %d argument%s, not %d (usage: %s)", c->name,
                         max_words(c) - 1, max_words(c) == 2 ? "" : "s", words - 1, c->usage);
        else if (c)
            ok = c->run(s, argc, argv, err);
        else if (near)
            ok = vm_fail(err, VM_EINVAL, "unknown command '%.64s'; did you mean '%s'? (try help)", argv[0], near);
        else
            ok = vm_fail(err, VM_EINVAL, "unknown command '%.64s%s' (try help)", argv[0], strlen(argv[0]) > 64 ? "..." : "");
    }
    free(buf);
    return ok;
}

/* The longest script line (a command, never cut: a longer one fails the script). getline
 * would take a line of any length into memory: a file without newlines as long as the disk. */
#define SHELL_MAX_LINE (1u << 20)

/* One line of f into *line (grown as needed, NUL-ended, its newline kept): 1 = a line, 0 = the
 * end of the file, -1 = a line longer than SHELL_MAX_LINE (or out of memory). */
static int read_line(FILE *f, char **line, size_t *cap)
{
    size_t n = 0;
    int c;
    while ((c = getc(f)) != EOF) {
        if (n + 2 > *cap) {
            size_t more = *cap ? *cap * 2 : 256;
            char *p = n + 2 <= SHELL_MAX_LINE + 1 ? realloc(*line, more) : NULL;
            if (!p)
                return -1;
            *line = p;
            *cap = more;
        }
        (*line)[n++] = (char)c;
        if (c == '\n')
            break;
    }
    if (n == 0)
        return 0;
    (*line)[n] = 0;
    return 1;
}

bool shell_source(shell *s, const char *path, vm_error *err)
{
    if (s->depth > 8)
        return vm_fail(err, VM_EINVAL, "%s: sourced files nest too deep", path);
    FILE *f = fopen(path, "r");
    if (!f)
        return vm_fail(err, VM_EIO, "%s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    int n = 0;
    bool ok = true;
    s->depth++;
    int got = 0;
    while (ok && !s->quit && !stopsig_raised() && (got = read_line(f, &line, &cap)) != 0) {
        n++;
        if (got < 0) {
            ok = vm_fail(err, VM_EINVAL, "%s:%d: line longer than %u bytes", path, n, SHELL_MAX_LINE);
            s->located = true;
            break;
        }
        vm_error e = {0};
        s->located = false;
        if (!shell_exec(s, line, &e)) {
            /* An error from a nested file already names its own FILE:LINE. */
            if (s->located)
                *err = e;
            else
                vm_fail(err, e.code ? e.code : VM_EINVAL, "%s:%d: %s", path, n, e.msg);
            s->located = true;
            ok = false;
        }
    }
    if (ok && ferror(f)) /* a directory, or a read error: not an empty script */
        ok = vm_fail(err, VM_EIO, "%s: %s", path, strerror(errno));
    s->depth--;
    free(line);
    fclose(f);
    return ok;
}

bool shell_init(shell *s, machine *m, FILE *out, vm_error *err)
{
    memset(s, 0, sizeof *s);
    s->m = m;
    s->out = out;
    s->quit_status = -1;
    dbg_init(&s->d, m);
    symtab_load(&s->own_syms, m->kernel, m->kernel_size);
    s->syms = &s->own_syms;
    s->dis = disasm_open(err);
    m->timing = &s->timing; /* host time per call, for `stats`; host-only */
    return s->dis != NULL;
}

void shell_set_symbols(shell *s, const symtab *t)
{
    s->syms = t ? t : &s->own_syms;
}

void shell_free(shell *s)
{
    if (s->m && s->m->timing == &s->timing)
        s->m->timing = NULL;
    symtab_free(&s->own_syms);
    free(s->own_panel);
    s->own_panel = NULL;
    disasm_close(s->dis);
}

/* The command names, for readline's completion (shell_readline.c). */
const char *shell_command_name(size_t i);
const char *shell_command_name(size_t i)
{
    return i < sizeof commands / sizeof commands[0] ? commands[i].name : NULL;
}

/* The VMI compliance checker: see vmicheck.h for what it reports. It is fed by the machine
 * (every event logged, native-call entries, MSR accesses) and by the CPU layer's checker
 * hooks (cpu_ops.check_*): a memory hook over all RAM for stores, code hooks at privileged
 * instructions found when blocks are decoded, and the TLB fill for uses of stale entries.
 * It reads guest state and never writes it, so the run is the same with it or without. */
#include "emu/vmicheck.h"

#include <inttypes.h>
#include <stdarg.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu/machine.h"
#include "rom/rom.h"

#define PTE_P 0x001u
#define PTE_RW 0x002u
#define PTE_US 0x004u
#define PTE_PS 0x080u
#define PXE_CURRENT_AS 0x10u /* SetPxE/UpdatePxE flags: the high 20 bits are the linear address */
#define LEVEL_PT 0x01u
#define LEVEL_PD 0x02u

static const char *const kind_names[VMICHECK_KINDS] = {
    [VMICHECK_PT_WRITE] = "pt-write",
    [VMICHECK_DT_WRITE] = "dt-write",
    [VMICHECK_RAW_INSN] = "raw-insn",
    [VMICHECK_STALE_TLB] = "stale-tlb",
    [VMICHECK_UNREGISTERED_PXE] = "unregistered-pxe",
    [VMICHECK_PAGE_BALANCE] = "page-balance",
};

const char *vmicheck_kind_name(vmicheck_kind k) { return (unsigned)k < VMICHECK_KINDS ? kind_names[k] : "?"; }

bool vmicheck_open(machine *m)
{
    vmicheck *c = calloc(1, sizeof *c);
    if (!c)
        return false;
    m->check = c;
    return true;
}

void vmicheck_reset(machine *m)
{
    vmicheck *c = m->check;
    if (!c)
        return;
    memset(c->ndt, 0, sizeof c->ndt);
    c->npending = c->nstores = c->nchanges = c->next_change = 0;
    c->pxe_valid = false;
    c->pt_count_seen = 0;
}

void vmicheck_close(machine *m)
{
    if (!m->check)
        return;
    free(m->check->kept);
    free(m->check);
    m->check = NULL;
}

/* What the checker holds about the moment (stores waiting for UpdatePxE, the SetPxE in flight,
 * watched TLB entries) belongs to one point in time: going back (the event log was cut back
 * to a snapshot) drops it, and running forward again gathers it anew. */
static void went_back(machine *m)
{
    vmicheck *c = m->check;
    c->npending = c->nstores = c->nchanges = c->next_change = 0;
    c->pxe_valid = false;
    vcpu_stale_clear(m->cpu);
}

/* Checked from Init on. Findings are reported on the straight run only (report()); while
 * instructions run again after going back, the checker gathers its state without reporting. */
static bool active(machine *m)
{
    vmicheck *c = m->check;
    size_t n = evlog_count(&m->log);
    uint64_t now = machine_insns(m);
    if (n < c->log_seen || now < c->insns_seen)
        went_back(m);
    c->log_seen = n;
    c->insns_seen = now;
    return m->rom.initialized;
}

static void report(machine *m, vmicheck_kind kind, uint64_t icount, uint32_t eip, const char *use, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static void report(machine *m, vmicheck_kind kind, uint64_t icount, uint32_t eip, const char *use, const char *fmt, ...)
{
    vmicheck *c = m->check;
    if (machine_replaying_past(m))
        return; /* reported when it first ran */
    if (c->nkept > 0) { /* one instruction repeating (rep stos over a table) is one finding */
        const vmicheck_finding *last = &c->kept[c->nkept - 1];
        if (last->kind == kind && last->eip == eip && last->icount == icount)
            return;
    }
    vmicheck_finding f = {.icount = icount, .eip = eip, .kind = kind, .use = use};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f.what, sizeof f.what, fmt, ap);
    va_end(ap);
    c->counts[kind]++;
    if (c->nkept < VMICHECK_KEEP) {
        if (!c->kept && !(c->kept = calloc(VMICHECK_KEEP, sizeof *c->kept)))
            return; /* out of memory: counted, not kept */
        c->kept[c->nkept++] = f;
    }
    if (c->sink)
        c->sink(c->sink_ctx, &f);
}

/* EIP inside the slot of a native call in flight: the ROM's own instruction, a VMI call. */
static bool in_rom_slot(machine *m, uint32_t eip)
{
    for (uint32_t i = 0; i < m->rom.npending; i++) {
        const rom_record *r = &m->rom.pending[i];
        if (eip - r->slot_pc < r->slot_len)
            return true;
    }
    return false;
}

static const char *call_name(uint32_t num)
{
    const rom_call *rc = rom_call_find(num);
    return rc ? rc->name : "?";
}

/* --- page-table entries and the TLB ----------------------------------------------------- */

static uint64_t read_entry(machine *m, uint64_t phys, unsigned bytes)
{
    if (phys + bytes > m->mem.size)
        return 0;
    uint64_t v = 0;
    memcpy(&v, phys_ptr(&m->mem, phys), bytes);
    return v;
}

static bool pae_on(machine *m) { return (vcpu_get(m->cpu, CPU_CR4) & 0x20u) != 0; }

/* An entry change takes access away from what a TLB entry made from the old one allows. */
static bool takes_access(uint64_t old, uint64_t new, bool pae)
{
    uint64_t frame = pae ? 0x000FFFFFFFFFF000ull : 0xFFFFF000ull;
    if (!(old & PTE_P))
        return false;
    return !(new & PTE_P) || ((old ^ new) & frame) || ((old & PTE_RW) && !(new & PTE_RW)) ||
           ((old & PTE_US) && !(new & PTE_US)) || (pae && (new >> 63) && !(old >> 63));
}

static void note_change(machine *m, uint32_t linear, uint64_t icount, uint32_t eip, uint16_t call)
{
    vmicheck *c = m->check;
    if (!vcpu_stale_watch(m->cpu, linear))
        return; /* no TLB entry for it: the next access walks the tables */
    struct vmicheck_change *ch = &c->changes[c->next_change];
    *ch = (struct vmicheck_change){linear >> 12, icount, eip, call};
    c->next_change = (c->next_change + 1) % 64u;
    if (c->nchanges < 64)
        c->nchanges++;
}

/* The linear pages an entry at physical `entry` maps in the current address space (32-bit
 * paging): with CURRENT_AS the flags say; otherwise a PDE of the current directory, or the
 * PTE of a table the current directory points to. */
static void entry_changed(machine *m, uint64_t entry, uint64_t old, uint64_t new, uint32_t flags, uint64_t icount,
                          uint32_t eip, uint16_t call)
{
    bool pae = pae_on(m);
    if (!takes_access(old, new, pae))
        return;
    bool pd = (flags & 0x0Fu) == LEVEL_PD || (!pae && (old & PTE_PS) && (flags & 0x0Fu) != LEVEL_PT);
    if (flags & PXE_CURRENT_AS) {
        uint32_t linear = flags & 0xFFFFF000u;
        if (!pd)
            note_change(m, linear, icount, eip, call);
        else
            for (uint32_t i = 0; i < (pae ? 512u : 1024u); i++)
                note_change(m, (linear & (pae ? 0xFFE00000u : 0xFFC00000u)) + (i << 12), icount, eip, call);
        return;
    }
    if (pae)
        return; /* without the linear address, PAE tables are not searched (docs/ARCHITECTURE.md) */
    uint64_t dir = vcpu_get(m->cpu, CPU_CR3) & 0xFFFFF000u;
    if ((entry & ~0xFFFull) == dir) { /* a directory entry of the current space: 4 MiB */
        uint32_t base = (uint32_t)((entry & 0xFFF) >> 2) << 22;
        for (uint32_t i = 0; i < 1024; i++)
            note_change(m, base + (i << 12), icount, eip, call);
        return;
    }
    for (uint32_t pdi = 0; pdi < 1024; pdi++) {
        uint32_t pde = (uint32_t)read_entry(m, dir + pdi * 4u, 4);
        if ((pde & PTE_P) && !(pde & PTE_PS) && (pde & 0xFFFFF000u) == (entry & ~0xFFFull))
            note_change(m, pdi << 22 | (uint32_t)((entry & 0xFFF) >> 2) << 12, icount, eip, call);
    }
}

void vmicheck_native_entry(machine *m)
{
    vmicheck *c = m->check;
    if (!active(m) || m->rom.npending == 0)
        return;
    const rom_record *r = &m->rom.pending[m->rom.npending - 1];
    if (r->num != VMI_CALL_SetPxE && r->num != VMI_CALL_SetPxELong)
        return;
    uint32_t ptr = r->num == VMI_CALL_SetPxE ? r->args[1] : r->args[2];
    uint64_t phys;
    c->pxe_valid = vcpu_translate(m->cpu, ptr, false, &phys);
    c->pxe_ptr = ptr;
    c->pxe_phys = phys;
    c->pxe_old = c->pxe_valid ? read_entry(m, phys, r->num == VMI_CALL_SetPxE ? 4 : 8) : 0;
}

static void setpxe_done(machine *m, const vm_event *ev)
{
    vmicheck *c = m->check;
    bool lng = ev->num == VMI_CALL_SetPxELong;
    uint32_t ptr = lng ? ev->args[2] : ev->args[1], flags = lng ? ev->args[3] : ev->args[2];
    uint64_t new = lng ? (uint64_t)ev->args[1] << 32 | ev->args[0] : ev->args[0];
    uint64_t phys;
    if (c->pxe_valid && c->pxe_ptr == ptr)
        phys = c->pxe_phys;
    else if (!vcpu_translate(m->cpu, ptr, false, &phys))
        return;
    uint32_t pfn = (uint32_t)(phys >> 12);
    if (pfn < (m->mem.size >> 12) && !m->pt_pages[pfn])
        report(m, VMICHECK_UNREGISTERED_PXE, ev->icount, ev->eip, "AllocatePage for the page first",
               "%s(0x%08" PRIx64 ") into page 0x%08" PRIx64 ", which AllocatePage never announced as a page table",
               call_name(ev->num), new, (uint64_t)(phys & ~0xFFFull));
    if (c->pxe_valid && c->pxe_ptr == ptr)
        entry_changed(m, phys, c->pxe_old, new, flags, ev->icount, ev->eip, ev->num);
    c->pxe_valid = false;
}

/* Raw stores waiting for an UpdatePxE become findings. */
static void flush_pending(machine *m)
{
    vmicheck *c = m->check;
    for (unsigned i = 0; i < c->npending; i++) {
        const struct vmicheck_pending *p = &c->pending[i];
        report(m, VMICHECK_PT_WRITE, p->icount, p->eip, "SetPxE, or UpdatePxE after the store",
               "store to page-table entry 0x%08" PRIx64 " (was 0x%08x, now 0x%08x) without a VMI call", p->addr, p->old,
               (uint32_t)read_entry(m, p->addr, 4));
    }
    c->npending = 0;
}

static void updatepxe_done(machine *m, const vm_event *ev)
{
    vmicheck *c = m->check;
    uint64_t phys;
    if (!vcpu_translate(m->cpu, ev->args[0], false, &phys))
        return;
    unsigned bytes = ev->num == VMI_CALL_UpdatePxELong ? 8 : 4;
    bool found = false;
    uint32_t old_lo = 0, old_hi = 0;
    for (unsigned i = 0; i < c->npending;) {
        struct vmicheck_pending *p = &c->pending[i];
        if (p->addr - phys < bytes) {
            if (p->addr == phys)
                old_lo = p->old, found = true;
            else
                old_hi = p->old;
            *p = c->pending[--c->npending];
        } else {
            i++;
        }
    }
    if (found) {
        uint64_t old = bytes == 8 ? (uint64_t)old_hi << 32 | old_lo : old_lo;
        entry_changed(m, phys, old, read_entry(m, phys, bytes), ev->args[1], ev->icount, ev->eip, ev->num);
    }
}

static void stores_done(machine *m);

/* --- descriptor tables -------------------------------------------------------------------- */

static void table_loaded(machine *m, unsigned which, cpu_table reg)
{
    vmicheck *c = m->check;
    vcpu_table_reg t;
    c->ndt[which] = 0;
    if (!vcpu_get_table(m->cpu, reg, &t) || (reg == CPU_LDTR && (t.selector & ~7u) == 0))
        return;
    uint64_t end = (uint64_t)t.base + t.limit; /* the last byte */
    for (uint64_t at = t.base; at <= end && c->ndt[which] < VMICHECK_DT_PAGES; at = (at | 0xFFFu) + 1) {
        uint64_t phys, last = (at | 0xFFFu) < end ? (at | 0xFFFu) : end;
        if (vcpu_translate(m->cpu, (uint32_t)at, false, &phys))
            c->dt[which][c->ndt[which]++] = (struct vmicheck_dt_range){phys, phys + (last - at)};
    }
}

static const char *const dt_names[3] = {"GDT", "IDT", "LDT"};
static const char *const dt_calls[3] = {"WriteGDTEntry", "WriteIDTEntry", "WriteLDTEntry"};

/* --- the feeds ------------------------------------------------------------------------------ */

void vmicheck_event(machine *m, const vm_event *ev)
{
    vmicheck *c = m->check;
    bool on = active(m); /* first: it notices a return to the past */
    if (ev->kind == EV_END) {
        vmicheck_end(m);
        return;
    }
    if (c->nstores) { /* a fault of the storing instruction itself: its stores never happened */
        if (ev->kind == EV_EXCEPTION && ev->icount == c->stores_icount && !(ev->args[2] & 6u))
            c->nstores = 0;
        else
            stores_done(m);
    }
    if (ev->kind != EV_VMI_CALL)
        return;
    bool pt_call = ev->num == VMI_CALL_AllocatePage || ev->num == VMI_CALL_ReleasePage;
    uint32_t seen = c->pt_count_seen;
    if (pt_call)
        c->pt_count_seen = m->rom.pt_count;
    if (!on || ev->failed)
        return;
    switch (ev->num) {
    case VMI_CALL_UpdatePxE:
    case VMI_CALL_UpdatePxELong:
        updatepxe_done(m, ev);
        return; /* a store elsewhere may still be waiting for its own UpdatePxE */
    case VMI_CALL_SetPxE:
    case VMI_CALL_SetPxELong:
        setpxe_done(m, ev);
        break;
    case VMI_CALL_AllocatePage:
        if (m->rom.pt_count == seen) /* the count grows only for a page not announced yet */
            report(m, VMICHECK_PAGE_BALANCE, ev->icount, ev->eip, "ReleasePage before announcing it again",
                   "AllocatePage(pfn 0x%x) of a page already announced as a page table", ev->args[0]);
        break;
    case VMI_CALL_ReleasePage:
        if (m->rom.pt_count == seen)
            report(m, VMICHECK_PAGE_BALANCE, ev->icount, ev->eip, "AllocatePage when the page became a page table",
                   "ReleasePage(pfn 0x%x) of a page never announced by AllocatePage", ev->args[0]);
        break;
    case VMI_CALL_SetGDT:
        table_loaded(m, 0, CPU_GDTR);
        return;
    case VMI_CALL_SetIDT:
        table_loaded(m, 1, CPU_IDTR);
        return;
    case VMI_CALL_SetLDT:
        table_loaded(m, 2, CPU_LDTR);
        return;
    case VMI_CALL_InvalPage:
    case VMI_CALL_FlushTLB:
    case VMI_CALL_SetCR3:
    case VMI_CALL_SetLazyMode:
    case VMI_CALL_SetLinearMapping:
        break;
    default:
        return; /* not about page tables: an interrupt may come between a store and its UpdatePxE */
    }
    if (c->npending)
        flush_pending(m); /* the next page-table call came, and no UpdatePxE for these stores */
}

/* The stores of the instruction at stores_icount happened (it retired, or another event
 * came that was not its fault): descriptor-table stores are findings, page-table stores wait
 * for their UpdatePxE. */
static void stores_done(machine *m)
{
    vmicheck *c = m->check;
    unsigned n = c->nstores;
    c->nstores = 0;
    for (unsigned k = 0; k < n; k++) {
        const struct vmicheck_store *st = &c->stores[k];
        /* A descriptor stored in two halves by two instructions is one finding. */
        bool same_entry = st->dt >= 0 && c->last_dt_entry == (st->addr & ~7ull) && c->stores_icount - c->last_dt_icount <= 4;
        if (st->dt >= 0) {
            c->last_dt_entry = st->addr & ~7ull;
            c->last_dt_icount = c->stores_icount;
        }
        if (st->dt >= 0 && !same_entry)
            report(m, VMICHECK_DT_WRITE, c->stores_icount, st->eip, dt_calls[st->dt],
                   "%d-byte store of 0x%" PRIx64 " to the %s at 0x%08" PRIx64 " without a VMI call", st->size,
                   st->value, dt_names[st->dt], st->addr);
        if (!st->pt)
            continue;
        /* One pending entry per 4-byte word, holding the word before the store. */
        for (uint64_t w = st->addr & ~3ull; w < st->addr + (uint64_t)st->size; w += 4) {
            bool known = false;
            for (unsigned i = 0; i < c->npending && !known; i++)
                known = c->pending[i].addr == w;
            if (known)
                continue;
            if (c->npending == VMICHECK_PENDING)
                flush_pending(m);
            uint32_t old = w == (st->addr & ~3ull) ? st->old : (uint32_t)read_entry(m, w, 4);
            c->pending[c->npending++] = (struct vmicheck_pending){w, c->stores_icount, st->eip, old};
        }
    }
}

void vmicheck_write(machine *m, uint64_t addr, int size, uint64_t value)
{
    vmicheck *c = m->check;
    if (c->nstores && machine_insns(m) != c->stores_icount)
        stores_done(m); /* the instruction that made them retired */
    uint64_t pfn = addr >> 12;
    bool pt = pfn < (m->mem.size >> 12) && m->pt_pages[pfn];
    int dt = -1;
    for (unsigned w = 0; w < 3 && dt < 0; w++)
        for (unsigned i = 0; i < c->ndt[w]; i++)
            if (addr + (uint64_t)size > c->dt[w][i].lo && addr <= c->dt[w][i].hi)
                dt = (int)w;
    if ((!pt && dt < 0) || !active(m))
        return;
    uint32_t eip = vcpu_get(m->cpu, CPU_EIP);
    if (in_rom_slot(m, eip))
        return; /* the ROM's own store: SetPxE */
    if (c->nstores == VMICHECK_STORES)
        return; /* a rep over the table: its first stores stand for it */
    uint32_t old = (uint32_t)read_entry(m, addr & ~3ull, 4);
    if (size == 4 && !(addr & 3) && (uint32_t)value != old && ((uint32_t)value & old) == old) {
        uint32_t set = (uint32_t)value ^ old; /* bits the store only sets */
        /* The CPU's own updates, which Unicorn makes through the same memory path: accessed and
         * dirty bits of an entry, the accessed bit of a segment descriptor it loads and the
         * busy bit of a TSS descriptor (the high dword of a descriptor). */
        if ((pt && !(set & ~0x60u)) || (dt >= 0 && (addr & 4) && !(set & ~0x300u)))
            return;
    }
    if (c->nstores == 0)
        c->stores_icount = machine_insns(m);
    c->stores[c->nstores++] = (struct vmicheck_store){addr, value, eip, old, size, dt, pt};
}

/* The VMI call standing for a privileged instruction, or -1. */
static int call_for(const disasm_priv_insn *in)
{
    static const int set_cr[5] = {VMI_CALL_SetCR0, -1, VMI_CALL_SetCR2, VMI_CALL_SetCR3, VMI_CALL_SetCR4};
    static const int get_cr[5] = {VMI_CALL_GetCR0, -1, VMI_CALL_GetCR2, VMI_CALL_GetCR3, VMI_CALL_GetCR4};
    switch (in->kind) {
    case DISASM_PRIV_MOV_TO_CR: return in->cr < 5 ? set_cr[in->cr] : -1;
    case DISASM_PRIV_MOV_FROM_CR: return in->cr < 5 ? get_cr[in->cr] : -1;
    case DISASM_PRIV_MOV_DR: return VMI_CALL_SetDR; /* or GetDR: named in the message */
    case DISASM_PRIV_LGDT: return VMI_CALL_SetGDT;
    case DISASM_PRIV_LIDT: return VMI_CALL_SetIDT;
    case DISASM_PRIV_LLDT: return VMI_CALL_SetLDT;
    case DISASM_PRIV_LTR: return VMI_CALL_SetTR;
    case DISASM_PRIV_INVLPG: return VMI_CALL_InvalPage;
    case DISASM_PRIV_CLTS: return VMI_CALL_CLTS;
    case DISASM_PRIV_WBINVD: return VMI_CALL_WBINVD;
    case DISASM_PRIV_CLI: return VMI_CALL_DisableInterrupts;
    case DISASM_PRIV_STI: return VMI_CALL_EnableInterrupts;
    case DISASM_PRIV_POPF: return VMI_CALL_SetInterruptMask;
    case DISASM_PRIV_HLT: return VMI_CALL_Halt;
    case DISASM_PRIV_IRET: return VMI_CALL_IRET;
    default: return -1;
    }
}

static const char *const priv_names[DISASM_PRIV_KINDS] = {
    [DISASM_PRIV_MOV_TO_CR] = "mov to cr", [DISASM_PRIV_MOV_FROM_CR] = "mov from cr",
    [DISASM_PRIV_MOV_DR] = "mov drN", [DISASM_PRIV_LGDT] = "lgdt", [DISASM_PRIV_LIDT] = "lidt",
    [DISASM_PRIV_LLDT] = "lldt", [DISASM_PRIV_LTR] = "ltr", [DISASM_PRIV_INVLPG] = "invlpg",
    [DISASM_PRIV_CLTS] = "clts", [DISASM_PRIV_WBINVD] = "wbinvd", [DISASM_PRIV_CLI] = "cli",
    [DISASM_PRIV_STI] = "sti", [DISASM_PRIV_POPF] = "popf", [DISASM_PRIV_HLT] = "hlt",
    [DISASM_PRIV_IRET] = "iret",
};

/* The ROM offers a call of its own for it (GetRelocationInfo answers other than NONE). */
static bool rom_offers(int num) { return num >= 0 && rom_reloc_of((uint32_t)num) != ROM_RELOC_NONE; }

void vmicheck_insn(machine *m, uint32_t pc, const disasm_priv_insn *in)
{
    if (!active(m) || in_rom_slot(m, pc))
        return;
    uint32_t cpl = vcpu_cpl(m->cpu);
    if (cpl == 3)
        return; /* user code: it faults, or IOPL lets it; not the kernel's business with VMI */
    int num = call_for(in);
    if (!rom_offers(num))
        return;
    uint32_t eflags = vcpu_get(m->cpu, CPU_EFLAGS), esp = vcpu_get(m->cpu, CPU_ESP);
    uint32_t iopl = eflags >> 12 & 3u;
    char what[80];
    switch (in->kind) {
    case DISASM_PRIV_CLI:
    case DISASM_PRIV_STI:
        if (((eflags & 0x200u) != 0) == (in->kind == DISASM_PRIV_STI))
            return; /* IF stays as it is */
        snprintf(what, sizeof what, "%s with IF=%u", priv_names[in->kind], eflags >> 9 & 1u);
        break;
    case DISASM_PRIV_POPF: {
        uint32_t image = 0;
        if (cpl > iopl || !vcpu_read_linear(m->cpu, esp, &image, in->opsize16 ? 2 : 4) || !((image ^ eflags) & 0x200u))
            return; /* IF does not change */
        snprintf(what, sizeof what, "popf setting IF=%u", image >> 9 & 1u);
        break;
    }
    case DISASM_PRIV_IRET: {
        uint16_t cs = 0;
        if (eflags & 0x4000u)
            return; /* NT: a return to the previous task, not through the stack */
        if (!vcpu_read_linear(m->cpu, esp + (in->opsize16 ? 2u : 4u), &cs, sizeof cs) || (cs & 3u) <= cpl)
            return; /* to the same ring: nothing VMI stands for */
        snprintf(what, sizeof what, "iret from ring %u to ring %u", cpl, cs & 3u);
        break;
    }
    case DISASM_PRIV_MOV_TO_CR:
    case DISASM_PRIV_MOV_FROM_CR:
        snprintf(what, sizeof what, "%s%d", priv_names[in->kind], in->cr);
        break;
    default:
        snprintf(what, sizeof what, "%s", priv_names[in->kind]);
        break;
    }
    const char *use = in->kind == DISASM_PRIV_MOV_DR ? "SetDR/GetDR" : call_name((uint32_t)num);
    report(m, VMICHECK_RAW_INSN, machine_insns(m), pc, use, "raw %s at CPL %u", what, cpl);
}

void vmicheck_msr(machine *m, bool write, uint32_t msr)
{
    uint32_t eip = vcpu_get(m->cpu, CPU_EIP);
    int num = write ? VMI_CALL_WRMSR : VMI_CALL_RDMSR;
    if (!active(m) || in_rom_slot(m, eip) || !rom_offers(num))
        return;
    report(m, VMICHECK_RAW_INSN, machine_insns(m), eip, call_name((uint32_t)num), "raw %s of MSR 0x%x",
           write ? "wrmsr" : "rdmsr", msr);
}

void vmicheck_stale(machine *m, uint32_t linear, uint64_t tlb_page, char access)
{
    vmicheck *c = m->check;
    if (!active(m))
        return;
    const struct vmicheck_change *ch = NULL;
    for (unsigned k = 1; k <= c->nchanges && !ch; k++) { /* the newest change of the page */
        const struct vmicheck_change *x = &c->changes[(c->next_change + 64u - k) % 64u];
        if (x->vpage == linear >> 12)
            ch = x;
    }
    char when[96] = "";
    if (ch)
        snprintf(when, sizeof when, " (changed by %s at icount %" PRIu64 ", eip 0x%08x)", call_name(ch->call),
                 ch->icount, ch->eip);
    report(m, VMICHECK_STALE_TLB, machine_insns(m), vcpu_get(m->cpu, CPU_EIP), "InvalPage or FlushTLB after the change",
           "%s access to 0x%08x went through a stale TLB entry (frame 0x%08" PRIx64 ")%s",
           access == 'w' ? "write" : access == 'x' ? "fetch" : "read", linear, tlb_page, when);
}

void vmicheck_end(machine *m)
{
    if (m->check && m->check->nstores)
        stores_done(m);
    if (m->check && m->check->npending)
        flush_pending(m);
}

/* --- output ------------------------------------------------------------------------------------ */

uint64_t vmicheck_total(const vmicheck *c)
{
    uint64_t n = 0;
    for (int k = 0; k < VMICHECK_KINDS; k++)
        n += c->counts[k];
    return n;
}

size_t vmicheck_summary(const vmicheck *c, char *buf, size_t len)
{
    size_t n = (size_t)snprintf(buf, len, "%" PRIu64 " finding%s:", vmicheck_total(c), vmicheck_total(c) == 1 ? "" : "s");
    for (int k = 0; k < VMICHECK_KINDS; k++)
        n += (size_t)snprintf(buf + (n < len ? n : len), n < len ? len - n : 0, "%s %s %" PRIu64, k ? "," : "",
                              kind_names[k], c->counts[k]);
    return n;
}

size_t vmicheck_format_text(const vmicheck_finding *f, size_t index, const char *symbol, char *buf, size_t len)
{
    char sym[160] = "";
    if (symbol && *symbol)
        snprintf(sym, sizeof sym, " <%s>", symbol);
    return (size_t)snprintf(buf, len, "check #%zu icount=%" PRIu64 " eip=0x%08x%s %s: %s; use %s", index, f->icount,
                            f->eip, sym, vmicheck_kind_name(f->kind), f->what, f->use);
}

size_t vmicheck_format_json(const vmicheck *c, const vmicheck_finding *f, const char *symbol, char *buf, size_t len)
{
    json_t *o = json_object();
    if (!o)
        return 0;
    if (f) {
        json_object_set_new(o, "check", json_string(vmicheck_kind_name(f->kind)));
        json_object_set_new(o, "icount", json_integer((json_int_t)f->icount));
        json_object_set_new(o, "eip", json_integer(f->eip));
        if (symbol && *symbol)
            json_object_set_new(o, "caller", json_string(symbol));
        json_object_set_new(o, "what", json_string(f->what));
        json_object_set_new(o, "use", json_string(f->use));
    } else {
        json_object_set_new(o, "check", json_string("summary"));
        json_object_set_new(o, "findings", json_integer((json_int_t)vmicheck_total(c)));
        for (int k = 0; k < VMICHECK_KINDS; k++)
            json_object_set_new(o, kind_names[k], json_integer((json_int_t)c->counts[k]));
    }
    size_t n = json_dumpb(o, buf, len ? len - 1 : 0, JSON_COMPACT);
    if (n < len)
        buf[n] = '\0';
    json_decref(o);
    return n;
}

/* Unicorn's TLB filled by vmiemu (UC_TLB_VIRTUAL), and the host's own accesses to guest memory.
 *
 * Why: Unicorn 2.1.4 keeps every store to a page the TLB calls executable on its slow path
 * (notdirty_write never clears the flag for such entries), and its own x86 MMU calls every
 * page executable. Filling the TLB here, a data access gets an entry without execute rights
 * unless code has been fetched from that physical page, so stores to data pages take TCG's
 * inline fast path (about 10x cheaper). Code pages keep execute rights and the slow path,
 * which is what catches self-modifying code.
 *
 * Only accesses this MMU allows are filled here. One it refuses is handed to Unicorn's own
 * x86 MMU: the instruction is stepped once with UC_TLB_CPU, which raises the #PF (exact CR2
 * and error code, from the privilege level of the access) or, if the two MMUs disagree, runs
 * it as the reference MMU says.
 *
 * The fill answers from the architectural TLB (mmu/tlb.h) first and walks the tables only when
 * it has no entry, or one that does not allow the access (as QEMU does: a write through a
 * clean entry, a user access to a supervisor entry... walk again and replace it). Unicorn's
 * TLB is kept a subset of it: whenever an entry goes or loses rights here, Unicorn's whole TLB
 * is flushed (invlpg and CR writes flush it themselves), so no host event — a flush, a resize,
 * a restore — changes what the guest sees. */
#include "cpu/cpu_internal.h"

#include <stdlib.h>
#include <string.h>

#include "cpu/descriptor.h"

#define CR0_PG 0x80000000u
#define CR0_WP 0x00010000u
#define CR4_PSE 0x10u
#define CR4_PAE 0x20u
#define CR4_PGE 0x80u
#define CR4_SMEP 0x100000u
#define CR4_SMAP 0x200000u
#define EFLAGS_AC 0x40000u
#define MSR_EFER 0xC0000080u
#define EFER_NXE 0x800u

/* The paging registers, and SS (the fill hook's privilege) if `ss` is not NULL: one engine call
 * for all of them, as every TLB fill reads them (a guest toggling CR0.WP or CR4.PGE refills its
 * TLB after each write). */
static void read_mmu_regs_ss(cpu *c, mmu_regs *r, uint32_t *ss)
{
    static const cpu_reg which[4] = {CPU_CR0, CPU_CR3, CPU_CR4, CPU_SS};
    uint32_t v[4];
    vcpu_get_some(c, which, v, ss ? 4 : 3);
    if (ss)
        *ss = v[3];
    *r = (mmu_regs){.cr0 = v[0]};
    if (!(r->cr0 & CR0_PG)) /* paging off: the walk needs nothing else */
        return;
    r->cr3 = v[1];
    r->cr4 = v[2];
    if (r->cr4 & CR4_PAE) {
        uc_x86_msr msr = {.rid = MSR_EFER};
        r->nxe = uc_reg_read(c->uc, UC_X86_REG_MSR, &msr) == UC_ERR_OK && (msr.value & EFER_NXE);
    }
}

static void read_mmu_regs(cpu *c, mmu_regs *r) { read_mmu_regs_ss(c, r, NULL); }

void vcpu_mmu_regs(cpu *c, mmu_regs *r)
{
    if (c->mmu_regs_valid) {
        *r = c->mmu_cached;
        return;
    }
    read_mmu_regs(c, r);
    if (c->at_block_start && !c->mmu_reference) { /* kept until a fill or a host write (cpu_internal.h) */
        c->mmu_cached = *r;
        c->mmu_regs_valid = true;
    }
}

/* Page bitmaps: one bit per physical RAM page; addresses past RAM have none. */
static bool page_bit(const cpu *c, const uint8_t *map, uint64_t phys)
{
    uint64_t page = phys >> 12;
    return phys < c->pm->size && (map[page >> 3] & (1u << (page & 7)));
}

static void set_page_bit(cpu *c, uint8_t *map, uint64_t phys, bool on)
{
    uint64_t page = phys >> 12;
    if (phys >= c->pm->size)
        return;
    if (on)
        map[page >> 3] |= (uint8_t)(1u << (page & 7));
    else
        map[page >> 3] &= (uint8_t)~(1u << (page & 7));
}

static size_t page_map_bytes(const cpu *c) { return (c->pm->size >> 15) + 1; }

/* Code has been fetched from the page: its TLB entries keep execute rights. */
static bool is_code_page(const cpu *c, uint64_t phys) { return page_bit(c, c->code_pages, phys); }
static void mark_code_page(cpu *c, uint64_t phys) { set_page_bit(c, c->code_pages, phys, true); }

/* Code whose instructions were counted is being written: the counts cached for it (by linear
 * address, in any address space) may be wrong now; drop them all. A self-modifying guest pays a
 * recount of its working set per write to a page whose blocks were counted since the last one. */
static void code_written(cpu *c, uint64_t phys)
{
    set_page_bit(c, c->watched_pages, phys, false);
    blockcache_clear(&c->counts);
    /* Translations that kept their counts (blockpatch.c) would run on from a page no longer
     * watched, so a later store into their own code would not come back here: they count
     * through the hook again, which watches the page again. */
    blockpatch_undo_page(&c->patch, phys >> 12, vcpu_block_hook(), c, c->uc);
}

/* Unicorn's TLB only caches the guest's (mmu/tlb.h): flushing it is always allowed, and
 * afterwards no page has a writable entry there. */
void vcpu_mmu_flush_tlb(cpu *c)
{
    uc_ctl_flush_tlb(c->uc);
    memset(c->writable_pages, 0, page_map_bytes(c));
}

/* Counts are about to be cached for code on `linear`'s page: remember the physical page it
 * maps, and make stores to that page come back to the fill hook. */
static bool watch_page(cpu *c, uint32_t linear)
{
    uint64_t phys;
    if (!vcpu_translate(c, linear, false, &phys) || !blockcache_note_page(&c->counts, linear, phys))
        return false;
    if (phys >= c->pm->size) /* past RAM: no page bits (and no RAM to write) */
        return true;
    set_page_bit(c, c->watched_pages, phys, true);
    if (page_bit(c, c->writable_pages, phys)) /* a writable entry may be cached: drop it */
        vcpu_mmu_flush_tlb(c);
    return true;
}

bool vcpu_mmu_watch_block(cpu *c, uint32_t pc, uint32_t size)
{
    bool ok = watch_page(c, pc);
    if (size > 0 && ((pc ^ (pc + size - 1)) & ~0xFFFu))
        ok = watch_page(c, pc + size - 1) && ok;
    return ok;
}

/* A linear page mapping the ROM where its low 20 bits are not the ROM's: the block counts cached
 * for that address may say "not a ROM entry", so they are dropped the first time the alias is
 * seen (and again if it maps something else in between). */
static void note_rom_mapping(cpu *c, uint32_t vaddr, uint64_t phys)
{
    uint32_t page = vaddr & ~0xFFFu;
    bool rom = phys - PHYS_ROM_BASE < PHYS_ROM_SIZE && !in_rom_window(vaddr);
    size_t n = sizeof c->rom_aliases / sizeof c->rom_aliases[0];
    for (size_t i = 0; i < n; i++) {
        if (c->rom_aliases[i] == (page | 1u)) { /* bit 0 marks a used slot */
            if (!rom)
                c->rom_aliases[i] = 0;
            return;
        }
    }
    if (!rom)
        return;
    c->rom_aliases[c->rom_alias_next++ % n] = page | 1u;
    blockcache_clear(&c->counts);
}

/* --- The architectural TLB ------------------------------------------------------------- */

/* Changes of the paging registers that the architecture flushes the TLB for. Compared at every
 * fill (each such write flushes Unicorn's TLB, so the next access comes here) and whenever the
 * state is settled: this also covers CR3 loads by task switches and by the host. */
static void tlb_follow_regs(cpu *c, const mmu_regs *r)
{
    if (((r->cr0 ^ c->tlb_cr0) & (CR0_PG | CR0_WP)) || ((r->cr4 ^ c->tlb_cr4) & (CR4_PGE | CR4_PSE | CR4_PAE)))
        mmu_tlb_clear(c->tlb);
    else if (r->cr3 != c->tlb_cr3)
        mmu_tlb_drop_nonglobal(c->tlb);
    c->tlb_cr0 = r->cr0;
    c->tlb_cr3 = r->cr3;
    c->tlb_cr4 = r->cr4;
}

/* Guest memory the way the CPU sees it right now, cheaply: through the TLB's entry for the page
 * (the code hook's instruction was just fetched through it), else a walk of the tables the
 * TLB follows (tlb_cr*, current inside a run: each change of them comes through a fill). */
static bool read_now(cpu *c, uint32_t linear, void *buf, uint32_t len)
{
    if ((linear & 0xFFFu) + len > 0x1000u)
        return vcpu_read_linear(c, linear, buf, len);
    const mmu_tlb_entry *t = c->tlb_cr0 & CR0_PG ? mmu_tlb_find(c->tlb, linear >> 12) : NULL;
    mmu_regs r = {.cr0 = c->tlb_cr0, .cr3 = c->tlb_cr3, .cr4 = c->tlb_cr4};
    uint64_t phys;
    if (t)
        phys = t->page | (linear & 0xFFFu);
    else if (!mmu_peek(c->pm, &r, linear, false, &phys))
        return false;
    if (!phys_range_ok(c->pm, phys, len))
        return false;
    memcpy(buf, phys_ptr(c->pm, phys), len);
    return true;
}

static uint32_t segment_base(cpu *c, int seg)
{
    static const cpu_reg sregs[] = {CPU_ES, CPU_CS, CPU_SS, CPU_DS, CPU_FS, CPU_GS};
    uint32_t sel = vcpu_get(c, sregs[seg]);
    vcpu_table_reg table;
    uint64_t raw = 0;
    if ((sel & ~3u) == 0 || !vcpu_get_table(c, sel & 4u ? CPU_LDTR : CPU_GDTR, &table) ||
        (sel | 7u) > table.limit || !read_now(c, table.base + (sel & ~7u), &raw, 8))
        return 0;
    seg_desc d;
    desc_decode(raw, &d);
    return d.base;
}

/* CS's descriptor, read now; real or virtual-8086 mode has none (*real). */
static bool cs_descriptor(cpu *c, bool *real, seg_desc *d)
{
    *real = !(vcpu_get(c, CPU_CR0) & 1u) || (vcpu_get(c, CPU_EFLAGS) & 0x20000u);
    if (*real)
        return false;
    uint32_t sel = vcpu_get(c, CPU_CS);
    vcpu_table_reg table;
    uint64_t raw = 0;
    if (!vcpu_get_table(c, sel & 4u ? CPU_LDTR : CPU_GDTR, &table) || (sel | 7u) > table.limit ||
        !read_now(c, table.base + (sel & ~7u), &raw, 8))
        return false;
    desc_decode(raw, d);
    return true;
}

bool vcpu_code32(cpu *c)
{
    bool real;
    seg_desc d;
    return cs_descriptor(c, &real, &d) && d.big;
}

bool vcpu_code16(cpu *c)
{
    bool real;
    seg_desc d;
    if (!cs_descriptor(c, &real, &d))
        return real;
    return desc_is_code(&d) && !d.big;
}

bool vcpu_operand_linear(cpu *c, const disasm_tlb_op *op, uint32_t *linear)
{
    if (op->addr16)
        return false;
    uint32_t a = op->disp + segment_base(c, op->seg);
    if (op->base >= 0)
        a += vcpu_get(c, (cpu_reg)(CPU_EAX + op->base));
    if (op->index >= 0)
        a += vcpu_get(c, (cpu_reg)(CPU_EAX + op->index)) * op->scale;
    *linear = a;
    return true;
}

enum { TLB_OP_INVLPG, TLB_OP_INVLPG_ALL, TLB_OP_CR3, TLB_OP_MODE };

/* Applies a pending invalidation that has run, then follows the paging registers in r. */
static void settle_with(cpu *c, const mmu_regs *r)
{
    bool pending = c->tlb_pending;
    c->tlb_pending = false;
    if (pending && c->tlb_op == TLB_OP_CR3 && (r->cr0 & CR0_PG))
        mmu_tlb_drop_nonglobal(c->tlb); /* even when the same value is loaded again */
    if (pending && c->tlb_op == TLB_OP_INVLPG && mmu_tlb_invlpg(c->tlb, c->tlb_op_linear))
        vcpu_mmu_flush_tlb(c); /* parts of a large page Unicorn holds as 4 KiB pages */
    if (pending && c->tlb_op == TLB_OP_INVLPG_ALL) {
        mmu_tlb_clear(c->tlb); /* allowed: invlpg may drop more than its page */
        vcpu_mmu_flush_tlb(c);
    }
    tlb_follow_regs(c, r);
}

/* Applies a pending invalidation: it has run, for whatever comes after its code hook — a fill,
 * a host access, the next block — comes after the instruction, which accesses no memory. */
static void settle(cpu *c)
{
    if (c->tlb_pending && c->tlb_op == TLB_OP_INVLPG) { /* invlpg leaves the registers alone */
        c->tlb_pending = false;
        if (mmu_tlb_invlpg(c->tlb, c->tlb_op_linear))
            vcpu_mmu_flush_tlb(c);
        return;
    }
    mmu_regs r;
    read_mmu_regs(c, &r);
    settle_with(c, &r);
}

/* Code hook at each invalidating instruction, just before it runs: what it will invalidate is
 * noted (registers hold its operand now) and applied once it has run (settle). The same hook
 * serves the other sites disasm_decode_site finds, for the CPU model's checks (model.c). */
/* The checker's look at a privileged instruction about to run: not when the hook fires for an
 * instruction that will not run now (the run has ended; the end of an exact stretch stops
 * before it, and the hook fires again when it does run). */
static void check_priv_site(cpu *c, uint32_t pc, const uint8_t *b, uint32_t size)
{
    disasm_priv_insn p;
    if (c->end_contained || (c->exact && !c->trap_step && c->exact_left == 0))
        return;
    if (disasm_decode_priv(b, size, &p))
        c->ops.check_insn(c->ops.ctx, pc, &p);
}

static void on_tlb_op(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
    (void)uc;
    cpu *c = user;
    uint8_t b[16];
    disasm_tlb_op op;
    if (c->tlb_pending)
        settle(c);
    if (size > sizeof b || !read_now(c, (uint32_t)address, b, size))
        return;
    if (c->ops.check_insn)
        check_priv_site(c, (uint32_t)address, b, size);
    if (!disasm_decode_site(b, size, &op))
        return; /* other code at this address now (or a site only the checker looks at) */
    if (vcpu_model_check_site(c, (uint32_t)address, &op) || op.kind > DISASM_TLB_MODE)
        return; /* refused (it does not run), or not an invalidating instruction */
    uint32_t linear = 0;
    uint8_t kind = op.kind == DISASM_TLB_MOV_CR3 ? TLB_OP_CR3 : op.kind == DISASM_TLB_MODE ? TLB_OP_MODE
                   : vcpu_operand_linear(c, &op, &linear) ? TLB_OP_INVLPG : TLB_OP_INVLPG_ALL;
    c->tlb_op = kind;
    c->tlb_op_linear = linear;
    c->tlb_op_pc = (uint32_t)address;
    c->tlb_pending = true;
    /* Applied at the next fill or host access, and at the next block start at the latest, so
     * that a stop with EIP back at this address means it has not run. */
    c->tlb_after = true;
    c->limit = 0;
}

void vcpu_tlb_settle(cpu *c)
{
    if (c->tlb_pending)
        settle(c);
}

void vcpu_tlb_settle_at_stop(cpu *c)
{
    if (c->tlb_pending && vcpu_get(c, CPU_EIP) == c->tlb_op_pc)
        c->tlb_pending = false; /* stopped before it: the hook fires again when it runs */
    c->tlb_after = false;
    mmu_regs r;
    read_mmu_regs(c, &r);
    settle_with(c, &r); /* also a CR3 the host or a task switch loaded */
}

void vcpu_tlb_cancel_at(cpu *c, uint32_t fault_eip)
{
    if (c->tlb_pending && fault_eip == c->tlb_op_pc)
        c->tlb_pending = false; /* it faulted: nothing was invalidated */
}

void vcpu_tlb_reset(cpu *c)
{
    mmu_tlb_clear(c->tlb);
    c->tlb_pending = c->tlb_after = false;
    mmu_regs r;
    read_mmu_regs(c, &r);
    c->tlb_cr0 = r.cr0;
    c->tlb_cr3 = r.cr3;
    c->tlb_cr4 = r.cr4;
    vcpu_mmu_flush_tlb(c);
}

/* Each hooked address costs Unicorn a compare per translated instruction. Past this many (a
 * guest generating code full of invlpg), further sites go unhooked: their invlpg, and CR3 loads
 * of an unchanged value, then leave entries that hardware would drop. The TLB only loses
 * entries vmiemu drops itself, so that is still the same in a replay; only going back can
 * differ, if the future it left had hooked sites that the path taken now would have. */
#define MAX_TLB_SITES 1024u
#define MAX_PRIV_SITES 4096u /* privileged instructions the checker looks at (--check-vmi) */

/* A site the CPU model may refuse (model.c) in a way vcpu_run cannot undo once it has run
 * (exitcheck.c): a misaligned SSE access may store, rdpmc and monitor/mwait/clflush raise or
 * halt in Unicorn; on max, syscall jumps, rdrand writes a register, the UMIP instructions store;
 * on coreduo, clflush would let the rest of its block run before the #UD. A mov to CR4 and
 * sysenter end their block and are undone. */
static bool refusal_needs_exit_check(const cpu *c, const uint8_t *code, uint32_t size, uint32_t off)
{
    disasm_tlb_op op;
    if (off >= size || !disasm_decode_site(code + off, size - off, &op))
        return false;
    switch (op.kind) {
    case DISASM_SSE_ALIGNED: case DISASM_RDPMC: case DISASM_UNREPORTED:
        return true;
    case DISASM_SYSCALL: case DISASM_RDRAND: case DISASM_UMIP: case DISASM_SMSW_REG:
        return c->model == VCPU_MODEL_MAX;
    case DISASM_CLFLUSH:
        return c->model != VCPU_MODEL_MAX;
    default:
        return false;
    }
}

/* This block's translation was dropped for the exit checks already: the one running now was
 * made with them. */
static bool exit_dropped_before(const cpu *c, uint32_t pc, uint32_t size)
{
    for (unsigned i = 0; i < c->exit_drop_done; i++)
        if (c->exit_drop_pc[i] == pc && c->exit_drop_size[i] == size)
            return true;
    return false;
}

bool vcpu_tlb_note_block(cpu *c, uint32_t pc, const uint8_t *code, uint32_t size, const uint32_t *offsets, int n)
{
    bool fresh = false;
    for (int k = 0; k < n; k++) {
        bool priv = offsets[k] & DISASM_SITE_PRIV; /* the checker's own: counted apart, so that
                                                     * it never takes a place an invalidating
                                                     * instruction would have had */
        uint32_t at = pc + (offsets[k] & ~DISASM_SITE_PRIV);
        if (!c->exit_checks_all && refusal_needs_exit_check(c, code, size, offsets[k] & ~DISASM_SITE_PRIV) &&
            !exit_dropped_before(c, pc, size)) {
            /* Also at a known site whose code changed: the block must not run as translated.
             * From now on translations keep the checks; of those made before, only ones that
             * hold such a site matter, and each is decoded here before it first runs (a block
             * decoded before held none): its translation is dropped (vcpu_tlb_hook_sites). */
            c->exit_checks_sticky = true;
            if (c->exit_dropped < EXIT_DROP_MAX) {
                c->exit_drop_pc[c->exit_dropped] = pc;
                c->exit_drop_size[c->exit_dropped] = size;
                c->exit_dropped++;
            } else {
                c->exit_checks_flush = true; /* too many: all of them */
            }
            fresh = true;
        }
        bool known = false;
        for (uint32_t i = 0; i < c->nsites && !known; i++)
            known = c->sites[i].pc == at;
        if (known || (priv ? c->nsites_priv == MAX_PRIV_SITES : c->nsites_tlb == MAX_TLB_SITES))
            continue;
        if (c->nsites == c->sites_cap) {
            uint32_t cap = c->sites_cap ? c->sites_cap * 2 : 16;
            struct tlb_site *s = realloc(c->sites, cap * sizeof *s);
            if (!s)
                return false; /* out of memory: this site stays unhooked */
            c->sites = s;
            c->sites_cap = cap;
        }
        c->sites[c->nsites++] = (struct tlb_site){.pc = at};
        priv ? c->nsites_priv++ : c->nsites_tlb++;
        fresh = true;
    }
    return fresh;
}

bool vcpu_tlb_hook_sites(cpu *c)
{
    bool flushed = c->exit_checks_flush || c->exit_drop_done < c->exit_dropped;
    if (c->exit_checks_flush) { /* translations without exit checks may hold the new site (exitcheck.c) */
        c->exit_checks_flush = false;
        c->exit_checks_all = true;
        uc_ctl_flush_tb(c->uc);
        blockpatch_forget(&c->patch);
    }
    for (; c->exit_drop_done < c->exit_dropped; c->exit_drop_done++) { /* the block holding it */
        uint32_t pc = c->exit_drop_pc[c->exit_drop_done];
        uc_ctl_remove_cache(c->uc, pc, (uint64_t)pc + c->exit_drop_size[c->exit_drop_done]);
    }
    if (c->sites_hooked == c->nsites)
        return flushed;
    for (; c->sites_hooked < c->nsites; c->sites_hooked++) {
        struct tlb_site *s = &c->sites[c->sites_hooked];
        /* Cached translations carry no hook: drop the one holding the address. */
        uc_ctl_remove_cache(c->uc, s->pc, (uint64_t)s->pc + 1);
        uc_hook_add(c->uc, &s->hook, UC_HOOK_CODE, (void *)on_tlb_op, c, s->pc, s->pc);
    }
    return true;
}

/* The rights an entry gives one access; false: walk the tables again. */
static bool tlb_permits(const mmu_tlb_entry *t, mmu_access acc, bool user, uint32_t cr0)
{
    if (user && !(t->flags & MMU_TLB_US))
        return false;
    if (acc == MMU_FETCH)
        return !(t->flags & MMU_TLB_NX);
    if (acc == MMU_WRITE)
        return (t->flags & MMU_TLB_DIRTY) && ((t->flags & MMU_TLB_RW) || (!user && !(cr0 & CR0_WP)));
    return true;
}

/* A new entry for a page takes rights or the frame away from the old one: Unicorn may hold the
 * old one for another privilege level or access type. */
static bool tlb_narrows(const mmu_tlb_entry *old, const mmu_tlb_entry *e)
{
    uint32_t rights = MMU_TLB_RW | MMU_TLB_US | MMU_TLB_DIRTY;
    return old->page != e->page || (old->flags & rights & ~e->flags) || (e->flags & ~old->flags & MMU_TLB_NX);
}

/* The checker's stale-TLB watch (vcpu_stale_watch): linear pages whose entry may have outlived
 * a page-table change. Looked at only while the list is not empty. */
static bool stale_forget(cpu *c, uint32_t vpage)
{
    for (unsigned i = 0; i < c->nstale; i++)
        if (c->stale_pages[i] == vpage) {
            c->stale_pages[i] = c->stale_pages[--c->nstale];
            return true;
        }
    return false;
}

bool vcpu_stale_watch(cpu *c, uint32_t linear)
{
    uint32_t vpage = linear >> 12;
    vcpu_tlb_settle(c);
    if (!mmu_tlb_find(c->tlb, vpage))
        return false;
    if (!stale_forget(c, vpage) && c->nstale == VCPU_STALE_WATCH)
        memmove(c->stale_pages, c->stale_pages + 1, --c->nstale * sizeof c->stale_pages[0]);
    c->stale_pages[c->nstale++] = vpage;
    vcpu_mmu_flush_tlb(c); /* Unicorn's copy of the entry would hide the next access from the fill */
    return true;
}

void vcpu_stale_clear(cpu *c) { c->nstale = 0; }

/* An access answered from the guest's TLB entry for a watched page: would the tables give it? */
static void stale_check(cpu *c, const mmu_regs *r, const mmu_tlb_entry *hit, mmu_access acc, bool user)
{
    if (!stale_forget(c, hit->vpage))
        return;
    mmu_walk w;
    bool ok = mmu_walk_linear(c->pm, r, hit->vpage << 12, &w) && w.present && (w.page & ~0xFFFull) == hit->page &&
              (!user || w.us) && (acc != MMU_WRITE || w.rw || (!user && !(r->cr0 & CR0_WP))) &&
              (acc != MMU_FETCH || !w.nx);
    if (!ok && c->ops.check_stale)
        c->ops.check_stale(c->ops.ctx, hit->vpage << 12, hit->page,
                           acc == MMU_WRITE ? 'w' : acc == MMU_FETCH ? 'x' : 'r');
}

/* A supervisor access to a user page (the max model: CR4.SMEP, SMAP can be set only there).
 * SMEP: no fetch. SMAP: no data access unless EFLAGS.AC. Unicorn keeps an entry per MMU index,
 * and its index for supervisor data accesses follows AC under SMAP, so an entry allowed with AC
 * set is not used with AC clear. (Implicit supervisor accesses from ring 3, which SMAP refuses
 * whatever AC says, are checked as user accesses here, as before: see docs/CONFORMANCE.md.) */
static bool smep_smap_refuse(cpu *c, const mmu_regs *r, mmu_access acc)
{
    if (acc == MMU_FETCH)
        return (r->cr4 & CR4_SMEP) != 0;
    return (r->cr4 & CR4_SMAP) && !(vcpu_get(c, CPU_EFLAGS) & EFLAGS_AC);
}

static bool on_tlb_fill(uc_engine *uc, uint64_t vaddr, uc_mem_type type, uc_tlb_entry *e, void *user)
{
    (void)uc;
    cpu *c = user;
    if (c->end_contained)
        return false; /* the run ended earlier in this block: nothing more reaches memory (cpu.c) */
    mmu_regs r;
    uint32_t ss;
    read_mmu_regs_ss(c, &r, &ss);
    c->mmu_cached = r; /* current until the next fill (cpu_internal.h) */
    c->mmu_regs_valid = true;
    /* Every CR3 load (and paging on or off) flushes Unicorn's TLB, so the first block fetched
     * in a new address space passes here before its block hook runs. */
    blockcache_set_space(&c->counts, r.cr0 & CR0_PG ? r.cr3 & ~0x1Fu : 1u);
    /* A pending invalidation has run: the instructions that make one do not access memory. */
    if (c->tlb_pending || r.cr3 != c->tlb_cr3 || r.cr0 != c->tlb_cr0 || r.cr4 != c->tlb_cr4)
        settle_with(c, &r);
    mmu_access acc = type == UC_MEM_WRITE ? MMU_WRITE : type == UC_MEM_FETCH ? MMU_FETCH : MMU_READ;
    /* The privilege is SS's RPL, which equals the CPL in protected mode, not CS's: interrupt
     * delivery from ring 3 loads SS (and reads the GDT through here) before CS. */
    bool user_mode = (ss & 3u) == 3u;
    bool paging = (r.cr0 & CR0_PG) != 0;
    uint32_t vpage = (uint32_t)vaddr >> 12;
    mmu_tlb_entry *hit = paging ? mmu_tlb_find(c->tlb, vpage) : NULL;
    mmu_tlb_entry t;
    if (hit && tlb_permits(hit, acc, user_mode, r.cr0)) {
        t = *hit;
        if (c->nstale)
            stale_check(c, &r, hit, acc, user_mode);
    } else {
        if (c->nstale)
            stale_forget(c, vpage); /* walked again: whatever was stale is replaced */
        mmu_result res;
        if (!mmu_access_page(c->pm, &r, (uint32_t)vaddr, acc, user_mode, &res)) {
            if (hit) { /* a page fault drops the entries of its page */
                mmu_tlb_drop(c->tlb, vpage);
                vcpu_mmu_flush_tlb(c);
            }
            c->mmu_refused = true;
            return false;
        }
        t = (mmu_tlb_entry){.vpage = vpage, .flags = res.tlb_flags, .page = res.page};
        bool narrowed = hit && tlb_narrows(hit, &t); /* before put replaces *hit */
        if (paging && (mmu_tlb_put(c->tlb, &t) || narrowed))
            vcpu_mmu_flush_tlb(c); /* safe here: QEMU looks its TLB up again after a fill */
    }
    if (paging && !user_mode && (t.flags & MMU_TLB_US) && (r.cr4 & (CR4_SMEP | CR4_SMAP)) && smep_smap_refuse(c, &r, acc)) {
        c->mmu_refused = true; /* Unicorn's own MMU (max: Skylake's, with SMEP and SMAP) faults */
        return false;
    }
    if (acc == MMU_FETCH)
        mark_code_page(c, t.page);
    note_rom_mapping(c, (uint32_t)vaddr, t.page);
    bool watched = page_bit(c, c->watched_pages, t.page);
    if (acc == MMU_WRITE && watched) {
        code_written(c, t.page);
        vcpu_code_store(c, t.page);
        watched = false;
    }
    /* A fetch entry is not made writable either: the page's blocks are about to be counted. */
    bool write = (!paging || tlb_permits(&t, MMU_WRITE, user_mode, r.cr0)) && !watched && acc != MMU_FETCH;
    if (write)
        set_page_bit(c, c->writable_pages, t.page, true);
    e->paddr = t.page;
    e->perms = UC_PROT_READ | (write ? UC_PROT_WRITE : 0);
    /* Data entries of RAM pages never executed lack execute rights: that keeps their stores fast. */
    if ((!paging || !(t.flags & MMU_TLB_NX)) && (t.page >= c->pm->size || is_code_page(c, t.page))) {
        e->perms |= UC_PROT_EXEC;
        /* Code at this linear page may run from another physical page than its counts came
         * from (the guest remapped it and invalidated the old entry): count afresh. */
        if (blockcache_page_moved(&c->counts, (uint32_t)vaddr, t.page))
            blockcache_clear_current(&c->counts);
    }
    return true;
}

void vcpu_tlb_state(cpu *c, const void **entries, size_t *bytes)
{
    vcpu_tlb_settle_at_stop(c);
    *entries = c->tlb->ent;
    *bytes = mmu_tlb_bytes(c->tlb);
}

void vcpu_mmu_close(cpu *c)
{
    free(c->code_pages);
    free(c->watched_pages);
    free(c->writable_pages);
    free(c->tlb);
    free(c->sites);
}

bool vcpu_mmu_open(cpu *c, vm_error *err)
{
    c->code_pages = calloc(page_map_bytes(c), 1);
    c->watched_pages = calloc(page_map_bytes(c), 1);
    c->writable_pages = calloc(page_map_bytes(c), 1);
    c->tlb = calloc(1, sizeof *c->tlb);
    if (!c->code_pages || !c->watched_pages || !c->writable_pages || !c->tlb)
        return vm_fail(err, VM_ENOMEM, "out of memory for the code-page maps and the TLB");
    uc_err e = uc_ctl_tlb_mode(c->uc, UC_TLB_VIRTUAL);
    if (e == UC_ERR_OK)
        e = uc_hook_add(c->uc, &c->tlb_hook, UC_HOOK_TLB_FILL, (void *)on_tlb_fill, c, 1, 0);
    if (e != UC_ERR_OK)
        return vm_fail(err, VM_EENGINE, "unicorn: cannot take over the TLB: %s", uc_strerror(e));
    return true;
}

/* Marks the physical page of `linear` as holding code (its translations need the slow path). */
static void mark_code(cpu *c, uint32_t linear)
{
    mmu_regs r;
    uint64_t phys;
    read_mmu_regs(c, &r);
    if (mmu_peek(c->pm, &r, linear, false, &phys))
        mark_code_page(c, phys);
}

uc_err vcpu_mmu_reference_step(cpu *c, uc_err (*step)(cpu *c))
{
    c->mmu_refused = false;
    uint32_t eip = vcpu_get(c, CPU_EIP);
    mark_code(c, eip); /* Unicorn's MMU translates this instruction without telling the fill hook */
    mark_code(c, eip + 15);
    uc_err e = uc_ctl_tlb_mode(c->uc, UC_TLB_CPU);
    if (e != UC_ERR_OK)
        return e;
    uint64_t before = c->icount;
    c->mmu_reference = true;
    e = step(c);
    c->mmu_reference = false;
    uc_err back = uc_ctl_tlb_mode(c->uc, UC_TLB_VIRTUAL);
    /* Unicorn's MMU filled entries neither TLB of ours saw, writable ones for watched code
     * pages among them (the stepped instruction's own page, to begin with). */
    vcpu_mmu_flush_tlb(c);
    if (c->icount != before) /* it ran (the MMUs disagreed): its stores went unseen */
        blockcache_clear(&c->counts);
    return e != UC_ERR_OK ? e : back;
}

/* Linear → physical as the guest's own supervisor read (or write) would go, with paging
 * registers r: through its TLB entry where it has one (a stale one included), as the CPU
 * would, else through the tables (vcpu_translate). */
static bool translate_with(cpu *c, const mmu_regs *r, uint32_t linear, bool write, uint64_t *phys)
{
    if (!(r->cr0 & CR0_PG)) { /* as mmu_peek answers it, without the call */
        *phys = linear;
        return true;
    }
    const mmu_tlb_entry *t = mmu_tlb_find(c->tlb, linear >> 12);
    if (t && (!write || (t->flags & MMU_TLB_RW) || !(r->cr0 & CR0_WP))) {
        *phys = t->page | (linear & 0xFFFu); /* what the guest's own access would reach */
        return true;
    }
    return mmu_peek(c->pm, r, linear, write, phys);
}

/* Where `len` bytes at `linear`, on one page, lie in host memory, as the guest's own
 * supervisor read (or write) would reach them; NULL where memory does not hold them. */
static uint8_t *host_ptr_with(cpu *c, const mmu_regs *r, uint32_t linear, uint32_t len, bool write)
{
    uint64_t phys;
    if (!translate_with(c, r, linear, write, &phys))
        return NULL;
    return phys_range_ok(c->pm, phys, len) ? phys_ptr(c->pm, phys) : NULL;
}

static uint8_t *host_ptr(cpu *c, uint32_t linear, uint32_t len, bool write)
{
    if (c->tlb_pending)
        settle(c);
    if (c->mmu_regs_valid) /* kept from one ROM call to the next: no copy */
        return host_ptr_with(c, &c->mmu_cached, linear, len, write);
    mmu_regs r;
    vcpu_mmu_regs(c, &r);
    return host_ptr_with(c, &r, linear, len, write);
}

/* Host accesses: translated here without side effects. Reads, and writes to pages no code was
 * fetched from, go straight to the host buffer; writes to code pages go through Unicorn's
 * physical accessor, which drops the translations they overwrite. */
static bool host_access(cpu *c, uint32_t linear, void *buf, uint32_t len, bool write)
{
    if (c->tlb_pending)
        settle(c);
    mmu_regs r;
    vcpu_mmu_regs(c, &r);
    uint8_t *p = buf;
    while (len > 0) {
        uint32_t chunk = 0x1000u - (linear & 0xFFFu);
        if (chunk > len)
            chunk = len;
        uint64_t phys;
        /* Through the guest's TLB where it has an entry (a stale one included), as the CPU
         * would. Memory only: the host never reads or writes device space on its behalf. */
        const mmu_tlb_entry *t = r.cr0 & CR0_PG ? mmu_tlb_find(c->tlb, linear >> 12) : NULL;
        if (t && (!write || (t->flags & MMU_TLB_RW) || !(r.cr0 & CR0_WP)))
            phys = t->page | (linear & 0xFFFu);
        else if (!mmu_peek(c->pm, &r, linear, false, &phys))
            return false;
        if (!phys_range_ok(c->pm, phys, chunk))
            return false;
        if (write && page_bit(c, c->watched_pages, phys))
            code_written(c, phys);
        if (!write)
            memcpy(p, phys_ptr(c->pm, phys), chunk);
        else if (phys_range_is_ram(c->pm, phys, chunk) && !is_code_page(c, phys))
            memcpy(phys_ptr(c->pm, phys), p, chunk);
        else if (uc_mem_write(c->uc, phys, p, chunk) != UC_ERR_OK)
            return false;
        linear += chunk;
        p += chunk;
        len -= chunk;
    }
    return true;
}

bool vcpu_read_linear(cpu *c, uint32_t linear, void *dst, uint32_t len)
{
    if (len - 1u < 8u && (linear & 0xFFFu) <= 0x1000u - len) { /* a ROM call's stack word or caller's bytes */
        const uint8_t *p = host_ptr(c, linear, len, false);
        if (p)
            memcpy(dst, p, len);
        return p != NULL;
    }
    return host_access(c, linear, dst, len, false);
}

bool vcpu_write_linear(cpu *c, uint32_t linear, const void *src, uint32_t len)
{
    return host_access(c, linear, (void *)src, len, true);
}

bool vcpu_read_stack_top(cpu *c, uint32_t esp, bool push, uint32_t *top)
{
    uint64_t phys;
    uint32_t at = esp & 0xFFFu;
    bool one_page = push && at >= 4 && at <= 0x1000u - 4;
    if (one_page) {
        if (c->tlb_pending)
            settle(c);
        mmu_regs r;
        vcpu_mmu_regs(c, &r);
        const mmu_tlb_entry *t = r.cr0 & CR0_PG ? mmu_tlb_find(c->tlb, esp >> 12) : NULL;
        /* A read-only TLB entry: the write walks the tables, the read takes the entry (which
         * may be stale), as apart. */
        one_page = !t || (t->flags & MMU_TLB_RW) || !(r.cr0 & CR0_WP);
    }
    if (!one_page) /* the two steps */
        return (!push || vcpu_translate(c, esp - 4, true, &phys)) && vcpu_read_linear(c, esp, top, 4);
    /* ESP-4 and ESP..ESP+3 on one page, which the write's translation reaches as the read's
     * would (the TLB entry both take, or the same walk): it serves the read. */
    const uint8_t *p = host_ptr(c, esp - 4, 8, true);
    if (p)
        memcpy(top, p + 4, 4);
    return p != NULL;
}

bool vcpu_translate(cpu *c, uint32_t linear, bool write, uint64_t *phys)
{
    if (c->tlb_pending)
        settle(c);
    mmu_regs r;
    vcpu_mmu_regs(c, &r);
    return translate_with(c, &r, linear, write, phys);
}

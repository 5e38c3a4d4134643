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
 * it as the reference MMU says. */
#include "cpu/cpu_internal.h"

#include <stdlib.h>
#include <string.h>

#define CR0_PG 0x80000000u
#define CR4_PAE 0x20u
#define MSR_EFER 0xC0000080u
#define EFER_NXE 0x800u

static void read_mmu_regs(cpu *c, mmu_regs *r)
{
    *r = (mmu_regs){.cr0 = vcpu_get(c, CPU_CR0)};
    if (!(r->cr0 & CR0_PG)) /* paging off: the walk needs nothing else */
        return;
    r->cr3 = vcpu_get(c, CPU_CR3);
    r->cr4 = vcpu_get(c, CPU_CR4);
    if (r->cr4 & CR4_PAE) {
        uc_x86_msr msr = {.rid = MSR_EFER};
        r->nxe = uc_reg_read(c->uc, UC_X86_REG_MSR, &msr) == UC_ERR_OK && (msr.value & EFER_NXE);
    }
}

void vcpu_mmu_regs(cpu *c, mmu_regs *r)
{
    if (c->mmu_regs_valid) {
        *r = c->mmu_cached;
        return;
    }
    read_mmu_regs(c, r);
    if (c->at_block_start) { /* inside a ROM call the guest cannot change them */
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
}

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

static bool on_tlb_fill(uc_engine *uc, uint64_t vaddr, uc_mem_type type, uc_tlb_entry *e, void *user)
{
    (void)uc;
    cpu *c = user;
    if (c->end_contained)
        return false; /* the run ended earlier in this block: nothing more reaches memory (cpu.c) */
    mmu_regs r;
    read_mmu_regs(c, &r);
    /* Every CR3 load (and paging on or off) flushes Unicorn's TLB, so the first block fetched
     * in a new address space passes here before its block hook runs. */
    blockcache_set_space(&c->counts, r.cr0 & CR0_PG ? r.cr3 & ~0x1Fu : 1u);
    mmu_access acc = type == UC_MEM_WRITE ? MMU_WRITE : type == UC_MEM_FETCH ? MMU_FETCH : MMU_READ;
    bool user_mode = (vcpu_get(c, CPU_CS) & 3u) == 3u;
    mmu_result res;
    if (!mmu_access_page(c->pm, &r, (uint32_t)vaddr, acc, user_mode, &res)) {
        c->mmu_refused = true;
        return false;
    }
    if (acc == MMU_FETCH)
        mark_code_page(c, res.page);
    note_rom_mapping(c, (uint32_t)vaddr, res.page);
    bool watched = page_bit(c, c->watched_pages, res.page);
    if (acc == MMU_WRITE && watched) {
        code_written(c, res.page);
        vcpu_code_store(c);
        watched = false;
    }
    /* A fetch entry is not made writable either: the page's blocks are about to be counted. */
    bool write = res.write && !watched && acc != MMU_FETCH;
    if (write)
        set_page_bit(c, c->writable_pages, res.page, true);
    e->paddr = res.page;
    e->perms = UC_PROT_READ | (write ? UC_PROT_WRITE : 0);
    /* Data entries of RAM pages never executed lack execute rights: that keeps their stores fast. */
    if (res.exec && (res.page >= c->pm->size || is_code_page(c, res.page))) {
        e->perms |= UC_PROT_EXEC;
        /* Code at this linear page may run from another physical page than its counts came
         * from (the guest remapped it and invalidated the old entry): count afresh. */
        if (blockcache_page_moved(&c->counts, (uint32_t)vaddr, res.page))
            blockcache_clear_current(&c->counts);
    }
    return true;
}

void vcpu_mmu_close(cpu *c)
{
    free(c->code_pages);
    free(c->watched_pages);
    free(c->writable_pages);
}

bool vcpu_mmu_open(cpu *c, vm_error *err)
{
    c->code_pages = calloc(page_map_bytes(c), 1);
    c->watched_pages = calloc(page_map_bytes(c), 1);
    c->writable_pages = calloc(page_map_bytes(c), 1);
    if (!c->code_pages || !c->watched_pages || !c->writable_pages)
        return vm_fail(err, VM_ENOMEM, "out of memory for the code-page maps");
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
    /* Unicorn's MMU filled entries this hook did not see, writable ones for watched code pages
     * among them (the stepped instruction's own page, to begin with). */
    vcpu_mmu_flush_tlb(c);
    if (c->icount != before) /* it ran (the MMUs disagreed): its stores went unseen */
        blockcache_clear(&c->counts);
    return e != UC_ERR_OK ? e : back;
}

/* Host accesses: translated here without side effects. Reads, and writes to pages no code was
 * fetched from, go straight to the host buffer; writes to code pages go through Unicorn's
 * physical accessor, which drops the translations they overwrite. */
static bool host_access(cpu *c, uint32_t linear, void *buf, uint32_t len, bool write)
{
    mmu_regs r;
    vcpu_mmu_regs(c, &r);
    uint8_t *p = buf;
    while (len > 0) {
        uint32_t chunk = 0x1000u - (linear & 0xFFFu);
        if (chunk > len)
            chunk = len;
        uint64_t phys;
        /* Memory only: the host never reads or writes device space on the guest's behalf. */
        if (!mmu_peek(c->pm, &r, linear, false, &phys) || !phys_range_ok(c->pm, phys, chunk))
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
    return host_access(c, linear, dst, len, false);
}

bool vcpu_write_linear(cpu *c, uint32_t linear, const void *src, uint32_t len)
{
    return host_access(c, linear, (void *)src, len, true);
}

bool vcpu_translate(cpu *c, uint32_t linear, bool write, uint64_t *phys)
{
    mmu_regs r;
    vcpu_mmu_regs(c, &r);
    return mmu_peek(c->pm, &r, linear, write, phys);
}

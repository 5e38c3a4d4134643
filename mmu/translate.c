#include "mmu/translate.h"

#include "mmu/tlb.h"

#include <string.h>

#define PG_P 0x1u
#define PG_RW 0x2u
#define PG_US 0x4u
#define PG_A 0x20u
#define PG_D 0x40u
#define PG_PS 0x80u
#define PG_G 0x100u
#define PAE_ADDR 0x000FFFFFFFFFF000ull
#define CR0_WP 0x00010000u
#define CR0_PG 0x80000000u
#define CR4_PSE 0x10u
#define CR4_PAE 0x20u
#define CR4_PGE 0x80u

static uint64_t read_entry(const physmem *pm, uint64_t addr, bool wide)
{
    uint64_t v = phys_read32(pm, addr);
    if (wide)
        v |= (uint64_t)phys_read32(pm, addr + 4) << 32;
    return v;
}

/* Adds an entry to the walk; false if it is not present. */
static bool step(mmu_walk *w, const physmem *pm, uint64_t addr, bool wide, bool nxe)
{
    uint64_t value = read_entry(pm, addr, wide);
    w->entry[w->nentries] = addr;
    w->value[w->nentries++] = value;
    if (!(value & PG_P))
        return false;
    w->rw = w->rw && (value & PG_RW);
    w->us = w->us && (value & PG_US);
    if (nxe && (value >> 63))
        w->nx = true;
    return true;
}

static bool walk_pae(const physmem *pm, const mmu_regs *r, uint32_t linear, mmu_walk *w)
{
    uint64_t pdpte = read_entry(pm, (r->cr3 & 0xFFFFFFE0u) + ((linear >> 30) & 3u) * 8u, true);
    if (!(pdpte & PG_P)) /* PAE PDPTEs carry no rights and no accessed bit */
        return false;
    if (!step(w, pm, (pdpte & PAE_ADDR) + ((linear >> 21) & 0x1FFu) * 8u, true, r->nxe))
        return false;
    uint64_t pde = w->value[0];
    if (pde & PG_PS) {
        w->large = true;
        w->page = (pde & PAE_ADDR & ~0x1FFFFFull) | (linear & 0x1FF000u);
        return true;
    }
    if (!step(w, pm, (pde & PAE_ADDR) + ((linear >> 12) & 0x1FFu) * 8u, true, r->nxe))
        return false;
    w->page = w->value[1] & PAE_ADDR;
    return true;
}

static bool walk_32(const physmem *pm, const mmu_regs *r, uint32_t linear, mmu_walk *w)
{
    if (!step(w, pm, (r->cr3 & 0xFFFFF000u) + (linear >> 22) * 4u, false, false))
        return false;
    uint64_t pde = w->value[0];
    if ((pde & PG_PS) && (r->cr4 & CR4_PSE)) {
        w->large = true;
        w->page = (pde & 0xFFC00000u) | (linear & 0x3FF000u);
        return true;
    }
    if (!step(w, pm, (pde & 0xFFFFF000u) + ((linear >> 12) & 0x3FFu) * 4u, false, false))
        return false;
    w->page = w->value[1] & 0xFFFFF000u;
    return true;
}

bool mmu_walk_linear(const physmem *pm, const mmu_regs *r, uint32_t linear, mmu_walk *w)
{
    memset(w, 0, sizeof *w);
    w->rw = w->us = true;
    if (!(r->cr0 & CR0_PG)) {
        w->page = linear & 0xFFFFF000u;
        w->present = true;
    } else {
        w->present = (r->cr4 & CR4_PAE) ? walk_pae(pm, r, linear, w) : walk_32(pm, r, linear, w);
    }
    return w->present;
}

static void set_bits(physmem *pm, uint64_t addr, uint32_t bits)
{
    uint32_t v = phys_read32(pm, addr);
    if ((v & bits) != bits && phys_range_is_ram(pm, addr, 4)) {
        v |= bits;
        bool written = phys_write(pm, addr, &v, 4);
        VM_ASSERT(written); /* the range was just checked to be RAM */
    }
}

bool mmu_access_page(physmem *pm, const mmu_regs *r, uint32_t linear, mmu_access acc, bool user, mmu_result *res)
{
    mmu_walk w;
    bool nx_paging = (r->cr4 & CR4_PAE) && r->nxe;
    res->error = (acc == MMU_WRITE ? MMU_PF_WRITE : 0) | (user ? MMU_PF_USER : 0) |
                 (acc == MMU_FETCH && nx_paging ? MMU_PF_FETCH : 0);
    if (!mmu_walk_linear(pm, r, linear, &w))
        return false;
    bool wp = user || (r->cr0 & CR0_WP); /* supervisor writes ignore R/W unless CR0.WP */
    if ((user && !w.us) || (acc == MMU_WRITE && !w.rw && wp) || (acc == MMU_FETCH && w.nx)) {
        res->error |= MMU_PF_PRESENT;
        return false;
    }
    for (int i = 0; i < w.nentries; i++)
        set_bits(pm, w.entry[i], PG_A | (acc == MMU_WRITE && i == w.nentries - 1 ? PG_D : 0));
    bool dirty = w.nentries == 0 || acc == MMU_WRITE || (w.value[w.nentries - 1] & PG_D);
    res->page = w.page;
    /* Without the dirty bit the entry stays read-only, so the first write comes back to set it. */
    res->write = (w.rw || !wp) && dirty;
    res->exec = !w.nx;
    uint64_t leaf = w.nentries ? w.value[w.nentries - 1] : 0;
    res->tlb_flags = (w.rw ? MMU_TLB_RW : 0) | (w.us ? MMU_TLB_US : 0) | (w.nx ? MMU_TLB_NX : 0) |
                     (dirty ? MMU_TLB_DIRTY : 0) | ((leaf & PG_G) && (r->cr4 & CR4_PGE) ? MMU_TLB_GLOBAL : 0) |
                     (w.large ? ((r->cr4 & CR4_PAE) ? MMU_TLB_2M : MMU_TLB_4M) : 0);
    return true;
}

bool mmu_peek(const physmem *pm, const mmu_regs *r, uint32_t linear, bool write, uint64_t *phys)
{
    if (!(r->cr0 & CR0_PG)) { /* no walk to make (a walk clears its ~150-byte record first) */
        *phys = linear;
        return true;
    }
    mmu_walk w;
    if (!mmu_walk_linear(pm, r, linear, &w) || (write && !w.rw && (r->cr0 & CR0_WP)))
        return false;
    *phys = w.page | (linear & 0xFFFu);
    return true;
}

#include "paging.h"

#include "kstring.h"
#include "vmi.h"

static uint8_t pool[PG_POOL_PAGES][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static unsigned pool_used;
static uint32_t pd_phys;   /* page directory */
static uint32_t table_off; /* page tables are accessed at physical + table_off */
static bool enabled;
uint32_t pg_extra_vmi_flags;

void *pg_alloc_page(void)
{
    if (pool_used == PG_POOL_PAGES)
        return NULL;
    void *p = pool[pool_used++];
    memset(p, 0, PAGE_SIZE); /* before AllocatePage: afterwards it is a page table */
    return p;
}

static uint32_t *table(uint32_t phys) { return (uint32_t *)(uintptr_t)(phys + table_off); }

void pg_init(void)
{
    pd_phys = (uint32_t)(uintptr_t)pg_alloc_page();
    vmi_allocate_page(pd_phys >> 12, VMI_PAGE_PD | VMI_PAGE_ZEROED, 0, 0, 0);
}

uint32_t pg_directory(void) { return pd_phys; }
bool pg_enabled(void) { return enabled; }
void pg_set_table_offset(uint32_t offset) { table_off = offset; }

uint32_t pg_vmi_flags(uint32_t level, uint32_t linear)
{
    uint32_t f = level | pg_extra_vmi_flags;
    if (enabled)
        f |= VMI_PAGE_CURRENT_AS | (linear & VMI_PAGE_VA_MASK);
    return f;
}

uint32_t *pg_pde(uint32_t linear) { return &table(pd_phys)[linear >> 22]; }

uint32_t *pg_pte(uint32_t linear)
{
    const uint32_t pde = *pg_pde(linear);
    if (!(pde & PTE_P))
        return NULL;
    return &table(pde & PTE_ADDR)[(linear >> 12) & 0x3FF];
}

bool pg_map(uint32_t linear, uint32_t phys, uint32_t pte_flags)
{
    uint32_t *pde = pg_pde(linear);
    if (!(*pde & PTE_P)) {
        const void *pt = pg_alloc_page();
        if (!pt)
            return false;
        const uint32_t pt_phys = (uint32_t)(uintptr_t)pt;
        vmi_allocate_page(pt_phys >> 12, VMI_PAGE_PT | VMI_PAGE_ZEROED, 0, 0, 0);
        vmi_set_pxe(pt_phys | PDE_TABLE, pde, pg_vmi_flags(VMI_PAGE_PD, linear & 0xFFC00000));
    }
    vmi_set_pxe((phys & PTE_ADDR) | pte_flags | PTE_P, pg_pte(linear),
                pg_vmi_flags(VMI_PAGE_PT, linear));
    return true;
}

bool pg_map_range(uint32_t linear, uint32_t phys, uint32_t bytes, uint32_t pte_flags)
{
    for (uint32_t off = 0; off < bytes; off += PAGE_SIZE)
        if (!pg_map(linear + off, phys + off, pte_flags))
            return false;
    return true;
}

void pg_unmap(uint32_t linear)
{
    uint32_t *pte = pg_pte(linear);
    if (pte)
        vmi_set_pxe(0, pte, pg_vmi_flags(VMI_PAGE_PT, linear));
}

void pg_release_table(uint32_t linear)
{
    uint32_t *pde = pg_pde(linear);
    const uint32_t pt_phys = *pde & PTE_ADDR;
    if (!(*pde & PTE_P))
        return;
    vmi_set_pxe(0, pde, pg_vmi_flags(VMI_PAGE_PD, linear & 0xFFC00000));
    vmi_flush_tlb(VMI_FLUSH_TLB);
    vmi_release_page(pt_phys >> 12, VMI_PAGE_PT);
}

void pg_enable(bool write_protect)
{
    vmi_set_cr3(pd_phys);
    vmi_set_cr0(vmi_get_cr0() | CR0_PG | (write_protect ? CR0_WP : 0));
    enabled = true;
}

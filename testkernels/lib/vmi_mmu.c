/* VMI paging calls with their native instructions. */
#include "vmi.h"
#include "vmi_internal.h"

#define CR4_PGE 0x80u

void vmi_set_pxe(uint32_t pte, uint32_t *ptep, uint32_t flags)
{
    if (vmi_has(VMI_CALL_SetPxE))
        ((vmi_fn3)vmi_addr(VMI_CALL_SetPxE))(pte, (uint32_t)(uintptr_t)ptep, flags);
    else /* the ROM would have stored it: NONE and NOP both leave the store to us */
        *(volatile uint32_t *)ptep = pte;
}

void vmi_set_pxe_long(uint64_t pte, uint64_t *ptep, uint32_t flags)
{
    if (vmi_has(VMI_CALL_SetPxELong)) {
        ((vmi_fn_setpxelong)vmi_addr(VMI_CALL_SetPxELong))(pte, (uint32_t)(uintptr_t)ptep,
                                                           flags);
    } else {
        volatile uint32_t *half = (volatile uint32_t *)ptep;
        half[1] = (uint32_t)(pte >> 32); /* high first: never a present entry with a stale top */
        half[0] = (uint32_t)pte;
    }
}

void vmi_update_pxe(uint32_t *ptep, uint32_t flags)
{
    if (vmi_has(VMI_CALL_UpdatePxE))
        ((vmi_fn2)vmi_addr(VMI_CALL_UpdatePxE))((uint32_t)(uintptr_t)ptep, flags);
}

void vmi_update_pxe_long(uint64_t *ptep, uint32_t flags)
{
    if (vmi_has(VMI_CALL_UpdatePxELong))
        ((vmi_fn2)vmi_addr(VMI_CALL_UpdatePxELong))((uint32_t)(uintptr_t)ptep, flags);
}

void vmi_allocate_page(uint32_t pfn, uint32_t flags, uint32_t clone_pfn, uint32_t clone_start,
                       uint32_t clone_count)
{
    if (vmi_has(VMI_CALL_AllocatePage))
        ((vmi_fn5)vmi_addr(VMI_CALL_AllocatePage))(pfn, flags, clone_pfn, clone_start,
                                                   clone_count);
}

void vmi_release_page(uint32_t pfn, uint32_t flags)
{
    if (vmi_has(VMI_CALL_ReleasePage))
        ((vmi_fn2)vmi_addr(VMI_CALL_ReleasePage))(pfn, flags);
}

void vmi_inval_page(uint32_t linear)
{
    if (vmi_has(VMI_CALL_InvalPage))
        ((vmi_fn1)vmi_addr(VMI_CALL_InvalPage))(linear);
    else if (!vmi_is_nop(VMI_CALL_InvalPage))
        __asm__ volatile("invlpg (%0)" : : "r"(linear) : "memory");
}

static inline uint32_t native_cr4(void)
{
    uint32_t v;
    __asm__ volatile("movl %%cr4, %0" : "=r"(v));
    return v;
}

void vmi_flush_tlb(uint32_t how)
{
    if (vmi_has(VMI_CALL_FlushTLB)) {
        ((vmi_fn1)vmi_addr(VMI_CALL_FlushTLB))(how);
        return;
    }
    if (vmi_is_nop(VMI_CALL_FlushTLB))
        return;
    /* CR4 exists from the Pentium on; only touch it when global pages are to go. */
    const uint32_t cr4 = (how & VMI_FLUSH_GLOBAL) ? native_cr4() : 0;
    if (cr4 & CR4_PGE)
        __asm__ volatile("movl %0, %%cr4" : : "r"(cr4 & ~CR4_PGE) : "memory");
    __asm__ volatile("movl %%cr3, %%eax; movl %%eax, %%cr3" : : : "eax", "memory");
    if (cr4 & CR4_PGE)
        __asm__ volatile("movl %0, %%cr4" : : "r"(cr4) : "memory");
}

void vmi_set_linear_mapping(uint32_t slot, uint32_t linear, uint32_t pages, uint32_t pfn)
{
    if (vmi_has(VMI_CALL_SetLinearMapping))
        ((vmi_fn4)vmi_addr(VMI_CALL_SetLinearMapping))(slot, linear, pages, pfn);
}

/* VMI descriptor-table calls with their native instructions. */
#include "desc.h"
#include "vmi.h"
#include "vmi_internal.h"

void vmi_set_gdt(const struct vmi_dtr *d)
{
    if (vmi_has(VMI_CALL_SetGDT))
        ((vmi_fn1)vmi_addr(VMI_CALL_SetGDT))((uint32_t)(uintptr_t)d);
    else if (!vmi_is_nop(VMI_CALL_SetGDT))
        __asm__ volatile("lgdt %0" : : "m"(*d) : "memory");
}

void vmi_set_idt(const struct vmi_dtr *d)
{
    if (vmi_has(VMI_CALL_SetIDT))
        ((vmi_fn1)vmi_addr(VMI_CALL_SetIDT))((uint32_t)(uintptr_t)d);
    else if (!vmi_is_nop(VMI_CALL_SetIDT))
        __asm__ volatile("lidt %0" : : "m"(*d) : "memory");
}

void vmi_set_ldt(uint16_t selector)
{
    if (vmi_has(VMI_CALL_SetLDT))
        ((vmi_fn1)vmi_addr(VMI_CALL_SetLDT))(selector);
    else if (!vmi_is_nop(VMI_CALL_SetLDT))
        __asm__ volatile("lldt %0" : : "r"(selector) : "memory");
}

void vmi_set_tr(uint16_t selector)
{
    if (vmi_has(VMI_CALL_SetTR))
        ((vmi_fn1)vmi_addr(VMI_CALL_SetTR))(selector);
    else if (!vmi_is_nop(VMI_CALL_SetTR))
        __asm__ volatile("ltr %0" : : "r"(selector) : "memory");
}

void vmi_get_gdt(struct vmi_dtr *d)
{
    if (vmi_has(VMI_CALL_GetGDT))
        ((vmi_fn1)vmi_addr(VMI_CALL_GetGDT))((uint32_t)(uintptr_t)d);
    else
        __asm__ volatile("sgdt %0" : "=m"(*d) : : "memory");
}

void vmi_get_idt(struct vmi_dtr *d)
{
    if (vmi_has(VMI_CALL_GetIDT))
        ((vmi_fn1)vmi_addr(VMI_CALL_GetIDT))((uint32_t)(uintptr_t)d);
    else
        __asm__ volatile("sidt %0" : "=m"(*d) : : "memory");
}

uint16_t vmi_get_ldt(void)
{
    if (vmi_has(VMI_CALL_GetLDT))
        return (uint16_t)((vmi_fn0)vmi_addr(VMI_CALL_GetLDT))();
    uint16_t sel;
    __asm__ volatile("sldt %0" : "=r"(sel));
    return sel;
}

uint16_t vmi_get_tr(void)
{
    if (vmi_has(VMI_CALL_GetTR))
        return (uint16_t)((vmi_fn0)vmi_addr(VMI_CALL_GetTR))();
    uint16_t sel;
    __asm__ volatile("str %0" : "=r"(sel));
    return sel;
}

/* WriteGDTEntry / WriteLDTEntry / WriteIDTEntry share one shape: (table, index, low word,
 * high word), the high word at [esp+4]. */
static void write_entry(unsigned call, void *table, unsigned index, uint64_t desc)
{
    if (vmi_has(call)) {
        ((vmi_fn4)vmi_addr(call))((uint32_t)(uintptr_t)table, index, (uint32_t)desc,
                                  (uint32_t)(desc >> 32));
    } else if (!vmi_is_nop(call)) {
        volatile uint32_t *e = (volatile uint32_t *)((uint8_t *)table + index * 8u);
        e[0] = (uint32_t)desc;
        e[1] = (uint32_t)(desc >> 32);
    }
}

void vmi_write_gdt_entry(void *table, unsigned index, uint64_t desc)
{
    write_entry(VMI_CALL_WriteGDTEntry, table, index, desc);
}

void vmi_write_ldt_entry(void *table, unsigned index, uint64_t desc)
{
    write_entry(VMI_CALL_WriteLDTEntry, table, index, desc);
}

void vmi_write_idt_entry(void *table, unsigned index, uint64_t desc)
{
    write_entry(VMI_CALL_WriteIDTEntry, table, index, desc);
}

void vmi_update_kernel_stack(struct x86_tss *tss, uint16_t ss0, uint32_t esp0)
{
    tss->esp0 = esp0;
    tss->ss0 = ss0;
    if (vmi_has(VMI_CALL_UpdateKernelStack))
        ((vmi_fn2)vmi_addr(VMI_CALL_UpdateKernelStack))(ss0, esp0);
}

#include "desc.h"

#include "kstring.h"
#include "vmi.h"

static uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(8)));
static uint32_t gdt_offset; /* linear address of gdt = &gdt + gdt_offset */
struct x86_tss desc_tss __attribute__((aligned(128)));

uint64_t desc_segment(uint32_t base, uint32_t limit, uint8_t access, bool big)
{
    uint32_t gran = 0;
    if (limit > 0xFFFFF) {
        limit >>= 12;
        gran = 1;
    }
    const uint32_t lo = (limit & 0xFFFF) | (base << 16);
    const uint32_t hi = ((base >> 16) & 0xFF) | ((uint32_t)access << 8) | (limit & 0xF0000) |
                        ((uint32_t)big << 22) | (gran << 23) | (base & 0xFF000000);
    return ((uint64_t)hi << 32) | lo;
}

uint64_t desc_gate(uint16_t selector, uint32_t offset, uint8_t type)
{
    const uint32_t lo = (offset & 0xFFFF) | ((uint32_t)selector << 16);
    const uint32_t hi = (offset & 0xFFFF0000) | ((uint32_t)type << 8);
    return ((uint64_t)hi << 32) | lo;
}

uint32_t desc_base(uint64_t d)
{
    const uint32_t lo = (uint32_t)d, hi = (uint32_t)(d >> 32);
    return (lo >> 16) | ((hi & 0xFF) << 16) | (hi & 0xFF000000);
}

uint8_t desc_access(uint64_t d) { return (uint8_t)(d >> 40); }

uint64_t *desc_gdt(void) { return gdt; }
uint32_t desc_gdt_linear(void) { return (uint32_t)(uintptr_t)gdt + gdt_offset; }

void desc_gdt_set(unsigned index, uint64_t d)
{
    vmi_write_gdt_entry((void *)(uintptr_t)desc_gdt_linear(), index, d);
}

void desc_seg_reload(uint16_t cs, uint16_t ds)
{
    __asm__ volatile("pushl %0\n\t"
                     "pushl $1f\n\t"
                     "lret\n"
                     "1:\n\t"
                     "movw %w1, %%ds\n\t"
                     "movw %w1, %%es\n\t"
                     "movw %w1, %%fs\n\t"
                     "movw %w1, %%gs\n\t"
                     "movw %w1, %%ss"
                     :
                     : "r"((uint32_t)cs), "r"((uint32_t)ds)
                     : "memory");
}

static void gdt_load(void)
{
    const struct vmi_dtr d = {sizeof gdt - 1, desc_gdt_linear()};
    vmi_set_gdt(&d);
    desc_seg_reload(SEL_KCODE, SEL_KDATA);
}

void desc_gdt_init(void)
{
    struct vmi_dtr cur;
    uint64_t boot[3]; /* null, 0x08, 0x10 of the table in use (which may be this one) */
    vmi_get_gdt(&cur);
    memcpy(boot, (const void *)(uintptr_t)cur.base, sizeof boot);
    memset(gdt, 0, sizeof gdt);
    memcpy(gdt, boot, sizeof boot);
    gdt_offset = 0;
    gdt_load();
    desc_gdt_set(SEL_UCODE >> 3, desc_segment(0, 0xFFFFFFFF, ACC_CODE_R3, true));
    desc_gdt_set(SEL_UDATA >> 3, desc_segment(0, 0xFFFFFFFF, ACC_DATA_R3, true));
}

void desc_gdt_move(uint32_t offset)
{
    gdt_offset = offset;
    gdt_load();
}

void desc_tss_init(uint32_t esp0)
{
    memset(&desc_tss, 0, sizeof desc_tss);
    desc_tss.ss0 = SEL_KDATA;
    desc_tss.esp0 = esp0;
    desc_tss.iomap_base = sizeof desc_tss; /* beyond the limit: no I/O permission bitmap */
    desc_gdt_set(SEL_TSS >> 3, desc_segment((uint32_t)(uintptr_t)&desc_tss,
                                            sizeof desc_tss - 1, ACC_TSS32, false));
    vmi_set_tr(SEL_TSS);
}

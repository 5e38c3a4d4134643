/* vmicheck: the guests of vmiemu's VMI checker (--check-vmi). The command line names one
 * case; each does the same correct VMI work (page tables through AllocatePage and SetPxE,
 * paging on through SetCR3/SetCR0, a remap with InvalPage, a store of its own followed by
 * UpdatePxE, a GDT entry through WriteGDTEntry and loaded (the CPU sets its accessed bit), the
 * interrupt flag through the VMI calls, a
 * page table released after its PDE is cleared) and then, unless the case is `clean`, exactly
 * one thing behind the ROM's back:
 *   pt-write          a store to a PTE with no UpdatePxE after it
 *   dt-write          a store into the GDT loaded with SetGDT
 *   raw-cr3           mov to CR3 (SetCR3 exists)      raw-cr0read  mov from CR0 (GetCR0)
 *   raw-lgdt          lgdt (SetGDT)                   raw-invlpg   invlpg (InvalPage)
 *   raw-wbinvd        wbinvd (WBINVD)                 raw-wrmsr    wrmsr (WRMSR)
 *   raw-sti           sti with IF clear (EnableInterrupts; every PIC line masked)
 *   raw-popf          popf clearing IF (SetInterruptMask)
 *   stale-tlb         a read through the TLB entry of a page SetPxE remapped, before InvalPage
 *   unregistered-pxe  SetPxE into a page AllocatePage never announced
 *   page-balance      AllocatePage of a page table already announced
 * Natively (no ROM) every case runs the same instructions and passes: nothing is checked
 * there. Prints `vmicheck: PASS` and exits 33 when the case ran. */
#include <stdint.h>

#include "check.h"
#include "cpu.h"
#include "desc.h"
#include "kernel.h"
#include "kprintf.h"
#include "kstring.h"
#include "multiboot.h"
#include "paging.h"
#include "pic.h"
#include "vmi.h"

#define LOW_BYTES (4u << 20)
#define TEST_VA 0x40000000u
#define IDX_DATA 8

static volatile uint32_t *page_a, *page_b;

static uint32_t phys(const volatile void *p) { return (uint32_t)(uintptr_t)p; }
static uint32_t peek(uint32_t va) { return *(volatile uint32_t *)(uintptr_t)va; }

/* Everything a correct kernel does: the checker must find nothing in it. */
static bool correct_work(void)
{
    pic_init(0); /* every line masked: the interrupt-flag cases run with IF on */
    pg_init();
    if (!pg_map_range(0, 0, LOW_BYTES, PTE_W))
        return check("page tables built", false, "pool exhausted");
    pg_enable(true);
    page_a = pg_alloc_page();
    page_b = pg_alloc_page();
    page_a[0] = 0xAAAA0000;
    page_b[0] = 0xBBBB0000;
    pg_map(TEST_VA, phys(page_a), PTE_W);
    uint32_t first = peek(TEST_VA);
    pg_map(TEST_VA, phys(page_b), PTE_W);
    vmi_inval_page(TEST_VA);
    uint32_t second = peek(TEST_VA);
    /* A store of its own, then UpdatePxE: read-only, then InvalPage. */
    uint32_t *pte = pg_pte(TEST_VA);
    *pte &= ~PTE_W;
    vmi_update_pxe(pte, pg_vmi_flags(VMI_PAGE_PT, TEST_VA));
    vmi_inval_page(TEST_VA);
    *pte |= PTE_W;
    vmi_update_pxe(pte, pg_vmi_flags(VMI_PAGE_PT, TEST_VA));
    desc_gdt_init();
    vmi_write_gdt_entry(desc_gdt(), IDX_DATA, desc_segment(0, 0xFFFFF, 0x92, true));
    /* Loading it sets its accessed bit: the CPU's own store into the GDT, not the kernel's. */
    __asm__ volatile("mov %0, %%fs" : : "r"(IDX_DATA << 3) : "memory");
    uint32_t flags = vmi_get_interrupt_mask();
    vmi_enable_interrupts();
    vmi_disable_interrupts();
    vmi_set_interrupt_mask(flags);
    /* A page table released after its PDE is cleared (pg_release_table flushes the TLB). */
    pg_map(TEST_VA + (4u << 20), phys(page_a), PTE_W);
    pg_release_table(TEST_VA + (4u << 20));
    return check("correct VMI work", first == 0xAAAA0000 && second == 0xBBBB0000, "read 0x%08x then 0x%08x", first,
                 second);
}

static void violate(const char *c)
{
    if (!strcmp(c, "pt-write")) {
        uint32_t *pte = pg_pte(TEST_VA);
        *pte = phys(page_a) | PTE_P | PTE_W; /* no UpdatePxE */
        vmi_flush_tlb(1);
    } else if (!strcmp(c, "dt-write")) {
        desc_gdt()[IDX_DATA] = desc_segment(0, 0xFFFFF, 0x92, true); /* not WriteGDTEntry */
    } else if (!strcmp(c, "raw-cr3")) {
        uint32_t cr3 = vmi_get_cr3();
        __asm__ volatile("mov %0, %%cr3" : : "r"(cr3) : "memory");
    } else if (!strcmp(c, "raw-cr0read")) {
        uint32_t cr0;
        __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
        kprintf("vmicheck: CR0 0x%08x\n", cr0);
    } else if (!strcmp(c, "raw-lgdt")) {
        struct vmi_dtr d;
        vmi_get_gdt(&d);
        __asm__ volatile("lgdt %0" : : "m"(d) : "memory");
    } else if (!strcmp(c, "raw-invlpg")) {
        __asm__ volatile("invlpg (%0)" : : "r"(TEST_VA) : "memory");
    } else if (!strcmp(c, "raw-wbinvd")) {
        __asm__ volatile("wbinvd" : : : "memory");
    } else if (!strcmp(c, "raw-wrmsr")) {
        native_wrmsr(0x174, SEL_KCODE, 0); /* SYSENTER_CS, as Linux writes it */
    } else if (!strcmp(c, "raw-sti")) {
        vmi_disable_interrupts();
        native_sti();
        vmi_disable_interrupts();
    } else if (!strcmp(c, "raw-popf")) {
        vmi_enable_interrupts();
        uint32_t off = vmi_get_interrupt_mask() & ~0x200u;
        __asm__ volatile("push %0\n\tpopfl" : : "r"(off) : "memory", "cc");
    } else if (!strcmp(c, "stale-tlb")) {
        (void)peek(TEST_VA); /* the TLB holds page_b's entry */
        vmi_set_pxe(phys(page_a) | PTE_P | PTE_W, pg_pte(TEST_VA), pg_vmi_flags(VMI_PAGE_PT, TEST_VA));
        kprintf("vmicheck: read 0x%08x before InvalPage\n", peek(TEST_VA));
        vmi_inval_page(TEST_VA);
    } else if (!strcmp(c, "unregistered-pxe")) {
        uint32_t *table = pg_alloc_page(); /* never announced */
        vmi_set_pxe(phys(page_a) | PTE_P, &table[0], VMI_PAGE_PT);
    } else if (!strcmp(c, "page-balance")) {
        void *t = pg_alloc_page();
        vmi_allocate_page(phys(t) >> 12, VMI_PAGE_PT | VMI_PAGE_ZEROED, 0, 0, 0);
        vmi_allocate_page(phys(t) >> 12, VMI_PAGE_PT | VMI_PAGE_ZEROED, 0, 0, 0); /* again */
        vmi_release_page(phys(t) >> 12, VMI_PAGE_PT);
    }
}

static const char *const cases[] = {"pt-write", "dt-write", "raw-cr3", "raw-cr0read", "raw-lgdt", "raw-invlpg",
                                    "raw-wbinvd", "raw-wrmsr", "raw-sti", "raw-popf", "stale-tlb", "unregistered-pxe",
                                    "page-balance"};

void kmain(uint32_t magic, const struct multiboot_info *mbi)
{
    kernel_start("vmicheck");
    const char *cmdline = mb_cmdline(magic, mbi), *c = "clean";
    for (unsigned i = 0; cmdline && i < sizeof cases / sizeof cases[0]; i++)
        if (mb_cmdline_has(cmdline, cases[i]))
            c = cases[i];
    kprintf("vmicheck: case %s\n", c);
    if (correct_work() && strcmp(c, "clean"))
        violate(c);
    check_finish("vmicheck");
}

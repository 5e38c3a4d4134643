/* paging: page tables built only with AllocatePage + SetPxE (the ROM stores every entry when
 * there is one), an identity map of the low 4 MiB plus Linux's higher-half alias of
 * physical 0 at 0xC0000000, paging on through SetCR3/SetCR0; then mapping, remapping and
 * unmapping with InvalPage and FlushTLB, UpdatePxE after a store of our own, a batch inside
 * SetLazyMode(MMU), a page fault that the handler fixes, ReleasePage -- and the ROM called
 * through its alias 0xC00C0000 with its identity mapping gone. */
#include <stdint.h>

#include "check.h"
#include "cpu.h"
#include "fault.h"
#include "kernel.h"
#include "kprintf.h"
#include "multiboot.h"
#include "paging.h"
#include "vmi.h"

#define PAGE_OFFSET 0xC0000000u
#define LOW_BYTES (4u << 20)
#define TEST_VA 0x40000000u           /* remapped back and forth */
#define GLOBAL_VA (TEST_VA + 0x1000)  /* a global page */
#define DEMAND_VA (TEST_VA + 0x2000)  /* mapped by the page-fault handler */
#define BATCH_VA (TEST_VA + 0x10000)  /* four pages mapped in one lazy batch */
#define BATCH_PAGES 4
#define CPUID1_EDX_PGE (1u << 13)

static volatile uint32_t *page_a, *page_b, *page_demand;

static uint32_t phys(const volatile void *p) { return (uint32_t)(uintptr_t)p; }
static uint32_t peek(uint32_t va) { return *(volatile uint32_t *)(uintptr_t)va; }
static void poke(uint32_t va, uint32_t v) { *(volatile uint32_t *)(uintptr_t)va = v; }

static bool build(void)
{
    if (phys(__bss_end) > LOW_BYTES)
        return check("page tables built", false, "kernel ends at 0x%08x, past 4 MiB",
                     phys(__bss_end));
    pg_init();
    const bool ok = pg_map_range(0, 0, LOW_BYTES, PTE_W) &&
                    pg_map_range(PAGE_OFFSET, 0, LOW_BYTES, PTE_W);
    return check("page tables built (AllocatePage + SetPxE)", ok, "page-table pool exhausted");
}

static void test_enable(void)
{
    pg_enable(true);
    const uint32_t cr0 = vmi_get_cr0(), cr3 = vmi_get_cr3();
    check("paging on (GetCR0.PG, GetCR3)", (cr0 & CR0_PG) && cr3 == pg_directory(),
          "CR0 0x%08x CR3 0x%08x, directory 0x%08x", cr0, cr3, pg_directory());
    static volatile uint32_t word = 0x12345678;
    const uint32_t high = phys(&word) + PAGE_OFFSET;
    const uint32_t seen = peek(high);
    poke(high, 0x9ABCDEF0);
    check("higher-half alias reads and writes the same memory", seen == 0x12345678 &&
              word == 0x9ABCDEF0, "read 0x%08x through 0x%08x; word now 0x%08x", seen, high, word);
    /* the option-ROM area too: the alias through which the ROM is called below */
    const uint32_t rom = vmi_rom() ? vmi_rom_base() : 0xC0000;
    check("higher-half alias of the ROM area", peek(rom) == peek(rom + PAGE_OFFSET),
          "0x%08x at 0x%08x, 0x%08x at 0x%08x", peek(rom), rom, peek(rom + PAGE_OFFSET),
          rom + PAGE_OFFSET);
}

static void test_remap(void)
{
    page_a = pg_alloc_page();
    page_b = pg_alloc_page();
    page_a[0] = 0xAAAA0000;
    page_b[0] = 0xBBBB0000;
    pg_map(TEST_VA, phys(page_a), PTE_W);
    const uint32_t first = peek(TEST_VA);
    poke(TEST_VA + 4, 0xAAAA0001);
    check("map a page (SetPxE, current address space)", first == 0xAAAA0000 &&
              page_a[1] == 0xAAAA0001, "read 0x%08x, page[1] 0x%08x", first, page_a[1]);

    pg_map(TEST_VA, phys(page_b), PTE_W);
    const uint32_t stale = peek(TEST_VA);
    vmi_inval_page(TEST_VA);
    const uint32_t fresh = peek(TEST_VA);
    kprintf("remap before InvalPage read 0x%08x (%s)\n", stale,
            stale == 0xAAAA0000 ? "stale TLB entry" : "already new");
    check("remap + InvalPage is visible", fresh == 0xBBBB0000, "read 0x%08x", fresh);

    pg_map(TEST_VA, phys(page_a), PTE_W);
    vmi_flush_tlb(VMI_FLUSH_TLB);
    check("remap + FlushTLB(TLB) is visible", peek(TEST_VA) == 0xAAAA0000, "read 0x%08x",
          peek(TEST_VA));

    if (!(vmi_cpuid(1, 0).edx & CPUID1_EDX_PGE)) {
        check_skip("global page + FlushTLB(TLB|GLOBAL)", "CPUID reports no PGE");
        return;
    }
    vmi_set_cr4(vmi_get_cr4() | CR4_PGE);
    pg_map(GLOBAL_VA, phys(page_a), PTE_W | PTE_G);
    const uint32_t g1 = peek(GLOBAL_VA);
    pg_map(GLOBAL_VA, phys(page_b), PTE_W | PTE_G);
    vmi_flush_tlb(VMI_FLUSH_TLB | VMI_FLUSH_GLOBAL);
    const uint32_t g2 = peek(GLOBAL_VA);
    const uint32_t cr4 = vmi_get_cr4();
    check("global page + FlushTLB(TLB|GLOBAL)",
          (cr4 & CR4_PGE) && g1 == 0xAAAA0000 && g2 == 0xBBBB0000,
          "CR4 0x%08x, read 0x%08x then 0x%08x", cr4, g1, g2);
}

static void expect_pf(const char *name, uint32_t addr, uint32_t error)
{
    check(name, fault.count == 1 && fault.vector == TRAP_PF && fault.error == error &&
              fault.cr2 == addr && fault.eip == fault_at,
          "%u fault(s), vector %u error 0x%x CR2 0x%08x eip 0x%08x; want #PF error 0x%x CR2 "
          "0x%08x eip 0x%08x", fault.count, fault.vector, fault.error, fault.cr2, fault.eip,
          error, addr, fault_at);
}

static void read_at(uint32_t va)
{
    fault_reset();
    __asm__ volatile(FAULT_BEGIN "movl (%0), %%eax" FAULT_END : : "r"(va) : "eax", "memory");
}

static void write_at(uint32_t va, uint32_t v)
{
    fault_reset();
    __asm__ volatile(FAULT_BEGIN "movl %1, (%0)" FAULT_END : : "r"(va), "r"(v) : "memory");
}

static void test_update_and_unmap(void)
{
    /* UpdatePxE: our own store, then the notification Linux sends after one */
    uint32_t *pte = pg_pte(TEST_VA);
    *pte &= ~PTE_W;
    vmi_update_pxe(pte, pg_vmi_flags(VMI_PAGE_PT, TEST_VA));
    vmi_inval_page(TEST_VA);
    write_at(TEST_VA + 8, 1);
    expect_pf("UpdatePxE read-only: write faults (P|W)", TEST_VA + 8, PF_ERR_P | PF_ERR_W);
    *pte |= PTE_W;
    vmi_update_pxe(pte, pg_vmi_flags(VMI_PAGE_PT, TEST_VA));
    vmi_inval_page(TEST_VA);
    write_at(TEST_VA + 8, 0xAAAA0002);
    check("UpdatePxE writable again", fault.count == 0 && page_a[2] == 0xAAAA0002,
          "%u fault(s), page[2] 0x%08x", fault.count, page_a[2]);

    pg_unmap(TEST_VA);
    vmi_inval_page(TEST_VA);
    read_at(TEST_VA + 12);
    expect_pf("unmap + InvalPage: read faults (not present)", TEST_VA + 12, 0);
}

/* Demand paging: the handler maps a fresh page where the fault was and retries. */
static bool demand_fixup(struct trap_frame *f)
{
    if (f->vector != TRAP_PF || (fault.cr2 & PTE_ADDR) != DEMAND_VA || page_demand)
        return false;
    page_demand = pg_alloc_page();
    pg_map(DEMAND_VA, phys(page_demand), PTE_W);
    vmi_inval_page(DEMAND_VA);
    return true;
}

static void test_demand(void)
{
    fault_set_fixup(demand_fixup);
    write_at(DEMAND_VA + 16, 0xD00D);
    fault_set_fixup(0);
    check("#PF fixed in the handler, instruction retried", fault.count == 1 &&
              fault.cr2 == DEMAND_VA + 16 && page_demand && page_demand[4] == 0xD00D,
          "%u fault(s), CR2 0x%08x, page %s", fault.count, fault.cr2,
          page_demand ? "mapped" : "not mapped");
}

static void test_lazy_batch(void)
{
    volatile uint32_t *pages[BATCH_PAGES];
    for (unsigned i = 0; i < BATCH_PAGES; i++) {
        pages[i] = pg_alloc_page();
        pages[i][0] = 0x1A2F0000 + i;
    }
    vmi_set_lazy_mode(VMI_LAZY_MMU);
    pg_extra_vmi_flags = VMI_PAGE_DEFER;
    for (unsigned i = 0; i < BATCH_PAGES; i++)
        pg_map(BATCH_VA + i * PAGE_SIZE, phys(pages[i]), PTE_W);
    pg_extra_vmi_flags = 0;
    vmi_set_lazy_mode(VMI_LAZY_NONE);
    vmi_flush_tlb(VMI_FLUSH_TLB);
    unsigned good = 0;
    for (unsigned i = 0; i < BATCH_PAGES; i++)
        good += peek(BATCH_VA + i * PAGE_SIZE) == 0x1A2F0000 + i;
    check("SetLazyMode(MMU) batch with DEFER, visible after SetLazyMode(0) + FlushTLB",
          good == BATCH_PAGES, "%u of %u pages read back", good, BATCH_PAGES);
}

static void test_release(void)
{
    pg_release_table(TEST_VA);
    read_at(BATCH_VA);
    expect_pf("ReleasePage after clearing the PDE: read faults", BATCH_VA, 0);
}

/* Linux calls the ROM through PAGE_OFFSET + 0xC0000. Ask again through that alias, check the
 * answers moved with it, unmap the ROM's identity pages, and call through the alias. */
static void test_rom_alias(void)
{
    if (!vmi_active()) {
        check_skip("ROM through the higher-half alias", "no ROM");
        return;
    }
    const uint32_t rom = vmi_rom_base(), size = vmi_rom_size();
    const uint64_t freq = vmi_get_cycle_frequency();
    vmi_set_linear_mapping(0, PAGE_OFFSET, LOW_BYTES / PAGE_SIZE, 0);
    const int moved = vmi_use_alias(PAGE_OFFSET);
    if (!check("ROM re-probed through its alias, GetRelocationInfo answers moved by PAGE_OFFSET",
               moved == 0 && vmi_rom_base() == rom + PAGE_OFFSET,
               "%d answer(s) differ (-1: no acceptable header at 0x%08x)", moved,
               rom + PAGE_OFFSET))
        return;
    for (uint32_t off = 0; off < size; off += PAGE_SIZE) {
        pg_unmap(rom + off);
        vmi_inval_page(rom + off);
    }
    read_at(rom);
    expect_pf("ROM identity pages unmapped", rom, 0);
    const uint64_t c1 = vmi_get_cycle_counter(VMI_CYCLES_REAL);
    const uint64_t c2 = vmi_get_cycle_counter(VMI_CYCLES_REAL);
    check("GetCycleCounter through the alias increases", c2 > c1, "%llu then %llu", c1, c2);
    const uint64_t freq2 = vmi_get_cycle_frequency();
    check("GetCycleFrequency through the alias", freq2 == freq, "%llu, before %llu", freq2, freq);
    fault_reset();
    __asm__ volatile(FAULT_BEGIN "int3" FAULT_END ::: "memory");
    check("IRET through the alias returns from a handler", fault.count == 1 &&
              fault.vector == TRAP_BP, "%u fault(s), vector %u", fault.count, fault.vector);
}

void kmain(uint32_t magic, const struct multiboot_info *mbi)
{
    (void)magic;
    (void)mbi;
    kernel_start("paging");
    fault_catch(TRAP_PF);
    fault_catch(TRAP_BP);
    if (build()) {
        test_enable();
        test_remap();
        test_update_and_unmap();
        test_demand();
        test_lazy_batch();
        test_release();
        vmi_wbinvd();
        test_rom_alias();
    }
    check_finish("paging");
}

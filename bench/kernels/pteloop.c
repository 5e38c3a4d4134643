/* pteloop: the cost of a page-table update. Builds its page tables once through AllocatePage
 * + SetPxE (testkernels/lib/paging.c: an identity map of the low 4 MiB and one page table for
 * TEST_VA), turns paging on, then `iters=N` times (default 1000000):
 *
 *   SetPxE(page k | P | W) on TEST_VA's PTE, InvalPage(TEST_VA)   -- map
 *   read and write the page's first word through TEST_VA          -- touch
 *   SetPxE(0) on the same PTE, InvalPage(TEST_VA)                  -- unmap
 *
 * with k alternating between two physical pages, so a stale translation would read the other
 * page's value: 4 VMI calls per iteration (2 SetPxE, 2 InvalPage) with a ROM; natively plain
 * stores and invlpg (the library's fallbacks). Every read is checked against the value last
 * written to that page; prints the counter before and after the loop, a checksum (the same
 * on every correct machine), and PASS (exit 33) or FAIL (exit 35). */
#include <stdint.h>

#include "clock.h"
#include "exit.h"
#include "kernel.h"
#include "kprintf.h"
#include "multiboot.h"
#include "paging.h"
#include "vmi.h"

#define DEFAULT_ITERS 1000000u
#define LOW_BYTES (4u << 20)
#define TEST_VA 0x40000000u
#define CALLS_PER_ITER 4

static uint32_t phys(const volatile void *p) { return (uint32_t)(uintptr_t)p; }

static _Noreturn void fail(const char *why)
{
    kprintf("pteloop: FAIL (%s)\n", why);
    test_exit(TEST_FAIL);
}

void kmain(uint32_t magic, const struct multiboot_info *mbi)
{
    kernel_start("pteloop");
    const char *cmdline = mb_cmdline(magic, mbi);
    uint32_t iters = DEFAULT_ITERS;
    if (mb_cmdline_u32(cmdline, "iters", &iters) < 0)
        fail("bad iters= value");
    if (phys(__bss_end) > LOW_BYTES)
        fail("the kernel ends past 4 MiB");

    pg_init();
    volatile uint32_t *page[2] = {pg_alloc_page(), pg_alloc_page()};
    if (!page[0] || !page[1])
        fail("page-table pool exhausted");
    uint32_t want[2] = {0xA0A0A0A0u, 0xB0B0B0B0u}; /* what page[k][0] holds */
    page[0][0] = want[0];
    page[1][0] = want[1];
    if (!pg_map_range(0, 0, LOW_BYTES, PTE_W) || !pg_map(TEST_VA, phys(page[0]), PTE_W))
        fail("page-table pool exhausted");
    pg_enable(true);

    uint32_t *const pte = pg_pte(TEST_VA);
    const uint32_t flags = pg_vmi_flags(VMI_PAGE_PT, TEST_VA);
    volatile uint32_t *const va = (volatile uint32_t *)TEST_VA;
    vmi_set_pxe(0, pte, flags);
    vmi_inval_page(TEST_VA);
    const bool rom = vmi_has(VMI_CALL_SetPxE) && vmi_has(VMI_CALL_InvalPage);
    kprintf("pteloop: SetPxE and InvalPage via %s\n", rom ? "the ROM" : "plain stores and invlpg");
    kprintf("pteloop: %u VMI calls per iteration (2 SetPxE, 2 InvalPage)\n", CALLS_PER_ITER);

    uint32_t stale = 0;
    const uint64_t c0 = clock_now();
    for (uint32_t i = 0; i < iters; i++) {
        const unsigned k = i & 1;
        vmi_set_pxe(phys(page[k]) | PTE_P | PTE_W, pte, flags);
        vmi_inval_page(TEST_VA);
        const uint32_t seen = va[0];
        stale += seen != want[k];
        want[k] = (want[k] << 5 | want[k] >> 27) + i; /* the next value of this page */
        va[0] = want[k];
        vmi_set_pxe(0, pte, flags);
        vmi_inval_page(TEST_VA);
    }
    const uint64_t c1 = clock_now();

    kprintf("pteloop: %u iterations\n", iters);
    kprintf("pteloop: counter %llu -> %llu\n", c0, c1);
    kprintf("pteloop: checksum 0x%08x\n", want[0] ^ want[1]);
    if (stale)
        kprintf("pteloop: %u stale reads through 0x%08x\n", stale, TEST_VA);
    if (page[0][0] != want[0] || page[1][0] != want[1])
        kprintf("pteloop: physical pages hold 0x%08x 0x%08x, want 0x%08x 0x%08x\n", page[0][0],
                page[1][0], want[0], want[1]);
    if (stale || page[0][0] != want[0] || page[1][0] != want[1])
        fail("a mapping did not take effect");
    kprintf("pteloop: PASS\n");
    test_exit(TEST_PASS);
}

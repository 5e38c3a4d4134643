/* mmu/translate.c: the page walk that fills Unicorn's TLB, against hand-built page tables. */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "mmu/physmem.h"
#include "mmu/translate.h"
#include "support/suite_main.h"

#define PD 0x10000u  /* page directory */
#define PT 0x11000u  /* page table for linear 0x00400000-0x007FFFFF */
#define PDPT 0x12000u
#define PAE_PD 0x13000u
#define PAE_PT 0x14000u
#define CR0_PG 0x80000000u
#define CR0_WP 0x00010000u
#define P 0x1u
#define RW 0x2u
#define US 0x4u
#define A 0x20u
#define D 0x40u
#define PS 0x80u

static physmem pm;

static void setup(void)
{
    vm_error e;
    ck_assert_msg(phys_init(&pm, 16, &e), "%s", e.msg);
}

static void teardown(void) { phys_free(&pm); }

static void put32(uint64_t addr, uint32_t v) { ck_assert(phys_write(&pm, addr, &v, 4)); }
static void put64(uint64_t addr, uint64_t v) { ck_assert(phys_write(&pm, addr, &v, 8)); }

static const mmu_regs paging32 = {.cr0 = CR0_PG | CR0_WP, .cr3 = PD};

START_TEST(test_paging_off_is_the_identity_with_all_rights)
{
    mmu_regs r = {0};
    mmu_result res;
    ck_assert(mmu_access_page(&pm, &r, 0x12345678u, MMU_WRITE, true, &res));
    ck_assert_uint_eq(res.page, 0x12345000u);
    ck_assert(res.write && res.exec);
}
END_TEST

START_TEST(test_4k_page_sets_accessed_then_dirty_and_grants_write_only_when_dirty)
{
    put32(PD + 1 * 4, PT | P | RW | US);
    put32(PT + 5 * 4, 0x300000u | P | RW | US);
    mmu_result res;
    ck_assert(mmu_access_page(&pm, &paging32, 0x00405123u, MMU_READ, false, &res));
    ck_assert_uint_eq(res.page, 0x300000u);
    ck_assert(!res.write); /* not dirty yet: the first write must come back */
    ck_assert_uint_eq(phys_read32(&pm, PT + 5 * 4) & (A | D), A);
    ck_assert_uint_eq(phys_read32(&pm, PD + 4) & A, A);
    ck_assert(mmu_access_page(&pm, &paging32, 0x00405123u, MMU_WRITE, false, &res));
    ck_assert(res.write);
    ck_assert_uint_eq(phys_read32(&pm, PT + 5 * 4) & (A | D), A | D);
    ck_assert_uint_eq(phys_read32(&pm, PD + 4) & D, 0); /* D only on the leaf */
}
END_TEST

START_TEST(test_faults_carry_the_cpu_error_code)
{
    put32(PD + 1 * 4, PT | P | RW | US);
    put32(PT + 6 * 4, 0x301000u | P);           /* supervisor, read-only */
    mmu_result res;
    ck_assert(!mmu_access_page(&pm, &paging32, 0x00407000u, MMU_READ, false, &res));
    ck_assert_uint_eq(res.error, 0);            /* not present */
    ck_assert(!mmu_access_page(&pm, &paging32, 0x00406000u, MMU_READ, true, &res));
    ck_assert_uint_eq(res.error, MMU_PF_PRESENT | MMU_PF_USER);
    ck_assert(!mmu_access_page(&pm, &paging32, 0x00406000u, MMU_WRITE, false, &res));
    ck_assert_uint_eq(res.error, MMU_PF_PRESENT | MMU_PF_WRITE); /* CR0.WP */
    mmu_regs no_wp = paging32;
    no_wp.cr0 &= ~CR0_WP;
    ck_assert(mmu_access_page(&pm, &no_wp, 0x00406000u, MMU_WRITE, false, &res));
    ck_assert(!mmu_access_page(&pm, &paging32, 0x00C00000u, MMU_WRITE, true, &res));
    ck_assert_uint_eq(res.error, MMU_PF_WRITE | MMU_PF_USER); /* no page table at all */
}
END_TEST

START_TEST(test_4m_pages_need_cr4_pse)
{
    put32(PD + 2 * 4, 0x00800000u | P | RW | PS);
    mmu_regs r = paging32;
    mmu_result res;
    r.cr4 = 0x10u;
    ck_assert(mmu_access_page(&pm, &r, 0x00ABC000u, MMU_WRITE, false, &res));
    ck_assert_uint_eq(res.page, 0x00ABC000u);
    ck_assert_uint_eq(phys_read32(&pm, PD + 8) & (A | D), A | D);
    uint64_t phys = 0;
    r.cr4 = 0; /* without PSE the entry points at a page table (here: all zero) */
    ck_assert(!mmu_peek(&pm, &r, 0x00ABC000u, false, &phys));
}
END_TEST

START_TEST(test_pae_walk_and_no_execute)
{
    put64(PDPT + 0 * 8, PAE_PD | P);
    put64(PAE_PD + 2 * 8, PAE_PT | P | RW);
    put64(PAE_PT + 3 * 8, 0x00500000ull | P | RW | (1ull << 63));
    mmu_regs r = {.cr0 = CR0_PG | CR0_WP, .cr3 = PDPT, .cr4 = 0x20u, .nxe = true};
    mmu_result res;
    ck_assert(mmu_access_page(&pm, &r, 0x00403000u, MMU_READ, false, &res));
    ck_assert_uint_eq(res.page, 0x00500000u);
    ck_assert(!res.exec);
    ck_assert(!mmu_access_page(&pm, &r, 0x00403000u, MMU_FETCH, false, &res));
    ck_assert_uint_eq(res.error, MMU_PF_PRESENT | MMU_PF_FETCH);
    r.nxe = false; /* NX is a reserved bit's worth of nothing without EFER.NXE */
    ck_assert(mmu_access_page(&pm, &r, 0x00403000u, MMU_FETCH, false, &res));
    ck_assert(res.exec);
}
END_TEST

START_TEST(test_peek_has_no_side_effects)
{
    put32(PD + 1 * 4, PT | P | RW | US);
    put32(PT + 5 * 4, 0x300000u | P | RW | US);
    uint64_t phys;
    ck_assert(mmu_peek(&pm, &paging32, 0x00405ABCu, true, &phys));
    ck_assert_uint_eq(phys, 0x300ABCu);
    ck_assert_uint_eq(phys_read32(&pm, PT + 5 * 4) & (A | D), 0);
    ck_assert_uint_eq(phys_read32(&pm, PD + 4) & A, 0);
}
END_TEST

static Suite *translate_suite(void)
{
    Suite *s = suite_create("translate");
    TCase *tc = tcase_create("walk");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_paging_off_is_the_identity_with_all_rights);
    tcase_add_test(tc, test_4k_page_sets_accessed_then_dirty_and_grants_write_only_when_dirty);
    tcase_add_test(tc, test_faults_carry_the_cpu_error_code);
    tcase_add_test(tc, test_4m_pages_need_cr4_pse);
    tcase_add_test(tc, test_pae_walk_and_no_execute);
    tcase_add_test(tc, test_peek_has_no_side_effects);
    suite_add_tcase(s, tc);
    return s;
}

SUITE_MAIN(translate_suite)

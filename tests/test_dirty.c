/* mmu/dirty.c: both ways of tracking written pages (the kernel's userfaultfd/PAGEMAP_SCAN
 * tracking where the kernel offers it, and the mprotect/SIGSEGV fallback) find exactly the
 * pages written since the last rearm: a write of the value already there counts, a read never
 * does, not even of a page never touched or just cleared. */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mmu/dirty.h"
#include "support/suite_main.h"

#define PAGE (1u << DIRTY_PAGE_SHIFT)

static physmem pm;
static dirty_map d;

/* _i is the loop index of the looped tests: 0 = the fallback forced, 1 = chosen as usual. */
static void track(int forced)
{
    dirty_force_mprotect(forced == 0);
    vm_error err = {0};
    ck_assert_msg(phys_init(&pm, 4, &err), "%s", err.msg);
    ck_assert_msg(dirty_init(&d, &pm, &err), "%s", err.msg);
    dirty_force_mprotect(false);
    if (forced == 0)
        ck_assert_int_eq(d.mode, DIRTY_MPROTECT);
    else
        fprintf(stderr, "dirty tracking chosen here: %s\n", d.mode == DIRTY_PAGEMAP ? "PAGEMAP_SCAN" : "mprotect");
    dirty_rearm(&d);
}

static void untrack(void)
{
    dirty_free(&d);
    phys_free(&pm);
}

/* The dirty pages as a list, -1 ended. */
static void ck_dirty(const int *want)
{
    dirty_sync(&d);
    size_t n = 0;
    for (uint64_t pfn = 0; pfn < d.npages; pfn++)
        if (d.bits[pfn >> 6] >> (pfn & 63) & 1) {
            ck_assert_msg(want[n] >= 0, "page %llu dirty, not expected", (unsigned long long)pfn);
            ck_assert_uint_eq(pfn, (uint64_t)want[n]);
            n++;
        }
    ck_assert_msg(want[n] < 0, "page %d expected dirty, is not", want[n]);
}

static volatile uint8_t sink;

static void read_page(uint64_t pfn)
{
    sink = pm.ram[pfn * PAGE + 17];
}

START_TEST(test_exactly_the_written_pages_are_found)
{
    track(_i);
    ck_dirty((int[]){-1});
    pm.ram[3 * PAGE] = 1;
    memset(pm.ram + 100 * PAGE + 4000, 2, 200); /* across into page 101 */
    volatile uint8_t *same = pm.ram + 200 * PAGE + 5;
    *same = *same; /* the value already there */
    read_page(50);
    read_page(700);
    ck_dirty((int[]){3, 100, 101, 200, -1});
    ck_assert_uint_eq(pm.ram[3 * PAGE], 1);
    dirty_rearm(&d);
    read_page(3);
    pm.ram[5 * PAGE + 1] = 9;
    ck_dirty((int[]){5, -1});
    dirty_rearm_synced(&d);
    ck_dirty((int[]){-1});
    pm.ram[1023 * PAGE + PAGE - 1] = 4; /* the last byte */
    ck_dirty((int[]){1023, -1});
    untrack();
}
END_TEST

START_TEST(test_after_a_clear_everything_is_dirty_then_reads_do_not_count)
{
    track(_i);
    pm.ram[8 * PAGE] = 1;
    pm.ram[9 * PAGE] = 1;
    phys_clear(&pm); /* power-on: MADV_DONTNEED, which write tracking does not see */
    dirty_mark_all(&d);
    dirty_sync(&d);
    for (uint64_t w = 0; w < d.npages / 64; w++)
        ck_assert_uint_eq(d.bits[w], ~0ull);
    ck_assert_uint_eq(pm.ram[8 * PAGE], 0);
    dirty_rearm(&d);
    read_page(8);   /* was written, now an empty entry again */
    read_page(600); /* never touched */
    pm.ram[10 * PAGE] = 3;
    ck_dirty((int[]){10, -1});
    untrack();
}
END_TEST

START_TEST(test_writes_while_disarmed_are_forgotten_at_rearm_and_tracking_goes_on)
{
    track(_i);
    pm.ram[1 * PAGE] = 1;
    dirty_sync(&d); /* what a restore does: look, write freely, rearm */
    dirty_disarm(&d);
    memset(pm.ram + 20 * PAGE, 7, 3 * PAGE);
    dirty_rearm(&d);
    ck_dirty((int[]){-1});
    pm.ram[21 * PAGE] = 8;
    ck_dirty((int[]){21, -1});
    ck_assert_uint_eq(pm.ram[22 * PAGE], 7);
    untrack();
}
END_TEST

START_TEST(test_two_buffers_are_tracked_apart)
{
    track(_i);
    physmem pm2;
    dirty_map d2;
    vm_error err = {0};
    dirty_force_mprotect(_i == 0);
    ck_assert_msg(phys_init(&pm2, 2, &err), "%s", err.msg);
    ck_assert_msg(dirty_init(&d2, &pm2, &err), "%s", err.msg);
    dirty_force_mprotect(false);
    dirty_rearm(&d2);
    pm2.ram[4 * PAGE] = 1;
    pm.ram[6 * PAGE] = 1;
    ck_dirty((int[]){6, -1});
    dirty_sync(&d2);
    for (uint64_t pfn = 0; pfn < d2.npages; pfn++)
        ck_assert_uint_eq(d2.bits[pfn >> 6] >> (pfn & 63) & 1, pfn == 4);
    dirty_free(&d2);
    phys_free(&pm2);
    untrack();
}
END_TEST

static bool maybe_has(const uint64_t *maybe, uint64_t pfn) { return maybe[pfn >> 6] >> (pfn & 63) & 1; }

/* Pages that may hold something other than zeros, as the first snapshot asks (every page counts
 * as written): the written ones for certain; with the kernel's tracking no other, so the
 * snapshot need not read (and fault in) the rest; the fallback cannot tell and says all. */
START_TEST(test_pages_never_written_are_known_to_be_zero)
{
    dirty_force_mprotect(_i == 0);
    vm_error err = {0};
    ck_assert_msg(phys_init(&pm, 4, &err), "%s", err.msg);
    ck_assert_msg(dirty_init(&d, &pm, &err), "%s", err.msg);
    dirty_force_mprotect(false);
    dirty_mark_all(&d);
    pm.ram[12 * PAGE] = 1;
    pm.ram[13 * PAGE + 100] = 0; /* written, though with a zero */
    read_page(14);
    uint64_t maybe[1024 / 64];
    dirty_sync(&d);
    dirty_maybe_nonzero(&d, maybe);
    for (uint64_t pfn = 0; pfn < d.npages; pfn++)
        if (pfn == 12 || pfn == 13 || d.mode == DIRTY_MPROTECT)
            ck_assert_msg(maybe_has(maybe, pfn), "page %llu may hold data", (unsigned long long)pfn);
        else
            ck_assert_msg(!maybe_has(maybe, pfn), "page %llu was never written", (unsigned long long)pfn);
    /* After a rearm and a power-on's clear, written pages are still found (the rest may be) */
    dirty_rearm(&d);
    pm.ram[30 * PAGE] = 1;
    phys_clear(&pm);
    dirty_mark_all(&d);
    pm.ram[31 * PAGE] = 1;
    dirty_sync(&d);
    dirty_maybe_nonzero(&d, maybe);
    ck_assert(maybe_has(maybe, 31));
    untrack();
}
END_TEST

/* The kernel's tracking also sees writes the kernel itself makes into the buffer (a read(2)
 * into guest memory), which the fallback would refuse with EFAULT. */
START_TEST(test_the_kernels_own_writes_count_with_its_tracking)
{
    track(1);
    if (d.mode != DIRTY_PAGEMAP) {
        untrack();
        return; /* not offered here: the loop's first pass covered the fallback */
    }
    int fd[2];
    ck_assert_int_eq(pipe(fd), 0);
    ck_assert_int_eq(write(fd[1], "abc", 3), 3);
    ck_assert_int_eq(read(fd[0], pm.ram + 30 * PAGE + 10, 3), 3);
    close(fd[0]);
    close(fd[1]);
    ck_dirty((int[]){30, -1});
    ck_assert_int_eq(memcmp(pm.ram + 30 * PAGE + 10, "abc", 3), 0);
    untrack();
}
END_TEST

static Suite *dirty_suite(void)
{
    Suite *s = suite_create("dirty");
    TCase *tc = tcase_create("both ways");
    tcase_add_loop_test(tc, test_exactly_the_written_pages_are_found, 0, 2);
    tcase_add_loop_test(tc, test_after_a_clear_everything_is_dirty_then_reads_do_not_count, 0, 2);
    tcase_add_loop_test(tc, test_writes_while_disarmed_are_forgotten_at_rearm_and_tracking_goes_on, 0, 2);
    tcase_add_loop_test(tc, test_two_buffers_are_tracked_apart, 0, 2);
    tcase_add_loop_test(tc, test_pages_never_written_are_known_to_be_zero, 0, 2);
    tcase_add_test(tc, test_the_kernels_own_writes_count_with_its_tracking);
    suite_add_tcase(s, tc);
    return s;
}

SUITE_MAIN(dirty_suite)

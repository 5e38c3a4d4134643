/* The guest-visible TLB: mmu/tlb.c as a table, and a guest that reads through a stale entry
 * (tests/guest/stale_tlb.asm) run plainly, with snapshots in between, and stepped back and
 * forth by the debugger: every way gives the same loads and the same final state. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "emu/debug.h"
#include "emu/recplay.h"
#include "emu/snapshot.h"
#include "mmu/tlb.h"
#include "support/suite_main.h"
#include "support/testutil.h"

#define RESULT 0x5000u
#define A 0xAAAA0001u
#define B 0xBBBB0002u
#define STALE_LOAD 0x200140u     /* mov ebx, [TEST_VA] after a silent PTE change */
#define VMI_STALE_LOAD 0x200200u /* the same after SetPxE without InvalPage */
#define CR3_STALE_LOAD 0x200280u /* the same, with no spin (and no host TLB flush) before it */
#define NATIVE_INVLPG (STALE_LOAD + 16) /* after the stale load, its store, pushfd, add esp */

/* --- the table ------------------------------------------------------------------------ */

static mmu_tlb *t;

static void setup(void) { t = calloc(1, sizeof *t); }
static void teardown(void) { free(t); }

static mmu_tlb_entry entry(uint32_t vpage, uint32_t flags) { return (mmu_tlb_entry){vpage, flags, (uint64_t)vpage << 13}; }

START_TEST(test_an_entry_is_found_by_its_page_until_dropped)
{
    mmu_tlb_entry e = entry(0x400, MMU_TLB_RW);
    ck_assert(!mmu_tlb_put(t, &e));
    ck_assert_ptr_nonnull(mmu_tlb_find(t, 0x400));
    ck_assert_uint_eq(mmu_tlb_find(t, 0x400)->page, 0x400u << 13);
    ck_assert_ptr_null(mmu_tlb_find(t, 0x401));
    mmu_tlb_drop(t, 0x400);
    ck_assert_ptr_null(mmu_tlb_find(t, 0x400));
    ck_assert_uint_eq(t->n, 0);
}
END_TEST

START_TEST(test_dropping_entries_keeps_every_other_one_reachable)
{
    /* Pages 8192 apart share a home slot: a long probe run, then holes punched in it. */
    for (uint32_t i = 0; i < 64; i++) {
        mmu_tlb_entry e = entry(i * 8192u, 0);
        mmu_tlb_put(t, &e);
    }
    for (uint32_t i = 0; i < 64; i += 3)
        mmu_tlb_drop(t, i * 8192u);
    for (uint32_t i = 0; i < 64; i++)
        ck_assert_msg((mmu_tlb_find(t, i * 8192u) != NULL) == (i % 3 != 0), "page %u", i * 8192u);
}
END_TEST

START_TEST(test_a_cr3_load_keeps_only_global_entries_in_order)
{
    for (uint32_t i = 0; i < 10; i++) {
        mmu_tlb_entry e = entry(i, i % 2 ? MMU_TLB_GLOBAL : 0);
        mmu_tlb_put(t, &e);
    }
    mmu_tlb_drop_nonglobal(t);
    ck_assert_uint_eq(t->n, 5);
    for (uint32_t i = 0; i < 5; i++)
        ck_assert_uint_eq(t->ent[i].vpage, 2 * i + 1);
    ck_assert_ptr_null(mmu_tlb_find(t, 2));
    ck_assert_ptr_nonnull(mmu_tlb_find(t, 3));
}
END_TEST

START_TEST(test_invlpg_drops_every_part_of_a_large_page)
{
    mmu_tlb_entry big1 = entry(0x400, MMU_TLB_4M), big2 = entry(0x7FF, MMU_TLB_4M), other = entry(0x800, MMU_TLB_4M);
    mmu_tlb_entry small = entry(0x401, 0);
    mmu_tlb_put(t, &big1);
    mmu_tlb_put(t, &big2);
    mmu_tlb_put(t, &other);
    ck_assert(mmu_tlb_invlpg(t, 0x00512345)); /* inside 0x400000-0x7FFFFF */
    ck_assert_ptr_null(mmu_tlb_find(t, 0x400));
    ck_assert_ptr_null(mmu_tlb_find(t, 0x7FF));
    ck_assert_ptr_nonnull(mmu_tlb_find(t, 0x800));
    mmu_tlb_put(t, &small);
    ck_assert(!mmu_tlb_invlpg(t, 0x00401000)); /* a 4 KiB page: only itself */
    ck_assert_ptr_null(mmu_tlb_find(t, 0x401));
}
END_TEST

START_TEST(test_a_full_table_empties_before_the_next_new_page)
{
    for (uint32_t i = 0; i < MMU_TLB_CAP; i++) {
        mmu_tlb_entry e = entry(i, 0);
        ck_assert(!mmu_tlb_put(t, &e));
    }
    mmu_tlb_entry again = entry(7, MMU_TLB_RW);
    ck_assert(!mmu_tlb_put(t, &again)); /* a page it holds is replaced in place */
    mmu_tlb_entry e = entry(MMU_TLB_CAP, 0);
    ck_assert(mmu_tlb_put(t, &e));
    ck_assert_uint_eq(t->n, 1);
    ck_assert_ptr_null(mmu_tlb_find(t, 7));
    ck_assert_ptr_nonnull(mmu_tlb_find(t, MMU_TLB_CAP));
}
END_TEST

START_TEST(test_loading_saved_entries_rebuilds_the_same_table)
{
    for (uint32_t i = 0; i < 100; i++) {
        mmu_tlb_entry e = entry(i * 37u, i);
        mmu_tlb_put(t, &e);
    }
    mmu_tlb_drop(t, 37u * 5);
    uint8_t saved[100 * sizeof(mmu_tlb_entry) + 1];
    memcpy(saved + 1, t->ent, mmu_tlb_bytes(t)); /* unaligned, as in a state blob */
    uint32_t n = t->n;
    mmu_tlb *u = calloc(1, sizeof *u);
    ck_assert(mmu_tlb_load(u, saved + 1, n));
    ck_assert_uint_eq(u->n, n);
    ck_assert(memcmp(u->ent, t->ent, mmu_tlb_bytes(t)) == 0);
    for (uint32_t i = 0; i < n; i++)
        ck_assert_ptr_eq(mmu_tlb_find(u, t->ent[i].vpage), &u->ent[i]);
    free(u);
}
END_TEST

/* --- the guest ------------------------------------------------------------------------ */

static machine *m;
static vm_error err;

static void boot_snippet(const char *name, uint64_t snap_every)
{
    machine_config c;
    machine_config_defaults(&c);
    c.snap_every = snap_every;
    m = calloc(1, sizeof *m);
    memset(&err, 0, sizeof err);
    ck_assert(tu_load_snippet_with(m, name, &c));
}

static void boot(uint64_t snap_every) { boot_snippet("stale_tlb", snap_every); }

static void done(void)
{
    machine_free(m);
    free(m);
}

static uint32_t result(int i) { return phys_read32(&m->mem, RESULT + 4u * (uint32_t)i); }

static const uint32_t expected[8] = {A, A, B, A, A, B, B, A};

static void check_results(const char *how)
{
    for (int i = 0; i < 8; i++)
        ck_assert_msg(result(i) == expected[i], "%s: RESULT+%d = 0x%08x, want 0x%08x", how, 4 * i, result(i),
                      expected[i]);
}

/* The final state hash of a plain run without snapshots. */
static uint64_t plain_hash(void)
{
    boot(0);
    ck_assert_int_eq(machine_run(m), END_HALTED);
    uint64_t h = machine_state_hash(m);
    done();
    return h;
}

START_TEST(test_a_stale_entry_is_read_until_invlpg_even_across_host_tlb_flushes)
{
    boot(0); /* no snapshot; vmiemu's periodic flush of Unicorn's TLB falls in each spin */
    ck_assert_int_eq(machine_run(m), END_HALTED);
    check_results("plain run");
    done();
}
END_TEST

START_TEST(test_snapshots_in_between_change_neither_the_loads_nor_the_final_state)
{
    uint64_t want = plain_hash();
    boot(10000);
    ck_assert_int_eq(machine_run(m), END_HALTED);
    check_results("snapshots every 10000");
    ck_assert_uint_eq(machine_state_hash(m), want);
    done();
}
END_TEST

/* Stops before the load at `at`, steps over it, steps back and over it again: the loaded EBX
 * must be the stale A both times. */
static void step_back_and_forth_over(dbg *d, uint32_t at)
{
    ck_assert_int_gt(dbg_break(d, at, &err), 0);
    ck_assert_int_eq(dbg_continue(d, &err), DBG_BREAKPOINT);
    ck_assert_uint_eq(dbg_reg(d, CPU_EIP), at);
    ck_assert_int_eq(dbg_stepi(d, 1, &err), DBG_STOPPED);
    ck_assert_uint_eq(dbg_reg(d, CPU_EBX), A);
    ck_assert_int_eq(dbg_reverse_stepi(d, 1, &err), DBG_STOPPED);
    ck_assert_uint_eq(dbg_reg(d, CPU_EIP), at);
    ck_assert_int_eq(dbg_stepi(d, 1, &err), DBG_STOPPED);
    ck_assert_msg(dbg_reg(d, CPU_EBX) == A, "after reverse-stepi 1; stepi the load gave 0x%08x", dbg_reg(d, CPU_EBX));
    dbg_delete(d, 0);
}

START_TEST(test_reverse_stepi_then_stepi_repeats_the_stale_load)
{
    uint64_t want = plain_hash();
    boot(10000);
    dbg d;
    dbg_init(&d, m);
    step_back_and_forth_over(&d, STALE_LOAD);
    step_back_and_forth_over(&d, VMI_STALE_LOAD);
    step_back_and_forth_over(&d, CR3_STALE_LOAD);
    ck_assert_int_eq(dbg_continue(&d, &err), DBG_ENDED);
    check_results("stepped back and forth");
    ck_assert_uint_eq(machine_state_hash(m), want);
    done();
}
END_TEST

/* At NATIVE_INVLPG, not yet run: the debugger reads the stale A, then two steps run it and
 * read B. */
static void check_stopped_before_invlpg(dbg *d, const char *how)
{
    uint32_t seen;
    ck_assert_uint_eq(dbg_reg(d, CPU_EIP), NATIVE_INVLPG);
    ck_assert(dbg_read(d, 0x400000, &seen, 4));
    ck_assert_msg(seen == A, "%s: before invlpg the debugger read 0x%08x", how, seen);
    ck_assert_int_eq(dbg_stepi(d, 2, &err), DBG_STOPPED);
    ck_assert_msg(dbg_reg(d, CPU_ECX) == B, "%s: after invlpg the load gave 0x%08x", how, dbg_reg(d, CPU_ECX));
}

START_TEST(test_stopping_at_invlpg_and_stepping_over_it_back_and_forth_invalidates_once)
{
    uint64_t want = plain_hash();
    boot(10000);
    dbg d;
    dbg_init(&d, m);
    ck_assert_int_gt(dbg_break(&d, NATIVE_INVLPG, &err), 0);
    ck_assert_int_eq(dbg_continue(&d, &err), DBG_BREAKPOINT);
    uint64_t at = dbg_icount(&d);
    dbg_delete(&d, 0);
    check_stopped_before_invlpg(&d, "at a breakpoint");
    /* Arriving by count inside the block: it is stepped with a code hook (pushfd is in it),
     * so the invlpg's own hook runs before the stop. */
    ck_assert_int_eq(dbg_goto(&d, at, &err), DBG_STOPPED);
    check_stopped_before_invlpg(&d, "after goto");
    ck_assert_int_eq(dbg_reverse_stepi(&d, 2, &err), DBG_STOPPED);
    check_stopped_before_invlpg(&d, "after reverse-stepi");
    ck_assert_int_eq(dbg_goto(&d, at - 3, &err), DBG_STOPPED);
    ck_assert_int_eq(dbg_stepi(&d, 3, &err), DBG_STOPPED);
    check_stopped_before_invlpg(&d, "after stepi");
    ck_assert_int_eq(dbg_continue(&d, &err), DBG_ENDED);
    check_results("stepped over invlpg");
    ck_assert_uint_eq(machine_state_hash(m), want);
    done();
}
END_TEST

START_TEST(test_goto_just_before_the_stale_load_and_on_gives_the_same_run)
{
    uint64_t want = plain_hash();
    boot(10000);
    dbg d;
    dbg_init(&d, m);
    ck_assert_int_gt(dbg_break(&d, VMI_STALE_LOAD, &err), 0);
    ck_assert_int_eq(dbg_continue(&d, &err), DBG_BREAKPOINT);
    uint64_t before_vmi = dbg_icount(&d);
    dbg_delete(&d, 0);
    ck_assert_int_gt(dbg_break(&d, STALE_LOAD, &err), 0);
    ck_assert_int_eq(dbg_reverse_continue(&d, &err), DBG_BREAKPOINT);
    uint64_t before_native = dbg_icount(&d);
    dbg_delete(&d, 0);
    ck_assert_int_eq(dbg_continue(&d, &err), DBG_ENDED);
    ck_assert_uint_eq(machine_state_hash(m), want);
    uint64_t targets[2] = {before_native, before_vmi};
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(dbg_goto(&d, targets[i], &err), DBG_STOPPED);
        ck_assert_int_eq(dbg_continue(&d, &err), DBG_ENDED);
        check_results(i ? "goto before the VMI stale load" : "goto before the native stale load");
        ck_assert_uint_eq(machine_state_hash(m), want);
    }
    done();
}
END_TEST

START_TEST(test_a_recorded_stale_tlb_run_replays_clean_and_ends_as_an_unrecorded_one)
{
    uint64_t want = plain_hash();
    const char *rec = tu_tmp("stale_tlb");
    char report[1024];
    boot(10000);
    ck_assert_msg(recplay_record(m, rec, &err), "%s", err.msg);
    ck_assert_int_eq(machine_run(m), END_HALTED);
    ck_assert_msg(recplay_finish(m, report, sizeof report, &err), "%s", err.msg);
    check_results("recording");
    ck_assert_uint_eq(machine_state_hash(m), want);
    done();
    boot(10000);
    ck_assert_msg(recplay_replay(m, rec, false, &err), "%s", err.msg);
    ck_assert_int_eq(machine_run(m), END_HALTED);
    ck_assert_msg(recplay_finish(m, report, sizeof report, &err), "%s", err.msg);
    ck_assert_msg(strstr(report, "replay matched the record"), "%s", report);
    ck_assert_uint_eq(machine_state_hash(m), want);
    done();
}
END_TEST

START_TEST(test_ring_3_replacing_a_supervisor_entry_and_a_faulting_invlpg_are_seen_by_ring_0)
{
    boot_snippet("tlb_ring3_invlpg", 10000000);
    dbg d;
    dbg_init(&d, m);
    ck_assert_int_eq(dbg_stepi(&d, 1, &err), DBG_STOPPED);
    ck_assert_int_gt(dbg_break(&d, result(4), &err), 0);
    ck_assert_int_eq(dbg_continue(&d, &err), DBG_BREAKPOINT); /* the #GP handler's first instruction */
    uint64_t in_handler = dbg_icount(&d);
    ck_assert_msg(snap_take(m, &err), "%s", err.msg);
    dbg_delete(&d, 0);
    /* Then again from that snapshot: Unicorn's TLB starts empty there, so only the guest's TLB
     * can still hold the stale entry the handler reads. */
    for (int pass = 0; pass < 2; pass++) {
        ck_assert_int_eq(dbg_continue(&d, &err), DBG_ENDED);
        ck_assert_uint_eq(result(0), A);
        ck_assert_msg(result(1) == A, "pass %d: the handler read 0x%08x", pass, result(1));
        ck_assert_uint_eq(result(2), B);
        ck_assert_uint_eq(result(3), 0);
        ck_assert_uint_eq(result(5), 0xDDDD0004u);
        ck_assert_msg(result(6) == 0xDDDD0004u, "pass %d: ring 0 read 0x%08x after ring 3 replaced the entry", pass,
                      result(6));
        ck_assert_int_eq(dbg_goto(&d, in_handler, &err), DBG_STOPPED);
    }
    done();
}
END_TEST

START_TEST(test_global_entries_survive_cr3_loads_until_cr4_pge_changes)
{
    boot_snippet("tlb_global", 0);
    ck_assert_int_eq(machine_run(m), END_HALTED);
    ck_assert_uint_eq(result(0), A);
    ck_assert_uint_eq(result(1), 0xDDDD0004u);
    ck_assert_uint_eq(result(2), A);
    ck_assert_uint_eq(result(3), B);
    done();
}
END_TEST

START_TEST(test_a_write_through_a_clean_stale_entry_walks_again_and_a_dirty_one_does_not)
{
    boot_snippet("tlb_dirty", 0);
    ck_assert_int_eq(machine_run(m), END_HALTED);
    ck_assert_uint_eq(result(0), A);               /* stale read */
    ck_assert_uint_eq(result(1), 0x12345678u);     /* the write needed D: walked, landed in B */
    ck_assert_uint_eq(result(2), A);
    ck_assert_uint_eq(result(3), 0x301000u | 0x63); /* B's PTE: accessed and dirty */
    ck_assert_uint_eq(result(4), 0x87654321u);     /* the dirty entry let the write through to C */
    ck_assert_uint_eq(result(5), 0xDDDD0004u);
    ck_assert_uint_eq(result(6), 0x87654321u);
    done();
}
END_TEST

START_TEST(test_a_full_tlb_is_emptied_the_same_way_in_every_run)
{
    boot_snippet("tlb_overflow", 0);
    ck_assert_int_eq(machine_run(m), END_HALTED);
    ck_assert_uint_eq(result(0), A);
    ck_assert_uint_eq(result(1), 4096);
    ck_assert_uint_eq(result(2), B);
    uint64_t want = machine_state_hash(m);
    uint64_t end = machine_insns(m);
    done();
    boot_snippet("tlb_overflow", 500); /* snapshots, and restores, in the middle of the filling */
    dbg d;
    dbg_init(&d, m);
    ck_assert_int_eq(dbg_continue(&d, &err), DBG_ENDED);
    ck_assert_uint_eq(machine_state_hash(m), want);
    for (uint64_t back = 700; back + 2000 < end; back += 7000) {
        ck_assert_msg(dbg_goto(&d, end - back, &err) == DBG_STOPPED, "goto %llu: %s", (unsigned long long)(end - back), err.msg);
        ck_assert_int_eq(dbg_continue(&d, &err), DBG_ENDED);
        ck_assert_uint_eq(result(0), A);
        ck_assert_uint_eq(result(2), B);
        ck_assert_uint_eq(machine_state_hash(m), want);
    }
    done();
}
END_TEST

static Suite *tlb_suite(void)
{
    Suite *s = suite_create("tlb");
    TCase *table = tcase_create("table");
    tcase_add_checked_fixture(table, setup, teardown);
    tcase_add_test(table, test_an_entry_is_found_by_its_page_until_dropped);
    tcase_add_test(table, test_dropping_entries_keeps_every_other_one_reachable);
    tcase_add_test(table, test_a_cr3_load_keeps_only_global_entries_in_order);
    tcase_add_test(table, test_invlpg_drops_every_part_of_a_large_page);
    tcase_add_test(table, test_a_full_table_empties_before_the_next_new_page);
    tcase_add_test(table, test_loading_saved_entries_rebuilds_the_same_table);
    suite_add_tcase(s, table);
    TCase *guest = tcase_create("guest");
    tcase_set_timeout(guest, 120);
    tcase_add_test(guest, test_a_stale_entry_is_read_until_invlpg_even_across_host_tlb_flushes);
    tcase_add_test(guest, test_snapshots_in_between_change_neither_the_loads_nor_the_final_state);
    tcase_add_test(guest, test_reverse_stepi_then_stepi_repeats_the_stale_load);
    tcase_add_test(guest, test_goto_just_before_the_stale_load_and_on_gives_the_same_run);
    tcase_add_test(guest, test_stopping_at_invlpg_and_stepping_over_it_back_and_forth_invalidates_once);
    tcase_add_test(guest, test_a_full_tlb_is_emptied_the_same_way_in_every_run);
    tcase_add_test(guest, test_global_entries_survive_cr3_loads_until_cr4_pge_changes);
    tcase_add_test(guest, test_ring_3_replacing_a_supervisor_entry_and_a_faulting_invlpg_are_seen_by_ring_0);
    tcase_add_test(guest, test_a_recorded_stale_tlb_run_replays_clean_and_ends_as_an_unrecorded_one);
    tcase_add_test(guest, test_a_write_through_a_clean_stale_entry_walks_again_and_a_dirty_one_does_not);
    suite_add_tcase(s, guest);
    return s;
}

SUITE_MAIN(tlb_suite)

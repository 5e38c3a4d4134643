/* Snapshots and going back: the state after going back and forward again is the state of a
 * run that never went back, and taking snapshots changes nothing the guest can see. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "emu/snapshot.h"
#include "support/suite_main.h"
#include "support/testutil.h"

static tu_machine *a, *b;

static void setup(void)
{
    a = calloc(1, sizeof *a);
    b = calloc(1, sizeof *b);
}

static void teardown(void)
{
    machine_free(&a->m);
    machine_free(&b->m);
    free(a);
    free(b);
}

static uint32_t snap_mib = MACHINE_DEFAULT_SNAP_MIB;

static void boot(tu_machine *t, const char *kernel, uint64_t snap_every, const char *cmdline)
{
    machine_config c;
    machine_config_defaults(&c);
    c.ram_mib = 16;
    c.snap_every = snap_every;
    c.snap_mem_mib = snap_mib;
    c.cmdline = cmdline;
    vm_error err = {0};
    ck_assert_msg(machine_init(&t->m, &c, kernel, &err), "%s", err.msg);
    machine_set_serial_out(&t->m, NULL, NULL);
}

START_TEST(test_snapshots_change_nothing_the_guest_sees)
{
    boot(a, tu_kernel("hello"), 0, NULL);
    boot(b, tu_kernel("hello"), 1000, NULL);
    ck_assert_int_eq(machine_run(&a->m), END_EXIT_PORT);
    ck_assert_int_eq(machine_run(&b->m), END_EXIT_PORT);
    char *la = tu_log_text(&a->m), *lb = tu_log_text(&b->m);
    ck_assert_str_eq(la, lb);
    ck_assert_uint_eq(machine_state_hash(&a->m), machine_state_hash(&b->m));
    ck_assert_uint_gt(snap_count(&b->m), 50);
    free(la);
    free(lb);
}
END_TEST

START_TEST(test_goto_back_then_forward_ends_in_the_same_state)
{
    boot(a, tu_kernel("hello"), 0, NULL);
    ck_assert_int_eq(machine_run(&a->m), END_EXIT_PORT);
    uint64_t end = machine_insns(&a->m);
    boot(b, tu_kernel("hello"), 7000, NULL);
    vm_error err = {0};
    ck_assert_int_eq(machine_run_until(&b->m, end * 3 / 4), END_RUNNING);
    ck_assert_msg(snap_goto(&b->m, end / 3, &err), "%s", err.msg);
    ck_assert_uint_eq(machine_insns(&b->m), end / 3);
    ck_assert_int_eq(machine_run(&b->m), END_EXIT_PORT);
    ck_assert_uint_eq(machine_insns(&b->m), end);
    ck_assert_uint_eq(machine_state_hash(&a->m), machine_state_hash(&b->m));
    char *la = tu_log_text(&a->m), *lb = tu_log_text(&b->m);
    ck_assert_str_eq(la, lb);
    free(la);
    free(lb);
}
END_TEST

START_TEST(test_going_back_one_instruction_at_a_time_matches_straight_runs)
{
    boot(b, tu_kernel("hello"), 5000, NULL);
    vm_error err = {0};
    const uint64_t points[] = {74460, 74461, 74462, 50001, 33333, 86257, 12};
    uint64_t hashes[7];
    for (int i = 0; i < 7; i++) {
        machine_free(&a->m);
        boot(a, tu_kernel("hello"), 0, NULL);
        ck_assert_int_eq(machine_run_until(&a->m, points[i]), END_RUNNING);
        hashes[i] = machine_state_hash(&a->m);
    }
    ck_assert_int_eq(machine_run_until(&b->m, 90000), END_RUNNING);
    for (int i = 0; i < 7; i++) {
        ck_assert_msg(snap_goto(&b->m, points[i], &err), "%s", err.msg);
        ck_assert_msg(machine_state_hash(&b->m) == hashes[i], "state differs at %llu", (unsigned long long)points[i]);
    }
}
END_TEST

START_TEST(test_goto_after_the_guest_ended_goes_back)
{
    boot(b, tu_kernel("hello"), 10000, NULL);
    ck_assert_int_eq(machine_run(&b->m), END_EXIT_PORT);
    vm_error err = {0};
    ck_assert_msg(snap_goto(&b->m, 20000, &err), "%s", err.msg);
    ck_assert_int_eq(b->m.end, END_RUNNING);
    ck_assert_uint_eq(machine_insns(&b->m), 20000);
    ck_assert_int_eq(machine_run(&b->m), END_EXIT_PORT);
}
END_TEST

START_TEST(test_goto_past_the_end_of_the_run_fails_with_a_reason)
{
    boot(b, tu_kernel("hello"), 10000, NULL);
    vm_error err = {0};
    ck_assert(!snap_goto(&b->m, 1000000000ull, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "ended"));
}
END_TEST

START_TEST(test_goto_without_snapshots_is_refused)
{
    boot(b, tu_kernel("hello"), 0, NULL);
    vm_error err = {0};
    ck_assert(!snap_goto(&b->m, 10, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "snapshots are off"));
}
END_TEST

START_TEST(test_going_back_across_timer_interrupts_replays_them)
{
    boot(a, tu_kernel("timer"), 0, "hz=1000 ticks=5");
    ck_assert_int_eq(machine_run(&a->m), END_EXIT_PORT);
    uint64_t end = machine_insns(&a->m);
    boot(b, tu_kernel("timer"), 200000, "hz=1000 ticks=5");
    ck_assert_int_eq(machine_run_until(&b->m, end - 10), END_RUNNING);
    vm_error err = {0};
    ck_assert_msg(snap_goto(&b->m, end / 2, &err), "%s", err.msg);
    ck_assert_int_eq(machine_run(&b->m), END_EXIT_PORT);
    ck_assert_uint_eq(machine_state_hash(&a->m), machine_state_hash(&b->m));
    char *la = tu_log_text(&a->m), *lb = tu_log_text(&b->m);
    ck_assert_str_eq(la, lb);
    free(la);
    free(lb);
}
END_TEST

START_TEST(test_thinned_snapshots_stay_within_budget_and_still_restore_exactly)
{
    snap_mib = 1;
    boot(b, tu_kernel("hello"), 1000, NULL);
    ck_assert_int_eq(machine_run(&b->m), END_EXIT_PORT);
    ck_assert_uint_le(snap_bytes(&b->m), 1u << 20);
    size_t n = snap_count(&b->m);
    ck_assert_uint_lt(n, 95); /* some were folded into their successors */
    /* Dense near the present: the last gap is smaller than the first. */
    ck_assert_uint_lt(snap_insns(&b->m, n - 1) - snap_insns(&b->m, n - 2), snap_insns(&b->m, 2) - snap_insns(&b->m, 1));
    const uint64_t points[] = {5000, 40000, 74461, 90000};
    for (int i = 0; i < 4; i++) {
        machine_free(&a->m);
        snap_mib = MACHINE_DEFAULT_SNAP_MIB;
        boot(a, tu_kernel("hello"), 0, NULL);
        ck_assert_int_eq(machine_run_until(&a->m, points[i]), END_RUNNING);
        vm_error err = {0};
        ck_assert_msg(snap_goto(&b->m, points[i], &err), "%s", err.msg);
        ck_assert_msg(machine_state_hash(&a->m) == machine_state_hash(&b->m), "state differs at %llu",
                      (unsigned long long)points[i]);
    }
}
END_TEST

/* 10^5 snapshots within a budget that holds a few thousand: thinning's work per snapshot stays
 * bounded (amortised O(1), well under O(log n)), every snapshot is within the budget, and the
 * kept ones still cover the timeline: consecutive near the present, and each gap no wider than
 * a fraction of its age. */
START_TEST(test_thinning_costs_amortised_constant_work_per_snapshot)
{
    enum { EVERY = 100, SNAPS = 100000 };
    snap_mib = 16;
    boot(b, tu_kernel("loop"), EVERY, "iters=100000000");
    uint64_t taken = 1;
    for (int round = 1; round <= SNAPS / 1000; round++) {
        ck_assert_int_eq(machine_run_until(&b->m, (uint64_t)round * 1000 * EVERY), END_RUNNING);
        taken += 1000;
        ck_assert_uint_le(snap_bytes(&b->m), (size_t)snap_mib << 20);
        ck_assert_msg(snap_thin_work(&b->m) <= 8 * taken, "%llu entries of work for %llu snapshots",
                      (unsigned long long)snap_thin_work(&b->m), (unsigned long long)taken);
    }
    size_t n = snap_count(&b->m);
    uint64_t now = machine_insns(&b->m);
    ck_assert_uint_gt(n, 100); /* the budget holds many */
    ck_assert_uint_lt(n, 5000);
    ck_assert_uint_eq(snap_insns(&b->m, 0), 0);
    ck_assert_uint_ge(snap_insns(&b->m, n - 1), now - EVERY); /* the latest is kept */
    ck_assert_uint_gt(snap_thin_work(&b->m), 0); /* thinning ran */
    for (size_t i = n - 16; i + 1 < n; i++) /* dense near the present */
        ck_assert_uint_eq(snap_insns(&b->m, i + 1) - snap_insns(&b->m, i), EVERY);
    for (size_t i = 0; i + 1 < n; i++) {
        uint64_t gap = snap_insns(&b->m, i + 1) - snap_insns(&b->m, i), age = now - snap_insns(&b->m, i + 1);
        ck_assert_msg(gap <= age / 4 + EVERY, "gap %llu at age %llu", (unsigned long long)gap, (unsigned long long)age);
    }
}
END_TEST

static Suite *snapshot_suite(void)
{
    Suite *s = suite_create("snapshot");
    TCase *tc = tcase_create("timeline");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_snapshots_change_nothing_the_guest_sees);
    tcase_add_test(tc, test_goto_back_then_forward_ends_in_the_same_state);
    tcase_add_test(tc, test_going_back_one_instruction_at_a_time_matches_straight_runs);
    tcase_add_test(tc, test_goto_after_the_guest_ended_goes_back);
    tcase_add_test(tc, test_goto_past_the_end_of_the_run_fails_with_a_reason);
    tcase_add_test(tc, test_goto_without_snapshots_is_refused);
    tcase_add_test(tc, test_going_back_across_timer_interrupts_replays_them);
    tcase_add_test(tc, test_thinned_snapshots_stay_within_budget_and_still_restore_exactly);
    tcase_add_test(tc, test_thinning_costs_amortised_constant_work_per_snapshot);
    suite_add_tcase(s, tc);
    return s;
}

SUITE_MAIN(snapshot_suite)

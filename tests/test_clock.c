/* The instruction count is exact: stopping at any count N gives the same machine as any other
 * way of getting to N, whatever the translated blocks look like. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "support/suite_main.h"
#include "support/testutil.h"

static machine m;

static void boot_loop(void)
{
    machine_config c;
    machine_config_defaults(&c);
    vm_error err = {0};
    ck_assert_msg(machine_init(&m, &c, tu_kernel("loop"), &err), "%s", err.msg);
    machine_set_serial_out(&m, NULL, NULL);
}

static void teardown(void) { machine_free(&m); }

/* vcpu_run to `target`, going on after the stops a port write asks for so that the machine can
 * re-plan its timers (there is nothing to re-plan here). */
static cpu_stop run_to(uint64_t target)
{
    cpu_stop s;
    while ((s = vcpu_run(m.cpu, target, true)) == CPU_STOP_REQUEST)
        ;
    return s;
}

typedef struct regs { uint32_t r[CPU_NREGS]; } regs;

static regs snapshot(void)
{
    regs s;
    for (int i = 0; i < CPU_NREGS; i++)
        s.r[i] = vcpu_get(m.cpu, (cpu_reg)i);
    return s;
}

static void assert_same(const regs *a, const regs *b, uint64_t at)
{
    for (int i = 0; i < CPU_NREGS; i++)
        ck_assert_msg(a->r[i] == b->r[i], "%s differs at icount %llu: 0x%08x vs 0x%08x", vcpu_reg_names[i],
                      (unsigned long long)at, a->r[i], b->r[i]);
}

/* Far enough in that the 6-instruction loop is running. */
#define IN_LOOP 200000u

START_TEST(test_run_stops_at_exactly_the_target)
{
    boot_loop();
    for (uint64_t target = 1; target < 40; target += 3) {
        ck_assert_int_eq(run_to(target), CPU_STOP_TARGET);
        ck_assert_uint_eq(vcpu_icount(m.cpu), target);
    }
    ck_assert_int_eq(run_to(IN_LOOP + 5), CPU_STOP_TARGET);
    ck_assert_uint_eq(vcpu_icount(m.cpu), IN_LOOP + 5);
}
END_TEST

START_TEST(test_loop_counter_drops_once_every_six_instructions)
{
    boot_loop();
    ck_assert_int_eq(run_to(IN_LOOP), CPU_STOP_TARGET);
    uint32_t ecx[13];
    for (int k = 0; k < 13; k++) {
        ck_assert_int_eq(run_to(IN_LOOP + (uint64_t)k), CPU_STOP_TARGET);
        ecx[k] = vcpu_get(m.cpu, CPU_ECX);
    }
    int drops = 0;
    for (int k = 1; k < 13; k++) {
        ck_assert_uint_le(ecx[k - 1] - ecx[k], 1);
        drops += ecx[k - 1] != ecx[k];
    }
    ck_assert_int_eq(drops, 2);
    for (int k = 0; k + 6 < 13; k++)
        ck_assert_uint_eq(ecx[k] - ecx[k + 6], 1);
}
END_TEST

START_TEST(test_stepping_in_small_stops_equals_one_straight_run)
{
    const uint64_t end = IN_LOOP + 1000;
    boot_loop();
    ck_assert_int_eq(run_to(end), CPU_STOP_TARGET);
    regs straight = snapshot();
    machine_free(&m);

    boot_loop();
    for (uint64_t t = 7; t < end; t += 7 + t % 5) /* stops land all over the blocks */
        ck_assert_int_eq(run_to(t), CPU_STOP_TARGET);
    ck_assert_int_eq(run_to(end), CPU_STOP_TARGET);
    regs stepped = snapshot();
    assert_same(&straight, &stepped, end);
}
END_TEST

START_TEST(test_single_steps_agree_with_straight_runs_at_every_count)
{
    boot_loop();
    ck_assert_int_eq(run_to(IN_LOOP), CPU_STOP_TARGET);
    regs seen[24];
    for (int k = 0; k < 24; k++) {
        ck_assert_int_eq(run_to(IN_LOOP + 1 + (uint64_t)k), CPU_STOP_TARGET);
        seen[k] = snapshot();
    }
    for (int k = 0; k < 24; k += 5) {
        machine_free(&m);
        boot_loop();
        ck_assert_int_eq(run_to(IN_LOOP + 1 + (uint64_t)k), CPU_STOP_TARGET);
        regs direct = snapshot();
        assert_same(&seen[k], &direct, IN_LOOP + 1 + (uint64_t)k);
    }
}
END_TEST

START_TEST(test_max_insns_end_event_carries_the_exact_count)
{
    machine_config c;
    machine_config_defaults(&c);
    c.max_insns = 123457;
    vm_error err = {0};
    ck_assert_msg(machine_init(&m, &c, tu_kernel("loop"), &err), "%s", err.msg);
    machine_set_serial_out(&m, NULL, NULL);
    ck_assert_int_eq(machine_run(&m), END_LIMIT);
    const vm_event *end = tu_event(&m.log, evlog_count(&m.log) - 1);
    ck_assert_uint_eq(end->kind, EV_END);
    ck_assert_uint_eq(end->icount, 123457);
}
END_TEST

START_TEST(test_loop_result_matches_the_reference_checksum)
{
    /* The same computation under QEMU prints checksum 0xa1bd604f for iters=1000000. */
    tu_machine *t = calloc(1, sizeof *t);
    machine_config c;
    machine_config_defaults(&c);
    c.cmdline = "iters=1000000";
    vm_error err = {0};
    ck_assert_msg(tu_boot_and_run(t, &c, tu_kernel("loop"), &err), "%s", err.msg);
    ck_assert_ptr_nonnull(strstr(t->serial, "loop: checksum 0xa1bd604f"));
    machine_free(&t->m);
    free(t);
    memset(&m, 0, sizeof m);
}
END_TEST

/* smc_count: a routine flipped between 90 90 (2 instructions) and 66 90 (1) is called between
 * two rdtsc; the delta is 6 instructions for the first (rdtsc, mov, call, nop, nop, ret), 5 for
 * the second. */
#define SMC_ROUNDS 3000u
#define SMC_LONG 6u

static void run_smc(const char *snippet, uint64_t snap_every)
{
    machine_config c;
    machine_config_defaults(&c);
    c.snap_every = snap_every;
    ck_assert(tu_load_snippet_with(&m, snippet, &c));
    ck_assert_int_eq(machine_run(&m), END_HALTED);
}

START_TEST(test_rdtsc_counts_self_modified_code_with_its_new_instructions)
{
    run_smc("smc_count", MACHINE_DEFAULT_SNAP_EVERY);
    for (uint32_t i = 0; i < 64; i++)
        ck_assert_uint_eq(phys_read32(&m.mem, 0x5004u + 4 * i), i % 2 ? SMC_LONG - 1 : SMC_LONG);
    ck_assert_uint_eq(phys_read32(&m.mem, 0x5000u), SMC_ROUNDS / 2 * (2 * SMC_LONG - 1));
}
END_TEST

START_TEST(test_self_modified_code_counts_the_same_under_every_snapshot_interval)
{
    static const uint64_t every[] = {0, 1000, 2000, 3000};
    uint64_t end = 0;
    for (size_t i = 0; i < sizeof every / sizeof every[0]; i++) {
        run_smc("smc_count", every[i]);
        ck_assert_msg(phys_read32(&m.mem, 0x5000u) == SMC_ROUNDS / 2 * (2 * SMC_LONG - 1),
                      "--snap-every %llu: sum of deltas %u", (unsigned long long)every[i],
                      phys_read32(&m.mem, 0x5000u));
        uint64_t icount = vcpu_icount(m.cpu);
        if (i == 0)
            end = icount;
        ck_assert_msg(icount == end, "--snap-every %llu ends at %llu, not %llu", (unsigned long long)every[i],
                      (unsigned long long)icount, (unsigned long long)end);
        machine_free(&m);
        memset(&m, 0, sizeof m);
    }
}
END_TEST

/* smc_index: a port read inside the flipped block, behind the flipped bytes. Its place in the
 * block (kept from the last read at the same EIP) must follow the code: the logged reads are
 * 7 and 8 instructions apart in turn. */
START_TEST(test_port_read_behind_patched_code_in_its_block_counts_the_new_instructions)
{
    ck_assert(tu_load_snippet(&m, "smc_index"));
    ck_assert_int_eq(machine_run(&m), END_HALTED);
    uint64_t prev = 0;
    uint32_t reads = 0;
    for (size_t i = 0; i < evlog_count(&m.log); i++) {
        vm_event ev;
        ck_assert(evlog_get(&m.log, i, &ev));
        if (ev.kind != EV_PORT_IN || ev.num != 0x99)
            continue;
        if (reads > 0)
            ck_assert_msg(ev.icount - prev == (reads % 2 ? 7u : 8u), "read %u: %llu instructions after the last", reads,
                          (unsigned long long)(ev.icount - prev));
        prev = ev.icount;
        reads++;
    }
    ck_assert_uint_eq(reads, 100);
}
END_TEST

/* smc_inline: the store flips the bytes right after it in the same block, which runs them:
 * rdtsc, mov, pushfd, xor, 66 90 in the first round or 90 90 in the next, add: 6, then 7. */
START_TEST(test_code_patched_inside_its_own_block_counts_its_new_instructions)
{
    run_smc("smc_inline", MACHINE_DEFAULT_SNAP_EVERY);
    for (uint32_t i = 0; i < 64; i++)
        ck_assert_uint_eq(phys_read32(&m.mem, 0x5004u + 4 * i), i % 2 ? 7u : 6u);
    ck_assert_uint_eq(phys_read32(&m.mem, 0x5000u), SMC_ROUNDS / 2 * 13u);
}
END_TEST

/* smc_after_data: a block that patches itself every other round, after a store to data on its
 * page each round, which stops the page being watched while the block's translation (its count
 * kept in it, cpu/blockpatch.c) stays valid: 6, 6, 7, 7, ... */
START_TEST(test_self_patching_block_after_a_data_store_to_its_page_counts_exactly)
{
    run_smc("smc_after_data", MACHINE_DEFAULT_SNAP_EVERY);
    for (uint32_t i = 0; i < 64; i++)
        ck_assert_msg(phys_read32(&m.mem, 0x5004u + 4 * i) == (i % 4 < 2 ? 6u : 7u), "round %u: delta %u", i,
                      phys_read32(&m.mem, 0x5004u + 4 * i));
    ck_assert_uint_eq(phys_read32(&m.mem, 0x5000u), SMC_ROUNDS / 2 * 13u);
}
END_TEST

/* smc_rep: rdtsc, mov, a 2-byte rep movsb into another page's code, rdtsc. Every round counts
 * as the first, where that page has not run yet: 5 (rdtsc, mov, and the rep as Unicorn runs
 * it, one block per iteration plus the one finding ECX zero). From the second round on the
 * page holds counted code; the count once dropped an iteration then, so going back in time
 * (which leaves other pages counted than a straight run) changed Linux's boot. */
START_TEST(test_rep_store_into_counted_code_elsewhere_retires_every_iteration)
{
    run_smc("smc_rep", MACHINE_DEFAULT_SNAP_EVERY);
    for (uint32_t i = 0; i < 16; i++)
        ck_assert_msg(phys_read32(&m.mem, 0x5004u + 4 * i) == 5u, "round %u: delta %u", i,
                      phys_read32(&m.mem, 0x5004u + 4 * i));
    ck_assert_uint_eq(phys_read32(&m.mem, 0x5000u), 16u * 5u);
}
END_TEST

/* remap_count: linear 0x400000 maps 90 90 c3 and 66 90 c3 in turn (rdtsc, mov, call, then 3 or
 * 2 instructions: 6 or 5). */
START_TEST(test_code_remapped_at_the_same_address_counts_the_new_page)
{
    ck_assert_int_eq(tu_run_snippet(&m, "remap_count"), END_HALTED);
    for (uint32_t i = 0; i < 16; i++)
        ck_assert_uint_eq(phys_read32(&m.mem, 0x5000u + 4 * i), i % 2 ? 5u : 6u);
}
END_TEST

/* Exact stops inside smc_inline's self-patching block: one instruction at a time and straight
 * to the same count give the same machine. */
START_TEST(test_single_steps_through_self_modifying_code_agree_with_straight_runs)
{
    enum { STEPS = 160 };
    static regs seen[STEPS];
    ck_assert(tu_load_snippet(&m, "smc_inline"));
    const uint64_t start = vcpu_icount(m.cpu);
    for (int k = 0; k < STEPS; k++) {
        ck_assert_int_eq(run_to(start + 1 + (uint64_t)k), CPU_STOP_TARGET);
        seen[k] = snapshot();
    }
    for (int k = 2; k < STEPS; k += 11) {
        machine_free(&m);
        memset(&m, 0, sizeof m);
        ck_assert(tu_load_snippet(&m, "smc_inline"));
        ck_assert_int_eq(run_to(start + 1 + (uint64_t)k), CPU_STOP_TARGET);
        regs direct = snapshot();
        assert_same(&seen[k], &direct, start + 1 + (uint64_t)k);
    }
}
END_TEST

/* smc_copy: rdtsc, mov, mov, mov, then 4 x (store, loop): 12. */
START_TEST(test_a_loop_storing_into_other_counted_code_counts_every_round)
{
    ck_assert_int_eq(tu_run_snippet(&m, "smc_copy"), END_HALTED);
    ck_assert_uint_eq(phys_read32(&m.mem, 0x5000u), 12);
}
END_TEST

/* eip_sync: `measure` runs before and after the host writes EIP inside the engine (delivering
 * `int 0x30`): rdtsc, mov, nop, nop, rdtsc in one block is 4 ticks apart; `out` to the marker
 * port, nop, nop, mov, `out` is 4 instructions and 8 bytes apart, and each marker's EIP is its
 * `out`. Unicorn skips its EIP sync before a hook after a host write of EIP until its next exit
 * check; the count and EIP read in the hook then said the block's start. */
START_TEST(test_counts_inside_a_block_are_exact_after_the_host_wrote_eip)
{
    ck_assert_int_eq(tu_run_snippet(&m, "eip_sync"), END_HALTED);
    for (uint32_t i = 0; i < 7; i++)
        ck_assert_msg(phys_read32(&m.mem, 0x5000u + 4 * i) == 4u, "measure %u: rdtsc delta %u", i,
                      phys_read32(&m.mem, 0x5000u + 4 * i));
    vm_event a = {0};
    int markers = 0;
    for (size_t i = 0; i < evlog_count(&m.log); i++) {
        vm_event ev;
        ck_assert(evlog_get(&m.log, i, &ev));
        if (ev.kind != EV_MARKER)
            continue;
        ck_assert_msg(m.mem.ram[ev.eip] == 0xEF, "marker %d: eip 0x%08x is not its out", markers, ev.eip);
        if (markers++ % 2 == 0) {
            a = ev;
            continue;
        }
        ck_assert_msg(ev.icount - a.icount == 4u && ev.eip - a.eip == 8u, "markers %d: %llu instructions, %u bytes apart",
                      markers, (unsigned long long)(ev.icount - a.icount), ev.eip - a.eip);
    }
    ck_assert_int_eq(markers, 14);
}
END_TEST

static Suite *clock_suite(void)
{
    Suite *s = suite_create("clock");
    TCase *tc = tcase_create("exact");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_run_stops_at_exactly_the_target);
    tcase_add_test(tc, test_loop_counter_drops_once_every_six_instructions);
    tcase_add_test(tc, test_stepping_in_small_stops_equals_one_straight_run);
    tcase_add_test(tc, test_single_steps_agree_with_straight_runs_at_every_count);
    tcase_add_test(tc, test_max_insns_end_event_carries_the_exact_count);
    tcase_add_test(tc, test_loop_result_matches_the_reference_checksum);
    tcase_add_test(tc, test_rdtsc_counts_self_modified_code_with_its_new_instructions);
    tcase_add_test(tc, test_self_modified_code_counts_the_same_under_every_snapshot_interval);
    tcase_add_test(tc, test_port_read_behind_patched_code_in_its_block_counts_the_new_instructions);
    tcase_add_test(tc, test_code_patched_inside_its_own_block_counts_its_new_instructions);
    tcase_add_test(tc, test_self_patching_block_after_a_data_store_to_its_page_counts_exactly);
    tcase_add_test(tc, test_rep_store_into_counted_code_elsewhere_retires_every_iteration);
    tcase_add_test(tc, test_code_remapped_at_the_same_address_counts_the_new_page);
    tcase_add_test(tc, test_single_steps_through_self_modifying_code_agree_with_straight_runs);
    tcase_add_test(tc, test_a_loop_storing_into_other_counted_code_counts_every_round);
    tcase_add_test(tc, test_counts_inside_a_block_are_exact_after_the_host_wrote_eip);
    suite_add_tcase(s, tc);
    return s;
}

SUITE_MAIN(clock_suite)

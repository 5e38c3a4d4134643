/* The ends of a run: a run ends exactly after the instruction that ended it, the same way
 * whether the guest runs freely, is stepped one instruction at a time, runs with snapshots or
 * is re-run by going back in time. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "emu/debug.h"
#include "emu/recplay.h"
#include "emu/snapshot.h"
#include "support/suite_main.h"
#include "support/testutil.h"

#define RESULT 0x5000u
/* exit_exact: 5 set-up instructions, 5 x (dec, jnz), mov al, out 0xf4, al (at +0x2a) */
#define EXIT_EXACT_INSNS 17u
#define EXIT_EXACT_OUT (TU_SNIPPET_BASE + 0x2a)
/* exit_exact_dx: 2 + 3 x 2 + 2 + 3 + 1 + 3, the last out dx, al at +0x2b */
#define EXIT_EXACT_DX_INSNS 17u
#define EXIT_EXACT_DX_END (TU_SNIPPET_BASE + 0x2c)

static machine m;
static vm_error err;
static uint64_t tx_at_load;

static void teardown(void) { machine_free(&m); }

static uint32_t result(int i)
{
    uint32_t v;
    memcpy(&v, m.mem.ram + RESULT + 4u * (uint32_t)i, sizeof v);
    return v;
}

static const vm_event *last_event(void)
{
    size_t n = evlog_count(&m.log);
    return n ? tu_event(&m.log, n - 1) : NULL;
}

/* Load `name` and return the instruction count at its first instruction. */
static uint64_t load(const char *name)
{
    ck_assert(tu_load_snippet(&m, name));
    tx_at_load = m.com1.tx_bytes;
    return machine_insns(&m);
}

/* What every way of running must leave: the run ended by the exit port right after the out. */
static void check_ended_after_out(uint64_t start, uint32_t insns, uint32_t eip)
{
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_EIP), eip);
    ck_assert_int_eq(m.end, END_EXIT_PORT);
    ck_assert_uint_eq(m.exit_value, 0x2a);
    ck_assert_uint_eq(machine_insns(&m) - start, insns);
    ck_assert_uint_eq(result(0), 0); /* the store after the out did not land */
    ck_assert_int_eq(last_event()->kind, EV_END);
    ck_assert_uint_eq(last_event()->icount, start + insns);
}

START_TEST(test_exit_port_ends_the_run_right_after_the_out)
{
    uint64_t start = load("exit_exact");
    ck_assert_int_eq(machine_run(&m), END_EXIT_PORT);
    check_ended_after_out(start, EXIT_EXACT_INSNS, EXIT_EXACT_OUT + 2);
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_EBX), 0); /* nor did the inc ebx before it */
    ck_assert_uint_eq(result(1), 0);
    ck_assert_uint_eq(result(2), 0);
}
END_TEST

START_TEST(test_exit_port_through_dx_set_in_the_same_block_ends_right_after_the_out)
{
    uint64_t start = load("exit_exact_dx");
    ck_assert_int_eq(machine_run(&m), END_EXIT_PORT);
    check_ended_after_out(start, EXIT_EXACT_DX_INSNS, EXIT_EXACT_DX_END);
    ck_assert_uint_eq(result(1), 0x600d); /* the UART write before it did not stop the block */
    ck_assert_uint_eq(m.com1.tx_bytes - tx_at_load, 1); /* and the UART saw its byte once */
}
END_TEST

START_TEST(test_stepping_one_instruction_at_a_time_ends_at_the_same_count)
{
    uint64_t start = load("exit_exact");
    dbg d;
    dbg_init(&d, &m);
    dbg_stop s = DBG_STOPPED;
    for (int i = 0; i < 100 && s == DBG_STOPPED; i++)
        s = dbg_stepi(&d, 1, &err);
    ck_assert_int_eq(s, DBG_ENDED);
    check_ended_after_out(start, EXIT_EXACT_INSNS, EXIT_EXACT_OUT + 2);
}
END_TEST

START_TEST(test_stepping_with_the_per_instruction_hook_ends_at_the_same_count)
{
    uint64_t start = load("exit_exact_dx");
    dbg d;
    dbg_init(&d, &m);
    dbg_stop s = DBG_STOPPED;
    for (int i = 0; i < 100 && s == DBG_STOPPED; i++)
        s = dbg_stepi(&d, 1, &err);
    ck_assert_int_eq(s, DBG_ENDED);
    check_ended_after_out(start, EXIT_EXACT_DX_INSNS, EXIT_EXACT_DX_END);
    ck_assert_uint_eq(m.com1.tx_bytes - tx_at_load, 1);
}
END_TEST

START_TEST(test_a_run_with_snapshots_ends_at_the_same_count)
{
    uint64_t every = (uint64_t)_i;
    uint64_t start = load("exit_exact");
    snap_disable(&m); /* the default interval is on: replace it */
    ck_assert_msg(snap_enable(&m, every, &err), "%s", err.msg);
    ck_assert_int_eq(machine_run(&m), END_EXIT_PORT);
    check_ended_after_out(start, EXIT_EXACT_INSNS, EXIT_EXACT_OUT + 2);
}
END_TEST

START_TEST(test_goto_just_before_the_end_then_one_step_ends_the_run_again)
{
    uint64_t start = load("exit_exact");
    ck_assert_int_eq(machine_run(&m), END_EXIT_PORT);
    uint64_t end = machine_insns(&m);
    dbg d;
    dbg_init(&d, &m);
    ck_assert_msg(dbg_goto(&d, end - 1, &err) == DBG_STOPPED, "%s", err.msg);
    ck_assert_uint_eq(machine_insns(&m), end - 1);
    ck_assert_int_eq(m.end, END_RUNNING);
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_EIP), EXIT_EXACT_OUT);
    ck_assert_int_eq(dbg_stepi(&d, 1, &err), DBG_ENDED);
    check_ended_after_out(start, EXIT_EXACT_INSNS, EXIT_EXACT_OUT + 2);
}
END_TEST

START_TEST(test_a_record_made_stepping_replays_free_to_the_same_end)
{
    const char *path = tu_tmp("runend_rec");
    char report[1024];
    load("exit_exact");
    ck_assert_msg(recplay_record(&m, path, &err), "%s", err.msg);
    dbg d;
    dbg_init(&d, &m);
    for (int i = 0; i < 100 && dbg_stepi(&d, 1, &err) == DBG_STOPPED; i++)
        ;
    ck_assert_int_eq(m.end, END_EXIT_PORT);
    ck_assert_msg(recplay_finish(&m, report, sizeof report, &err), "%s", err.msg);
    machine_free(&m);
    uint64_t start = load("exit_exact");
    ck_assert_msg(recplay_replay(&m, path, false, &err), "%s", err.msg);
    ck_assert_int_eq(machine_run(&m), END_EXIT_PORT);
    check_ended_after_out(start, EXIT_EXACT_INSNS, EXIT_EXACT_OUT + 2);
    bool ok = recplay_finish(&m, report, sizeof report, &err);
    ck_assert_msg(ok && m.end != END_DIVERGED, "%s %s", report, err.msg);
}
END_TEST

/* How a run ended: the reason, the instruction count and EIP, and the first RESULT word. */
typedef struct end_point {
    machine_end end;
    uint64_t icount;
    uint32_t eip, result0;
} end_point;

static end_point run_free(const char *name)
{
    uint64_t start = load(name);
    machine_run(&m);
    end_point e = {m.end, machine_insns(&m) - start, vcpu_get(m.cpu, CPU_EIP), result(0)};
    machine_free(&m);
    return e;
}

static end_point run_stepped(const char *name)
{
    uint64_t start = load(name);
    dbg d;
    dbg_init(&d, &m);
    for (int i = 0; i < 1000 && dbg_stepi(&d, 1, &err) == DBG_STOPPED; i++)
        ;
    end_point e = {m.end, machine_insns(&m) - start, vcpu_get(m.cpu, CPU_EIP), result(0)};
    return e;
}

START_TEST(test_a_triple_fault_mid_block_ends_at_the_faulting_instruction_free_or_stepped)
{
    end_point free_run = run_free("triple_midblock");
    end_point stepped = run_stepped("triple_midblock");
    ck_assert_int_eq(free_run.end, END_REBOOT); /* a triple fault resets a PC (issue 14) */
    ck_assert_int_eq(stepped.end, END_REBOOT);
    ck_assert_uint_eq(free_run.icount, 12); /* 3 set-up, 3 x (dec, jnz), xor, xor, inc: not the div */
    ck_assert_uint_eq(stepped.icount, free_run.icount);
    ck_assert_uint_eq(stepped.eip, free_run.eip);
    ck_assert_uint_eq(free_run.result0, 0);
    ck_assert_uint_eq(stepped.result0, 0);
}
END_TEST

START_TEST(test_vmi_shutdown_ends_the_run_as_the_call_returns_free_or_stepped)
{
    end_point free_run = run_free("shutdown_exact");
    end_point stepped = run_stepped("shutdown_exact");
    ck_assert_int_eq(free_run.end, END_SHUTDOWN);
    ck_assert_int_eq(stepped.end, END_SHUTDOWN);
    ck_assert_uint_eq(free_run.icount, 10); /* 2 set-up, 3 x (dec, jnz), call, the ROM call */
    ck_assert_uint_eq(stepped.icount, free_run.icount);
    ck_assert_uint_eq(free_run.eip, TU_SNIPPET_BASE + 0x17); /* the return address */
    ck_assert_uint_eq(stepped.eip, free_run.eip);
    ck_assert_uint_eq(free_run.result0, 0);
    ck_assert_uint_eq(stepped.result0, 0);
}
END_TEST

static Suite *runend_suite(void)
{
    Suite *s = suite_create("runend");
    TCase *tc = tcase_create("exit_port");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_exit_port_ends_the_run_right_after_the_out);
    tcase_add_test(tc, test_exit_port_through_dx_set_in_the_same_block_ends_right_after_the_out);
    tcase_add_test(tc, test_stepping_one_instruction_at_a_time_ends_at_the_same_count);
    tcase_add_test(tc, test_stepping_with_the_per_instruction_hook_ends_at_the_same_count);
    tcase_add_loop_test(tc, test_a_run_with_snapshots_ends_at_the_same_count, 1, 5);
    tcase_add_test(tc, test_goto_just_before_the_end_then_one_step_ends_the_run_again);
    tcase_add_test(tc, test_a_record_made_stepping_replays_free_to_the_same_end);
    tcase_add_test(tc, test_vmi_shutdown_ends_the_run_as_the_call_returns_free_or_stepped);
    tcase_add_test(tc, test_a_triple_fault_mid_block_ends_at_the_faulting_instruction_free_or_stepped);
    suite_add_tcase(s, tc);
    return s;
}

SUITE_MAIN(runend_suite)

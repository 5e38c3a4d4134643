/* Reverse execution: reverse-stepi, reverse to the previous VMI call, goto call N, and
 * reverse-continue to the previous breakpoint hit. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "emu/debug.h"
#include "emu/snapshot.h"
#include "emu/timetravel.h"
#include "rom/rom.h"
#include "support/suite_main.h"
#include "support/testutil.h"

static tu_machine *t;
static vm_error err;
static const char *kernel = "hello";

static void setup(void)
{
    t = calloc(1, sizeof *t);
    memset(&err, 0, sizeof err);
    machine_config c;
    machine_config_defaults(&c);
    c.ram_mib = 16;
    c.snap_every = 4000;
    ck_assert_msg(machine_init(&t->m, &c, tu_kernel(kernel), &err), "%s", err.msg);
    machine_set_serial_out(&t->m, NULL, NULL);
}

static void teardown(void)
{
    machine_free(&t->m);
    free(t);
}

/* linuxlike makes native calls (SetPxE, DisableInterrupts) with timer interrupts coming. */
static void setup_native(void)
{
    kernel = "linuxlike";
    setup();
}

static void teardown_native(void)
{
    teardown();
    kernel = "hello";
}

/* The k-th logged VMI call with this number. */
static const vm_event *call(uint16_t num, int k)
{
    for (size_t i = 0; i < evlog_count(&t->m.log); i++)
        if (tu_event(&t->m.log, i)->kind == EV_VMI_CALL && tu_event(&t->m.log, i)->num == num && k-- == 0)
            return tu_event(&t->m.log, i);
    return NULL;
}

START_TEST(test_reverse_stepi_goes_back_exactly_one_instruction)
{
    ck_assert_int_eq(machine_run_until(&t->m, 50000), END_RUNNING);
    ck_assert_msg(tt_reverse_stepi(&t->m, 1, &err), "%s", err.msg);
    ck_assert_uint_eq(machine_insns(&t->m), 49999);
    ck_assert_msg(tt_reverse_stepi(&t->m, 4500, &err), "%s", err.msg);
    ck_assert_uint_eq(machine_insns(&t->m), 45499);
    ck_assert(!tt_reverse_stepi(&t->m, 1000000, &err));
}
END_TEST

START_TEST(test_goto_call_lands_just_before_the_call)
{
    ck_assert_int_eq(machine_run(&t->m), END_EXIT_PORT);
    const vm_event first_rdtsc = *call(27, 0);
    size_t n = 0; /* its index among all VMI calls */
    for (size_t i = 0; tu_event(&t->m.log, i)->icount != first_rdtsc.icount || tu_event(&t->m.log, i)->num != 27; i++)
        n += tu_event(&t->m.log, i)->kind == EV_VMI_CALL;
    ck_assert_msg(tt_goto_call(&t->m, n, &err), "%s", err.msg);
    ck_assert_uint_eq(machine_insns(&t->m), first_rdtsc.icount);
    ck_assert_uint_eq(vcpu_get(t->m.cpu, CPU_EIP), 0xC0000u + 0x100 + 27 * 32); /* at the ROM slot */
    ck_assert_ptr_null(call(27, 0)); /* the call has not happened yet */
    ck_assert_int_eq(machine_run_until(&t->m, first_rdtsc.icount + 1), END_RUNNING);
    ck_assert_uint_eq(call(27, 0)->result, first_rdtsc.result);
}
END_TEST

START_TEST(test_reverse_step_call_finds_the_previous_vmi_call)
{
    ck_assert_int_eq(machine_run(&t->m), END_EXIT_PORT);
    ck_assert_ptr_nonnull(call(71, 0));
    ck_assert_ptr_nonnull(call(70, 0));
    const vm_event updated = *call(71, 0); /* hello's last call */
    const vm_event wallclock = *call(70, 0);
    ck_assert_msg(tt_reverse_step_call(&t->m, &err), "%s", err.msg);
    ck_assert_uint_eq(machine_insns(&t->m), updated.icount);
    ck_assert_msg(tt_reverse_step_call(&t->m, &err), "%s", err.msg);
    ck_assert_uint_eq(machine_insns(&t->m), wallclock.icount);
    ck_assert_uint_eq(tu_event(&t->m.log, evlog_count(&t->m.log) - 1)->num, 67); /* the call before it is now the latest */
}
END_TEST

START_TEST(test_reverse_continue_stops_at_each_earlier_breakpoint_hit)
{
    ck_assert_int_eq(machine_run(&t->m), END_EXIT_PORT);
    const vm_event r0 = *call(27, 0), r1 = *call(27, 1);
    uint32_t bps[2] = {r0.eip, r1.eip}; /* the two call sites of RDTSC */
    ck_assert(vcpu_set_breakpoints(t->m.cpu, bps, 2));
    bool found;
    ck_assert_msg(tt_reverse_continue(&t->m, &found, &err), "%s", err.msg);
    ck_assert(found);
    ck_assert_uint_eq(vcpu_get(t->m.cpu, CPU_EIP), r1.eip);
    ck_assert_uint_lt(machine_insns(&t->m), r1.icount);
    ck_assert_msg(tt_reverse_continue(&t->m, &found, &err), "%s", err.msg);
    ck_assert(found);
    ck_assert_uint_eq(vcpu_get(t->m.cpu, CPU_EIP), r0.eip);
    ck_assert_msg(tt_reverse_continue(&t->m, &found, &err), "%s", err.msg);
    ck_assert(!found);
    ck_assert_uint_eq(machine_insns(&t->m), 0);
}
END_TEST

START_TEST(test_forward_breakpoint_stops_before_the_instruction_and_continues)
{
    ck_assert_int_eq(machine_run(&t->m), END_EXIT_PORT);
    const vm_event r0 = *call(27, 0);
    teardown();
    setup();
    uint32_t bp = r0.eip;
    ck_assert(vcpu_set_breakpoints(t->m.cpu, &bp, 1));
    ck_assert_int_eq(machine_run(&t->m), END_RUNNING);
    ck_assert(t->m.break_hit);
    ck_assert_uint_eq(vcpu_get(t->m.cpu, CPU_EIP), bp);
    ck_assert_ptr_null(call(27, 0));
    ck_assert_int_eq(machine_run(&t->m), END_EXIT_PORT); /* continue runs the breakpoint */
    ck_assert_ptr_nonnull(call(27, 0));
}
END_TEST

/* The icount at which the run first reaches the first RDTSC call site (a fresh machine). */
static uint64_t first_arrival_at(uint32_t *bp)
{
    ck_assert_int_eq(machine_run(&t->m), END_EXIT_PORT);
    *bp = call(27, 0)->eip;
    teardown();
    setup();
    ck_assert(vcpu_set_breakpoints(t->m.cpu, bp, 1));
    ck_assert_int_eq(machine_run(&t->m), END_RUNNING);
    ck_assert(t->m.break_hit);
    uint64_t at = machine_insns(&t->m);
    teardown();
    return at;
}

START_TEST(test_a_breakpoint_reached_exactly_at_a_snapshot_still_stops)
{
    uint32_t bp;
    uint64_t at = first_arrival_at(&bp);
    machine_config c;
    machine_config_defaults(&c);
    c.ram_mib = 16;
    c.snap_every = at; /* the run is cut for a snapshot just before the breakpoint's instruction */
    t = calloc(1, sizeof *t);
    ck_assert_msg(machine_init(&t->m, &c, tu_kernel(kernel), &err), "%s", err.msg);
    machine_set_serial_out(&t->m, NULL, NULL);
    ck_assert(vcpu_set_breakpoints(t->m.cpu, &bp, 1));
    ck_assert_int_eq(machine_run(&t->m), END_RUNNING);
    ck_assert_msg(t->m.break_hit, "ran past the breakpoint to icount %llu", (unsigned long long)machine_insns(&t->m));
    ck_assert_uint_eq(machine_insns(&t->m), at);
}
END_TEST

static bool pause_always(machine *m, void *ctx, bool at_stop)
{
    (void)m, (void)ctx, (void)at_stop;
    return true;
}

START_TEST(test_continue_stops_at_a_breakpoint_reached_exactly_at_a_host_pause)
{
    uint32_t bp;
    uint64_t at = first_arrival_at(&bp);
    setup();
    machine_set_host_hook(&t->m, at, pause_always, NULL); /* pauses just before the breakpoint */
    dbg d;
    dbg_init(&d, &t->m);
    ck_assert_int_gt(dbg_break(&d, bp, &err), 0);
    ck_assert_int_eq(dbg_continue(&d, &err), DBG_BREAKPOINT);
    ck_assert_uint_eq(machine_insns(&t->m), at);
    ck_assert_int_eq(dbg_stepi(&d, 1, &err), DBG_STOPPED); /* and the next step runs it */
    ck_assert_uint_eq(machine_insns(&t->m), at + 1);
}
END_TEST

START_TEST(test_vmi_call_breakpoint_stops_before_each_call)
{
    t->m.vmi_breaks[27] = true; /* RDTSC */
    ck_assert_int_eq(machine_run(&t->m), END_RUNNING);
    ck_assert(t->m.break_hit);
    ck_assert_uint_eq(vcpu_get(t->m.cpu, CPU_EIP), 0xC0000u + 0x100 + 27 * 32);
    ck_assert_ptr_null(call(27, 0));
    ck_assert_int_eq(machine_run(&t->m), END_RUNNING); /* performs it, stops before the next */
    ck_assert_ptr_nonnull(call(27, 0));
    ck_assert_ptr_null(call(27, 1));
    uint64_t second = machine_insns(&t->m);
    ck_assert_int_eq(machine_run(&t->m), END_EXIT_PORT);
    bool found;
    ck_assert_msg(tt_reverse_continue(&t->m, &found, &err), "%s", err.msg);
    ck_assert(found);
    ck_assert_uint_eq(machine_insns(&t->m), second);
}
END_TEST

/* The index among all VMI calls of the first call with this number. */
static size_t call_index(uint16_t num)
{
    size_t n = 0;
    for (size_t i = 0; i < evlog_count(&t->m.log); i++) {
        const vm_event *ev = tu_event(&t->m.log, i);
        if (ev->kind != EV_VMI_CALL)
            continue;
        if (ev->num == num)
            return n;
        n++;
    }
    ck_abort_msg("no VMI call %u", num);
    return 0;
}

/* Where `goto call` lands on the first call `num`: its instruction count and registers. */
typedef struct landing {
    uint64_t icount;
    uint32_t regs[CPU_NREGS];
} landing;

static landing here(void)
{
    landing l = {machine_insns(&t->m), {0}};
    for (int r = 0; r < CPU_NREGS; r++)
        l.regs[r] = vcpu_get(t->m.cpu, (cpu_reg)r);
    return l;
}

static landing goto_first_call(uint16_t num)
{
    ck_assert_int_eq(machine_run(&t->m), END_EXIT_PORT);
    ck_assert_msg(tt_goto_call(&t->m, call_index(num), &err), "%s", err.msg);
    ck_assert_ptr_null(call(num, 0)); /* before the call: not logged yet */
    return here();
}

/* Where `break vmi num` (and continue) stops the first time, on a fresh machine. */
static landing break_at_first_call(uint16_t num)
{
    teardown();
    setup();
    t->m.vmi_breaks[num] = true;
    ck_assert_int_eq(machine_run(&t->m), END_RUNNING);
    ck_assert(t->m.break_hit);
    ck_assert_ptr_null(call(num, 0));
    return here();
}

static void assert_same_landing(const landing *a, const landing *b)
{
    ck_assert_uint_eq(a->icount, b->icount);
    for (int r = 0; r < CPU_NREGS; r++)
        ck_assert_msg(a->regs[r] == b->regs[r], "%s: 0x%08x, break vmi 0x%08x", vcpu_reg_names[r], a->regs[r], b->regs[r]);
}

START_TEST(test_goto_call_on_a_native_call_lands_where_break_vmi_stops)
{
    landing g = goto_first_call(VMI_CALL_SetPxE); /* mov [edx], eax; ret in its slot */
    ck_assert_uint_eq(g.regs[CPU_EIP], 0xC0000u + 0x100 + VMI_CALL_SetPxE * 32); /* at the ROM entry */
    landing b = break_at_first_call(VMI_CALL_SetPxE);
    assert_same_landing(&g, &b);
}
END_TEST

START_TEST(test_goto_call_on_an_interrupt_flag_call_lands_where_break_vmi_stops)
{
    landing g = goto_first_call(VMI_CALL_DisableInterrupts); /* cli; ret in its slot */
    landing b = break_at_first_call(VMI_CALL_DisableInterrupts);
    assert_same_landing(&g, &b);
}
END_TEST

START_TEST(test_goto_call_on_a_host_call_lands_where_break_vmi_stops)
{
    landing g = goto_first_call(VMI_CALL_RDTSC);
    landing b = break_at_first_call(VMI_CALL_RDTSC);
    assert_same_landing(&g, &b);
}
END_TEST

START_TEST(test_a_native_call_is_logged_at_its_entry_with_the_instructions_its_slot_ran)
{
    landing b = break_at_first_call(VMI_CALL_SetPxE);
    t->m.vmi_breaks[VMI_CALL_SetPxE] = false;
    ck_assert_int_eq(machine_run(&t->m), END_EXIT_PORT);
    const vm_event *ev = call(VMI_CALL_SetPxE, 0);
    ck_assert_uint_eq(ev->icount, b.icount);
    ck_assert_uint_eq(ev->insns, 2); /* mov [edx], eax; ret */
    ck_assert_uint_eq(call(VMI_CALL_GetCycleCounter, 0)->insns, 0); /* a host call runs no instruction */
}
END_TEST

START_TEST(test_reverse_step_call_from_inside_the_calls_after_a_native_call_goes_to_its_entry)
{
    ck_assert_int_eq(machine_run(&t->m), END_EXIT_PORT);
    const vm_event set = *call(VMI_CALL_SetPxE, 0);
    ck_assert_msg(snap_goto(&t->m, ev_logged_at(&set), &err), "%s", err.msg); /* just after its slot */
    ck_assert_ptr_nonnull(call(VMI_CALL_SetPxE, 0));
    ck_assert_msg(tt_reverse_step_call(&t->m, &err), "%s", err.msg);
    ck_assert_uint_eq(machine_insns(&t->m), set.icount);
    ck_assert_ptr_null(call(VMI_CALL_SetPxE, 0));
}
END_TEST

START_TEST(test_reverse_continue_to_a_native_call_breakpoint_stops_at_its_entry)
{
    t->m.vmi_breaks[VMI_CALL_SetPxE] = true;
    ck_assert_int_eq(machine_run(&t->m), END_RUNNING);
    uint64_t entry = machine_insns(&t->m);
    ck_assert_msg(snap_goto(&t->m, entry + 2, &err), "%s", err.msg); /* just after its slot */
    ck_assert_ptr_nonnull(call(VMI_CALL_SetPxE, 0));
    ck_assert_ptr_null(call(VMI_CALL_SetPxE, 1));
    bool found;
    ck_assert_msg(tt_reverse_continue(&t->m, &found, &err), "%s", err.msg);
    ck_assert(found);
    ck_assert_uint_eq(machine_insns(&t->m), entry);
    ck_assert_uint_eq(call(VMI_CALL_SetPxE, 0) == NULL, true);
}
END_TEST

#define TOTAL_TICKS 0x5010u /* timer_pic's tick counter */

START_TEST(test_watchpoint_stops_just_after_the_write_and_reverse_continue_finds_it)
{
    machine_free(&t->m);
    memset(&t->m, 0, sizeof t->m);
    ck_assert(tu_load_snippet(&t->m, "timer_pic"));
    vcpu_watch w = {TOTAL_TICKS, 4, 'w'};
    ck_assert(vcpu_set_watchpoints(t->m.cpu, &w, 1));
    ck_assert_int_eq(machine_run(&t->m), END_RUNNING);
    ck_assert(t->m.watch_hit);
    ck_assert_uint_eq(phys_read32(&t->m.mem, TOTAL_TICKS), 1);
    ck_assert_uint_eq(machine_insns(&t->m), t->m.watch.icount); /* exactly after the writing instruction */
    uint64_t first = machine_insns(&t->m);
    ck_assert_int_eq(machine_run(&t->m), END_RUNNING);
    ck_assert(t->m.watch_hit);
    ck_assert_uint_eq(phys_read32(&t->m.mem, TOTAL_TICKS), 2);
    bool found;
    ck_assert_msg(tt_reverse_continue(&t->m, &found, &err), "%s", err.msg);
    ck_assert(found);
    ck_assert_uint_eq(machine_insns(&t->m), first);
    ck_assert_uint_eq(phys_read32(&t->m.mem, TOTAL_TICKS), 1);
}
END_TEST

static Suite *timetravel_suite(void)
{
    Suite *s = suite_create("timetravel");
    TCase *tc = tcase_create("reverse");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_reverse_stepi_goes_back_exactly_one_instruction);
    tcase_add_test(tc, test_goto_call_lands_just_before_the_call);
    tcase_add_test(tc, test_reverse_step_call_finds_the_previous_vmi_call);
    tcase_add_test(tc, test_reverse_continue_stops_at_each_earlier_breakpoint_hit);
    tcase_add_test(tc, test_forward_breakpoint_stops_before_the_instruction_and_continues);
    tcase_add_test(tc, test_vmi_call_breakpoint_stops_before_each_call);
    tcase_add_test(tc, test_a_breakpoint_reached_exactly_at_a_snapshot_still_stops);
    tcase_add_test(tc, test_continue_stops_at_a_breakpoint_reached_exactly_at_a_host_pause);
    tcase_add_test(tc, test_goto_call_on_a_host_call_lands_where_break_vmi_stops);
    tcase_add_test(tc, test_watchpoint_stops_just_after_the_write_and_reverse_continue_finds_it);
    suite_add_tcase(s, tc);
    tc = tcase_create("native");
    tcase_add_checked_fixture(tc, setup_native, teardown_native);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_goto_call_on_a_native_call_lands_where_break_vmi_stops);
    tcase_add_test(tc, test_goto_call_on_an_interrupt_flag_call_lands_where_break_vmi_stops);
    tcase_add_test(tc, test_a_native_call_is_logged_at_its_entry_with_the_instructions_its_slot_ran);
    tcase_add_test(tc, test_reverse_step_call_from_inside_the_calls_after_a_native_call_goes_to_its_entry);
    tcase_add_test(tc, test_reverse_continue_to_a_native_call_breakpoint_stops_at_its_entry);
    suite_add_tcase(s, tc);
    return s;
}

SUITE_MAIN(timetravel_suite)

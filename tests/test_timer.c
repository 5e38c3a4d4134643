/* VMI alarms fire at their exact cycle through the PIC (and the local APIC), a Halt sleeps
 * until the next one without host time, and CancelAlarm reports what was pending. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "emu/machine.h"
#include "emu/snapshot.h"
#include "support/suite_main.h"
#include "support/testutil.h"

#define RESULT 0x5000u
#define TICKS 0x5100u
#define PERIOD 10000u

static machine m;

static void teardown(void) { machine_free(&m); }

static uint32_t result(int i) { return phys_read32(&m.mem, RESULT + 4u * (uint32_t)i); }

static uint64_t tick(int i)
{
    uint64_t v = 0;
    ck_assert(phys_read(&m.mem, TICKS + 8u * (uint32_t)i, &v, sizeof v));
    return v;
}

static size_t count_external(void)
{
    size_t n = 0;
    for (size_t i = 0; i < evlog_count(&m.log); i++)
        n += tu_event(&m.log, i)->kind == EV_EXCEPTION && (tu_event(&m.log, i)->args[2] & 4);
    return n;
}

START_TEST(test_periodic_alarm_ticks_exactly_one_period_apart)
{
    ck_assert_int_eq(tu_run_snippet(&m, "timer_pic"), END_HALTED);
    ck_assert_uint_eq(result(3), 0x600d);
    for (int i = 1; i < 5; i++)
        ck_assert_uint_eq(tick(i) - tick(i - 1), PERIOD);
}
END_TEST

START_TEST(test_halt_sleeps_without_running_instructions)
{
    ck_assert_int_eq(tu_run_snippet(&m, "timer_pic"), END_HALTED);
    ck_assert_uint_gt(m.idle_cycles, 4 * PERIOD);
    ck_assert_uint_lt(machine_insns(&m), 1000 + 4 * PERIOD);
}
END_TEST

START_TEST(test_one_shot_alarm_re_armed_fires_each_time)
{
    ck_assert_int_eq(tu_run_snippet(&m, "timer_pic"), END_HALTED);
    ck_assert_uint_eq(result(4), 8); /* 5 periodic + 3 one-shot ticks */
    for (int i = 6; i < 8; i++)
        ck_assert_uint_ge(tick(i) - tick(i - 1), 3 * PERIOD);
    ck_assert_uint_eq(count_external(), 8);
}
END_TEST

START_TEST(test_cancel_alarm_reports_whether_one_was_pending)
{
    ck_assert_int_eq(tu_run_snippet(&m, "timer_pic"), END_HALTED);
    ck_assert_uint_eq(result(1), 1);
    ck_assert_uint_eq(result(2), 0);
}
END_TEST

START_TEST(test_timer_runs_are_deterministic)
{
    ck_assert_int_eq(tu_run_snippet(&m, "timer_pic"), END_HALTED);
    char *a = tu_log_text(&m);
    machine_free(&m);
    ck_assert_int_eq(tu_run_snippet(&m, "timer_pic"), END_HALTED);
    char *b = tu_log_text(&m);
    ck_assert_str_eq(a, b);
    free(a);
    free(b);
}
END_TEST

START_TEST(test_apic_wired_alarm_raises_the_lvt_vector_until_cancelled)
{
    ck_assert_int_eq(tu_run_snippet(&m, "timer_apic"), END_HALTED);
    ck_assert_uint_eq(result(3), 0x600d);
    ck_assert_uint_eq(result(1), 0xEF); /* LVT read back: vector, unmasked */
    for (int i = 1; i < 4; i++)
        ck_assert_uint_eq(tick(i) - tick(i - 1), 2 * PERIOD);
    ck_assert_uint_eq(result(2), 1);
    for (size_t i = 0; i < evlog_count(&m.log); i++)
        if (tu_event(&m.log, i)->kind == EV_EXCEPTION)
            ck_assert_uint_eq(tu_event(&m.log, i)->num, 0xEF);
}
END_TEST

START_TEST(test_apic_tick_without_eoi_blocks_later_ticks_and_the_halt_ends)
{
    ck_assert_int_eq(tu_run_snippet(&m, "timer_apic_noeoi"), END_HALTED);
    ck_assert_uint_eq(result(0), 1);
    ck_assert_uint_ne(result(3), 0x600d);
    ck_assert_ptr_nonnull(strstr(m.end_message, "none can be taken"));
}
END_TEST

START_TEST(test_interrupts_inside_rom_slots_return_into_them)
{
    ck_assert_int_eq(tu_run_snippet(&m, "irq_storm"), END_HALTED);
    ck_assert_uint_eq(result(3), 0x600d);
    ck_assert_uint_gt(result(0), 1000);
    size_t mid_slot = 0; /* interrupts whose return address lies inside the ROM */
    for (size_t i = 0; i < evlog_count(&m.log); i++)
        mid_slot += tu_event(&m.log, i)->kind == EV_EXCEPTION && tu_event(&m.log, i)->eip >= 0xC0000u &&
                    tu_event(&m.log, i)->eip < 0xC1000u;
    ck_assert_uint_gt(mid_slot, 0);
}
END_TEST

/* The irq_window snippet's run: interrupts taken, ways tried, the log's events. */
static vm_event *irq_window_run(bool every_insn, size_t *n)
{
    vm_error err = {0};
    ck_assert(tu_load_snippet(&m, "irq_window"));
    if (every_insn) { /* exact steps: the look at IF at every instruction boundary */
        snap_disable(&m);
        ck_assert_msg(snap_enable(&m, 1, &err), "%s", err.msg);
    }
    ck_assert_int_eq(machine_run(&m), END_HALTED);
    ck_assert_uint_eq(result(3), 0x600d);
    ck_assert_uint_eq(result(1), 5);
    ck_assert_uint_eq(result(0), result(1)); /* one interrupt a way: each window opened once */
    for (uint32_t i = 0; i < result(1); i++)
        ck_assert_msg(phys_read32(&m.mem, 0x5100u + 4u * i) == phys_read32(&m.mem, 0x5200u + 4u * i),
                      "way %u: taken at 0x%x, expected 0x%x", i, phys_read32(&m.mem, 0x5100u + 4u * i),
                      phys_read32(&m.mem, 0x5200u + 4u * i));
    *n = evlog_count(&m.log);
    vm_event *evs = calloc(*n, sizeof *evs);
    ck_assert_ptr_nonnull(evs);
    for (size_t i = 0; i < *n; i++)
        evs[i] = *tu_event(&m.log, i);
    machine_free(&m);
    return evs;
}

/* A waiting interrupt is taken at the first boundary with IF set, whichever instruction set it
 * (cpu/ifwatch.c marks those; the CPU does not look at IF at other block starts), and at the
 * same instruction count as when every instruction is stepped. */
START_TEST(test_a_waiting_interrupt_is_taken_where_each_way_of_setting_if_lets_it_in)
{
    size_t plain_n, stepped_n;
    vm_event *plain = irq_window_run(false, &plain_n);
    vm_event *stepped = irq_window_run(true, &stepped_n);
    ck_assert_uint_eq(plain_n, stepped_n);
    for (size_t i = 0; i < plain_n; i++)
        ck_assert_msg(memcmp(&plain[i], &stepped[i], sizeof plain[i]) == 0, "event %zu differs", i);
    free(plain);
    free(stepped);
}
END_TEST

START_TEST(test_pit_programmed_by_ports_fires_one_period_later)
{
    ck_assert_int_eq(tu_run_snippet(&m, "timer_pit_native"), END_HALTED);
    ck_assert_uint_eq(result(0), 3);
    /* 100 PIT ticks at 1193182 Hz of the default cycle clock (8381 cycles at 100 MHz). Counting
     * starts at the PIT tick after the write, up to one tick (84 cycles) later. */
    uint64_t hz = MACHINE_DEFAULT_MHZ * 1000000ull;
    uint64_t period = 100u * hz / 1193182u, one_tick = hz / 1193182u + 1;
    uint32_t first = (uint32_t)tick(0) - result(1); /* the snippet keeps the low half */
    ck_assert_uint_le(first, period + one_tick + 1);
    ck_assert_uint_ge(first, period);
    ck_assert_uint_le(tick(1) - tick(0), period + 1);
    ck_assert_uint_ge(tick(1) - tick(0), period - 1);
}
END_TEST

/* vmiemu steps to each deadline inside a block by setting the trap flag where the guest cannot
 * tell: no EFLAGS image the guest sees (its own pushf, an interrupt frame, a fault frame raised
 * inside the stepped stretch) may carry TF, and DR6 must not keep the single-step bit. */
START_TEST(test_stepping_to_interrupts_inside_blocks_leaves_no_trace_in_the_guest)
{
    const uint32_t tf = 0x100, if_flag = 0x200;
    ck_assert_int_eq(tu_run_snippet(&m, "trap_step"), END_HALTED);
    ck_assert_uint_eq(result(0), 120);
    ck_assert_uint_gt(result(6), 1000); /* the #DE handler ran on most passes */
    ck_assert_uint_eq(result(2) & if_flag, if_flag); /* the frames were read */
    ck_assert_uint_eq(result(3) & if_flag, if_flag);
    ck_assert_uint_eq(result(1) & tf, 0);
    ck_assert_uint_eq(result(2) & tf, 0);
    ck_assert_uint_eq(result(3) & tf, 0);
    ck_assert_uint_eq(result(4), result(5));
}
END_TEST

static Suite *timer_suite(void)
{
    Suite *s = suite_create("timer");
    TCase *tc = tcase_create("alarms");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_periodic_alarm_ticks_exactly_one_period_apart);
    tcase_add_test(tc, test_halt_sleeps_without_running_instructions);
    tcase_add_test(tc, test_one_shot_alarm_re_armed_fires_each_time);
    tcase_add_test(tc, test_cancel_alarm_reports_whether_one_was_pending);
    tcase_add_test(tc, test_timer_runs_are_deterministic);
    tcase_add_test(tc, test_pit_programmed_by_ports_fires_one_period_later);
    tcase_add_test(tc, test_a_waiting_interrupt_is_taken_where_each_way_of_setting_if_lets_it_in);
    tcase_add_test(tc, test_stepping_to_interrupts_inside_blocks_leaves_no_trace_in_the_guest);
    tcase_add_test(tc, test_apic_wired_alarm_raises_the_lvt_vector_until_cancelled);
    tcase_add_test(tc, test_interrupts_inside_rom_slots_return_into_them);
    tcase_add_test(tc, test_apic_tick_without_eoi_blocks_later_ticks_and_the_halt_ends);
    suite_add_tcase(s, tc);
    return s;
}

SUITE_MAIN(timer_suite)

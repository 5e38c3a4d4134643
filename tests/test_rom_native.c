/* A native VMI call (its ROM slot runs the real instruction) is logged once its slot has
 * returned: the event holds the result the guest got and the caller's EIP, and whoever
 * observes the log (the record file) sees the registers after the call. A call that faults
 * inside its slot is logged once, as failed, before the exception. An interrupt-flag call whose
 * slot runs whole is logged at its entry instead, as the same event (observers see the
 * registers before it); where the slot may be left early, it takes the usual path. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "emu/snapshot.h"
#include "support/suite_main.h"
#include "support/testutil.h"

#define RESULT 0x5000u
#define CALL_SIZE 5u /* call rel32 */

static machine m;

/* What an observer (recording) sees when each VMI call is logged: EAX and EIP then. */
static uint32_t seen_eax[64], seen_eip[64];
static uint16_t seen_num[64];
static size_t nseen;

static void observe(void *ctx, const vm_event *ev)
{
    machine *mm = ctx;
    if (ev->kind != EV_VMI_CALL || nseen == 64)
        return;
    seen_num[nseen] = ev->num;
    seen_eax[nseen] = vcpu_get(mm->cpu, CPU_EAX);
    seen_eip[nseen] = vcpu_get(mm->cpu, CPU_EIP);
    nseen++;
}

static void setup(void)
{
    nseen = 0;
    ck_assert(tu_load_snippet(&m, "rom_native_log"));
    m.log.observer = observe;
    m.log.observer_ctx = &m;
    ck_assert_int_eq(machine_run(&m), END_HALTED);
    ck_assert_uint_eq(phys_read32(&m.mem, RESULT + 16), 0x600d);
}

static void teardown(void) { machine_free(&m); }

/* The same run with a snapshot after every instruction, some inside native slots. */
static void setup_every_insn(void)
{
    nseen = 0;
    vm_error err = {0};
    ck_assert(tu_load_snippet(&m, "rom_native_log"));
    snap_disable(&m);
    ck_assert_msg(snap_enable(&m, 1, &err), "%s", err.msg);
    ck_assert_int_eq(machine_run(&m), END_HALTED);
}

static uint32_t result(int i) { return phys_read32(&m.mem, RESULT + 4u * (uint32_t)i); }

/* The index of the only call event numbered num (fails if there are none or several). */
static size_t only_call(uint16_t num)
{
    size_t found = SIZE_MAX, n = 0;
    for (size_t i = 0; i < evlog_count(&m.log); i++) {
        const vm_event *ev = tu_event(&m.log, i);
        if (ev->kind == EV_VMI_CALL && ev->num == num) {
            found = i;
            n++;
        }
    }
    ck_assert_msg(n == 1, "call %u logged %zu times", num, n);
    return found;
}

static size_t seen_index(uint16_t num)
{
    for (size_t i = 0; i < nseen; i++)
        if (seen_num[i] == num)
            return i;
    ck_abort_msg("call %u never observed", num);
    return 0;
}

START_TEST(test_get_cr0_is_logged_with_the_cr0_it_returned_and_its_caller)
{
    const vm_event *ev = tu_event(&m.log, only_call(19));
    ck_assert_uint_eq(ev->result, result(0));
    ck_assert_uint_eq(ev->result & 1, 1); /* CR0.PE: CR0, not the 0x11111111 EAX held before */
    ck_assert_uint_eq(ev->eip, result(2));
    ck_assert(!ev->failed);
}
END_TEST

START_TEST(test_get_cr0_is_observed_with_the_registers_after_its_return)
{
    size_t i = seen_index(19);
    ck_assert_uint_eq(seen_eax[i], result(0));
    ck_assert_uint_eq(seen_eip[i], result(2) + CALL_SIZE); /* back at the caller */
}
END_TEST

#define SLOT(num) (PHYS_ROM_BASE + ROM_SLOT_BASE + (num) * ROM_SLOT_SIZE)

START_TEST(test_get_interrupt_mask_is_logged_with_the_eflags_it_returned)
{
    const vm_event *ev = tu_event(&m.log, only_call(31));
    ck_assert_uint_eq(ev->result, result(1));
    ck_assert_uint_eq(ev->result & 2, 2); /* EFLAGS bit 1 is always set */
    ck_assert_uint_eq(ev->eip, result(3));
    ck_assert_uint_eq(ev->insns, 3); /* pushfd, pop eax, ret */
    size_t i = seen_index(31);
    ck_assert_uint_eq(seen_eax[i], 0x11111111); /* logged at its entry: EAX before the call */
    ck_assert_uint_eq(seen_eip[i], SLOT(31));
}
END_TEST

/* The interrupt-flag calls logged at their entry (a plain run) and after their slots returned
 * (snapshots after every instruction leave no slot whole) are the same events, in the same
 * order; so is the rest of the log. */
static vm_event *irqflag_run(bool every_insn, size_t *n, uint32_t *eip_at_log)
{
    nseen = 0;
    vm_error err = {0};
    ck_assert(tu_load_snippet(&m, "rom_irqflags"));
    m.log.observer = observe;
    m.log.observer_ctx = &m;
    if (every_insn) {
        snap_disable(&m);
        ck_assert_msg(snap_enable(&m, 1, &err), "%s", err.msg);
    }
    ck_assert_int_eq(machine_run(&m), END_HALTED);
    ck_assert_uint_eq(phys_read32(&m.mem, RESULT + 16), 0x600d);
    ck_assert_uint_eq(result(0) & 0x200, 0x200);
    ck_assert_uint_eq(result(1) & 0x200, 0);
    *n = evlog_count(&m.log);
    vm_event *evs = calloc(*n, sizeof *evs);
    ck_assert_ptr_nonnull(evs);
    for (size_t i = 0; i < *n; i++)
        evs[i] = *tu_event(&m.log, i);
    ck_assert_uint_eq(nseen, 18);
    for (size_t i = 0; i < nseen; i++)
        eip_at_log[i] = seen_eip[i];
    ck_assert_uint_eq(m.rom.npending, 0);
    /* The plain run takes the short way (machine_rom_tagged_call) once the CPU's state is bound
     * (the first pushfd); snapshots after every instruction never let it. */
    if (every_insn)
        ck_assert_uint_eq(m.flag_calls_short, 0);
    else
        ck_assert_uint_gt(m.flag_calls_short, 0);
    machine_free(&m);
    return evs;
}

START_TEST(test_interrupt_flag_calls_log_the_same_events_at_their_entry_and_after_their_return)
{
    size_t fast_n, slow_n;
    uint32_t fast_eip[64], slow_eip[64];
    vm_event *fast = irqflag_run(false, &fast_n, fast_eip);
    vm_event *slow = irqflag_run(true, &slow_n, slow_eip);
    ck_assert_uint_eq(fast_n, slow_n);
    size_t calls = 0;
    for (size_t i = 0; i < fast_n; i++) {
        ck_assert_msg(memcmp(&fast[i], &slow[i], sizeof fast[i]) == 0, "event %zu differs", i);
        if (fast[i].kind != EV_VMI_CALL)
            continue;
        /* The plain run logged each at its slot, the other after the return to its caller. */
        ck_assert_uint_eq(fast_eip[calls], SLOT(fast[i].num));
        ck_assert_uint_eq(slow_eip[calls], fast[i].eip + CALL_SIZE);
        ck_assert_uint_eq(fast[i].insns, fast[i].num == 31 || fast[i].num == 32 ? 3 : 2);
        calls++;
    }
    ck_assert_uint_eq(calls, 18);
    free(fast);
    free(slow);
}
END_TEST

START_TEST(test_a_call_faulting_in_its_slot_is_logged_once_as_failed_before_the_exception)
{
    size_t i = only_call(4);
    const vm_event *ev = tu_event(&m.log, i);
    ck_assert(ev->failed);
    ck_assert_uint_eq(ev->args[0], 0x1234);
    const vm_event *next = tu_event(&m.log, i + 1);
    ck_assert_uint_eq(next->kind, EV_EXCEPTION);
    ck_assert_uint_eq(next->num, 13);
    ck_assert_uint_eq(result(5), PHYS_ROM_BASE + ROM_SLOT_BASE + 4 * ROM_SLOT_SIZE); /* lldt in the slot */
}
END_TEST

START_TEST(test_no_native_call_is_left_in_flight)
{
    ck_assert_uint_eq(m.rom.npending, 0);
}
END_TEST

static void setup_nested(void)
{
    nseen = 0;
    ck_assert(tu_load_snippet(&m, "rom_native_nested"));
    ck_assert_int_eq(machine_run(&m), END_HALTED);
    ck_assert_uint_eq(phys_read32(&m.mem, RESULT + 16), 0x600d);
    ck_assert_uint_eq(result(3), 1); /* the #DB came inside the slot, once */
}

START_TEST(test_a_native_call_made_while_another_is_in_its_slot_completes_each_at_its_own_return)
{
    size_t outer = only_call(31), inner = only_call(19);
    ck_assert_uint_lt(inner, outer); /* GetCR0 returned first */
    const vm_event *ev = tu_event(&m.log, outer);
    ck_assert(!ev->failed); /* the #DB trap inside the slot is not a fault of the call */
    ck_assert_uint_eq(ev->result, result(0));
    ck_assert_uint_eq(ev->result & 0x100, 0x100); /* pushfd saw TF */
    ck_assert_uint_eq(ev->eip, result(2));
    ck_assert_uint_eq(tu_event(&m.log, inner)->result, result(1));
    ck_assert_uint_eq(m.rom.npending, 0);
}
END_TEST

START_TEST(test_going_back_into_a_native_slot_logs_the_call_once_going_forward)
{
    size_t i = only_call(31), logged = evlog_count(&m.log);
    uint64_t entry = tu_event(&m.log, i)->icount, done = ev_logged_at(tu_event(&m.log, i)); /* after pushfd, pop eax, ret */
    vm_error err = {0};
    ck_assert_msg(snap_goto(&m, done - 1, &err), "%s", err.msg); /* before the slot's ret */
    ck_assert_uint_eq(m.rom.npending, 1);
    ck_assert_uint_eq(evlog_count(&m.log), i); /* the call is not in the log yet */
    ck_assert_int_eq(machine_run(&m), END_HALTED);
    ck_assert_uint_eq(evlog_count(&m.log), logged);
    const vm_event *ev = tu_event(&m.log, only_call(31));
    ck_assert_uint_eq(ev->icount, entry);
    ck_assert_uint_eq(ev_logged_at(ev), done);
    ck_assert_uint_eq(ev->result, result(1));
}
END_TEST

/* The guest arms an execution breakpoint in GetInterruptMask's slot with its own mov to DR7,
 * after two calls were logged at their entry with DR7 read clear (vcpu_slot_runs_whole keeps
 * that answer until a debug register is written, cpu/regs_direct.c): the third call is logged
 * after its return, its #DB handler's instructions counted in its insns; the fourth, DR7 clear
 * again, at its entry; then DR7 armed and cleared through SetDR, a host write: the fifth logged
 * after its return, the sixth at its entry (tests/guest/rom_irqflags_dr7.asm). */
START_TEST(test_a_breakpoint_the_guest_arms_in_a_slot_keeps_the_call_from_its_entry)
{
    nseen = 0;
    ck_assert(tu_load_snippet(&m, "rom_irqflags_dr7"));
    m.log.observer = observe;
    m.log.observer_ctx = &m;
    ck_assert_int_eq(machine_run(&m), END_HALTED);
    ck_assert_uint_eq(result(4), 0x600d);
    ck_assert_uint_eq(result(0), 1);          /* one #DB (a DR7 written through the register API arms no
                                               * breakpoint of Unicorn's own: the slot runs whole) */
    ck_assert_uint_eq(result(1) & 1, 1);      /* B0 */
    ck_assert_uint_eq(nseen, 8);
    size_t call = 0, k = 0; /* GetInterruptMask calls; all calls (seen_eip's index) */
    for (size_t i = 0; i < evlog_count(&m.log); i++) {
        const vm_event *ev = tu_event(&m.log, i);
        if (ev->kind != EV_VMI_CALL || k++ >= nseen || ev->num == 24) /* SetDR */
            continue;
        ck_assert_uint_eq(ev->num, 31);
        if (call == 2 || call == 4) {
            ck_assert_uint_ne(seen_eip[k - 1], SLOT(31)); /* after its return */
            if (call == 2)
                ck_assert_uint_gt(ev->insns, 3); /* the handler ran inside the slot */
        } else {
            ck_assert_uint_eq(seen_eip[k - 1], SLOT(31)); /* at its entry */
            ck_assert_uint_eq(ev->insns, 3);
        }
        call++;
    }
    ck_assert_uint_eq(call, 6);
}
END_TEST

static Suite *rom_native_suite(void)
{
    Suite *s = suite_create("rom_native");
    TCase *tc = tcase_create("log");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_get_cr0_is_logged_with_the_cr0_it_returned_and_its_caller);
    tcase_add_test(tc, test_get_cr0_is_observed_with_the_registers_after_its_return);
    tcase_add_test(tc, test_get_interrupt_mask_is_logged_with_the_eflags_it_returned);
    tcase_add_test(tc, test_a_call_faulting_in_its_slot_is_logged_once_as_failed_before_the_exception);
    tcase_add_test(tc, test_no_native_call_is_left_in_flight);
    suite_add_tcase(s, tc);
    TCase *irq = tcase_create("irqflags");
    tcase_set_timeout(irq, 120);
    tcase_add_test(irq, test_interrupt_flag_calls_log_the_same_events_at_their_entry_and_after_their_return);
    suite_add_tcase(s, irq);
    TCase *dr = tcase_create("irqflags_dr7");
    tcase_add_checked_fixture(dr, NULL, teardown);
    tcase_set_timeout(dr, 60);
    tcase_add_test(dr, test_a_breakpoint_the_guest_arms_in_a_slot_keeps_the_call_from_its_entry);
    suite_add_tcase(s, dr);
    TCase *nested = tcase_create("nested");
    tcase_add_checked_fixture(nested, setup_nested, teardown);
    tcase_set_timeout(nested, 60);
    tcase_add_test(nested, test_a_native_call_made_while_another_is_in_its_slot_completes_each_at_its_own_return);
    suite_add_tcase(s, nested);
    TCase *tt = tcase_create("timetravel");
    tcase_add_checked_fixture(tt, setup_every_insn, teardown);
    tcase_set_timeout(tt, 60);
    tcase_add_test(tt, test_going_back_into_a_native_slot_logs_the_call_once_going_forward);
    suite_add_tcase(s, tt);
    return s;
}

SUITE_MAIN(rom_native_suite)

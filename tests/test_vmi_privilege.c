/* VMI calls from ring 3 (tests/guest/vmi_ring3.asm): a host call that stands for a privileged
 * instruction, or changes what only the kernel may change, is refused with #GP(0) at its ROM
 * entry, logged, and the machine keeps running; queries user code can make natively work, and
 * the clock and counter queries follow CR4.TSD and CR4.PCE as rdtsc and rdpmc do. */
#include <check.h>
#include <string.h>

#include "rom/rom.h"
#include "support/suite_main.h"
#include "support/testutil.h"

#define RESULT 0x5000u
#define OUT (RESULT + 0x40u)
#define FAULTS (RESULT + 0x100u)
#define ROM_ENTRY(n) (PHYS_ROM_BASE + ROM_SLOT_BASE + (n) * ROM_SLOT_SIZE)

/* The calls ring 3 makes in phase 1 (CR4.TSD and PCE clear, IOPL 0), each of which must fault. */
static const uint32_t phase1_refused[] = {
    PHYS_ROM_BASE + ROM_INIT_OFFSET, ROM_ENTRY(11), ROM_ENTRY(12), ROM_ENTRY(13), ROM_ENTRY(14), ROM_ENTRY(24),
    ROM_ENTRY(25), ROM_ENTRY(26), ROM_ENTRY(35), ROM_ENTRY(36), ROM_ENTRY(37), ROM_ENTRY(40), ROM_ENTRY(41),
    ROM_ENTRY(42), ROM_ENTRY(43), ROM_ENTRY(44), ROM_ENTRY(45), ROM_ENTRY(48), ROM_ENTRY(62), ROM_ENTRY(63),
    ROM_ENTRY(64), ROM_ENTRY(65), ROM_ENTRY(68), ROM_ENTRY(69), ROM_ENTRY(73),
    ROM_ENTRY(50), ROM_ENTRY(27) + 1, /* no call there: refused too, not the end of the machine */
};
#define N_STRAY 2 /* the last two of phase 1: logged as guest errors */
/* Phase 2 (CR4.TSD and PCE set, IOPL 3): the clock queries fault. */
static const uint32_t phase2_refused[] = {ROM_ENTRY(27), ROM_ENTRY(67), ROM_ENTRY(70)};
#define N1 (sizeof phase1_refused / sizeof phase1_refused[0])
#define N2 (sizeof phase2_refused / sizeof phase2_refused[0])

static machine m;
static machine_end end;

static void setup(void) { end = tu_run_snippet(&m, "vmi_ring3"); }
static void teardown(void) { machine_free(&m); }

static uint32_t at(uint32_t addr) { return phys_read32(&m.mem, addr); }

/* The k-th #GP the guest's handler saw: error code, EIP, CS. */
static uint32_t fault_field(size_t k, int field) { return at(FAULTS + 16u * (uint32_t)k + 4u * (uint32_t)field); }

START_TEST(test_ring3_survives_every_refused_call_and_runs_to_its_end)
{
    ck_assert_msg(end == END_EXIT_PORT, "ended %s: %s", machine_end_name(end), m.end_message);
    ck_assert_uint_eq(m.exit_value, 0); /* written by the kernel after both phases */
    ck_assert_uint_eq(m.reboots, 0);
    ck_assert(!m.rom.initialized);      /* Init from ring 3 did nothing */
    ck_assert(!m.halt_requested);
}
END_TEST

START_TEST(test_each_privileged_host_call_from_ring3_raises_gp0_at_its_rom_entry)
{
    ck_assert_uint_eq(at(RESULT), N1 + N2);
    for (size_t k = 0; k < N1 + N2; k++) {
        uint32_t want = k < N1 ? phase1_refused[k] : phase2_refused[k - N1];
        ck_assert_msg(fault_field(k, 1) == want, "fault %zu at 0x%x, want the entry 0x%x", k, fault_field(k, 1), want);
        ck_assert_uint_eq(fault_field(k, 0), 0); /* #GP(0) */
        ck_assert_uint_eq(fault_field(k, 2), 0x1B); /* raised from ring 3 */
    }
}
END_TEST

START_TEST(test_each_refused_call_is_logged_as_a_failed_call_and_a_gp)
{
    size_t k = 0;
    for (size_t i = 0; i < evlog_count(&m.log); i++) {
        const vm_event *ev = tu_event(&m.log, i);
        if (ev->kind != EV_EXCEPTION || ev->num != 13) /* the int 0x80 system calls are logged too */
            continue;
        ck_assert_uint_lt(k, N1 + N2);
        ck_assert_uint_eq(ev->eip, k < N1 ? phase1_refused[k] : phase2_refused[k - N1]);
        ck_assert_uint_gt(i, 0);
        const vm_event *call = tu_event(&m.log, i - 1); /* the refused call comes just before */
        bool stray = k >= N1 - N_STRAY && k < N1;
        ck_assert_int_eq(call->kind, stray ? EV_GUEST_ERROR : EV_VMI_CALL);
        ck_assert(stray || call->failed);
        ck_assert_uint_eq(call->icount, ev->icount); /* nothing retired in between */
        k++;
    }
    ck_assert_uint_eq(k, N1 + N2);
}
END_TEST

START_TEST(test_refused_calls_change_nothing)
{
    ck_assert(!m.alarms.a[0].armed && !m.alarms.a[1].armed);
    ck_assert_uint_eq(m.rom.pt_count, 0);
    ck_assert_uint_eq(m.rom.lazy_mode, 0);
    ck_assert(!m.rom.ap_state_set);
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_DR7) & 0xFF, 0);
}
END_TEST

START_TEST(test_queries_user_code_can_make_natively_work_from_ring3)
{
    ck_assert_uint_eq(at(OUT + 0), 0x000006E8); /* CPUID(1) */
    ck_assert_uint_eq(at(OUT + 4), ROM_ENTRY(27)); /* GetRelocationInfo(RDTSC) */
    ck_assert_uint_eq(at(OUT + 8) & 0xFF, ROM_RELOC_CALL_REL);
    ck_assert_uint_ne(at(OUT + 12), 0); /* RDTSC with CR4.TSD clear */
    ck_assert_uint_eq(at(OUT + 16), MACHINE_DEFAULT_MHZ * 1000000u); /* GetCycleFrequency */
    ck_assert_uint_ne(at(OUT + 20), 0); /* GetCycleCounter */
    ck_assert_uint_ne(at(OUT + 24), 0); /* GetWallclockTime (high half) */
    ck_assert_uint_eq(at(OUT + 28), 0); /* WallclockUpdated */
}
END_TEST

START_TEST(test_rdpmc_with_cr4_pce_and_iodelay_with_iopl3_work_from_ring3)
{
    ck_assert_uint_eq(at(OUT + 32), 0); /* RDPMC answered 0, no fault */
    ck_assert_uint_eq(at(OUT + 36), MACHINE_DEFAULT_MHZ * 1000000u); /* still a query anyone may make */
    size_t done = 0, refused = 0; /* IODelay: at ring 0, at ring 3 with IOPL 0, with IOPL 3 */
    for (size_t i = 0; i < evlog_count(&m.log); i++) {
        const vm_event *ev = tu_event(&m.log, i);
        if (ev->kind == EV_VMI_CALL && ev->num == 65)
            *(ev->failed ? &refused : &done) += 1;
    }
    ck_assert_uint_eq(done, 2);
    ck_assert_uint_eq(refused, 1);
}
END_TEST

START_TEST(test_the_same_calls_from_ring0_are_performed)
{
    ck_assert_uint_eq(at(OUT + 44), 0x400); /* GetDR(7): DR7's reset value */
    ck_assert_uint_ne(at(OUT + 48), 0);     /* APICRead(version) */
    static const uint16_t ring0_calls[] = {25, 64, 65, 73, 73};
    size_t k = 0;
    for (size_t i = 0; i < evlog_count(&m.log) && k < sizeof ring0_calls / sizeof ring0_calls[0]; i++) {
        const vm_event *ev = tu_event(&m.log, i);
        if (ev->kind != EV_VMI_CALL)
            continue;
        ck_assert_uint_eq(ev->num, ring0_calls[k++]);
        ck_assert(!ev->failed);
    }
    ck_assert_uint_eq(k, sizeof ring0_calls / sizeof ring0_calls[0]);
}
END_TEST

START_TEST(test_every_host_call_names_its_privilege_and_every_native_call_leaves_it_to_the_cpu)
{
    for (uint32_t n = 0; n < ROM_NUM_CALLS; n++) {
        const rom_call *c = rom_call_find(n);
        if (!c)
            continue;
        ck_assert_msg((c->native_code != NULL) == (c->priv == ROM_PRIV_NATIVE), "%s: privilege %d", c->name, c->priv);
    }
    ck_assert_int_eq(rom_entry_init.priv, ROM_PRIV_KERNEL);
    ck_assert_int_eq(rom_entry_reloc.priv, ROM_PRIV_ANY);
}
END_TEST

static Suite *privilege_suite(void)
{
    Suite *s = suite_create("vmi_privilege");
    TCase *tc = tcase_create("ring3");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_ring3_survives_every_refused_call_and_runs_to_its_end);
    tcase_add_test(tc, test_each_privileged_host_call_from_ring3_raises_gp0_at_its_rom_entry);
    tcase_add_test(tc, test_each_refused_call_is_logged_as_a_failed_call_and_a_gp);
    tcase_add_test(tc, test_refused_calls_change_nothing);
    tcase_add_test(tc, test_queries_user_code_can_make_natively_work_from_ring3);
    tcase_add_test(tc, test_rdpmc_with_cr4_pce_and_iodelay_with_iopl3_work_from_ring3);
    tcase_add_test(tc, test_the_same_calls_from_ring0_are_performed);
    tcase_add_test(tc, test_every_host_call_names_its_privilege_and_every_native_call_leaves_it_to_the_cpu);
    suite_add_tcase(s, tc);
    return s;
}

SUITE_MAIN(privilege_suite)

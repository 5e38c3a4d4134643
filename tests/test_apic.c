/* The local APIC register file, priorities and timer, by register offset as VMI's
 * APICRead/APICWrite reach them. Timer expectations: one count every `divisor` cycles from
 * the cycle the initial count is written. */
#include <check.h>

#include "emu/apic.h"
#include "support/suite_main.h"

static apic A;
static uint64_t clock_now;

static uint32_t rd(uint32_t offset)
{
    uint32_t v = 0xDEADBEEF;
    ck_assert_msg(apic_read(&A, clock_now, offset, &v), "read of 0x%x refused", offset);
    return v;
}

static void wr(uint32_t offset, uint32_t value)
{
    ck_assert_int_eq(apic_write(&A, clock_now, offset, value), APIC_OK);
}

static void wr_at(uint64_t cycle, uint32_t offset, uint32_t value)
{
    clock_now = cycle;
    wr(offset, value);
}

static bool irr_has(int v) { return rd(APIC_IRR + 0x10u * (unsigned)(v / 32)) & (1u << (v % 32)); }

static bool isr_has(int v) { return rd(APIC_ISR + 0x10u * (unsigned)(v / 32)) & (1u << (v % 32)); }

/* Reset, then software-enabled with spurious vector 0xFF, as Linux sets it up. */
static void setup(void)
{
    clock_now = 0;
    apic_init(&A, 0, 1000000000ull);
    wr(APIC_SVR, 0x1FF);
}

START_TEST(test_reset_state_matches_the_sdm)
{
    apic_init(&A, 3, 1000000000ull);
    ck_assert_uint_eq(rd(APIC_ID), 0x03000000);
    ck_assert_uint_eq(rd(APIC_LVR), 0x00050014);
    ck_assert_uint_eq(rd(APIC_SVR), 0xFF);
    ck_assert_uint_eq(rd(APIC_DFR), 0xFFFFFFFF);
    ck_assert_uint_eq(rd(APIC_TPR), 0);
    for (uint32_t off = APIC_LVT_TIMER; off <= APIC_LVT_ERROR; off += 0x10)
        ck_assert_uint_eq(rd(off), 0x10000);
    ck_assert_uint_eq(rd(APIC_TIMER_INITIAL), 0);
    ck_assert_uint_eq(rd(APIC_TIMER_CURRENT), 0);
    ck_assert_uint_eq(apic_next_event(&A), UINT64_MAX);
}
END_TEST

START_TEST(test_writes_keep_only_the_writable_bits)
{
    static const struct { uint32_t offset, reads; } cases[] = {
        {APIC_ID, 0xFF000000}, {APIC_TPR, 0xFF}, {APIC_LDR, 0xFF000000}, {APIC_SVR, 0x3FF},
        {APIC_ICR_HI, 0xFF000000}, {APIC_LVT_TIMER, 0x300FF}, {APIC_LVT_THERMAL, 0x107FF},
        {APIC_LVT_PERF, 0x107FF}, {APIC_LVT_LINT0, 0x1A7FF}, {APIC_LVT_LINT1, 0x1A7FF},
        {APIC_LVT_ERROR, 0x100FF}, {APIC_TIMER_DIVIDE, 0xB},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        wr(cases[i].offset, 0xFFFFFFFF);
        ck_assert_uint_eq(rd(cases[i].offset), cases[i].reads);
    }
    wr(APIC_DFR, 0);
    ck_assert_uint_eq(rd(APIC_DFR), 0x0FFFFFFF);
}
END_TEST

START_TEST(test_read_only_registers_ignore_writes)
{
    apic_accept(&A, 0x40);
    apic_acknowledge(&A);
    apic_accept(&A, 0x30);
    static const uint32_t ro[] = {APIC_LVR, APIC_APR, APIC_PPR, APIC_RRD, APIC_ISR + 0x20, APIC_TMR,
                                  APIC_IRR + 0x10, APIC_TIMER_CURRENT};
    for (size_t i = 0; i < sizeof ro / sizeof ro[0]; i++)
        wr(ro[i], 0xFFFFFFFF);
    ck_assert_uint_eq(rd(APIC_LVR), 0x00050014);
    ck_assert_uint_eq(rd(APIC_APR), 0);
    ck_assert_uint_eq(rd(APIC_PPR), 0x40);
    ck_assert_uint_eq(rd(APIC_ISR + 0x20), 1u << 0);
    ck_assert_uint_eq(rd(APIC_TMR), 0);
    ck_assert_uint_eq(rd(APIC_IRR + 0x10), 1u << 16);
    ck_assert_uint_eq(rd(APIC_TIMER_CURRENT), 0);
}
END_TEST

START_TEST(test_invalid_and_unaligned_offsets_are_rejected)
{
    static const uint32_t bad[] = {0x00, 0x10, 0x40, 0x70, 0x290, 0x2F0, 0x3A0, 0x3D0, 0x3F0, 0x400,
                                   0xFFFFFFF0, 0x84, 0x322, 0x3E4};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint32_t v = 0x1234;
        ck_assert_msg(!apic_read(&A, clock_now, bad[i], &v), "read of 0x%x accepted", bad[i]);
        ck_assert_uint_eq(v, 0x1234);
        ck_assert_int_eq(apic_write(&A, clock_now, bad[i], 0), APIC_BAD_REGISTER);
    }
    wr(APIC_ESR, 0);
    ck_assert_uint_eq(rd(APIC_ESR), APIC_ESR_ILLEGAL_REGISTER);
}
END_TEST

START_TEST(test_accepted_vector_moves_from_irr_to_isr_on_acknowledge)
{
    apic_accept(&A, 0x31);
    ck_assert(irr_has(0x31));
    ck_assert_int_eq(apic_pending_vector(&A), 0x31);
    ck_assert_int_eq(apic_acknowledge(&A), 0x31);
    ck_assert(!irr_has(0x31));
    ck_assert(isr_has(0x31));
    ck_assert_int_eq(apic_pending_vector(&A), -1);
    ck_assert_int_eq(apic_acknowledge(&A), -1);
}
END_TEST

START_TEST(test_highest_vector_is_delivered_first)
{
    apic_accept(&A, 0x31);
    apic_accept(&A, 0xEF);
    apic_accept(&A, 0x80);
    ck_assert_int_eq(apic_acknowledge(&A), 0xEF);
    wr(APIC_EOI, 0);
    ck_assert_int_eq(apic_acknowledge(&A), 0x80);
    wr(APIC_EOI, 0);
    ck_assert_int_eq(apic_acknowledge(&A), 0x31);
}
END_TEST

START_TEST(test_eoi_clears_the_highest_isr_bit)
{
    apic_accept(&A, 0x41);
    apic_acknowledge(&A);
    apic_accept(&A, 0x61);
    apic_acknowledge(&A); /* nests: higher class */
    wr(APIC_EOI, 0);
    ck_assert(!isr_has(0x61));
    ck_assert(isr_has(0x41));
    wr(APIC_EOI, 0);
    ck_assert(!isr_has(0x41));
    wr(APIC_EOI, 0); /* nothing in service: harmless */
}
END_TEST

START_TEST(test_in_service_class_blocks_equal_and_lower_classes)
{
    apic_accept(&A, 0x45);
    apic_acknowledge(&A);
    apic_accept(&A, 0x4A);
    apic_accept(&A, 0x3F);
    ck_assert_int_eq(apic_pending_vector(&A), -1);
    apic_accept(&A, 0x50);
    ck_assert_int_eq(apic_pending_vector(&A), 0x50);
    apic_acknowledge(&A);
    wr(APIC_EOI, 0);
    wr(APIC_EOI, 0);
    ck_assert_int_eq(apic_pending_vector(&A), 0x4A);
}
END_TEST

START_TEST(test_tpr_blocks_lower_and_equal_classes)
{
    wr(APIC_TPR, 0x5F);
    apic_accept(&A, 0x55);
    ck_assert_int_eq(apic_pending_vector(&A), -1);
    ck_assert_uint_eq(rd(APIC_PPR), 0x5F);
    apic_accept(&A, 0x61);
    ck_assert_int_eq(apic_acknowledge(&A), 0x61);
    ck_assert_uint_eq(rd(APIC_PPR), 0x60); /* the in-service class is above TPR's */
    wr(APIC_EOI, 0);
    wr(APIC_TPR, 0);
    ck_assert_int_eq(apic_pending_vector(&A), 0x55);
}
END_TEST

START_TEST(test_software_disabled_apic_delivers_nothing_and_masks_its_lvts)
{
    wr(APIC_LVT_TIMER, 0xEF);
    apic_accept(&A, 0x70);
    wr(APIC_SVR, 0x0FF);
    ck_assert_int_eq(apic_pending_vector(&A), -1);
    ck_assert_uint_eq(rd(APIC_LVT_TIMER), 0x100EF);
    wr(APIC_LVT_TIMER, 0xEF); /* unmasking is refused while disabled */
    ck_assert_uint_eq(rd(APIC_LVT_TIMER), 0x100EF);
    ck_assert(apic_timer_masked(&A));
    apic_accept(&A, 0x90); /* dropped */
    wr(APIC_SVR, 0x1FF);
    ck_assert_uint_eq(rd(APIC_LVT_TIMER), 0x100EF); /* enabling does not unmask */
    ck_assert_int_eq(apic_pending_vector(&A), 0x70);
    ck_assert(!irr_has(0x90));
}
END_TEST

START_TEST(test_illegal_vector_sets_esr_after_the_esr_write)
{
    apic_accept(&A, 5);
    ck_assert_int_eq(apic_pending_vector(&A), -1);
    ck_assert_uint_eq(rd(APIC_IRR), 0);
    ck_assert_uint_eq(rd(APIC_ESR), 0); /* not visible until ESR is written */
    wr(APIC_ESR, 0);
    ck_assert_uint_eq(rd(APIC_ESR), APIC_ESR_RECEIVE_ILLEGAL_VECTOR);
    wr(APIC_ESR, 0);
    ck_assert_uint_eq(rd(APIC_ESR), 0);
}
END_TEST

START_TEST(test_unmasked_error_lvt_raises_its_vector)
{
    wr(APIC_LVT_ERROR, 0xFE);
    apic_accept(&A, 15);
    ck_assert_int_eq(apic_pending_vector(&A), 0xFE);
}
END_TEST

/* Divide configuration values and their divisors, from the SDM's table. */
static const struct { uint32_t config, divisor; } divides[] = {
    {0x0, 2}, {0x1, 4}, {0x2, 8}, {0x3, 16}, {0x8, 32}, {0x9, 64}, {0xA, 128}, {0xB, 1},
};

START_TEST(test_one_shot_timer_expires_after_count_times_divisor_for_every_divide)
{
    for (size_t i = 0; i < sizeof divides / sizeof divides[0]; i++) {
        setup();
        wr(APIC_LVT_TIMER, 0xEC);
        wr(APIC_TIMER_DIVIDE, divides[i].config);
        wr_at(1000, APIC_TIMER_INITIAL, 100);
        uint64_t expiry = 1000 + 100 * divides[i].divisor;
        ck_assert_uint_eq(apic_next_event(&A), expiry);
        apic_advance(&A, expiry - 1);
        ck_assert(!irr_has(0xEC));
        clock_now = expiry - 1;
        ck_assert_uint_eq(rd(APIC_TIMER_CURRENT), 1);
        apic_advance(&A, expiry);
        ck_assert(irr_has(0xEC));
        ck_assert_uint_eq(apic_next_event(&A), UINT64_MAX);
        clock_now = expiry;
        ck_assert_uint_eq(rd(APIC_TIMER_CURRENT), 0);
    }
}
END_TEST

START_TEST(test_periodic_timer_expires_every_period_for_every_divide)
{
    for (size_t i = 0; i < sizeof divides / sizeof divides[0]; i++) {
        setup();
        wr(APIC_LVT_TIMER, APIC_TIMER_PERIODIC | 0xEC);
        wr(APIC_TIMER_DIVIDE, divides[i].config);
        wr_at(7, APIC_TIMER_INITIAL, 50);
        uint64_t period = 50 * divides[i].divisor;
        for (uint64_t k = 1; k <= 4; k++) {
            ck_assert_uint_eq(apic_next_event(&A), 7 + k * period);
            apic_advance(&A, 7 + k * period);
            ck_assert_int_eq(apic_acknowledge(&A), 0xEC);
            wr(APIC_EOI, 0);
        }
        clock_now = 7 + 4 * period + 10 * divides[i].divisor;
        ck_assert_uint_eq(rd(APIC_TIMER_CURRENT), 40);
    }
}
END_TEST

START_TEST(test_current_count_drops_once_per_divisor_cycles)
{
    wr(APIC_TIMER_DIVIDE, 0x1); /* divide by 4 */
    wr_at(0, APIC_TIMER_INITIAL, 1000);
    clock_now = 3;
    ck_assert_uint_eq(rd(APIC_TIMER_CURRENT), 1000);
    clock_now = 4;
    ck_assert_uint_eq(rd(APIC_TIMER_CURRENT), 999);
    clock_now = 3999;
    ck_assert_uint_eq(rd(APIC_TIMER_CURRENT), 1);
    clock_now = 4000;
    ck_assert_uint_eq(rd(APIC_TIMER_CURRENT), 0);
    ck_assert_uint_eq(rd(APIC_TIMER_INITIAL), 1000);
}
END_TEST

START_TEST(test_masked_periodic_timer_reloads_without_interrupting)
{
    wr(APIC_LVT_TIMER, APIC_LVT_MASKED | APIC_TIMER_PERIODIC | 0xEC);
    wr(APIC_TIMER_DIVIDE, 0xB);
    wr_at(0, APIC_TIMER_INITIAL, 100);
    apic_advance(&A, 100);
    ck_assert(!irr_has(0xEC));
    ck_assert_uint_eq(apic_next_event(&A), 200);
    wr_at(150, APIC_LVT_TIMER, APIC_TIMER_PERIODIC | 0xEC);
    apic_advance(&A, 200);
    ck_assert(irr_has(0xEC));
}
END_TEST

START_TEST(test_late_advance_collapses_periodic_expiries)
{
    wr(APIC_LVT_TIMER, APIC_TIMER_PERIODIC | 0xEC);
    wr(APIC_TIMER_DIVIDE, 0xB);
    wr_at(0, APIC_TIMER_INITIAL, 10);
    apic_advance(&A, 95);
    ck_assert_int_eq(apic_acknowledge(&A), 0xEC);
    ck_assert_int_eq(apic_acknowledge(&A), -1);
    ck_assert_uint_eq(apic_next_event(&A), 100);
}
END_TEST

START_TEST(test_zero_initial_count_stops_the_timer)
{
    wr(APIC_LVT_TIMER, APIC_TIMER_PERIODIC | 0xEC);
    wr_at(0, APIC_TIMER_INITIAL, 10);
    wr_at(5, APIC_TIMER_INITIAL, 0);
    ck_assert_uint_eq(apic_next_event(&A), UINT64_MAX);
    clock_now = 1000;
    ck_assert_uint_eq(rd(APIC_TIMER_CURRENT), 0);
}
END_TEST

START_TEST(test_divide_change_mid_count_keeps_the_counts_made)
{
    wr(APIC_LVT_TIMER, 0xEC);
    wr(APIC_TIMER_DIVIDE, 0x0); /* by 2 */
    wr_at(0, APIC_TIMER_INITIAL, 100);
    wr_at(51, APIC_TIMER_DIVIDE, 0xB); /* 25 counts made (at cycle 50); 75 left, now by 1 */
    ck_assert_uint_eq(rd(APIC_TIMER_CURRENT), 74);
    ck_assert_uint_eq(apic_next_event(&A), 125);
}
END_TEST

START_TEST(test_periodic_switched_to_one_shot_stops_after_the_next_expiry)
{
    wr(APIC_LVT_TIMER, APIC_TIMER_PERIODIC | 0xEC);
    wr(APIC_TIMER_DIVIDE, 0xB);
    wr_at(0, APIC_TIMER_INITIAL, 10);
    wr_at(15, APIC_LVT_TIMER, 0xEC); /* expiry at 10 is delivered first */
    ck_assert(irr_has(0xEC));
    ck_assert_uint_eq(apic_next_event(&A), 20);
    apic_advance(&A, 20);
    ck_assert_uint_eq(apic_next_event(&A), UINT64_MAX);
}
END_TEST

START_TEST(test_timer_vector_and_mask_come_from_the_lvt)
{
    ck_assert(apic_timer_masked(&A));
    wr(APIC_LVT_TIMER, 0xEF);
    ck_assert_uint_eq(apic_timer_vector(&A), 0xEF);
    ck_assert(!apic_timer_masked(&A));
    wr(APIC_LVT_TIMER, APIC_LVT_MASKED | 0xEF);
    ck_assert(apic_timer_masked(&A));
}
END_TEST

START_TEST(test_self_ipi_is_delivered_and_smi_is_unsupported)
{
    ck_assert_int_eq(apic_write(&A, clock_now, APIC_ICR_LO, 0x40000 | 0x55), APIC_OK);
    ck_assert(irr_has(0x55));
    ck_assert_int_eq(apic_write(&A, clock_now, APIC_ICR_LO, 0x40000 | 0x4200), APIC_IPI_UNSUPPORTED); /* SMI */
    ck_assert_uint_eq(rd(APIC_ICR_LO), 0x44200);
}
END_TEST

/* One CPU: an IPI reaches this APIC (self, all, its ID, the broadcast ID) or nobody. */
START_TEST(test_ipi_destinations_and_shorthands_decide_whether_it_arrives)
{
    static const struct {
        uint32_t hi, lo;
        bool arrives;
    } cases[] = {
        {0x00000000, 0x4061, true},            /* physical, ID 0: this APIC */
        {0xFF000000, 0x4062, true},            /* physical broadcast */
        {0x01000000, 0x4063, false},           /* physical, ID 1: nobody */
        {0x01000000, 0xC4064, false},          /* all excluding self */
        {0x01000000, 0x84065, true},           /* all including self */
        {0x01000000, 0x44066, true},           /* self, whatever the destination */
        {0x00000000, 0x4167, true},            /* lowest priority, ID 0 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        wr(APIC_ICR_HI, cases[i].hi);
        ck_assert_int_eq(apic_write(&A, clock_now, APIC_ICR_LO, cases[i].lo), APIC_OK);
        ck_assert_msg(irr_has((int)(cases[i].lo & 0xFF)) == cases[i].arrives, "case %zu", i);
    }
}
END_TEST

START_TEST(test_logical_ipi_matches_the_ldr_in_flat_and_cluster_models)
{
    wr(APIC_LDR, 0x02000000); /* flat: bit 1 */
    wr(APIC_ICR_HI, 0x03000000);
    wr(APIC_ICR_LO, 0x4800 | 0x71);
    ck_assert(irr_has(0x71));
    wr(APIC_ICR_HI, 0x04000000);
    wr(APIC_ICR_LO, 0x4800 | 0x72);
    ck_assert(!irr_has(0x72));
    wr(APIC_DFR, 0x0FFFFFFF); /* cluster: cluster 1, member bit 2 */
    wr(APIC_LDR, 0x12000000);
    wr(APIC_ICR_HI, 0x22000000);
    wr(APIC_ICR_LO, 0x4800 | 0x73);
    ck_assert(!irr_has(0x73)); /* another cluster */
    wr(APIC_ICR_HI, 0x13000000);
    wr(APIC_ICR_LO, 0x4800 | 0x74);
    ck_assert(irr_has(0x74));
}
END_TEST

START_TEST(test_nmi_ipi_makes_an_nmi_pending_instead_of_a_vector)
{
    ck_assert(!apic_nmi_pending(&A));
    wr(APIC_ICR_HI, 0);
    wr(APIC_ICR_LO, 0x4400);
    ck_assert(apic_nmi_pending(&A));
    ck_assert_int_eq(apic_pending_vector(&A), -1);
    apic_take_nmi(&A);
    ck_assert(!apic_nmi_pending(&A));
    wr(APIC_ICR_HI, 0x05000000); /* to another CPU: none */
    wr(APIC_ICR_LO, 0x4400);
    ck_assert(!apic_nmi_pending(&A));
}
END_TEST

START_TEST(test_init_and_startup_ipis_to_self_are_ignored)
{
    wr(APIC_TPR, 0x20);
    ck_assert_int_eq(apic_write(&A, clock_now, APIC_ICR_LO, 0x44500), APIC_OK); /* INIT, self */
    ck_assert_int_eq(apic_write(&A, clock_now, APIC_ICR_LO, 0x44608), APIC_OK); /* start-up, self */
    ck_assert_uint_eq(rd(APIC_TPR), 0x20); /* no reset */
    ck_assert_int_eq(apic_pending_vector(&A), -1);
    ck_assert(!apic_nmi_pending(&A));
}
END_TEST

START_TEST(test_fixed_ipi_with_a_vector_below_16_is_a_send_error)
{
    wr(APIC_ICR_LO, 0x44005);
    wr(APIC_ESR, 0);
    ck_assert_uint_eq(rd(APIC_ESR), 0x20 | APIC_ESR_RECEIVE_ILLEGAL_VECTOR);
}
END_TEST

/* IA32_APICBASE's global enable: clearing it hides the APIC (open-bus page, nothing delivered)
 * and brings it back in its reset state. */
START_TEST(test_global_disable_hides_the_apic_and_reenable_resets_it)
{
    wr(APIC_TPR, 0x30);
    apic_accept(&A, 0x80);
    ck_assert(apic_base_msr_write(&A, APIC_BASE_MSR_VALUE & ~(uint64_t)APIC_BASE_MSR_ENABLE));
    ck_assert(!apic_hw_enabled(&A));
    ck_assert_uint_eq(apic_base_msr(&A), 0xFEE00100u);
    uint32_t v;
    ck_assert(!apic_read(&A, clock_now, APIC_LVR, &v));
    ck_assert_int_eq(apic_write(&A, clock_now, APIC_SVR, 0x1FF), APIC_BAD_REGISTER);
    ck_assert_int_eq(apic_pending_vector(&A), -1);
    ck_assert(apic_base_msr_write(&A, APIC_BASE_MSR_VALUE));
    ck_assert(apic_hw_enabled(&A));
    ck_assert_uint_eq(rd(APIC_TPR), 0);
    ck_assert_uint_eq(rd(APIC_SVR), 0xFF);
    ck_assert(!irr_has(0x80));
}
END_TEST

/* --- x2APIC mode (emu/apic_x2apic.c) --- */

#define BASE_XAPIC 0xFEE00900ull
#define BASE_X2APIC 0xFEE00D00ull
#define BASE_DISABLED 0xFEE00100ull

static uint64_t msr_rd(uint32_t msr)
{
    uint64_t v = 0xDEADBEEF;
    ck_assert_msg(apic_x2apic_msr_read(&A, clock_now, msr, &v), "rdmsr 0x%x refused", msr);
    return v;
}

static void msr_wr(uint32_t msr, uint64_t value)
{
    ck_assert_int_eq(apic_x2apic_msr_write(&A, clock_now, msr, value), APIC_OK);
}

static bool msr_irr_has(int v) { return msr_rd(0x820u + (unsigned)(v / 32)) & (1u << (v % 32)); }

/* An APIC with initial ID `id` in x2APIC mode, software-enabled. */
static void enter_x2apic(uint32_t id)
{
    apic_init(&A, id, 1000000000ull);
    A.x2apic_ok = true;
    ck_assert(apic_base_msr_write(&A, BASE_X2APIC));
    msr_wr(0x80F, 0x1FF);
}

START_TEST(test_apicbase_transitions_follow_the_sdm)
{
    uint64_t v;
    ck_assert(!apic_base_msr_write(&A, BASE_X2APIC)); /* without x2apic_ok EXTD is reserved */
    A.x2apic_ok = true;
    ck_assert(!apic_x2apic_msr_read(&A, clock_now, 0x803, &v)); /* xAPIC mode: no MSRs */
    ck_assert(!apic_base_msr_write(&A, 0xFEE00500ull));         /* EXTD without EN */
    ck_assert(apic_base_msr_write(&A, BASE_X2APIC));            /* xAPIC -> x2APIC */
    ck_assert_uint_eq(apic_base_msr(&A), BASE_X2APIC);
    ck_assert(apic_x2apic_mode(&A));
    ck_assert(apic_base_msr_write(&A, BASE_X2APIC));            /* stays */
    ck_assert(!apic_base_msr_write(&A, BASE_XAPIC));            /* x2APIC -> xAPIC */
    ck_assert(apic_base_msr_write(&A, BASE_DISABLED));          /* x2APIC -> disabled */
    ck_assert(!apic_x2apic_mode(&A));
    ck_assert_uint_eq(apic_base_msr(&A), BASE_DISABLED);
    ck_assert(!apic_base_msr_write(&A, BASE_X2APIC));           /* disabled -> x2APIC */
    ck_assert(apic_base_msr_write(&A, BASE_XAPIC));             /* disabled -> xAPIC */
    ck_assert(A.x2apic_ok);                                     /* the reset keeps the model's feature */
    ck_assert_uint_eq(apic_base_msr(&A), BASE_XAPIC);
}
END_TEST

/* In x2APIC mode the page and VMI's offset interface are gone; the ID is the initial one, 32
 * bits and read-only, the LDR derived from it. A reset brings back the initial xAPIC ID. */
START_TEST(test_x2apic_id_and_ldr_come_from_the_initial_id)
{
    apic_init(&A, 0x23, 1000000000ull);
    A.x2apic_ok = true;
    wr(APIC_ID, 0x45000000);
    ck_assert(apic_base_msr_write(&A, BASE_X2APIC));
    uint32_t v;
    ck_assert(!apic_read(&A, clock_now, APIC_LVR, &v));
    ck_assert_int_eq(apic_write(&A, clock_now, APIC_SVR, 0x1FF), APIC_BAD_REGISTER);
    ck_assert_uint_eq(msr_rd(0x802), 0x23);
    ck_assert_uint_eq(msr_rd(0x80D), 0x00020008); /* cluster 2, bit 3 */
    ck_assert_int_eq(apic_x2apic_msr_write(&A, clock_now, 0x802, 0x24), APIC_BAD_REGISTER);
    ck_assert_int_eq(apic_x2apic_msr_write(&A, clock_now, 0x80D, 0x1), APIC_BAD_REGISTER);
    ck_assert(apic_base_msr_write(&A, BASE_DISABLED));
    ck_assert(apic_base_msr_write(&A, BASE_XAPIC));
    ck_assert_uint_eq(rd(APIC_ID), 0x23000000);
}
END_TEST

START_TEST(test_x2apic_msrs_refuse_absent_and_wrong_direction_registers)
{
    enter_x2apic(0);
    static const uint32_t no_read[] = {0x800, 0x801, 0x804, 0x807, 0x809, 0x80B, 0x80C, 0x80E,
                                       0x829, 0x82F, 0x831, 0x83A, 0x83D, 0x83F, 0x840, 0x8FF, 0x900};
    for (size_t i = 0; i < sizeof no_read / sizeof no_read[0]; i++) {
        uint64_t v;
        ck_assert_msg(!apic_x2apic_msr_read(&A, clock_now, no_read[i], &v), "rdmsr 0x%x", no_read[i]);
    }
    static const uint32_t no_write[] = {0x800, 0x802, 0x803, 0x809, 0x80A, 0x80C, 0x80D, 0x80E, 0x810,
                                        0x818, 0x827, 0x82F, 0x831, 0x839, 0x840, 0x8FF};
    for (size_t i = 0; i < sizeof no_write / sizeof no_write[0]; i++)
        ck_assert_msg(apic_x2apic_msr_write(&A, clock_now, no_write[i], 0) == APIC_BAD_REGISTER, "wrmsr 0x%x",
                      no_write[i]);
    /* reserved bits: 63:32 but in the ICR, a non-zero EOI or ESR, SELF IPI 31:8, TPR 31:8 */
    static const struct { uint32_t msr; uint64_t value; } bad[] = {
        {0x808, 1ull << 32}, {0x80B, 1}, {0x828, 1}, {0x83F, 0x100}, {0x83F, 1ull << 32}, {0x808, 0x100},
        {0x80F, 0x1000}, {0x832, 0x80000}, {0x838, 1ull << 32}, {0x83E, 0x10}, {0x830, 0x1000},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(apic_x2apic_msr_write(&A, clock_now, bad[i].msr, bad[i].value) == APIC_BAD_REGISTER,
                      "wrmsr 0x%x, 0x%llx", bad[i].msr, (unsigned long long)bad[i].value);
    msr_wr(0x808, 0x20);
    ck_assert_uint_eq(msr_rd(0x808), 0x20);
    ck_assert_uint_eq(msr_rd(0x80A), 0x20); /* PPR */
    ck_assert_uint_eq(msr_rd(0x803), 0x50014);
    msr_wr(0x80B, 0);
    msr_wr(0x828, 0);
}
END_TEST

/* The ICR is one 64-bit MSR with a 32-bit destination; SELF IPI leaves it as it was. */
START_TEST(test_x2apic_icr_and_self_ipi_reach_this_apic)
{
    enter_x2apic(0x23);
    msr_wr(0x830, 0x100ull << 32 | 0x41); /* physical 0x123: nobody (not 0x23 cut to 8 bits) */
    ck_assert(!msr_irr_has(0x41));
    msr_wr(0x830, 0x23ull << 32 | 0x42);  /* physical: this APIC */
    ck_assert(msr_irr_has(0x42));
    ck_assert_uint_eq(msr_rd(0x830), 0x23ull << 32 | 0x42);
    msr_wr(0x830, 0x00020008ull << 32 | 0x800 | 0x43); /* logical: cluster 2, bit 3 */
    ck_assert(msr_irr_has(0x43));
    msr_wr(0x830, 0x00010008ull << 32 | 0x800 | 0x44); /* another cluster */
    ck_assert(!msr_irr_has(0x44));
    msr_wr(0x830, 0xFFFFFFFFull << 32 | 0x45);         /* broadcast */
    ck_assert(msr_irr_has(0x45));
    msr_wr(0x83F, 0x46);
    ck_assert(msr_irr_has(0x46));
    ck_assert_uint_eq(msr_rd(0x830), 0xFFFFFFFFull << 32 | 0x45);
    msr_wr(0x83F, 0x05); /* an illegal vector: a send (and receive) error */
    msr_wr(0x828, 0);
    ck_assert_uint_eq(msr_rd(0x828), 0x20 | APIC_ESR_RECEIVE_ILLEGAL_VECTOR);
}
END_TEST

/* The IO-APIC's 8-bit destinations in x2APIC mode: 0xFF is everyone, else an x2APIC ID or a
 * logical cluster-0 bitmap. */
START_TEST(test_x2apic_ioapic_destinations)
{
    enter_x2apic(1);
    ck_assert(apic_is_destination(&A, false, 0xFF));
    ck_assert(apic_is_destination(&A, false, 1));
    ck_assert(!apic_is_destination(&A, false, 0));
    ck_assert(apic_is_destination(&A, true, 0x02)); /* LDR 0x00000002 */
    ck_assert(!apic_is_destination(&A, true, 0x01));
}
END_TEST

static Suite *apic_suite(void)
{
    Suite *s = suite_create("apic");
    TCase *tc = tcase_create("local apic");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_reset_state_matches_the_sdm);
    tcase_add_test(tc, test_writes_keep_only_the_writable_bits);
    tcase_add_test(tc, test_read_only_registers_ignore_writes);
    tcase_add_test(tc, test_invalid_and_unaligned_offsets_are_rejected);
    tcase_add_test(tc, test_accepted_vector_moves_from_irr_to_isr_on_acknowledge);
    tcase_add_test(tc, test_highest_vector_is_delivered_first);
    tcase_add_test(tc, test_eoi_clears_the_highest_isr_bit);
    tcase_add_test(tc, test_in_service_class_blocks_equal_and_lower_classes);
    tcase_add_test(tc, test_tpr_blocks_lower_and_equal_classes);
    tcase_add_test(tc, test_software_disabled_apic_delivers_nothing_and_masks_its_lvts);
    tcase_add_test(tc, test_illegal_vector_sets_esr_after_the_esr_write);
    tcase_add_test(tc, test_unmasked_error_lvt_raises_its_vector);
    tcase_add_test(tc, test_one_shot_timer_expires_after_count_times_divisor_for_every_divide);
    tcase_add_test(tc, test_periodic_timer_expires_every_period_for_every_divide);
    tcase_add_test(tc, test_current_count_drops_once_per_divisor_cycles);
    tcase_add_test(tc, test_masked_periodic_timer_reloads_without_interrupting);
    tcase_add_test(tc, test_late_advance_collapses_periodic_expiries);
    tcase_add_test(tc, test_zero_initial_count_stops_the_timer);
    tcase_add_test(tc, test_divide_change_mid_count_keeps_the_counts_made);
    tcase_add_test(tc, test_periodic_switched_to_one_shot_stops_after_the_next_expiry);
    tcase_add_test(tc, test_timer_vector_and_mask_come_from_the_lvt);
    tcase_add_test(tc, test_self_ipi_is_delivered_and_smi_is_unsupported);
    tcase_add_test(tc, test_ipi_destinations_and_shorthands_decide_whether_it_arrives);
    tcase_add_test(tc, test_logical_ipi_matches_the_ldr_in_flat_and_cluster_models);
    tcase_add_test(tc, test_nmi_ipi_makes_an_nmi_pending_instead_of_a_vector);
    tcase_add_test(tc, test_init_and_startup_ipis_to_self_are_ignored);
    tcase_add_test(tc, test_fixed_ipi_with_a_vector_below_16_is_a_send_error);
    tcase_add_test(tc, test_global_disable_hides_the_apic_and_reenable_resets_it);
    tcase_add_test(tc, test_apicbase_transitions_follow_the_sdm);
    tcase_add_test(tc, test_x2apic_id_and_ldr_come_from_the_initial_id);
    tcase_add_test(tc, test_x2apic_msrs_refuse_absent_and_wrong_direction_registers);
    tcase_add_test(tc, test_x2apic_icr_and_self_ipi_reach_this_apic);
    tcase_add_test(tc, test_x2apic_ioapic_destinations);
    suite_add_tcase(s, tc);
    return s;
}

SUITE_MAIN(apic_suite)

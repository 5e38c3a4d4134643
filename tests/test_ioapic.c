/* The IO-APIC model (emu/ioapic.c) driving a local APIC (emu/apic.c): registers through the
 * IOREGSEL/IOWIN window, edge and level entries, remote IRR and the EOI broadcast, masking. */
#include <check.h>

#include "emu/ioapic.h"
#include "support/suite_main.h"

static ioapic IO;
static apic A;

static void setup(void)
{
    ioapic_init(&IO);
    apic_init(&A, 0, 1000000000ull);
    ck_assert_int_eq(apic_write(&A, 0, APIC_SVR, 0x1FF), APIC_OK);
}

static uint32_t reg(uint32_t r)
{
    ioapic_write(&IO, &A, 0x00, r);
    return ioapic_read(&IO, 0x10);
}

static void set_reg(uint32_t r, uint32_t v)
{
    ioapic_write(&IO, &A, 0x00, r);
    ioapic_write(&IO, &A, 0x10, v);
}

static void route(int pin, uint32_t low, uint8_t dest)
{
    set_reg(0x10 + 2u * (unsigned)pin + 1, (uint32_t)dest << 24);
    set_reg(0x10 + 2u * (unsigned)pin, low);
}

/* Take the vector the local APIC delivers, and EOI it as a handler would (broadcast included). */
static int take_and_eoi(void)
{
    int v = apic_acknowledge(&A);
    if (v < 0)
        return v;
    int bv = apic_eoi_broadcast_vector(&A);
    ck_assert_int_eq(apic_write(&A, 0, APIC_EOI, 0), APIC_OK);
    if (bv >= 0)
        ioapic_eoi(&IO, &A, (uint8_t)bv);
    return v;
}

START_TEST(test_reset_masks_every_entry_and_reports_24_pins)
{
    ck_assert_uint_eq(reg(0x01), IOAPIC_VERSION);
    ck_assert_uint_eq((reg(0x01) >> 16) & 0xFF, 23);
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
        ck_assert_uint_eq(reg(0x10 + 2 * pin), IOAPIC_RTE_MASKED);
}
END_TEST

START_TEST(test_only_id_bits_24_to_27_are_writable_and_arbitration_follows_the_id)
{
    uint32_t id = reg(0x00);
    set_reg(0x00, ~id);
    ck_assert_uint_eq(reg(0x00) ^ id, 0x0F000000u);
    set_reg(0x00, 0x0F000000u);
    ck_assert_uint_eq(reg(0x02), 0x0F000000u);
    set_reg(0x02, 0);
    ck_assert_uint_eq(reg(0x02), 0x0F000000u);
    set_reg(0x01, 0);
    ck_assert_uint_eq(reg(0x01), IOAPIC_VERSION);
}
END_TEST

START_TEST(test_edge_entry_sends_on_a_rising_edge_only)
{
    route(14, 0x76, 0);
    ioapic_set_irq(&IO, &A, 14, 1);
    ck_assert_int_eq(take_and_eoi(), 0x76);
    ioapic_set_irq(&IO, &A, 14, 1); /* still high: no edge */
    ck_assert_int_eq(take_and_eoi(), -1);
    ioapic_set_irq(&IO, &A, 14, 0);
    ioapic_set_irq(&IO, &A, 14, 1);
    ck_assert_int_eq(take_and_eoi(), 0x76);
}
END_TEST

START_TEST(test_masked_edge_is_ignored_not_latched)
{
    route(14, IOAPIC_RTE_MASKED | 0x81, 0);
    ioapic_set_irq(&IO, &A, 14, 1);
    ioapic_set_irq(&IO, &A, 14, 0);
    route(14, 0x81, 0);
    ck_assert_int_eq(take_and_eoi(), -1);
}
END_TEST

START_TEST(test_level_entry_holds_remote_irr_until_the_eoi_and_resends_while_high)
{
    route(14, IOAPIC_RTE_LEVEL | 0x77, 0);
    ioapic_set_irq(&IO, &A, 14, 1);
    ck_assert(reg(0x10 + 28) & IOAPIC_RTE_REMOTE_IRR);
    ck_assert(A.tmr[0x77 / 32] & (1u << (0x77 % 32))); /* accepted level-triggered */
    ck_assert_int_eq(take_and_eoi(), 0x77);            /* still high: sent again at the EOI */
    ck_assert(reg(0x10 + 28) & IOAPIC_RTE_REMOTE_IRR);
    ioapic_set_irq(&IO, &A, 14, 0);
    ck_assert_int_eq(take_and_eoi(), 0x77);
    ck_assert(!(reg(0x10 + 28) & IOAPIC_RTE_REMOTE_IRR));
    ck_assert_int_eq(take_and_eoi(), -1);
}
END_TEST

START_TEST(test_unmasking_a_level_entry_with_its_pin_high_sends_it)
{
    route(14, IOAPIC_RTE_MASKED | IOAPIC_RTE_LEVEL | 0x82, 0);
    ioapic_set_irq(&IO, &A, 14, 1);
    ck_assert_int_eq(apic_pending_vector(&A), -1);
    route(14, IOAPIC_RTE_LEVEL | 0x82, 0);
    ck_assert_int_eq(apic_pending_vector(&A), 0x82);
}
END_TEST

START_TEST(test_remote_irr_and_delivery_status_are_read_only)
{
    route(14, IOAPIC_RTE_REMOTE_IRR | 0x1000 | IOAPIC_RTE_LEVEL | 0x90, 0);
    ck_assert_uint_eq(reg(0x10 + 28), IOAPIC_RTE_LEVEL | 0x90);
}
END_TEST

START_TEST(test_entry_for_another_apic_id_reaches_nobody)
{
    route(14, 0x91, 1);
    ioapic_set_irq(&IO, &A, 14, 1);
    ck_assert_int_eq(apic_pending_vector(&A), -1);
    route(15, 0x92, 0xFF); /* broadcast */
    ioapic_set_irq(&IO, &A, 15, 1);
    ck_assert_int_eq(apic_pending_vector(&A), 0x92);
}
END_TEST

START_TEST(test_nmi_entry_makes_an_nmi_pending)
{
    route(3, 0x400, 0);
    ioapic_set_irq(&IO, &A, 3, 1);
    ck_assert(apic_nmi_pending(&A));
    ck_assert_int_eq(apic_pending_vector(&A), -1);
}
END_TEST

static Suite *ioapic_suite(void)
{
    Suite *s = suite_create("ioapic");
    TCase *tc = tcase_create("82093AA");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_reset_masks_every_entry_and_reports_24_pins);
    tcase_add_test(tc, test_only_id_bits_24_to_27_are_writable_and_arbitration_follows_the_id);
    tcase_add_test(tc, test_edge_entry_sends_on_a_rising_edge_only);
    tcase_add_test(tc, test_masked_edge_is_ignored_not_latched);
    tcase_add_test(tc, test_level_entry_holds_remote_irr_until_the_eoi_and_resends_while_high);
    tcase_add_test(tc, test_unmasking_a_level_entry_with_its_pin_high_sends_it);
    tcase_add_test(tc, test_remote_irr_and_delivery_status_are_read_only);
    tcase_add_test(tc, test_entry_for_another_apic_id_reaches_nobody);
    tcase_add_test(tc, test_nmi_entry_makes_an_nmi_pending);
    suite_add_tcase(s, tc);
    return s;
}

SUITE_MAIN(ioapic_suite)

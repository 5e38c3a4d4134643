/* The 8259A pair, driven through its ports as a guest kernel drives it. */
#include <check.h>
#include <string.h>

#include "emu/pic.h"
#include "support/suite_main.h"

static pic P;

/* Port access as the guest sees it: 0x20/0x21 master, 0xA0/0xA1 slave. */
static void out(uint16_t port, uint8_t v)
{
    pic_write(&P.chip[port >= 0xA0 ? PIC_SLAVE : PIC_MASTER], port & 1, 1, v);
}

static uint8_t in(uint16_t port)
{
    return (uint8_t)pic_read(&P.chip[port >= 0xA0 ? PIC_SLAVE : PIC_MASTER], port & 1, 1);
}

/* The sequence Linux's init_8259A() sends: edge, cascade, ICW4; then every input unmasked. */
static void program(uint8_t master_base, uint8_t slave_base, uint8_t icw4)
{
    out(0x20, 0x11);
    out(0x21, master_base);
    out(0x21, 0x04);
    out(0x21, icw4);
    out(0xA0, 0x11);
    out(0xA1, slave_base);
    out(0xA1, 0x02);
    out(0xA1, icw4);
    out(0x21, 0x00);
    out(0xA1, 0x00);
}

static void setup(void)
{
    pic_init(&P);
    program(0x20, 0x28, 0x01);
}

static void pulse(int irq)
{
    pic_set_irq(&P, irq, 1);
    pic_set_irq(&P, irq, 0);
}

static uint8_t master_isr(void)
{
    out(0x20, 0x0B);
    return in(0x20);
}

static uint8_t slave_isr(void)
{
    out(0xA0, 0x0B);
    return in(0xA0);
}

START_TEST(test_init_sequence_sets_both_vector_bases)
{
    pulse(0);
    ck_assert(pic_has_interrupt(&P));
    ck_assert_int_eq(pic_acknowledge(&P), 0x20);
    out(0x20, 0x20);
    pulse(14);
    ck_assert_int_eq(pic_acknowledge(&P), 0x2E);
}
END_TEST

START_TEST(test_icw2_ignores_the_low_three_bits)
{
    program(0x47, 0x2F, 0x01);
    pulse(1);
    ck_assert_int_eq(pic_acknowledge(&P), 0x41);
}
END_TEST

START_TEST(test_power_on_state_is_bios_vectors_with_everything_masked)
{
    pic_init(&P);
    ck_assert_uint_eq(in(0x21), 0xFB);
    ck_assert_uint_eq(in(0xA1), 0xFF);
    pulse(0);
    pulse(8);
    ck_assert(!pic_has_interrupt(&P));
    out(0x21, 0xFA);
    ck_assert_int_eq(pic_acknowledge(&P), 0x08);
    out(0xA1, 0xFE);
    out(0x20, 0x20);
    ck_assert_int_eq(pic_acknowledge(&P), 0x70);
}
END_TEST

START_TEST(test_masked_irq_is_latched_and_delivered_when_unmasked)
{
    out(0x21, 0x10);
    pulse(4);
    ck_assert(!pic_has_interrupt(&P));
    ck_assert_uint_eq(in(0x20), 0x10); /* IRR shows the latched request */
    out(0x21, 0x00);
    ck_assert(pic_has_interrupt(&P));
    ck_assert_int_eq(pic_acknowledge(&P), 0x24);
}
END_TEST

START_TEST(test_lowest_numbered_irq_is_delivered_first)
{
    pulse(5);
    pulse(3);
    pulse(1);
    ck_assert_int_eq(pic_acknowledge(&P), 0x21);
    out(0x20, 0x20);
    ck_assert_int_eq(pic_acknowledge(&P), 0x23);
    out(0x20, 0x20);
    ck_assert_int_eq(pic_acknowledge(&P), 0x25);
}
END_TEST

START_TEST(test_in_service_irq_blocks_equal_and_lower_priorities)
{
    pulse(3);
    ck_assert_int_eq(pic_acknowledge(&P), 0x23);
    pulse(3);
    pulse(6);
    ck_assert(!pic_has_interrupt(&P));
    pulse(1); /* a higher priority nests */
    ck_assert(pic_has_interrupt(&P));
    ck_assert_int_eq(pic_acknowledge(&P), 0x21);
    ck_assert_uint_eq(master_isr(), 0x0A);
}
END_TEST

START_TEST(test_nonspecific_eoi_clears_the_highest_priority_in_service)
{
    pulse(3);
    pic_acknowledge(&P);
    pulse(1);
    pic_acknowledge(&P);
    out(0x20, 0x20);
    ck_assert_uint_eq(master_isr(), 0x08);
    out(0x20, 0x20);
    ck_assert_uint_eq(master_isr(), 0x00);
}
END_TEST

START_TEST(test_specific_eoi_clears_only_the_named_level)
{
    pulse(3);
    pic_acknowledge(&P);
    pulse(1);
    pic_acknowledge(&P);
    out(0x20, 0x63); /* specific EOI, level 3 */
    ck_assert_uint_eq(master_isr(), 0x02);
}
END_TEST

START_TEST(test_eoi_unblocks_a_request_latched_while_in_service)
{
    pulse(3);
    pic_acknowledge(&P);
    pulse(5);
    ck_assert(!pic_has_interrupt(&P));
    out(0x20, 0x20);
    ck_assert(pic_has_interrupt(&P));
    ck_assert_int_eq(pic_acknowledge(&P), 0x25);
}
END_TEST

START_TEST(test_slave_irq_arrives_through_irq2_with_the_slave_vector)
{
    pulse(9);
    ck_assert(pic_has_interrupt(&P));
    ck_assert_int_eq(pic_acknowledge(&P), 0x29);
    ck_assert_uint_eq(master_isr(), 0x04);
    ck_assert_uint_eq(slave_isr(), 0x02);
}
END_TEST

START_TEST(test_slave_irqs_sit_at_irq2_priority)
{
    pulse(3);
    pulse(12);
    ck_assert_int_eq(pic_acknowledge(&P), 0x2C); /* IRQ 12 via 2 beats IRQ 3 */
    pulse(1);
    ck_assert_int_eq(pic_acknowledge(&P), 0x21); /* IRQ 1 beats the cascade in service */
    out(0x20, 0x20);
    ck_assert(!pic_has_interrupt(&P)); /* IRQ 3 still blocked by IRQ 2 in service */
    out(0xA0, 0x20);
    out(0x20, 0x20);
    ck_assert_int_eq(pic_acknowledge(&P), 0x23);
}
END_TEST

START_TEST(test_next_slave_irq_waits_for_eoi_on_both_chips)
{
    pulse(10);
    ck_assert_int_eq(pic_acknowledge(&P), 0x2A);
    pulse(11);
    ck_assert(!pic_has_interrupt(&P));
    out(0xA0, 0x20);
    ck_assert(!pic_has_interrupt(&P)); /* master IRQ 2 still in service */
    out(0x20, 0x20);
    ck_assert(pic_has_interrupt(&P));
    ck_assert_int_eq(pic_acknowledge(&P), 0x2B);
}
END_TEST

START_TEST(test_a_held_line_does_not_retrigger_until_it_falls)
{
    pic_set_irq(&P, 4, 1);
    ck_assert_int_eq(pic_acknowledge(&P), 0x24);
    out(0x20, 0x20);
    pic_set_irq(&P, 4, 1);
    ck_assert(!pic_has_interrupt(&P));
    pic_set_irq(&P, 4, 0);
    pic_set_irq(&P, 4, 1);
    ck_assert(pic_has_interrupt(&P));
}
END_TEST

/* The VMI alarm's edge on IRQ 0 while the parked PIT holds the line high: latched, and the
 * PIT's level is left as it was (its own edges still need the line to fall first). */
START_TEST(test_a_pulse_latches_although_another_source_holds_the_line_high)
{
    pic_set_irq(&P, 0, 1);
    ck_assert_int_eq(pic_acknowledge(&P), 0x20);
    out(0x20, 0x20);
    pic_pulse_irq(&P, 0);
    ck_assert(pic_has_interrupt(&P));
    ck_assert_int_eq(pic_acknowledge(&P), 0x20);
    out(0x20, 0x20);
    ck_assert(!pic_has_interrupt(&P));
    pic_set_irq(&P, 0, 1); /* still high: no new edge */
    ck_assert(!pic_has_interrupt(&P));
}
END_TEST

START_TEST(test_a_request_stays_latched_after_its_line_falls)
{
    pic_set_irq(&P, 6, 1);
    pic_set_irq(&P, 6, 0);
    ck_assert(pic_has_interrupt(&P));
    ck_assert_int_eq(pic_acknowledge(&P), 0x26);
}
END_TEST

START_TEST(test_auto_eoi_leaves_nothing_in_service)
{
    program(0x20, 0x28, 0x03);
    pulse(5);
    ck_assert_int_eq(pic_acknowledge(&P), 0x25);
    ck_assert_uint_eq(master_isr(), 0x00);
    pulse(7);
    ck_assert(pic_has_interrupt(&P)); /* nothing blocks the lower priority */
    pulse(9);
    ck_assert_int_eq(pic_acknowledge(&P), 0x29);
    ck_assert_uint_eq(master_isr(), 0x00);
    ck_assert_uint_eq(slave_isr(), 0x00);
}
END_TEST

START_TEST(test_ocw3_selects_irr_or_isr_for_reads)
{
    out(0x21, 0x40);
    pulse(5);
    pulse(6);
    ck_assert_uint_eq(in(0x20), 0x60); /* IRR is read after initialisation */
    pic_acknowledge(&P);
    ck_assert_uint_eq(in(0x20), 0x40);
    out(0x20, 0x0B);
    ck_assert_uint_eq(in(0x20), 0x20);
    ck_assert_uint_eq(in(0x20), 0x20); /* the selection persists */
    out(0x20, 0x0A);
    ck_assert_uint_eq(in(0x20), 0x40);
    out(0x20, 0x08); /* OCW3 without RR leaves the selection */
    ck_assert_uint_eq(in(0x20), 0x40);
}
END_TEST

START_TEST(test_ack_with_nothing_pending_returns_the_irq7_vector)
{
    ck_assert(!pic_has_interrupt(&P));
    ck_assert_int_eq(pic_acknowledge(&P), 0x27);
    ck_assert_uint_eq(master_isr(), 0x00);
}
END_TEST

START_TEST(test_vanished_slave_request_gives_the_irq15_vector)
{
    pulse(9);
    out(0xA1, 0x02); /* masked after the master latched the cascade input */
    ck_assert(pic_has_interrupt(&P));
    ck_assert_int_eq(pic_acknowledge(&P), 0x2F);
    ck_assert_uint_eq(master_isr(), 0x04);
    ck_assert_uint_eq(slave_isr(), 0x00);
}
END_TEST

START_TEST(test_poll_command_acknowledges_through_a_port_read)
{
    pulse(5);
    out(0x20, 0x0C);
    ck_assert_uint_eq(in(0x20), 0x85);
    ck_assert_uint_eq(master_isr(), 0x20);
    out(0x20, 0x0C);
    ck_assert_uint_eq(in(0x20), 0x00);
    ck_assert_uint_eq(in(0x20), 0x20); /* a poll lasts one read: back to ISR reads */
}
END_TEST

START_TEST(test_rotate_and_priority_commands_keep_fixed_priority)
{
    out(0x20, 0xC4); /* set priority: IRQ 5 highest (ignored) */
    out(0x20, 0x80); /* rotate in auto-EOI (ignored) */
    pulse(6);
    pulse(3);
    ck_assert_int_eq(pic_acknowledge(&P), 0x23);
    out(0x20, 0xA0); /* rotate on non-specific EOI: the EOI is done */
    ck_assert_uint_eq(master_isr(), 0x00);
    ck_assert_int_eq(pic_acknowledge(&P), 0x26);
}
END_TEST

START_TEST(test_icw1_clears_mask_and_pending_requests)
{
    out(0x21, 0xFF);
    pulse(3);
    out(0x20, 0x11);
    out(0x21, 0x20);
    out(0x21, 0x04);
    out(0x21, 0x01);
    ck_assert_uint_eq(in(0x21), 0x00);
    ck_assert_uint_eq(in(0x20), 0x00);
    ck_assert(!pic_has_interrupt(&P));
}
END_TEST

START_TEST(test_single_mode_skips_icw3_and_the_cascade)
{
    out(0x20, 0x13); /* single, ICW4 needed */
    out(0x21, 0x50);
    out(0x21, 0x03); /* taken as ICW4: auto-EOI */
    out(0x21, 0x00); /* now OCW1 */
    pulse(0);
    ck_assert_int_eq(pic_acknowledge(&P), 0x50);
    ck_assert_uint_eq(master_isr(), 0x00);
    pulse(9);
    ck_assert(!pic_has_interrupt(&P));
}
END_TEST

START_TEST(test_cascade_and_out_of_range_irqs_are_ignored)
{
    pulse(2);
    pulse(16);
    pulse(-1);
    ck_assert(!pic_has_interrupt(&P));
    ck_assert_uint_eq(in(0x20), 0x00);
    ck_assert_uint_eq(in(0xA0), 0x00);
}
END_TEST

START_TEST(test_irq_line_drives_the_pic)
{
    irq_line l = pic_irq_line(&P, 13);
    irq_raise(&l);
    ck_assert_int_eq(pic_acknowledge(&P), 0x2D);
    irq_line none = {0};
    irq_raise(&none); /* an unconnected line is harmless */
}
END_TEST

/* ELCR (0x4D0 master, 0x4D1 slave): one bit per IRQ, IRQs 0, 1, 2, 8 and 13 edge-only. */
static void elcr_out(int chip, uint8_t v) { pic_elcr_write(&P, chip, v); }
static uint8_t elcr_in(int chip) { return pic_elcr_read(&P, chip); }

START_TEST(test_elcr_reads_back_with_the_edge_only_irqs_forced_to_0)
{
    ck_assert_uint_eq(elcr_in(0), 0);
    ck_assert_uint_eq(elcr_in(1), 0);
    elcr_out(0, 0xFF);
    elcr_out(1, 0xFF);
    ck_assert_uint_eq(elcr_in(0), 0xF8); /* not 0, 1, 2 */
    ck_assert_uint_eq(elcr_in(1), 0xDE); /* not 8, 13 */
}
END_TEST

START_TEST(test_level_triggered_irq_requests_again_after_eoi_while_its_line_is_high)
{
    elcr_out(0, 0x08); /* IRQ 3 level-triggered */
    pic_set_irq(&P, 3, 1);
    ck_assert_int_eq(pic_acknowledge(&P), 0x23);
    out(0x20, 0x20);
    ck_assert(pic_has_interrupt(&P)); /* still high: requests again */
    ck_assert_int_eq(pic_acknowledge(&P), 0x23);
    out(0x20, 0x20);
    pic_set_irq(&P, 3, 0);
    ck_assert(!pic_has_interrupt(&P));
}
END_TEST

START_TEST(test_level_triggered_request_goes_away_when_its_line_falls_before_inta)
{
    elcr_out(0, 0x20); /* IRQ 5 level-triggered */
    pic_set_irq(&P, 5, 1);
    ck_assert(pic_has_interrupt(&P));
    pic_set_irq(&P, 5, 0);
    ck_assert(!pic_has_interrupt(&P));
    ck_assert_int_eq(pic_acknowledge(&P), 0x27); /* spurious IRQ 7 */
}
END_TEST

START_TEST(test_edge_triggered_irq_is_taken_once_although_its_line_stays_high)
{
    pic_set_irq(&P, 5, 1);
    ck_assert_int_eq(pic_acknowledge(&P), 0x25);
    out(0x20, 0x20);
    ck_assert(!pic_has_interrupt(&P));
}
END_TEST

static Suite *pic_suite(void)
{
    Suite *s = suite_create("pic");
    TCase *tc = tcase_create("8259a");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_init_sequence_sets_both_vector_bases);
    tcase_add_test(tc, test_elcr_reads_back_with_the_edge_only_irqs_forced_to_0);
    tcase_add_test(tc, test_level_triggered_irq_requests_again_after_eoi_while_its_line_is_high);
    tcase_add_test(tc, test_level_triggered_request_goes_away_when_its_line_falls_before_inta);
    tcase_add_test(tc, test_edge_triggered_irq_is_taken_once_although_its_line_stays_high);
    tcase_add_test(tc, test_icw2_ignores_the_low_three_bits);
    tcase_add_test(tc, test_power_on_state_is_bios_vectors_with_everything_masked);
    tcase_add_test(tc, test_masked_irq_is_latched_and_delivered_when_unmasked);
    tcase_add_test(tc, test_lowest_numbered_irq_is_delivered_first);
    tcase_add_test(tc, test_in_service_irq_blocks_equal_and_lower_priorities);
    tcase_add_test(tc, test_nonspecific_eoi_clears_the_highest_priority_in_service);
    tcase_add_test(tc, test_specific_eoi_clears_only_the_named_level);
    tcase_add_test(tc, test_eoi_unblocks_a_request_latched_while_in_service);
    tcase_add_test(tc, test_slave_irq_arrives_through_irq2_with_the_slave_vector);
    tcase_add_test(tc, test_slave_irqs_sit_at_irq2_priority);
    tcase_add_test(tc, test_next_slave_irq_waits_for_eoi_on_both_chips);
    tcase_add_test(tc, test_a_held_line_does_not_retrigger_until_it_falls);
    tcase_add_test(tc, test_a_pulse_latches_although_another_source_holds_the_line_high);
    tcase_add_test(tc, test_a_request_stays_latched_after_its_line_falls);
    tcase_add_test(tc, test_auto_eoi_leaves_nothing_in_service);
    tcase_add_test(tc, test_ocw3_selects_irr_or_isr_for_reads);
    tcase_add_test(tc, test_ack_with_nothing_pending_returns_the_irq7_vector);
    tcase_add_test(tc, test_vanished_slave_request_gives_the_irq15_vector);
    tcase_add_test(tc, test_poll_command_acknowledges_through_a_port_read);
    tcase_add_test(tc, test_rotate_and_priority_commands_keep_fixed_priority);
    tcase_add_test(tc, test_icw1_clears_mask_and_pending_requests);
    tcase_add_test(tc, test_single_mode_skips_icw3_and_the_cascade);
    tcase_add_test(tc, test_cascade_and_out_of_range_irqs_are_ignored);
    tcase_add_test(tc, test_irq_line_drives_the_pic);
    suite_add_tcase(s, tc);
    return s;
}

SUITE_MAIN(pic_suite)

/* The 16550A at COM1 (emu/uart.h): interrupt sources and their priority, the THR-empty
 * interrupt's set and clear rules, the RX FIFO and its trigger levels, loopback, the modem
 * status deltas, the OUT2 gate; and, in a machine, the line to the master PIC's input 4. */
#include <check.h>
#include <string.h>

#include "emu/uart.h"
#include "support/suite_main.h"
#include "support/testutil.h"

/* The interrupt line as the PIC sees it: its level and how many rising edges it saw. */
static int level, edges;

static void line_set(void *opaque, int n, int lv)
{
    (void)opaque, (void)n;
    if (lv && !level)
        edges++;
    level = lv;
}

static const irq_line line = {line_set, NULL, 4};
static uart u;
static int sent[64], nsent;

static void setup(void)
{
    level = edges = nsent = 0;
    uart_init(&u);
}

static void wr(uint16_t reg, uint8_t v)
{
    int b = uart_write(&u, &line, reg, v);
    if (b != UART_NO_TX && nsent < 64)
        sent[nsent++] = b;
}

static uint8_t rd(uint16_t reg) { return (uint8_t)uart_read(&u, &line, reg); }

static void push(const char *s) { ck_assert_uint_eq(uart_push_input(&u, &line, (const uint8_t *)s, strlen(s)), strlen(s)); }

/* OUT2 on (interrupts reach the PIC), DTR and RTS as Linux sets them. */
static void out2_on(void) { wr(UART_MCR, 0x0B); }

START_TEST(test_iir_says_no_interrupt_and_shows_the_fifo_bits_when_fifos_are_on)
{
    ck_assert_uint_eq(rd(UART_IIR_FCR), 0x01);
    wr(UART_IIR_FCR, 0x01);
    ck_assert_uint_eq(rd(UART_IIR_FCR), 0xC1);
}
END_TEST

START_TEST(test_setting_etbei_while_thr_is_empty_raises_the_thr_empty_interrupt)
{
    out2_on();
    wr(UART_IER, 0x02);
    ck_assert_int_eq(level, 1);
    ck_assert_uint_eq(rd(UART_IIR_FCR), 0x02);
}
END_TEST

START_TEST(test_reading_iir_clears_thr_empty_when_it_is_the_reported_source)
{
    out2_on();
    wr(UART_IER, 0x02);
    ck_assert_uint_eq(rd(UART_IIR_FCR), 0x02);
    ck_assert_int_eq(level, 0);
    ck_assert_uint_eq(rd(UART_IIR_FCR), 0x01);
}
END_TEST

/* Linux's startup check for UARTs that do not reassert THRE (UART_BUG_THRE). */
START_TEST(test_setting_etbei_again_reasserts_thr_empty)
{
    out2_on();
    wr(UART_IER, 0x02);
    rd(UART_IIR_FCR);
    wr(UART_IER, 0x00);
    wr(UART_IER, 0x02);
    ck_assert_uint_eq(rd(UART_IIR_FCR), 0x02);
    ck_assert_int_eq(edges, 2);
}
END_TEST

START_TEST(test_a_transmitted_byte_leaves_thr_empty_and_its_interrupt_pending_again)
{
    out2_on();
    wr(UART_IER, 0x02);
    rd(UART_IIR_FCR);
    wr(UART_RBR_THR, 'x');
    ck_assert_int_eq(nsent, 1);
    ck_assert_int_eq(sent[0], 'x');
    ck_assert_uint_eq(rd(UART_LSR) & 0x60, 0x60);
    ck_assert_int_eq(level, 1);
    ck_assert_uint_eq(rd(UART_IIR_FCR), 0x02);
}
END_TEST

START_TEST(test_without_out2_a_pending_interrupt_stays_off_the_line)
{
    wr(UART_MCR, 0x03);
    wr(UART_IER, 0x02);
    ck_assert_int_eq(level, 0);
    ck_assert_uint_eq(rd(UART_IIR_FCR), 0x02); /* IIR still reports it */
}
END_TEST

START_TEST(test_setting_out2_puts_a_pending_interrupt_on_the_line)
{
    wr(UART_IER, 0x01);
    push("a");
    ck_assert_int_eq(level, 0);
    out2_on();
    ck_assert_int_eq(level, 1);
}
END_TEST

START_TEST(test_received_data_raises_the_rx_interrupt_until_read)
{
    out2_on();
    wr(UART_IER, 0x01);
    push("a");
    ck_assert_int_eq(level, 1);
    ck_assert_uint_eq(rd(UART_IIR_FCR), 0x04);
    ck_assert_uint_eq(rd(UART_RBR_THR), 'a');
    ck_assert_int_eq(level, 0);
    ck_assert_uint_eq(rd(UART_IIR_FCR), 0x01);
}
END_TEST

START_TEST(test_received_data_outranks_thr_empty)
{
    out2_on();
    wr(UART_IER, 0x03);
    push("a");
    ck_assert_uint_eq(rd(UART_IIR_FCR), 0x04);
    rd(UART_RBR_THR);
    ck_assert_uint_eq(rd(UART_IIR_FCR), 0x02);
}
END_TEST

/* An overrun in loopback with the FIFO off: the second byte overwrites the first. */
static void overrun(void)
{
    wr(UART_MCR, 0x10);
    wr(UART_RBR_THR, '1');
    wr(UART_RBR_THR, '2');
}

START_TEST(test_line_status_outranks_received_data_and_clears_when_lsr_is_read)
{
    wr(UART_IER, 0x07);
    overrun();
    ck_assert_uint_eq(rd(UART_IIR_FCR), 0x06);
    ck_assert_uint_eq(rd(UART_LSR) & 0x03, 0x03); /* OE and DR */
    ck_assert_uint_eq(rd(UART_LSR) & 0x02, 0);
    ck_assert_uint_eq(rd(UART_IIR_FCR), 0x04);
}
END_TEST

START_TEST(test_an_overrun_without_fifo_keeps_the_newest_byte)
{
    overrun();
    ck_assert_uint_eq(rd(UART_RBR_THR), '2');
    ck_assert_uint_eq(rd(UART_LSR) & 0x01, 0);
}
END_TEST

START_TEST(test_thr_empty_outranks_modem_status)
{
    wr(UART_IER, 0x08);
    wr(UART_MCR, 0x10); /* loopback: CTS, DSR, DCD fall */
    wr(UART_IER, 0x0A);
    ck_assert_uint_eq(rd(UART_IIR_FCR), 0x02);
    ck_assert_uint_eq(rd(UART_IIR_FCR), 0x00);
}
END_TEST

START_TEST(test_reading_msr_reports_and_clears_the_delta_bits)
{
    ck_assert_uint_eq(rd(UART_MSR), 0xB0); /* CTS, DSR, DCD: a cable is attached */
    wr(UART_MCR, 0x10);
    ck_assert_uint_eq(rd(UART_MSR), 0x0B); /* inputs low, DCTS, DDSR, DDCD */
    ck_assert_uint_eq(rd(UART_MSR), 0x00);
    wr(UART_MCR, 0x14);                    /* OUT1 -> RI: no delta on the rising edge */
    ck_assert_uint_eq(rd(UART_MSR), 0x40);
    wr(UART_MCR, 0x10);                    /* RI's trailing edge sets TERI */
    ck_assert_uint_eq(rd(UART_MSR), 0x04);
}
END_TEST

/* Linux's autoconfig: MCR loopback | RTS | OUT2 must read back CTS | DCD. */
START_TEST(test_loopback_wires_the_modem_outputs_to_the_msr_inputs)
{
    wr(UART_MCR, 0x1A);
    ck_assert_uint_eq(rd(UART_MSR) & 0xF0, 0x90);
    wr(UART_MCR, 0x15);
    ck_assert_uint_eq(rd(UART_MSR) & 0xF0, 0x60);
}
END_TEST

START_TEST(test_loopback_sends_transmitted_bytes_to_the_receiver_only)
{
    wr(UART_MCR, 0x10);
    wr(UART_RBR_THR, 'q');
    ck_assert_int_eq(nsent, 0);
    ck_assert_uint_eq(rd(UART_LSR) & 0x01, 0x01);
    ck_assert_uint_eq(rd(UART_RBR_THR), 'q');
}
END_TEST

START_TEST(test_loopback_disconnects_the_wire_until_it_ends)
{
    wr(UART_MCR, 0x10);
    push("w");
    ck_assert_uint_eq(rd(UART_LSR) & 0x01, 0);
    wr(UART_MCR, 0x00);
    ck_assert_uint_eq(rd(UART_RBR_THR), 'w');
}
END_TEST

START_TEST(test_loopback_keeps_the_interrupt_off_the_line)
{
    wr(UART_MCR, 0x18); /* OUT2 and loopback: the OUT2 pin is forced inactive */
    wr(UART_IER, 0x02);
    ck_assert_int_eq(level, 0);
    wr(UART_MCR, 0x08);
    ck_assert_int_eq(level, 1);
}
END_TEST

START_TEST(test_the_rx_fifo_holds_sixteen_bytes_and_the_rest_waits_on_the_wire)
{
    wr(UART_IIR_FCR, 0x01);
    wr(UART_MCR, 0x10);
    for (int i = 0; i < 17; i++)
        wr(UART_RBR_THR, (uint8_t)('a' + i));
    ck_assert_uint_eq(rd(UART_LSR) & 0x02, 0x02); /* the 17th overran */
    for (int i = 0; i < 16; i++)
        ck_assert_uint_eq(rd(UART_RBR_THR), 'a' + i);
    ck_assert_uint_eq(rd(UART_LSR) & 0x01, 0);
}
END_TEST

START_TEST(test_without_fifo_one_byte_is_held_and_the_rest_waits_on_the_wire)
{
    push("xyz");
    wr(UART_MCR, 0x10); /* cut the wire: only what the receiver holds is readable */
    ck_assert_uint_eq(rd(UART_RBR_THR), 'x');
    ck_assert_uint_eq(rd(UART_LSR) & 0x01, 0);
    wr(UART_MCR, 0x00);
    ck_assert_uint_eq(rd(UART_RBR_THR), 'y');
    ck_assert_uint_eq(rd(UART_RBR_THR), 'z');
}
END_TEST

START_TEST(test_fewer_bytes_than_the_trigger_level_report_the_character_timeout)
{
    out2_on();
    wr(UART_IIR_FCR, 0x81); /* FIFO on, trigger 8 */
    wr(UART_IER, 0x01);
    push("1234567");
    ck_assert_uint_eq(rd(UART_IIR_FCR), 0xCC);
    ck_assert_int_eq(level, 1);
}
END_TEST

START_TEST(test_bytes_at_the_trigger_level_report_received_data)
{
    wr(UART_IIR_FCR, 0x81);
    wr(UART_IER, 0x01);
    push("12345678");
    ck_assert_uint_eq(rd(UART_IIR_FCR), 0xC4);
    rd(UART_RBR_THR);
    ck_assert_uint_eq(rd(UART_IIR_FCR), 0xCC);
}
END_TEST

START_TEST(test_clearing_the_rx_fifo_discards_its_bytes_and_lowers_the_line)
{
    out2_on();
    wr(UART_IIR_FCR, 0x01);
    wr(UART_IER, 0x01);
    wr(UART_MCR, 0x1B);
    wr(UART_RBR_THR, 'z');
    wr(UART_MCR, 0x0B);
    ck_assert_int_eq(level, 1);
    wr(UART_IIR_FCR, 0x03);
    ck_assert_uint_eq(rd(UART_LSR) & 0x01, 0);
    ck_assert_int_eq(level, 0);
}
END_TEST

START_TEST(test_fcr_bits_other_than_enable_are_ignored_while_it_is_clear)
{
    wr(UART_IIR_FCR, 0xC0);
    ck_assert_uint_eq(rd(UART_IIR_FCR), 0x01);
}
END_TEST

/* Linux's 16750 probe writes FCR bit 5 and reads IIR bit 5: a 16550A leaves it clear. */
START_TEST(test_iir_bit_5_stays_clear_after_the_64_byte_fifo_request)
{
    wr(UART_IIR_FCR, 0x21);
    ck_assert_uint_eq(rd(UART_IIR_FCR) & 0x20, 0);
}
END_TEST

/* Linux tests for the XScale's UUE bit 6 and the IER probe expects bits 4-7 to read 0. */
START_TEST(test_ier_keeps_only_its_four_enable_bits)
{
    wr(UART_IER, 0xFF);
    ck_assert_uint_eq(rd(UART_IER), 0x0F);
}
END_TEST

START_TEST(test_the_scratch_register_keeps_its_value)
{
    wr(UART_SCR, 0x5A);
    ck_assert_uint_eq(rd(UART_SCR), 0x5A);
}
END_TEST

START_TEST(test_mcr_keeps_only_bits_0_to_4)
{
    wr(UART_MCR, 0xFF);
    ck_assert_uint_eq(rd(UART_MCR), 0x1F);
}
END_TEST

/* In a machine: COM1's interrupts arrive through the master PIC's input 4 (vector 0x24 here). */
static machine m;

static void machine_teardown(void) { machine_free(&m); }

static uint32_t result(uint32_t off) { return phys_read32(&m.mem, 0x5000u + off); }

START_TEST(test_com1_interrupts_reach_the_guest_through_pic_input_4)
{
    ck_assert(tu_load_snippet(&m, "uart_irq"));
    machine_serial_input(&m, (const uint8_t *)"A", 1);
    m.cfg.max_insns = machine_insns(&m) + 1000000; /* a guest waiting in vain ends, not hangs */
    ck_assert_int_eq(machine_run(&m), END_HALTED);
    ck_assert_uint_eq(result(0x40), 0x600d);
    ck_assert_uint_eq(result(0), 2);
    ck_assert_uint_eq(result(8), 0x02);  /* THR empty first */
    ck_assert_uint_eq(result(12), 0x04); /* then the received byte */
    ck_assert_uint_eq(result(4) & 0xFF, 'A');
    size_t taken = 0;
    for (size_t i = 0; i < evlog_count(&m.log); i++)
        taken += tu_event(&m.log, i)->kind == EV_EXCEPTION && tu_event(&m.log, i)->num == 0x24;
    ck_assert_uint_eq(taken, 2);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("uart");
    TCase *tc = tcase_create("registers");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_iir_says_no_interrupt_and_shows_the_fifo_bits_when_fifos_are_on);
    tcase_add_test(tc, test_setting_etbei_while_thr_is_empty_raises_the_thr_empty_interrupt);
    tcase_add_test(tc, test_reading_iir_clears_thr_empty_when_it_is_the_reported_source);
    tcase_add_test(tc, test_setting_etbei_again_reasserts_thr_empty);
    tcase_add_test(tc, test_a_transmitted_byte_leaves_thr_empty_and_its_interrupt_pending_again);
    tcase_add_test(tc, test_without_out2_a_pending_interrupt_stays_off_the_line);
    tcase_add_test(tc, test_setting_out2_puts_a_pending_interrupt_on_the_line);
    tcase_add_test(tc, test_received_data_raises_the_rx_interrupt_until_read);
    tcase_add_test(tc, test_received_data_outranks_thr_empty);
    tcase_add_test(tc, test_line_status_outranks_received_data_and_clears_when_lsr_is_read);
    tcase_add_test(tc, test_an_overrun_without_fifo_keeps_the_newest_byte);
    tcase_add_test(tc, test_thr_empty_outranks_modem_status);
    tcase_add_test(tc, test_reading_msr_reports_and_clears_the_delta_bits);
    tcase_add_test(tc, test_loopback_wires_the_modem_outputs_to_the_msr_inputs);
    tcase_add_test(tc, test_loopback_sends_transmitted_bytes_to_the_receiver_only);
    tcase_add_test(tc, test_loopback_disconnects_the_wire_until_it_ends);
    tcase_add_test(tc, test_loopback_keeps_the_interrupt_off_the_line);
    tcase_add_test(tc, test_the_rx_fifo_holds_sixteen_bytes_and_the_rest_waits_on_the_wire);
    tcase_add_test(tc, test_without_fifo_one_byte_is_held_and_the_rest_waits_on_the_wire);
    tcase_add_test(tc, test_fewer_bytes_than_the_trigger_level_report_the_character_timeout);
    tcase_add_test(tc, test_bytes_at_the_trigger_level_report_received_data);
    tcase_add_test(tc, test_clearing_the_rx_fifo_discards_its_bytes_and_lowers_the_line);
    tcase_add_test(tc, test_fcr_bits_other_than_enable_are_ignored_while_it_is_clear);
    tcase_add_test(tc, test_iir_bit_5_stays_clear_after_the_64_byte_fifo_request);
    tcase_add_test(tc, test_ier_keeps_only_its_four_enable_bits);
    tcase_add_test(tc, test_the_scratch_register_keeps_its_value);
    tcase_add_test(tc, test_mcr_keeps_only_bits_0_to_4);
    suite_add_tcase(s, tc);
    TCase *tm = tcase_create("machine");
    tcase_add_checked_fixture(tm, NULL, machine_teardown);
    tcase_add_test(tm, test_com1_interrupts_reach_the_guest_through_pic_input_4);
    suite_add_tcase(s, tm);
    return s;
}

SUITE_MAIN(make_suite)

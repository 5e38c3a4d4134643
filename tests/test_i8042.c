/* The keyboard controller (emu/i8042.c), driven through its two ports as Linux's i8042 and
 * atkbd drivers drive it, with its interrupt outputs watched. */
#include <check.h>
#include <string.h>

#include "emu/i8042.h"
#include "support/suite_main.h"

static i8042 K;
static int level[2], rises[2]; /* [0] IRQ 1, [1] IRQ 12 */

static void line_set(void *opaque, int n, int lvl)
{
    (void)opaque;
    if (lvl && !level[n])
        rises[n]++;
    level[n] = lvl;
}

static const i8042_irqs irqs = {{line_set, NULL, 0}, {line_set, NULL, 1}};

static void setup(void)
{
    i8042_init(&K);
    memset(level, 0, sizeof level);
    memset(rises, 0, sizeof rises);
}

static uint8_t status(void) { return i8042_read_status(&K); }
static uint8_t data(void) { return i8042_read_data(&K, &irqs); }
static i8042_effect command(uint8_t v) { return i8042_write_command(&K, &irqs, v); }
static i8042_effect send(uint8_t v) { return i8042_write_data(&K, &irqs, v); }

/* A command with one reply, as i8042_command() runs it: write, then wait for OBF and read. */
static uint8_t ask(uint8_t cmd)
{
    ck_assert_int_eq(command(cmd), I8042_NONE);
    ck_assert_msg(status() & I8042_STR_OBF, "command 0x%02x left no reply", cmd);
    return data();
}

static uint8_t read_ctr(void) { return ask(0x20); }

static void write_ctr(uint8_t v)
{
    ck_assert_int_eq(command(0x60), I8042_NONE);
    ck_assert_int_eq(send(v), I8042_NONE);
}

START_TEST(test_power_on_status_says_present_unlocked_and_empty)
{
    uint8_t s = status();
    ck_assert_uint_ne(s, 0xFF); /* what Linux took for "no controller" */
    ck_assert_uint_eq(s & (I8042_STR_OBF | I8042_STR_IBF), 0);
    ck_assert_uint_eq(s & I8042_STR_UNLOCK, I8042_STR_UNLOCK);
    ck_assert_uint_eq(s & I8042_STR_SYS, I8042_STR_SYS);
}
END_TEST

START_TEST(test_power_on_command_byte_enables_keyboard_interrupt_and_translation_with_aux_off)
{
    ck_assert_uint_eq(read_ctr(), I8042_CTR_KBDINT | I8042_CTR_SYS | I8042_CTR_AUXDIS | I8042_CTR_XLATE);
}
END_TEST

START_TEST(test_self_test_answers_0x55)
{
    ck_assert_uint_eq(ask(0xAA), 0x55);
    ck_assert_uint_eq(status() & I8042_STR_OBF, 0);
}
END_TEST

START_TEST(test_interface_tests_answer_no_error)
{
    ck_assert_uint_eq(ask(0xAB), 0x00);
    ck_assert_uint_eq(ask(0xA9), 0x00);
}
END_TEST

START_TEST(test_command_byte_written_with_0x60_reads_back_with_0x20)
{
    write_ctr(0x47);
    ck_assert_uint_eq(read_ctr(), 0x47);
    ck_assert_uint_eq(status() & I8042_STR_CMD, I8042_STR_CMD); /* the last write was 0x20 */
}
END_TEST

START_TEST(test_command_byte_system_flag_shows_in_the_status)
{
    write_ctr(0x00);
    ck_assert_uint_eq(status() & I8042_STR_SYS, 0);
    write_ctr(I8042_CTR_SYS);
    ck_assert_uint_eq(status() & I8042_STR_SYS, I8042_STR_SYS);
}
END_TEST

START_TEST(test_port_enable_and_disable_commands_set_the_command_byte_bits)
{
    command(0xAD);
    ck_assert_uint_eq(read_ctr() & I8042_CTR_KBDDIS, I8042_CTR_KBDDIS);
    command(0xAE);
    ck_assert_uint_eq(read_ctr() & I8042_CTR_KBDDIS, 0);
    command(0xA8);
    ck_assert_uint_eq(read_ctr() & I8042_CTR_AUXDIS, 0);
    command(0xA7);
    ck_assert_uint_eq(read_ctr() & I8042_CTR_AUXDIS, I8042_CTR_AUXDIS);
}
END_TEST

START_TEST(test_output_port_reads_back_a20_and_the_reset_line_high)
{
    ck_assert_uint_eq(ask(0xD0) & 0x03, I8042_OUT_RESET | I8042_OUT_A20);
    ck_assert_int_eq(command(0xD1), I8042_NONE);
    ck_assert_int_eq(send(I8042_OUT_RESET), I8042_NONE); /* A20 off: stored, reads back */
    ck_assert_uint_eq(ask(0xD0) & 0x03, I8042_OUT_RESET);
    command(0xDF);
    ck_assert_uint_eq(ask(0xD0) & 0x03, I8042_OUT_RESET | I8042_OUT_A20);
}
END_TEST

START_TEST(test_output_port_write_with_bit_0_low_resets_the_cpu)
{
    ck_assert_int_eq(command(0xD1), I8042_NONE);
    ck_assert_int_eq(send(I8042_OUT_A20), I8042_RESET);
}
END_TEST

START_TEST(test_pulse_0xfe_resets_the_cpu)
{
    ck_assert_int_eq(command(0xFE), I8042_RESET);
}
END_TEST

START_TEST(test_pulses_leaving_line_0_alone_do_not_reset)
{
    ck_assert_int_eq(command(0xFF), I8042_NONE);
    ck_assert_int_eq(command(0xFD), I8042_NONE);
    ck_assert_int_eq(command(0xF0), I8042_RESET); /* all four lines, line 0 among them */
}
END_TEST

START_TEST(test_keyboard_reset_answers_ack_then_self_test_passed)
{
    send(0xFF);
    ck_assert_uint_eq(data(), 0xFA);
    ck_assert_uint_eq(data(), 0xAA);
    ck_assert_uint_eq(status() & I8042_STR_OBF, 0);
}
END_TEST

START_TEST(test_keyboard_identifies_as_mf2_translated_or_not)
{
    send(0xF2);
    ck_assert_uint_eq(data(), 0xFA);
    ck_assert_uint_eq(data(), 0xAB);
    ck_assert_uint_eq(data(), 0x41);
    write_ctr(I8042_CTR_KBDINT);
    send(0xF2);
    data();
    data();
    ck_assert_uint_eq(data(), 0x83);
}
END_TEST

START_TEST(test_keyboard_commands_with_a_parameter_ack_both_bytes)
{
    send(0xED); /* LEDs */
    ck_assert_uint_eq(data(), 0xFA);
    send(0x07);
    ck_assert_uint_eq(data(), 0xFA);
    ck_assert_uint_eq(K.kbd_leds, 7);
    send(0xF0); /* which scan-code set */
    ck_assert_uint_eq(data(), 0xFA);
    send(0x00);
    ck_assert_uint_eq(data(), 0xFA);
    ck_assert_uint_eq(data(), 2);
}
END_TEST

START_TEST(test_keyboard_asks_to_resend_an_unknown_command)
{
    send(0x12);
    ck_assert_uint_eq(data(), 0xFE);
}
END_TEST

START_TEST(test_keyboard_byte_raises_irq_1_while_unread)
{
    send(0xF4);
    ck_assert_int_eq(level[0], 1);
    ck_assert_int_eq(level[1], 0);
    ck_assert_uint_eq(data(), 0xFA);
    ck_assert_int_eq(level[0], 0);
}
END_TEST

START_TEST(test_each_waiting_byte_is_a_new_irq_1_edge)
{
    send(0xFF);
    ck_assert_int_eq(rises[0], 1);
    data();
    ck_assert_int_eq(rises[0], 2); /* 0xAA moved in: the line fell and rose again */
    data();
    ck_assert_int_eq(level[0], 0);
}
END_TEST

START_TEST(test_no_irq_1_when_the_command_byte_disables_it)
{
    write_ctr(I8042_CTR_XLATE);
    send(0xF4);
    ck_assert_uint_eq(status() & I8042_STR_OBF, I8042_STR_OBF);
    ck_assert_int_eq(rises[0], 0);
}
END_TEST

START_TEST(test_keyboard_bytes_wait_while_its_port_is_disabled)
{
    command(0xAD);
    send(0xF4);
    ck_assert_uint_eq(status() & I8042_STR_OBF, 0);
    command(0xAE);
    ck_assert_uint_eq(status() & I8042_STR_OBF, I8042_STR_OBF);
    ck_assert_uint_eq(data(), 0xFA);
}
END_TEST

START_TEST(test_aux_loopback_returns_the_byte_as_aux_data_on_irq_12)
{
    write_ctr(I8042_CTR_AUXINT | I8042_CTR_SYS);
    ck_assert_int_eq(command(0xD3), I8042_NONE);
    send(0xA5);
    ck_assert_uint_eq(status() & (I8042_STR_OBF | I8042_STR_AUXDATA), I8042_STR_OBF | I8042_STR_AUXDATA);
    ck_assert_int_eq(level[1], 1);
    ck_assert_int_eq(level[0], 0);
    ck_assert_uint_eq(data(), 0xA5);
    ck_assert_int_eq(level[1], 0);
}
END_TEST

START_TEST(test_a_byte_for_the_absent_aux_device_times_out_at_once)
{
    command(0xD4);
    send(0xF2);
    ck_assert_uint_eq(status() & (I8042_STR_OBF | I8042_STR_AUXDATA | I8042_STR_TIMEOUT),
                      I8042_STR_OBF | I8042_STR_AUXDATA | I8042_STR_TIMEOUT);
    ck_assert_uint_eq(data(), 0xFE);
    ck_assert_uint_eq(status() & (I8042_STR_OBF | I8042_STR_TIMEOUT), 0);
}
END_TEST

START_TEST(test_write_to_keyboard_buffer_comes_back_as_keyboard_data)
{
    command(0xD2);
    send(0x1E);
    ck_assert_uint_eq(status() & (I8042_STR_OBF | I8042_STR_AUXDATA), I8042_STR_OBF);
    ck_assert_uint_eq(data(), 0x1E);
}
END_TEST

START_TEST(test_controller_ram_holds_what_is_written)
{
    command(0x7F);
    send(0x99);
    ck_assert_uint_eq(ask(0x3F), 0x99);
}
END_TEST

START_TEST(test_pushed_keys_arrive_while_scanning_and_not_after_0xf5)
{
    const uint8_t keys[] = {0x1E, 0x9E};
    ck_assert_uint_eq(i8042_kbd_push(&K, &irqs, keys, 2), 2);
    ck_assert_uint_eq(data(), 0x1E);
    ck_assert_uint_eq(data(), 0x9E);
    send(0xF5);
    data();
    ck_assert_uint_eq(i8042_kbd_push(&K, &irqs, keys, 2), 0);
}
END_TEST

START_TEST(test_pushing_more_than_the_queue_holds_takes_what_fits)
{
    uint8_t keys[40] = {0};
    ck_assert_uint_eq(i8042_kbd_push(&K, &irqs, keys, sizeof keys), I8042_QUEUE);
}
END_TEST

START_TEST(test_reading_an_empty_buffer_repeats_the_last_byte)
{
    ck_assert_uint_eq(ask(0xAA), 0x55);
    ck_assert_uint_eq(data(), 0x55);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("i8042");
    TCase *tc = tcase_create("controller");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_power_on_status_says_present_unlocked_and_empty);
    tcase_add_test(tc, test_power_on_command_byte_enables_keyboard_interrupt_and_translation_with_aux_off);
    tcase_add_test(tc, test_self_test_answers_0x55);
    tcase_add_test(tc, test_interface_tests_answer_no_error);
    tcase_add_test(tc, test_command_byte_written_with_0x60_reads_back_with_0x20);
    tcase_add_test(tc, test_command_byte_system_flag_shows_in_the_status);
    tcase_add_test(tc, test_port_enable_and_disable_commands_set_the_command_byte_bits);
    tcase_add_test(tc, test_output_port_reads_back_a20_and_the_reset_line_high);
    tcase_add_test(tc, test_output_port_write_with_bit_0_low_resets_the_cpu);
    tcase_add_test(tc, test_pulse_0xfe_resets_the_cpu);
    tcase_add_test(tc, test_pulses_leaving_line_0_alone_do_not_reset);
    tcase_add_test(tc, test_aux_loopback_returns_the_byte_as_aux_data_on_irq_12);
    tcase_add_test(tc, test_a_byte_for_the_absent_aux_device_times_out_at_once);
    tcase_add_test(tc, test_write_to_keyboard_buffer_comes_back_as_keyboard_data);
    tcase_add_test(tc, test_controller_ram_holds_what_is_written);
    tcase_add_test(tc, test_reading_an_empty_buffer_repeats_the_last_byte);
    suite_add_tcase(s, tc);
    TCase *kb = tcase_create("keyboard");
    tcase_add_checked_fixture(kb, setup, NULL);
    tcase_add_test(kb, test_keyboard_reset_answers_ack_then_self_test_passed);
    tcase_add_test(kb, test_keyboard_identifies_as_mf2_translated_or_not);
    tcase_add_test(kb, test_keyboard_commands_with_a_parameter_ack_both_bytes);
    tcase_add_test(kb, test_keyboard_asks_to_resend_an_unknown_command);
    tcase_add_test(kb, test_keyboard_byte_raises_irq_1_while_unread);
    tcase_add_test(kb, test_each_waiting_byte_is_a_new_irq_1_edge);
    tcase_add_test(kb, test_no_irq_1_when_the_command_byte_disables_it);
    tcase_add_test(kb, test_keyboard_bytes_wait_while_its_port_is_disabled);
    tcase_add_test(kb, test_pushed_keys_arrive_while_scanning_and_not_after_0xf5);
    tcase_add_test(kb, test_pushing_more_than_the_queue_holds_takes_what_fits);
    suite_add_tcase(s, kb);
    return s;
}

SUITE_MAIN(make_suite)

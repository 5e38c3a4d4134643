/* The host seam (emu/machine.h): one hook called at exact multiples of N instructions and at
 * stops, which may pause or stop the run; typed host inputs routed to their device, logged
 * naming it, recorded and replayed. The guest is the echo fixture, which polls COM1 forever. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emu/evlog.h"
#include "emu/machine.h"
#include "emu/record.h"
#include "emu/recplay.h"
#include "support/suite_main.h"
#include "support/testutil.h"

static machine m;
static vm_error err;
static char serial[256];
static size_t serial_len;

/* What the hook saw: the icount of each call and whether it was a stop. */
#define MAX_CALLS 64
static uint64_t call_at[MAX_CALLS];
static bool call_stop[MAX_CALLS];
static size_t calls;
static uint64_t pause_at_call;  /* return true (pause) at this boundary; 0 = never */
static uint64_t stop_at_call;   /* call machine_stop at this boundary; 0 = never */
static bool feed_inputs;        /* deliver the inputs below at their boundaries */

static void to_serial(void *ctx, uint8_t byte)
{
    (void)ctx;
    if (serial_len < sizeof serial - 1)
        serial[serial_len++] = (char)byte;
}

static void deliver(host_device dev, const char *bytes)
{
    host_input in = {.device = dev, .kind = HOST_BYTES, .bytes = (const uint8_t *)bytes, .len = strlen(bytes)};
    ck_assert_uint_eq(machine_host_input(&m, &in), strlen(bytes));
}

static bool hook(machine *mm, void *ctx, bool at_stop)
{
    (void)ctx;
    uint64_t now = machine_insns(mm);
    if (calls < MAX_CALLS) {
        call_at[calls] = now;
        call_stop[calls] = at_stop;
        calls++;
    }
    if (at_stop)
        return false;
    if (feed_inputs && now == 2000)
        deliver(HOST_COM1, "ab");
    if (feed_inputs && now == 3000)
        deliver(HOST_KEYBOARD, "\x1e");
    if (feed_inputs && now == 4000)
        deliver(HOST_COM1, "q");
    if (stop_at_call && now == stop_at_call)
        machine_stop(mm, "the test's hook");
    return pause_at_call && now == pause_at_call;
}

static void boot(uint64_t max_insns)
{
    machine_config c;
    machine_config_defaults(&c);
    c.max_insns = max_insns;
    c.snap_every = 1000;
    ck_assert_msg(machine_init(&m, &c, tu_fixture("echo"), &err), "%s", err.msg);
    machine_set_serial_out(&m, to_serial, NULL);
}

static void setup(void)
{
    memset(&err, 0, sizeof err);
    serial_len = 0;
    memset(serial, 0, sizeof serial);
    calls = 0;
    pause_at_call = stop_at_call = 0;
    feed_inputs = false;
}

static void teardown(void) { machine_free(&m); }

START_TEST(test_the_hook_is_called_at_exact_multiples_of_n_and_at_the_stop)
{
    boot(10500);
    machine_set_host_hook(&m, 1000, hook, NULL);
    ck_assert_int_eq(machine_run(&m), END_LIMIT);
    ck_assert_uint_eq(calls, 11);
    for (size_t i = 0; i < 10; i++) {
        ck_assert_uint_eq(call_at[i], (i + 1) * 1000);
        ck_assert(!call_stop[i]);
    }
    ck_assert_uint_eq(call_at[10], 10500);
    ck_assert(call_stop[10]);
}
END_TEST

START_TEST(test_a_pause_asked_by_the_hook_ends_the_run_at_that_boundary)
{
    boot(0);
    pause_at_call = 3000;
    machine_set_host_hook(&m, 1000, hook, NULL);
    ck_assert_int_eq(machine_run(&m), END_RUNNING);
    ck_assert_uint_eq(machine_insns(&m), 3000);
    ck_assert(m.host_paused);
    ck_assert(call_stop[calls - 1]); /* the stop call follows the boundary's */
}
END_TEST

START_TEST(test_a_stop_asked_by_the_hook_ends_the_run_at_that_boundary)
{
    boot(0);
    stop_at_call = 5000;
    machine_set_host_hook(&m, 1000, hook, NULL);
    ck_assert_int_eq(machine_run(&m), END_STOPPED);
    ck_assert_uint_eq(machine_insns(&m), 5000);
    ck_assert_str_eq(m.end_message, "stopped by the test's hook");
    size_t ends = 0;
    for (size_t i = 0; i < evlog_count(&m.log); i++)
        ends += tu_event(&m.log, i)->kind == EV_END;
    ck_assert_uint_eq(ends, 1); /* logged once, by machine_run as it returns */
}
END_TEST

START_TEST(test_a_machine_interrupt_pauses_at_the_next_boundary)
{
    boot(0);
    machine_set_host_hook(&m, 1000, NULL, NULL);
    machine_interrupt(&m); /* as a signal handler would, before or during the run */
    ck_assert_int_eq(machine_run(&m), END_RUNNING);
    ck_assert_uint_eq(machine_insns(&m), 1000);
}
END_TEST

/* The n-th EV_INPUT of the log, or NULL. */
static const vm_event *input_event(machine *mm, size_t n)
{
    for (size_t i = 0; i < evlog_count(&mm->log); i++) {
        const vm_event *ev = tu_event(&mm->log, i);
        if (ev->kind == EV_INPUT && n-- == 0)
            return ev;
    }
    return NULL;
}

static void check_inputs(machine *mm)
{
    const vm_event *com = input_event(mm, 0), *key = input_event(mm, 1), *q = input_event(mm, 2);
    ck_assert_ptr_nonnull(com);
    ck_assert_ptr_nonnull(key);
    ck_assert_ptr_nonnull(q);
    ck_assert_ptr_null(input_event(mm, 3));
    ck_assert_uint_eq(com->icount, 2000);
    ck_assert_uint_eq(com->args[4], HOST_COM1);
    ck_assert_uint_eq(com->num, 2);
    ck_assert_int_eq(memcmp(com->args, "ab", 2), 0);
    ck_assert_uint_eq(key->icount, 3000);
    ck_assert_uint_eq(key->args[4], HOST_KEYBOARD);
    ck_assert_uint_eq(key->num, 1);
    ck_assert_uint_eq(key->args[0] & 0xFF, 0x1E);
    ck_assert_uint_eq(q->icount, 4000);
    ck_assert_uint_eq(q->args[4], HOST_COM1);
}

START_TEST(test_com1_input_reaches_the_uart_and_is_logged_naming_com1)
{
    boot(0);
    deliver(HOST_COM1, "x");
    ck_assert_uint_eq(m.com1.in_count + m.com1.rx_count, 1);
    const vm_event *ev = input_event(&m, 0);
    ck_assert_ptr_nonnull(ev);
    char text[256], json[256];
    ev_format_text(ev, 0, text, sizeof text);
    ev_format_json(ev, 0, json, sizeof json);
    ck_assert_msg(strstr(text, " serial 1 bytes \"x\""), "%s", text);
    ck_assert_msg(strstr(json, "\"device\": \"com1\"") || strstr(json, "\"device\":\"com1\""), "%s", json);
}
END_TEST

START_TEST(test_keyboard_input_reaches_the_i8042_and_is_logged_naming_the_keyboard)
{
    boot(0);
    deliver(HOST_KEYBOARD, "\x1e");
    ck_assert(m.kbc.obf);
    ck_assert_uint_eq(m.kbc.out & 0xFF, 0x1E);
    const vm_event *ev = input_event(&m, 0);
    ck_assert_ptr_nonnull(ev);
    char text[256], json[256];
    ev_format_text(ev, 0, text, sizeof text);
    ev_format_json(ev, 0, json, sizeof json);
    ck_assert_msg(strstr(text, " keyboard 1 bytes \"\\x1e\""), "%s", text);
    ck_assert_msg(strstr(json, "\"device\": \"keyboard\"") || strstr(json, "\"device\":\"keyboard\""), "%s", json);
}
END_TEST

START_TEST(test_inputs_of_both_devices_are_recorded_and_replayed_at_the_same_instructions)
{
    const char *rec = tu_tmp("hostseam_rec");
    char report[1024];
    boot(0);
    feed_inputs = true;
    machine_set_host_hook(&m, 1000, hook, NULL);
    ck_assert_msg(recplay_record(&m, rec, &err), "%s", err.msg);
    ck_assert_int_eq(machine_run(&m), END_EXIT_PORT);
    ck_assert_str_eq(serial, "AB\n");
    check_inputs(&m);
    ck_assert_msg(recplay_finish(&m, report, sizeof report, &err), "%s", err.msg);
    machine_free(&m);

    setup(); /* a fresh machine without the feeding hook: the inputs come from the record */
    boot(0);
    ck_assert_msg(recplay_replay(&m, rec, false, &err), "%s", err.msg);
    ck_assert_int_eq(machine_run(&m), END_EXIT_PORT);
    ck_assert_str_eq(serial, "AB\n");
    check_inputs(&m);
    bool ok = recplay_finish(&m, report, sizeof report, &err);
    ck_assert_msg(ok && m.end != END_DIVERGED, "%s %s", report, err.msg);
    unlink(rec);
}
END_TEST

/* Record the echo run fed by the hook; leaves the machine freed. */
static void record_fed_run(const char *rec)
{
    char report[1024];
    boot(0);
    feed_inputs = true;
    machine_set_host_hook(&m, 1000, hook, NULL);
    ck_assert_msg(recplay_record(&m, rec, &err), "%s", err.msg);
    ck_assert_int_eq(machine_run(&m), END_EXIT_PORT);
    ck_assert_msg(recplay_finish(&m, report, sizeof report, &err), "%s", err.msg);
    machine_free(&m);
    setup();
}

START_TEST(test_a_recorded_input_for_an_unknown_device_diverges_naming_it)
{
    char rec[4096], rec2[4096];
    snprintf(rec, sizeof rec, "%s", tu_tmp("hostseam_rec"));
    snprintf(rec2, sizeof rec2, "%s", tu_tmp("hostseam_rec2"));
    record_fed_run(rec);
    rec_header h;
    rec_reader *rd = rec_open(rec, &h, &err);
    ck_assert_msg(rd != NULL, "%s", err.msg);
    rec_writer *w = rec_create(rec2, &h, &err);
    ck_assert_msg(w != NULL, "%s", err.msg);
    rec_entry e;
    int got;
    while ((got = rec_next(rd, &e, &err)) == 1) {
        if (e.kind == REC_INPUT && e.payload[0] == HOST_KEYBOARD)
            e.payload[0] = 7;
        ck_assert_msg(rec_append(w, &e, &err), "%s", err.msg);
    }
    ck_assert_int_eq(got, 0);
    ck_assert(rec_close(w, &err));
    rec_close_reader(rd);
    boot(0);
    ck_assert_msg(recplay_replay(&m, rec2, false, &err), "%s", err.msg);
    ck_assert_int_eq(machine_run(&m), END_DIVERGED);
    ck_assert_uint_eq(machine_insns(&m), 3000);
    char report[1024];
    ck_assert(recplay_finish(&m, report, sizeof report, &err));
    ck_assert_msg(strstr(report, "names a device this vmiemu does not have"), "%s", report);
    ck_assert_msg(strstr(report, "an input for device 7 at icount 3000"), "%s", report);
    unlink(rec);
    unlink(rec2);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("hostseam");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_the_hook_is_called_at_exact_multiples_of_n_and_at_the_stop);
    tcase_add_test(tc, test_a_pause_asked_by_the_hook_ends_the_run_at_that_boundary);
    tcase_add_test(tc, test_a_stop_asked_by_the_hook_ends_the_run_at_that_boundary);
    tcase_add_test(tc, test_a_machine_interrupt_pauses_at_the_next_boundary);
    tcase_add_test(tc, test_com1_input_reaches_the_uart_and_is_logged_naming_com1);
    tcase_add_test(tc, test_keyboard_input_reaches_the_i8042_and_is_logged_naming_the_keyboard);
    tcase_add_test(tc, test_inputs_of_both_devices_are_recorded_and_replayed_at_the_same_instructions);
    tcase_add_test(tc, test_a_recorded_input_for_an_unknown_device_diverges_naming_it);
    suite_add_tcase(s, tc);
    return s;
}

SUITE_MAIN(suite)

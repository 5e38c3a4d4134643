/* The event log kept in compressed, indexed chunks: every event reads back exactly, lookups by
 * number, kind and icount decode at most one chunk, memory stays within --log-mem (older chunks
 * spilled), and cutting the log back works wherever the cut falls. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "emu/evlog.h"
#include "support/suite_main.h"
#include "support/testutil.h"

static evlog log_;

static void setup(void) { evlog_init(&log_); }
static void teardown(void) { evlog_free(&log_); }

/* Event i of a made-up run: mostly calls, every 7th an exception, every 13th a port read. */
static vm_event made_up(size_t i)
{
    vm_event ev = {0};
    ev.icount = 100 + i * 37 + (i % 5);
    ev.eip = 0x100000u + (uint32_t)(i % 97) * 4;
    ev.kind = i % 7 == 0 ? EV_EXCEPTION : i % 13 == 0 ? EV_PORT_IN : EV_VMI_CALL;
    ev.num = (uint16_t)(i % 7 == 0 ? 14 : 67);
    ev.nargs = 1;
    ev.args[0] = (uint32_t)(i % 3);
    ev.args[1] = (uint32_t)(i * 2654435761u);
    ev.result = (uint64_t)i * 1000003u;
    ev.extra[2] = i % 11 == 0 ? 0xDEADBEEFu : 0;
    ev.failed = i % 17 == 0;
    ev.insns = ev.kind == EV_VMI_CALL && i % 3 == 0 ? 2 + (uint32_t)(i % 4) : 0; /* a native slot's length */
    return ev;
}

static void add(size_t n)
{
    for (size_t i = evlog_count(&log_); i < n; i++) {
        vm_event ev = made_up(i);
        ck_assert(evlog_add(&log_, &ev));
    }
}

static void assert_event(size_t i)
{
    vm_event got, want = made_up(i);
    ck_assert_msg(evlog_get(&log_, i, &got), "event %zu unreadable", i);
    ck_assert_uint_eq(got.icount, want.icount);
    ck_assert_uint_eq(got.result, want.result);
    ck_assert_uint_eq(got.eip, want.eip);
    ck_assert_uint_eq(got.kind, want.kind);
    ck_assert_uint_eq(got.num, want.num);
    ck_assert_uint_eq(got.nargs, want.nargs);
    ck_assert_uint_eq(got.failed, want.failed);
    ck_assert_uint_eq(got.insns, want.insns);
    ck_assert_msg(memcmp(got.args, want.args, sizeof got.args) == 0, "event %zu: arguments differ", i);
    ck_assert_msg(memcmp(got.extra, want.extra, sizeof got.extra) == 0, "event %zu: extras differ", i);
}

START_TEST(test_every_event_reads_back_exactly)
{
    add(3 * EVLOG_CHUNK + 100);
    for (size_t i = 0; i < evlog_count(&log_); i++)
        assert_event(i);
    vm_event ev;
    ck_assert(!evlog_get(&log_, evlog_count(&log_), &ev));
}
END_TEST

START_TEST(test_a_million_events_take_a_few_bytes_each)
{
    add(1000000);
    evlog_stats st;
    evlog_get_stats(&log_, &st);
    ck_assert_msg(st.memory_bytes < 16 * 1000000 + (2u << 20), "%zu bytes for 10^6 events", st.memory_bytes);
}
END_TEST

START_TEST(test_the_nth_event_of_a_kind_is_found_with_one_decode)
{
    add(1000000);
    evlog_stats before, after;
    size_t calls = evlog_count_kind(&log_, EV_VMI_CALL, evlog_count(&log_)), at;
    ck_assert_uint_gt(calls, 700000);
    const size_t ns[] = {0, 1, 12345, calls / 2, calls - 1};
    for (int k = 0; k < 5; k++) {
        evlog_get_stats(&log_, &before);
        ck_assert(evlog_find_kind(&log_, EV_VMI_CALL, ns[k], &at));
        evlog_get_stats(&log_, &after);
        ck_assert_uint_le(after.decodes - before.decodes, 1);
        vm_event ev;
        ck_assert(evlog_get(&log_, at, &ev));
        ck_assert_uint_eq(ev.kind, EV_VMI_CALL);
        ck_assert_uint_eq(evlog_count_kind(&log_, EV_VMI_CALL, at), ns[k]); /* exactly n calls before it */
    }
    ck_assert(!evlog_find_kind(&log_, EV_VMI_CALL, calls, &at));
}
END_TEST

START_TEST(test_the_first_event_at_an_icount_is_found)
{
    add(200000);
    const size_t is[] = {0, 4095, 4096, 99999, 199999};
    for (int k = 0; k < 5; k++)
        ck_assert_uint_eq(evlog_find_icount(&log_, made_up(is[k]).icount), is[k]);
    ck_assert_uint_eq(evlog_find_icount(&log_, made_up(199999).icount + 1), 200000);
}
END_TEST

START_TEST(test_a_native_call_is_found_at_the_icount_it_was_logged_not_entered)
{
    add(2 * EVLOG_CHUNK + 10);
    const size_t is[] = {3, 4092, 4098, 2 * EVLOG_CHUNK + 7}; /* calls with insns > 0 */
    for (int k = 0; k < 4; k++) {
        vm_event ev = made_up(is[k]);
        ck_assert_uint_gt(ev.insns, 0);
        ck_assert_uint_eq(evlog_find_icount(&log_, ev_logged_at(&ev)), is[k]);
        ck_assert_uint_eq(evlog_find_icount(&log_, ev_logged_at(&ev) + 1), is[k] + 1);
    }
}
END_TEST

/* SetPxE(pte 0x1003, ptr 0x2000) entered at icount 500, its slot two instructions. */
static vm_event set_pxe(void)
{
    vm_event ev = {.icount = 500, .eip = 0x100123, .kind = EV_VMI_CALL, .num = 38, .nargs = 2, .insns = 2};
    ev.args[0] = 0x1003;
    ev.args[1] = 0x2000;
    return ev;
}

START_TEST(test_a_native_call_as_json_has_its_entry_icount_and_its_slot_length)
{
    vm_event ev = set_pxe();
    char buf[512];
    ck_assert_uint_lt(ev_format_json(&ev, 7, buf, sizeof buf), sizeof buf);
    ck_assert_msg(strstr(buf, "\"icount\":500,") && strstr(buf, "\"call\":\"SetPxE\"") && strstr(buf, "\"insns\":2"), "%s", buf);
    ev_format_text(&ev, 7, buf, sizeof buf);
    ck_assert_msg(strstr(buf, "#7 icount=500 ") && strstr(buf, " insns=2"), "%s", buf);
}
END_TEST

START_TEST(test_a_host_call_as_json_has_no_slot_length)
{
    vm_event ev = {.icount = 500, .kind = EV_VMI_CALL, .num = 27, .result = 1234}; /* RDTSC */
    char buf[512];
    ck_assert_uint_lt(ev_format_json(&ev, 0, buf, sizeof buf), sizeof buf);
    ck_assert_msg(strstr(buf, "\"icount\":500,") && !strstr(buf, "insns"), "%s", buf);
}
END_TEST

START_TEST(test_over_the_memory_cap_old_chunks_are_spilled_and_still_read)
{
    evlog_set_mem_limit(&log_, 64 << 10);
    add(400000);
    evlog_stats st;
    evlog_get_stats(&log_, &st);
    ck_assert_uint_gt(st.spilled, 0);
    ck_assert_uint_le(st.compressed_bytes, 64 << 10);
    for (size_t i = 0; i < evlog_count(&log_); i += 997)
        assert_event(i);
    assert_event(0);
}
END_TEST

START_TEST(test_cutting_back_into_a_spilled_chunk_then_going_on)
{
    evlog_set_mem_limit(&log_, 64 << 10);
    add(400000);
    evlog_truncate(&log_, 5 * EVLOG_CHUNK + 17); /* into a chunk long spilled */
    ck_assert_uint_eq(evlog_count(&log_), 5 * EVLOG_CHUNK + 17);
    ck_assert_uint_eq(evlog_count_kind(&log_, EV_VMI_CALL, evlog_count(&log_)),
                      evlog_count_kind(&log_, EV_VMI_CALL, 5 * EVLOG_CHUNK + 17));
    add(300000); /* the same events again: the re-run future */
    for (size_t i = 0; i < evlog_count(&log_); i += 101)
        assert_event(i);
    size_t at;
    ck_assert(evlog_find_kind(&log_, EV_VMI_CALL, 200000, &at));
    ck_assert_uint_eq(evlog_count_kind(&log_, EV_VMI_CALL, at), 200000);
}
END_TEST

START_TEST(test_cutting_back_within_the_newest_events)
{
    add(EVLOG_CHUNK + 10);
    evlog_truncate(&log_, EVLOG_CHUNK + 3);
    evlog_truncate(&log_, EVLOG_CHUNK); /* exactly at a chunk's end */
    ck_assert_uint_eq(evlog_count(&log_), EVLOG_CHUNK);
    add(EVLOG_CHUNK + 10);
    for (size_t i = 0; i < evlog_count(&log_); i++)
        assert_event(i);
}
END_TEST

/* The whole emulator: two million VMI calls grow its peak memory by only a few MiB (the log was
 * 64 bytes an event: 128 MiB here). */
START_TEST(test_two_million_calls_grow_peak_memory_by_a_few_mib)
{
    const char *small[] = {"-m", "16", "--serial", "none", "--append", "iters=1000", tu_kernel("callloop"), NULL};
    run_result r = tu_run(small);
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    long base = ru.ru_maxrss; /* KiB: the largest child so far */
    tu_free(&r);
    const char *big[] = {"-m", "16", "--serial", "none", "--append", "iters=2000000", tu_kernel("callloop"), NULL};
    r = tu_run(big);
    ck_assert_msg(r.status == 33, "%d: %s", r.status, r.err);
    getrusage(RUSAGE_CHILDREN, &ru);
    ck_assert_msg(ru.ru_maxrss - base < 16 * 1024, "peak RSS %ld KiB, %ld KiB with 1000 calls", ru.ru_maxrss, base);
    tu_free(&r);
}
END_TEST

static Suite *evlog_suite(void)
{
    Suite *s = suite_create("evlog");
    TCase *tc = tcase_create("chunks");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_every_event_reads_back_exactly);
    tcase_add_test(tc, test_a_million_events_take_a_few_bytes_each);
    tcase_add_test(tc, test_the_nth_event_of_a_kind_is_found_with_one_decode);
    tcase_add_test(tc, test_the_first_event_at_an_icount_is_found);
    tcase_add_test(tc, test_a_native_call_is_found_at_the_icount_it_was_logged_not_entered);
    tcase_add_test(tc, test_a_native_call_as_json_has_its_entry_icount_and_its_slot_length);
    tcase_add_test(tc, test_a_host_call_as_json_has_no_slot_length);
    tcase_add_test(tc, test_over_the_memory_cap_old_chunks_are_spilled_and_still_read);
    tcase_add_test(tc, test_cutting_back_into_a_spilled_chunk_then_going_on);
    tcase_add_test(tc, test_cutting_back_within_the_newest_events);
    tcase_add_test(tc, test_two_million_calls_grow_peak_memory_by_a_few_mib);
    suite_add_tcase(s, tc);
    return s;
}

SUITE_MAIN(evlog_suite)

/* The 8254 PIT in virtual time. Expected cycles are computed outside the model: PIT tick k
 * starts at cycle ceil(k * cpu_hz / 1193182), a count written during tick t loads at t + 1,
 * and the numbers below were worked out with that formula (or are exact at cpu_hz = m * PIT_HZ). */
#include <check.h>
#include <string.h>

#include "emu/pit.h"
#include "support/suite_main.h"

#define GHZ 1000000000ull

static pit T;
static uint64_t clock_now;
static int level = 1; /* the PIT starts with OUT high */
static int rises, falls;

static void irq_set(void *opaque, int n, int lvl)
{
    (void)opaque;
    (void)n;
    if (lvl && !level)
        rises++;
    if (!lvl && level)
        falls++;
    level = lvl;
}

static const irq_line L = {irq_set, NULL, 0}; /* channel 0's OUT, counted */

static void start_at(uint64_t hz)
{
    clock_now = 0;
    level = 1;
    rises = falls = 0;
    pit_init(&T, hz);
}

static void out_at(uint64_t cycle, uint8_t offset, uint8_t v)
{
    clock_now = cycle;
    pit_write(&T, &L, clock_now, offset, v);
}

static uint8_t in_at(uint64_t cycle, uint8_t offset)
{
    clock_now = cycle;
    return (uint8_t)pit_read(&T, &L, clock_now, offset);
}

/* Channel 0, lobyte/hibyte, in `mode`, with count n, written at `cycle`. */
static void program0(uint64_t cycle, int mode, uint32_t n)
{
    out_at(cycle, 3, (uint8_t)(0x30 | mode << 1));
    out_at(cycle, 0, (uint8_t)(n & 0xFF));
    out_at(cycle, 0, (uint8_t)(n >> 8 & 0xFF));
}

/* Run the scheduler to channel 0's next rising edge; returns its cycle. */
static uint64_t next_rise(void)
{
    uint64_t e = pit_next_event(&T);
    ck_assert_uint_ne(e, UINT64_MAX);
    clock_now = e;
    int before = rises;
    pit_advance(&T, &L, e);
    ck_assert_int_eq(rises, before + 1);
    return e;
}

/* A tick-by-tick 8254 channel as the datasheet describes it, to check the model's closed
 * formulas: mode 2 counts N..1 (OUT low at 1) and reloads; mode 3 counts down by two, an
 * odd count spending one extra tick high. A second count (n2, written during tick w2) is
 * used from the first reload after it. Returns the rising-edge ticks in rises_out. */
static int reference_rises(int mode, uint32_t n1, uint64_t load, uint32_t n2, uint64_t w2, uint64_t horizon,
                           uint64_t *rises_out, int max)
{
    int k = 0;
    bool out = true;
    uint32_t n = n1;
    uint32_t count = mode == 3 ? (n & ~1u) : n;
    for (uint64_t t = load + 1; t <= horizon && k < max; t++) {
        uint32_t cr = t > w2 ? n2 : n1;
        bool was = out;
        if (mode == 2) {
            if (count == 1)
                count = cr;
            else
                count--;
            out = count != 1;
        } else if ((n & 1) && out && count == 0) {
            out = false; /* one tick after an odd count expires */
            n = cr;
            count = n & ~1u;
        } else {
            count -= 2;
            if (count == 0 && !((n & 1) && out)) {
                out = !out;
                n = cr;
                count = n & ~1u;
            }
        }
        if (out && !was)
            rises_out[k++] = t;
    }
    return k;
}

static uint64_t ceil_cycle(uint64_t tick, uint64_t hz) { return (tick * hz + PIT_HZ - 1) / PIT_HZ; }

START_TEST(test_edges_match_a_tick_by_tick_counter)
{
    static const uint64_t hzs[] = {GHZ, 33333333, PIT_HZ, 2ull * PIT_HZ};
    static const uint32_t counts[] = {2, 3, 7, 100, 1001, 65535, 65536};
    for (size_t h = 0; h < sizeof hzs / sizeof hzs[0]; h++) {
        for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
            for (int mode = 2; mode <= 3; mode++) {
                uint32_t n1 = counts[i], n2 = counts[(i + 3) % 7];
                uint64_t hz = hzs[h], w1 = 12345 + i * 777, l1 = w1 * PIT_HZ / hz;
                uint64_t w2 = mode == 2 ? ceil_cycle(l1 + 1 + n1 / 2, hz) : UINT64_MAX; /* mid-period */
                uint64_t t2 = w2 == UINT64_MAX ? UINT64_MAX : w2 * PIT_HZ / hz;
                uint64_t want[6];
                int k = reference_rises(mode, n1, l1 + 1, n2, t2, l1 + 1 + 6ull * 65536, want, 6);
                ck_assert_int_eq(k, 6);
                start_at(hz);
                program0(w1, mode, n1 & 0xFFFF);
                if (w2 != UINT64_MAX) {
                    out_at(w2, 0, (uint8_t)(n2 & 0xFF));
                    out_at(w2, 0, (uint8_t)(n2 >> 8 & 0xFF));
                }
                for (int e = 0; e < k; e++)
                    ck_assert_uint_eq(next_rise(), ceil_cycle(want[e], hz));
            }
        }
    }
}
END_TEST

START_TEST(test_ticks_and_cycles_convert_exactly_without_drift)
{
    start_at(GHZ);
    ck_assert_uint_eq(pit_cycle_of_tick(&T, 1193182), GHZ);
    ck_assert_uint_eq(pit_cycle_of_tick(&T, 1193182ull * 86400 * 365), 31536000000000000ull);
    ck_assert_uint_eq(pit_ticks_at(&T, 31536000000000000ull), 1193182ull * 86400 * 365);
    for (uint64_t k = 1; k < 5000; k++) {
        uint64_t c = pit_cycle_of_tick(&T, k);
        ck_assert_uint_eq(pit_ticks_at(&T, c), k);
        ck_assert_uint_eq(pit_ticks_at(&T, c - 1), k - 1);
    }
}
END_TEST

START_TEST(test_power_on_channel0_runs_at_18_hz)
{
    start_at(GHZ);
    ck_assert_uint_eq(pit_next_event(&T), 54925402); /* ceil(65536e9 / 1193182) */
    pit_advance(&T, &L, 27462700);
    ck_assert_int_eq(level, 1);
    pit_advance(&T, &L, 27462701); /* half period: mode 3 drops OUT */
    ck_assert_int_eq(level, 0);
    ck_assert_uint_eq(next_rise(), 54925402);
}
END_TEST

START_TEST(test_mode2_rises_every_period_at_1_ghz)
{
    start_at(GHZ);
    program0(0, 2, 1000); /* loaded at tick 1: rises at ticks 1001, 2001, 3001 */
    ck_assert_uint_eq(next_rise(), 838934);
    ck_assert_uint_eq(next_rise(), 1677029);
    ck_assert_uint_eq(next_rise(), 2515124);
}
END_TEST

START_TEST(test_mode2_rises_every_period_at_three_times_the_pit_clock)
{
    start_at(3ull * PIT_HZ);
    program0(10, 2, 100); /* cycle 10 is in tick 3: loaded at 4, rises at 104, 204, 304 */
    ck_assert_uint_eq(next_rise(), 312);
    ck_assert_uint_eq(next_rise(), 612);
    ck_assert_uint_eq(next_rise(), 912);
}
END_TEST

START_TEST(test_mode2_pulses_low_for_one_tick_before_each_rise)
{
    start_at(3ull * PIT_HZ);
    program0(0, 2, 100); /* loaded at tick 1; count 1 (OUT low) at tick 100 = cycle 300 */
    pit_advance(&T, &L, 299);
    ck_assert_int_eq(level, 1);
    pit_advance(&T, &L, 300);
    ck_assert_int_eq(level, 0);
    pit_advance(&T, &L, 303);
    ck_assert_int_eq(level, 1);
}
END_TEST

START_TEST(test_count_zero_means_65536_at_100_mhz)
{
    start_at(100000000);
    program0(12345, 2, 0); /* tick 147: rises at 147 + 1 + 65536 k */
    ck_assert_uint_eq(next_rise(), 5504944);
    ck_assert_uint_eq(next_rise(), 10997485);
}
END_TEST

START_TEST(test_mode3_odd_count_is_high_one_tick_longer)
{
    start_at(2ull * PIT_HZ);
    program0(0, 3, 5); /* loaded at tick 1: high for ticks 1-3, low for 4-5, rises at 6 */
    pit_advance(&T, &L, 7);
    ck_assert_int_eq(level, 1);
    pit_advance(&T, &L, 8);
    ck_assert_int_eq(level, 0);
    ck_assert_uint_eq(next_rise(), 12);
    ck_assert_uint_eq(next_rise(), 22);
}
END_TEST

START_TEST(test_mode3_even_count_is_a_square_wave)
{
    start_at(2ull * PIT_HZ);
    program0(0, 3, 4); /* high for ticks 1-2, low for 3-4, rises at 5 */
    pit_advance(&T, &L, 5);
    ck_assert_int_eq(level, 1);
    pit_advance(&T, &L, 6);
    ck_assert_int_eq(level, 0);
    ck_assert_uint_eq(next_rise(), 10);
    ck_assert_uint_eq(next_rise(), 18);
}
END_TEST

START_TEST(test_mode0_rises_once_count_plus_one_ticks_after_the_write)
{
    start_at(GHZ);
    program0(1000, 0, 500); /* cycle 1000 is tick 1: OUT low now, high at tick 502 */
    ck_assert_int_eq(level, 0);
    ck_assert_uint_eq(next_rise(), 420724);
    ck_assert_uint_eq(pit_next_event(&T), UINT64_MAX);
    pit_advance(&T, &L, 10 * GHZ);
    ck_assert_int_eq(level, 1);
    ck_assert_int_eq(rises, 1);
}
END_TEST

START_TEST(test_latch_freezes_the_count_until_both_bytes_are_read)
{
    start_at(GHZ);
    program0(0, 2, 1000);
    out_at(210362, 3, 0x00); /* tick 251: 250 ticks counted, 750 = 0x2EE left */
    ck_assert_uint_eq(in_at(300000, 0), 0xEE);
    ck_assert_uint_eq(in_at(400000, 0), 0x02);
    ck_assert_uint_eq(in_at(502858, 0), 0x91); /* live again: tick 600, 401 = 0x191 */
}
END_TEST

START_TEST(test_second_latch_before_reading_is_ignored)
{
    start_at(GHZ);
    program0(0, 2, 1000);
    out_at(210362, 3, 0x00);
    out_at(502858, 3, 0x00);
    ck_assert_uint_eq(in_at(502858, 0), 0xEE);
    ck_assert_uint_eq(in_at(502858, 0), 0x02);
}
END_TEST

START_TEST(test_live_word_reads_alternate_low_and_high_bytes)
{
    start_at(GHZ);
    program0(0, 2, 1000);
    ck_assert_uint_eq(in_at(210362, 0), 0xEE); /* tick 251: 0x2EE */
    ck_assert_uint_eq(in_at(502858, 0), 0x01); /* tick 600: 0x191 */
    ck_assert_uint_eq(in_at(502858, 0), 0x91);
}
END_TEST

START_TEST(test_lobyte_access_loads_and_reads_the_low_byte)
{
    start_at(GHZ);
    out_at(0, 3, 0x14); /* channel 0, lobyte, mode 2 */
    out_at(0, 0, 100);
    ck_assert_uint_eq(next_rise(), 84648); /* tick 101 */
    ck_assert_uint_eq(in_at(pit_cycle_of_tick(&T, 111), 0), 90);
}
END_TEST

START_TEST(test_hibyte_access_loads_and_reads_the_high_byte)
{
    start_at(GHZ);
    out_at(0, 3, 0x24); /* channel 0, hibyte, mode 2 */
    out_at(0, 0, 0x02); /* count 512 */
    ck_assert_uint_eq(next_rise(), 429943); /* tick 513 */
    ck_assert_uint_eq(in_at(429943, 0), 0x02);
    ck_assert_uint_eq(in_at(pit_cycle_of_tick(&T, 513 + 257), 0), 0x00); /* 255 left */
}
END_TEST

START_TEST(test_new_mode2_count_takes_effect_at_the_end_of_the_period)
{
    start_at(GHZ);
    program0(0, 2, 1000);
    out_at(419048, 0, 200); /* tick 500 */
    out_at(419048, 0, 0);
    ck_assert_uint_eq(next_rise(), 838934);  /* tick 1001, old period */
    ck_assert_uint_eq(next_rise(), 1006553); /* tick 1201 */
    ck_assert_uint_eq(next_rise(), 1174172); /* tick 1401 */
}
END_TEST

START_TEST(test_new_mode0_count_restarts_at_once)
{
    start_at(GHZ);
    program0(0, 0, 1000);
    out_at(419048, 0, 0x2C); /* tick 500: count 300, loaded at 501 */
    out_at(419048, 0, 0x01);
    pit_advance(&T, &L, 670477); /* tick 800 */
    ck_assert_int_eq(level, 0);
    ck_assert_uint_eq(next_rise(), 671315); /* tick 801 */
}
END_TEST

START_TEST(test_new_mode3_count_takes_effect_at_the_end_of_the_half_period)
{
    start_at(2ull * PIT_HZ);
    program0(0, 3, 10); /* high ticks 1-5, low 6-10 */
    out_at(6, 0, 4);    /* tick 3: the new count takes over at tick 6 with its low half */
    out_at(6, 0, 0);
    pit_advance(&T, &L, 11);
    ck_assert_int_eq(level, 1);
    pit_advance(&T, &L, 12);
    ck_assert_int_eq(level, 0);
    ck_assert_uint_eq(next_rise(), 16); /* tick 8 */
    ck_assert_uint_eq(next_rise(), 24); /* tick 12 */
}
END_TEST

START_TEST(test_read_back_status_reports_out_null_count_and_mode)
{
    start_at(3ull * PIT_HZ);
    out_at(0, 3, 0x34);
    out_at(0, 3, 0xE2); /* read-back, status only, channel 0 */
    ck_assert_uint_eq(in_at(0, 0), 0xF4); /* OUT high, null count, lohi, mode 2 */
    out_at(0, 0, 100);
    out_at(0, 0, 0);
    out_at(3, 3, 0xC2); /* status and count at tick 1: loaded */
    ck_assert_uint_eq(in_at(3, 0), 0xB4);
    ck_assert_uint_eq(in_at(3, 0), 100);
    ck_assert_uint_eq(in_at(3, 0), 0);
}
END_TEST

START_TEST(test_mode5_control_word_silences_channel0)
{
    start_at(GHZ);
    out_at(0, 3, 0x3A); /* what Linux's VMI timer writes to disable the PIT */
    ck_assert_uint_eq(pit_next_event(&T), UINT64_MAX);
    pit_advance(&T, &L, 100 * GHZ);
    ck_assert_int_eq(level, 1);
    ck_assert_int_eq(rises + falls, 0);
}
END_TEST

START_TEST(test_one_late_advance_delivers_every_edge)
{
    start_at(GHZ);
    program0(0, 2, 1000);
    clock_now = 2515124;
    pit_advance(&T, &L, 2515124); /* tick 3001 */
    ck_assert_int_eq(rises, 3);
    ck_assert_int_eq(falls, 3);
    ck_assert_int_eq(level, 1);
}
END_TEST

START_TEST(test_port_61_shows_channel2_out_for_tsc_calibration)
{
    start_at(GHZ);
    out_at(0, 3, 0x3A); /* channel 0 silent, so irq0 shows only what channel 2 does */
    pit_speaker_write(&T, &L, clock_now, (pit_speaker_read(&T, &L, clock_now) & ~0x02u) | 0x01u);
    out_at(0, 3, 0xB0); /* channel 2, lohi, mode 0: Linux's calibrate_tsc() */
    out_at(0, 2, 59659 & 0xFF);
    out_at(0, 2, 59659 >> 8);
    clock_now = 50000754;
    ck_assert_uint_eq(pit_speaker_read(&T, &L, clock_now) & 0x21u, 0x01);
    clock_now = 50000755; /* tick 59660 */
    ck_assert_uint_eq(pit_speaker_read(&T, &L, clock_now) & 0x21u, 0x21);
    ck_assert_int_eq(rises + falls, 0); /* channel 2 is not wired to irq0 */
}
END_TEST

START_TEST(test_gate_low_pauses_a_mode0_count_on_channel2)
{
    start_at(3ull * PIT_HZ);
    clock_now = 0;
    pit_speaker_write(&T, &L, clock_now, 0x01);
    out_at(0, 3, 0xB0);
    out_at(0, 2, 100); /* loaded at tick 1 */
    out_at(0, 2, 0);
    clock_now = 33; /* tick 11: 10 counted */
    pit_speaker_write(&T, &L, clock_now, 0x00);
    out_at(150, 3, 0x80); /* latch at tick 50 */
    ck_assert_uint_eq(in_at(150, 2), 90);
    ck_assert_uint_eq(in_at(150, 2), 0);
    pit_speaker_write(&T, &L, clock_now, 0x01); /* resumes: 90 more ticks, high at tick 140 */
    clock_now = 419;
    ck_assert_uint_eq(pit_speaker_read(&T, &L, clock_now) & 0x20u, 0);
    clock_now = 420;
    ck_assert_uint_eq(pit_speaker_read(&T, &L, clock_now) & 0x20u, 0x20);
}
END_TEST

START_TEST(test_refresh_bit_toggles_every_18_ticks)
{
    start_at(PIT_HZ);
    clock_now = 17;
    ck_assert_uint_eq(pit_speaker_read(&T, &L, clock_now) & 0x10u, 0);
    clock_now = 18;
    ck_assert_uint_eq(pit_speaker_read(&T, &L, clock_now) & 0x10u, 0x10);
    clock_now = 36;
    ck_assert_uint_eq(pit_speaker_read(&T, &L, clock_now) & 0x10u, 0);
}
END_TEST

START_TEST(test_channel1_counts_without_touching_irq0)
{
    start_at(PIT_HZ);
    out_at(0, 3, 0x54); /* channel 1, lobyte, mode 2 */
    out_at(0, 1, 18);
    ck_assert_uint_eq(in_at(5, 1), 14); /* tick 5: 4 counted */
    ck_assert_uint_eq(in_at(19, 1), 18); /* tick 19: reloaded */
    ck_assert_int_eq(rises + falls, 0);
    ck_assert_uint_eq(pit_next_event(&T), 65536); /* channel 0 still at its power-on rate */
}
END_TEST

START_TEST(test_control_port_reads_all_ones)
{
    start_at(GHZ);
    ck_assert_uint_eq(in_at(0, 3), 0xFF);
    pit_write(&T, &L, clock_now, 7, 0x30); /* outside the range: ignored */
    ck_assert_uint_eq(pit_next_event(&T), 54925402);
}
END_TEST

static Suite *pit_suite(void)
{
    Suite *s = suite_create("pit");
    TCase *tc = tcase_create("8254");
    tcase_add_test(tc, test_ticks_and_cycles_convert_exactly_without_drift);
    tcase_add_test(tc, test_power_on_channel0_runs_at_18_hz);
    tcase_add_test(tc, test_mode2_rises_every_period_at_1_ghz);
    tcase_add_test(tc, test_mode2_rises_every_period_at_three_times_the_pit_clock);
    tcase_add_test(tc, test_mode2_pulses_low_for_one_tick_before_each_rise);
    tcase_add_test(tc, test_count_zero_means_65536_at_100_mhz);
    tcase_add_test(tc, test_mode3_odd_count_is_high_one_tick_longer);
    tcase_add_test(tc, test_mode3_even_count_is_a_square_wave);
    tcase_add_test(tc, test_mode0_rises_once_count_plus_one_ticks_after_the_write);
    tcase_add_test(tc, test_latch_freezes_the_count_until_both_bytes_are_read);
    tcase_add_test(tc, test_second_latch_before_reading_is_ignored);
    tcase_add_test(tc, test_live_word_reads_alternate_low_and_high_bytes);
    tcase_add_test(tc, test_lobyte_access_loads_and_reads_the_low_byte);
    tcase_add_test(tc, test_hibyte_access_loads_and_reads_the_high_byte);
    tcase_add_test(tc, test_new_mode2_count_takes_effect_at_the_end_of_the_period);
    tcase_add_test(tc, test_new_mode0_count_restarts_at_once);
    tcase_add_test(tc, test_edges_match_a_tick_by_tick_counter);
    tcase_add_test(tc, test_new_mode3_count_takes_effect_at_the_end_of_the_half_period);
    tcase_add_test(tc, test_read_back_status_reports_out_null_count_and_mode);
    tcase_add_test(tc, test_mode5_control_word_silences_channel0);
    tcase_add_test(tc, test_one_late_advance_delivers_every_edge);
    tcase_add_test(tc, test_port_61_shows_channel2_out_for_tsc_calibration);
    tcase_add_test(tc, test_gate_low_pauses_a_mode0_count_on_channel2);
    tcase_add_test(tc, test_refresh_bit_toggles_every_18_ticks);
    tcase_add_test(tc, test_channel1_counts_without_touching_irq0);
    tcase_add_test(tc, test_control_port_reads_all_ones);
    suite_add_tcase(s, tc);
    return s;
}

SUITE_MAIN(pit_suite)

/* timer: VMI alarms wired to IRQ 0 through the 8259 PIC (remapped to vector 0x20). A periodic
 * alarm of frequency/hz cycles on the real counter, Halt between ticks, the cycle counter
 * read at each tick (with a ROM the ticks must be exactly one period apart); a one-shot alarm
 * re-armed from the handler 3 times (expiry = previous expiry + period: exact again);
 * CancelAlarm's answer for a periodic, a fired one-shot and a pending one-shot; a periodic
 * flag with period 0 fires once; re-arming an armed alarm replaces it.
 * Natively the PIT stands in (vmi.h) and QEMU's timing follows a busy host: only the mean gap
 * is checked, within a factor of 2, and one tick already latched before CancelAlarm is allowed.
 * Command line: hz=N (default 100), ticks=N (default 10, at most 60). */
#include <stdint.h>

#include "check.h"
#include "clock.h"
#include "div64.h"
#include "kernel.h"
#include "kprintf.h"
#include "multiboot.h"
#include "pic.h"
#include "pit.h"
#include "trap.h"
#include "vmi.h"

#define MAX_TICKS 64
#define ONESHOT_REARMS 3
#define ALARM (VMI_CYCLES_REAL | VMI_ALARM_WIRED_IRQ0)
#define ENTRY_SLACK 10000 /* cycles from the alarm to the handler's counter read, at most */

static volatile uint32_t ticks;
static volatile uint64_t stamp[MAX_TICKS];
static volatile uint32_t rearms_left;
static uint64_t period, next_expiry;
static bool exact; /* the ROM does alarms: ticks are exactly where they were asked for */

static void irq0(struct trap_frame *f)
{
    (void)f;
    const uint64_t now = vmi_get_cycle_counter(VMI_CYCLES_REAL);
    if (ticks < MAX_TICKS)
        stamp[ticks] = now;
    ticks++;
    if (rearms_left) {
        rearms_left--;
        next_expiry += period;
        vmi_set_alarm(ALARM | VMI_ALARM_IS_ONESHOT, next_expiry, 0);
    }
    pic_eoi(PIC_IRQ_TIMER);
}

/* First tick by spinning (proves the alarm fires without trusting Halt to wake), the rest
 * with Halt. */
static bool wait_ticks(uint32_t n)
{
    return clock_wait_count(&ticks, 1, 20 * period, false) &&
           clock_wait_count(&ticks, n, (uint64_t)(2 * n + 20) * period, true);
}

/* Interrupts on for `periods` periods (spinning; natively 4 times as long, QEMU's timers
 * may lag a busy host), then off; returns the ticks that came. */
static uint32_t ticks_during(uint32_t periods)
{
    const uint32_t before = ticks, window = exact ? periods : 4 * periods;
    clock_wait_count(&ticks, 0xFFFFFFFFu, (uint64_t)window * period, false);
    return ticks - before;
}

/* Tick spacing: with a ROM every gap is exactly `period`; natively the mean gap is within a
 * factor of 2 of it (a wrong unit or conversion is off by far more). */
static void check_spacing(const char *name, uint32_t n)
{
    uint64_t min = ~0ull, max = 0;
    unsigned exact_gaps = 0;
    for (uint32_t i = 1; i < n; i++) {
        const uint64_t d = stamp[i] - stamp[i - 1];
        min = d < min ? d : min;
        max = d > max ? d : max;
        exact_gaps += d == period;
    }
    const uint64_t total = stamp[n - 1] - stamp[0], want = (uint64_t)(n - 1) * period;
    kprintf("%s: gaps min %llu max %llu mean %llu cycles (period %llu)\n", name, min, max,
            div64_u64(total, n - 1), period);
    if (exact)
        check(name, exact_gaps == n - 1, "%u of %u gaps are exactly one period", exact_gaps, n - 1);
    else
        check(name, total >= want / 2 && total <= 2 * want,
              "%llu cycles for %u periods of %llu", total, n - 1, period);
}

static void test_periodic(uint32_t n)
{
    ticks = 0;
    const uint64_t t0 = clock_now();
    vmi_set_alarm(ALARM | VMI_ALARM_IS_PERIODIC, t0 + period, period);
    if (!check("periodic alarm: ticks arrive, Halt between them", wait_ticks(n),
               "%u of %u ticks within the time allowed", ticks, n))
        return;
    const uint32_t pending = vmi_cancel_alarm(ALARM | VMI_ALARM_IS_PERIODIC);
    if (exact)
        check("periodic alarm: first tick at expiry", stamp[0] >= t0 + period &&
                  stamp[0] < t0 + period + ENTRY_SLACK,
              "tick seen at %llu, expiry %llu", stamp[0], t0 + period);
    check_spacing("periodic alarm: one period per tick", n);
    check("CancelAlarm(periodic) returns non-zero", pending != 0, "returned %u", pending);
    const uint32_t late = ticks_during(3);
    check("no tick after CancelAlarm", exact ? late == 0 : late <= 1, "%u tick(s) in 3 periods",
          late);
}

static void test_oneshot(void)
{
    const uint32_t n = 1 + ONESHOT_REARMS;
    ticks = 0;
    rearms_left = ONESHOT_REARMS;
    next_expiry = clock_now() + period;
    const uint64_t first = next_expiry;
    vmi_set_alarm(ALARM | VMI_ALARM_IS_ONESHOT, next_expiry, 0);
    if (!check("one-shot alarm re-armed 3 times from the handler", wait_ticks(n),
               "%u of %u ticks within the time allowed", ticks, n))
        return;
    if (exact)
        check("one-shot alarm: first tick at expiry", stamp[0] >= first &&
                  stamp[0] < first + ENTRY_SLACK,
              "tick seen at %llu, expiry %llu", stamp[0], first);
    check_spacing("one-shot alarms: one period apart", n);
    const uint32_t late = ticks_during(3);
    check("one-shot: no tick once not re-armed", late == 0, "%u tick(s) in 3 periods", late);
    const uint32_t pending = vmi_cancel_alarm(ALARM | VMI_ALARM_IS_ONESHOT);
    check("CancelAlarm after the one-shot fired returns 0", pending == 0, "returned %u", pending);
}

static void test_cancel_pending(void)
{
    ticks = 0;
    vmi_set_alarm(ALARM | VMI_ALARM_IS_ONESHOT, clock_now() + 100 * period, 0);
    const uint32_t first = vmi_cancel_alarm(ALARM | VMI_ALARM_IS_ONESHOT);
    const uint32_t second = vmi_cancel_alarm(ALARM | VMI_ALARM_IS_ONESHOT);
    check("CancelAlarm of a pending one-shot: non-zero, then 0", first != 0 && second == 0,
          "returned %u then %u", first, second);
}

static void test_period_zero(void)
{
    ticks = 0;
    vmi_set_alarm(ALARM | VMI_ALARM_IS_PERIODIC, clock_now() + period, 0);
    const uint32_t got = ticks_during(5);
    check("periodic flag with period 0 fires once", got == 1, "%u tick(s) in 5 periods", got);
    vmi_cancel_alarm(ALARM | VMI_ALARM_IS_PERIODIC);
}

static void test_replace(void)
{
    ticks = 0;
    vmi_set_alarm(ALARM | VMI_ALARM_IS_ONESHOT, clock_now() + 50 * period, 0);
    vmi_set_alarm(ALARM | VMI_ALARM_IS_ONESHOT, clock_now() + period, 0);
    const uint32_t got = ticks_during(4);
    const uint32_t pending = vmi_cancel_alarm(ALARM | VMI_ALARM_IS_ONESHOT);
    check("SetAlarm on an armed alarm replaces it", got == 1 && pending == 0,
          "%u tick(s) in 4 periods, CancelAlarm then returned %u", got, pending);
}

void kmain(uint32_t magic, const struct multiboot_info *mbi)
{
    kernel_start("timer");
    const char *cmdline = mb_cmdline(magic, mbi);
    uint32_t hz = 100, n = 10;
    if (mb_cmdline_u32(cmdline, "hz", &hz) < 0 || mb_cmdline_u32(cmdline, "ticks", &n) < 0 ||
        hz == 0 || n < 2 || n > MAX_TICKS - 4) {
        check("command line", false, "bad hz= or ticks= in \"%s\"", cmdline);
        check_finish("timer");
    }
    exact = vmi_has(VMI_CALL_SetAlarm);
    const uint64_t freq = clock_frequency();
    kprintf("timer: cycle frequency %llu Hz (%s), alarms by %s\n", freq,
            vmi_has(VMI_CALL_GetCycleFrequency) ? "GetCycleFrequency" : "TSC against the PIT",
            exact ? "the ROM" : "the PIT");
    if (!check("cycle frequency known", freq >= hz, "%llu Hz", freq))
        check_finish("timer");
    period = div64_u64(freq, hz);
    kprintf("timer: %u Hz: period %llu cycles, %u ticks\n", hz, period, n);

    pit_disable(); /* as Linux's vmi_time_init: silence the BIOS tick */
    pic_init(1u << PIC_IRQ_TIMER);
    trap_set_handler(PIC_VECTOR_BASE + PIC_IRQ_TIMER, irq0, 0);

    test_periodic(n);
    test_oneshot();
    test_cancel_pending();
    test_period_zero();
    test_replace();
    pic_init(0);
    check_finish("timer");
}

#include "clock.h"

#include "cpu.h"
#include "pit.h"
#include "vmi.h"

#define CAL_TICKS (PIT_HZ / 50)  /* 20 ms of PIT channel 2 */
#define CAL_PER_SEC 50
#define CAL_TRIES 3               /* keep the shortest: a preempted try only ever runs long */
#define CAL_POLL_LIMIT 100000000u /* port reads before giving up on channel 2 */

static bool calibrated;
static uint64_t tsc_hz;
static uint32_t apic_hz;

/* Time one channel-2 countdown with the TSC and, if `apic`, the APIC timer (already set to
 * divide by 1, masked, one-shot). Both start before the countdown and stop after it, so a
 * preempted CPU can only make the measurement longer. False if channel 2 never finished. */
static bool time_countdown(bool apic, uint64_t *tsc, uint32_t *apic_ticks)
{
    const uint64_t t0 = native_rdtsc();
    if (apic)
        vmi_apic_write(APIC_REG_TIMER_INIT, 0xFFFFFFFFu);
    pit_ch2_start(CAL_TICKS);
    uint32_t polls = 0;
    while (!pit_ch2_done() && ++polls < CAL_POLL_LIMIT)
        ;
    const uint64_t t1 = native_rdtsc();
    *apic_ticks = apic ? 0xFFFFFFFFu - vmi_apic_read(APIC_REG_TIMER_CUR) : 0;
    *tsc = t1 - t0;
    return polls < CAL_POLL_LIMIT;
}

/* The TSC and APIC-timer rates from the shortest of CAL_TRIES countdowns (a host that
 * preempts the CPU mid-measurement only makes a try longer). The APIC timer's LVT and
 * divider are put back. */
static void calibrate(void)
{
    calibrated = true;
    const bool apic = vmi_apic_present();
    const uint32_t lvt = apic ? vmi_apic_read(APIC_REG_LVTT) : 0;
    const uint32_t div = apic ? vmi_apic_read(APIC_REG_TIMER_DIV) : 0;
    if (apic) {
        vmi_apic_write(APIC_REG_TIMER_DIV, 0xB); /* divide by 1 */
        vmi_apic_write(APIC_REG_LVTT, APIC_LVT_MASKED | 0xFF);
    }
    const uint32_t flags = vmi_get_interrupt_mask();
    vmi_disable_interrupts();
    uint64_t best = ~0ull;
    uint32_t best_apic = 0;
    for (int i = 0; i < CAL_TRIES; i++) {
        uint64_t tsc;
        uint32_t ticks;
        if (time_countdown(apic, &tsc, &ticks) && tsc < best) {
            best = tsc;
            best_apic = ticks;
        }
    }
    if (apic) {
        vmi_apic_write(APIC_REG_TIMER_INIT, 0);
        vmi_apic_write(APIC_REG_LVTT, lvt);
        vmi_apic_write(APIC_REG_TIMER_DIV, div);
    }
    vmi_set_interrupt_mask(flags);
    if (best == ~0ull)
        return;
    tsc_hz = best * CAL_PER_SEC;
    apic_hz = best_apic * CAL_PER_SEC;
}

uint64_t clock_frequency(void)
{
    if (vmi_has(VMI_CALL_GetCycleFrequency))
        return vmi_get_cycle_frequency();
    if (!calibrated)
        calibrate();
    return tsc_hz;
}

uint32_t clock_apic_timer_hz(void)
{
    if (!calibrated)
        calibrate();
    return apic_hz;
}

uint64_t clock_now(void) { return vmi_get_cycle_counter(VMI_CYCLES_REAL); }

bool clock_wait_count(volatile uint32_t *count, uint32_t target, uint64_t budget, bool halt)
{
    const uint64_t start = clock_now();
    bool reached = false;
    if (halt) {
        for (;;) {
            vmi_disable_interrupts(); /* test and sleep without losing a wake-up */
            if ((reached = *count >= target) || clock_now() - start > budget)
                break;
            vmi_halt(); /* enables interrupts and sleeps until one has been handled */
        }
    } else {
        /* interrupts stay on throughout, so a tick is taken the moment it is due */
        vmi_enable_interrupts();
        while (!(reached = *count >= target) && clock_now() - start <= budget)
            __asm__ volatile("pause");
        vmi_disable_interrupts();
        reached = *count >= target;
    }
    return reached;
}

/* irqloop: the cost of a timer interrupt. The 8259 PIC is remapped (IRQ 0 at vector 0x20) and
 * an IRQ 0 handler counts and sends the EOI. A periodic timer drives it: with a ROM, VMI
 * SetAlarm on the real counter, wired to IRQ 0, every `period=P` cycles (default 1676);
 * natively PIT channel 0 in mode 2 (rate generator), P cycles converted to PIT ticks with the
 * measured TSC rate and rounded, at least 2 -- or `pit=T` ticks as given (2..65536). Two
 * phases, `iters=N` interrupts each (default 100000); the words `spin` or `halt` run only
 * that phase:
 *
 *   spin: interrupts on, a busy loop (no VMI call in it) until N interrupts have arrived;
 *   halt: DisableInterrupts, test the count, VMI Halt (natively sti; hlt), until N arrived.
 *
 * Each phase prints its interrupt count, the cycle-counter difference and (halt) the number
 * of Halt calls; PASS (exit 33) if every phase got its N interrupts within its budget, else
 * FAIL (exit 35). */
#include <stdint.h>

#include "clock.h"
#include "div64.h"
#include "exit.h"
#include "kernel.h"
#include "kprintf.h"
#include "multiboot.h"
#include "pic.h"
#include "pit.h"
#include "trap.h"
#include "vmi.h"

#define DEFAULT_ITERS 100000u
#define DEFAULT_PERIOD 1676u /* two PIT ticks (1676.2 ns): what QEMU -icount shift=0 gets natively */
#define ALARM (VMI_CYCLES_REAL | VMI_ALARM_WIRED_IRQ0 | VMI_ALARM_IS_PERIODIC)
/* Give up after BUDGET_PERIODS periods per interrupt asked for (the spin phase), or after
 * twice as many Halts as interrupts (the halt phase): only a broken timer gets there. */
#define BUDGET_PERIODS 1000u
/* Natively: PIT mode 2 needs a count of at least 2 (QEMU 7.2 with 1 delivered one interrupt
 * and then starved the guest). */
#define MIN_PIT_TICKS 2u
#define SPIN_CHECK_MASK 0xFFFu /* read the counter every 4096 passes of the busy loop */

static volatile uint32_t ticks;
static uint32_t period;   /* cycles */
static uint32_t pit_ticks; /* natively: the PIT's period */
static bool rom_alarm;     /* the ROM provides SetAlarm */

/* Start / stop the periodic IRQ 0: VMI SetAlarm, or natively PIT channel 0 in mode 2. */
static void timer_start(uint64_t now)
{
    if (rom_alarm)
        vmi_set_alarm(ALARM, now + period, period);
    else
        pit_periodic(pit_ticks);
}

static void timer_stop(void)
{
    if (rom_alarm)
        vmi_cancel_alarm(ALARM);
    else
        pit_stop();
}

static void irq0(struct trap_frame *f)
{
    (void)f;
    ticks++;
    pic_eoi(PIC_IRQ_TIMER);
}

static _Noreturn void fail(const char *why)
{
    kprintf("irqloop: FAIL (%s)\n", why);
    test_exit(TEST_FAIL);
}

static bool spin_phase(uint32_t n)
{
    const uint64_t budget = ((uint64_t)n + 16) * period * BUDGET_PERIODS;
    ticks = 0;
    const uint64_t t0 = clock_now();
    timer_start(t0);
    vmi_enable_interrupts();
    uint32_t passes = 0;
    bool late = false;
    while (ticks < n) {
        if ((++passes & SPIN_CHECK_MASK) == 0 && clock_now() - t0 > budget) {
            late = true;
            break;
        }
        __asm__ volatile("" ::: "memory"); /* no pause: it leaves the translated code in QEMU */
    }
    vmi_disable_interrupts();
    const uint64_t t1 = clock_now();
    timer_stop();
    const uint32_t got = ticks;
    kprintf("irqloop: spin: %u interrupts, %llu cycles\n", got, t1 - t0);
    return !late && got >= n;
}

static bool halt_phase(uint32_t n)
{
    const uint32_t max_halts = 2 * n + 16;
    uint32_t halts = 0;
    ticks = 0;
    const uint64_t t0 = clock_now();
    timer_start(t0);
    for (;;) {
        vmi_disable_interrupts(); /* test and sleep without losing a wake-up */
        if (ticks >= n || halts == max_halts)
            break;
        halts++;
        vmi_halt(); /* enables interrupts, returns once one has been handled */
    }
    const uint64_t t1 = clock_now();
    timer_stop();
    const uint32_t got = ticks;
    kprintf("irqloop: halt: %u interrupts, %u halts, %llu cycles\n", got, halts, t1 - t0);
    return got >= n;
}

void kmain(uint32_t magic, const struct multiboot_info *mbi)
{
    kernel_start("irqloop");
    const char *cmdline = mb_cmdline(magic, mbi);
    uint32_t iters = DEFAULT_ITERS;
    period = DEFAULT_PERIOD;
    if (mb_cmdline_u32(cmdline, "iters", &iters) < 0 || mb_cmdline_u32(cmdline, "period", &period) < 0 ||
        period == 0)
        fail("bad iters= or period= value");
    bool spin = mb_cmdline_has(cmdline, "spin"), halt = mb_cmdline_has(cmdline, "halt");
    if (!spin && !halt)
        spin = halt = true;

    const uint64_t freq = clock_frequency();
    if (!freq)
        fail("cycle frequency unknown");
    rom_alarm = vmi_has(VMI_CALL_SetAlarm) && vmi_has(VMI_CALL_CancelAlarm);
    if (rom_alarm) {
        kprintf("irqloop: alarms by the ROM, cycle frequency %llu Hz, period %u cycles\n", freq,
                period);
    } else {
        /* P cycles in PIT ticks, rounded, at least MIN_PIT_TICKS; or pit=T as given */
        const uint64_t t = muldiv64(period, PIT_HZ, freq) + (muldiv64(period, 2 * PIT_HZ, freq) & 1);
        pit_ticks = t < MIN_PIT_TICKS ? MIN_PIT_TICKS : t > 65536 ? 65536 : (uint32_t)t;
        if (mb_cmdline_u32(cmdline, "pit", &pit_ticks) < 0 || pit_ticks < 2 || pit_ticks > 65536)
            fail("bad pit= value (2..65536)");
        const uint64_t p = muldiv64(pit_ticks, freq, PIT_HZ);
        period = p > 0xFFFFFFFFu ? 0xFFFFFFFFu : p ? (uint32_t)p : 1;
        kprintf("irqloop: alarms by the PIT, TSC %llu Hz, PIT period %u ticks = %u cycles\n",
                freq, pit_ticks, period);
    }

    pit_disable(); /* as Linux's vmi_time_init: silence the BIOS tick */
    pic_init(1u << PIC_IRQ_TIMER);
    trap_set_handler(PIC_VECTOR_BASE + PIC_IRQ_TIMER, irq0, 0);

    bool ok = true;
    if (spin && !spin_phase(iters)) {
        kprintf("irqloop: spin: too few interrupts within the budget\n");
        ok = false;
    }
    if (halt && !halt_phase(iters)) {
        kprintf("irqloop: halt: too few interrupts within the budget\n");
        ok = false;
    }
    pic_init(0);
    kprintf("irqloop: %u interrupts per phase\n", iters);
    if (!ok)
        fail("interrupts missing");
    kprintf("irqloop: PASS\n");
    test_exit(TEST_PASS);
}

/* Time for the kernels that wait: the cycle frequency (the ROM's, or natively a TSC
 * measurement against the PIT) and bounded waits for an interrupt counter. */
#ifndef TK_CLOCK_H
#define TK_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

/* Cycles per second of the real cycle counter: GetCycleFrequency when the ROM provides it;
 * natively the TSC timed over 20 ms of PIT channel 2 (the shortest of 3 tries, measured once,
 * cached). 0 if neither works (the PIT never finished counting). */
uint64_t clock_frequency(void);

/* Natively: local APIC timer ticks per second at divide-by-1, timed over the same 20 ms as
 * the TSC (measured once, cached); 0 without an APIC. Only the native alarm stand-in uses it. */
uint32_t clock_apic_timer_hz(void);

/* GetCycleCounter(real). */
uint64_t clock_now(void);

/* Wait until *count >= target, with interrupts enabled. Spinning (halt false), interrupts
 * stay on the whole time, so an interrupt is taken the moment it is due. Halting, VMI Halt
 * sleeps between interrupts, with interrupts off while *count is tested (no wake-up is lost).
 * Gives up once `budget` cycles have passed since the call -- checked whenever the CPU runs,
 * so a halted CPU that nothing wakes is not caught: halt only when an alarm is known to be
 * armed and working. Returns with interrupts disabled; true if the count was reached. */
bool clock_wait_count(volatile uint32_t *count, uint32_t target, uint64_t budget, bool halt);

#endif

/* The HPET (IA-PC High Precision Event Timer, spec 1.0a) at 0xFED00000: a 64-bit main counter
 * at 100 MHz and three timers, as QEMU's PC has it.
 *
 * Modelled: the capabilities register (revision 1, three timers, 64-bit counter, legacy
 * replacement capable, vendor 0x8086, period 10^7 fs), the configuration register (enable,
 * legacy replacement: stored), the interrupt status register (write 1 to clear), and the main
 * counter, which runs while enabled at HPET_HZ in virtual time: the cycle count scaled from the
 * CPU's clock (cpu_hz) to 100 MHz, so every read is deterministic; written while halted, it
 * counts on from the value written. Each timer's configuration (interrupt type, enable,
 * periodic, 32-bit mode, route) and comparator are stored and read back, with the
 * capability bits (periodic capable for timer 0, 64-bit, routable to IO-APIC pins 2 and 8 and
 * 16-23).
 * Not modelled: timer interrupts (no comparator fires; neither kvm-unit-tests' hpet_read_test
 * nor the Linux 2.6.32 VMI guest, whose clock is the VMI timer, programs one) and FSB delivery.
 *
 * Plain data without pointers; the caller passes the current cycle. */
#ifndef VMIEMU_HPET_H
#define VMIEMU_HPET_H

#include <stdbool.h>
#include <stdint.h>

#include "emu/state_ser.h"

#define HPET_BASE 0xFED00000ull
#define HPET_SIZE 0x1000ull          /* the registers fill 1 KiB; Unicorn maps whole pages */
#define HPET_HZ 100000000ull          /* 100 MHz */
#define HPET_PERIOD_FS 10000000u      /* femtoseconds per count */
#define HPET_TIMERS 3

typedef struct hpet_timer {
    uint64_t config;     /* the writable configuration bits */
    uint64_t comparator;
} hpet_timer;

typedef struct hpet {
    uint64_t config;     /* enable (bit 0), legacy replacement (bit 1) */
    uint64_t status;     /* interrupt status, one bit per timer */
    /* The counter read `base_count` at cycle `base_cycle`; it runs from there while enabled. */
    uint64_t base_count, base_cycle;
    uint64_t cpu_hz;
    hpet_timer timer[HPET_TIMERS];
} hpet;

void hpet_init(hpet *h, uint64_t cpu_hz);

/* A 32-bit access to the register half at `offset` (4-byte aligned) at cycle `now`. */
uint32_t hpet_read(const hpet *h, uint64_t now, uint32_t offset);
void hpet_write(hpet *h, uint64_t now, uint32_t offset, uint32_t value);

/* The main counter at cycle `now`. */
uint64_t hpet_counter(const hpet *h, uint64_t now);

void hpet_serialise(const hpet *h, state_writer *w);

#endif

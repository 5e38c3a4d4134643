/* The 8254 programmable interval timer (input clock 1193182 Hz). Channel 0 drives IRQ 0 and
 * stands in for VMI alarms natively; channel 2 (gated through port 0x61, output readable
 * there) is the reference the native TSC and APIC-timer calibration measures against. */
#ifndef TK_PIT_H
#define TK_PIT_H

#include <stdbool.h>
#include <stdint.h>

#define PIT_HZ 1193182u

/* Channel 0, mode 2 (rate generator): an IRQ 0 edge every `ticks` (1..65536) ticks. */
void pit_periodic(uint32_t ticks);

/* Channel 0, mode 0 (interrupt on terminal count): one IRQ 0 edge after `ticks` (1..65535). */
void pit_oneshot(uint32_t ticks);

/* Channel 0, mode 0 with no count written: the counter waits and the output stays low. */
void pit_stop(void);

/* What Linux's vmi_time_init does before using VMI alarms: control word 0x3A (channel 0,
 * LSB/MSB, mode 5, binary) with no count, which silences the BIOS's 18.2 Hz tick. */
void pit_disable(void);

/* Channel 2, mode 0, gate on, speaker off: counts `ticks` (1..65535) down from now;
 * pit_ch2_done() turns true at the end. */
void pit_ch2_start(uint16_t ticks);
bool pit_ch2_done(void);

#endif

/* The 8254 programmable interval timer (ports 0x40-0x43) and the speaker/gate port 0x61,
 * driven by virtual time.
 *
 * The PIT's 1193182 Hz clock is a free-running oscillator counted from cycle 0: PIT tick k
 * happens at the first CPU cycle c with floor(c * 1193182 / cpu_hz) >= k. Every time is
 * computed from that formula in integer arithmetic, so edges never drift. A count written
 * during tick t is loaded at tick t + 1, as on the chip.
 *
 * Modelled: modes 0 (interrupt on terminal count), 2 (rate generator), 3 (square wave) and
 * 4 (software strobe) on every channel; modes 1 and 5 start on a rising gate, which only
 * channel 2 has (port 0x61 bit 0; channels 0 and 1 have their gate tied high, so there they
 * hold OUT high and never count). Access modes lobyte, hibyte, lobyte/hibyte; the counter
 * latch command; the 8254 read-back command (count and status); a count of 0 means 65536;
 * a new count in modes 2 and 3 takes effect at the end of the current period (mode 2) or
 * half period (mode 3); gate low pauses modes 0/4 and stops modes 2/3.
 * Not modelled: BCD counting (the BCD bit is stored and reported, counting is binary); a
 * count of 1 in modes 2 and 3, which the datasheet forbids, leaves OUT high with no edges.
 * Only channel 0's OUT is wired (to irq0); channel 2's OUT is read through port 0x61 bit 5,
 * and port 0x61 bit 4 (DRAM refresh) toggles every 18 PIT ticks (15.1 us).
 *
 * Plain data without pointers: a snapshot copies the struct. The caller passes the current
 * CPU cycle and channel 0's interrupt line to every call that may move time forward. */
#ifndef VMIEMU_PIT_H
#define VMIEMU_PIT_H

#include <stdbool.h>
#include <stdint.h>

#include "emu/state_ser.h"
#include "emu/irq.h"
#include "mmu/error.h"

#define PIT_HZ 1193182u
#define PIT_PORT 0x40u       /* 0x40-0x42 channel data, 0x43 mode/command */
#define PIT_SPEAKER_PORT 0x61u

/* A stretch of counting: `n` is the count, started at PIT tick `start` at phase `phase`
 * (ticks already counted into the period; non-zero only when a new count in mode 3 starts
 * mid-period). */
typedef struct pit_segment {
    uint32_t n;
    uint32_t phase;
    uint64_t start;
} pit_segment;

typedef struct pit_channel {
    uint8_t mode;        /* 0..5 (6 and 7 are stored as 2 and 3) */
    uint8_t access;      /* 1 lobyte, 2 hibyte, 3 lobyte then hibyte */
    bool bcd;            /* stored and reported, counting is binary */
    bool gate;
    bool armed;          /* a count was written since the control word */
    bool counting;       /* the counter runs (or is paused, see `paused`) */
    bool paused;         /* modes 0/4 with gate low: frozen at `paused_at` ticks counted */
    bool has_next;       /* `next` takes over at next.start (a new count in modes 2/3) */
    pit_segment cur, next;
    uint64_t paused_at;
    uint32_t cr;         /* count register: the last count written, 1..65536 */
    uint64_t cr_loaded;  /* tick at which cr reaches the counter: "null count" until then */
    uint8_t write_low;   /* first byte of a lobyte/hibyte write */
    bool write_high_next;
    bool read_high_next;
    uint8_t latch_left;  /* latched count bytes still to read (0: none latched) */
    uint16_t latched;
    bool status_latched;
    uint8_t status;
} pit_channel;

typedef struct pit {
    pit_channel ch[3];
    uint64_t cpu_hz;
    uint64_t synced;     /* channel 0's OUT has been delivered to irq0 up to this tick */
    bool irq_level;      /* the level irq0 was last driven to */
    uint8_t port61;      /* writable bits of port 0x61 (0-3) */
} pit;

/* Power-on state as a PC BIOS leaves it: channel 0 in mode 3 with count 65536 (18.2 Hz),
 * counting since cycle 0 with OUT high; channels 1 and 2 unprogrammed (mode 3, no count,
 * OUT high); channel 2's gate low. irq0 is not driven here: it starts at OUT's level.
 * cpu_hz must be at least 1. */
void pit_init(pit *t, uint64_t cpu_hz);

/* Ports 0x40-0x43 at CPU cycle now_cycles: offsets 0-2 channel data, 3 the mode/command port
 * (which reads 0xFF). Each access first delivers channel 0's edges up to now_cycles to irq0. */
uint32_t pit_read(pit *t, const irq_line *irq0, uint64_t now_cycles, uint16_t offset);
void pit_write(pit *t, const irq_line *irq0, uint64_t now_cycles, uint16_t offset, uint32_t value);

/* Port 0x61: bit 0 channel 2 gate, bit 1 speaker data and bits 2-3 are stored; reads add
 * bit 4 (refresh toggle) and bit 5 (channel 2 OUT). */
uint32_t pit_speaker_read(pit *t, const irq_line *irq0, uint64_t now_cycles);
void pit_speaker_write(pit *t, const irq_line *irq0, uint64_t now_cycles, uint32_t value);

/* Absolute cycle of channel 0's next OUT rising edge after what was delivered, or
 * UINT64_MAX if OUT will not rise again unless reprogrammed. */
uint64_t pit_next_event(const pit *t);

/* Deliver channel 0's edges (falling and rising, in order) up to now_cycles to irq0. */
void pit_advance(pit *t, const irq_line *irq0, uint64_t now_cycles);

/* Conversions, exact: the PIT tick current at `cycles`, and the first cycle of tick `ticks`. */
uint64_t pit_ticks_at(const pit *t, uint64_t cycles);
uint64_t pit_cycle_of_tick(const pit *t, uint64_t ticks);

/* Write the state field by field (emu/state_ser.h). */
void pit_serialise(const pit *t, state_writer *w);

#endif

/* The CMOS real-time clock (ports 0x70/0x71), read from the virtual wall clock, so a kernel
 * that falls back to native time-keeping (--no-rom) still sees deterministic time. */
#ifndef VMIEMU_CMOS_H
#define VMIEMU_CMOS_H

#include <stdint.h>

#include "emu/state_ser.h"

typedef uint64_t (*cmos_clock_fn)(void *ctx); /* nanoseconds since 1970 */

typedef struct cmos {
    uint8_t index;
    uint8_t ram[128];
    cmos_clock_fn now;
    void *now_ctx;
} cmos;

#define CMOS_PORT 0x70u

void cmos_init(cmos *c, cmos_clock_fn now, void *ctx);
uint32_t cmos_read(void *opaque, uint16_t offset, int size);
void cmos_write(void *opaque, uint16_t offset, int size, uint32_t value);

/* Civil date from days since 1970-01-01 (exposed for tests). */
void cmos_civil_from_days(int64_t days, int *year, int *month, int *day);

/* Write the state field by field (emu/state_ser.h): not the clock callback. */
void cmos_serialise(const cmos *c, state_writer *w);

#endif

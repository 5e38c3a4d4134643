/* The CMOS real-time clock (ports 0x70/0x71), read from the virtual wall clock, so a kernel
 * that falls back to native time-keeping (--no-rom) still sees deterministic time. */
#ifndef VMIEMU_CMOS_H
#define VMIEMU_CMOS_H

#include <stdint.h>

#include "emu/state_ser.h"

/* Plain data without pointers: a snapshot copies the struct. */
typedef struct cmos {
    uint8_t index;
    uint8_t ram[128];
} cmos;

#define CMOS_PORT 0x70u

void cmos_init(cmos *c);
/* Port 0x70 + offset: 0 the index, 1 the data. Clock registers read the wall clock `now_ns`
 * (nanoseconds since 1970). */
uint32_t cmos_read(const cmos *c, uint64_t now_ns, uint16_t offset);
void cmos_write(cmos *c, uint16_t offset, uint32_t value);

/* Civil date from days since 1970-01-01 (exposed for tests). */
void cmos_civil_from_days(int64_t days, int *year, int *month, int *day);

/* Write the state field by field (emu/state_ser.h). */
void cmos_serialise(const cmos *c, state_writer *w);

#endif

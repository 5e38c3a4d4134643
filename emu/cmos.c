#include "emu/cmos.h"

#include <stdbool.h>
#include <string.h>

enum { RTC_SEC = 0, RTC_MIN = 2, RTC_HOUR = 4, RTC_WDAY = 6, RTC_MDAY = 7, RTC_MON = 8, RTC_YEAR = 9,
       RTC_STATUS_A = 0x0A, RTC_STATUS_B = 0x0B, RTC_STATUS_C = 0x0C, RTC_STATUS_D = 0x0D, RTC_CENTURY = 0x32 };
#define STATUS_B_24H 0x02u
#define STATUS_B_BINARY 0x04u
#define STATUS_D_VALID 0x80u
#define STATUS_A_UIP 0x80u
/* The MC146818 raises UIP 244 us before its once-a-second update and keeps it through the
 * update (1984 us with the 32.768 kHz base): firmware and Linux wait while it is set. */
#define UIP_BEFORE_NS 244000u
#define UIP_AFTER_NS 1984000u

void cmos_init(cmos *c)
{
    memset(c, 0, sizeof *c);
    c->ram[RTC_STATUS_A] = 0x26; /* 32.768 kHz base, 1024 Hz rate; UIP comes from the clock */
    c->ram[RTC_STATUS_B] = STATUS_B_24H; /* BCD, 24-hour, as PC firmware leaves it */
    c->ram[RTC_STATUS_D] = STATUS_D_VALID;
}

/* Howard Hinnant's days-to-civil algorithm (proleptic Gregorian). */
void cmos_civil_from_days(int64_t days, int *year, int *month, int *day)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    *year = (int)(yoe + era * 400 + (m <= 2));
    *month = (int)m;
    *day = (int)d;
}

static uint8_t encode(const cmos *c, int v)
{
    return (c->ram[RTC_STATUS_B] & STATUS_B_BINARY) ? (uint8_t)v : (uint8_t)(((v / 10) << 4) | (v % 10));
}

static uint8_t time_register(const cmos *c, uint64_t now_ns, uint8_t reg)
{
    int64_t secs = (int64_t)(now_ns / 1000000000ull);
    int64_t days = secs / 86400, rem = secs % 86400;
    int y, mo, d;
    cmos_civil_from_days(days, &y, &mo, &d);
    switch (reg) {
    case RTC_SEC: return encode(c, (int)(rem % 60));
    case RTC_MIN: return encode(c, (int)(rem / 60 % 60));
    case RTC_HOUR: return encode(c, (int)(rem / 3600));
    case RTC_WDAY: return encode(c, (int)((days + 4) % 7) + 1); /* 1970-01-01 was a Thursday */
    case RTC_MDAY: return encode(c, d);
    case RTC_MON: return encode(c, mo);
    case RTC_YEAR: return encode(c, y % 100);
    case RTC_CENTURY: return encode(c, y / 100);
    default: return 0;
    }
}

uint32_t cmos_read(const cmos *c, uint64_t now_ns, uint16_t offset)
{
    if (offset == 0)
        return c->index;
    uint8_t reg = c->index & 0x7F;
    switch (reg) {
    case RTC_SEC: case RTC_MIN: case RTC_HOUR: case RTC_WDAY:
    case RTC_MDAY: case RTC_MON: case RTC_YEAR: case RTC_CENTURY:
        return time_register(c, now_ns, reg);
    case RTC_STATUS_A: {
        uint64_t frac = now_ns % 1000000000u;
        bool updating = frac >= 1000000000u - UIP_BEFORE_NS || frac < UIP_AFTER_NS;
        return (uint8_t)((c->ram[reg] & ~STATUS_A_UIP) | (updating ? STATUS_A_UIP : 0));
    }
    case RTC_STATUS_C: return 0;
    default: return c->ram[reg];
    }
}

void cmos_write(cmos *c, uint16_t offset, uint32_t value)
{
    if (offset == 0) {
        c->index = (uint8_t)value; /* bit 7 is the NMI mask, kept as written */
        return;
    }
    uint8_t reg = c->index & 0x7F;
    if (reg == RTC_STATUS_A)
        c->ram[reg] = (uint8_t)value & ~STATUS_A_UIP; /* divider and rate select; UIP is read-only */
    else if (reg == RTC_STATUS_B)
        c->ram[reg] = (uint8_t)value & (STATUS_B_24H | STATUS_B_BINARY);
    else if (reg >= 0x0E) /* battery-backed RAM; the clock registers follow virtual time */
        c->ram[reg] = (uint8_t)value;
}

void cmos_serialise(const cmos *c, state_writer *w)
{
    state_put_u8(w, c->index);
    state_put_bytes(w, c->ram, sizeof c->ram);
}

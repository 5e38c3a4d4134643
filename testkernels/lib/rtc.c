#include "rtc.h"

#include <stdbool.h>

#include "io.h"

#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
#define RTC_SECONDS 0x00
#define RTC_MINUTES 0x02
#define RTC_HOURS 0x04
#define RTC_DAY 0x07
#define RTC_MONTH 0x08
#define RTC_YEAR 0x09
#define RTC_STATUS_A 0x0A
#define RTC_STATUS_B 0x0B
#define STATUS_A_UIP 0x80    /* update in progress: the time registers are changing */
#define STATUS_B_24H 0x02    /* else 12-hour, with bit 7 of the hour meaning PM */
#define STATUS_B_BINARY 0x04 /* else BCD */

#define UIP_POLL_LIMIT 1000000

struct rtc_time {
    uint8_t sec, min, hour, day, mon, year;
};

static uint8_t cmos_read(uint8_t reg)
{
    outb(CMOS_INDEX, reg);
    return inb(CMOS_DATA);
}

/* Read the six time registers once the RTC is not in the middle of an update. */
static bool read_raw(struct rtc_time *t)
{
    int i = 0;
    while (cmos_read(RTC_STATUS_A) & STATUS_A_UIP)
        if (++i == UIP_POLL_LIMIT)
            return false;
    t->sec = cmos_read(RTC_SECONDS);
    t->min = cmos_read(RTC_MINUTES);
    t->hour = cmos_read(RTC_HOURS);
    t->day = cmos_read(RTC_DAY);
    t->mon = cmos_read(RTC_MONTH);
    t->year = cmos_read(RTC_YEAR);
    return true;
}

static bool same_time(const struct rtc_time *a, const struct rtc_time *b)
{
    return a->sec == b->sec && a->min == b->min && a->hour == b->hour && a->day == b->day &&
           a->mon == b->mon && a->year == b->year;
}

static uint8_t from_bcd(uint8_t v) { return (uint8_t)((v >> 4) * 10 + (v & 15)); }

int32_t rtc_days_from_civil(int32_t year, uint32_t month, uint32_t day)
{
    /* Howard Hinnant's algorithm: count in 400-year eras starting on 1 March. */
    year -= month <= 2;
    const int32_t era = (year >= 0 ? year : year - 399) / 400;
    const uint32_t yoe = (uint32_t)(year - era * 400);
    const uint32_t doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
    const uint32_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int32_t)doe - 719468;
}

uint64_t rtc_read_ns(void)
{
    /* Read until two consecutive reads agree: an update may still slip in between the UIP
     * check and the reads. */
    struct rtc_time a, b;
    int tries = 0;
    do {
        if (!read_raw(&a) || !read_raw(&b) || ++tries > 10)
            return 0;
    } while (!same_time(&a, &b));

    const uint8_t status_b = cmos_read(RTC_STATUS_B);
    const bool pm = (a.hour & 0x80) != 0;
    a.hour &= 0x7F;
    if (!(status_b & STATUS_B_BINARY)) {
        a.sec = from_bcd(a.sec);
        a.min = from_bcd(a.min);
        a.hour = from_bcd(a.hour);
        a.day = from_bcd(a.day);
        a.mon = from_bcd(a.mon);
        a.year = from_bcd(a.year);
    }
    if (!(status_b & STATUS_B_24H)) /* 12 AM is hour 0, 12 PM is hour 12 */
        a.hour = (uint8_t)(a.hour % 12 + (pm ? 12 : 0));
    if (a.sec > 59 || a.min > 59 || a.hour > 23 || a.day < 1 || a.day > 31 || a.mon < 1 ||
        a.mon > 12 || a.year > 99)
        return 0;

    const int32_t year = a.year + (a.year < 70 ? 2000 : 1900);
    const int64_t days = rtc_days_from_civil(year, a.mon, a.day);
    const int64_t secs = days * 86400 + a.hour * 3600 + a.min * 60 + a.sec;
    return (uint64_t)secs * 1000000000u;
}

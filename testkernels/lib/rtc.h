/* CMOS real-time clock (MC146818 at ports 0x70/0x71): the native stand-in for VMI's
 * GetWallclockTime. */
#ifndef TK_RTC_H
#define TK_RTC_H

#include <stdint.h>

/* Wall-clock time in nanoseconds since 1970-01-01 00:00 UTC (the RTC is assumed to hold
 * UTC, as QEMU's does by default). Two-digit years are taken as 1970-2069. Resolution is
 * one second. Returns 0 if the RTC never leaves update-in-progress or reads as garbage. */
uint64_t rtc_read_ns(void);

/* Days from 1970-01-01 to the given proleptic Gregorian date (month 1-12, day 1-31). */
int32_t rtc_days_from_civil(int32_t year, uint32_t month, uint32_t day);

#endif

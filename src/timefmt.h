/* timefmt — dates and times as text, from the integers Debezium sends.
 *
 * Proleptic Gregorian calendar, any int64 input without overflow (Howard
 * Hinnant's civil_from_days). Shared by every place that shows or writes a
 * date: the jsonl renderer, SQL parameters for PostgreSQL. */
#ifndef CDC_TIMEFMT_H
#define CDC_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/* Floor division and modulo (b > 0): -1 µs is the day before the epoch. */
int64_t cdc_timefmt_floor_div(int64_t a, int64_t b);
int64_t cdc_timefmt_floor_mod(int64_t a, int64_t b);

/* Year (0 = 1 BC), month 1..12, day 1..31 of days since 1970-01-01. */
void cdc_timefmt_civil(int64_t days, int64_t *year, unsigned *month,
                       unsigned *day);

/* YYYY-MM-DD for days since 1970-01-01; years outside 0000..9999 in ISO
 * 8601's expanded form (+10000-01-01, -0001-12-31). Returns the length. */
size_t cdc_timefmt_date(char *out, size_t cap, int64_t days);

/* HH:MM:SS.fff… for `ticks` since midnight at `per_sec` ticks a second,
 * with `digits` fraction digits. */
size_t cdc_timefmt_clock(char *out, size_t cap, uint64_t ticks,
                         uint64_t per_sec, int digits);

/* Date, `separator` ('T' or ' '), clock: a timestamp without zone. */
size_t cdc_timefmt_timestamp(char *out, size_t cap, int64_t t,
                             int64_t per_sec, int digits, char separator);

#endif

#include "timefmt.h"

#include <inttypes.h>
#include <stdio.h>

int64_t cdc_timefmt_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b < 0) ? q - 1 : q;
}

int64_t cdc_timefmt_floor_mod(int64_t a, int64_t b)
{
    int64_t r = a % b;
    return r < 0 ? r + b : r;
}

/* Howard Hinnant's days_from_civil inverse ("civil_from_days"), written so
 * that no int64 input can overflow: the shift of the epoch to 0000-03-01 is
 * applied to the remainder, not to `days`. */
void cdc_timefmt_civil(int64_t days, int64_t *year, unsigned *month,
                            unsigned *day)
{
    int64_t era = cdc_timefmt_floor_div(days, 146097);
    int64_t doe = cdc_timefmt_floor_mod(days, 146097) + 719468;
    era += doe / 146097;
    doe %= 146097;                                 /* [0, 146096] */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100); /* [0, 365] */
    int64_t mp = (5 * doy + 2) / 153;                      /* [0, 11] */
    *day = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *month = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *year = y + (*month <= 2);
}

/* v in exactly `width` digits, zero-padded (v < 10^width). Hand-written:
 * every timestamp of every row goes through here. */
static void put_fixed(char *out, uint64_t v, int width)
{
    for (int i = width; i-- > 0;) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

size_t cdc_timefmt_date(char *out, size_t cap, int64_t days)
{
    int64_t y;
    unsigned m, d;
    cdc_timefmt_civil(days, &y, &m, &d);
    if (y >= 0 && y <= 9999 && cap > 10) {
        put_fixed(out, (uint64_t)y, 4);
        out[4] = '-';
        put_fixed(out + 5, m, 2);
        out[7] = '-';
        put_fixed(out + 8, d, 2);
        out[10] = '\0';
        return 10;
    }
    int n;
    if (y > 9999)
        n = snprintf(out, cap, "+%" PRId64 "-%02u-%02u", y, m, d);
    else
        n = snprintf(out, cap, "-%04" PRId64 "-%02u-%02u", -y, m, d);
    return n < 0 ? 0 : (size_t)n;
}

size_t cdc_timefmt_clock(char *out, size_t cap, uint64_t ticks,
                         uint64_t per_sec, int digits)
{
    uint64_t secs = ticks / per_sec, frac = ticks % per_sec;
    size_t need = 9 + (size_t)digits; /* hh:mm:ss. and the fraction */
    uint64_t frac_limit = 1;
    for (int i = 0; i < digits && i < 19; i++) frac_limit *= 10;
    if (secs / 3600 < 100 && digits >= 1 && digits <= 18 && frac < frac_limit &&
        cap > need) {
        put_fixed(out, secs / 3600, 2);
        out[2] = ':';
        put_fixed(out + 3, secs / 60 % 60, 2);
        out[5] = ':';
        put_fixed(out + 6, secs % 60, 2);
        out[8] = '.';
        put_fixed(out + 9, frac, digits);
        out[need] = '\0';
        return need;
    }
    int n = snprintf(out, cap,
                     "%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64 ".%0*" PRIu64,
                     secs / 3600, secs / 60 % 60, secs % 60, digits, frac);
    return n < 0 ? 0 : (size_t)n;
}

size_t cdc_timefmt_timestamp(char *out, size_t cap, int64_t t,
                             int64_t per_sec, int digits, char separator)
{
    int64_t per_day = per_sec * 86400;
    size_t n = cdc_timefmt_date(out, cap, cdc_timefmt_floor_div(t, per_day));
    if (n + 1 >= cap) return n;
    out[n++] = separator;
    return n + cdc_timefmt_clock(out + n, cap - n,
                                 (uint64_t)cdc_timefmt_floor_mod(t, per_day),
                                 (uint64_t)per_sec, digits);
}

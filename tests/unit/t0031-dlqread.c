/* The DLQ selection shared by `dlq inspect` and `dlq replay`: TIME and
 * offset-range parsing, error classes, and which records a filter keeps.
 * No broker needed. */
#include <stdint.h>

#include "dlqread.h"
#include "unit.h"

static int64_t parse(const char *text)
{
    char why[256];
    int64_t t = -1;
    return cdc_dlqread_parse_time(text, 1795400000, &t, why, sizeof why) == 0 ? t : -1;
}

static void test_times(void)
{
    CHECK_INT(parse("2026-11-22T02:10:00Z"), 1795313400);
    CHECK_INT(parse("2026-11-22T02:10:00"), 1795313400);
    CHECK_INT(parse("2026-11-22T02:10Z"), 1795313400);
    CHECK_INT(parse("2026-11-22T02:10:00.999Z"), 1795313400);
    CHECK_INT(parse("2026-11-22T03:10:00+01:00"), 1795313400);
    CHECK_INT(parse("2026-11-22T00:10:00-0200"), 1795313400);
    CHECK_INT(parse("2026-11-22"), 1795305600);
    CHECK_INT(parse("1970-01-01T00:00:00Z"), 0);
    /* Ages count back from now. */
    CHECK_INT(parse("30s"), 1795400000 - 30);
    CHECK_INT(parse("15m"), 1795400000 - 900);
    CHECK_INT(parse("2h"), 1795400000 - 7200);
    CHECK_INT(parse("1d"), 1795400000 - 86400);
    CHECK_INT(parse("0m"), 1795400000);
    /* What is not a time is refused, not guessed. */
    CHECK_INT(parse(""), -1);
    CHECK_INT(parse("15"), -1);
    CHECK_INT(parse("15x"), -1);
    CHECK_INT(parse("-5m"), -1);
    CHECK_INT(parse("2026-02-30T00:00:00Z"), -1);
    CHECK_INT(parse("2026-13-01"), -1);
    CHECK_INT(parse("2026-11-22T25:00:00Z"), -1);
    CHECK_INT(parse("2026-11-22T02:10:00Zjunk"), -1);
    CHECK_INT(parse("yesterday"), -1);
    char why[256] = "";
    int64_t t;
    CHECK(cdc_dlqread_parse_time("soon", 0, &t, why, sizeof why) == -1);
    CHECK(strstr(why, "'soon'") != NULL);
}

static void test_offsets(void)
{
    char why[256];
    int64_t a = -1, b = -1;
    CHECK_INT(cdc_dlqread_parse_offsets("10-20", &a, &b, why, sizeof why), 0);
    CHECK_INT(a, 10);
    CHECK_INT(b, 20);
    CHECK_INT(cdc_dlqread_parse_offsets("7", &a, &b, why, sizeof why), 0);
    CHECK_INT(a, 7);
    CHECK_INT(b, 7);
    CHECK_INT(cdc_dlqread_parse_offsets("20-10", &a, &b, why, sizeof why), -1);
    CHECK_INT(cdc_dlqread_parse_offsets("1-", &a, &b, why, sizeof why), -1);
    CHECK_INT(cdc_dlqread_parse_offsets("-3", &a, &b, why, sizeof why), -1);
    CHECK_INT(cdc_dlqread_parse_offsets("a-b", &a, &b, why, sizeof why), -1);
    CHECK_INT(cdc_dlqread_check_class("data", why, sizeof why), 0);
    CHECK_INT(cdc_dlqread_check_class("schema", why, sizeof why), 0);
    CHECK_INT(cdc_dlqread_check_class("transient", why, sizeof why), -1);
}

static cdc_dlqread_record_t record(const char *topic, int32_t partition,
                                  int64_t offset, const char *cls, int64_t at)
{
    cdc_dlqread_record_t r = {0};
    snprintf(r.topic, sizeof r.topic, "%s", topic);
    r.has_source = topic[0] && partition >= 0 && offset >= 0;
    r.partition = partition;
    r.offset = offset;
    snprintf(r.error_class, sizeof r.error_class, "%s", cls);
    r.has_failed_at = at >= 0;
    r.failed_at_s = at;
    return r;
}

static void test_filter(void)
{
    cdc_dlqread_filter_t f;
    cdc_dlqread_record_t r = record("t", 1, 50, "data", 1000);
    cdc_dlqread_record_t bare = record("", -1, -1, "", -1);
    cdc_dlqread_filter_init(&f);
    CHECK(cdc_dlqread_match(&f, &r));
    CHECK(cdc_dlqread_match(&f, &bare)); /* no criteria: everything */

    f.error_class = "schema";
    CHECK(!cdc_dlqread_match(&f, &r));
    f.error_class = "data";
    CHECK(cdc_dlqread_match(&f, &r));

    cdc_dlqread_filter_init(&f);
    f.since_s = 1000; /* bounds are inclusive */
    CHECK(cdc_dlqread_match(&f, &r));
    f.since_s = 1001;
    CHECK(!cdc_dlqread_match(&f, &r));
    cdc_dlqread_filter_init(&f);
    f.until_s = 1000;
    CHECK(cdc_dlqread_match(&f, &r));
    f.until_s = 999;
    CHECK(!cdc_dlqread_match(&f, &r));
    CHECK(!cdc_dlqread_match(&f, &bare)); /* no failed.at: not in any window */

    cdc_dlqread_filter_init(&f);
    f.topic = "t";
    CHECK(cdc_dlqread_match(&f, &r));
    CHECK(!cdc_dlqread_match(&f, &bare));
    f.partition = 1;
    f.offset_from = 50;
    f.offset_to = 60;
    CHECK(cdc_dlqread_match(&f, &r));
    f.offset_from = 51;
    CHECK(!cdc_dlqread_match(&f, &r));
    f.offset_from = 0;
    f.partition = 2;
    CHECK(!cdc_dlqread_match(&f, &r));
    f.partition = -1;
    f.topic = "other";
    CHECK(!cdc_dlqread_match(&f, &r));
}

int main(void)
{
    test_times();
    test_offsets();
    test_filter();
    return unit_finish("t0031-dlqread");
}

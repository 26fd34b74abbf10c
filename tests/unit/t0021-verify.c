/* `cdcsink verify` pieces that need no server: how a differing key is
 * named and read back, the exit code a report gives, the rate limit's
 * bookkeeping.
 * (The comparison itself runs against the real stack: t0700.) */
#include <stdlib.h>
#include <string.h>

#include "route.h"
#include "unit.h"
#include "verify.h"

static void check_key_names(void)
{
    cdc_verify_table_t t = {0};
    /* Named as ${key} renders: `:` between columns, `\:` and `\\` inside
     * a value, \N for NULL, so a key with a colon cannot pass for two. */
    const char *parts[] = {"a:b", NULL, "c\\d"};
    CHECK_INT(cdc_verify_add_candidate(&t, CDC_VERIFY_EXTRA, parts, 3, ""), 0);
    const char *one[] = {"42"};
    for (int i = 0; i < 40; i++) /* grows past its first allocation */
        CHECK_INT(cdc_verify_add_candidate(&t, CDC_VERIFY_MISSING, one, 1,
                                           "0123456789abcdef"), 0);
    CHECK_INT(t.ncandidates, 41);
    CHECK_STR(t.candidates[0].text, "a\\:b:\\N:c\\\\d");
    CHECK(t.candidates[0].parts[1] == NULL);
    CHECK_STR(t.candidates[0].parts[2], "c\\d");
    CHECK_STR(t.candidates[40].text, "42");
    CHECK_STR(t.candidates[40].source_digest, "0123456789abcdef");
    CHECK_INT(t.candidates[40].kind, CDC_VERIFY_MISSING);
    cdc_verify_report_t r = {.tables = calloc(1, sizeof t), .ntables = 1};
    r.tables[0] = t;
    cdc_verify_report_free(&r); /* frees the candidates too (ASan: no leak) */
}

/* A document store's keys read back into their parts: the inverse of the
 * naming above (a Redis key, an _id). */
static void check_key_split(void)
{
    char **parts = NULL;
    CHECK_INT(cdc_route_key_split("a\\:b:\\N:c\\\\d", &parts), 3);
    CHECK_STR(parts[0], "a:b");
    CHECK(parts[1] == NULL);
    CHECK_STR(parts[2], "c\\d");
    cdc_route_key_parts_free(parts, 3);
    CHECK_INT(cdc_route_key_split("", &parts), 1); /* an empty value */
    CHECK_STR(parts[0], "");
    cdc_route_key_parts_free(parts, 1);
    CHECK_INT(cdc_route_key_split("7::x", &parts), 3);
    CHECK_STR(parts[1], "");
    cdc_route_key_parts_free(parts, 3);
    /* \N inside a value is no NULL; a lone trailing backslash stays */
    CHECK_INT(cdc_route_key_split("\\Nx:y\\", &parts), 2);
    CHECK_STR(parts[0], "Nx");
    CHECK_STR(parts[1], "y\\");
    cdc_route_key_parts_free(parts, 2);
}

/* Where ${key} sits in a Redis key.format, filled for one table. */
static void check_key_affixes(void)
{
    cdc_event_t ev = {.topic = "dbz.public.orders", .source_db = "shop",
                      .source_schema = "public", .source_table = "orders"};
    cdc_buf_t pre, suf, key;
    cdc_buf_init(&pre);
    cdc_buf_init(&suf);
    cdc_buf_init(&key);
    CHECK_INT(cdc_route_key_affixes("${source.db}:${source.table}:${key}:v1", &ev, &pre, &suf), 0);
    CHECK_STR(pre.data, "shop:orders:");
    CHECK_STR(suf.data, ":v1");
    cdc_route_format_key_text("${source.table}:${key}", &ev, "7:a\\:b", &key);
    CHECK_STR(key.data, "orders:7:a\\:b");
    cdc_buf_reset(&pre);
    CHECK_INT(cdc_route_key_affixes("${source.table}", &ev, &pre, &suf), -1);
    CHECK_INT(cdc_route_key_affixes("${key}:${key}", &ev, &pre, &suf), -1);
    cdc_buf_free(&pre);
    cdc_buf_free(&suf);
    cdc_buf_free(&key);
}

static void check_exit_codes(void)
{
    cdc_verify_table_t tables[2] = {{0}};
    cdc_verify_report_t r = {.tables = tables, .ntables = 0};
    CHECK_INT(cdc_verify_exit_code(&r), CDC_VERIFY_UNKNOWN); /* nothing checked */
    r.ntables = 2;
    CHECK_INT(cdc_verify_exit_code(&r), CDC_VERIFY_EQUAL);
    tables[1].in_flight = 7; /* in flight is not divergence */
    CHECK_INT(cdc_verify_exit_code(&r), CDC_VERIFY_EQUAL);
    tables[0].error = "table \"s\".\"t\" does not exist";
    CHECK_INT(cdc_verify_exit_code(&r), CDC_VERIFY_UNKNOWN);
    tables[1].extra = 1; /* divergence found wins over a table not checked */
    CHECK_INT(cdc_verify_exit_code(&r), CDC_VERIFY_DIVERGENT);
    r.error = "connecting to the source: refused";
    CHECK_INT(cdc_verify_exit_code(&r), CDC_VERIFY_UNKNOWN);
}

static void check_pace(void)
{
    volatile sig_atomic_t stop = 0;
    cdc_verify_pace_t unlimited = {.rows_per_second = 0, .stop = &stop};
    CHECK_INT(cdc_verify_pace(&unlimited, 1000000), 0);
    CHECK_INT(unlimited.rows, 1000000);
    cdc_verify_pace_t limited = {.rows_per_second = 100000, .stop = &stop};
    CHECK_INT(cdc_verify_pace(&limited, 1000), 0); /* 10 ms of budget */
    CHECK(limited.started_ms > 0);
    stop = 1;
    CHECK_INT(cdc_verify_pace(&limited, 1000), -1);
}

int main(void)
{
    check_key_names();
    check_key_split();
    check_key_affixes();
    check_exit_codes();
    check_pace();
    return unit_finish("t0021-verify");
}

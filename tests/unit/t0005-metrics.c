/* t0005-metrics — the Prometheus text of a known sequence of calls: exact
 * counters, escaped labels, cumulative histogram buckets, freshness from a
 * stored ts_ms at scrape time, gauges dropped on revoke; every rendering
 * passes a line-format checker and, when promtool is on PATH,
 * `promtool check metrics`. No servers. */
#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "metrics.h"
#include "unit.h"

/* ---- a small checker for the text exposition format 0.0.4 ---- */

static bool name_char(char c, bool first)
{
    return isalpha((unsigned char)c) || c == '_' || c == ':' ||
           (!first && isdigit((unsigned char)c));
}

/* Skips a metric or label name; NULL if there is none. */
static const char *skip_name(const char *p)
{
    if (!name_char(*p, true)) return NULL;
    while (name_char(*p, false)) p++;
    return p;
}

/* Skips {name="value",...}; value escapes are \\ \" \n only. */
static const char *skip_labels(const char *p)
{
    if (*p != '{') return p;
    p++;
    while (*p != '}') {
        if (!(p = skip_name(p)) || *p++ != '=' || *p++ != '"') return NULL;
        for (; *p != '"'; p++) {
            if (!*p || *p == '\n') return NULL;
            if (*p == '\\' && !strchr("\\\"n", *++p)) return NULL;
        }
        p++;
        if (*p == ',') p++;
        else if (*p != '}') return NULL;
    }
    return p + 1;
}

static bool is_value(const char *s, size_t n)
{
    char v[64];
    if (n == 0 || n >= sizeof v) return false;
    memcpy(v, s, n);
    v[n] = '\0';
    if (!strcmp(v, "+Inf") || !strcmp(v, "-Inf") || !strcmp(v, "NaN"))
        return true;
    char *end;
    strtod(v, &end);
    return *end == '\0';
}

/* The family a sample belongs to: histogram suffixes go to their base
 * when that base was declared a histogram. */
static void family_of(const char *name, size_t n, const char *hist,
                      char *out, size_t size)
{
    snprintf(out, size, "%.*s", (int)n, name);
    static const char *const suffix[] = {"_bucket", "_sum", "_count"};
    for (int i = 0; i < 3; i++) {
        size_t sl = strlen(suffix[i]);
        if (n > sl && !strcmp(out + n - sl, suffix[i]) &&
            strlen(hist) == n - sl && !strncmp(hist, out, n - sl))
            out[n - sl] = '\0';
    }
}

/* Returns NULL when text is valid, else a description of the first
 * problem. Checks line syntax, one TYPE per family before its samples,
 * families not interleaved. */
static const char *check_exposition(const char *text)
{
    static char why[256];
    char typed[64][64], current[64] = "", hist[64] = "";
    int ntyped = 0, line = 0;
    if (!*text || text[strlen(text) - 1] != '\n') return "no final newline";
    for (const char *p = text; *p; p = strchr(p, '\n') + 1) {
        const char *eol = strchr(p, '\n');
        line++;
        if (!strncmp(p, "# HELP ", 7) || !strncmp(p, "# TYPE ", 7)) {
            const char *n = skip_name(p + 7);
            if (!n || *n != ' ') goto bad;
            if (p[2] == 'H') continue;
            const char *type = n + 1;
            size_t tl = (size_t)(eol - type);
            if (!(tl == 7 && !strncmp(type, "counter", 7)) &&
                !(tl == 5 && !strncmp(type, "gauge", 5)) &&
                !(tl == 9 && !strncmp(type, "histogram", 9)))
                goto bad;
            if (ntyped == 64) goto bad;
            snprintf(typed[ntyped], 64, "%.*s", (int)(n - p - 7), p + 7);
            for (int i = 0; i < ntyped; i++)
                if (!strcmp(typed[i], typed[ntyped])) goto bad;
            if (tl == 9) snprintf(hist, sizeof hist, "%s", typed[ntyped]);
            snprintf(current, sizeof current, "%s", typed[ntyped++]);
            continue;
        }
        if (*p == '#') continue;
        const char *n = skip_name(p);
        const char *v = n ? skip_labels(n) : NULL;
        if (!v || *v != ' ' || !is_value(v + 1, (size_t)(eol - v - 1)))
            goto bad;
        char fam[64];
        family_of(p, (size_t)(n - p), hist, fam, sizeof fam);
        if (strcmp(fam, current) != 0) goto bad; /* untyped or interleaved */
    }
    return NULL;
bad:
    snprintf(why, sizeof why, "line %d is not valid exposition text", line);
    return why;
}

/* promtool's parser and linter, when it is installed. */
static void check_with_promtool(const char *text)
{
    if (system("command -v promtool >/dev/null 2>&1") != 0) {
        printf("promtool not on PATH: skipped promtool check metrics\n");
        return;
    }
    FILE *p = popen("promtool check metrics", "w");
    CHECK(p != NULL);
    if (!p) return;
    fputs(text, p);
    int status = pclose(p);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static char *render(cdc_metrics_t *m)
{
    char *text = NULL;
    size_t len = 0;
    CHECK_INT(cdc_metrics_render(m, &text, &len), 0);
    if (!text) return strdup("");
    CHECK_INT(len, strlen(text));
    const char *why = check_exposition(text);
    if (why) fprintf(stderr, "%s in:\n%s", why, text);
    CHECK(why == NULL);
    return text;
}

/* ---- the tests ---- */

static int64_t fake_now_ms;
static int64_t fake_clock(void)
{
    return fake_now_ms;
}

#define L "pipeline=\"a\\\"b\\\\c\\nd\",sink=\"postgres\""
#define CUS L ",topic=\"db.public.customers\",partition=\"0\""
#define ORD L ",topic=\"db.public.orders\",partition=\"1\""

static const char *const expected =
    "# HELP cdcsink_records_consumed_total Records polled from Kafka.\n"
    "# TYPE cdcsink_records_consumed_total counter\n"
    "cdcsink_records_consumed_total{" CUS "} 4\n"
    "cdcsink_records_consumed_total{" ORD "} 15\n"
    "# HELP cdcsink_records_applied_total Changes applied to the sink, by "
    "Debezium op.\n"
    "# TYPE cdcsink_records_applied_total counter\n"
    "cdcsink_records_applied_total{" CUS ",op=\"c\"} 0\n"
    "cdcsink_records_applied_total{" CUS ",op=\"u\"} 0\n"
    "cdcsink_records_applied_total{" CUS ",op=\"d\"} 0\n"
    "cdcsink_records_applied_total{" CUS ",op=\"r\"} 4\n"
    "cdcsink_records_applied_total{" CUS ",op=\"t\"} 0\n"
    "cdcsink_records_applied_total{" CUS ",op=\"tombstone\"} 0\n"
    "cdcsink_records_applied_total{" ORD ",op=\"c\"} 7\n"
    "cdcsink_records_applied_total{" ORD ",op=\"u\"} 2\n"
    "cdcsink_records_applied_total{" ORD ",op=\"d\"} 0\n"
    "cdcsink_records_applied_total{" ORD ",op=\"r\"} 0\n"
    "cdcsink_records_applied_total{" ORD ",op=\"t\"} 0\n"
    "cdcsink_records_applied_total{" ORD ",op=\"tombstone\"} 1\n"
    "# HELP cdcsink_records_stale_total Changes not applied because the "
    "sink already had a newer position.\n"
    "# TYPE cdcsink_records_stale_total counter\n"
    "cdcsink_records_stale_total{" CUS "} 0\n"
    "cdcsink_records_stale_total{" ORD "} 3\n"
    "# HELP cdcsink_records_skipped_total Records with nothing to apply "
    "(tombstone no-op, delete.mode=none).\n"
    "# TYPE cdcsink_records_skipped_total counter\n"
    "cdcsink_records_skipped_total{" CUS "} 0\n"
    "cdcsink_records_skipped_total{" ORD "} 1\n"
    "# HELP cdcsink_offset_commit_failures_total Partition commits the broker "
    "refused or that failed; the offset goes out again with the next commit.\n"
    "# TYPE cdcsink_offset_commit_failures_total counter\n"
    "cdcsink_offset_commit_failures_total{" CUS "} 0\n"
    "cdcsink_offset_commit_failures_total{" ORD "} 2\n"
    "# HELP cdcsink_dlq_records_total Records delivered to the dead-letter "
    "queue, by error class.\n"
    "# TYPE cdcsink_dlq_records_total counter\n"
    "cdcsink_dlq_records_total{" CUS ",class=\"data\"} 0\n"
    "cdcsink_dlq_records_total{" CUS ",class=\"schema\"} 0\n"
    "cdcsink_dlq_records_total{" ORD ",class=\"data\"} 2\n"
    "cdcsink_dlq_records_total{" ORD ",class=\"schema\"} 1\n"
    "# HELP cdcsink_retries_total Batch retries after a transient error, by "
    "what failed.\n"
    "# TYPE cdcsink_retries_total counter\n"
    "cdcsink_retries_total{" L ",class=\"sink\"} 2\n"
    "cdcsink_retries_total{" L ",class=\"registry\"} 0\n"
    "cdcsink_retries_total{" L ",class=\"dlq\"} 0\n"
    "cdcsink_retries_total{" L ",class=\"kafka\"} 1\n"
    "cdcsink_retries_total{" L ",class=\"sink_full\"} 0\n"
    "# HELP cdcsink_consumer_lag Messages behind: end offset minus committed "
    "offset, per assigned partition.\n"
    "# TYPE cdcsink_consumer_lag gauge\n"
    "cdcsink_consumer_lag{" CUS "} 0\n"
    "cdcsink_consumer_lag{" ORD "} 42\n"
    "# HELP cdcsink_freshness_seconds Seconds since the source committed the "
    "newest change applied on the partition.\n"
    "# TYPE cdcsink_freshness_seconds gauge\n"
    "cdcsink_freshness_seconds{" ORD "} 10.5\n"
    "# HELP cdcsink_batch_duration_seconds Time from a batch's poll to its "
    "offsets being stored.\n"
    "# TYPE cdcsink_batch_duration_seconds histogram\n"
    "cdcsink_batch_duration_seconds_bucket{" L ",le=\"0.001\"} 1\n"
    "cdcsink_batch_duration_seconds_bucket{" L ",le=\"0.005\"} 2\n"
    "cdcsink_batch_duration_seconds_bucket{" L ",le=\"0.01\"} 2\n"
    "cdcsink_batch_duration_seconds_bucket{" L ",le=\"0.025\"} 2\n"
    "cdcsink_batch_duration_seconds_bucket{" L ",le=\"0.05\"} 2\n"
    "cdcsink_batch_duration_seconds_bucket{" L ",le=\"0.1\"} 2\n"
    "cdcsink_batch_duration_seconds_bucket{" L ",le=\"0.25\"} 3\n"
    "cdcsink_batch_duration_seconds_bucket{" L ",le=\"0.5\"} 3\n"
    "cdcsink_batch_duration_seconds_bucket{" L ",le=\"1\"} 3\n"
    "cdcsink_batch_duration_seconds_bucket{" L ",le=\"2.5\"} 3\n"
    "cdcsink_batch_duration_seconds_bucket{" L ",le=\"5\"} 4\n"
    "cdcsink_batch_duration_seconds_bucket{" L ",le=\"10\"} 5\n"
    "cdcsink_batch_duration_seconds_bucket{" L ",le=\"+Inf\"} 6\n"
    "cdcsink_batch_duration_seconds_sum{" L "} 33.2548828125\n"
    "cdcsink_batch_duration_seconds_count{" L "} 6\n"
    "# HELP cdcsink_up 1 while the cdcsink process runs.\n"
    "# TYPE cdcsink_up gauge\n"
    "cdcsink_up{" L "} 1\n"
    "# HELP cdcsink_ready 1 when partitions are assigned and the sink is "
    "reachable.\n"
    "# TYPE cdcsink_ready gauge\n"
    "cdcsink_ready{" L "} 1\n";

/* A sequence the pipeline could make; every value is chosen so that the
 * output is exact (binary fractions for the histogram sum). */
static void feed(cdc_metrics_t *m)
{
    const char *o = "db.public.orders", *c = "db.public.customers";
    CHECK_INT(cdc_metrics_add(m, CDC_METRIC_CONSUMED, o, 1, NULL, 10), 0);
    CHECK_INT(cdc_metrics_add(m, CDC_METRIC_CONSUMED, o, 1, NULL, 5), 0);
    CHECK_INT(cdc_metrics_add(m, CDC_METRIC_APPLIED, o, 1, "c", 7), 0);
    CHECK_INT(cdc_metrics_add(m, CDC_METRIC_APPLIED, o, 1, "u", 2), 0);
    CHECK_INT(cdc_metrics_add(m, CDC_METRIC_APPLIED, o, 1, "tombstone", 1), 0);
    CHECK_INT(cdc_metrics_add(m, CDC_METRIC_STALE, o, 1, NULL, 3), 0);
    CHECK_INT(cdc_metrics_add(m, CDC_METRIC_SKIPPED, o, 1, NULL, 1), 0);
    CHECK_INT(cdc_metrics_add(m, CDC_METRIC_COMMIT_FAILED, o, 1, NULL, 2), 0);
    CHECK_INT(cdc_metrics_add(m, CDC_METRIC_DLQ, o, 1, "data", 2), 0);
    CHECK_INT(cdc_metrics_add(m, CDC_METRIC_DLQ, o, 1, "schema", 1), 0);
    CHECK_INT(cdc_metrics_add(m, CDC_METRIC_CONSUMED, c, 0, NULL, 4), 0);
    CHECK_INT(cdc_metrics_add(m, CDC_METRIC_APPLIED, c, 0, "r", 4), 0);
    /* Unknown labels count nothing and say so. */
    CHECK_INT(cdc_metrics_add(m, CDC_METRIC_APPLIED, o, 1, "x", 1), -1);
    CHECK_INT(cdc_metrics_add(m, CDC_METRIC_APPLIED, o, 1, NULL, 1), -1);
    CHECK_INT(cdc_metrics_add(m, CDC_METRIC_DLQ, o, 1, "transient", 1), -1);
    CHECK_INT(cdc_metrics_retry(m, "sink"), 0);
    CHECK_INT(cdc_metrics_retry(m, "sink"), 0);
    CHECK_INT(cdc_metrics_retry(m, "kafka"), 0);
    CHECK_INT(cdc_metrics_retry(m, "disk"), -1);
    CHECK_INT(cdc_metrics_set_lag(m, o, 1, 42), 0);
    CHECK_INT(cdc_metrics_set_lag(m, c, 0, 0), 0);
    /* The newest source ts wins; an older one applied later and a missing
     * one (0) change nothing. */
    CHECK_INT(cdc_metrics_applied_ts(m, o, 1, 1700000000000), 0);
    CHECK_INT(cdc_metrics_applied_ts(m, o, 1, 1699999990000), 0);
    CHECK_INT(cdc_metrics_applied_ts(m, o, 1, 0), 0);
    /* Bucket bounds are inclusive (le): 0.25 and 10 land in their own. */
    cdc_metrics_observe_batch(m, 0.0009765625);
    cdc_metrics_observe_batch(m, 0.00390625);
    cdc_metrics_observe_batch(m, 0.25);
    cdc_metrics_observe_batch(m, 3);
    cdc_metrics_observe_batch(m, 10);
    cdc_metrics_observe_batch(m, 20);
    cdc_metrics_set_ready(m, true);
}

static void test_exact_text(void)
{
    cdc_metrics_t *m = cdc_metrics_new("a\"b\\c\nd", "postgres");
    CHECK(m != NULL);
    cdc_metrics_set_clock(m, fake_clock);
    fake_now_ms = 1700000010500;
    feed(m);
    char *text = render(m);
    CHECK_STR(text, expected);
    check_with_promtool(text);
    free(text);
    cdc_metrics_destroy(m);
}

/* Freshness is now - ts at scrape time: it grows while nothing applies. */
static void test_freshness_grows(void)
{
    cdc_metrics_t *m = cdc_metrics_new("p", "jsonl");
    cdc_metrics_set_clock(m, fake_clock);
    fake_now_ms = 1700000000000;
    cdc_metrics_add(m, CDC_METRIC_CONSUMED, "t", 0, NULL, 1);
    char *text = render(m);
    CHECK(strstr(text, "cdcsink_freshness_seconds{") == NULL);
    free(text);

    cdc_metrics_applied_ts(m, "t", 0, 1700000000000 - 250);
    text = render(m);
    CHECK(strstr(text, "partition=\"0\"} 0.25\n") != NULL);
    free(text);
    fake_now_ms += 60000;
    text = render(m);
    CHECK(strstr(text, "cdcsink_freshness_seconds{pipeline=\"p\","
                       "sink=\"jsonl\",topic=\"t\",partition=\"0\"} "
                       "60.25\n") != NULL);
    free(text);
    /* A source clock ahead of ours reads as fresh, never negative. */
    cdc_metrics_applied_ts(m, "t", 0, fake_now_ms + 5000);
    text = render(m);
    CHECK(strstr(text, "partition=\"0\"} 0\n# HELP cdcsink_batch") != NULL);
    free(text);
    cdc_metrics_destroy(m);
}

/* Revoke drops lag and freshness of that partition only; counters stay. */
static void test_forget_partition(void)
{
    cdc_metrics_t *m = cdc_metrics_new("p", "redis");
    cdc_metrics_set_clock(m, fake_clock);
    fake_now_ms = 1700000001000;
    for (int p = 0; p < 2; p++) {
        cdc_metrics_add(m, CDC_METRIC_CONSUMED, "t", p, NULL, 5);
        cdc_metrics_set_lag(m, "t", p, 7);
        cdc_metrics_applied_ts(m, "t", p, 1700000000000);
    }
    cdc_metrics_forget_partition(m, "t", 1);
    cdc_metrics_forget_partition(m, "never-seen", 3);
    char *text = render(m);
    const char *p0 =
        "{pipeline=\"p\",sink=\"redis\",topic=\"t\",partition=\"0\"}";
    const char *p1 =
        "{pipeline=\"p\",sink=\"redis\",topic=\"t\",partition=\"1\"}";
    char want[256];
    snprintf(want, sizeof want, "cdcsink_consumer_lag%s 7\n", p0);
    CHECK(strstr(text, want) != NULL);
    snprintf(want, sizeof want, "cdcsink_freshness_seconds%s 1\n", p0);
    CHECK(strstr(text, want) != NULL);
    snprintf(want, sizeof want, "cdcsink_consumer_lag%s", p1);
    CHECK(strstr(text, want) == NULL);
    snprintf(want, sizeof want, "cdcsink_freshness_seconds%s", p1);
    CHECK(strstr(text, want) == NULL);
    snprintf(want, sizeof want, "cdcsink_records_consumed_total%s 5\n", p1);
    CHECK(strstr(text, want) != NULL);
    CHECK(strstr(text, "never-seen") == NULL);
    free(text);

    /* Assigned again: the gauges come back with the new values. */
    cdc_metrics_set_lag(m, "t", 1, 3);
    text = render(m);
    snprintf(want, sizeof want, "cdcsink_consumer_lag%s 3\n", p1);
    CHECK(strstr(text, want) != NULL);
    free(text);
    cdc_metrics_destroy(m);
}

/* Many partitions: the table grows and keeps every count apart. */
static void test_many_partitions(void)
{
    cdc_metrics_t *m = cdc_metrics_new("p", "s");
    char topic[32];
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 300; i++) {
            snprintf(topic, sizeof topic, "topic%d", i % 7);
            CHECK_INT(cdc_metrics_add(m, CDC_METRIC_CONSUMED, topic, i,
                                      NULL, (uint64_t)i),
                      0);
        }
    char *text = render(m);
    int lines = 0;
    for (const char *p = strstr(text, "cdcsink_records_consumed_total{");
         p; p = strstr(p + 1, "cdcsink_records_consumed_total{"))
        lines++;
    CHECK_INT(lines, 300);
    CHECK(strstr(text, "topic=\"topic5\",partition=\"299\"} 598\n") != NULL);
    CHECK(strstr(text, "topic=\"topic0\",partition=\"0\"} 0\n") != NULL);
    /* Sorted by topic, then numerically by partition. */
    const char *a = strstr(text, "topic=\"topic1\",partition=\"8\"}");
    const char *b = strstr(text, "topic=\"topic1\",partition=\"15\"}");
    CHECK(a && b && a < b);
    check_with_promtool(text);
    free(text);
    cdc_metrics_destroy(m);
}

/* Writers on one thread, scrapes on another, as in the service: the final
 * counts are exact (and ASan/UBSan watch the rest). */
static void *writer(void *arg)
{
    cdc_metrics_t *m = arg;
    for (int i = 0; i < 20000; i++) {
        cdc_metrics_add(m, CDC_METRIC_CONSUMED, "t", i % 4, NULL, 1);
        cdc_metrics_observe_batch(m, 0.5);
        if (i % 1000 == 0) cdc_metrics_forget_partition(m, "t", 0);
    }
    return NULL;
}

static void test_concurrent(void)
{
    cdc_metrics_t *m = cdc_metrics_new("p", "s");
    pthread_t th[2];
    for (int i = 0; i < 2; i++) pthread_create(&th[i], NULL, writer, m);
    for (int i = 0; i < 50; i++) {
        char *text = NULL;
        size_t len;
        if (cdc_metrics_render(m, &text, &len) == 0) free(text);
    }
    for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
    char *text = render(m);
    CHECK(strstr(text, "cdcsink_batch_duration_seconds_count{pipeline=\"p\","
                       "sink=\"s\"} 40000\n") != NULL);
    CHECK(strstr(text, "topic=\"t\",partition=\"3\"} 10000\n") != NULL);
    free(text);
    cdc_metrics_destroy(m);
}

/* The checker itself must reject what promtool rejects. */
static void test_checker(void)
{
    CHECK(check_exposition("# TYPE a gauge\na 1\n") == NULL);
    CHECK(check_exposition("a 1\n") != NULL);                /* untyped */
    CHECK(check_exposition("# TYPE a gauge\na{x=\"\\q\"} 1\n") != NULL);
    CHECK(check_exposition("# TYPE a gauge\na{x=\"1} 1\n") != NULL);
    CHECK(check_exposition("# TYPE a gauge\na one\n") != NULL);
    CHECK(check_exposition("# TYPE a gauge\na 1") != NULL);  /* no newline */
    CHECK(check_exposition("# TYPE a gauge\n# TYPE b gauge\nb 1\na 1\n") !=
          NULL);                                              /* interleaved */
}

/* Continuous verify: no series until a run finished; the gauge keeps the
 * last run that could check, a run that could not only counts. */
static void test_verify(void)
{
    cdc_metrics_t *m = cdc_metrics_new("orders", "postgres");
    CHECK(m != NULL);
    char *text = render(m);
    CHECK(strstr(text, "verify") == NULL);
    free(text);
    cdc_metrics_verified(m, 1, 3);
    cdc_metrics_verified(m, 2, 0);
    text = render(m);
    CHECK(strstr(text, "cdcsink_verify_runs_total{pipeline=\"orders\",sink=\"postgres\","
                       "result=\"divergent\"} 1\n") != NULL);
    CHECK(strstr(text, "result=\"unknown\"} 1\n") != NULL);
    CHECK(strstr(text, "result=\"equal\"} 0\n") != NULL);
    CHECK(strstr(text, "cdcsink_verify_divergent_rows{pipeline=\"orders\","
                       "sink=\"postgres\"} 3\n") != NULL);
    check_with_promtool(text);
    free(text);
    cdc_metrics_verified(m, 0, 0);
    text = render(m);
    CHECK(strstr(text, "cdcsink_verify_divergent_rows{pipeline=\"orders\","
                       "sink=\"postgres\"} 0\n") != NULL);
    free(text);
    cdc_metrics_destroy(m);
}

int main(void)
{
    test_checker();
    test_verify();
    test_exact_text();
    test_freshness_grows();
    test_forget_partition();
    test_many_partitions();
    test_concurrent();
    return unit_finish("t0005-metrics");
}

#include "metrics.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "clock.h"

#define NOPS 6
#define NDLQ 2
#define NRETRY 5
#define NBUCKETS 12 /* finite ones; +Inf is one more slot */

static const char *const op_names[NOPS] = {"c", "u", "d", "r", "t",
                                           "tombstone"};
static const char *const dlq_classes[NDLQ] = {"data", "schema"};
/* sink_full: the sink refuses writes for want of room (Redis OOM). */
static const char *const retry_classes[NRETRY] = {"sink", "registry", "dlq",
                                                  "kafka", "sink_full"};
static const double buckets[NBUCKETS] = {0.001, 0.005, 0.01, 0.025,
                                         0.05,  0.1,   0.25, 0.5,
                                         1,     2.5,   5,    10};

/* One slot of the open-addressing table; topic == NULL marks it empty.
 * Slots are never removed (counters outlive a revoke), so lookups need no
 * tombstones. */
typedef struct part {
    char *topic;
    int32_t partition;
    uint32_t hash;
    uint64_t consumed, stale, skipped, commit_failed;
    uint64_t applied[NOPS];
    uint64_t dlq[NDLQ];
    int64_t lag;
    bool has_lag;
    int64_t ts_ms; /* 0: no change applied since assignment */
} part_t;

struct cdc_metrics {
    pthread_mutex_t lock;
    char *labels; /* pipeline="...",sink="..." already escaped */
    cdc_metrics_clock_t *clock;
    part_t *parts;
    part_t *last; /* the entry part_get() returned last; NULL after a grow */
    size_t cap, used;
    uint64_t retries[NRETRY];
    uint64_t bucket[NBUCKETS + 1]; /* per bucket, cumulated when rendered */
    double sum;
    uint64_t count;
    bool ready;
    bool verified;               /* a continuous verify run has finished */
    int64_t verify_divergent;    /* rows, as the last finished run found */
    uint64_t verify_runs[3];     /* by result: equal, divergent, unknown */
};

/* Every line is a handful of short pieces; 512 bytes fits any of them but
 * a long topic name, which takes the slow path. */
static void buf_printf(cdc_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void buf_printf(cdc_buf_t *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        cdc_buf_append(b, small, (size_t)n);
        return;
    }
    if (!cdc_buf_reserve(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* A label value as the exposition format wants it: \ " and newline
 * escaped, everything else verbatim (UTF-8 passes through). */
static void buf_label_value(cdc_buf_t *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\') cdc_buf_puts(b, "\\\\");
        else if (*s == '"') cdc_buf_puts(b, "\\\"");
        else if (*s == '\n') cdc_buf_puts(b, "\\n");
        else cdc_buf_putc(b, *s);
    }
}

/* The shortest text that reads back as the same double, as Prometheus'
 * own clients print floats ("0.005", not "0.0050000000000000001"). */
static void fmt_double(char *out, size_t size, double v)
{
    if (isnan(v)) {
        snprintf(out, size, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(out, size, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    int prec = 1;
    for (; prec < 17; prec++) {
        snprintf(out, size, "%.*g", prec, v);
        if (strtod(out, NULL) == v) break;
    }
    /* %g switches to an exponent once the integer digits exceed the
     * precision ("1e+01" for 10); print whole numbers of seconds or
     * counts out in full. */
    double mag = fabs(v);
    if (mag >= 1 && mag < 1e15) {
        int digits = (int)floor(log10(mag)) + 1;
        if (digits > prec) prec = digits;
    }
    snprintf(out, size, "%.*g", prec, v);
}

static uint32_t part_hash(const char *topic, int32_t partition)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)topic; *p; p++)
        h = (h ^ *p) * 16777619u;
    return (h ^ (uint32_t)partition) * 16777619u;
}

/* The slot for (topic, partition) in a table of cap slots (a power of
 * two): the entry itself or the empty slot where it would go. */
static part_t *part_slot(part_t *parts, size_t cap, const char *topic,
                         int32_t partition, uint32_t hash)
{
    for (size_t i = hash & (cap - 1);; i = (i + 1) & (cap - 1)) {
        part_t *p = &parts[i];
        if (!p->topic) return p;
        if (p->hash == hash && p->partition == partition &&
            strcmp(p->topic, topic) == 0)
            return p;
    }
}

/* Doubles the table; kept at most half full so probes stay short. */
static int parts_grow(cdc_metrics_t *m)
{
    size_t cap = m->cap ? m->cap * 2 : 16;
    part_t *parts = calloc(cap, sizeof *parts);
    if (!parts) return -1;
    m->last = NULL; /* entries move */
    for (size_t i = 0; i < m->cap; i++) {
        part_t *old = &m->parts[i];
        if (!old->topic) continue;
        *part_slot(parts, cap, old->topic, old->partition, old->hash) = *old;
    }
    free(m->parts);
    m->parts = parts;
    m->cap = cap;
    return 0;
}

/* Finds or creates the partition's entry; NULL when out of memory. Call
 * with the lock held. */
static part_t *part_get(cdc_metrics_t *m, const char *topic,
                        int32_t partition)
{
    /* Records come in runs of one partition: comparing with the last entry
     * is cheaper than hashing the topic name for each of them. */
    if (m->last && m->last->partition == partition && strcmp(m->last->topic, topic) == 0)
        return m->last;
    uint32_t hash = part_hash(topic, partition);
    if (m->cap) {
        part_t *p = part_slot(m->parts, m->cap, topic, partition, hash);
        if (p->topic) return m->last = p;
    }
    if ((m->used + 1) * 2 > m->cap && parts_grow(m) != 0) return NULL;
    part_t *p = part_slot(m->parts, m->cap, topic, partition, hash);
    if (!(p->topic = strdup(topic))) return NULL;
    p->partition = partition;
    p->hash = hash;
    m->used++;
    return m->last = p;
}

/* Index of name in names, or -1. */
static int label_index(const char *const *names, int count, const char *name)
{
    for (int i = 0; name && i < count; i++)
        if (strcmp(names[i], name) == 0) return i;
    return -1;
}

cdc_metrics_t *cdc_metrics_new(const char *pipeline, const char *sink)
{
    cdc_metrics_t *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    cdc_buf_t b;
    cdc_buf_init(&b);
    cdc_buf_puts(&b, "pipeline=\"");
    buf_label_value(&b, pipeline ? pipeline : "");
    cdc_buf_puts(&b, "\",sink=\"");
    buf_label_value(&b, sink ? sink : "");
    cdc_buf_putc(&b, '"');
    if (b.failed || pthread_mutex_init(&m->lock, NULL) != 0) {
        cdc_buf_free(&b);
        free(m);
        return NULL;
    }
    m->labels = b.data;
    m->clock = cdc_clock_wall_ms;
    return m;
}

void cdc_metrics_destroy(cdc_metrics_t *m)
{
    if (!m) return;
    for (size_t i = 0; i < m->cap; i++) free(m->parts[i].topic);
    free(m->parts);
    free(m->labels);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

void cdc_metrics_set_clock(cdc_metrics_t *m, cdc_metrics_clock_t *clock)
{
    pthread_mutex_lock(&m->lock);
    m->clock = clock ? clock : cdc_clock_wall_ms;
    pthread_mutex_unlock(&m->lock);
}

/* The counter that (metric, label) names inside p, or NULL. */
static uint64_t *part_counter(part_t *p, cdc_metric_t metric,
                              const char *label)
{
    int i;
    switch (metric) {
    case CDC_METRIC_CONSUMED: return &p->consumed;
    case CDC_METRIC_STALE: return &p->stale;
    case CDC_METRIC_SKIPPED: return &p->skipped;
    case CDC_METRIC_COMMIT_FAILED: return &p->commit_failed;
    case CDC_METRIC_APPLIED:
        i = label_index(op_names, NOPS, label);
        return i < 0 ? NULL : &p->applied[i];
    case CDC_METRIC_DLQ:
        i = label_index(dlq_classes, NDLQ, label);
        return i < 0 ? NULL : &p->dlq[i];
    }
    return NULL;
}

int cdc_metrics_add(cdc_metrics_t *m, cdc_metric_t metric, const char *topic,
                    int32_t partition, const char *label, uint64_t n)
{
    int rc = -1;
    pthread_mutex_lock(&m->lock);
    part_t *p = part_get(m, topic, partition);
    uint64_t *counter = p ? part_counter(p, metric, label) : NULL;
    if (counter) {
        *counter += n;
        rc = 0;
    }
    pthread_mutex_unlock(&m->lock);
    return rc;
}

int cdc_metrics_retry(cdc_metrics_t *m, const char *what)
{
    int i = label_index(retry_classes, NRETRY, what);
    if (i < 0) return -1;
    pthread_mutex_lock(&m->lock);
    m->retries[i]++;
    pthread_mutex_unlock(&m->lock);
    return 0;
}

int cdc_metrics_set_lag(cdc_metrics_t *m, const char *topic,
                        int32_t partition, int64_t lag)
{
    pthread_mutex_lock(&m->lock);
    part_t *p = part_get(m, topic, partition);
    if (p) {
        p->lag = lag;
        p->has_lag = true;
    }
    pthread_mutex_unlock(&m->lock);
    return p ? 0 : -1;
}

int cdc_metrics_applied_ts(cdc_metrics_t *m, const char *topic,
                           int32_t partition, int64_t source_ts_ms)
{
    if (source_ts_ms <= 0) return 0;
    pthread_mutex_lock(&m->lock);
    part_t *p = part_get(m, topic, partition);
    /* The newest wins: a batch may apply keys out of source-time order,
     * and freshness should not jump back because of it. */
    if (p && source_ts_ms > p->ts_ms) p->ts_ms = source_ts_ms;
    pthread_mutex_unlock(&m->lock);
    return p ? 0 : -1;
}

void cdc_metrics_forget_partition(cdc_metrics_t *m, const char *topic,
                                  int32_t partition)
{
    pthread_mutex_lock(&m->lock);
    if (m->cap) {
        part_t *p = part_slot(m->parts, m->cap, topic, partition,
                              part_hash(topic, partition));
        if (p->topic) {
            p->has_lag = false;
            p->ts_ms = 0;
        }
    }
    pthread_mutex_unlock(&m->lock);
}

void cdc_metrics_observe_batch(cdc_metrics_t *m, double seconds)
{
    if (isnan(seconds)) return;
    if (seconds < 0) seconds = 0;
    int i = 0;
    while (i < NBUCKETS && seconds > buckets[i]) i++;
    pthread_mutex_lock(&m->lock);
    m->bucket[i]++;
    m->sum += seconds;
    m->count++;
    pthread_mutex_unlock(&m->lock);
}

void cdc_metrics_set_ready(cdc_metrics_t *m, bool ready)
{
    pthread_mutex_lock(&m->lock);
    m->ready = ready;
    pthread_mutex_unlock(&m->lock);
}

void cdc_metrics_verified(cdc_metrics_t *m, int result, int64_t divergent)
{
    if (result < 0 || result > 2) return;
    pthread_mutex_lock(&m->lock);
    m->verify_runs[result]++;
    /* A run that could not check says nothing about the rows. */
    if (result != 2) {
        m->verified = true;
        m->verify_divergent = divergent;
    }
    pthread_mutex_unlock(&m->lock);
}

/* ---- rendering ---- */

static int part_cmp(const void *a, const void *b)
{
    const part_t *x = *(const part_t *const *)a, *y = *(const part_t *const *)b;
    int c = strcmp(x->topic, y->topic);
    if (c) return c;
    return (x->partition > y->partition) - (x->partition < y->partition);
}

/* The occupied slots sorted by topic and partition, so the output is
 * stable between scrapes and testable. */
static part_t **parts_sorted(cdc_metrics_t *m)
{
    part_t **v = malloc((m->used ? m->used : 1) * sizeof *v);
    if (!v) return NULL;
    size_t n = 0;
    for (size_t i = 0; i < m->cap; i++)
        if (m->parts[i].topic) v[n++] = &m->parts[i];
    qsort(v, n, sizeof *v, part_cmp);
    return v;
}

static void family(cdc_buf_t *b, const char *name, const char *type,
                   const char *help)
{
    buf_printf(b, "# HELP cdcsink_%s %s\n# TYPE cdcsink_%s %s\n", name, help,
               name, type);
}

/* name{pipeline=..,sink=..,topic=..,partition=..[,extra="value"]} */
static void sample_start(cdc_buf_t *b, const cdc_metrics_t *m, const char *name,
                         const part_t *p, const char *extra,
                         const char *value)
{
    buf_printf(b, "cdcsink_%s{%s", name, m->labels);
    if (p) {
        cdc_buf_puts(b, ",topic=\"");
        buf_label_value(b, p->topic);
        buf_printf(b, "\",partition=\"%" PRId32 "\"", p->partition);
    }
    if (extra) {
        buf_printf(b, ",%s=\"", extra);
        buf_label_value(b, value);
        cdc_buf_putc(b, '"');
    }
    cdc_buf_puts(b, "} ");
}

static void sample_u64(cdc_buf_t *b, const cdc_metrics_t *m, const char *name,
                       const part_t *p, const char *extra, const char *value,
                       uint64_t v)
{
    sample_start(b, m, name, p, extra, value);
    buf_printf(b, "%" PRIu64 "\n", v);
}

static void render_counters(cdc_buf_t *b, const cdc_metrics_t *m, part_t **v)
{
    size_t n = m->used;
    family(b, "records_consumed_total", "counter",
           "Records polled from Kafka.");
    for (size_t i = 0; i < n; i++)
        sample_u64(b, m, "records_consumed_total", v[i], NULL, NULL,
                   v[i]->consumed);
    family(b, "records_applied_total", "counter",
           "Changes applied to the sink, by Debezium op.");
    for (size_t i = 0; i < n; i++)
        for (int o = 0; o < NOPS; o++)
            sample_u64(b, m, "records_applied_total", v[i], "op", op_names[o],
                       v[i]->applied[o]);
    family(b, "records_stale_total", "counter",
           "Changes not applied because the sink already had a newer "
           "position.");
    for (size_t i = 0; i < n; i++)
        sample_u64(b, m, "records_stale_total", v[i], NULL, NULL,
                   v[i]->stale);
    family(b, "records_skipped_total", "counter",
           "Records with nothing to apply (tombstone no-op, "
           "delete.mode=none).");
    for (size_t i = 0; i < n; i++)
        sample_u64(b, m, "records_skipped_total", v[i], NULL, NULL,
                   v[i]->skipped);
    family(b, "offset_commit_failures_total", "counter",
           "Partition commits the broker refused or that failed; the offset "
           "goes out again with the next commit.");
    for (size_t i = 0; i < n; i++)
        sample_u64(b, m, "offset_commit_failures_total", v[i], NULL, NULL,
                   v[i]->commit_failed);
    family(b, "dlq_records_total", "counter",
           "Records delivered to the dead-letter queue, by error class.");
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < NDLQ; c++)
            sample_u64(b, m, "dlq_records_total", v[i], "class",
                       dlq_classes[c], v[i]->dlq[c]);
    family(b, "retries_total", "counter",
           "Batch retries after a transient error, by what failed.");
    for (int c = 0; c < NRETRY; c++)
        sample_u64(b, m, "retries_total", NULL, "class", retry_classes[c],
                   m->retries[c]);
}

static void render_gauges(cdc_buf_t *b, const cdc_metrics_t *m, part_t **v)
{
    family(b, "consumer_lag", "gauge",
           "Messages behind: end offset minus committed offset, per "
           "assigned partition.");
    for (size_t i = 0; i < m->used; i++) {
        if (!v[i]->has_lag) continue;
        sample_start(b, m, "consumer_lag", v[i], NULL, NULL);
        buf_printf(b, "%" PRId64 "\n", v[i]->lag);
    }
    family(b, "freshness_seconds", "gauge",
           "Seconds since the source committed the newest change applied on "
           "the partition.");
    int64_t now = m->clock();
    for (size_t i = 0; i < m->used; i++) {
        if (!v[i]->ts_ms) continue;
        /* A source clock ahead of ours would give a negative age; 0 is
         * the honest reading of "fully fresh". */
        int64_t age_ms = now > v[i]->ts_ms ? now - v[i]->ts_ms : 0;
        char num[32];
        fmt_double(num, sizeof num, (double)age_ms / 1000.0);
        sample_start(b, m, "freshness_seconds", v[i], NULL, NULL);
        buf_printf(b, "%s\n", num);
    }
}

static void render_histogram(cdc_buf_t *b, const cdc_metrics_t *m)
{
    const char *name = "batch_duration_seconds";
    family(b, name, "histogram",
           "Time from a batch's poll to its offsets being stored.");
    uint64_t cumulative = 0;
    for (int i = 0; i <= NBUCKETS; i++) {
        char le[32];
        fmt_double(le, sizeof le, i < NBUCKETS ? buckets[i] : INFINITY);
        cumulative += m->bucket[i];
        sample_u64(b, m, "batch_duration_seconds_bucket", NULL, "le", le,
                   cumulative);
    }
    char sum[32];
    fmt_double(sum, sizeof sum, m->sum);
    buf_printf(b, "cdcsink_%s_sum{%s} %s\n", name, m->labels, sum);
    buf_printf(b, "cdcsink_%s_count{%s} %" PRIu64 "\n", name, m->labels,
               m->count);
}

static void render_state(cdc_buf_t *b, const cdc_metrics_t *m)
{
    family(b, "up", "gauge", "1 while the cdcsink process runs.");
    buf_printf(b, "cdcsink_up{%s} 1\n", m->labels);
    family(b, "ready", "gauge",
           "1 when partitions are assigned and the sink is reachable.");
    buf_printf(b, "cdcsink_ready{%s} %d\n", m->labels, m->ready ? 1 : 0);
}

/* Only in pipelines with verify.interval.ms: an absent series is "not
 * verifying", not "equal". */
static void render_verify(cdc_buf_t *b, const cdc_metrics_t *m)
{
    static const char *const results[3] = {"equal", "divergent", "unknown"};
    uint64_t runs = m->verify_runs[0] + m->verify_runs[1] + m->verify_runs[2];
    if (!runs) return;
    family(b, "verify_runs_total", "counter",
           "Continuous verify runs (verify.interval.ms), by result.");
    for (int i = 0; i < 3; i++)
        buf_printf(b, "cdcsink_verify_runs_total{%s,result=\"%s\"} %" PRIu64 "\n",
                   m->labels, results[i], m->verify_runs[i]);
    if (!m->verified) return;
    family(b, "verify_divergent_rows", "gauge",
           "Rows the last finished verify run found divergent (sampled).");
    buf_printf(b, "cdcsink_verify_divergent_rows{%s} %" PRId64 "\n", m->labels,
               m->verify_divergent);
}

int cdc_metrics_render(cdc_metrics_t *m, char **out, size_t *len)
{
    cdc_buf_t b;
    cdc_buf_init(&b);
    pthread_mutex_lock(&m->lock);
    part_t **v = parts_sorted(m);
    if (v) {
        render_counters(&b, m, v);
        render_gauges(&b, m, v);
        render_histogram(&b, m);
        render_state(&b, m);
        render_verify(&b, m);
    }
    pthread_mutex_unlock(&m->lock);
    free(v);
    if (!v || b.failed || !b.data) {
        cdc_buf_free(&b);
        return -1;
    }
    *out = b.data;
    *len = b.len;
    return 0;
}

#include "dlqread.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "consumer.h"
#include "errstr.h"

void cdc_dlqread_filter_init(cdc_dlqread_filter_t *f)
{
    memset(f, 0, sizeof *f);
    f->since_s = INT64_MIN;
    f->until_s = INT64_MAX;
    f->partition = -1;
    f->offset_from = 0;
    f->offset_to = INT64_MAX;
}

/* ---------------------------------------------------------------------
 * Parsing options
 * ------------------------------------------------------------------- */

/* Reads exactly n digits at *p; -1 when they are not there. */
static int digits(const char **p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i])) return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    return v;
}

static int parse_age(const char *text, int64_t now_s, int64_t *out_s)
{
    char *end;
    errno = 0;
    long long n = strtoll(text, &end, 10);
    if (end == text || errno || n < 0 || end[0] == '\0' || end[1] != '\0')
        return -1;
    int64_t unit;
    switch (end[0]) {
    case 's': unit = 1; break;
    case 'm': unit = 60; break;
    case 'h': unit = 3600; break;
    case 'd': unit = 86400; break;
    default: return -1;
    }
    if (n > (INT64_MAX / 2) / unit) return -1;
    *out_s = now_s - n * unit;
    return 0;
}

/* "Z", "+HH:MM", "-HHMM", "+HH" or nothing (UTC) → offset east of UTC. */
static int parse_zone(const char *p, int64_t *offset_s)
{
    *offset_s = 0;
    if (*p == '\0' || (p[0] == 'Z' && p[1] == '\0')) return 0;
    if (*p != '+' && *p != '-') return -1;
    int sign = *p++ == '-' ? -1 : 1;
    int hh = digits(&p, 2), mm = 0;
    if (hh < 0 || hh > 23) return -1;
    if (*p == ':') p++;
    if (*p && ((mm = digits(&p, 2)) < 0 || mm > 59)) return -1;
    if (*p) return -1;
    *offset_s = sign * (hh * 3600 + mm * 60);
    return 0;
}

/* The clock part after 'T': HH:MM[:SS[.fraction]]; the fraction is
 * dropped (failed.at has whole seconds). Leaves *p at the zone. */
static int parse_clock(const char **p, struct tm *tm)
{
    if ((tm->tm_hour = digits(p, 2)) < 0 || *(*p)++ != ':' ||
        (tm->tm_min = digits(p, 2)) < 0)
        return -1;
    if (**p == ':') {
        (*p)++;
        if ((tm->tm_sec = digits(p, 2)) < 0) return -1;
        if (**p == '.' || **p == ',')
            for ((*p)++; isdigit((unsigned char)**p); (*p)++) {}
    }
    return tm->tm_hour < 24 && tm->tm_min < 60 && tm->tm_sec < 60 ? 0 : -1;
}

static int parse_iso(const char *text, int64_t *out_s)
{
    const char *p = text;
    struct tm tm = {0};
    int year = digits(&p, 4), mon, day;
    if (year < 0 || *p++ != '-' || (mon = digits(&p, 2)) < 0 || *p++ != '-' ||
        (day = digits(&p, 2)) < 0)
        return -1;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (parse_clock(&p, &tm) != 0) return -1;
    }
    int64_t zone;
    if (parse_zone(p, &zone) != 0) return -1;
    tm.tm_year = year - 1900;
    tm.tm_mon = mon - 1;
    tm.tm_mday = day;
    time_t t = timegm(&tm);
    /* timegm normalises 2026-02-30 into March: refuse what moved. */
    if (tm.tm_year != year - 1900 || tm.tm_mon != mon - 1 || tm.tm_mday != day)
        return -1;
    *out_s = (int64_t)t - zone;
    return 0;
}

int cdc_dlqread_parse_time(const char *text, int64_t now_s, int64_t *out_s,
                           char *errstr, size_t errstr_size)
{
    if (text && (parse_age(text, now_s, out_s) == 0 || parse_iso(text, out_s) == 0))
        return 0;
    return cdc_errstr_set(errstr, errstr_size,
                          "'%s' is not a time: use ISO-8601 UTC "
                          "(2026-11-22T02:10:00Z) or an age (30s, 15m, 2h, 1d)",
                          text ? text : "");
}

static int parse_offset(const char *s, const char *end, int64_t *out)
{
    if (s == end) return -1;
    int64_t v = 0;
    for (; s < end; s++) {
        if (!isdigit((unsigned char)*s) || v > (INT64_MAX - 9) / 10) return -1;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return 0;
}

int cdc_dlqread_parse_offsets(const char *text, int64_t *from, int64_t *to,
                              char *errstr, size_t errstr_size)
{
    const char *dash = strchr(text, '-');
    const char *end = text + strlen(text);
    int ok = dash ? parse_offset(text, dash, from) == 0 &&
                        parse_offset(dash + 1, end, to) == 0
                  : parse_offset(text, end, from) == 0;
    if (ok && !dash) *to = *from;
    if (!ok || *from > *to)
        return cdc_errstr_set(errstr, errstr_size,
                              "'%s' is not an offset range: use A-B "
                              "(inclusive, A <= B) or A", text);
    return 0;
}

int cdc_dlqread_check_class(const char *error_class, char *errstr,
                            size_t errstr_size)
{
    if (strcmp(error_class, "data") == 0 || strcmp(error_class, "schema") == 0)
        return 0;
    return cdc_errstr_set(errstr, errstr_size,
                          "no error class '%s': records are dead-lettered "
                          "as 'data' or 'schema'", error_class);
}

/* ---------------------------------------------------------------------
 * Headers
 * ------------------------------------------------------------------- */

int cdc_dlqread_header(const rd_kafka_message_t *msg, const char *name,
                       const void **value, size_t *len)
{
    rd_kafka_headers_t *h = NULL;
    if (rd_kafka_message_headers(msg, &h) || !h) return -1;
    return rd_kafka_header_get_last(h, name, value, len) ? -1 : 0;
}

/* Copies a header as text into out (cut to fit); 0 when present. */
static int header_text(const rd_kafka_message_t *msg, const char *name,
                       char *out, size_t cap)
{
    const void *v;
    size_t n;
    out[0] = '\0';
    if (cdc_dlqread_header(msg, name, &v, &n) != 0 || !v) return -1;
    if (n >= cap) n = cap - 1;
    memcpy(out, v, n);
    out[n] = '\0';
    return 0;
}

static int header_int(const rd_kafka_message_t *msg, const char *name,
                      int64_t *out)
{
    char text[32], *end;
    if (header_text(msg, name, text, sizeof text) != 0 || !text[0]) return -1;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (*end || errno) return -1;
    *out = v;
    return 0;
}

void cdc_dlqread_parse(const rd_kafka_message_t *msg,
                       cdc_dlqread_record_t *rec)
{
    memset(rec, 0, sizeof *rec);
    int64_t partition = -1, offset = -1, attempts = 0;
    bool topic = header_text(msg, "__connect.errors.topic", rec->topic,
                             sizeof rec->topic) == 0 && rec->topic[0];
    bool part = header_int(msg, "__connect.errors.partition", &partition) == 0 &&
                partition >= 0 && partition <= INT32_MAX;
    bool off = header_int(msg, "__connect.errors.offset", &offset) == 0 &&
               offset >= 0;
    rec->has_source = topic && part && off;
    rec->partition = part ? (int32_t)partition : -1;
    rec->offset = off ? offset : -1;
    header_text(msg, "cdcsink.error.class", rec->error_class,
                sizeof rec->error_class);
    char when[64];
    rec->has_failed_at =
        header_text(msg, "cdcsink.failed.at", when, sizeof when) == 0 &&
        parse_iso(when, &rec->failed_at_s) == 0;
    rec->has_snapshot_lsn =
        header_int(msg, "cdcsink.snapshot.lsn", &rec->snapshot_lsn) == 0 && rec->snapshot_lsn >= 0;
    if (header_int(msg, "cdcsink.replay.attempts", &attempts) == 0 &&
        attempts > 0 && attempts < 1000000)
        rec->replay_attempts = (int)attempts;
}

bool cdc_dlqread_match(const cdc_dlqread_filter_t *f,
                       const cdc_dlqread_record_t *rec)
{
    if (f->error_class && strcmp(f->error_class, rec->error_class) != 0)
        return false;
    if (f->since_s != INT64_MIN || f->until_s != INT64_MAX) {
        if (!rec->has_failed_at || rec->failed_at_s < f->since_s ||
            rec->failed_at_s > f->until_s)
            return false;
    }
    bool by_source = f->topic || f->partition >= 0 || f->offset_from > 0 ||
                     f->offset_to < INT64_MAX;
    if (!by_source) return true;
    if (!rec->has_source) return false;
    if (f->topic && strcmp(f->topic, rec->topic) != 0) return false;
    if (f->partition >= 0 && f->partition != rec->partition) return false;
    return rec->offset >= f->offset_from && rec->offset <= f->offset_to;
}

/* ---------------------------------------------------------------------
 * Kafka
 * ------------------------------------------------------------------- */

rd_kafka_t *cdc_dlqread_consumer_new(const cdc_config_t *cfg,
                                     const char *group, char *errstr,
                                     size_t errstr_size)
{
    rd_kafka_conf_t *conf = cdc_consumer_kafka_conf(cfg, errstr, errstr_size);
    if (!conf) return NULL;
    /* Reading the DLQ back never moves an offset by itself: the replay
     * stores and commits explicitly, inspect never does. */
    const char *settings[][2] = {
        {"group.id", group},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"enable.partition.eof", "true"},
        {"auto.offset.reset", "earliest"},
    };
    char why[512];
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
        if (rd_kafka_conf_set(conf, settings[i][0], settings[i][1], why,
                              sizeof why) != RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(conf);
            cdc_errstr_set(errstr, errstr_size, "kafka %s: %s", settings[i][0], why);
            return NULL;
        }
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
    if (!rk) { /* rd_kafka_new takes conf only on success */
        rd_kafka_conf_destroy(conf);
        cdc_errstr_set(errstr, errstr_size, "kafka consumer: %s", why);
    }
    return rk;
}

static int partition_cmp(const void *a, const void *b)
{
    const cdc_dlqread_partition_t *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

int cdc_dlqread_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms,
                           cdc_dlqread_partition_t **parts, size_t *count,
                           char *errstr, size_t errstr_size)
{
    *parts = NULL;
    *count = 0;
    /* All topics: asking for one by name could create it on brokers with
     * auto.create.topics.enable. */
    const rd_kafka_metadata_t *md;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, NULL, &md, timeout_ms);
    if (err)
        return cdc_errstr_set(errstr, errstr_size, "kafka metadata: %s",
                              rd_kafka_err2str(err));
    int rc = 0;
    for (int t = 0; t < md->topic_cnt && rc == 0; t++) {
        const rd_kafka_metadata_topic_t *mt = &md->topics[t];
        if (mt->err || strcmp(mt->topic, topic) != 0) continue;
        *parts = calloc((size_t)mt->partition_cnt + 1, sizeof **parts);
        for (int p = 0; *parts && p < mt->partition_cnt; p++) {
            cdc_dlqread_partition_t *dp = &(*parts)[(*count)++];
            dp->id = mt->partitions[p].id;
            err = rd_kafka_query_watermark_offsets(rk, topic, dp->id, &dp->low,
                                                   &dp->end, timeout_ms);
            if (err) {
                rc = cdc_errstr_set(errstr, errstr_size, "%s [%d] watermarks: %s",
                                    topic, dp->id, rd_kafka_err2str(err));
                break;
            }
        }
    }
    rd_kafka_metadata_destroy(md);
    if (rc != 0) {
        free(*parts);
        *parts = NULL;
        *count = 0;
        return rc;
    }
    if (*count) qsort(*parts, *count, sizeof **parts, partition_cmp);
    return 0;
}


#include "verify.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "clock.h"
#include "errstr.h"
#include "lag.h"
#include "route.h"
#include "sink.h"
#include "source.h"
#include "verify_pending.h"
#include "verify_tail.h"

/* More uncommitted records than this and the pipeline is too far behind
 * for a check to mean much (reading them would also be the cost). */
#define PENDING_MAX_RECORDS INT64_C(2000000)
#define RECHECK_EVERY_MS 500
/* Topics quiet this long, with Debezium's walsender past the check: its
 * queue is empty. */
#define QUIET_MS 2000

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

int cdc_verify_pace(cdc_verify_pace_t *pace, int64_t rows)
{
    if (pace->stop && *pace->stop) return -1;
    pace->rows += rows;
    if (pace->rows_per_second <= 0) return 0;
    if (!pace->started_ms) pace->started_ms = cdc_clock_mono_ms();
    int64_t due = pace->started_ms + pace->rows * 1000 / pace->rows_per_second;
    int64_t wait = due - cdc_clock_mono_ms();
    if (wait > 0) sleep_ms(wait);
    return pace->stop && *pace->stop ? -1 : 0;
}

int cdc_verify_add_candidate(cdc_verify_table_t *t, cdc_verify_kind_t kind,
                             const char *const *parts, size_t nparts,
                             const char *source_digest)
{
    if (t->ncandidates == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        cdc_verify_key_t *grown = realloc(t->candidates, cap * sizeof *grown);
        if (!grown) return -1;
        t->candidates = grown;
        t->cap = cap;
    }
    cdc_verify_key_t *k = &t->candidates[t->ncandidates];
    memset(k, 0, sizeof *k);
    k->kind = kind;
    snprintf(k->source_digest, sizeof k->source_digest, "%s",
             source_digest ? source_digest : "");
    k->parts = calloc(nparts + 1, sizeof *k->parts);
    cdc_buf_t text;
    cdc_buf_init(&text);
    for (size_t i = 0; k->parts && i < nparts; i++) {
        if (parts[i] && !(k->parts[i] = strdup(parts[i]))) text.failed = true;
        cdc_route_key_part(&text, i, parts[i], parts[i] ? strlen(parts[i]) : 0);
    }
    k->nparts = nparts;
    k->text = text.data ? text.data : strdup("");
    if (!k->parts || !k->text || text.failed) {
        for (size_t i = 0; k->parts && i < nparts; i++) free(k->parts[i]);
        free(k->parts);
        free(k->text);
        return -1;
    }
    t->ncandidates++;
    return 0;
}

static void key_free(cdc_verify_key_t *k)
{
    for (size_t i = 0; i < k->nparts; i++) free(k->parts[i]);
    free(k->parts);
    free(k->text);
}

/* ---------------------------------------------------------------------
 * Which tables: one per topic, Debezium's topic.prefix.schema.table
 * ------------------------------------------------------------------- */

static bool table_selected(const char *filter, const char *schema,
                           const char *table)
{
    if (!filter) return true;
    const char *dot = strchr(filter, '.');
    if (!dot) return strcmp(filter, table) == 0;
    return strncmp(filter, schema, (size_t)(dot - filter)) == 0 &&
           schema[dot - filter] == '\0' && strcmp(dot + 1, table) == 0;
}

static bool table_known(const cdc_verify_report_t *r, const char *target)
{
    for (size_t i = 0; i < r->ntables; i++)
        if (strcmp(r->tables[i].target, target) == 0) return true;
    return false;
}

static int add_warning(cdc_verify_report_t *r, const char *text)
{
    size_t n = 0;
    while (r->warnings && r->warnings[n]) n++;
    char **grown = realloc(r->warnings, (n + 2) * sizeof *grown);
    if (!grown) return -1;
    r->warnings = grown;
    r->warnings[n] = strdup(text);
    r->warnings[n + 1] = NULL;
    return 0;
}

/* The source table behind a topic: its last two dot-separated parts. */
static int topic_source(const char *topic, char **schema, char **table)
{
    const char *last = strrchr(topic, '.');
    if (!last || last == topic) return -1;
    const char *prev = last - 1;
    while (prev > topic && *prev != '.') prev--;
    if (*prev != '.') return -1; /* "schema.table" has no prefix: not Debezium's */
    *schema = strndup(prev + 1, (size_t)(last - prev - 1));
    *table = strdup(last + 1);
    return *schema && *table ? 0 : -1;
}

static int collect_tables(const cdc_lag_report_t *lag, const char *route_template,
                          const char *source_db, const char *filter,
                          cdc_verify_report_t *r)
{
    r->tables = calloc(lag->count + 1, sizeof *r->tables);
    if (!r->tables) return -1;
    cdc_buf_t target;
    cdc_buf_init(&target);
    for (size_t i = 0; i < lag->count; i++) {
        char *schema = NULL, *table = NULL;
        if (topic_source(lag->partitions[i].topic, &schema, &table) != 0) {
            char w[512];
            snprintf(w, sizeof w, "topic %s: not named prefix.schema.table, "
                     "so its source table is unknown; not checked",
                     lag->partitions[i].topic);
            if (lag->partitions[i].partition == 0) add_warning(r, w);
            free(schema);
            free(table);
            continue;
        }
        cdc_event_t ev = {.topic = lag->partitions[i].topic, .source_db = source_db,
                          .source_schema = schema, .source_table = table};
        cdc_buf_reset(&target);
        cdc_route_format(route_template, &ev, &target);
        const char *name = target.data ? target.data : "";
        if (!table_selected(filter, schema, table) || table_known(r, name)) {
            free(schema);
            free(table);
            continue;
        }
        cdc_verify_table_t *t = &r->tables[r->ntables++];
        t->source_schema = schema;
        t->source_table = table;
        t->topic = strdup(lag->partitions[i].topic);
        t->source_db = strdup(source_db);
        t->target = strdup(name);
    }
    cdc_buf_free(&target);
    return 0;
}

/* ---------------------------------------------------------------------
 * Candidates: settle, then pending
 * ------------------------------------------------------------------- */

/* What deciding needs besides the report. */
typedef struct verify_run {
    const cdc_verify_ops_t *ops;
    void *state;
    PGconn *source;
    const cdc_verify_options_t *opt;
    cdc_tail_t *tail;
    const char *slot;  /* source.slot.name, "" for any */
    int64_t wal_end;   /* the source's WAL position once every table was read */
    bool published;    /* Debezium published past wal_end */
} verify_run_t;

static void table_failed(cdc_verify_table_t *t, const char *why);

/* Whether every transaction the source committed before wal_end is in
 * Kafka: a record at or past it was published (Debezium streams in commit
 * order), or, for topics gone quiet, Debezium's walsender has sent past it
 * and nothing new arrived for QUIET_MS (Debezium's queue is empty). */
static bool published(const verify_run_t *v)
{
    if (cdc_tail_position(v->tail) >= v->wal_end) return true;
    int64_t last = cdc_tail_last_record_ms(v->tail);
    return cdc_source_sent_position(v->source, v->slot) >= v->wal_end &&
           cdc_clock_mono_ms() - last >= QUIET_MS;
}

/* Reads a table's candidates again; converged ones count as in flight
 * and leave the list. */
static int recheck_table(const verify_run_t *v, cdc_verify_table_t *t,
                         char *errstr, size_t errstr_size)
{
    size_t kept = 0;
    for (size_t i = 0; i < t->ncandidates; i++) {
        cdc_verify_key_t *k = &t->candidates[i];
        int rc = v->ops->recheck(v->state, v->source, t, k, errstr, errstr_size);
        if (rc < 0) { /* keep the list whole, for table_failed to free */
            size_t unread = t->ncandidates - i;
            memmove(&t->candidates[kept], k, unread * sizeof *k);
            t->ncandidates = kept + unread;
            return -1;
        }
        if (rc == 0) {
            t->in_flight++;
            key_free(k);
        } else {
            t->candidates[kept++] = *k;
        }
    }
    t->ncandidates = kept;
    return 0;
}

static void recheck_all(const verify_run_t *v, cdc_verify_report_t *r)
{
    char why[1024];
    for (size_t i = 0; i < r->ntables; i++) {
        cdc_verify_table_t *t = &r->tables[i];
        if (!t->error && t->ncandidates && recheck_table(v, t, why, sizeof why) != 0)
            table_failed(t, why);
    }
}

static size_t candidates_left(const cdc_verify_report_t *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->ntables; i++) n += r->tables[i].ncandidates;
    return n;
}

/* Until no candidate is left, or settle_ms passed and Debezium has
 * published everything the tables were read at, or wait_ms passed. */
static void settle(verify_run_t *v, cdc_verify_report_t *r)
{
    int64_t start = cdc_clock_mono_ms();
    for (;;) {
        cdc_tail_poll(v->tail, 0);
        v->published = published(v);
        int64_t now = cdc_clock_mono_ms();
        if (candidates_left(r) == 0 || (v->opt->stop && *v->opt->stop)) break;
        if (now - start >= v->opt->settle_ms && v->published) break;
        if (now - start >= v->opt->wait_ms) break;
        cdc_tail_poll(v->tail, RECHECK_EVERY_MS); /* the pause between reads */
        recheck_all(v, r);
    }
}

/* What is left after settling: in flight when moving or pending in Kafka;
 * else divergent, unless Debezium may still hold its change. */
static void classify(const verify_run_t *v, cdc_verify_table_t *t,
                     const cdc_pending_t *pending)
{
    size_t kept = 0;
    for (size_t i = 0; i < t->ncandidates; i++) {
        cdc_verify_key_t *k = &t->candidates[i];
        if (k->moving || cdc_pending_has(pending, t->target, k->text)) {
            t->in_flight++;
            key_free(k);
            continue;
        }
        t->candidates[kept++] = *k;
    }
    t->ncandidates = kept;
    if (kept && !v->published) {
        char why[512];
        snprintf(why, sizeof why,
                 "%zu row(s) differ, and Debezium has not published what the "
                 "source committed before the check within %lld s (source WAL "
                 "at %lld, published up to %lld): cannot tell in flight from "
                 "divergent", kept, (long long)(v->opt->wait_ms / 1000),
                 (long long)v->wal_end, (long long)cdc_tail_position(v->tail));
        table_failed(t, why);
        return;
    }
    for (size_t i = 0; i < kept; i++) {
        cdc_verify_kind_t kind = t->candidates[i].kind;
        if (kind == CDC_VERIFY_MISSING) t->missing++;
        else if (kind == CDC_VERIFY_EXTRA) t->extra++;
        else t->different++;
    }
}

/* --repair: each divergent key written from the source, then read
 * again; one that reads equal counts as repaired. */
static void repair_all(const verify_run_t *v, cdc_verify_report_t *r)
{
    char why[1024];
    for (size_t i = 0; i < r->ntables; i++) {
        cdc_verify_table_t *t = &r->tables[i];
        for (size_t k = 0; !t->error && k < t->ncandidates; k++) {
            cdc_verify_key_t *key = &t->candidates[k];
            if (!v->ops->repair) {
                table_failed(t, "this sink cannot repair");
                break;
            }
            cdc_verify_key_t again = *key; /* recheck updates kind and digest */
            int equal = -1;
            if (v->ops->repair(v->state, v->source, t, key, why, sizeof why) >= 0)
                equal = v->ops->recheck(v->state, v->source, t, &again, why, sizeof why);
            if (equal < 0) { /* what was repaired stays so; the rest is unknown */
                table_failed(t, why);
                break;
            }
            key->repaired = equal == 0;
            t->repaired += key->repaired;
        }
    }
}

static void table_failed(cdc_verify_table_t *t, const char *why)
{
    free(t->error);
    t->error = strdup(why);
    for (size_t i = 0; i < t->ncandidates; i++) key_free(&t->candidates[i]);
    t->ncandidates = 0;
}

static char *source_database(PGconn *source)
{
    PGresult *res = PQexec(source, "SELECT current_database()");
    char *db = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1
                   ? strdup(PQgetvalue(res, 0, 0)) : strdup("");
    PQclear(res);
    return db;
}

static void warn_idle_slots(PGconn *source, const char *slot,
                            cdc_verify_report_t *r)
{
    char **slots = cdc_source_idle_slots(source, slot);
    for (size_t i = 0; slots && slots[i]; i++) {
        char w[512];
        snprintf(w, sizeof w, "replication slot %s has no reader: changes "
                 "Debezium has not published yet cannot be told from "
                 "divergence", slots[i]);
        add_warning(r, w);
    }
    cdc_config_free_list(slots);
}

static void compare_tables(const verify_run_t *v, const cdc_config_t *cfg,
                           cdc_verify_report_t *r)
{
    cdc_verify_pace_t pace = {
        .rows_per_second = cdc_config_get_int(cfg, "verify.rate.limit.rows"),
        .stop = v->opt->stop};
    char why[1024];
    for (size_t i = 0; i < r->ntables; i++) {
        cdc_verify_table_t *t = &r->tables[i];
        int rc = v->opt->sample > 0
                     ? v->ops->sample(v->state, v->source, t, v->opt->sample, &pace,
                                      why, sizeof why)
                     : v->ops->compare(v->state, v->source, t, &pace, why, sizeof why);
        if (rc != 0) table_failed(t, why);
        cdc_tail_poll(v->tail, 0);
    }
}

int cdc_verify_run(const cdc_config_t *cfg, const cdc_verify_options_t *opt,
                   cdc_verify_report_t *r)
{
    memset(r, 0, sizeof *r);
    char why[1024];
    const cdc_sink_ops_t *sink = cdc_sink_find(cdc_config_settings(cfg)->sink);
    if (!sink || !sink->verify) {
        snprintf(why, sizeof why, "the %s sink keeps no state to compare: it cannot be verified",
                 cdc_config_settings(cfg)->sink);
        r->error = strdup(why);
        return cdc_verify_exit_code(r);
    }
    const char *route = sink->route_key ? cdc_config_get(cfg, sink->route_key) : NULL;
    if (!route) route = "";
    const char *slot = cdc_config_get(cfg, "source.slot.name");
    verify_run_t v = {.ops = sink->verify, .opt = opt, .slot = slot ? slot : ""};
    cdc_lag_report_t lag;
    bool have_lag = false;
    cdc_pending_t pending = {0};
    char *db = NULL;
    if (!(v.source = cdc_source_connect(cfg, why, sizeof why)) ||
        cdc_lag_collect(cfg, 10000, &lag, why, sizeof why) != 0)
        goto failed;
    have_lag = true;
    if (!(db = source_database(v.source)) ||
        collect_tables(&lag, route, db, opt->table, r) != 0) {
        snprintf(why, sizeof why, "out of memory");
        goto failed;
    }
    /* Followed from before the first row is read: what Debezium publishes
     * meanwhile tells how far it has come. */
    if (!(v.tail = cdc_tail_open(cfg, &lag, why, sizeof why)) ||
        !(v.state = v.ops->open(cfg, why, sizeof why)))
        goto failed;
    warn_idle_slots(v.source, v.slot, r);
    compare_tables(&v, cfg, r);
    if (cdc_source_wal_position(v.source, &v.wal_end, why, sizeof why) != 0)
        goto failed;
    settle(&v, r);
    /* The uncommitted records as of now, after the settling: a change
     * Debezium published while the tables were read is among them. */
    cdc_lag_report_free(&lag);
    have_lag = false;
    if (cdc_lag_collect(cfg, 10000, &lag, why, sizeof why) != 0) goto failed;
    have_lag = true;
    /* A change applied before the offsets just read was committed shows in
     * the sink now; one after them is among the pending records. */
    recheck_all(&v, r);
    if (cdc_pending_collect(cfg, &lag, route, PENDING_MAX_RECORDS, opt->stop,
                            &pending, why, sizeof why) != 0)
        goto failed;
    r->pending_changes = pending.records;
    for (size_t i = 0; i < r->ntables; i++)
        if (!r->tables[i].error) classify(&v, &r->tables[i], &pending);
    if (opt->repair) repair_all(&v, r);
    goto done;
failed:
    r->error = strdup(why);
done:
    free(db);
    cdc_pending_free(&pending);
    if (v.state) v.ops->close(v.state);
    cdc_tail_close(v.tail);
    if (have_lag) cdc_lag_report_free(&lag);
    if (v.source) PQfinish(v.source);
    return cdc_verify_exit_code(r);
}

int cdc_verify_exit_code(const cdc_verify_report_t *r)
{
    if (r->error) return CDC_VERIFY_UNKNOWN;
    bool unchecked = false;
    for (size_t i = 0; i < r->ntables; i++) {
        const cdc_verify_table_t *t = &r->tables[i];
        if (t->missing + t->extra + t->different > t->repaired) return CDC_VERIFY_DIVERGENT;
        if (t->error) unchecked = true;
    }
    return unchecked || r->ntables == 0 ? CDC_VERIFY_UNKNOWN : CDC_VERIFY_EQUAL;
}

void cdc_verify_report_free(cdc_verify_report_t *r)
{
    for (size_t i = 0; i < r->ntables; i++) {
        cdc_verify_table_t *t = &r->tables[i];
        for (size_t k = 0; k < t->ncandidates; k++) key_free(&t->candidates[k]);
        free(t->candidates);
        free(t->source_schema);
        free(t->source_table);
        free(t->topic);
        free(t->source_db);
        free(t->target);
        free(t->target_shown);
        free(t->error);
    }
    free(r->tables);
    cdc_config_free_list(r->warnings);
    free(r->error);
    memset(r, 0, sizeof *r);
}

/* ---------------------------------------------------------------------
 * Output
 * ------------------------------------------------------------------- */

static const char *kind_name(cdc_verify_kind_t k)
{
    return k == CDC_VERIFY_MISSING ? "missing" : k == CDC_VERIFY_EXTRA ? "extra" : "different";
}

static const char *status_name(int code)
{
    return code == CDC_VERIFY_EQUAL ? "OK" : code == CDC_VERIFY_DIVERGENT ? "DIVERGENT" : "UNKNOWN";
}

void cdc_verify_print_text(const cdc_verify_report_t *r, size_t keys_shown,
                           FILE *out)
{
    for (size_t i = 0; r->warnings && r->warnings[i]; i++)
        fprintf(out, "warning: %s\n", r->warnings[i]);
    int code = cdc_verify_exit_code(r);
    if (r->error) {
        fprintf(out, "verify: UNKNOWN: %s\n", r->error);
        return;
    }
    fprintf(out, "%-32s %-32s %10s %8s %8s %9s %9s\n", "SOURCE", "TARGET",
            "COMPARED", "MISSING", "EXTRA", "DIFFERENT", "IN_FLIGHT");
    int64_t divergent = 0, in_flight = 0, compared = 0, repaired = 0;
    size_t bad_tables = 0;
    for (size_t i = 0; i < r->ntables; i++) {
        const cdc_verify_table_t *t = &r->tables[i];
        char source[512];
        snprintf(source, sizeof source, "%s.%s", t->source_schema, t->source_table);
        const char *target = t->target_shown ? t->target_shown : t->target;
        if (t->error) {
            fprintf(out, "%-32s %-32s not checked: %s\n", source, target, t->error);
            continue;
        }
        fprintf(out, "%-32s %-32s %10lld %8lld %8lld %9lld %9lld\n", source,
                target, (long long)t->compared, (long long)t->missing,
                (long long)t->extra, (long long)t->different,
                (long long)t->in_flight);
        for (size_t k = 0; k < t->ncandidates && k < keys_shown; k++)
            fprintf(out, "  %-9s key %s%s\n", kind_name(t->candidates[k].kind),
                    t->candidates[k].text, t->candidates[k].repaired ? " (repaired)" : "");
        int64_t d = t->missing + t->extra + t->different;
        divergent += d;
        repaired += t->repaired;
        bad_tables += d > 0;
        in_flight += t->in_flight;
        compared += t->compared;
    }
    fprintf(out, "verify: %s: %lld divergent row(s) in %zu of %zu table(s); "
                 "%lld compared, %lld in flight, %lld uncommitted change(s) read",
            status_name(code), (long long)divergent, bad_tables, r->ntables,
            (long long)compared, (long long)in_flight, (long long)r->pending_changes);
    if (repaired) fprintf(out, "; %lld repaired", (long long)repaired);
    fputc('\n', out);
}

static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(out, "\\%c", *p);
        else if (*p < 0x20) fprintf(out, "\\u%04x", *p);
        else fputc(*p, out);
    }
    fputc('"', out);
}

static void json_table(const cdc_verify_table_t *t, size_t keys_shown, FILE *out)
{
    fputs("{\"source\":", out);
    char source[512];
    snprintf(source, sizeof source, "%s.%s", t->source_schema, t->source_table);
    json_string(out, source);
    fputs(",\"target\":", out);
    json_string(out, t->target_shown ? t->target_shown : t->target);
    if (t->error) {
        fputs(",\"error\":", out);
        json_string(out, t->error);
        fputc('}', out);
        return;
    }
    fprintf(out, ",\"compared\":%lld,\"missing\":%lld,\"extra\":%lld,"
                 "\"different\":%lld,\"in_flight\":%lld,\"repaired\":%lld,\"keys\":[",
            (long long)t->compared, (long long)t->missing, (long long)t->extra,
            (long long)t->different, (long long)t->in_flight, (long long)t->repaired);
    for (size_t k = 0; k < t->ncandidates && k < keys_shown; k++) {
        fprintf(out, "%s{\"kind\":\"%s\",\"key\":", k ? "," : "",
                kind_name(t->candidates[k].kind));
        json_string(out, t->candidates[k].text);
        fputs(t->candidates[k].repaired ? ",\"repaired\":true}" : "}", out);
    }
    fputs("]}", out);
}

void cdc_verify_print_json(const cdc_verify_report_t *r, size_t keys_shown,
                           FILE *out)
{
    fprintf(out, "{\"status\":\"%s\"", status_name(cdc_verify_exit_code(r)));
    if (r->error) {
        fputs(",\"error\":", out);
        json_string(out, r->error);
    }
    fputs(",\"warnings\":[", out);
    for (size_t i = 0; r->warnings && r->warnings[i]; i++) {
        if (i) fputc(',', out);
        json_string(out, r->warnings[i]);
    }
    fprintf(out, "],\"uncommitted_changes\":%lld,\"tables\":[",
            (long long)r->pending_changes);
    for (size_t i = 0; i < r->ntables; i++) {
        if (i) fputc(',', out);
        json_table(&r->tables[i], keys_shown, out);
    }
    fputs("]}\n", out);
}

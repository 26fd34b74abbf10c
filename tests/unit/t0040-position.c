/* The position ordered by commit (src/position.c): the rule case by case,
 * the snapshot LSN per partition, the envelope fields it is built from
 * (source.sequence, source.snapshot), and a model of the source database
 * and Debezium around snapshots: transactions interleaved under row
 * locks, an initial snapshot and a re-snapshot with transactions in flight,
 * what Debezium emits for each (its lastCommitLsn bookkeeping), then every
 * sink's comparison over that stream must end at the source's rows, and a
 * replay from the beginning must change nothing. */
#include <stdlib.h>

#include "decode.h"
#include "envelope.h"
#include "position.h"
#include "schema.h"
#include "unit.h"

static cdc_event_t stream_event(int64_t lsn, bool has_commit, int64_t last_commit)
{
    cdc_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.topic = "t";
    ev.op = CDC_OP_UPDATE;
    ev.has_position = true;
    ev.commit_ordered = true;
    ev.change_lsn = ev.position = lsn;
    ev.has_last_commit = has_commit;
    ev.last_commit_lsn = last_commit;
    return ev;
}

static void check_rule(void)
{
    /* A snapshot row: its LSN, strict. */
    cdc_event_t ev = stream_event(1000, false, 0);
    ev.snapshot_kind = CDC_SNAPSHOT_FULL;
    cdc_position_compute(&ev, false, 0);
    CHECK_INT(ev.position, 1000);
    CHECK(!ev.position_inclusive);
    /* Written after the commit before its transaction: its own LSN + 2. */
    ev = stream_event(2000, true, 1500);
    cdc_position_compute(&ev, false, 0);
    CHECK_INT(ev.position, 2002);
    CHECK(!ev.position_inclusive);
    /* Written before it: that commit + 1, inclusive. */
    ev = stream_event(1200, true, 1500);
    cdc_position_compute(&ev, false, 0);
    CHECK_INT(ev.position, 1501);
    CHECK(ev.position_inclusive);
    /* The first transaction after a snapshot: above the snapshot's LSN. */
    ev = stream_event(900, false, 0);
    cdc_position_compute(&ev, true, 1000);
    CHECK_INT(ev.position, 1001);
    CHECK(ev.position_inclusive);
    ev = stream_event(1100, false, 0);
    cdc_position_compute(&ev, true, 1000);
    CHECK_INT(ev.position, 1102);
    /* ... and with no snapshot seen: its own LSN. */
    ev = stream_event(900, false, 0);
    cdc_position_compute(&ev, false, 0);
    CHECK_INT(ev.position, 902);
    /* An incremental chunk row: the stream's position at the window's end. */
    ev = stream_event(3000, true, 2900);
    ev.snapshot_kind = CDC_SNAPSHOT_INCREMENTAL;
    cdc_position_compute(&ev, false, 0);
    CHECK_INT(ev.position, 3000);
    /* Another position.field: the raw value, strict. */
    ev = stream_event(700, true, 5000);
    ev.commit_ordered = false;
    cdc_position_compute(&ev, true, 9000);
    CHECK_INT(ev.position, 700);
    CHECK(!ev.position_inclusive);

    CHECK(cdc_position_applies(11, false, 10));
    CHECK(!cdc_position_applies(10, false, 10));
    CHECK(cdc_position_applies(10, true, 10));
    CHECK(!cdc_position_applies(9, true, 10));
}

/* Resolves against the tracker, as the engine does for a consumed record. */
static int resolve(cdc_position_tracker_t *t, cdc_event_t *ev)
{
    bool has = false;
    int64_t lsn = 0;
    return cdc_position_resolve(t, ev, false, &has, &lsn);
}

static void check_tracker(void)
{
    cdc_position_tracker_t *t = cdc_position_tracker_new();
    int64_t lsn = 0;
    CHECK(!cdc_position_snapshot_lsn(t, "a", 0, &lsn));
    cdc_event_t snap = stream_event(1000, false, 0);
    snap.snapshot_kind = CDC_SNAPSHOT_FULL;
    snap.topic = "a";
    CHECK_INT(resolve(t, &snap), 0);
    CHECK(cdc_position_snapshot_lsn(t, "a", 0, &lsn));
    CHECK_INT(lsn, 1000);
    CHECK(!cdc_position_snapshot_lsn(t, "a", 1, &lsn)); /* per partition */
    CHECK(!cdc_position_snapshot_lsn(t, "b", 0, &lsn)); /* per topic */
    cdc_event_t first = stream_event(800, false, 0);
    first.topic = "a";
    CHECK_INT(resolve(t, &first), 0);
    CHECK_INT(first.position, 1001);
    /* Only a higher snapshot LSN raises it. */
    CHECK_INT(cdc_position_note_snapshot(t, "a", 0, 900), 0);
    CHECK(cdc_position_snapshot_lsn(t, "a", 0, &lsn));
    CHECK_INT(lsn, 1000);
    for (int p = 0; p < 100; p++) CHECK_INT(cdc_position_note_snapshot(t, "b", p, 10 * p), 0);
    CHECK(cdc_position_snapshot_lsn(t, "b", 57, &lsn));
    CHECK_INT(lsn, 570);
    cdc_position_tracker_destroy(t);
}

/* ------------------------------------------------------------------
 * The model: rows 0..NROWS-1 each hold an int; a transaction writes some
 * rows (taking their locks), each write a WAL record; commits are WAL
 * records too. LSNs advance 8 bytes a record, as PostgreSQL aligns them.
 * ---------------------------------------------------------------- */

#define NROWS 6
#define NTX 60
#define MAXW 4

typedef struct tx {
    int rows[MAXW], values[MAXW];
    int64_t lsns[MAXW];
    int nwrites, written;
    int64_t commit; /* end of the commit record; 0 until committed */
} tx_t;

typedef struct record {
    int row, value;
    int64_t commit; /* its transaction's commit; a snapshot row's: S */
    cdc_event_t ev;
} record_t;

typedef struct model {
    tx_t tx[NTX];
    int commit_order[NTX], ncommitted;
    int64_t lsn;
} model_t;

static unsigned rng_state = 12345;
static unsigned rnd(unsigned n)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return (rng_state >> 8) % n;
}

/* Runs NTX transactions, up to 4 at once, each write a record; a write
 * waits while another open transaction holds the row. */
static void model_run(model_t *m)
{
    memset(m, 0, sizeof *m);
    m->lsn = 1000;
    int holder[NROWS];
    for (int r = 0; r < NROWS; r++) holder[r] = -1;
    for (int i = 0; i < NTX; i++) {
        m->tx[i].nwrites = 1 + (int)rnd(MAXW);
        /* Rows in ascending order, so that no two transactions wait for
         * each other (the database would abort one of them). */
        int row = (int)rnd(NROWS);
        for (int w = 0; w < m->tx[i].nwrites; w++) {
            row += (int)rnd(3);
            m->tx[i].rows[w] = row < NROWS ? row : NROWS - 1;
            m->tx[i].values[w] = i * 10 + w;
        }
    }
    int next = 0, open[4], nopen = 0;
    while (m->ncommitted < NTX) {
        if (nopen < 4 && next < NTX && rnd(3) == 0) open[nopen++] = next++;
        if (nopen == 0) {
            if (next < NTX) open[nopen++] = next++;
            continue;
        }
        int k = (int)rnd((unsigned)nopen);
        tx_t *t = &m->tx[open[k]];
        if (t->written < t->nwrites) {
            int row = t->rows[t->written];
            if (holder[row] != -1 && holder[row] != open[k]) continue; /* waits */
            holder[row] = open[k];
            m->lsn += 8;
            t->lsns[t->written++] = m->lsn;
        } else {
            m->lsn += 8;
            t->commit = m->lsn + 8; /* the end of the commit record */
            m->lsn += 8;
            for (int r = 0; r < NROWS; r++)
                if (holder[r] == open[k]) holder[r] = -1;
            m->commit_order[m->ncommitted++] = open[k];
            open[k] = open[--nopen];
        }
    }
}

/* The rows as the committed transactions up to `upto` (a WAL position,
 * commits before it) left them; present[r] false: never written. */
static void model_state_at(const model_t *m, int64_t upto, int *value, bool *present)
{
    for (int r = 0; r < NROWS; r++) present[r] = false;
    for (int c = 0; c < m->ncommitted; c++) {
        const tx_t *t = &m->tx[m->commit_order[c]];
        if (t->commit > upto) break;
        for (int w = 0; w < t->nwrites; w++) {
            value[t->rows[w]] = t->values[w];
            present[t->rows[w]] = true;
        }
    }
}

/* What Debezium emits for a snapshot at S followed by streaming from S:
 * the snapshot rows, then every transaction committing after S (and up to
 * `until`) in commit order, the first with no lastCommitLsn. */
static int emit_session(const model_t *m, int64_t S, int64_t until, record_t *out)
{
    int n = 0, value[NROWS];
    bool present[NROWS];
    model_state_at(m, S, value, present);
    for (int r = 0; r < NROWS; r++) {
        if (!present[r]) continue;
        out[n] = (record_t){r, value[r], S, stream_event(S, false, 0)};
        out[n].ev.snapshot_kind = CDC_SNAPSHOT_FULL;
        n++;
    }
    bool has_commit = false;
    int64_t last_commit = 0;
    for (int c = 0; c < m->ncommitted; c++) {
        const tx_t *t = &m->tx[m->commit_order[c]];
        if (t->commit <= S || t->commit > until) continue;
        for (int w = 0; w < t->nwrites; w++)
            out[n++] = (record_t){t->rows[w], t->values[w], t->commit,
                                  stream_event(t->lsns[w], has_commit, last_commit)};
        has_commit = true;
        last_commit = t->commit;
    }
    return n;
}

typedef struct sink_row {
    bool present;
    int value;
    int64_t position;
    int64_t commit; /* of the record that wrote it */
} sink_row_t;

/* A sink's guard; 1 when the record was applied. An applied record is
 * never of an older commit than the row held: no regression, ever. */
static int sink_apply(sink_row_t *rows, const record_t *rec)
{
    sink_row_t *s = &rows[rec->row];
    if (s->present && !cdc_position_applies(rec->ev.position, rec->ev.position_inclusive,
                                            s->position))
        return 0;
    if (s->present && rec->commit < s->commit) {
        CHECK(rec->commit >= s->commit);
        fprintf(stderr, "  regressed: row %d at commit %lld took a change of commit %lld\n",
                rec->row, (long long)s->commit, (long long)rec->commit);
    }
    s->present = true;
    s->value = rec->value;
    s->position = rec->ev.position;
    s->commit = rec->commit;
    return 1;
}

static int same_as_source(const sink_row_t *rows, const model_t *m, int64_t upto)
{
    int value[NROWS];
    bool present[NROWS];
    model_state_at(m, upto, value, present);
    for (int r = 0; r < NROWS; r++)
        if (rows[r].present != present[r] || (present[r] && rows[r].value != value[r])) return 0;
    return 1;
}

/* One partition: an initial snapshot at S1 with transactions in flight,
 * its stream up to a connector stop, a re-snapshot at S2 (snapshot.mode
 * always), its stream to the end. */
static void check_model_round(unsigned seed, int *straddled)
{
    rng_state = seed;
    model_t m;
    model_run(&m);
    int64_t end = m.lsn + 8;
    int64_t S1 = 1000 + (int64_t)rnd((unsigned)(end - 1000) / 3) / 8 * 8;
    int64_t stop = S1 + (int64_t)rnd((unsigned)(end - S1) / 2) / 8 * 8;
    int64_t S2 = stop + (int64_t)rnd((unsigned)(end - stop)) / 8 * 8;
    static record_t recs[4 * NTX * MAXW];
    int n = emit_session(&m, S1, stop, recs);
    n += emit_session(&m, S2, end, recs + n);
    for (int i = 0; i < n; i++)
        if (recs[i].ev.snapshot_kind == CDC_SNAPSHOT_NONE && !recs[i].ev.has_last_commit &&
            recs[i].ev.change_lsn < S1)
            (*straddled)++;

    cdc_position_tracker_t *t = cdc_position_tracker_new();
    for (int i = 0; i < n; i++) CHECK_INT(resolve(t, &recs[i].ev), 0);
    cdc_position_tracker_destroy(t);

    sink_row_t rows[NROWS];
    memset(rows, 0, sizeof rows);
    for (int i = 0; i < n; i++) sink_apply(rows, &recs[i]);
    int ok = same_as_source(rows, &m, end);
    CHECK(ok);
    if (!ok) fprintf(stderr, "  seed %u: S1 %lld stop %lld S2 %lld\n", seed, (long long)S1,
                     (long long)stop, (long long)S2);

    /* A new consumer group from the beginning changes nothing, and what it
     * applies again only rewrites equal values of the same transactions. */
    for (int i = 0; i < n; i++) {
        sink_row_t before = rows[recs[i].row];
        if (sink_apply(rows, &recs[i]))
            CHECK(recs[i].ev.position_inclusive && before.commit == recs[i].commit);
    }
    CHECK(same_as_source(rows, &m, end));
    /* A target written before this rule holds raw LSNs: a change of an
     * earlier commit than the one a row holds, delivered after the upgrade,
     * is still stale against it (no migration needed). */
    sink_row_t old[NROWS];
    memset(old, 0, sizeof old);
    for (int i = 0; i < n; i++) {
        sink_row_t *o = &old[recs[i].row];
        if (o->present && recs[i].ev.change_lsn <= o->position) continue;
        *o = (sink_row_t){true, recs[i].value, recs[i].ev.change_lsn, recs[i].commit};
    }
    for (int i = 0; i < n; i++) {
        const sink_row_t *o = &old[recs[i].row];
        if (o->present && recs[i].commit < o->commit)
            CHECK(!cdc_position_applies(recs[i].ev.position, recs[i].ev.position_inclusive,
                                        o->position));
    }
    /* Any single record of an earlier commit delivered again (a DLQ
     * replay, a rewound group) is stale. */
    for (int i = 0; i < n; i++) {
        sink_row_t copy[NROWS];
        memcpy(copy, rows, sizeof copy);
        if (recs[i].commit < rows[recs[i].row].commit) CHECK_INT(sink_apply(copy, &recs[i]), 0);
    }
}

static void check_model(void)
{
    int straddled = 0;
    for (unsigned seed = 1; seed <= 400; seed++) check_model_round(seed, &straddled);
    /* The rounds did exercise the seam. */
    CHECK(straddled > 50);
}

/* ------------------------------------------------------------------
 * What the envelope reads for it
 * ---------------------------------------------------------------- */

static const char ENVELOPE_SCHEMA[] =
    "{\"type\":\"record\",\"name\":\"Envelope\",\"namespace\":\"cdc.public.t\",\"fields\":["
    "{\"name\":\"before\",\"type\":[\"null\",{\"type\":\"record\",\"name\":\"Value\","
    "\"fields\":[{\"name\":\"id\",\"type\":\"int\"}]}],\"default\":null},"
    "{\"name\":\"after\",\"type\":[\"null\",\"Value\"],\"default\":null},"
    "{\"name\":\"source\",\"type\":{\"type\":\"record\",\"name\":\"Source\",\"fields\":["
    "{\"name\":\"snapshot\",\"type\":[\"null\",\"string\"]},"
    "{\"name\":\"sequence\",\"type\":[\"null\",\"string\"]},"
    "{\"name\":\"lsn\",\"type\":[\"null\",\"long\"]}]}},"
    "{\"name\":\"op\",\"type\":\"string\"}]}";

static size_t put_string(uint8_t *p, const char *s)
{
    size_t n = strlen(s), k = 0;
    p[k++] = (uint8_t)(2 * n); /* zigzag, short strings only */
    memcpy(p + k, s, n);
    return k + n;
}

/* An update of id 7 at LSN 1000 with the given snapshot and sequence
 * (NULL: the union's null). */
static cdc_event_t read_envelope_lsn(cdc_schema_t *schema, const cdc_envelope_plan_t *plan,
                                     cdc_arena_t *arena, const char *snapshot,
                                     const char *sequence, bool lsn_null)
{
    uint8_t data[128];
    size_t n = 0;
    data[n++] = 0x00;                   /* before: null */
    data[n++] = 0x02; data[n++] = 0x0e; /* after: {id: 7} */
    if (snapshot) { data[n++] = 0x02; n += put_string(data + n, snapshot); }
    else data[n++] = 0x00;
    if (sequence) { data[n++] = 0x02; n += put_string(data + n, sequence); }
    else data[n++] = 0x00;
    if (lsn_null) data[n++] = 0x00;
    else { data[n++] = 0x02; data[n++] = 0xd0; data[n++] = 0x0f; } /* lsn: 1000 */
    n += put_string(data + n, "u");
    cdc_value_t value;
    char err[256];
    cdc_event_t ev;
    memset(&ev, 0, sizeof ev);
    CHECK_INT(cdc_decode_avro(schema->root, data, n, arena, &value, err, sizeof err), 0);
    CHECK_INT(cdc_envelope_read(plan, &value, arena, &ev, err, sizeof err), 0);
    return ev;
}

static cdc_event_t read_envelope(cdc_schema_t *schema, const cdc_envelope_plan_t *plan,
                                 cdc_arena_t *arena, const char *snapshot, const char *sequence)
{
    return read_envelope_lsn(schema, plan, arena, snapshot, sequence, false);
}

static cdc_schema_t *compile(const char *json)
{
    char err[256] = "";
    cdc_schema_t *schema = cdc_schema_compile(json, strlen(json), err, sizeof err);
    CHECK(schema != NULL);
    if (!schema) fprintf(stderr, "  %s\n", err);
    return schema;
}

static void check_envelope(void)
{
    cdc_arena_t arena;
    cdc_arena_init(&arena, 16 * 1024);
    char err[256];
    cdc_schema_t *schema = compile(ENVELOPE_SCHEMA);
    if (!schema) return;
    cdc_envelope_plan_t *plan = cdc_envelope_plan_new(schema, "source.lsn", err, sizeof err);
    CHECK(plan && cdc_envelope_plan_has_position(plan));
    cdc_event_t ev = read_envelope(schema, plan, &arena, "false", "[\"900\",\"1000\"]");
    CHECK(ev.commit_ordered);
    CHECK_INT(ev.change_lsn, 1000);
    CHECK(ev.has_last_commit);
    CHECK_INT(ev.last_commit_lsn, 900);
    CHECK_INT(ev.snapshot_kind, CDC_SNAPSHOT_NONE);
    ev = read_envelope(schema, plan, &arena, "last", "[null,\"1000\"]");
    CHECK(!ev.has_last_commit);
    CHECK_INT(ev.snapshot_kind, CDC_SNAPSHOT_FULL);
    ev = read_envelope(schema, plan, &arena, "incremental", NULL);
    CHECK(!ev.has_last_commit);
    CHECK_INT(ev.snapshot_kind, CDC_SNAPSHOT_INCREMENTAL);
    ev = read_envelope(schema, plan, &arena, "incremental", "[\"1200\",\"1300\"]");
    CHECK(ev.has_last_commit);
    CHECK_INT(ev.last_commit_lsn, 1200);
    CHECK_INT(ev.change_lsn, 1000); /* source.lsn when there is one */
    /* Debezium's incremental rows have none: the sequence's position. */
    ev = read_envelope_lsn(schema, plan, &arena, "incremental", "[\"1200\",\"1300\"]", true);
    CHECK(ev.has_position && ev.commit_ordered);
    CHECK_INT(ev.change_lsn, 1300);
    ev = read_envelope_lsn(schema, plan, &arena, "false", "[\"1200\",null]", true);
    CHECK(!ev.has_position);
    ev = read_envelope(schema, plan, &arena, NULL, "[\"x\"]");
    CHECK(!ev.has_last_commit);
    CHECK_INT(ev.snapshot_kind, CDC_SNAPSHOT_NONE);
    cdc_schema_destroy(schema);

    /* Another position.field: the rules do not apply. */
    schema = compile(ENVELOPE_SCHEMA);
    plan = cdc_envelope_plan_new(schema, "source.sequence", err, sizeof err);
    CHECK(plan && cdc_envelope_plan_has_position(plan));
    cdc_schema_destroy(schema);
    /* A position.field the schema lacks: no position, the decoder stops. */
    schema = compile(ENVELOPE_SCHEMA);
    plan = cdc_envelope_plan_new(schema, "source.scn", err, sizeof err);
    CHECK(plan && !cdc_envelope_plan_has_position(plan));
    cdc_schema_destroy(schema);

    /* Debezium's other records are no changes. */
    static const struct { const char *json, *kind; } controls[] = {
        {"{\"type\":\"record\",\"name\":\"Heartbeat\",\"namespace\":\"io.debezium.connector.common\","
         "\"fields\":[{\"name\":\"ts_ms\",\"type\":\"long\"}]}", "heartbeat"},
        {"{\"type\":\"record\",\"name\":\"TransactionMetadataValue\",\"namespace\":\"io.debezium.connector.common\","
         "\"fields\":[{\"name\":\"status\",\"type\":\"string\"},{\"name\":\"id\",\"type\":\"string\"},"
         "{\"name\":\"event_count\",\"type\":[\"null\",\"long\"]},{\"name\":\"data_collections\","
         "\"type\":[\"null\",{\"type\":\"array\",\"items\":\"string\"}]},{\"name\":\"ts_ms\",\"type\":\"long\"}]}",
         "transaction"},
        {"{\"type\":\"record\",\"name\":\"MessageValue\",\"namespace\":\"io.debezium.connector.postgresql\","
         "\"fields\":[{\"name\":\"op\",\"type\":\"string\"},{\"name\":\"ts_ms\",\"type\":[\"null\",\"long\"]},"
         "{\"name\":\"message\",\"type\":{\"type\":\"record\",\"name\":\"Message\",\"fields\":["
         "{\"name\":\"prefix\",\"type\":\"string\"},{\"name\":\"content\",\"type\":\"bytes\"}]}}]}",
         "message"},
    };
    for (size_t i = 0; i < sizeof controls / sizeof *controls; i++) {
        schema = compile(controls[i].json);
        if (!schema) continue;
        plan = cdc_envelope_plan_new(schema, "source.lsn", err, sizeof err);
        CHECK(plan && cdc_envelope_plan_has_position(plan));
        cdc_value_t value;
        memset(&value, 0, sizeof value);
        cdc_event_t ev2;
        memset(&ev2, 0, sizeof ev2);
        CHECK_INT(cdc_envelope_read(plan, &value, &arena, &ev2, err, sizeof err), 0);
        CHECK_INT(ev2.op, CDC_OP_CONTROL);
        CHECK_STR(ev2.control_kind, controls[i].kind);
        cdc_schema_destroy(schema);
    }
    /* Metadata fields of other types (an int op, a long table name) are
     * a data error, never read as text (they crashed the process). */
    static const char NUMBERS[] =
        "{\"type\":\"record\",\"name\":\"Envelope\",\"namespace\":\"cdc.public.n\",\"fields\":["
        "{\"name\":\"before\",\"type\":[\"null\",{\"type\":\"record\",\"name\":\"Value\","
        "\"fields\":[{\"name\":\"id\",\"type\":\"int\"}]}]},"
        "{\"name\":\"after\",\"type\":[\"null\",\"Value\"]},"
        "{\"name\":\"source\",\"type\":{\"type\":\"record\",\"name\":\"Source\",\"fields\":["
        "{\"name\":\"table\",\"type\":\"long\"},{\"name\":\"snapshot\",\"type\":\"int\"},"
        "{\"name\":\"lsn\",\"type\":\"long\"}]}},"
        "{\"name\":\"op\",\"type\":\"int\"}]}";
    schema = compile(NUMBERS);
    if (schema) {
        plan = cdc_envelope_plan_new(schema, "source.lsn", err, sizeof err);
        const uint8_t data[] = {0x00, 0x02, 0x0e, 0x0a, 0x02, 0xd0, 0x0f, 0x06};
        cdc_value_t value;
        cdc_event_t ev3;
        memset(&ev3, 0, sizeof ev3);
        CHECK_INT(cdc_decode_avro(schema->root, data, sizeof data, &arena, &value, err, sizeof err), 0);
        CHECK(plan && cdc_envelope_read(plan, &value, &arena, &ev3, err, sizeof err) == -1);
        CHECK(strstr(err, "unknown op '': the field is of type int") != NULL);
        cdc_schema_destroy(schema);
    }

    /* before and after of different shapes: refused with a clear line,
     * not read with one another's columns. */
    static const char SHAPES[] =
        "{\"type\":\"record\",\"name\":\"Envelope\",\"namespace\":\"cdc.public.s\",\"fields\":["
        "{\"name\":\"before\",\"type\":[\"null\",{\"type\":\"record\",\"name\":\"Old\","
        "\"fields\":[{\"name\":\"id\",\"type\":\"int\"}]}]},"
        "{\"name\":\"after\",\"type\":[\"null\",{\"type\":\"record\",\"name\":\"New\","
        "\"fields\":[{\"name\":\"id\",\"type\":\"long\"},{\"name\":\"x\",\"type\":\"string\"}]}]},"
        "{\"name\":\"op\",\"type\":\"string\"}]}";
    schema = compile(SHAPES);
    if (schema) {
        err[0] = '\0';
        CHECK(cdc_envelope_plan_new(schema, "source.lsn", err, sizeof err) == NULL);
        CHECK(strstr(err, "before and after are records of different columns") != NULL);
        cdc_schema_destroy(schema);
    }

    /* A user table may have columns named op, message or ts_ms: by
     * shape alone it would be taken for Debezium's own records. */
    static const char *const rows[] = {
        "{\"type\":\"record\",\"name\":\"Value\",\"namespace\":\"cdc.public.audit\","
        "\"fields\":[{\"name\":\"id\",\"type\":\"int\"},{\"name\":\"op\",\"type\":\"string\"},"
        "{\"name\":\"message\",\"type\":\"string\"},{\"name\":\"__lsn\",\"type\":\"long\"}]}",
        "{\"type\":\"record\",\"name\":\"Value\",\"namespace\":\"cdc.public.ticks\","
        "\"fields\":[{\"name\":\"ts_ms\",\"type\":\"long\"}]}",
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        schema = compile(rows[i]);
        if (!schema) continue;
        plan = cdc_envelope_plan_new(schema, "source.lsn", err, sizeof err);
        cdc_value_t value;
        memset(&value, 0, sizeof value);
        cdc_value_t fields[4];
        memset(fields, 0, sizeof fields);
        value.u.array.items = fields;
        value.u.array.count = schema->root->count;
        cdc_event_t ev2;
        memset(&ev2, 0, sizeof ev2);
        if (plan) cdc_envelope_read(plan, &value, &arena, &ev2, err, sizeof err);
        CHECK(plan && ev2.op != CDC_OP_CONTROL);
        cdc_schema_destroy(schema);
    }
    cdc_arena_destroy(&arena);
}

int main(void)
{
    check_envelope();
    check_rule();
    check_tracker();
    check_model();
    return unit_finish("t0040-position");
}

/* verify — `cdcsink verify`: is the sink equal to the source?
 *
 * For each source table behind the pipeline's topics, the sink's verifier
 * (sink.h: cdc_sink_ops_t.verify) compares the source's rows with what
 * the sink holds and reports the keys that differ: MISSING (a source row
 * the sink lacks), EXTRA (a sink row the source lacks) or DIFFERENT. Not
 * every such key has diverged: a change may still be on its way. The core
 * therefore looks at each candidate again:
 *
 *   1. settle: the key is read again on both sides every 500 ms, for at
 *      least `settle_ms` and until Debezium has published everything the
 *      source had committed when the tables were read (src/verify_tail.h;
 *      at most `wait_ms`); one that becomes equal, or whose source row
 *      changes meanwhile, was in flight;
 *   2. pending: the group's committed offsets are read, the keys once more
 *      (what was applied before those offsets shows now), and a key with
 *      a change in Kafka that the pipeline has not committed yet (between the group's committed offset and the end of
 *      each partition, src/verify_pending.h) is in flight;
 *   3. the rest are divergent — unless Debezium never caught up within
 *      `wait_ms`: then the table is "not checked", since its change may
 *      still be in Debezium.
 *
 * Exit codes are Nagios-like, as `lag`'s: 0 equal, 1 divergent, 2 usage or
 * config, 3 could not check (a store unreachable, a table that cannot be
 * compared). Divergence found in one table wins over another that could
 * not be checked. docs/operations.md ("Verifying a sink") is the runbook. */
#ifndef CDC_VERIFY_H
#define CDC_VERIFY_H

#include <libpq-fe.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"

enum { CDC_VERIFY_EQUAL = 0, CDC_VERIFY_DIVERGENT = 1, CDC_VERIFY_USAGE = 2,
       CDC_VERIFY_UNKNOWN = 3 };

typedef enum cdc_verify_kind {
    CDC_VERIFY_MISSING = 0,
    CDC_VERIFY_EXTRA = 1,
    CDC_VERIFY_DIFFERENT = 2
} cdc_verify_kind_t;

/* A key whose rows differ: its columns' values as text (a NULL part is a
 * NULL value), the same joined as ${key} renders it (src/route.h), and the
 * digest of the source row when last read ("" when the source lacks it). */
typedef struct cdc_verify_key {
    cdc_verify_kind_t kind;
    char *text;
    char **parts;
    size_t nparts;
    char source_digest[24];
    bool moving;   /* the source row changed between two reads */
    bool repaired; /* --repair wrote it, and it reads equal now */
} cdc_verify_key_t;

/* One source table and its target, and what comparing them found. */
typedef struct cdc_verify_table {
    char *source_schema, *source_table;
    char *topic, *source_db; /* what the route template was filled from */
    char *target;        /* the routed name (table.name.format, ...), with
                          * ${key} empty */
    char *target_shown;  /* as the sink names it, e.g. "public"."orders" */
    int64_t compared;    /* rows read on the source side */
    int64_t missing, extra, different, in_flight;
    int64_t repaired;    /* --repair: divergent keys that read equal after */
    cdc_verify_key_t *candidates; /* keys that differed; after the checks, */
    size_t ncandidates, cap;      /* only the divergent ones, in key order */
    char *error;         /* could not check it: why (NULL when checked) */
} cdc_verify_table_t;

/* Keeps the reading of the source under `rows_per_second` (0: no limit):
 * a verifier calls cdc_verify_pace after each chunk of rows it read. */
typedef struct cdc_verify_pace {
    int64_t rows_per_second;
    int64_t started_ms;
    int64_t rows;
    volatile sig_atomic_t *stop;
} cdc_verify_pace_t;

/* 0 to go on, -1 when a stop was asked for. */
int cdc_verify_pace(cdc_verify_pace_t *pace, int64_t rows);

/* Adds a candidate key (parts copied); -1 when out of memory. */
int cdc_verify_add_candidate(cdc_verify_table_t *t, cdc_verify_kind_t kind,
                             const char *const *parts, size_t nparts,
                             const char *source_digest);

/* A sink's half of the comparison (sink.h). The source is PostgreSQL
 * (Debezium's), on a session of the core's (src/verify.c: UTC, ISO dates,
 * read-only). */
typedef struct cdc_verify_ops {
    /* Connects to the target, for reading only. NULL with errstr. */
    void *(*open)(const cdc_config_t *cfg, char *errstr, size_t errstr_size);
    /* Compares the whole table: counts t->compared and adds every key that
     * differs as a candidate. 0, or -1 with errstr when it could not. */
    int (*compare)(void *state, PGconn *source, cdc_verify_table_t *t,
                   cdc_verify_pace_t *pace, char *errstr, size_t errstr_size);
    /* --sample: compares up to n keys picked at random on each side (each
     * key compared counts once); differing ones become candidates as with
     * compare. */
    int (*sample)(void *state, PGconn *source, cdc_verify_table_t *t,
                  int64_t n, cdc_verify_pace_t *pace, char *errstr,
                  size_t errstr_size);
    /* Reads one candidate again on both sides: 0 when the rows are equal
     * now, 1 when they still differ (key->kind, key->source_digest and
     * key->moving updated), -1 with errstr. */
    int (*recheck)(void *state, PGconn *source, const cdc_verify_table_t *t,
                   cdc_verify_key_t *key, char *errstr, size_t errstr_size);
    /* --repair: makes the sink's copy of a divergent key what the source
     * holds now, through the sink's guarded writes, never regressing
     * anything newer. 1 when it wrote, 0 when something newer was there
     * already, -1 with errstr. NULL: the sink cannot repair. */
    int (*repair)(void *state, PGconn *source, const cdc_verify_table_t *t,
                  const cdc_verify_key_t *key, char *errstr, size_t errstr_size);
    void (*close)(void *state);
} cdc_verify_ops_t;

typedef struct cdc_verify_options {
    const char *table;      /* "schema.table" or "table"; NULL: all */
    int64_t settle_ms;      /* how long a candidate may take to converge */
    int64_t wait_ms;        /* at most this long for Debezium to publish
                             * what the source committed before the check */
    size_t keys_shown;      /* divergent keys listed per table */
    bool repair;            /* write the source's rows for divergent keys */
    int64_t sample;         /* keys per side and table; 0: every row */
    volatile sig_atomic_t *stop;
} cdc_verify_options_t;

typedef struct cdc_verify_report {
    cdc_verify_table_t *tables;
    size_t ntables;
    int64_t pending_changes; /* records read between committed and end */
    char **warnings;         /* NULL-terminated, may be NULL */
    char *error;             /* nothing could be checked: why */
} cdc_verify_report_t;

/* Runs the comparison; returns the exit code (CDC_VERIFY_*). */
int cdc_verify_run(const cdc_config_t *cfg, const cdc_verify_options_t *opt,
                   cdc_verify_report_t *report);
void cdc_verify_report_free(cdc_verify_report_t *report);
int cdc_verify_exit_code(const cdc_verify_report_t *report);

void cdc_verify_print_text(const cdc_verify_report_t *report,
                           size_t keys_shown, FILE *out);
void cdc_verify_print_json(const cdc_verify_report_t *report,
                           size_t keys_shown, FILE *out);

#endif

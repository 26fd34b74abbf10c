/* pg_pair — a source table and its replica, as `cdcsink verify` compares
 * them (pg_verify.c) and repairs them (pg_repair.c): both tables from the
 * catalog, the compared columns and the SQL fragments both servers run.
 * Internal to sinks/postgres/. */
#ifndef CDC_PG_PAIR_H
#define CDC_PG_PAIR_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "pg_sink.h"
#include "pg_table.h"
#include "verify.h"

#define PG_VERIFY_MAX_KEY_COLUMNS 32 /* PostgreSQL's INDEX_MAX_KEYS */
#define PG_VERIFY_MAX_COLUMNS 1600    /* PostgreSQL's MaxHeapAttributeNumber */

/* A source table and its replica, with the SQL that compares them. */
typedef struct pg_pair {
    const cdc_verify_table_t *table; /* the core's; identifies the pair */
    cdc_pg_table_t *target, *source;
    int *cols;           /* the compared columns, replica indexes */
    size_t ncols;
    char *digest;        /* the row digest expression, the same on both sides */
    char *keys;          /* "k1", "k2" (target order) */
    char *keys_desc;     /* "k1" DESC, "k2" DESC */
    char *key_texts;     /* "k1"::text, "k2"::text */
    char **source_types, **target_types; /* of the key columns */
    char *target_filter; /* " AND NOT deleted" or "" */
} pg_pair_t;

typedef struct pg_verifier {
    pg_sink_t *sink;
    bool keeps_deleted; /* delete.mode=none: the source's deletes stay */
    bool soft;          /* delete.mode=soft */
    pg_pair_t **pairs;
    size_t npairs;
} pg_verifier_t;

/* The pair of the core's table t, built on first use (both catalogs
 * read, the replica's name as the sink routes it); NULL with errstr. */
pg_pair_t *cdc_pg_pair_for(pg_verifier_t *v, PGconn *source,
                           cdc_verify_table_t *t, char *errstr,
                           size_t errstr_size);
/* The pair already built for t, or NULL. */
pg_pair_t *cdc_pg_pair_find(const pg_verifier_t *v, const cdc_verify_table_t *t);
void cdc_pg_pair_free(pg_pair_t *p);

/* Appends " AND (k1, k2) OP ($n::t1, $n+1::t2)" with each side's key
 * types (source_types or target_types). */
void cdc_pg_pair_key_condition(cdc_buf_t *b, const pg_pair_t *p,
                               char *const *types, const char *op,
                               int first_param);

/* Appends a text[] literal of the items (NULL items are NULL). */
void cdc_pg_pair_text_array(cdc_buf_t *b, const char *const *items, size_t n);

#endif

/* verify_doc — `cdcsink verify` for a sink that keeps one document per
 * source row under the row's ${key} (Redis: a string or hash; the search
 * engines: a document whose _id is the key).
 *
 * The policy is here and the same for every such sink: the source is
 * walked in key order, a thousand rows at a time, and the store's
 * documents of those keys are fetched and compared with the rows by the
 * source server (src/verify_docsql.h); then every document the store holds
 * for the table is listed, and those whose key the source lacks are extra.
 * A document flagged `__deleted` (delete.mode=soft) counts as absent; with
 * delete.mode=none the source's deletes are kept on purpose and are not
 * extra. --sample compares a sample of the source's rows (TABLESAMPLE) and
 * the first N documents the store lists. --repair renders the source's
 * current row as a document (or, when the source lacks the row, the delete
 * of delete.mode) and has the store write it through its guard.
 *
 * A store brings only I/O (cdc_vdoc_store_t); its verifier is
 * cdc_vdoc_ops() with the store's own open. */
#ifndef CDC_VERIFY_DOC_H
#define CDC_VERIFY_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "verify.h"

/* What --repair writes for a key. */
typedef struct cdc_vdoc_row {
    const char *json;   /* the document (a JSON object); NULL: a delete */
    bool soft;          /* the delete is delete.mode=soft's: flag it */
    /* The document's members as text (texts[i] NULL: null), for a store
     * that keeps text (a Redis hash). */
    char **names, **texts;
    size_t n;
} cdc_vdoc_row_t;

/* Takes a batch of ${key} texts; non-zero stops the listing. */
typedef int (*cdc_vdoc_each_fn)(void *arg, char *const *keys, size_t n);

typedef struct cdc_vdoc_store {
    /* How the store names t's documents (a key pattern, an index), for
     * the report; malloc'd, NULL for t->target. */
    char *(*shown)(void *st, const cdc_verify_table_t *t);
    /* docs[i]: the document stored for keys[i], as JSON text (malloc'd;
     * a textual store's fields as a JSON object of strings), NULL when
     * there is none. A value of another type than the store writes is
     * returned as a JSON string naming it (never equal to a row). 0, or
     * -1 with errstr. */
    int (*fetch)(void *st, const cdc_verify_table_t *t, const char *const *keys,
                 size_t n, char **docs, char *errstr, size_t errstr_size);
    /* Passes the ${key} texts of every document stored for t to each, a
     * batch at a time; at most about `limit` of them when limit > 0. 0,
     * or -1 with errstr. */
    int (*scan)(void *st, const cdc_verify_table_t *t, int64_t limit,
                cdc_vdoc_each_fn each, void *arg, char *errstr, size_t errstr_size);
    /* Writes row for key through the store's guard, at a position just
     * above what it holds for the key, so any real later change still
     * wins. 1 when it wrote, 0 when something newer was there, -1 with
     * errstr. */
    int (*write)(void *st, const cdc_verify_table_t *t, const char *key,
                 const cdc_vdoc_row_t *row, char *errstr, size_t errstr_size);
    void (*close)(void *st);
} cdc_vdoc_store_t;

/* The verifier's state over an open store st (owned from here on, closed
 * by cdc_vdoc_close, or now on failure); textual: its documents hold every
 * value as text (a Redis hash), else as JSON. NULL with errstr. */
void *cdc_vdoc_open(const cdc_config_t *cfg, const cdc_vdoc_store_t *store, void *st,
                    bool textual, char *errstr, size_t errstr_size);

/* The cdc_verify_ops_t functions of a document sink (its open calls
 * cdc_vdoc_open). */
int cdc_vdoc_compare(void *state, PGconn *source, cdc_verify_table_t *t,
                     cdc_verify_pace_t *pace, char *errstr, size_t errstr_size);
int cdc_vdoc_sample(void *state, PGconn *source, cdc_verify_table_t *t, int64_t n,
                    cdc_verify_pace_t *pace, char *errstr, size_t errstr_size);
int cdc_vdoc_recheck(void *state, PGconn *source, const cdc_verify_table_t *t,
                     cdc_verify_key_t *key, char *errstr, size_t errstr_size);
int cdc_vdoc_repair(void *state, PGconn *source, const cdc_verify_table_t *t,
                    const cdc_verify_key_t *key, char *errstr, size_t errstr_size);
void cdc_vdoc_close(void *state);

#endif

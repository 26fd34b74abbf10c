/* es_index — the indexes a pipeline writes: names, existence, mappings.
 *
 * Index names come from index.name.format, made valid: lower-cased, and
 * `\ / * ? " < > | , # :` and spaces become `_`; leading `-`, `_`, `+`
 * are dropped; at most 255 bytes; nothing left, `.` or `..` is `unnamed`. The first time a pipeline meets an
 * index it reads its mapping (GET /<index>/_mapping); a missing index is
 * created with a mapping derived from the Avro schema (es_mapping.h),
 * `index.gc_deletes` = delete.retention.ms and the configured replicas, or
 * is fatal without auto.create. Each row schema (a table's version) is
 * checked once per index: new columns are added to the mapping with
 * auto.evolve; a column whose field has an incompatible type is a conflict
 * whose records are rejected (class schema). */
#ifndef CDC_ES_INDEX_H
#define CDC_ES_INDEX_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "es_http.h"
#include "event.h"

typedef struct cdc_es_index_options {
    bool auto_create, auto_evolve;
    int replicas;
    long long gc_deletes_ms; /* delete.retention.ms */
} cdc_es_index_options_t;

typedef enum cdc_es_index_status {
    CDC_ES_INDEX_OK = 0,
    CDC_ES_INDEX_RETRY = 1,    /* the engine did not answer usefully: errstr */
    CDC_ES_INDEX_FATAL = 2,    /* missing without auto.create, 401/403: errstr */
    CDC_ES_INDEX_CONFLICT = 3  /* *why: the schema's records are rejected (a
                                  conflicting field, or an index the engine
                                  refused to create) */
} cdc_es_index_status_t;

typedef struct cdc_es_indexes cdc_es_indexes_t;

cdc_es_indexes_t *cdc_es_indexes_new(cdc_es_http_t *http, const cdc_es_index_options_t *opts);
void cdc_es_indexes_free(cdc_es_indexes_t *x);

/* Appends "/<segment>" to a request path, percent-encoding what is not
 * plain in a URL (an index name or _id may hold any byte). */
void cdc_es_path_segment(cdc_buf_t *path, const char *segment);

/* The valid index name of a target, in the arena. */
const char *cdc_es_index_name(const char *target, cdc_arena_t *arena);

/* Makes sure `index` exists and maps the schema's columns. *why (for a
 * CONFLICT) lives as long as x. */
cdc_es_index_status_t cdc_es_indexes_ensure(cdc_es_indexes_t *x, const char *index,
                                            const cdc_row_schema_t *schema,
                                            const char **why, char *errstr,
                                            size_t errstr_size);

/* Forgets what is known of an index (it was deleted behind cdcsink's
 * back): the next ensure reads or creates it again. */
void cdc_es_indexes_forget(cdc_es_indexes_t *x, const char *index);

/* Classifies an HTTP answer that is not a success, for index requests and
 * _bulk alike: 401/403 FATAL, anything else RETRY; errstr says what the
 * engine said (its error type and reason, never a credential). */
cdc_es_index_status_t cdc_es_answer_failed(const cdc_es_request_t *req, const char *what,
                                           char *errstr, size_t errstr_size);

#endif

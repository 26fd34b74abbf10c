/* es_stored — the documents an index holds now, read with one _mget.
 *
 * For the changes that need them (es_doc.h: unchanged TOASTed columns,
 * soft deletes). Reading and then writing is not atomic, but the write is
 * versioned by the source position all the same: if a newer change lands
 * in between, the write is stale and nothing regresses. An older one
 * cannot land in between either: within a pipeline a key's changes are
 * applied in order, one batch at a time (docs/decisions.md). */
#ifndef CDC_ES_STORED_H
#define CDC_ES_STORED_H

#include <stdbool.h>
#include <stddef.h>

#include "es_http.h"
#include "es_json.h"
#include "sink.h"

typedef struct cdc_es_stored {
    cdc_buf_t answer;       /* the _mget answer the spans point into */
    cdc_es_span_t *sources; /* sources[i]: _source of item i; p NULL: none */
    size_t count;
} cdc_es_stored_t;

/* Reads the _source of (indexes[i], ids[i]) for i < n. A missing document
 * (or index) is not found; RETRY/FATAL with errstr when the engine does not
 * answer, RETRY when it could not read one of them (cdc_es_stored_take). */
cdc_sink_status_t cdc_es_stored_fetch(cdc_es_http_t *http, const char *const *indexes,
                                      const char *const *ids, size_t n,
                                      cdc_es_stored_t *out, char *errstr,
                                      size_t errstr_size);

/* Takes an _mget answer for n items apart (it moves into out; answer is
 * left empty). A document the engine could not read (its "error": a shard
 * not available) makes it RETRY with errstr, as does an answer that is not
 * one doc per item: never "not found" for a document that may exist. */
cdc_sink_status_t cdc_es_stored_take(cdc_es_stored_t *out, cdc_buf_t *answer, size_t n,
                                     char *errstr, size_t errstr_size);

/* The _source of item i (its raw JSON text), NULL when there is none. */
const cdc_es_span_t *cdc_es_stored_get(const cdc_es_stored_t *s, size_t i);

void cdc_es_stored_free(cdc_es_stored_t *s);

#endif

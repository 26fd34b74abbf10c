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

#include <bson/bson.h>
#include <stdbool.h>
#include <stddef.h>

#include "es_http.h"
#include "sink.h"

typedef struct cdc_es_stored {
    bson_t *answer; /* the parsed answer the views point into */
    bson_t *views;  /* views[i]: _source of item i, when found[i] */
    bool *found;
    size_t count;
} cdc_es_stored_t;

/* Reads the _source of (indexes[i], ids[i]) for i < n. A missing document
 * (or index) is not found; RETRY/FATAL with errstr when the engine does not
 * answer. */
cdc_sink_status_t cdc_es_stored_fetch(cdc_es_http_t *http, const char *const *indexes,
                                      const char *const *ids, size_t n,
                                      cdc_es_stored_t *out, char *errstr,
                                      size_t errstr_size);

/* The _source of item i, NULL when there is none. */
const bson_t *cdc_es_stored_get(const cdc_es_stored_t *s, size_t i);

void cdc_es_stored_free(cdc_es_stored_t *s);

#endif

/* fuzz_es_answers — the Elasticsearch sink's readers of the engine's
 * answers: the `_bulk` answer's per-item results, and the JSON scanner
 * that walks `_mget` documents (stored values are copied as raw spans).
 *
 * An engine, a proxy or a man in the middle may send anything: every
 * reader ends with a result or a failure, within the input's bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "es_bulk.h"
#include "es_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Walks every member and item, recursively, as the stored-document reader
 * does. */
static void walk(cdc_es_span_t value, int depth)
{
    cdc_es_json_iter_t it;
    if (depth > 600 || !cdc_es_json_begin(value, &it)) return;
    cdc_es_span_t k, v;
    while (cdc_es_json_next(&it, &k, &v)) walk(v, depth + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A copy without a terminating NUL: a reader that runs past the end
     * is caught by ASan. */
    char *json = malloc(size ? size : 1);
    if (!json) return 0;
    memcpy(json, data, size);
    cdc_es_item_answer_t answers[8];
    cdc_es_bulk_read(json, size, answers, 8);
    cdc_es_span_t all = {json, size}, found;
    walk(all, 0);
    cdc_es_json_member(all, "\"_source\"", 9, &found);
    free(json);
    return 0;
}

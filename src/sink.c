#include "sink.h"

#include <string.h>

/* Each sink folder defines one of these; adding a sink is one line here. */
extern const cdc_sink_ops_t cdc_jsonl_sink;
extern const cdc_sink_ops_t cdc_postgres_sink;

static const cdc_sink_ops_t *const sinks[] = {
    &cdc_jsonl_sink,
    &cdc_postgres_sink,
};

const cdc_sink_ops_t *cdc_sink_find(const char *name)
{
    for (size_t i = 0; i < sizeof sinks / sizeof sinks[0]; i++)
        if (strcmp(sinks[i]->name, name) == 0) return sinks[i];
    return NULL;
}

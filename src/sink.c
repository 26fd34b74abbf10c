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

cdc_planner_t *cdc_sink_planner_new(const cdc_sink_ops_t *sink,
                                    const cdc_config_t *cfg, char *errstr,
                                    size_t errstr_size)
{
    const char *route = sink->route_key ? cdc_config_get(cfg, sink->route_key) : NULL;
    return cdc_planner_new(cfg, sink->plan_mode, route, errstr, errstr_size);
}

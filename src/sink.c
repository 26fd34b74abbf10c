#include "sink.h"

#include "errstr.h"

#include <pthread.h>
#include <string.h>

/* Each sink folder defines one of these; adding a sink is one line here. */
extern const cdc_sink_ops_t cdc_jsonl_sink;
extern const cdc_sink_ops_t cdc_postgres_sink;
extern const cdc_sink_ops_t cdc_redis_sink;
extern const cdc_sink_ops_t cdc_elasticsearch_sink;

static const cdc_sink_ops_t *const sinks[] = {
    &cdc_jsonl_sink,
    &cdc_postgres_sink,
    &cdc_redis_sink,
    &cdc_elasticsearch_sink,
};
#define SINK_COUNT (sizeof sinks / sizeof sinks[0])

void cdc_sink_print_versions(FILE *out)
{
    for (size_t i = 0; i < SINK_COUNT; i++) {
        char lib[128] = "";
        if (sinks[i]->library) sinks[i]->library(lib, sizeof lib);
        fprintf(out, "sink %s%s%s\n", sinks[i]->name, lib[0] ? ": " : "", lib);
    }
}

const cdc_sink_ops_t *cdc_sink_find(const char *name)
{
    for (size_t i = 0; i < SINK_COUNT; i++)
        if (strcmp(sinks[i]->name, name) == 0) return sinks[i];
    return NULL;
}

/* The catalog is made from sinks[] once: the ops' addresses are not
 * constant expressions a static initialiser could read. */
static cdc_configkeys_t catalog_keys[SINK_COUNT];
static const cdc_configkeys_t *catalog_entries[SINK_COUNT];
static cdc_config_catalog_t catalog;
static pthread_once_t catalog_once = PTHREAD_ONCE_INIT;

static void catalog_build(void)
{
    for (size_t i = 0; i < SINK_COUNT; i++) {
        catalog_keys[i] = (cdc_configkeys_t){
            .sink = sinks[i]->name,
            .keys = sinks[i]->keys,
            .count = sinks[i]->nkeys,
        };
        catalog_entries[i] = &catalog_keys[i];
    }
    catalog = (cdc_config_catalog_t){catalog_entries, SINK_COUNT};
}

const cdc_config_catalog_t *cdc_sink_catalog(void)
{
    pthread_once(&catalog_once, catalog_build);
    return &catalog;
}

int cdc_sink_open(const cdc_config_t *cfg, const cdc_sink_ops_t **ops,
                  cdc_planner_t **planner, void **state, char *errstr,
                  size_t errstr_size)
{
    const char *name = cdc_config_settings(cfg)->sink;
    *planner = NULL;
    *state = NULL;
    if (!(*ops = cdc_sink_find(name)))
        return cdc_errstr_set(errstr, errstr_size, "sink '%s' is not built in", name);
    const char *route = (*ops)->route_key ? cdc_config_get(cfg, (*ops)->route_key) : NULL;
    char why[1024];
    if (!(*planner = cdc_planner_new(cfg, (*ops)->plan_mode, route, (*ops)->route_allows_key,
                                     why, sizeof why)) ||
        (*ops)->open(cfg, state, why, sizeof why) != CDC_SINK_OK) {
        *state = NULL;
        return cdc_errstr_set(errstr, errstr_size, "sink %s: %s", name, why);
    }
    return 0;
}

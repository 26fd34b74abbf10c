/* es_keys — the configuration keys of the elasticsearch sink.
 *
 * The ops (elasticsearch.c) carry this table; the parser accepts these keys
 * only with `sink = elasticsearch`, and docs/configuration.md lists them
 * under "Keys of the elasticsearch sink". */
#ifndef CDC_ES_KEYS_H
#define CDC_ES_KEYS_H

#include <stddef.h>

#include "config.h"
#include "configkey.h"
#include "es_http.h"

/* Spelled out for the ops' static initialiser; a table of another length
 * does not compile. */
#define CDC_ES_KEY_COUNT 14
extern const cdc_configkey_t cdc_es_keys[CDC_ES_KEY_COUNT];

/* The HTTP options a pipeline's keys give (connection.*): the sink's and
 * `cdcsink verify`'s. */
cdc_es_http_options_t cdc_es_http_options_of(const cdc_config_t *cfg);

#endif

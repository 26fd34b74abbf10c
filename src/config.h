/* config — one pipeline file, checked against the keys of its sink.
 *
 * A pipeline file is Kafka-.properties-like: `key = value` lines, whole-line
 * comments starting with `#` or `!`, blank lines ignored. `${env:NAME}` and
 * `${file:PATH}` are substituted inside values (src/subst.h). The keys a
 * file may set are the core keys (src/configkey.c) and the keys of the sink
 * it names, taken from a catalog of the sinks that are built (src/sink.c:
 * cdc_sink_catalog); docs/configuration.md is generated from the same
 * tables (src/configdoc.h). Keys starting with `kafka.` are handed to
 * librdkafka with the prefix stripped.
 *
 * A sink's keys may come before or after the `sink` line. Errors name the
 * file and line: "path:LINE: unknown key 'batch.sise' (did you mean
 * 'batch.size'?)", "path:LINE: key 'jsonl.path' does not apply to sink
 * 'postgres' (only jsonl)". Secret values never appear in any message or
 * in cdc_config_print's output (src/mask.h).
 *
 * A parsed config is immutable, so any number of threads may read it. */
#ifndef CDC_CONFIG_H
#define CDC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "configkey.h"

typedef struct cdc_config cdc_config_t;

/* Parses a pipeline file whose `sink` is one of `catalog`'s sinks. NULL on
 * error, with one sentence in errstr. The catalog must outlive the config
 * (cdc_sink_catalog()'s is static). */
cdc_config_t *cdc_config_load(const char *path,
                              const cdc_config_catalog_t *catalog,
                              char *errstr, size_t errstr_size);
/* Same from an in-memory text; `origin` is used as the path in messages and
 * its directory anchors relative `${file:PATH}` references (no directory in
 * `origin`: the working directory). */
cdc_config_t *cdc_config_parse(const char *text, const char *origin,
                               const cdc_config_catalog_t *catalog,
                               char *errstr, size_t errstr_size);
void cdc_config_destroy(cdc_config_t *cfg);

/* The core keys as typed fields (src/configkey.h), filled once at parse
 * time: what the core reads, in its `_new` and open functions. Lives as
 * long as cfg. */
const cdc_settings_t *cdc_config_settings(const cdc_config_t *cfg);

/* A list value ("a,b,c", as cdc_config_get returns lists) as a
 * NULL-terminated array of strings; NULL for an empty or NULL list, and
 * when out of memory (*oom set then). Free with cdc_config_free_list. */
char **cdc_config_split_list(const char *list, int *oom);
void cdc_config_free_list(char **items);

/* Effective value of a core key, a key of the configured sink or a set
 * `kafka.*` key, looked up by name (sinks read their own keys so; the core
 * reads cdc_config_settings instead): as set in the file, else the
 * (possibly derived) default; NULL when unset without default, and for any
 * other key (another sink's included). Lists come back normalised:
 * "a,b,c". The string lives as long as cfg. */
const char *cdc_config_get(const cdc_config_t *cfg, const char *key);
/* Integer and duration (milliseconds) keys; 0 for another sink's key. A key
 * of no table, or one that is not an integer key, is a programming error:
 * it is logged and 0 returned. */
int64_t cdc_config_get_int(const cdc_config_t *cfg, const char *key);
/* Boolean keys: 1 for "true", 0 otherwise (and for another sink's key;
 * logged if not a boolean key). */
int cdc_config_get_bool(const cdc_config_t *cfg, const char *key);
/* 1 when the key was given in the file (defaults do not count). */
int cdc_config_is_set(const cdc_config_t *cfg, const char *key);
/* Line the key was set on, 0 when not set: lets later stages (sink open,
 * librdkafka) report "path:LINE" too. */
int cdc_config_line(const cdc_config_t *cfg, const char *key);
/* The path (or origin) the config was read from. */
const char *cdc_config_origin(const cdc_config_t *cfg);

/* kafka.* passthrough: entries with the "kafka." prefix stripped, in file
 * order. `kafka.group.id`, `kafka.enable.auto.commit` and
 * `kafka.enable.auto.offset.store` are rejected at parse time. */
size_t cdc_config_kafka_count(const cdc_config_t *cfg);
void cdc_config_kafka_at(const cdc_config_t *cfg, size_t i, const char **name,
                         const char **value);
/* Whether the file sets kafka.<key> (key without the prefix): defaults
 * cdcsink picks for librdkafka yield to the file's. */
bool cdc_config_kafka_given(const cdc_config_t *cfg, const char *key);
/* Line of the i-th kafka.* entry, for "path:LINE: librdkafka says ..." */
int cdc_config_kafka_line(const cdc_config_t *cfg, size_t i);

/* Effective configuration, one `key = value` per line: the core keys, then
 * the sink's keys, each in table order (defaults included), then the
 * kafka.* entries. Keys without a value are printed as `# KEY is not set`
 * so the output still parses. Secrets are "********"; in URLs only the
 * password is. */
void cdc_config_print(const cdc_config_t *cfg, FILE *out);

#endif

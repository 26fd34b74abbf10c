/* configkey — what a configuration key is, the keys every pipeline has,
 * and the check of one value against its key.
 *
 * A key is one row of a static table: name, type, default, range, flags,
 * description. The core table here holds the keys that apply to every
 * sink; each sink's ops carry a table of the keys only it reads
 * (src/sink.h), and src/sink.c hands the parser the catalog of the sinks
 * that are built. Order within a table is the order of the docs and of
 * `cdcsink check`.
 *
 * Each core key row also points at its field of cdc_settings_t (an offset,
 * as librdkafka's `_RK(...)` rows do), and the parser fills that struct
 * once: the core reads `settings->batch_size`, never "batch.size" by
 * string, so a misspelt key is a compile error. */
#ifndef CDC_CONFIGKEY_H
#define CDC_CONFIGKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum cdc_configkey_type {
    CDC_KEY_STRING,
    CDC_KEY_INT,
    CDC_KEY_BOOL,
    CDC_KEY_ENUM,
    CDC_KEY_DURATION, /* integer milliseconds */
    CDC_KEY_LIST      /* comma-separated, stored as "a,b,c" */
} cdc_configkey_type_t;

enum cdc_configkey_flag {
    CDC_KEY_REQUIRED = 1 << 0, /* must be set (a sink's: in its pipelines) */
    CDC_KEY_SECRET = 1 << 1,   /* value is never shown */
    CDC_KEY_URL = 1 << 2       /* a URL whose password is never shown */
};

/* Extra validation of one value (of one list item for lists). Fills `why`
 * with the tail of the message and returns -1; `shown` is the value as it
 * may be printed (masked for secrets). */
typedef int cdc_configkey_check_fn(const char *value, const char *shown,
                                   char *why, size_t why_size);

typedef struct cdc_configkey {
    const char *name;
    cdc_configkey_type_t type;
    const char *def;           /* default, NULL for none */
    const char *derive;        /* default is this prefix + `name` */
    int64_t min, max;          /* CDC_KEY_INT, CDC_KEY_DURATION */
    const char *const *values; /* CDC_KEY_ENUM, NULL-terminated */
    int flags;                 /* enum cdc_configkey_flag */
    cdc_configkey_check_fn *check;
    const char *doc_range;     /* range/values column for checked strings */
    const char *desc;
    /* Core keys: offsetof(cdc_settings_t, <field>), a field of the C type
     * of `type` (cdc_settings_t). Unused in a sink's table. */
    size_t field;
} cdc_configkey_t;

/* The core keys' effective values (as set, else the possibly derived
 * default), one field per core key in table order, typed by the key's type:
 * STRING, ENUM and LIST keys are `const char *` (lists "a,b,c"; NULL when
 * unset without default), INT and DURATION keys `int64_t` (milliseconds),
 * BOOL keys `bool`. Filled once by the parser (cdc_config_settings); the
 * strings live as long as the config. */
typedef struct cdc_settings {
    const char *name;
    const char *sink;
    const char *topics;       /* NULL when topics.regex is set */
    const char *topics_regex; /* anchored with `^`; NULL when topics is set */
    const char *group_id;
    const char *schema_registry_url;
    const char *schema_registry_basic_auth_user_info; /* secret */
    const char *schema_registry_ssl_ca_location;
    int64_t schema_registry_timeout_ms;
    int64_t batch_size;
    int64_t batch_max_wait_ms;
    int64_t batch_max_bytes;
    const char *position_field;
    const char *pk_fields;
    const char *delete_mode; /* "hard", "soft" or "none" */
    int64_t delete_retention_ms;
    bool delete_on_tombstone;
    const char *errors_deadletterqueue_topic_name;
    int64_t errors_retry_timeout_ms;
    int64_t errors_retry_backoff_initial_ms;
    int64_t errors_retry_backoff_max_ms;
    int64_t commit_interval_ms;
    bool apply_overlap;
    int64_t shutdown_timeout_ms;
    const char *http_listen; /* HOST:PORT or "off" */
    const char *log_level;   /* cdc_log_level_parse */
    const char *log_format;  /* "logfmt" or "json" */
    const char *source_connection_url; /* `cdcsink verify`; password secret */
    const char *source_slot_name;
    int64_t verify_rate_limit_rows;
    int64_t verify_interval_ms;
    int64_t verify_sample_rows;
} cdc_settings_t;

/* The keys of one sink (or, with sink NULL, the core keys). */
typedef struct cdc_configkeys {
    const char *sink;
    const cdc_configkey_t *keys;
    size_t count;
} cdc_configkeys_t;

/* The sinks a pipeline may name, each with its keys, in sink-list order
 * (src/sink.c: cdc_sink_catalog). */
typedef struct cdc_config_catalog {
    const cdc_configkeys_t *const *sinks;
    size_t count;
} cdc_config_catalog_t;

/* The keys of every pipeline, whatever its sink. The `sink` key among them
 * has no values of its own: they are the catalog's sink names
 * (cdc_configkey_sink_key). */
const cdc_configkeys_t *cdc_configkey_core(void);

/* The key of this name in `set`, or NULL. */
const cdc_configkey_t *cdc_configkey_find(const cdc_configkeys_t *set,
                                          const char *name);

/* The key set of the sink of this name in `catalog`, or NULL. */
const cdc_configkeys_t *cdc_configkey_catalog_sink(
    const cdc_config_catalog_t *catalog, const char *sink);

/* The core `sink` key with the catalog's sink names as its values, written
 * to *key. The names array is the caller's to free (the names are the
 * catalog's); -1 when out of memory. */
int cdc_configkey_sink_key(const cdc_config_catalog_t *catalog,
                           cdc_configkey_t *key, const char ***names);

/* Checks `value` against k's type, range, values and check. Returns the
 * value to store (lists normalised to "a,b,c", `topics.regex` anchored
 * with `^`), which the caller frees, or NULL with `why` filled: the tail
 * of a message, showing the value only as cdc_configkey_shown would. */
char *cdc_configkey_validate(const cdc_configkey_t *k, const char *value,
                             char *why, size_t why_size);

/* The value as it may appear in output and messages: masked for secret
 * and URL keys (src/mask.h). Caller frees; NULL when out of memory. */
char *cdc_configkey_shown(const cdc_configkey_t *k, const char *value);

#endif

#include "config.h"

#include "errstr.h"
#include "readfile.h"
#include "grow.h"
#include "log.h"
#include "mask.h"
#include "subst.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#define KAFKA_PREFIX "kafka."

struct kafka_entry {
    char *name; /* without the "kafka." prefix */
    char *value;
    int line;
};

/* One key of this pipeline (a core key or a key of its sink) and its
 * value. */
struct setting {
    const cdc_configkey_t *key;
    char *value;   /* as set in the file, NULL if not */
    int line;      /* 0 if not set */
    char *derived; /* computed default (group.id, DLQ topic) */
};

struct cdc_config {
    char *origin;
    char *dir;                           /* anchors ${file:PATH}; "" = cwd */
    const cdc_config_catalog_t *catalog; /* the sinks a file may name */
    const cdc_configkeys_t *sink;        /* the named sink's keys, or NULL */
    struct setting *settings;            /* core keys, then the sink's */
    size_t setting_count;
    cdc_settings_t typed; /* the core settings' values, filled once */
    struct kafka_entry *kafka;
    size_t kafka_count, kafka_cap;
};

/* A `key = value` line of the file, value substituted (first pass). */
struct entry {
    const char *key;
    char *value; /* NULL once it has moved into the config */
    int line;
};

/* Parse state, so helpers can say "path:line:" without long signatures. */
struct parse_ctx {
    cdc_config_t *cfg;
    int line;
    char *errstr;
    size_t errstr_size;
    cdc_configkey_t sink_key; /* `sink`, its values the catalog's sinks */
    const char **sink_names;
    struct entry *entries;
    size_t entry_count, entry_cap;
};

static int fail_at(struct parse_ctx *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail_at(struct parse_ctx *p, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (p->line > 0)
        return cdc_errstr_set(p->errstr, p->errstr_size, "%s:%d: %s",
                              p->cfg->origin, p->line, msg);
    return cdc_errstr_set(p->errstr, p->errstr_size, "%s: %s", p->cfg->origin,
                          msg);
}

/* ---- small helpers ---------------------------------------------------- */

static struct setting *setting_find(const cdc_config_t *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->setting_count; i++)
        if (strcmp(cfg->settings[i].key->name, name) == 0)
            return &cfg->settings[i];
    return NULL;
}

static const char *effective(const struct setting *s)
{
    if (s->value) return s->value;
    if (s->derived) return s->derived;
    return s->key->def;
}

/* Whether some sink of the catalog has this key. */
static int key_of_a_sink(const cdc_config_t *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->catalog->count; i++)
        if (cdc_configkey_find(cfg->catalog->sinks[i], name)) return 1;
    return 0;
}

/* "postgres, redis": the sinks that have this key. */
static const char *sinks_with_key(const cdc_config_t *cfg, const char *name,
                                  char *buf, size_t size)
{
    buf[0] = '\0';
    for (size_t i = 0; i < cfg->catalog->count; i++) {
        if (!cdc_configkey_find(cfg->catalog->sinks[i], name)) continue;
        size_t n = strlen(buf);
        snprintf(buf + n, size - n, "%s%s", n ? ", " : "",
                 cfg->catalog->sinks[i]->sink);
    }
    return buf;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    char *end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1])) end--;
    *end = '\0';
    return s;
}

static char *concat(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    char *s = malloc(n + m + 1);
    if (!s) return NULL;
    memcpy(s, a, n);
    memcpy(s + n, b, m + 1);
    return s;
}

/* Edit distance; keys are short, longer inputs just get no suggestion. */
static size_t levenshtein(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    size_t prev[65], cur[65];
    if (n > 64 || m > 64) return SIZE_MAX;
    for (size_t j = 0; j <= m; j++) prev[j] = j;
    for (size_t i = 1; i <= n; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= m; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            size_t best = sub < del ? sub : del;
            cur[j] = best < ins ? best : ins;
        }
        memcpy(prev, cur, (m + 1) * sizeof cur[0]);
    }
    return prev[m];
}

/* ---- first pass: lines ---------------------------------------------------- */

/* Keys, cdcsink's and librdkafka's, are made of these characters. */
static int key_shaped(const char *key)
{
    for (; *key; key++)
        if (!isalnum((unsigned char)*key) && !strchr("._-", *key)) return 0;
    return 1;
}

/* Splits one line and substitutes its value; comments and blank lines are
 * skipped. */
static int collect_line(struct parse_ctx *p, char *line)
{
    line = trim(line);
    if (!line[0] || line[0] == '#' || line[0] == '!') return 0;
    char *eq = strchr(line, '=');
    if (!eq) return fail_at(p, "expected 'key = value'");
    *eq = '\0';
    char *key = trim(line), *raw = trim(eq + 1);
    if (!key[0]) return fail_at(p, "expected 'key = value' (empty key)");
    /* "connection.password: s3cr=t" is a value before its '=': the error
     * must not quote it. */
    if (!key_shaped(key))
        return fail_at(p, "expected 'key = value' (the text before '=' is "
                          "no key name; not shown, it may hold a secret)");
    char why[512];
    char *value = cdc_subst_apply(raw, p->cfg->dir, why, sizeof why);
    if (!value) return fail_at(p, "key '%s': %s", key, why);
    struct entry *entries = cdc_grow(p->entries, p->entry_count,
                                     &p->entry_cap, sizeof *entries, 32);
    if (!entries) {
        free(value);
        return fail_at(p, "out of memory");
    }
    p->entries = entries;
    p->entries[p->entry_count++] = (struct entry){key, value, p->line};
    return 0;
}

static int collect_lines(struct parse_ctx *p, char *text)
{
    char *line = text;
    for (p->line = 1; line; p->line++) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        if (collect_line(p, line) == -1) return -1;
        line = nl ? nl + 1 : NULL;
    }
    p->line = 0;
    return 0;
}

/* Finds the first `sink` line and checks it names a sink of the catalog;
 * then sizes the settings: core keys, then that sink's. Without a `sink`
 * line the core keys only (its absence is reported by check_whole). */
static int choose_sink(struct parse_ctx *p)
{
    cdc_config_t *cfg = p->cfg;
    for (size_t i = 0; i < p->entry_count && !cfg->sink; i++) {
        const struct entry *e = &p->entries[i];
        if (strcmp(e->key, "sink") != 0) continue;
        p->line = e->line;
        char why[512];
        if (!e->value[0]) return fail_at(p, "key 'sink': empty value");
        char *checked = cdc_configkey_validate(&p->sink_key, e->value, why,
                                               sizeof why);
        if (!checked) return fail_at(p, "key 'sink': %s", why);
        free(checked);
        cfg->sink = cdc_configkey_catalog_sink(cfg->catalog, e->value);
    }
    p->line = 0;
    const cdc_configkeys_t *core = cdc_configkey_core();
    size_t n = core->count + (cfg->sink ? cfg->sink->count : 0);
    cfg->settings = calloc(n, sizeof *cfg->settings);
    if (!cfg->settings) return fail_at(p, "out of memory");
    cfg->setting_count = n;
    for (size_t i = 0; i < n; i++)
        cfg->settings[i].key = i < core->count
                                   ? &core->keys[i]
                                   : &cfg->sink->keys[i - core->count];
    return 0;
}

/* ---- second pass: keys ---------------------------------------------------- */

static int suggest_kafka(const char *key, char *out, size_t out_size)
{
    /* A bare librdkafka property ("bootstrap.servers") is a common slip;
     * librdkafka itself knows its names. */
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_res_t res = rd_kafka_conf_set(conf, key, "", err, sizeof err);
    rd_kafka_conf_destroy(conf);
    if (res != RD_KAFKA_CONF_UNKNOWN) {
        snprintf(out, out_size, KAFKA_PREFIX "%s", key);
        return 1;
    }
    const char *dot = strchr(key, '.');
    if (!dot || dot == key) return 0;
    char first[16];
    if ((size_t)(dot - key) >= sizeof first) return 0;
    memcpy(first, key, (size_t)(dot - key));
    first[dot - key] = '\0';
    if (levenshtein(first, "kafka") > 2) return 0;
    snprintf(out, out_size, KAFKA_PREFIX "%s", dot + 1);
    return 1;
}

/* The nearest name in `set` to `key`, if nearer than *best. */
static void nearest_in(const cdc_configkeys_t *set, const char *key,
                       size_t *best, const char **near)
{
    for (size_t i = 0; i < set->count; i++) {
        size_t d = levenshtein(key, set->keys[i].name);
        if (d < *best) *best = d, *near = set->keys[i].name;
    }
}

static int fail_unknown_key(struct parse_ctx *p, const char *key)
{
    size_t best = SIZE_MAX, len = strlen(key);
    const char *near = NULL;
    nearest_in(cdc_configkey_core(), key, &best, &near);
    for (size_t i = 0; i < p->cfg->catalog->count; i++)
        nearest_in(p->cfg->catalog->sinks[i], key, &best, &near);
    /* Short keys need a closer match, or "foo" would suggest "name". */
    size_t limit = len / 3 + 1 < 3 ? len / 3 + 1 : 3;
    char kafka_name[300];
    if (suggest_kafka(key, kafka_name, sizeof kafka_name))
        near = kafka_name, best = 0;
    if (near && best <= limit)
        return fail_at(p, "unknown key '%s' (did you mean '%s'?)", key, near);
    return fail_at(p, "unknown key '%s'", key);
}

/* Takes ownership of `value` on success. */
static int kafka_add(struct parse_ctx *p, const char *key, char *value)
{
    cdc_config_t *cfg = p->cfg;
    const char *name = key + strlen(KAFKA_PREFIX);
    if (!name[0]) return fail_at(p, "unknown key '%s'", key);
    if (strcmp(name, "group.id") == 0)
        return fail_at(p, "key '%s' is not allowed: use 'group.id'", key);
    if (strcmp(name, "enable.auto.commit") == 0 ||
        strcmp(name, "enable.auto.offset.store") == 0)
        return fail_at(p, "key '%s' is not allowed: cdcsink stores and "
                          "commits offsets itself, only after a record is "
                          "applied or sent to the DLQ", key);
    for (size_t i = 0; i < cfg->kafka_count; i++)
        if (strcmp(cfg->kafka[i].name, name) == 0)
            return fail_at(p, "key '%s' repeated (first set on line %d)", key,
                           cfg->kafka[i].line);
    struct kafka_entry *entries =
        cdc_grow(cfg->kafka, cfg->kafka_count, &cfg->kafka_cap, sizeof *entries, 8);
    if (!entries) return fail_at(p, "out of memory");
    cfg->kafka = entries;
    char *name_copy = strdup(name);
    if (!name_copy) return fail_at(p, "out of memory");
    cfg->kafka[cfg->kafka_count++] =
        (struct kafka_entry){name_copy, value, p->line};
    return 0;
}

/* A key that is not the pipeline's: another sink's, or unknown. */
static int fail_foreign_key(struct parse_ctx *p, const char *key)
{
    char list[256];
    if (!key_of_a_sink(p->cfg, key)) return fail_unknown_key(p, key);
    return fail_at(p, "key '%s' does not apply to sink '%s' (only %s)", key,
                   p->cfg->sink->sink,
                   sinks_with_key(p->cfg, key, list, sizeof list));
}

/* Takes ownership of `value` on success. */
static int table_set(struct parse_ctx *p, const char *key, char *value)
{
    struct setting *s = setting_find(p->cfg, key);
    /* Without a `sink` line a sink's key cannot be checked; the missing
     * `sink` is what gets reported. */
    if (!s && !p->cfg->sink && key_of_a_sink(p->cfg, key)) {
        free(value);
        return 0;
    }
    if (!s) return fail_foreign_key(p, key);
    const cdc_configkey_t *k =
        strcmp(key, "sink") == 0 ? &p->sink_key : s->key;
    char why[512];
    char *stored = NULL;
    if (s->line)
        return fail_at(p, "key '%s' repeated (first set on line %d)", key,
                       s->line);
    if (!value[0])
        return fail_at(p, "key '%s': empty value%s", key,
                       k->def || k->derive
                           ? " (leave the key out to use the default)"
                           : "");
    if (!(stored = cdc_configkey_validate(k, value, why, sizeof why)))
        return fail_at(p, "key '%s': %s", key, why);
    free(value);
    s->value = stored;
    s->line = p->line;
    return 0;
}

static int set_entries(struct parse_ctx *p)
{
    for (size_t i = 0; i < p->entry_count; i++) {
        struct entry *e = &p->entries[i];
        p->line = e->line;
        int rc = strncmp(e->key, KAFKA_PREFIX, strlen(KAFKA_PREFIX)) == 0
                     ? kafka_add(p, e->key, e->value)
                     : table_set(p, e->key, e->value);
        if (rc == -1) return -1;
        e->value = NULL; /* moved */
    }
    p->line = 0;
    return 0;
}

/* ---- whole-file checks -------------------------------------------------- */

static int check_required(struct parse_ctx *p)
{
    cdc_config_t *cfg = p->cfg;
    size_t core_count = cdc_configkey_core()->count;
    for (size_t i = 0; i < cfg->setting_count; i++) {
        const struct setting *s = &cfg->settings[i];
        if (!(s->key->flags & CDC_KEY_REQUIRED) || s->line) continue;
        if (i < core_count)
            return fail_at(p, "missing required key '%s'", s->key->name);
        return fail_at(p, "missing required key '%s' for sink '%s'",
                       s->key->name, cfg->sink->sink);
    }
    int topics = cdc_config_line(cfg, "topics");
    int regex = cdc_config_line(cfg, "topics.regex");
    if (!topics && !regex)
        return fail_at(p, "missing required key 'topics' or 'topics.regex'");
    if (topics && regex)
        return fail_at(p, "'topics' (line %d) and 'topics.regex' (line %d) "
                          "are both set; set exactly one", topics, regex);
    if (cdc_config_get_int(cfg, "verify.interval.ms") > 0 &&
        !cdc_config_is_set(cfg, "source.connection.url")) {
        p->line = cdc_config_line(cfg, "verify.interval.ms");
        return fail_at(p, "'verify.interval.ms' needs 'source.connection.url': "
                          "continuous verify reads the source database");
    }
    return 0;
}

static int check_backoff(struct parse_ctx *p)
{
    const char *initial = "errors.retry.backoff.initial.ms";
    const char *max = "errors.retry.backoff.max.ms";
    int64_t a = cdc_config_get_int(p->cfg, initial);
    int64_t b = cdc_config_get_int(p->cfg, max);
    if (a <= b) return 0;
    p->line = cdc_config_line(p->cfg, initial);
    if (!p->line) p->line = cdc_config_line(p->cfg, max);
    return fail_at(p, "key '%s' (%" PRId64 ") is greater than '%s' (%" PRId64
                      ")", initial, a, max, b);
}

static int derive_defaults(struct parse_ctx *p)
{
    const char *name = cdc_config_get(p->cfg, "name");
    for (size_t i = 0; i < p->cfg->setting_count; i++) {
        struct setting *s = &p->cfg->settings[i];
        if (!s->key->derive || s->line) continue;
        if (!(s->derived = concat(s->key->derive, name)))
            return fail_at(p, "out of memory");
    }
    return 0;
}

static int check_whole(struct parse_ctx *p)
{
    p->line = 0;
    if (check_required(p) == -1 || check_backoff(p) == -1) return -1;
    p->line = 0;
    return derive_defaults(p);
}

/* Each core key's effective value into the field its row points at
 * (cdc_settings_t); the strings stay the settings' own (or the table's
 * defaults). */
static void fill_typed(cdc_config_t *cfg)
{
    const cdc_configkeys_t *core = cdc_configkey_core();
    for (size_t i = 0; i < core->count; i++) {
        const struct setting *s = &cfg->settings[i];
        const char *v = effective(s);
        char *field = (char *)&cfg->typed + s->key->field;
        switch (s->key->type) {
        case CDC_KEY_INT:
        case CDC_KEY_DURATION:
            *(int64_t *)field = v ? strtoll(v, NULL, 10) : 0;
            break;
        case CDC_KEY_BOOL:
            *(bool *)field = v && strcmp(v, "true") == 0;
            break;
        case CDC_KEY_STRING:
        case CDC_KEY_ENUM:
        case CDC_KEY_LIST:
            *(const char **)field = v;
            break;
        }
    }
}

/* ---- public API --------------------------------------------------------- */

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) return strdup("");
    if (slash == path) return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

/* Two passes, so that a sink's keys may precede the `sink` line: collect
 * the lines with their substituted values, choose the sink, then check
 * every line, in file order, against the core keys and the sink's. */
static int parse_text(struct parse_ctx *p, const char *text)
{
    char *copy = strdup(text);
    if (!copy) return fail_at(p, "out of memory");
    int rc = -1;
    if (cdc_configkey_sink_key(p->cfg->catalog, &p->sink_key,
                               &p->sink_names) == -1)
        fail_at(p, "out of memory");
    else if (collect_lines(p, copy) == 0 && choose_sink(p) == 0 &&
             set_entries(p) == 0 && check_whole(p) == 0) {
        fill_typed(p->cfg);
        rc = 0;
    }
    for (size_t i = 0; i < p->entry_count; i++) free(p->entries[i].value);
    free(p->entries);
    free(p->sink_names);
    free(copy);
    return rc;
}

cdc_config_t *cdc_config_parse(const char *text, const char *origin,
                               const cdc_config_catalog_t *catalog,
                               char *errstr, size_t errstr_size)
{
    cdc_config_t *cfg = calloc(1, sizeof *cfg);
    if (!cfg || !(cfg->origin = strdup(origin)) ||
        !(cfg->dir = dir_of(origin))) {
        cdc_errstr_set(errstr, errstr_size, "%s: out of memory", origin);
        cdc_config_destroy(cfg);
        return NULL;
    }
    cfg->catalog = catalog;
    struct parse_ctx p = {.cfg = cfg, .errstr = errstr,
                          .errstr_size = errstr_size};
    if (parse_text(&p, text) == -1) {
        cdc_config_destroy(cfg);
        return NULL;
    }
    return cfg;
}

cdc_config_t *cdc_config_load(const char *path,
                              const cdc_config_catalog_t *catalog,
                              char *errstr, size_t errstr_size)
{
    size_t size = 0;
    char *text = cdc_readfile(path, &size, errstr, errstr_size);
    if (!text) return NULL;
    cdc_config_t *cfg = NULL;
    if (memchr(text, '\0', size))
        cdc_errstr_set(errstr, errstr_size, "%s: binary file (NUL byte)", path);
    else
        cfg = cdc_config_parse(text, path, catalog, errstr, errstr_size);
    free(text);
    return cfg;
}

void cdc_config_destroy(cdc_config_t *cfg)
{
    if (!cfg) return;
    for (size_t i = 0; i < cfg->setting_count; i++) {
        free(cfg->settings[i].value);
        free(cfg->settings[i].derived);
    }
    free(cfg->settings);
    for (size_t i = 0; i < cfg->kafka_count; i++) {
        free(cfg->kafka[i].name);
        free(cfg->kafka[i].value);
    }
    free(cfg->kafka);
    free(cfg->origin);
    free(cfg->dir);
    free(cfg);
}

static const struct kafka_entry *kafka_find(const cdc_config_t *cfg,
                                            const char *key)
{
    if (strncmp(key, KAFKA_PREFIX, strlen(KAFKA_PREFIX)) != 0) return NULL;
    for (size_t i = 0; i < cfg->kafka_count; i++)
        if (strcmp(cfg->kafka[i].name, key + strlen(KAFKA_PREFIX)) == 0)
            return &cfg->kafka[i];
    return NULL;
}

char **cdc_config_split_list(const char *list, int *oom)
{
    *oom = 0;
    if (!list || !*list) return NULL;
    size_t n = 1;
    for (const char *p = list; *p; p++) n += *p == ',';
    char **out = calloc(n + 1, sizeof *out);
    if (!out) goto oom;
    size_t k = 0;
    for (const char *p = list; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len && !(out[k++] = strndup(p, len))) goto oom;
        p += len + (end != NULL);
    }
    return out;
oom:
    cdc_config_free_list(out);
    *oom = 1;
    return NULL;
}

void cdc_config_free_list(char **items)
{
    for (char **i = items; i && *i; i++) free(*i);
    free(items);
}

const char *cdc_config_get(const cdc_config_t *cfg, const char *key)
{
    const struct setting *s = setting_find(cfg, key);
    if (s) return effective(s);
    const struct kafka_entry *e = kafka_find(cfg, key);
    return e ? e->value : NULL;
}

/* The setting of a key of type a or b; NULL otherwise, logged as a bug
 * unless it is another sink's key (simply not this pipeline's). */
static const struct setting *typed_setting(const cdc_config_t *cfg,
                                           const char *key,
                                           cdc_configkey_type_t a,
                                           cdc_configkey_type_t b,
                                           const char *what)
{
    const struct setting *s = setting_find(cfg, key);
    if (s && (s->key->type == a || s->key->type == b)) return s;
    if (s || !key_of_a_sink(cfg, key))
        cdc_log_error("config: '%s' is not %s key (bug)", key, what);
    return NULL;
}

int64_t cdc_config_get_int(const cdc_config_t *cfg, const char *key)
{
    const struct setting *s = typed_setting(cfg, key, CDC_KEY_INT,
                                            CDC_KEY_DURATION, "an integer");
    const char *v = s ? effective(s) : NULL;
    return v ? strtoll(v, NULL, 10) : 0;
}

int cdc_config_get_bool(const cdc_config_t *cfg, const char *key)
{
    const struct setting *s = typed_setting(cfg, key, CDC_KEY_BOOL,
                                            CDC_KEY_BOOL, "a boolean");
    const char *v = s ? effective(s) : NULL;
    return v && strcmp(v, "true") == 0;
}

int cdc_config_line(const cdc_config_t *cfg, const char *key)
{
    const struct setting *s = setting_find(cfg, key);
    if (s) return s->line;
    const struct kafka_entry *e = kafka_find(cfg, key);
    return e ? e->line : 0;
}

int cdc_config_is_set(const cdc_config_t *cfg, const char *key)
{
    return cdc_config_line(cfg, key) > 0;
}

const cdc_settings_t *cdc_config_settings(const cdc_config_t *cfg)
{
    return &cfg->typed;
}

const char *cdc_config_origin(const cdc_config_t *cfg)
{
    return cfg->origin;
}

size_t cdc_config_kafka_count(const cdc_config_t *cfg)
{
    return cfg->kafka_count;
}

void cdc_config_kafka_at(const cdc_config_t *cfg, size_t i, const char **name,
                         const char **value)
{
    *name = i < cfg->kafka_count ? cfg->kafka[i].name : NULL;
    *value = i < cfg->kafka_count ? cfg->kafka[i].value : NULL;
}

bool cdc_config_kafka_given(const cdc_config_t *cfg, const char *key)
{
    for (size_t i = 0; i < cfg->kafka_count; i++)
        if (strcmp(cfg->kafka[i].name, key) == 0) return true;
    return false;
}

int cdc_config_kafka_line(const cdc_config_t *cfg, size_t i)
{
    return i < cfg->kafka_count ? cfg->kafka[i].line : 0;
}

/* ---- print -------------------------------------------------------------- */

void cdc_config_print(const cdc_config_t *cfg, FILE *out)
{
    for (size_t i = 0; i < cfg->setting_count; i++) {
        const struct setting *s = &cfg->settings[i];
        const char *v = effective(s);
        char *shown = v ? cdc_configkey_shown(s->key, v) : NULL;
        if (v && !shown) shown = strdup(CDC_MASK); /* OOM: still hide it */
        if (shown)
            fprintf(out, "%s = %s\n", s->key->name, shown);
        else
            fprintf(out, "# %s is not set\n", s->key->name);
        free(shown);
    }
    for (size_t i = 0; i < cfg->kafka_count; i++) {
        const struct kafka_entry *e = &cfg->kafka[i];
        fprintf(out, KAFKA_PREFIX "%s = %s\n", e->name,
                cdc_mask_kafka_is_secret(e->name) ? CDC_MASK : e->value);
    }
}

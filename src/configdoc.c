#include "configdoc.h"

#include "errstr.h"
#include "readfile.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define CORE_MARKER "@CORE_KEYS@"
#define SINK_MARKER "@SINK_KEYS@"

static const char generated_note[] =
    "<!-- Generated from src/configkey.c (the core keys), the sinks' key\n"
    "     tables (their ops; src/sink.c lists the sinks) and\n"
    "     docs/configuration.template.md (the prose): do not edit.\n"
    "     Regenerate from the repository root with\n"
    "         ./build/t0002-config --write-docs\n"
    "     The t0002-config unit test fails while this file and its sources "
    "differ. -->\n";

static const char table_head[] =
    "| key | type | default | range / values | description |\n"
    "|---|---|---|---|---|\n";

static const char *type_name(cdc_configkey_type_t t)
{
    switch (t) {
    case CDC_KEY_STRING: return "string";
    case CDC_KEY_INT: return "integer";
    case CDC_KEY_BOOL: return "boolean";
    case CDC_KEY_ENUM: return "enum";
    case CDC_KEY_DURATION: return "duration (ms)";
    case CDC_KEY_LIST: return "list";
    }
    return "?";
}

/* Table cells must not contain a bare `|`. */
static void put_cell(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '|') fputc('\\', out);
        fputc(*s, out);
    }
}

static void put_default(FILE *out, const cdc_configkey_t *k)
{
    if (k->derive) fprintf(out, "`%s<name>`", k->derive);
    else if (k->def) fprintf(out, "`%s`", k->def);
    else fputs("—", out);
}

static void put_range(FILE *out, const cdc_configkey_t *k)
{
    if (k->type == CDC_KEY_INT || k->type == CDC_KEY_DURATION)
        fprintf(out, "%" PRId64 "..%" PRId64, k->min, k->max);
    else if (k->type == CDC_KEY_ENUM)
        for (size_t i = 0; k->values && k->values[i]; i++)
            fprintf(out, "%s`%s`", i ? ", " : "", k->values[i]);
    else if (k->type == CDC_KEY_BOOL)
        fputs("`true`, `false`", out);
    else if (k->doc_range)
        put_cell(out, k->doc_range);
}

static void put_row(FILE *out, const cdc_configkey_t *k)
{
    fprintf(out, "| `%s`", k->name);
    if (k->flags & CDC_KEY_REQUIRED) fputs(" *required*", out);
    if (k->flags & CDC_KEY_SECRET) fputs(" *secret*", out);
    if (k->flags & CDC_KEY_URL) fputs(" *password masked*", out);
    fprintf(out, " | %s | ", type_name(k->type));
    put_default(out, k);
    fputs(" | ", out);
    put_range(out, k);
    fputs(" | ", out);
    put_cell(out, k->desc);
    fputs(" |\n", out);
}

/* The core table; the `sink` row lists the catalog's sinks. */
static int put_core(FILE *out, const cdc_config_catalog_t *catalog,
                    char *errstr, size_t errstr_size)
{
    cdc_configkey_t sink_key;
    const char **names;
    if (cdc_configkey_sink_key(catalog, &sink_key, &names) == -1)
        return cdc_errstr_set(errstr, errstr_size, "out of memory");
    const cdc_configkeys_t *core = cdc_configkey_core();
    fputs(table_head, out);
    for (size_t i = 0; i < core->count; i++) {
        const cdc_configkey_t *k = &core->keys[i];
        put_row(out, strcmp(k->name, "sink") == 0 ? &sink_key : k);
    }
    free(names);
    return 0;
}

static void put_sinks(FILE *out, const cdc_config_catalog_t *catalog)
{
    for (size_t i = 0; i < catalog->count; i++) {
        const cdc_configkeys_t *s = catalog->sinks[i];
        fprintf(out, "%s## Keys of the %s sink\n\n", i ? "\n" : "", s->sink);
        if (!s->count) {
            fprintf(out, "The %s sink has no keys of its own; "
                         "sinks/%s/README.md describes it.\n", s->sink, s->sink);
            continue;
        }
        fprintf(out, "These keys apply only with `sink = %s`; "
                     "sinks/%s/README.md describes the sink.\n\n",
                s->sink, s->sink);
        fputs(table_head, out);
        for (size_t j = 0; j < s->count; j++) put_row(out, &s->keys[j]);
    }
}

/* A line that looks like a marker: "@NAME@", NAME in [A-Z_]. */
static int is_marker(const char *line, size_t len)
{
    if (len < 3 || line[0] != '@' || line[len - 1] != '@') return 0;
    for (size_t i = 1; i + 1 < len; i++)
        if (!(line[i] >= 'A' && line[i] <= 'Z') && line[i] != '_') return 0;
    return 1;
}

/* Checks the markers before anything is written. */
static int check_markers(const char *path, const char *text, char *errstr,
                         size_t errstr_size)
{
    int core = 0, sinks = 0, lineno = 1;
    for (const char *line = text; *line; lineno++) {
        size_t len = strcspn(line, "\n");
        if (is_marker(line, len)) {
            if (len == strlen(CORE_MARKER) && !strncmp(line, CORE_MARKER, len))
                core++;
            else if (len == strlen(SINK_MARKER) &&
                     !strncmp(line, SINK_MARKER, len))
                sinks++;
            else
                return cdc_errstr_set(errstr, errstr_size,
                                      "%s:%d: unknown marker '%.*s'", path,
                                      lineno, (int)len, line);
        }
        line += len + (line[len] == '\n');
    }
    if (core != 1 || sinks != 1)
        return cdc_errstr_set(errstr, errstr_size,
                              "%s: needs the lines " CORE_MARKER " and "
                              SINK_MARKER " once each", path);
    return 0;
}

int cdc_configdoc_write(FILE *out, const char *template_path,
                        const cdc_config_catalog_t *catalog, char *errstr,
                        size_t errstr_size)
{
    size_t len;
    char *text = cdc_readfile(template_path, &len, errstr, errstr_size);
    if (!text) return -1;
    int rc = check_markers(template_path, text, errstr, errstr_size);
    if (rc == 0) fputs(generated_note, out);
    for (const char *line = text; rc == 0 && *line;) {
        size_t len = strcspn(line, "\n");
        if (len == strlen(CORE_MARKER) && !strncmp(line, CORE_MARKER, len))
            rc = put_core(out, catalog, errstr, errstr_size);
        else if (len == strlen(SINK_MARKER) && !strncmp(line, SINK_MARKER, len))
            put_sinks(out, catalog);
        else
            fprintf(out, "%.*s\n", (int)len, line);
        line += len + (line[len] == '\n');
    }
    free(text);
    return rc;
}

#include "es_index.h"

#include <bson/bson.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errstr.h"
#include "es_mapping.h"
#include "render.h"

typedef struct es_field {
    char *name, *type;
} es_field_t;

/* A row schema met on this index, with what checking it found. */
typedef struct es_checked {
    const cdc_row_schema_t *schema;
    char *conflict; /* NULL: the mapping takes it */
} es_checked_t;

typedef struct es_index {
    char *name;
    es_field_t *fields;
    size_t nfields;
    es_checked_t *checked;
    size_t nchecked;
} es_index_t;

struct cdc_es_indexes {
    char refused[640]; /* why the engine refused to create an index */
    cdc_es_http_t *http;
    cdc_es_index_options_t opts;
    es_index_t *indexes;
    size_t count;
};

cdc_es_indexes_t *cdc_es_indexes_new(cdc_es_http_t *http, const cdc_es_index_options_t *opts)
{
    cdc_es_indexes_t *x = calloc(1, sizeof *x);
    if (!x) return NULL;
    x->http = http;
    x->opts = *opts;
    return x;
}

static void fields_free(es_index_t *ix)
{
    for (size_t i = 0; i < ix->nfields; i++) {
        free(ix->fields[i].name);
        free(ix->fields[i].type);
    }
    free(ix->fields);
    ix->fields = NULL;
    ix->nfields = 0;
}

void cdc_es_indexes_free(cdc_es_indexes_t *x)
{
    if (!x) return;
    for (size_t i = 0; i < x->count; i++) {
        es_index_t *ix = &x->indexes[i];
        fields_free(ix);
        for (size_t k = 0; k < ix->nchecked; k++) free(ix->checked[k].conflict);
        free(ix->checked);
        free(ix->name);
    }
    free(x->indexes);
    free(x);
}

const char *cdc_es_index_name(const char *target, cdc_arena_t *arena)
{
    size_t len = strlen(target);
    char *out = cdc_arena_alloc(arena, len + 8);
    if (!out) return NULL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)target[i];
        out[i] = c < 0x80 && (c < 0x21 || strchr("\\/*?\"<>|,#:", c)) ? '_' : (char)tolower(c);
    }
    out[len] = '\0';
    /* Leading characters the engines refuse, after mapping (" x" is "_x"). */
    char *name = out;
    while (*name == '-' || *name == '_' || *name == '+') name++;
    len = strlen(name);
    if (len > 255) {
        len = 255; /* never in the middle of a UTF-8 character */
        while (len > 0 && ((unsigned char)name[len] & 0xC0) == 0x80) len--;
        name[len] = '\0';
    }
    if (len == 0 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) return "unnamed";
    return name;
}

void cdc_es_path_segment(cdc_buf_t *path, const char *index)
{
    cdc_buf_putc(path, '/');
    for (const unsigned char *c = (const unsigned char *)index; *c; c++) {
        if (isalnum(*c) || strchr("-._~", *c)) {
            cdc_buf_putc(path, (char)*c);
        } else {
            char hex[4];
            snprintf(hex, sizeof hex, "%%%02X", *c);
            cdc_buf_puts(path, hex);
        }
    }
}

/* ---------------------------------------------------------------------
 * Answers
 * ------------------------------------------------------------------- */

/* error.type and error.reason of an error answer, if it is one. */
static void answer_error(const cdc_es_request_t *req, char *out, size_t size)
{
    out[0] = '\0';
    if (!req->response.data || req->response.len == 0) return;
    bson_error_t err;
    bson_t *doc = bson_new_from_json((const uint8_t *)req->response.data,
                                     (ssize_t)req->response.len, &err);
    if (!doc) return;
    bson_iter_t it, type, reason;
    bool found = bson_iter_init_find(&it, doc, "error");
    if (found && BSON_ITER_HOLDS_DOCUMENT(&it)) {
        bson_iter_t e1 = it, e2 = it;
        const char *t = bson_iter_recurse(&e1, &type) && bson_iter_find(&type, "type") &&
                                BSON_ITER_HOLDS_UTF8(&type)
                            ? bson_iter_utf8(&type, NULL) : "";
        const char *r = bson_iter_recurse(&e2, &reason) && bson_iter_find(&reason, "reason") &&
                                BSON_ITER_HOLDS_UTF8(&reason)
                            ? bson_iter_utf8(&reason, NULL) : "";
        snprintf(out, size, "%s: %s", t, r);
    } else if (found && BSON_ITER_HOLDS_UTF8(&it)) {
        snprintf(out, size, "%s", bson_iter_utf8(&it, NULL));
    }
    bson_destroy(doc);
}

cdc_es_index_status_t cdc_es_answer_failed(const cdc_es_request_t *req, const char *what,
                                           char *errstr, size_t errstr_size)
{
    if (req->status == 0) {
        cdc_errstr_set(errstr, errstr_size, "%s: %s", what, req->error);
        return req->fatal ? CDC_ES_INDEX_FATAL : CDC_ES_INDEX_RETRY;
    }
    char detail[512];
    answer_error(req, detail, sizeof detail);
    if (req->status == 401 || req->status == 403) {
        /* The engine's own words (security_exception: action [...] is
         * unauthorized for user [...]) name the privilege that is missing;
         * Elasticsearch's carry user, role and index names and at most an
         * API key's id, not a secret (a JSON body only: nginx's and other
         * proxies' HTML pages add nothing). */
        cdc_errstr_set(errstr, errstr_size,
                       "%s: HTTP %ld (%s): check connection.username/password "
                       "or connection.api.key and the user's privileges%s%s",
                       what, req->status,
                       req->status == 401 ? "authentication failed" : "forbidden",
                       detail[0] ? "; the engine says " : "", detail);
        return CDC_ES_INDEX_FATAL;
    }
    cdc_errstr_set(errstr, errstr_size, "%s: HTTP %ld%s%s", what, req->status,
                   detail[0] ? ": " : "", detail);
    return CDC_ES_INDEX_RETRY;
}

/* ---------------------------------------------------------------------
 * Mappings
 * ------------------------------------------------------------------- */

static es_index_t *index_find(cdc_es_indexes_t *x, const char *name)
{
    for (size_t i = 0; i < x->count; i++)
        if (strcmp(x->indexes[i].name, name) == 0) return &x->indexes[i];
    return NULL;
}

static const char *field_type(const es_index_t *ix, const char *name)
{
    for (size_t i = 0; i < ix->nfields; i++)
        if (strcmp(ix->fields[i].name, name) == 0) return ix->fields[i].type;
    return NULL;
}

static int field_add(es_index_t *ix, const char *name, const char *type)
{
    es_field_t *grown = realloc(ix->fields, (ix->nfields + 1) * sizeof *grown);
    if (!grown) return -1;
    ix->fields = grown;
    es_field_t *f = &ix->fields[ix->nfields];
    f->name = strdup(name);
    f->type = strdup(type);
    if (!f->name || !f->type) {
        free(f->name);
        free(f->type);
        return -1;
    }
    ix->nfields++;
    return 0;
}

/* {"<index>":{"mappings":{"properties":{"f":{"type":"long"},...}}}}: the
 * top-level fields with their types (an object field without a type is
 * "object"). */
static int mapping_read(es_index_t *ix, const cdc_buf_t *body)
{
    if (!body->data || body->len == 0) return -1;
    bson_error_t err;
    bson_t *doc = bson_new_from_json((const uint8_t *)body->data, (ssize_t)body->len, &err);
    if (!doc) return -1;
    fields_free(ix);
    bson_iter_t top, mappings, props, field, type;
    int rc = 0;
    if (bson_iter_init(&top, doc) && bson_iter_next(&top) && BSON_ITER_HOLDS_DOCUMENT(&top) &&
        bson_iter_recurse(&top, &mappings) && bson_iter_find(&mappings, "mappings") &&
        BSON_ITER_HOLDS_DOCUMENT(&mappings) && bson_iter_recurse(&mappings, &props) &&
        bson_iter_find(&props, "properties") && BSON_ITER_HOLDS_DOCUMENT(&props) &&
        bson_iter_recurse(&props, &field)) {
        while (rc == 0 && bson_iter_next(&field)) {
            const char *t = "object";
            if (BSON_ITER_HOLDS_DOCUMENT(&field) && bson_iter_recurse(&field, &type) &&
                bson_iter_find(&type, "type") && BSON_ITER_HOLDS_UTF8(&type))
                t = bson_iter_utf8(&type, NULL);
            rc = field_add(ix, bson_iter_key(&field), t);
        }
    }
    bson_destroy(doc);
    return rc;
}

static cdc_es_index_status_t index_create(cdc_es_indexes_t *x, const char *name,
                                          const cdc_row_schema_t *schema,
                                          char *errstr, size_t errstr_size)
{
    cdc_buf_t body, path;
    cdc_buf_init(&body);
    cdc_buf_init(&path);
    cdc_buf_puts(&body, "{\"settings\":{\"index\":{\"gc_deletes\":\"");
    cdc_buf_put_int(&body, x->opts.gc_deletes_ms);
    cdc_buf_puts(&body, "ms\",\"number_of_replicas\":");
    cdc_buf_put_int(&body, x->opts.replicas);
    cdc_buf_puts(&body, "}},\"mappings\":");
    cdc_es_mapping_properties(schema, true, &body);
    cdc_buf_putc(&body, '}');
    cdc_es_path_segment(&path, name);
    cdc_es_request_t req = {.method = "PUT", .path = path.data, .body = body.data,
                            .body_len = body.len};
    cdc_es_index_status_t st = CDC_ES_INDEX_OK;
    if (body.failed || path.failed) {
        cdc_errstr_set(errstr, errstr_size, "out of memory");
        st = CDC_ES_INDEX_RETRY;
    } else if (cdc_es_http_one(x->http, &req) != 0 ||
               (req.status != 200 &&
                !(req.status == 400 && req.response.data &&
                  strstr(req.response.data, "resource_already_exists_exception")))) {
        char what[300];
        snprintf(what, sizeof what, "creating index %s", name);
        st = cdc_es_answer_failed(&req, what, errstr, errstr_size);
        /* 400: the name or the settings are refused (invalid_index_name_
         * exception, ...): the records of that index cannot be applied,
         * the others can. */
        if (req.status == 400) {
            snprintf(x->refused, sizeof x->refused, "%s", errstr);
            st = CDC_ES_INDEX_CONFLICT;
        }
    }
    cdc_es_request_clear(&req);
    cdc_buf_free(&body);
    cdc_buf_free(&path);
    return st;
}

static cdc_es_index_status_t index_load_at(cdc_es_indexes_t *x, es_index_t *ix,
                                           const cdc_row_schema_t *schema, const char *path,
                                           const char *what, char *errstr, size_t errstr_size);

/* Reads the index's mapping, creating the index first when it is missing
 * (and allowed to). */
static cdc_es_index_status_t index_load(cdc_es_indexes_t *x, es_index_t *ix,
                                        const cdc_row_schema_t *schema,
                                        char *errstr, size_t errstr_size)
{
    char what[300];
    snprintf(what, sizeof what, "reading the mapping of index %s", ix->name);
    cdc_buf_t path;
    cdc_buf_init(&path);
    cdc_es_path_segment(&path, ix->name);
    cdc_buf_puts(&path, "/_mapping");
    cdc_es_index_status_t st = index_load_at(x, ix, schema, path.failed ? NULL : path.data, what,
                                             errstr, errstr_size);
    cdc_buf_free(&path);
    return st;
}

static cdc_es_index_status_t index_load_at(cdc_es_indexes_t *x, es_index_t *ix,
                                           const cdc_row_schema_t *schema, const char *path,
                                           const char *what, char *errstr, size_t errstr_size)
{
    if (!path) {
        cdc_errstr_set(errstr, errstr_size, "out of memory");
        return CDC_ES_INDEX_RETRY;
    }
    for (int round = 0; round < 2; round++) {
        cdc_es_request_t req = {.method = "GET", .path = path};
        int rc = cdc_es_http_one(x->http, &req);
        if (rc == 0 && req.status == 200) {
            int bad = mapping_read(ix, &req.response);
            cdc_es_request_clear(&req);
            if (bad) {
                cdc_errstr_set(errstr, errstr_size, "%s: an answer that is not a mapping", what);
                return CDC_ES_INDEX_RETRY;
            }
            return CDC_ES_INDEX_OK;
        }
        if (rc != 0 || req.status != 404 || round > 0) {
            cdc_es_index_status_t st = cdc_es_answer_failed(&req, what, errstr, errstr_size);
            cdc_es_request_clear(&req);
            return st;
        }
        cdc_es_request_clear(&req);
        if (!x->opts.auto_create) {
            cdc_errstr_set(errstr, errstr_size,
                           "index %s does not exist and auto.create=false: create it "
                           "(or set auto.create=true)", ix->name);
            return CDC_ES_INDEX_FATAL;
        }
        cdc_es_index_status_t st = index_create(x, ix->name, schema, errstr, errstr_size);
        if (st != CDC_ES_INDEX_OK) return st;
    }
    return CDC_ES_INDEX_OK;
}

/* Adds the schema's unmapped columns with one PUT _mapping. */
static cdc_es_index_status_t index_evolve(cdc_es_indexes_t *x, es_index_t *ix,
                                          const cdc_row_schema_t *schema,
                                          char *errstr, size_t errstr_size)
{
    cdc_buf_t body;
    cdc_buf_init(&body);
    cdc_buf_puts(&body, "{\"properties\":{");
    size_t added = 0;
    for (size_t i = 0; i < schema->ncolumns; i++) {
        const cdc_column_t *col = &schema->columns[i];
        if (field_type(ix, col->name)) continue;
        if (added++) cdc_buf_putc(&body, ',');
        cdc_render_string(col->name, strlen(col->name), &body);
        cdc_buf_putc(&body, ':');
        cdc_es_mapping_field(col, &body);
    }
    cdc_buf_puts(&body, "}}");
    cdc_es_index_status_t st = CDC_ES_INDEX_OK;
    if (added && x->opts.auto_evolve) {
        char what[300];
        snprintf(what, sizeof what, "adding %zu field(s) to the mapping of index %s", added, ix->name);
        cdc_buf_t path;
        cdc_buf_init(&path);
        cdc_es_path_segment(&path, ix->name);
        cdc_buf_puts(&path, "/_mapping");
        cdc_es_request_t req = {.method = "PUT", .path = path.data, .body = body.data,
                                .body_len = body.len};
        if (body.failed || path.failed) {
            cdc_errstr_set(errstr, errstr_size, "out of memory");
            st = CDC_ES_INDEX_RETRY;
        } else if (cdc_es_http_one(x->http, &req) != 0 || req.status != 200) {
            st = cdc_es_answer_failed(&req, what, errstr, errstr_size);
            /* 400: the mapping cannot take these fields (more than
             * index.mapping.total_fields.limit, a name too long, ...): the
             * records of this schema cannot be applied, the others can. */
            if (req.status == 400) st = CDC_ES_INDEX_CONFLICT;
        } else {
            for (size_t i = 0; i < schema->ncolumns && st == CDC_ES_INDEX_OK; i++)
                if (!field_type(ix, schema->columns[i].name) &&
                    field_add(ix, schema->columns[i].name,
                              cdc_es_mapping_type(&schema->columns[i])) != 0)
                    st = CDC_ES_INDEX_RETRY;
        }
        cdc_es_request_clear(&req);
        cdc_buf_free(&path);
    }
    cdc_buf_free(&body);
    return st;
}

/* The first column whose field cannot take its values, as a message. */
static char *schema_conflict(const es_index_t *ix, const cdc_row_schema_t *schema)
{
    for (size_t i = 0; i < schema->ncolumns; i++) {
        const cdc_column_t *col = &schema->columns[i];
        const char *have = field_type(ix, col->name);
        const char *want = cdc_es_mapping_type(col);
        if (!have || cdc_es_mapping_compatible(have, want)) continue;
        char msg[512];
        snprintf(msg, sizeof msg,
                 "index %s maps field %s as %s; column %s (%s) needs %s: change "
                 "the mapping (or reindex), then replay the DLQ",
                 ix->name, col->name, have, col->name, cdc_type_name(col->type), want);
        return strdup(msg);
    }
    return NULL;
}

void cdc_es_indexes_forget(cdc_es_indexes_t *x, const char *index)
{
    es_index_t *ix = index_find(x, index);
    if (!ix) return;
    fields_free(ix);
    for (size_t k = 0; k < ix->nchecked; k++) free(ix->checked[k].conflict);
    free(ix->checked);
    free(ix->name);
    *ix = x->indexes[--x->count];
}

cdc_es_index_status_t cdc_es_indexes_ensure(cdc_es_indexes_t *x, const char *index,
                                            const cdc_row_schema_t *schema,
                                            const char **why, char *errstr,
                                            size_t errstr_size)
{
    *why = NULL;
    es_index_t *ix = index_find(x, index);
    if (!ix) {
        es_index_t *grown = realloc(x->indexes, (x->count + 1) * sizeof *grown);
        if (!grown) goto oom;
        x->indexes = grown;
        ix = &x->indexes[x->count];
        memset(ix, 0, sizeof *ix);
        if (!(ix->name = strdup(index))) goto oom;
        cdc_es_index_status_t st = index_load(x, ix, schema, errstr, errstr_size);
        if (st != CDC_ES_INDEX_OK) {
            fields_free(ix);
            free(ix->name);
            if (st == CDC_ES_INDEX_CONFLICT) *why = x->refused;
            return st;
        }
        x->count++;
    }
    if (!schema) return CDC_ES_INDEX_OK;
    for (size_t k = 0; k < ix->nchecked; k++) {
        if (ix->checked[k].schema != schema) continue;
        *why = ix->checked[k].conflict;
        return *why ? CDC_ES_INDEX_CONFLICT : CDC_ES_INDEX_OK;
    }
    cdc_es_index_status_t st = index_evolve(x, ix, schema, errstr, errstr_size);
    char *refused = NULL;
    if (st == CDC_ES_INDEX_CONFLICT) {
        if (!(refused = strdup(errstr))) goto oom;
    } else if (st != CDC_ES_INDEX_OK) {
        return st;
    }
    es_checked_t *grown = realloc(ix->checked, (ix->nchecked + 1) * sizeof *grown);
    if (!grown) {
        free(refused);
        goto oom;
    }
    ix->checked = grown;
    /* A refused evolution is remembered like a conflict: the schema's next
     * records are rejected without asking again. */
    ix->checked[ix->nchecked] =
        (es_checked_t){schema, refused ? refused : schema_conflict(ix, schema)};
    *why = ix->checked[ix->nchecked++].conflict;
    return *why ? CDC_ES_INDEX_CONFLICT : CDC_ES_INDEX_OK;
oom:
    cdc_errstr_set(errstr, errstr_size, "out of memory");
    return CDC_ES_INDEX_RETRY;
}

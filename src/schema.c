#include "schema.h"

#include <avro.h>
#include <bson/bson.h>
#include <stdlib.h>
#include <string.h>

#include "errstr.h"
#include "grow.h"

/* Named types seen so far, for references by name. */
typedef struct schema_named {
    const char *full_name;
    cdc_schema_node_t *node;
    struct schema_named *next;
} schema_named_t;

typedef struct schema_compiler {
    cdc_schema_t *schema;
    schema_named_t *named;
    char *errstr;
    size_t errstr_size;
    int depth;
} schema_compiler_t;

static cdc_schema_node_t *compile_type(schema_compiler_t *c,
                                       const bson_iter_t *it,
                                       const char *namespace);

static void *compiler_alloc(schema_compiler_t *c, size_t size)
{
    void *p = cdc_arena_alloc(&c->schema->arena, size);
    if (p) memset(p, 0, size);
    return p;
}

static const char *compiler_strdup(schema_compiler_t *c, const char *s)
{
    return cdc_arena_strndup(&c->schema->arena, s, strlen(s));
}

static cdc_schema_node_t *node_new(schema_compiler_t *c, cdc_avro_kind_t kind,
                                   cdc_type_t type)
{
    cdc_schema_node_t *n = compiler_alloc(c, sizeof *n);
    if (!n) return NULL;
    n->kind = kind;
    n->type = type;
    n->null_branch = -1;
    return n;
}

static const struct {
    const char *name;
    cdc_avro_kind_t kind;
    cdc_type_t type;
} primitives[] = {
    {"null", CDC_AVRO_NULL, CDC_TYPE_STRING},
    {"boolean", CDC_AVRO_BOOLEAN, CDC_TYPE_BOOLEAN},
    {"int", CDC_AVRO_INT, CDC_TYPE_INT32},
    {"long", CDC_AVRO_LONG, CDC_TYPE_INT64},
    {"float", CDC_AVRO_FLOAT, CDC_TYPE_FLOAT32},
    {"double", CDC_AVRO_DOUBLE, CDC_TYPE_FLOAT64},
    {"bytes", CDC_AVRO_BYTES, CDC_TYPE_BYTES},
    {"string", CDC_AVRO_STRING, CDC_TYPE_STRING},
};

/* Debezium and Kafka Connect semantic names → our types. */
static const struct {
    const char *connect_name;
    cdc_type_t type;
} connect_types[] = {
    {"io.debezium.time.Date", CDC_TYPE_DATE},
    {"org.apache.kafka.connect.data.Date", CDC_TYPE_DATE},
    {"io.debezium.time.Time", CDC_TYPE_TIME_MILLIS},
    {"org.apache.kafka.connect.data.Time", CDC_TYPE_TIME_MILLIS},
    {"io.debezium.time.MicroTime", CDC_TYPE_TIME_MICROS},
    {"io.debezium.time.NanoTime", CDC_TYPE_TIME_NANOS},
    {"io.debezium.time.Timestamp", CDC_TYPE_TIMESTAMP_MILLIS},
    {"org.apache.kafka.connect.data.Timestamp", CDC_TYPE_TIMESTAMP_MILLIS},
    {"io.debezium.time.MicroTimestamp", CDC_TYPE_TIMESTAMP_MICROS},
    {"io.debezium.time.NanoTimestamp", CDC_TYPE_TIMESTAMP_NANOS},
    {"io.debezium.time.ZonedTimestamp", CDC_TYPE_ZONED_TIMESTAMP},
    {"io.debezium.time.ZonedTime", CDC_TYPE_ZONED_TIME},
    {"io.debezium.time.MicroDuration", CDC_TYPE_INTERVAL_MICROS},
    {"io.debezium.time.Interval", CDC_TYPE_INTERVAL_STRING},
    {"io.debezium.data.Uuid", CDC_TYPE_UUID},
    {"io.debezium.data.Json", CDC_TYPE_JSON},
    {"io.debezium.data.Xml", CDC_TYPE_XML},
    {"io.debezium.data.Enum", CDC_TYPE_ENUM},
    {"io.debezium.data.Bits", CDC_TYPE_BITS},
    {"org.apache.kafka.connect.data.Decimal", CDC_TYPE_DECIMAL},
    {"io.debezium.data.VariableScaleDecimal", CDC_TYPE_DECIMAL},
};

static const struct {
    const char *logical_type;
    cdc_type_t type;
} avro_logical_types[] = {
    {"decimal", CDC_TYPE_DECIMAL},
    {"date", CDC_TYPE_DATE},
    {"time-millis", CDC_TYPE_TIME_MILLIS},
    {"time-micros", CDC_TYPE_TIME_MICROS},
    {"timestamp-millis", CDC_TYPE_TIMESTAMP_MILLIS},
    {"timestamp-micros", CDC_TYPE_TIMESTAMP_MICROS},
    {"uuid", CDC_TYPE_UUID},
};

static int compile_error(schema_compiler_t *c, const char *fmt,
                         const char *detail)
{
    char msg[256];
    snprintf(msg, sizeof msg, fmt, detail ? detail : "");
    return cdc_errstr_set(c->errstr, c->errstr_size, "invalid schema: %s",
                          msg);
}

static const char *full_name(schema_compiler_t *c, const char *name,
                             const char *namespace)
{
    if (strchr(name, '.') || !namespace || !*namespace)
        return compiler_strdup(c, name);
    size_t n = strlen(namespace) + strlen(name) + 2;
    char *s = compiler_alloc(c, n);
    if (s) snprintf(s, n, "%s.%s", namespace, name);
    return s;
}

static cdc_schema_node_t *lookup_named(schema_compiler_t *c, const char *name,
                                       const char *namespace)
{
    for (int pass = 0; pass < 2; pass++) {
        const char *want = name;
        char buf[512];
        if (pass == 1) {
            if (!namespace || !*namespace) break;
            snprintf(buf, sizeof buf, "%s.%s", namespace, name);
            want = buf;
        }
        for (schema_named_t *n = c->named; n; n = n->next)
            if (strcmp(n->full_name, want) == 0) return n->node;
    }
    return NULL;
}

static int remember_named(schema_compiler_t *c, const char *full,
                          cdc_schema_node_t *node)
{
    for (schema_named_t *n = c->named; n; n = n->next)
        if (strcmp(n->full_name, full) == 0)
            return compile_error(c, "type '%s' is defined twice", full);
    schema_named_t *n = compiler_alloc(c, sizeof *n);
    if (!n) return -1;
    n->full_name = full;
    n->node = node;
    n->next = c->named;
    c->named = n;
    return 0;
}

static cdc_schema_node_t *compile_name(schema_compiler_t *c, const char *name,
                                       const char *namespace)
{
    for (size_t i = 0; i < sizeof primitives / sizeof primitives[0]; i++)
        if (strcmp(name, primitives[i].name) == 0)
            return node_new(c, primitives[i].kind, primitives[i].type);
    cdc_schema_node_t *named = lookup_named(c, name, namespace);
    if (!named) compile_error(c, "unknown type '%s'", name);
    return named;
}

/* String property of an object, or NULL. */
static const char *prop_string(const bson_iter_t *object, const char *key)
{
    bson_iter_t it;
    if (bson_iter_recurse(object, &it) && bson_iter_find(&it, key) &&
        BSON_ITER_HOLDS_UTF8(&it))
        return bson_iter_utf8(&it, NULL);
    return NULL;
}

/* Integer property (number or numeric string), or fallback. */
static int prop_int(const bson_iter_t *object, const char *key, int fallback)
{
    bson_iter_t it;
    if (!bson_iter_recurse(object, &it) || !bson_iter_find(&it, key))
        return fallback;
    if (BSON_ITER_HOLDS_UTF8(&it)) return atoi(bson_iter_utf8(&it, NULL));
    if (BSON_ITER_HOLDS_NUMBER(&it)) return (int)bson_iter_as_int64(&it);
    return fallback;
}

/* "connect.parameters": {"scale": "2", ...} holds strings. */
static int connect_param_int(const bson_iter_t *object, const char *key,
                             int fallback)
{
    bson_iter_t it, params;
    if (bson_iter_recurse(object, &it) &&
        bson_iter_find(&it, "connect.parameters") &&
        BSON_ITER_HOLDS_DOCUMENT(&it) && bson_iter_recurse(&it, &params) &&
        bson_iter_find(&params, key)) {
        if (BSON_ITER_HOLDS_UTF8(&params))
            return atoi(bson_iter_utf8(&params, NULL));
        if (BSON_ITER_HOLDS_NUMBER(&params))
            return (int)bson_iter_as_int64(&params);
    }
    return fallback;
}

/* Applies connect.name / connect.type / logicalType to a node built from an
 * object schema. */
static void annotate(cdc_schema_node_t *node, const bson_iter_t *object)
{
    const char *connect_type = prop_string(object, "connect.type");
    if (connect_type && (strcmp(connect_type, "int16") == 0 ||
                         strcmp(connect_type, "int8") == 0))
        node->type = CDC_TYPE_INT16;

    const char *logical = prop_string(object, "logicalType");
    for (size_t i = 0; logical && i < sizeof avro_logical_types /
                                          sizeof avro_logical_types[0]; i++)
        if (strcmp(logical, avro_logical_types[i].logical_type) == 0)
            node->type = avro_logical_types[i].type;

    const char *connect_name = prop_string(object, "connect.name");
    if (!connect_name && node->kind == CDC_AVRO_RECORD) connect_name = node->name;
    for (size_t i = 0; connect_name &&
                       i < sizeof connect_types / sizeof connect_types[0]; i++)
        if (strcmp(connect_name, connect_types[i].connect_name) == 0)
            node->type = connect_types[i].type;

    if (node->type == CDC_TYPE_DECIMAL) {
        node->variable_decimal = node->kind == CDC_AVRO_RECORD;
        node->scale = node->variable_decimal
                          ? -1
                          : prop_int(object, "scale",
                                     connect_param_int(object, "scale", 0));
        node->precision = prop_int(
            object, "precision",
            connect_param_int(object, "connect.decimal.precision", 0));
    }
    if (node->type == CDC_TYPE_BITS)
        node->length = connect_param_int(object, "length", 0);
}

static int compile_fields(schema_compiler_t *c, cdc_schema_node_t *node,
                          const bson_iter_t *object, const char *namespace)
{
    bson_iter_t it, fields, field;
    if (!bson_iter_recurse(object, &it) || !bson_iter_find(&it, "fields") ||
        !BSON_ITER_HOLDS_ARRAY(&it) || !bson_iter_recurse(&it, &fields))
        return compile_error(c, "record '%s' has no fields array", node->name);
    size_t count = 0;
    bson_iter_t counter = fields;
    while (bson_iter_next(&counter)) count++;
    node->count = count;
    node->children = compiler_alloc(c, (count + 1) * sizeof *node->children);
    node->names = compiler_alloc(c, (count + 1) * sizeof *node->names);
    node->has_default = compiler_alloc(c, count + 1);
    if (!node->children || !node->names || !node->has_default)
        return compile_error(c, "out of memory%s", "");
    for (size_t i = 0; bson_iter_next(&fields); i++) {
        const char *fname;
        if (!BSON_ITER_HOLDS_DOCUMENT(&fields) ||
            !(fname = prop_string(&fields, "name")))
            return compile_error(c, "a field of '%s' has no name", node->name);
        node->names[i] = compiler_strdup(c, fname);
        bson_iter_t probe;
        node->has_default[i] = bson_iter_recurse(&fields, &probe) &&
                               bson_iter_find(&probe, "default");
        if (!bson_iter_recurse(&fields, &field) ||
            !bson_iter_find(&field, "type"))
            return compile_error(c, "field '%s' has no type", fname);
        if (!(node->children[i] = compile_type(c, &field, namespace)))
            return -1;
    }
    return 0;
}

static cdc_row_schema_t *row_from_record(schema_compiler_t *c,
                                         cdc_schema_node_t *record);

static void column_describe(schema_compiler_t *c, cdc_column_t *col,
                            const cdc_schema_node_t *type)
{
    col->optional = false;
    if (type->kind == CDC_AVRO_UNION) {
        col->optional = type->null_branch >= 0;
        type = cdc_schema_unwrap_optional(type);
    }
    col->type = type->type;
    col->precision = type->precision;
    col->scale = type->scale;
    col->length = type->length;
    if (type->kind == CDC_AVRO_ARRAY && type->children)
        col->element_type =
            cdc_schema_unwrap_optional(type->children[0])->type;
    if (type->kind == CDC_AVRO_RECORD && col->type == CDC_TYPE_RECORD)
        col->fields = type->row ? type->row
                                : row_from_record(c, (cdc_schema_node_t *)type);
}

static cdc_row_schema_t *row_from_record(schema_compiler_t *c,
                                         cdc_schema_node_t *record)
{
    if (record->row) return record->row;
    cdc_row_schema_t *row = compiler_alloc(c, sizeof *row);
    cdc_column_t *cols = compiler_alloc(c, (record->count + 1) * sizeof *cols);
    if (!row || !cols) return NULL;
    record->row = row; /* set first: a record may contain itself */
    row->name = record->name;
    row->ncolumns = record->count;
    row->columns = cols;
    for (size_t i = 0; i < record->count; i++) {
        cols[i].name = record->names[i];
        cols[i].has_default = record->has_default[i];
        column_describe(c, &cols[i], record->children[i]);
    }
    return row;
}

static cdc_schema_node_t *compile_named_object(schema_compiler_t *c,
                                               const bson_iter_t *object,
                                               cdc_avro_kind_t kind,
                                               const char *namespace)
{
    const char *name = prop_string(object, "name");
    if (!name) {
        compile_error(c, "a named type has no name%s", "");
        return NULL;
    }
    const char *ns = prop_string(object, "namespace");
    const char *full = full_name(c, name, ns ? ns : namespace);
    cdc_type_t type = kind == CDC_AVRO_RECORD ? CDC_TYPE_RECORD
                      : kind == CDC_AVRO_ENUM ? CDC_TYPE_ENUM
                                              : CDC_TYPE_BYTES;
    cdc_schema_node_t *node = node_new(c, kind, type);
    if (!node || !full) return NULL;
    node->name = full;
    if (remember_named(c, full, node) != 0) return NULL;
    /* The namespace of a named type is the default for its fields. */
    const char *dot = strrchr(full, '.');
    const char *inner_ns =
        dot ? cdc_arena_strndup(&c->schema->arena, full, (size_t)(dot - full))
            : namespace;

    if (kind == CDC_AVRO_RECORD) {
        if (compile_fields(c, node, object, inner_ns) != 0) return NULL;
    } else if (kind == CDC_AVRO_ENUM) {
        bson_iter_t it, symbols;
        if (!bson_iter_recurse(object, &it) || !bson_iter_find(&it, "symbols") ||
            !BSON_ITER_HOLDS_ARRAY(&it) || !bson_iter_recurse(&it, &symbols)) {
            compile_error(c, "enum '%s' has no symbols", full);
            return NULL;
        }
        size_t count = 0;
        bson_iter_t counter = symbols;
        while (bson_iter_next(&counter)) count++;
        node->count = count;
        node->names = compiler_alloc(c, (count + 1) * sizeof *node->names);
        for (size_t i = 0; node->names && bson_iter_next(&symbols); i++)
            node->names[i] = BSON_ITER_HOLDS_UTF8(&symbols)
                                 ? compiler_strdup(c, bson_iter_utf8(&symbols, NULL))
                                 : "";
    } else { /* fixed */
        node->length = prop_int(object, "size", -1);
        if (node->length < 0) {
            compile_error(c, "fixed '%s' has no size", full);
            return NULL;
        }
    }
    annotate(node, object);
    return node;
}

/* The records' columns, once every node is compiled: columns describe
 * nested records, and a record may refer by name to one whose fields are
 * still being compiled (a recursive type: R's field is a record S whose
 * field is R), whose children are not all there yet. */
static int compile_rows(schema_compiler_t *c)
{
    for (schema_named_t *n = c->named; n; n = n->next)
        if (n->node->kind == CDC_AVRO_RECORD && n->node->type == CDC_TYPE_RECORD &&
            !row_from_record(c, n->node))
            return compile_error(c, "out of memory%s", "");
    return 0;
}

static cdc_schema_node_t *compile_container(schema_compiler_t *c,
                                            const bson_iter_t *object,
                                            cdc_avro_kind_t kind,
                                            const char *namespace)
{
    const char *key = kind == CDC_AVRO_ARRAY ? "items" : "values";
    bson_iter_t it;
    if (!bson_iter_recurse(object, &it) || !bson_iter_find(&it, key)) {
        compile_error(c, "%s without its item type",
                      kind == CDC_AVRO_ARRAY ? "array" : "map");
        return NULL;
    }
    cdc_schema_node_t *node = node_new(
        c, kind, kind == CDC_AVRO_ARRAY ? CDC_TYPE_ARRAY : CDC_TYPE_MAP);
    if (!node) return NULL;
    node->count = 1;
    node->children = compiler_alloc(c, sizeof *node->children);
    if (!node->children ||
        !(node->children[0] = compile_type(c, &it, namespace)))
        return NULL;
    return node;
}

static cdc_schema_node_t *compile_object(schema_compiler_t *c,
                                         const bson_iter_t *object,
                                         const char *namespace)
{
    bson_iter_t type_it;
    if (!bson_iter_recurse(object, &type_it) ||
        !bson_iter_find(&type_it, "type")) {
        compile_error(c, "an object schema has no \"type\"%s", "");
        return NULL;
    }
    if (!BSON_ITER_HOLDS_UTF8(&type_it)) /* {"type": {...}} or {"type": [..]} */
        return compile_type(c, &type_it, namespace);
    const char *type = bson_iter_utf8(&type_it, NULL);
    cdc_schema_node_t *node;
    if (strcmp(type, "record") == 0 || strcmp(type, "error") == 0)
        return compile_named_object(c, object, CDC_AVRO_RECORD, namespace);
    if (strcmp(type, "enum") == 0)
        return compile_named_object(c, object, CDC_AVRO_ENUM, namespace);
    if (strcmp(type, "fixed") == 0)
        return compile_named_object(c, object, CDC_AVRO_FIXED, namespace);
    if (strcmp(type, "array") == 0 || strcmp(type, "map") == 0)
        node = compile_container(
            c, object, type[0] == 'a' ? CDC_AVRO_ARRAY : CDC_AVRO_MAP,
            namespace);
    else
        node = compile_name(c, type, namespace);
    if (!node) return NULL;
    /* A primitive with properties is a fresh node: annotate a copy, never a
     * named type shared by reference. */
    if (node->kind != CDC_AVRO_RECORD && node->kind != CDC_AVRO_ENUM &&
        node->kind != CDC_AVRO_FIXED)
        annotate(node, object);
    return node;
}

static cdc_schema_node_t *compile_union(schema_compiler_t *c,
                                        const bson_iter_t *array,
                                        const char *namespace)
{
    bson_iter_t branches, counter;
    if (!bson_iter_recurse(array, &branches)) return NULL;
    size_t count = 0;
    counter = branches;
    while (bson_iter_next(&counter)) count++;
    if (count == 0) {
        compile_error(c, "empty union%s", "");
        return NULL;
    }
    cdc_schema_node_t *node = node_new(c, CDC_AVRO_UNION, CDC_TYPE_STRING);
    if (!node) return NULL;
    node->count = count;
    node->children = compiler_alloc(c, count * sizeof *node->children);
    if (!node->children) return NULL;
    for (size_t i = 0; bson_iter_next(&branches); i++) {
        if (!(node->children[i] = compile_type(c, &branches, namespace)))
            return NULL;
        if (node->children[i]->kind == CDC_AVRO_NULL) node->null_branch = (int)i;
    }
    node->type = cdc_schema_unwrap_optional(node)->type;
    return node;
}

static cdc_schema_node_t *compile_type(schema_compiler_t *c,
                                       const bson_iter_t *it,
                                       const char *namespace)
{
    if (++c->depth > 64) {
        compile_error(c, "nested deeper than 64 levels%s", "");
        return NULL;
    }
    cdc_schema_node_t *node = NULL;
    if (BSON_ITER_HOLDS_UTF8(it))
        node = compile_name(c, bson_iter_utf8(it, NULL), namespace);
    else if (BSON_ITER_HOLDS_DOCUMENT(it))
        node = compile_object(c, it, namespace);
    else if (BSON_ITER_HOLDS_ARRAY(it))
        node = compile_union(c, it, namespace);
    else
        compile_error(c, "a type is neither a name, an object nor a union%s",
                      "");
    c->depth--;
    return node;
}

static int key_order(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Refuses an object that holds a key twice, anywhere in the document.
 * JSON parsers disagree on which of two equal keys counts: libbson keeps
 * both and the compiler reads the first, jansson (avro-c) keeps the last.
 * Such a schema would be validated as one schema and compiled as another
 * (and avro-c leaks what it built when it refuses the other). */
static int check_keys(schema_compiler_t *c, bson_iter_t *it, bool object, int depth)
{
    if (depth > 256) return compile_error(c, "nested deeper than 256 levels%s", "");
    const char **keys = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    while (rc == 0 && bson_iter_next(it)) {
        if (object) {
            const char **grown = cdc_grow(keys, n, &cap, sizeof *keys, 8);
            if (!grown) {
                rc = compile_error(c, "out of memory%s", "");
                break;
            }
            keys = grown;
            keys[n++] = bson_iter_key(it);
        }
        bson_iter_t child;
        if ((BSON_ITER_HOLDS_DOCUMENT(it) || BSON_ITER_HOLDS_ARRAY(it)) &&
            bson_iter_recurse(it, &child))
            rc = check_keys(c, &child, BSON_ITER_HOLDS_DOCUMENT(it), depth + 1);
    }
    if (rc == 0 && n > 1) {
        qsort(keys, n, sizeof *keys, key_order);
        for (size_t i = 1; i < n && rc == 0; i++)
            if (strcmp(keys[i - 1], keys[i]) == 0)
                rc = compile_error(c, "an object holds the key '%s' twice", keys[i]);
    }
    free(keys);
    return rc;
}

/* avro-c is the reference for what is valid Avro; we only add meaning. */
static int validate_with_avro_c(const char *json, size_t len, char *errstr,
                                size_t errstr_size)
{
    avro_schema_t schema;
    if (avro_schema_from_json_length(json, len, &schema) != 0)
        return cdc_errstr_set(errstr, errstr_size, "invalid schema: %s",
                              avro_strerror());
    avro_schema_decref(schema);
    return 0;
}

/* The JSON text of a schema may nest objects and arrays this deep (a real
 * Debezium schema nests about 10): libbson refuses 100 levels with a
 * message nobody can act on, and a record type costs three levels (the
 * record, its fields, the field), so this, not the 64 levels of types,
 * is what bounds records in records. docs/semantics.md, "Limits". */
enum { SCHEMA_MAX_JSON_DEPTH = 96 };

static bool json_too_deep(const char *json, size_t len)
{
    int depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char ch = json[i];
        if (in_string) {
            if (ch == '\\') i++;
            else if (ch == '"') in_string = false;
        } else if (ch == '"') {
            in_string = true;
        } else if (ch == '{' || ch == '[') {
            if (++depth > SCHEMA_MAX_JSON_DEPTH) return true;
        } else if (ch == '}' || ch == ']') {
            depth--;
        }
    }
    return false;
}

cdc_schema_t *cdc_schema_compile(const char *json, size_t len, char *errstr,
                                 size_t errstr_size)
{
    if (json_too_deep(json, len)) {
        cdc_errstr_set(errstr, errstr_size,
                       "invalid schema: JSON nested deeper than %d levels",
                       SCHEMA_MAX_JSON_DEPTH);
        return NULL;
    }
    /* Our reading comes first and avro-c's validation second: avro-c leaks
     * what it built when it refuses some schemas (a named type defined
     * twice), and a schema that never compiles is compiled again for each
     * of its records. Ours refuses those before avro-c sees them. */
    /* libbson parses only objects at the top, and a schema may be "string"
     * or a union: wrap it. */
    char *wrapped = malloc(len + 8);
    if (!wrapped) {
        cdc_errstr_set(errstr, errstr_size, "out of memory");
        return NULL;
    }
    int wlen = snprintf(wrapped, len + 8, "{\"s\":%.*s}", (int)len, json);
    bson_error_t error;
    bson_t *doc = bson_new_from_json((const uint8_t *)wrapped, wlen, &error);
    free(wrapped);
    if (!doc) {
        cdc_errstr_set(errstr, errstr_size, "invalid schema JSON: %s",
                       error.message);
        return NULL;
    }
    cdc_schema_t *schema = calloc(1, sizeof *schema);
    if (!schema) {
        bson_destroy(doc);
        cdc_errstr_set(errstr, errstr_size, "out of memory");
        return NULL;
    }
    cdc_arena_init(&schema->arena, 16 * 1024);
    schema_compiler_t c = {schema, NULL, errstr, errstr_size, 0};
    bson_iter_t it;
    if (bson_iter_init(&it, doc) && check_keys(&c, &it, true, 0) == 0 &&
        bson_iter_init_find(&it, doc, "s"))
        schema->root = compile_type(&c, &it, NULL);
    bson_destroy(doc);
    if (!schema->root || compile_rows(&c) != 0 ||
        validate_with_avro_c(json, len, errstr, errstr_size) != 0) {
        cdc_schema_destroy(schema);
        return NULL;
    }
    return schema;
}

void cdc_schema_destroy(cdc_schema_t *schema)
{
    if (!schema) return;
    cdc_arena_destroy(&schema->arena);
    free(schema);
}

int cdc_schema_field_index(const cdc_schema_node_t *record, const char *name)
{
    if (!record || record->kind != CDC_AVRO_RECORD) return -1;
    for (size_t i = 0; i < record->count; i++)
        if (strcmp(record->names[i], name) == 0) return (int)i;
    return -1;
}

const cdc_schema_node_t *cdc_schema_unwrap_optional(
    const cdc_schema_node_t *node)
{
    if (node->kind != CDC_AVRO_UNION) return node;
    const cdc_schema_node_t *only = NULL;
    for (size_t i = 0; i < node->count; i++) {
        if ((int)i == node->null_branch) continue;
        if (only) return node; /* a real union of several types */
        only = node->children[i];
    }
    return only ? only : node;
}

#include "es_mapping.h"

#include <string.h>

#include "render.h"

static const char *scalar_type(cdc_type_t t)
{
    switch (t) {
    case CDC_TYPE_BOOLEAN: return "boolean";
    case CDC_TYPE_INT16: return "short";
    case CDC_TYPE_INT32: return "integer";
    case CDC_TYPE_INT64: return "long";
    case CDC_TYPE_FLOAT32: return "float";
    /* The document keeps a decimal's exact text in _source; the index
     * holds it as a double for ranges and aggregations (the engines'
     * scaled_float is a plugin the smallest distributions lack). */
    case CDC_TYPE_FLOAT64:
    case CDC_TYPE_DECIMAL: return "double";
    case CDC_TYPE_STRING:
    case CDC_TYPE_XML: return "text";
    case CDC_TYPE_BYTES:
    case CDC_TYPE_BITS: return "binary";
    case CDC_TYPE_DATE:
    case CDC_TYPE_TIMESTAMP_MILLIS:
    case CDC_TYPE_TIMESTAMP_MICROS:
    case CDC_TYPE_TIMESTAMP_NANOS:
    case CDC_TYPE_ZONED_TIMESTAMP: return "date";
    case CDC_TYPE_TIME_MILLIS:
    case CDC_TYPE_TIME_MICROS:
    case CDC_TYPE_TIME_NANOS:
    case CDC_TYPE_ZONED_TIME:
    case CDC_TYPE_INTERVAL_MICROS:
    case CDC_TYPE_INTERVAL_STRING:
    case CDC_TYPE_UUID:
    case CDC_TYPE_ENUM: return "keyword";
    /* JSON, maps and structs are kept in _source, not indexed: their
     * shape changes from row to row and would fight any mapping. */
    case CDC_TYPE_JSON:
    case CDC_TYPE_MAP:
    case CDC_TYPE_RECORD:
    case CDC_TYPE_ARRAY: return "object";
    }
    return "object";
}

const char *cdc_es_mapping_type(const cdc_column_t *column)
{
    /* An array is a field of its element's type (every field of the
     * engines takes arrays). */
    if (column->type == CDC_TYPE_ARRAY) return scalar_type(column->element_type);
    return scalar_type(column->type);
}

void cdc_es_mapping_field(const cdc_column_t *column, cdc_buf_t *buf)
{
    const char *type = cdc_es_mapping_type(column);
    if (strcmp(type, "object") == 0) {
        cdc_buf_puts(buf, "{\"type\":\"object\",\"enabled\":false}");
    } else if (strcmp(type, "text") == 0) {
        /* As the engines' own dynamic mapping does: full text, and an
         * exact keyword for sorting and terms up to 256 characters. */
        cdc_buf_puts(buf, "{\"type\":\"text\",\"fields\":{\"keyword\":"
                          "{\"type\":\"keyword\",\"ignore_above\":256}}}");
    } else if (strcmp(type, "date") == 0) {
        cdc_buf_puts(buf, "{\"type\":\"date\",\"format\":\"strict_date_optional_time||epoch_millis\"}");
    } else {
        cdc_buf_puts(buf, "{\"type\":\"");
        cdc_buf_puts(buf, type);
        cdc_buf_puts(buf, "\"}");
    }
}

void cdc_es_mapping_properties(const cdc_row_schema_t *schema, bool with_deleted,
                               cdc_buf_t *buf)
{
    cdc_buf_puts(buf, "{\"properties\":{");
    bool first = true;
    for (size_t i = 0; schema && i < schema->ncolumns; i++) {
        if (!first) cdc_buf_putc(buf, ',');
        first = false;
        cdc_render_string(schema->columns[i].name, strlen(schema->columns[i].name), buf);
        cdc_buf_putc(buf, ':');
        cdc_es_mapping_field(&schema->columns[i], buf);
    }
    if (with_deleted) {
        if (!first) cdc_buf_putc(buf, ',');
        cdc_buf_puts(buf, "\"" CDC_ES_DELETED_FIELD "\":{\"type\":\"boolean\"}");
    }
    cdc_buf_puts(buf, "}}");
}

/* Integer widths; 0 for a type that is no integer. */
static int integer_width(const char *t)
{
    if (strcmp(t, "byte") == 0) return 1;
    if (strcmp(t, "short") == 0) return 2;
    if (strcmp(t, "integer") == 0) return 4;
    if (strcmp(t, "long") == 0 || strcmp(t, "unsigned_long") == 0) return 8;
    return 0;
}

static int float_width(const char *t)
{
    if (strcmp(t, "half_float") == 0) return 2;
    if (strcmp(t, "float") == 0) return 4;
    if (strcmp(t, "double") == 0 || strcmp(t, "scaled_float") == 0) return 8;
    return 0;
}

static bool is_string_type(const char *t)
{
    return strcmp(t, "text") == 0 || strcmp(t, "keyword") == 0 ||
           strcmp(t, "match_only_text") == 0 || strcmp(t, "wildcard") == 0 ||
           strcmp(t, "constant_keyword") == 0;
}

bool cdc_es_mapping_compatible(const char *existing, const char *wanted)
{
    if (strcmp(existing, wanted) == 0) return true;
    int have = integer_width(existing), want = integer_width(wanted);
    if (have && want) return have >= want;
    if (float_width(existing) && (want || float_width(wanted)))
        return float_width(existing) >= (want ? 4 : float_width(wanted));
    if (is_string_type(existing) && is_string_type(wanted)) return true;
    /* A user's own mapping may index what cdcsink keeps in _source. */
    if (strcmp(wanted, "object") == 0)
        return strcmp(existing, "object") == 0 || strcmp(existing, "flattened") == 0 ||
               strcmp(existing, "flat_object") == 0 || strcmp(existing, "nested") == 0;
    if (strcmp(existing, "date_nanos") == 0 && strcmp(wanted, "date") == 0) return true;
    return false;
}

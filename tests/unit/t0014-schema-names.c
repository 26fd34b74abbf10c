/* Named types in a writer schema: references by name and namespace
 * resolve, and a name defined twice is refused with one clear error.
 * Found by tests/fuzz/fuzz_schema: avro-c leaked what it had built when it
 * refused such a schema, and the decoder compiles a schema that failed
 * again for each of its records; cdcsink's own reading now refuses it
 * before avro-c sees it. */
#include "schema.h"
#include "unit.h"

static cdc_schema_t *compile(const char *json, char *err, size_t err_size)
{
    err[0] = '\0';
    return cdc_schema_compile(json, strlen(json), err, err_size);
}

static void check_defined_twice(void)
{
    char err[256];
    CHECK(compile("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":"
                  "{\"type\":\"record\",\"name\":\"R\",\"fields\":[]}}]}",
                  err, sizeof err) == NULL);
    CHECK_STR(err, "invalid schema: type 'R' is defined twice");
    /* The same name in another namespace is another type... */
    cdc_schema_t *s = compile("{\"type\":\"record\",\"name\":\"R\",\"namespace\":\"a\",\"fields\":"
                              "[{\"name\":\"x\",\"type\":{\"type\":\"record\",\"name\":\"R\","
                              "\"namespace\":\"b\",\"fields\":[]}}]}",
                              err, sizeof err);
    CHECK(s != NULL);
    cdc_schema_destroy(s);
    /* ...and an enum cannot take a record's name. */
    CHECK(compile("[{\"type\":\"record\",\"name\":\"E\",\"fields\":[]},"
                  "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"x\"]}]",
                  err, sizeof err) == NULL);
    CHECK(strstr(err, "'E' is defined twice") != NULL);
}

static void check_references(void)
{
    char err[256];
    cdc_schema_t *s = compile(
        "{\"type\":\"record\",\"name\":\"Envelope\",\"namespace\":\"cdc.t\",\"fields\":["
        "{\"name\":\"before\",\"type\":[\"null\",{\"type\":\"record\",\"name\":\"Value\","
        "\"fields\":[{\"name\":\"id\",\"type\":\"int\"}]}]},"
        "{\"name\":\"after\",\"type\":[\"null\",\"Value\"]},"
        "{\"name\":\"again\",\"type\":[\"null\",\"cdc.t.Value\"]}]}",
        err, sizeof err);
    CHECK(s != NULL);
    if (!s) return;
    CHECK(s->root->children[0]->children[1] == s->root->children[1]->children[1]);
    CHECK(s->root->children[2]->children[1] == s->root->children[1]->children[1]);
    CHECK_STR(s->root->children[1]->children[1]->name, "cdc.t.Value");
    cdc_schema_destroy(s);
    /* Still validated by avro-c after cdcsink's own reading, which does
     * not check names. */
    CHECK(compile("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"1a\","
                  "\"type\":\"int\"}]}",
                  err, sizeof err) == NULL);
    CHECK(strncmp(err, "invalid schema: ", 16) == 0);
}

/* A record that refers to itself through a nested record: the columns of
 * both are made once every field is compiled (found by fuzz_registry: the
 * nested record's columns were made while the outer record's fields were
 * not all there, and a NULL field type was read). */
static void check_recursive_through_nested(void)
{
    char err[256];
    cdc_schema_t *s = compile(
        "{\"type\":\"record\",\"name\":\"Value\",\"fields\":[{\"name\":\"s\",\"type\":"
        "{\"type\":\"record\",\"name\":\"S\",\"fields\":[{\"name\":\"back\",\"type\":"
        "[\"null\",\"Value\"]}]}},{\"name\":\"id\",\"type\":\"int\"}]}",
        err, sizeof err);
    CHECK(s != NULL);
    if (!s) return;
    const cdc_row_schema_t *row = s->root->row;
    CHECK(row != NULL && row->ncolumns == 2);
    if (!row || row->ncolumns != 2) return;
    CHECK_INT(row->columns[0].type, CDC_TYPE_RECORD);
    CHECK_INT(row->columns[1].type, CDC_TYPE_INT32);
    const cdc_row_schema_t *nested = row->columns[0].fields;
    CHECK(nested != NULL && nested->ncolumns == 1);
    if (nested && nested->ncolumns == 1) {
        CHECK(nested->columns[0].optional);
        CHECK(nested->columns[0].fields == row); /* back to Value */
    }
    cdc_schema_destroy(s);
}

/* An object holding a key twice is two schemas: libbson (the compiler)
 * reads the first "fields", jansson (avro-c) the last. Found by
 * fuzz_registry: avro-c then saw a type defined twice that the compiler
 * did not, and leaked. */
static void check_duplicate_keys(void)
{
    char err[256];
    CHECK(compile("{\"type\":\"record\",\"name\":\"p\",\"fields\":[{\"name\":\"a\",\"type\":"
                  "{\"type\":\"record\",\"name\":\"V\",\"fields\":[],\"fields\":[{\"name\":\"b\","
                  "\"type\":{\"type\":\"record\",\"name\":\"V\",\"fields\":[]}}]}}]}",
                  err, sizeof err) == NULL);
    CHECK_STR(err, "invalid schema: an object holds the key 'fields' twice");
    CHECK(compile("{\"type\":\"int\",\"connect.parameters\":{\"x\":\"1\",\"x\":\"2\"}}", err,
                  sizeof err) == NULL);
    CHECK_STR(err, "invalid schema: an object holds the key 'x' twice");
    /* The same key in two objects is fine. */
    cdc_schema_t *s = compile("[{\"type\":\"record\",\"name\":\"A\",\"fields\":[]},"
                              "{\"type\":\"record\",\"name\":\"B\",\"fields\":[]}]",
                              err, sizeof err);
    CHECK(s != NULL);
    cdc_schema_destroy(s);
}

int main(void)
{
    check_duplicate_keys();
    check_defined_twice();
    check_references();
    check_recursive_through_nested();
    return unit_finish("t0014-schema-names");
}

#include "pg_keys.h"

/* Order here is the order of the docs and of `cdcsink check`. */
const cdc_configkey_t cdc_pg_keys[] = {
    {.name = "connection.url", .type = CDC_KEY_STRING,
     .flags = CDC_KEY_REQUIRED | CDC_KEY_URL,
     .desc = "The target database: a libpq URI "
             "(`postgresql://user:password@host:5432/db?sslmode=require`) or "
             "keyword/value string (`host=db user=app`). Printed with the "
             "password masked; a keyword/value string is masked whole."},
    {.name = "table.name.format", .type = CDC_KEY_STRING,
     .def = "${source.table}",
     .desc = "Target table of a record. Placeholders: `${topic}`, "
             "`${source.db}`, `${source.schema}`, `${source.table}`."},
    {.name = "connection.pool.size", .type = CDC_KEY_INT, .def = "2", .min = 1,
     .max = 32,
     .desc = "Sessions writing in parallel: each batch is split by key over "
             "them, each part in its own transaction (safe: every write is "
             "guarded, so a part committed before another failed is stale "
             "on the retry)."},
    {.name = "table.schema", .type = CDC_KEY_STRING, .def = "public",
     .desc = "PostgreSQL schema the target tables live in (created by "
             "`auto.create` if missing)."},
    {.name = "position.column", .type = CDC_KEY_STRING, .def = "__cdc_lsn",
     .desc = "Target column holding each row's source position (bigint): "
             "the guard of every write. Added by `auto.create`; must exist "
             "otherwise."},
    {.name = "deleted.column", .type = CDC_KEY_STRING, .def = "__cdc_deleted",
     .desc = "Target column (boolean) set by `delete.mode=soft` and cleared "
             "by a newer insert. Added by `auto.create`; must exist "
             "otherwise."},
    {.name = "auto.create", .type = CDC_KEY_BOOL, .def = "false",
     .desc = "Create a missing target table from the record schema (primary "
             "key: `pk.fields`, else the record key's fields); when false a "
             "missing table is a fatal error."},
    {.name = "auto.evolve", .type = CDC_KEY_BOOL, .def = "false",
     .desc = "Add columns that appear in the record schema to the target "
             "table."},
    {.name = "auto.migrate", .type = CDC_KEY_BOOL, .def = "true",
     .desc = "Apply cdcsink's own migrations (position and tombstone tables) "
             "in the target database at start-up."},
};

/* pg_sink — the PostgreSQL sink's state, shared by its parts.
 *
 * postgres.c owns the sessions and the sink contract; pg_plan.c turns
 * events into work (target table, action, columns); pg_write.c writes the
 * work in guarded statements over the session pool. This header is internal
 * to sinks/postgres/. */
#ifndef CDC_PG_SINK_H
#define CDC_PG_SINK_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "event.h"
#include "pg_sql.h"
#include "pg_table.h"

/* A target table and, per writer schema seen, where its columns go. */
typedef struct column_map {
    const cdc_row_schema_t *row;
    int *target; /* row column i → table column, or -1 (not written) */
} column_map_t;

typedef struct pg_target {
    char *name;
    cdc_pg_table_t *table;
    bool catalog_stale; /* the table changed under us: read it again */
    column_map_t *maps;
    size_t nmaps;
} pg_target_t;

typedef struct prepared {
    char *sql;
    char name[24];
} prepared_t;

/* One session: a connection and the statements prepared on it. */
typedef struct pg_conn {
    PGconn *conn;
    prepared_t *prepared;
    size_t nprepared;
} pg_conn_t;

typedef struct pg_sink {
    char *conninfo;
    /* pool[0] also reads the catalog and runs DDL; each batch is split by
     * key over the pool and written in parallel (connection.pool.size). */
    pg_conn_t *pool;
    size_t npool;
    char *schema;
    char **pk_fields; /* NULL-terminated, or NULL */
    cdc_pg_table_options_t table_options;
    char *position_column;
    char *deleted_column;
    bool auto_create, auto_evolve;
    bool hard_deletes; /* delete.mode=hard: upserts check the ledger */
    int64_t retention_ms;
    time_t last_purge;
    pg_target_t **targets; /* each allocated alone: pointers stay valid */
    size_t ntargets;
} pg_sink_t;

/* What one record of the batch asks of the database. */
typedef struct pg_work {
    const cdc_event_t *event;
    pg_target_t *target;
    cdc_action_t action;
    const cdc_value_t *row;       /* values, parallel to `row_schema` */
    const cdc_row_schema_t *row_schema;
    int *columns;                 /* table columns written, ascending */
    size_t ncolumns;
    const int *source;            /* table column → index into row */
    const int *map;               /* row column → table column */
} pg_work_t;

/* The sink's settings with one session open on the target, for readers
 * (`cdcsink verify`): no migration, no DDL. NULL with errstr. Free with
 * cdc_pg_sink_free. */
pg_sink_t *cdc_pg_sink_connect_reader(const cdc_config_t *cfg, char *errstr,
                                      size_t errstr_size);
void cdc_pg_sink_free(pg_sink_t *s);

/* Drops the sessions that broke, keeps the others (postgres.c). */
void cdc_pg_forget_broken(pg_sink_t *s);

#endif

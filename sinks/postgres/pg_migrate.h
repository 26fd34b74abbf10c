/* pg_migrate — cdcsink's own schema in a PostgreSQL target.
 *
 * The numbered, forward-only files of migrations/ are compiled into the
 * binary. cdc_pg_migrate() applies the ones the database has not seen, in
 * one transaction under an advisory lock, so replicas starting together do
 * not race. */
#ifndef CDC_PG_MIGRATE_H
#define CDC_PG_MIGRATE_H

#include <libpq-fe.h>
#include <stddef.h>

typedef struct cdc_pg_migration {
    int version;
    const char *name;
    const char *sql;
} cdc_pg_migration_t;

/* Terminated by an entry with name NULL (generated: build/migrations.c). */
extern const cdc_pg_migration_t cdc_pg_migrations[];

/* Applies what is missing; *applied counts them. 0, or -1 with errstr
 * (*retry tells a connection problem from a permission or SQL one). */
int cdc_pg_migrate(PGconn *conn, int *applied, int *retry, char *errstr,
                   size_t errstr_size);

#endif

-- cdcsink's own tables in a PostgreSQL target. Forward-only: never edit a
-- migration that has shipped; add the next number.
--
-- The tombstone ledger: a hard delete records (table, key, position) here,
-- so that an older insert or update arriving later (a replay, a restart from
-- old offsets) cannot bring the row back. Entries older than
-- delete.retention.ms are purged by the running pipeline.
CREATE TABLE IF NOT EXISTS cdcsink.tombstones (
    target_table text        NOT NULL,  -- "schema"."table", quoted
    key          text[]      NOT NULL,  -- primary-key values as text
    position     bigint      NOT NULL,  -- source position of the delete
    deleted_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (target_table, key)
);
CREATE INDEX IF NOT EXISTS tombstones_deleted_at
    ON cdcsink.tombstones (deleted_at);

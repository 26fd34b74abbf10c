#!/usr/bin/env bash
# PostgreSQL sink, a target loaded before cdcsink (a common migration: the
# replica was filled with COPY or pg_dump, then the stream is switched on):
# its position column holds NULLs. Every change of such a row applies
# (updates, soft and hard deletes), instead of being counted stale against
# a position that is not there; the deletes say they were applied.
. "$(dirname "$0")/lib.sh"

table="it_nullpos_$uid"
topic="it.public.$table"
ensure_it_connector
# Loaded under a name the connector does not capture, then renamed: the
# stream starts after the load, as when Debezium is switched on later.
psql_source <<SQL
CREATE TABLE pre_$table (id int PRIMARY KEY, v text);
INSERT INTO pre_$table SELECT g, 'loaded' FROM generate_series(1, 30) g;
ALTER TABLE pre_$table RENAME TO $table;
SQL

say "the replica, loaded by hand: the same rows, no positions"
for schema in "$pg_schema" "${pg_schema}_soft"; do
    psql_target <<SQL
CREATE SCHEMA $schema;
CREATE TABLE $schema.$table (id int PRIMARY KEY, v text, __cdc_lsn bigint, __cdc_deleted boolean);
INSERT INTO $schema.$table (id, v) SELECT g, 'loaded' FROM generate_series(1, 30) g;
SQL
done

say "the stream: updates and deletes of loaded rows, and new rows"
psql_source <<SQL
UPDATE $table SET v = 'updated' WHERE id % 3 = 0;
DELETE FROM $table WHERE id % 5 = 0;
INSERT INTO $table VALUES (31, 'new');
SQL
pg_pipeline_file "$work/hard.properties" "topics=$topic" "name=$test_name-hard-$uid"
pg_pipeline_file "$work/soft.properties" "topics=$topic" "name=$test_name-soft-$uid" \
    "delete.mode=soft" "table.schema=${pg_schema}_soft"
start_cdcsink "$work/hard.properties" "$work/hard.log"; hard=$cdcsink_pid
start_cdcsink "$work/soft.properties" "$work/soft.log"; soft=$cdcsink_pid
wait_records 60 "$topic" 20 # 10 updates, 6 deletes, their tombstones, 1 insert
wait_for 60 "hard caught up" caught_up "$work/hard.properties"
wait_for 60 "soft caught up" caught_up "$work/soft.properties"
kill -TERM "$hard" "$soft"; wait "$hard" "$soft" || true

same_rows "SELECT id, v FROM $table ORDER BY id" "SELECT id, v FROM $pg_schema.$table ORDER BY id" ||
    fail "hard: the replica differs from the source: $(psql_target -c "SELECT id, v FROM $pg_schema.$table WHERE id % 3 = 0 OR id % 5 = 0 ORDER BY id" | tr '\n' ' ')"
same_rows "SELECT id, v FROM $table ORDER BY id" \
    "SELECT id, v FROM ${pg_schema}_soft.$table WHERE __cdc_deleted IS NOT TRUE ORDER BY id" ||
    fail "soft: the rows not deleted differ from the source"
[ "$(psql_target -c "SELECT count(*) FROM ${pg_schema}_soft.$table WHERE __cdc_deleted AND id % 5 = 0")" -eq 6 ] ||
    fail "soft: the 6 deleted rows are not flagged"
# Of 10 updates, 6 deletes and 1 insert, the only stale ones are the
# updates of rows 15 and 30 when their delete came in the same batch.
applied=$(stat applied "$work/hard.log") stale=$(stat stale "$work/hard.log")
[ $((applied + stale)) -eq 17 ] && [ "$stale" -le 2 ] ||
    fail "hard: applied=$applied stale=$stale, want 17 changes applied (2 may be superseded in a batch)"
[ "$(psql_target -c "SELECT count(*) FROM $pg_schema.$table WHERE __cdc_lsn IS NULL")" -eq 16 ] ||
    fail "the rows no change touched should keep their NULL position"
say "ok: a replica loaded without positions converges"

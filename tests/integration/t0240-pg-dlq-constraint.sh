#!/usr/bin/env bash
# PostgreSQL sink, a value the target rejects (a CHECK constraint the source
# does not have) goes to the DLQ alone, with its SQLSTATE; the rest of its
# batch lands. 200 rows in one batch: it is split over the sessions of the
# pool, and each part isolates its own offender.
. "$(dirname "$0")/lib.sh"

table="it_check_$uid"
topic="it.public.$table"
psql_source -c "CREATE TABLE $table (id int PRIMARY KEY, v int)"
psql_target <<SQL
CREATE SCHEMA "$pg_schema";
CREATE TABLE "$pg_schema"."$table" (id int PRIMARY KEY, v int CHECK (v >= 0),
    __cdc_lsn bigint NOT NULL, __cdc_deleted boolean NOT NULL DEFAULT false);
SQL
ensure_it_connector
psql_source -c "INSERT INTO $table SELECT g, CASE WHEN g IN (5, 150) THEN -g ELSE g END FROM generate_series(1, 200) g"
wait_records 60 "$topic" 200

pg_pipeline_file "$work/p.properties" "topics=$topic" "batch.size=500" "batch.max.wait.ms=2000"
start_cdcsink "$work/p.properties" "$work/cdcsink.log"
wait_for 60 "caught up" caught_up "$work/p.properties"

rows=$(psql_target -c "SELECT count(*), sum(id) FROM \"$pg_schema\".\"$table\"")
[ "$rows" = "198|$((200 * 201 / 2 - 5 - 150))" ] || fail "target has count|sum $rows"
dlq="cdcsink.dlq.$test_name-$uid"
record=$(consume_all "$dlq" '%h\n')
echo "$record"
[ "$(echo "$record" | grep -c .)" -eq 2 ] || fail "want exactly two DLQ records"
for h in "__connect.errors.exception.class.name=SQLSTATE 23514" "cdcsink.error.class=data" \
         "cdcsink.sink=postgres" "__connect.errors.topic=$topic"; do
    [[ "$record" == *"$h"* ]] || fail "DLQ header missing: $h"
done
[[ "$record" == *"check constraint"* ]] || fail "the message does not name the constraint"
echo ok

#!/usr/bin/env bash
# PostgreSQL sink, a value the target rejects (a CHECK constraint the source
# does not have) goes to the DLQ alone, with its SQLSTATE; the rest of its
# batch lands.
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
psql_source -c "INSERT INTO $table SELECT g, CASE WHEN g = 5 THEN -5 ELSE g END FROM generate_series(1, 10) g"
wait_for 60 "10 records in the topic" bash -c \
    "[ \$('$KCAT' -b '$KAFKA_BOOTSTRAP_SERVERS' -C -t '$topic' -o beginning -e -q -f '.\n' | wc -l) -ge 10 ]"

pg_pipeline_file "$work/p.properties" "topics=$topic" "batch.size=500" "batch.max.wait.ms=2000"
start_cdcsink "$work/p.properties" "$work/cdcsink.log"
wait_for 60 "caught up" caught_up "$work/p.properties"

rows=$(psql_target -c "SELECT string_agg(id::text, ',' ORDER BY id) FROM \"$pg_schema\".\"$table\"")
[ "$rows" = "1,2,3,4,6,7,8,9,10" ] || fail "target has $rows"
dlq="cdcsink.dlq.$test_name-$uid"
record=$(consume_all "$dlq" '%h\n')
echo "$record"
[ "$(echo "$record" | grep -c .)" -eq 1 ] || fail "want exactly one DLQ record"
for h in "__connect.errors.exception.class.name=SQLSTATE 23514" "cdcsink.error.class=data" \
         "cdcsink.sink=postgres" "__connect.errors.topic=$topic"; do
    [[ "$record" == *"$h"* ]] || fail "DLQ header missing: $h"
done
[[ "$record" == *"check constraint"* ]] || fail "the message does not name the constraint"
echo ok

#!/usr/bin/env bash
# PostgreSQL sink, one batch: update → delete → insert → update of one key
# arriving together collapse by position to the last update: the row is
# present with the last values, and only that change is applied.
. "$(dirname "$0")/lib.sh"

table="it_collapse_$uid"
topic="it.public.$table"
psql_source -c "CREATE TABLE $table (id int PRIMARY KEY, v text)"
ensure_it_connector
psql_source -c "INSERT INTO $table VALUES (1, 'a')"
wait_records 60 "$topic" 1
pg_pipeline_file "$work/p.properties" "topics=$topic" "auto.create=true"
start_cdcsink "$work/p.properties" "$work/cdcsink.log"
wait_for 60 "the insert applied" caught_up "$work/p.properties"
kill -TERM "$cdcsink_pid"; wait "$cdcsink_pid"

say "four changes of key 1 while the pipeline is stopped"
psql_source <<SQL
UPDATE $table SET v = 'b' WHERE id = 1;
DELETE FROM $table WHERE id = 1;
INSERT INTO $table VALUES (1, 'c');
UPDATE $table SET v = 'd' WHERE id = 1;
SQL
# 5 changes + the delete's tombstone, all in the partition of key 1.
wait_for 60 "6 records in the topic" bash -c \
    "[ \$('$KCAT' -b '$KAFKA_BOOTSTRAP_SERVERS' -C -t '$topic' -o beginning -e -q -f '.\n' | wc -l) -ge 6 ]"
pg_pipeline_file "$work/p.properties" "topics=$topic" "batch.size=500" "batch.max.wait.ms=3000"
start_cdcsink "$work/p.properties" "$work/cdcsink.log"
wait_for 60 "caught up" caught_up "$work/p.properties"
kill -TERM "$cdcsink_pid"; wait "$cdcsink_pid"

row=$(psql_target -c "SELECT id, v, __cdc_deleted FROM \"$pg_schema\".\"$table\"")
[ "$row" = "1|d|f" ] || fail "row is '$row', want 1|d|f"
say "applied=$(stat applied "$work/cdcsink.log") stale=$(stat stale "$work/cdcsink.log") skipped=$(stat skipped "$work/cdcsink.log" || true)"
[ "$(stat applied "$work/cdcsink.log")" -eq 1 ] || fail "want exactly one applied change (one batch)"
[ "$(stat stale "$work/cdcsink.log")" -eq 3 ] || fail "want the 3 earlier changes stale"
echo ok

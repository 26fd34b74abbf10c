#!/usr/bin/env bash
# PostgreSQL sink, a source table without a primary key (Debezium's record
# key is null) in a pipeline over several tables:
# - without pk.fields, each of its records goes to the DLQ alone, class
#   schema, naming the table and what to do; the keyed table next to it in
#   the same pipeline converges and the pipeline keeps running;
# - with pk.fields, its records are applied by those columns of the row:
#   changes of the same row in one batch collapse by those values, deletes
#   find the row through the before image (REPLICA IDENTITY FULL), and a
#   replay of the DLQ from the first pipeline then applies nothing twice.
. "$(dirname "$0")/lib.sh"

keyed="it_nk_keyed_$uid"
log="it_nk_log_$uid"
psql_source <<SQL
CREATE TABLE $keyed (id int PRIMARY KEY, v text);
CREATE TABLE $log (id int NOT NULL, v text, n numeric(8,2));
-- Without a key, UPDATE and DELETE need the whole old row in the WAL.
ALTER TABLE $log REPLICA IDENTITY FULL;
SQL
ensure_it_connector

say "inserts, updates (two of the same row in one transaction) and deletes in both tables"
psql_source <<SQL
INSERT INTO $keyed SELECT g, 'k' || g FROM generate_series(1, 100) g;
INSERT INTO $log SELECT g, 'l' || g, g / 4.0 FROM generate_series(1, 100) g;
BEGIN;
UPDATE $log SET v = 'first ' || id WHERE id % 5 = 0;
UPDATE $log SET v = 'second ' || id, n = NULL WHERE id % 5 = 0;
COMMIT;
DELETE FROM $log WHERE id % 7 = 0;
UPDATE $keyed SET v = 'u' || id WHERE id % 3 = 0;
DELETE FROM $keyed WHERE id % 4 = 0;
SQL
log_records=$((100 + 20 + 20 + 14))
wait_records 60 "it.public.$log" "$log_records"

say "without pk.fields: the keyless table's records are parked, the keyed table converges"
pg_pipeline_file "$work/all.properties" "topics.regex=it\\.public\\.it_nk_.*_$uid" \
    "auto.create=true" "batch.size=500" "batch.max.wait.ms=1000"
start_cdcsink "$work/all.properties" "$work/all.log"
all_pid=$cdcsink_pid
q="SELECT id, v FROM %s ORDER BY id"
wait_for 90 "keyed table equal to source" same_rows "$(printf "$q" "$keyed")" \
    "$(printf "$q" "\"$pg_schema\".\"$keyed\"")"
dlq="cdcsink.dlq.$test_name-$uid"
wait_for 60 "$log_records DLQ records" bash -c "[ \$('$KCAT' -b '$KAFKA_BOOTSTRAP_SERVERS' -C -t '$dlq' -o beginning -e -q -f '.\n' 2>/dev/null | wc -l) -ge $log_records ]"
headers=$(consume_all "$dlq" '%h\n')
[ "$(echo "$headers" | grep -c .)" -eq "$log_records" ] ||
    fail "want $log_records DLQ records, got $(echo "$headers" | grep -c .)"
[ "$(echo "$headers" | grep -c "__connect.errors.topic=it.public.$log,")" -eq "$log_records" ] ||
    fail "a DLQ record came from another topic than the keyless table's"
for h in "cdcsink.error.class=schema" "__connect.errors.exception.class.name=cdcsink.NoKey" \
         "source table public.$log has no primary key" "message.key.columns" "pk.fields"; do
    [ "$(echo "$headers" | grep -cF "$h")" -eq "$log_records" ] || fail "not every DLQ record says: $h"
done
psql_target -c "SELECT to_regclass('\"$pg_schema\".\"$log\"') IS NULL" | grep -qx t ||
    fail "a table was created for the keyless records"
kill -0 "$all_pid" || fail "the pipeline stopped"
psql_source -c "INSERT INTO $keyed VALUES (1000, 'after the parked records')"
wait_for 60 "keyed table still followed" same_rows "$(printf "$q" "$keyed")" \
    "$(printf "$q" "\"$pg_schema\".\"$keyed\"")"

say "with pk.fields=id: applied by the row's id, same-row changes collapsed"
pg_pipeline_file "$work/log.properties" "name=$test_name-log-$uid" "topics=it.public.$log" \
    "table.schema=${pg_schema}_pk" "pk.fields=id" "auto.create=true" \
    "batch.size=500" "batch.max.wait.ms=1000"
start_cdcsink "$work/log.properties" "$work/log.log"
q="SELECT id, v, n FROM %s ORDER BY id"
wait_for 90 "keyless table equal to source" same_rows "$(printf "$q" "$log")" \
    "$(printf "$q" "\"${pg_schema}_pk\".\"$log\"")"
[ "$(psql_target -c "SELECT count(*) FROM \"${pg_schema}_pk\".\"$log\"")" -eq 86 ] ||
    fail "want 86 rows"
[ "$(psql_target -c "SELECT v FROM \"${pg_schema}_pk\".\"$log\" WHERE id = 10")" = "second 10" ] ||
    fail "the later of two updates in one batch did not win"
kill -TERM "$cdcsink_pid"
wait "$cdcsink_pid" || fail "pk.fields pipeline exited non-zero"
[ "$(stat dlq "$work/log.log")" -eq 0 ] || fail "the pk.fields pipeline parked records"

say "the parked records replayed with pk.fields into the same target: nothing regresses"
echo "pk.fields = id" >>"$work/all.properties"
sed -i "s/^table.schema = .*/table.schema = ${pg_schema}_pk/" "$work/all.properties"
kill -TERM "$all_pid"
wait "$all_pid" || true
dlq_replay "$work/all.properties" "$work/replay.out"
[ "$replay_rc" -eq 0 ] || fail "dlq replay exited $replay_rc"
[ "$(replay_stat failed_again "$work/replay.out")" -eq 0 ] || fail "records failed again"
[ "$(replay_stat applied "$work/replay.out")" -eq 0 ] && [ "$(replay_stat stale "$work/replay.out")" -eq "$log_records" ] ||
    fail "want applied=0 stale=$log_records"
same_rows "$(printf "$q" "$log")" "$(printf "$q" "\"${pg_schema}_pk\".\"$log\"")" ||
    fail "the replay changed the target"
echo ok

#!/usr/bin/env bash
# PostgreSQL sink, primary-key changes at the source (UPDATE ... SET id =
# ...): Debezium sends a delete (and a tombstone) for the old key and a
# create for the new one, with the same LSN. The target ends with only the
# new rows; a key moved away and back ends present; and a second consumer
# group replaying the topic from the beginning into the same target applies
# nothing (every change is stale or skipped) and changes nothing.
. "$(dirname "$0")/lib.sh"

table="it_pkc_$uid"
topic="it.public.$table"
psql_source <<SQL
CREATE TABLE $table (id int PRIMARY KEY, v text);
CREATE TABLE ${table}_pair (a int, b text, v int, PRIMARY KEY (a, b));
SQL
ensure_it_connector
psql_source <<SQL
INSERT INTO $table SELECT g, 'v' || g FROM generate_series(1, 200) g;
INSERT INTO ${table}_pair SELECT g, 'b' || g, g FROM generate_series(1, 50) g;
SQL

pg_pipeline_file "$work/p.properties" "topics.regex=it\\.public\\.${table}(_pair)?" \
    "auto.create=true" "batch.size=200"
start_cdcsink "$work/p.properties" "$work/cdcsink.log"
q="SELECT id, v FROM %s ORDER BY id"
wait_for 90 "inserts applied" same_rows "$(printf "$q" "$table")" "$(printf "$q" "\"$pg_schema\".\"$table\"")"

say "key changes: even ids move by 1000, id 1 moves away and back, a composite key's part changes"
psql_source <<SQL
UPDATE $table SET id = id + 1000 WHERE id % 2 = 0;
UPDATE $table SET v = 'moved ' || id WHERE id > 1000 AND id % 3 = 0;
UPDATE $table SET id = 5001 WHERE id = 1;
UPDATE $table SET id = 1, v = 'back' WHERE id = 5001;
BEGIN;
UPDATE $table SET id = 7001 WHERE id = 3;
UPDATE $table SET v = 'moved in one transaction' WHERE id = 7001;
COMMIT;
UPDATE ${table}_pair SET b = 'c' || a WHERE a % 5 = 0;
SQL
wait_for 90 "key changes applied" same_rows "$(printf "$q" "$table")" "$(printf "$q" "\"$pg_schema\".\"$table\"")"
qp="SELECT a, b, v FROM %s ORDER BY a, b"
wait_for 60 "composite key changes applied" same_rows "$(printf "$qp" "${table}_pair")" \
    "$(printf "$qp" "\"$pg_schema\".\"${table}_pair\"")"
[ "$(psql_target -c "SELECT count(*) FROM \"$pg_schema\".\"$table\"")" -eq 200 ] || fail "want 200 rows"
[ "$(psql_target -c "SELECT count(*) FROM \"$pg_schema\".\"$table\" WHERE id % 2 = 0 AND id < 1000")" -eq 0 ] ||
    fail "an old key survived its move"
[ "$(psql_target -c "SELECT v FROM \"$pg_schema\".\"$table\" WHERE id = 1")" = "back" ] ||
    fail "the key moved away and back is not present with its last value"
kill -TERM "$cdcsink_pid"
wait "$cdcsink_pid"
[ "$(stat dlq "$work/cdcsink.log")" -eq 0 ] || fail "records went to the DLQ"

say "a new consumer group from the beginning, into the same target"
psql_target -c "SELECT id, v, __cdc_lsn FROM \"$pg_schema\".\"$table\" ORDER BY id" >"$work/before.txt"
pg_pipeline_file "$work/replay.properties" "topics.regex=it\\.public\\.${table}(_pair)?" \
    "group.id=$test_name-replay-$uid" "auto.create=true" "batch.size=200"
start_cdcsink "$work/replay.properties" "$work/replay.log"
wait_for 90 "replay caught up" caught_up "$work/replay.properties"
kill -TERM "$cdcsink_pid"
wait "$cdcsink_pid"
echo "replay: applied=$(stat applied "$work/replay.log") stale=$(stat stale "$work/replay.log")"
[ "$(stat applied "$work/replay.log")" -eq 0 ] || fail "the replay applied changes"
[ "$(stat stale "$work/replay.log")" -gt 300 ] || fail "the replay did not see the changes as stale"
psql_target -c "SELECT id, v, __cdc_lsn FROM \"$pg_schema\".\"$table\" ORDER BY id" >"$work/after.txt"
diff "$work/before.txt" "$work/after.txt" || fail "the replay changed the target"
same_rows "$(printf "$qp" "${table}_pair")" "$(printf "$qp" "\"$pg_schema\".\"${table}_pair\"")" ||
    fail "the replay changed the composite-key table"
echo ok

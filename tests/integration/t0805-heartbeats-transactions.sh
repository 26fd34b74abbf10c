#!/usr/bin/env bash
# What else a real Debezium publishes, on topics a topics.regex matches:
# with heartbeat.interval.ms and provide.transaction.metadata set, a
# connector writes heartbeats to __debezium-heartbeat.<prefix>, BEGIN/END
# records to <prefix>.transaction, and pg_logical_emit_message() calls to
# <prefix>.message (op=m). A pipeline whose topics.regex matches all of
# them skips them (counted as skipped), keeps an empty DLQ and applies the
# row changes; the change events' transaction block changes nothing.
. "$(dirname "$0")/lib.sh"

table="hb_$uid"
prefix="hb$uid"
connector="hb-$uid"
psql_source -c "CREATE TABLE $table (id int PRIMARY KEY, v text)"
"$root/tests/stack/stack" connector add "$connector" "public.$table" topic.prefix="$prefix" \
    snapshot.mode=no_data heartbeat.interval.ms=500 provide.transaction.metadata=true \
    skipped.operations=none >&2
trap '"$root/tests/stack/stack" connector remove "$connector" >/dev/null 2>&1 || true; cleanup' EXIT

say "changes in transactions, a logical decoding message, heartbeats"
psql_source <<SQL
INSERT INTO $table SELECT g, 'v' || g FROM generate_series(1, 50) g;
BEGIN; UPDATE $table SET v = 'u' || id WHERE id % 2 = 0; DELETE FROM $table WHERE id % 5 = 0; COMMIT;
SELECT 1 FROM pg_logical_emit_message(true, 'cdcsink-test', 'a transactional message');
SELECT 1 FROM pg_logical_emit_message(false, 'cdcsink-test', 'a message outside transactions');
INSERT INTO $table VALUES (100, 'last');
SQL
heartbeats="__debezium-heartbeat.$prefix"
wait_records 60 "$heartbeats" 3
wait_records 60 "$prefix.transaction" 6
wait_records 60 "$prefix.message" 2

regex="^(__debezium-heartbeat\\.$prefix|$prefix\\..*)\$"
pg_pipeline_file "$work/pg.properties" "topics.regex=$regex" "name=$test_name-pg-$uid" auto.create=true
pipeline_file "$work/log.properties" "topics.regex=$regex" "name=$test_name-log-$uid" "jsonl.path=$work/log.jsonl"
start_cdcsink "$work/pg.properties" "$work/pg.log"; pg_pid=$cdcsink_pid
start_cdcsink "$work/log.properties" "$work/log.log"; log_pid=$cdcsink_pid
wait_for 90 "postgres holds the source's rows" same_rows \
    "SELECT id, v FROM $table ORDER BY id" "SELECT id, v FROM $pg_schema.$table ORDER BY id"
wait_for 60 "the heartbeats go on being consumed" bash -c \
    "[ \$('$CDCSINK' lag -c '$work/pg.properties' --json | jq '[.partitions[] | select(.topic == \"$heartbeats\")] | length') -ge 1 ]"
for p in pg log; do wait_for 60 "$p caught up" caught_up "$work/$p.properties"; done

say "TRUNCATE (skipped.operations=none): skipped, said once per table"
rows=$(psql_target -c "SELECT count(*) FROM $pg_schema.$table")
psql_source -c "TRUNCATE $table"
psql_source -c "INSERT INTO $table VALUES (200, 'z')"
psql_source -c "TRUNCATE $table"
truncates() { [ "$(jq -c 'select(.op == "t")' "$work/log.jsonl" | wc -l)" -ge 2 ]; }
wait_for 60 "the two TRUNCATE records" truncates
for p in pg log; do wait_for 60 "$p caught up" caught_up "$work/$p.properties"; done
[ "$(psql_target -c "SELECT count(*) FROM $pg_schema.$table")" -eq $((rows + 1)) ] ||
    fail "the replica lost rows to a TRUNCATE it should have skipped"
[ "$(grep -c "TRUNCATE of public.$table" "$work/pg.log")" -eq 1 ] ||
    fail "want one line about the skipped TRUNCATEs: $(grep -c "TRUNCATE of" "$work/pg.log")"
kill -TERM "$pg_pid" "$log_pid"; wait "$pg_pid" "$log_pid" || true

for p in pg log; do
    [ "$(stat dlq "$work/$p.log")" -eq 0 ] || fail "$p: $(stat dlq "$work/$p.log") records went to the DLQ"
    # 2 messages + 6 transaction records (3 BEGIN/END pairs) + the heartbeats
    [ "$(stat skipped "$work/$p.log")" -ge 13 ] || fail "$p: skipped $(stat skipped "$work/$p.log"), want the heartbeats, transaction records, messages and truncates"
done
dlq_topic="cdcsink.dlq.$test_name-pg-$uid"
[ "$(records "$dlq_topic")" -eq 0 ] || fail "the DLQ topic holds records"
say "the jsonl sink writes the row changes (and TRUNCATEs) only"
ops=$(jq -r .op "$work/log.jsonl" | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')
[ "$ops" = "c=52 d=10 t=2 tombstone=10 u=25 " ] || fail "jsonl wrote $ops"
! jq -r .topic "$work/log.jsonl" | grep -qv "^$prefix.public.$table\$" || fail "jsonl wrote records of other topics"
say "ok: heartbeats, transaction records and messages skipped, no DLQ"

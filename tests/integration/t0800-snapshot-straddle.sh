#!/usr/bin/env bash
# The snapshot seam, through the real Debezium: a transaction that was in
# flight when the connector's initial snapshot was taken, and committed
# after the snapshot rows reached Kafka, lands in every sink.
#
# Debezium's snapshot rows carry the slot's consistent LSN S; the straddling
# transaction (not in the snapshot, streamed afterwards) wrote its changes
# below S. Ordered by source.lsn alone its update and delete look older
# than the snapshot rows and were dropped as stale. The sessions below
# drive PostgreSQL's snapshot builder the way the source database does
# under load:
#   A holds an xid while the connector creates its slot (the builder waits);
#   B starts and updates row 1; A commits;
#   C starts: updates row 2, deletes row 3, inserts row 100;
#   B commits: the slot becomes consistent, the snapshot is taken (row 1
#   = 't1' is in it, C's changes are not);
#   C commits once the 20 snapshot rows are in Kafka.
# The sinks apply the snapshot rows and are stopped before C commits; once
# started again (the partition's snapshot LSN comes back with the committed
# offset's metadata) postgres, redis and elasticsearch hold row 1 't1',
# row 2 't2', no row 3, row 100. A snapshot row delivered again is stale,
# a new consumer group from the beginning over the converged sinks changes
# nothing, C's update rejected into the DLQ applies when replayed, and the
# snapshot row of row 2 rejected into the DLQ is stale when replayed.
. "$(dirname "$0")/lib.sh"

table="seam_$uid"
prefix="seam$uid"
connector="seam-$uid"
topic="$prefix.public.$table"

psql_source <<SQL
CREATE TABLE $table (id int PRIMARY KEY, v text);
ALTER TABLE $table REPLICA IDENTITY FULL;
INSERT INTO $table SELECT g, 'init' FROM generate_series(1, 20) g;
SQL

cleanup_seam() {
    sql_sessions_close
    "$root/tests/stack/stack" connector remove "$connector" >/dev/null 2>&1 || true
    cleanup
}
trap cleanup_seam EXIT

say "A holds an xid; the connector's slot waits for it"
sql_session a; sql_session b; sql_session c
sql_run a "BEGIN; SELECT pg_current_xact_id();"
"$root/tests/stack/stack" connector add "$connector" "public.$table" topic.prefix="$prefix" \
    snapshot.mode=initial >"$work/connector.log" 2>&1 &
connector_pid=$!
pids+=($connector_pid)
slot_waits() {
    [ "$(psql_source -c "SELECT count(*) FROM pg_stat_activity
                          WHERE query LIKE 'CREATE_REPLICATION_SLOT%$table%' AND state = 'active'")" -ge 1 ]
}
wait_for 90 "the connector creating its slot" slot_waits

say "B updates row 1, A commits, C changes rows 2, 3 and 100, B commits"
sql_run b "BEGIN; UPDATE $table SET v = 't1' WHERE id = 1;"
sql_run a "COMMIT;"
sleep 1
sql_run c "BEGIN; UPDATE $table SET v = 't2' WHERE id = 2; DELETE FROM $table WHERE id = 3; INSERT INTO $table VALUES (100, 't100');"
sql_run b "COMMIT;"
wait "$connector_pid" || { cat "$work/connector.log"; fail "the connector did not start"; }

say "the 20 snapshot rows reach Kafka while C is still open"
wait_records 120 "$topic" 20
[ "$(records "$topic")" -eq 20 ] || fail "want exactly the 20 snapshot rows before C commits, got $(records "$topic")"

say "the sinks apply the snapshot, then stop (a restart between the snapshot and C)"
three_sink_pipelines "topics=$topic"
three_sinks_start -snapshot
three_sinks_stop

sql_run c "COMMIT;"
wait_records 60 "$topic" 23

say "what Debezium sent: C's changes were written below the snapshot's LSN"
pipeline_file "$work/log.properties" "topics=$topic" "name=$test_name-log-$uid" "jsonl.path=$work/log.jsonl"
start_cdcsink "$work/log.properties" "$work/log.log"
wait_for 60 "the log has every change" at_least 23 "$work/log.jsonl"
kill -TERM "$cdcsink_pid"; wait "$cdcsink_pid" || true
snap_lsn=$(jq -r 'select(.op == "r") | (.source.lsn // .position)' "$work/log.jsonl" | sort -n | tail -n 1)
c_lsn=$(jq -r 'select(.op != "r") | (.source.lsn // .position)' "$work/log.jsonl" | sort -n | tail -n 1)
say "snapshot rows at LSN $snap_lsn, C's changes up to $c_lsn"
[ "$c_lsn" -lt "$snap_lsn" ] ||
    fail "the scenario did not straddle: C wrote at $c_lsn, after the snapshot's $snap_lsn"

expected=$(source_rows "$table")
case "$expected" in
"1=t1 2=t2 4=init"*"20=init 100=t100 ") ;;
*) fail "the source is not what the sessions made: $expected" ;;
esac

say "the sinks start again: C's changes, ordered by the snapshot LSN their offsets' metadata kept"
three_sinks_start
for s in pg rd es; do wait_for 90 "$s caught up" caught_up "$work/$s.properties"; done
check_sinks() { three_sinks_hold "$table" "$expected" "$1"; }
check_sinks "after the stream"

say "the snapshot row of row 2 delivered again is stale"
snap2=$(jq -c 'select(.op == "r" and .after.id == 2) | [.partition, .offset]' "$work/log.jsonl")
[ -n "$snap2" ] || fail "no snapshot row of row 2 in the log"
"$REPRODUCE" "$KAFKA_BOOTSTRAP_SERVERS" "$topic" "$(jq '.[0]' <<<"$snap2")" "$(jq '.[1]' <<<"$snap2")"
for s in pg rd es; do wait_for 60 "$s caught up again" caught_up "$work/$s.properties"; done
check_sinks "after a snapshot row came again"
three_sinks_stop

say "a new consumer group from the beginning changes nothing"
three_sinks_new_group
three_sinks_start -again
three_sinks_stop
check_sinks "after a new group replayed the topic"
for s in pg rd es; do
    [ "$(stat stale "$work/$s-again.log")" -ge 20 ] ||
        fail "$s (new group): $(stat stale "$work/$s-again.log") stale, want the 20 snapshot rows and more"
done
say "C's update parked in the DLQ keeps its order: a replay after the fix applies it"
dlq_schema="${pg_schema}_dlq"
psql_target <<SQL
CREATE SCHEMA $dlq_schema;
CREATE TABLE $dlq_schema.$table (id int PRIMARY KEY, v text CONSTRAINT no_t2 CHECK (v <> 't2'), __cdc_lsn bigint);
SQL
pg_pipeline_file "$work/dlq.properties" "topics=$topic" "name=$test_name-dlq-$uid" "table.schema=$dlq_schema"
start_cdcsink "$work/dlq.properties" "$work/dlq.log"; dlq_pid=$cdcsink_pid
wait_for 90 "the DLQ pipeline caught up" caught_up "$work/dlq.properties"
kill -TERM "$dlq_pid"; wait "$dlq_pid" || true
[ "$(stat dlq "$work/dlq.log")" -eq 1 ] || fail "want C's update of row 2 in the DLQ, got $(stat dlq "$work/dlq.log") records"
"$CDCSINK" dlq inspect -c "$work/dlq.properties" >"$work/inspect.json"
header=$(jq -r '.headers["cdcsink.snapshot.lsn"]' "$work/inspect.json")
[ "$header" = "$snap_lsn" ] || fail "the DLQ record says cdcsink.snapshot.lsn=$header, want the snapshot's $snap_lsn"
psql_target -c "ALTER TABLE $dlq_schema.$table DROP CONSTRAINT no_t2"
dlq_replay "$work/dlq.properties" "$work/replay.out"
[ "$replay_rc" -eq 0 ] && [ "$(replay_stat applied "$work/replay.out")" -eq 1 ] ||
    fail "the replay did not apply C's update: $(cat "$work/replay.out")"
got=$(psql_target -c "SELECT id || '=' || v FROM $dlq_schema.$table ORDER BY id" | tr '\n' ' ')
[ "$got" = "$expected" ] || fail "after the replay: $got, want $expected"

say "the snapshot row of row 2 parked in the DLQ is stale when replayed after C"
old_schema="${pg_schema}_old"
psql_target <<SQL
CREATE SCHEMA $old_schema;
CREATE TABLE $old_schema.$table (id int PRIMARY KEY, v text CONSTRAINT no_init2 CHECK (NOT (id = 2 AND v = 'init')), __cdc_lsn bigint);
SQL
pg_pipeline_file "$work/old.properties" "topics=$topic" "name=$test_name-old-$uid" "table.schema=$old_schema" \
    batch.size=1 # no collapse: the snapshot row meets the table alone
start_cdcsink "$work/old.properties" "$work/old.log"; old_pid=$cdcsink_pid
wait_for 90 "the pipeline caught up" caught_up "$work/old.properties"
kill -TERM "$old_pid"; wait "$old_pid" || true
# Twice: the snapshot row, and its copy produced again above.
[ "$(stat dlq "$work/old.log")" -eq 2 ] || fail "want the snapshot row of row 2 in the DLQ twice, got $(stat dlq "$work/old.log") records"
psql_target -c "ALTER TABLE $old_schema.$table DROP CONSTRAINT no_init2"
dlq_replay "$work/old.properties" "$work/replay-old.out"
[ "$replay_rc" -eq 0 ] && [ "$(replay_stat stale "$work/replay-old.out")" -eq 2 ] ||
    fail "the replayed snapshot row was not stale: $(cat "$work/replay-old.out")"
got=$(psql_target -c "SELECT id || '=' || v FROM $old_schema.$table ORDER BY id" | tr '\n' ' ')
[ "$got" = "$expected" ] || fail "after replaying the older snapshot row: $got, want $expected"

say "ok: the straddling transaction landed in every sink"

#!/usr/bin/env bash
# The snapshot seam, again: a connector with snapshot.mode=always takes a
# new snapshot each time it starts, and streams from that snapshot's LSN.
# The topic then holds the first snapshot, its stream, the second snapshot
# and its stream. A transaction X in flight while the connector restarts
# (not in the second snapshot, committed after it, its changes written
# below it) must land in every sink, and so must everything after it; the
# rows the first stream changed must not go back to what the second
# snapshot replaced. A new consumer group from the beginning, which meets
# the first snapshot, its stream and the second snapshot in that order,
# must change nothing.
. "$(dirname "$0")/lib.sh"

table="resnap_$uid"
prefix="resnap$uid"
connector="resnap-$uid"
topic="$prefix.public.$table"
psql_source <<SQL
CREATE TABLE $table (id int PRIMARY KEY, v text);
INSERT INTO $table SELECT g, 'init' FROM generate_series(1, 20) g;
SQL
trap 'sql_sessions_close; "$root/tests/stack/stack" connector remove "$connector" >/dev/null 2>&1 || true; cleanup' EXIT
"$root/tests/stack/stack" connector add "$connector" "public.$table" topic.prefix="$prefix" \
    snapshot.mode=always >&2
wait_records 90 "$topic" 20

say "the sinks follow the first snapshot and a stream"
three_sink_pipelines "topics=$topic"
three_sinks_start
psql_source <<SQL
UPDATE $table SET v = 'stream1' WHERE id IN (1, 5);
DELETE FROM $table WHERE id = 6;
SQL
wait_records 60 "$topic" 24

say "X changes rows 2, 3 and 5 and stays open while the connector restarts"
sql_session x
sql_run x "BEGIN; UPDATE $table SET v = 'x' WHERE id IN (2, 5); DELETE FROM $table WHERE id = 3; INSERT INTO $table VALUES (21, 'x');"
# A commit elsewhere writes the WAL out past X's records: the snapshot's
# LSN (the WAL write position when it starts) is then above them.
psql_source -c "CREATE TABLE ${table}_flush AS SELECT 1 AS one"
curl -fsS -X POST "$KAFKA_CONNECT_URL/connectors/$connector/restart?includeTasks=true" >/dev/null
second_snapshot() { [ "$(consume_all "$topic" '%s\n' | grep -c . || true)" -ge 43 ]; }
wait_for 120 "the second snapshot's 19 rows" second_snapshot
wait_for 60 "the connector running again" connector_running "$connector"
sql_run x "COMMIT;"
psql_source -c "UPDATE $table SET v = 'after' WHERE id IN (4, 21)"
sql_sessions_close

pipeline_file "$work/log.properties" "topics=$topic" "name=$test_name-log-$uid" "jsonl.path=$work/log.jsonl"
start_cdcsink "$work/log.properties" "$work/log.log"; log_pid=$cdcsink_pid
published() { jq -c "select($1)" "$work/log.jsonl" 2>/dev/null | grep -q .; }
wait_for 60 "the last change published" published '.after.v == "after" and .after.id == 21'
kill -TERM "$log_pid"; wait "$log_pid" || true
snapshots=$(jq -r 'select(.op == "r") | .source.lsn' "$work/log.jsonl" | sort -un | tr '\n' ' ')
x_lsn=$(jq -r 'select(.op == "u" and .after.v == "x") | .source.lsn' "$work/log.jsonl" | sort -n | tail -n 1)
say "snapshots at LSN $snapshots; X wrote up to $x_lsn"
[ "$(wc -w <<<"$snapshots")" -eq 2 ] || fail "want two snapshots in the topic, got LSNs: $snapshots"
[ "$x_lsn" -lt "$(awk '{print $2}' <<<"$snapshots")" ] || fail "the scenario did not straddle the second snapshot"

expected=$(source_rows "$table")
three_sinks_stop
three_sinks_hold "$table" "$expected" "after the re-snapshot"

say "a new consumer group from the beginning changes nothing"
three_sinks_new_group
three_sinks_start -again
three_sinks_stop
three_sinks_hold "$table" "$expected" "after a new group replayed the topic"
say "ok: a transaction across a connector's re-snapshot lands in every sink"

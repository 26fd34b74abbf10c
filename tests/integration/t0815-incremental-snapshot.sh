#!/usr/bin/env bash
# The snapshot seam, incremental: Debezium's signalled snapshot reads a
# table in chunks while it streams, and emits each chunk when its window
# closes, at the stream's position then. A long transaction L updates rows
# of several chunks and deletes one before the snapshot starts, and commits
# only after the last window closed, while other transactions keep
# changing the table. L's changes are neither in a chunk (uncommitted when
# it was read) nor deduplicated by a window (committed after it), and were
# written below the chunks' position: ordered by source.lsn alone they were
# stale. Every sink must end with the source's rows, and a new consumer
# group from the beginning must change nothing.
. "$(dirname "$0")/lib.sh"

table="inc_$uid"
signal="inc_signal_$uid"
prefix="inc$uid"
connector="inc-$uid"
topic="$prefix.public.$table"
psql_source <<SQL
CREATE TABLE $table (id int PRIMARY KEY, v text);
INSERT INTO $table SELECT g, 'init' FROM generate_series(1, 60) g;
CREATE TABLE $signal (id varchar(64) PRIMARY KEY, type varchar(32) NOT NULL, data varchar(2048));
SQL
trap 'sql_sessions_close; "$root/tests/stack/stack" connector remove "$connector" >/dev/null 2>&1 || true; cleanup' EXIT
"$root/tests/stack/stack" connector add "$connector" "public.$table,public.$signal" topic.prefix="$prefix" \
    snapshot.mode=no_data signal.data.collection="public.$signal" \
    incremental.snapshot.chunk.size=10 >&2

say "L updates rows 5, 25 and 45 and deletes row 35, and stays open"
sql_session l
sql_run l "BEGIN; UPDATE $table SET v = 'L' WHERE id IN (5, 25, 45); DELETE FROM $table WHERE id = 35;"

say "the incremental snapshot, with other transactions committing meanwhile"
three_sink_pipelines "topics=$topic"
three_sinks_start
psql_source -c "INSERT INTO $signal VALUES ('snap-$uid', 'execute-snapshot', '{\"data-collections\": [\"public.$table\"], \"type\": \"incremental\"}')"
for i in $(seq 1 20); do
    psql_source -c "UPDATE $table SET v = 'stream$i' WHERE id = $((i * 3 % 60 + 1)) AND id NOT IN (5, 25, 35, 45)"
    sleep 0.2
done
chunk_rows() { consume_all "$topic" '%s\n' | grep -c . || true; }
pipeline_file "$work/log.properties" "topics=$topic" "name=$test_name-log-$uid" "jsonl.path=$work/log.jsonl"
start_cdcsink "$work/log.properties" "$work/log.log"; log_pid=$cdcsink_pid
snapshotted() { [ "$(jq -c 'select(.op == "r")' "$work/log.jsonl" 2>/dev/null | wc -l)" -ge 59 ]; }
wait_for 120 "every row read by the incremental snapshot" snapshotted

say "L commits after the last window"
sql_run l "COMMIT;"
psql_source -c "UPDATE $table SET v = 'after' WHERE id = 60"
published() { jq -c "select($1)" "$work/log.jsonl" 2>/dev/null | grep -q .; }
wait_for 60 "L's changes published" published '.after.v == "after"'
kill -TERM "$log_pid"; wait "$log_pid" || true
l_lsn=$(jq -r 'select(.op == "u" and .after.v == "L") | .source.lsn' "$work/log.jsonl" | sort -n | tail -n 1)
chunk_lsn=$(jq -r 'select(.op == "r") | .source.lsn' "$work/log.jsonl" | sort -n | head -n 1)
say "L wrote up to LSN $l_lsn, the first chunk was emitted at $chunk_lsn"
[ "$l_lsn" -lt "$chunk_lsn" ] || fail "the scenario did not straddle: L wrote at $l_lsn, after the chunks' $chunk_lsn"

expected=$(source_rows "$table")
three_sinks_stop
three_sinks_hold "$table" "$expected" "after the incremental snapshot"

say "a new consumer group from the beginning changes nothing"
three_sinks_new_group
three_sinks_start -again
three_sinks_stop
three_sinks_hold "$table" "$expected" "after a new group replayed the topic"
say "ok: an incremental snapshot and a transaction around it land in every sink"

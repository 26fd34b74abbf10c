#!/usr/bin/env bash
# SIGTERM: the batch in hand is finished, offsets are committed (with
# periodic commits switched off, so only the shutdown commit can do it),
# the group is left (Empty, no member waiting for a session timeout), and
# the exit code is 0.
. "$(dirname "$0")/lib.sh"

table="it_term_$uid"
topic="it.public.$table"
psql_source -c "CREATE TABLE $table (id int PRIMARY KEY, v int NOT NULL)"
ensure_it_connector
psql_source -c "INSERT INTO $table SELECT g, g FROM generate_series(1, 50) g"

pipeline_file "$work/p.properties" "topics=$topic" "jsonl.path=$work/out.jsonl" \
    "commit.interval.ms=3600000" "log.format=json"
start_cdcsink "$work/p.properties" "$work/cdcsink.log"
wait_for 60 "50 lines" at_least 50 "$work/out.jsonl"
committed=$(lag_json "$work/p.properties" | jq '[.partitions[].committed] | max')
[ "$committed" -eq -1 ] || fail "committed before the signal ($committed): periodic commit not off?"

say "SIGTERM"
kill -TERM "$cdcsink_pid"
status=0
wait "$cdcsink_pid" || status=$?
[ "$status" -eq 0 ] || fail "exit code $status, want 0"
lag=$(lag_json "$work/p.properties")
echo "$lag"
echo "$lag" | jq -e '.total_lag == 0' >/dev/null || fail "not committed up to the end: $lag"
echo "$lag" | jq -e '.members == 0 and .state == "Empty"' >/dev/null || fail "group not left: $lag"
say "log.format=json: every line is a JSON object with the pipeline"
jq -e -s 'length > 3 and all(.[]; .pipeline == "'"$test_name-$uid"'" and (.level | type) == "string")' \
    "$work/cdcsink.log" >/dev/null || fail "the log is not JSON lines: $(head -3 "$work/cdcsink.log")"
jq -e -s 'any(.[]; .msg == "stopped")' "$work/cdcsink.log" >/dev/null || fail "no 'stopped' line in the log"
say "the stop line: 50 consumed; both latencies measured, each change committed at the source before Kafka had it"
stop=$(jq -r 'select(.msg | startswith("stopping:")) | .msg' "$work/cdcsink.log")
echo "$stop"
field() { grep -oE "(^| )$1=-?[0-9]+" <<<"$stop" | cut -d= -f2; }
[ "$(field consumed)" = 50 ] || fail "consumed=$(field consumed), want 50"
for f in latency_p50_ms latency_p99_ms latency_p999_ms \
         source_latency_p50_ms source_latency_p99_ms source_latency_p999_ms; do
    [ "$(field "$f")" -ge 0 ] || fail "$f=$(field "$f"): not measured"
done
[ "$(field source_latency_p50_ms)" -ge "$(field latency_p50_ms)" ] &&
    [ "$(field source_latency_p999_ms)" -ge "$(field latency_p999_ms)" ] ||
    fail "from the source commit shorter than from the Kafka append"
echo ok

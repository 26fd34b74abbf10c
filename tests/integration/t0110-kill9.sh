#!/usr/bin/env bash
# kill -9 of cdcsink in the middle of a stream, then a restart: nothing is
# lost (every change present at least once) and the group catches up.
. "$(dirname "$0")/lib.sh"

table="it_kill_$uid"
topic="it.public.$table"
psql_source -c "CREATE TABLE $table (id int PRIMARY KEY, v int NOT NULL)"
ensure_it_connector

pipeline_file "$work/p.properties" "topics=$topic" "jsonl.path=$work/out.jsonl" \
    "batch.size=50" "commit.interval.ms=200"
start_cdcsink "$work/p.properties" "$work/cdcsink.log"

say "3000 inserts in 30 transactions, in the background"
(for i in $(seq 0 29); do
    psql_source -c "INSERT INTO $table SELECT g, g FROM generate_series($((i * 100 + 1)), $((i * 100 + 100))) g"
    sleep 0.1
 done) &
writer=$!

wait_for 60 "the first changes in the sink" at_least 1 "$work/out.jsonl"
at_kill=$(lines "$work/out.jsonl")
say "kill -9 after $at_kill lines"
[ "$at_kill" -lt 3000 ] || fail "the stream was over before the kill"
kill -9 "$cdcsink_pid"
wait "$cdcsink_pid" 2>/dev/null || true
wait "$writer"

start_cdcsink "$work/p.properties" "$work/cdcsink.log"
wait_for 120 "all 3000 ids in the sink" bash -c \
    "[ \$(jq -s 'map(.key.id) | unique | length' '$work/out.jsonl') -eq 3000 ]"
jq -s -e 'map(select(.after.v != .key.id)) | length == 0' "$work/out.jsonl" >/dev/null ||
    fail "a row's value differs from its id"
total=$(lines "$work/out.jsonl")
say "$total lines for 3000 changes ($((total - 3000)) delivered twice, allowed: at-least-once)"
wait_for 30 "lag 0" bash -c "'$CDCSINK' lag -c '$work/p.properties' --json | jq -e '.total_lag == 0' >/dev/null"
echo ok

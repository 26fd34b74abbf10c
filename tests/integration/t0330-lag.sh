#!/usr/bin/env bash
# cdcsink lag: per-partition committed and end offsets that match the
# broker's own (kcat -Q), with the pipeline stopped part-way and caught up;
# Nagios exit codes 0/1/2 by --warn/--crit and 3 when the broker is down.
. "$(dirname "$0")/lib.sh"

table="it_lag_$uid"
topic="it.public.$table"
psql_source -c "CREATE TABLE $table (id int PRIMARY KEY, v int)"
ensure_it_connector
psql_source -c "INSERT INTO $table SELECT g, g FROM generate_series(1, 90) g"
wait_records 60 "$topic" 90
pipeline_file "$work/p.properties" "topics=$topic" "jsonl.path=$work/out.jsonl"

broker_ends() { # "partition end" lines from the broker itself
    for p in 0 1 2; do echo "$p $(partition_end "$topic" "$p")"; done
}

say "never run: nothing committed, lag = everything"
lag=$("$CDCSINK" lag -c "$work/p.properties" --json)
echo "$lag"
[ "$(jq -r '.partitions | map("\(.partition) \(.end)") | .[]' <<<"$lag")" = "$(broker_ends)" ] ||
    fail "end offsets differ from the broker's: $(broker_ends | tr '\n' ' ')"
[ "$(jq '[.partitions[].committed] | max' <<<"$lag")" -eq -1 ] || fail "committed offsets before any run"
[ "$(jq '.total_lag' <<<"$lag")" -eq 90 ] || fail "total lag $(jq .total_lag <<<"$lag"), want 90"
status=0; "$CDCSINK" lag -c "$work/p.properties" --warn 50 --crit 100 >/dev/null || status=$?
[ "$status" -eq 1 ] || fail "lag 90 with --warn 50 --crit 100: exit $status, want 1 (WARNING)"
status=0; "$CDCSINK" lag -c "$work/p.properties" --warn 10 --crit 80 >/dev/null || status=$?
[ "$status" -eq 2 ] || fail "lag 90 with --crit 80: exit $status, want 2 (CRITICAL)"

say "caught up and stopped: committed = end on every partition"
start_cdcsink "$work/p.properties" "$work/cdcsink.log"
wait_for 60 "caught up" caught_up "$work/p.properties"
kill -TERM "$cdcsink_pid"; wait "$cdcsink_pid"
lag=$("$CDCSINK" lag -c "$work/p.properties" --json)
[ "$(jq -r '.partitions | map("\(.partition) \(.committed)") | .[]' <<<"$lag")" = "$(broker_ends)" ] ||
    fail "committed offsets differ from the broker's ends: $lag"
"$CDCSINK" lag -c "$work/p.properties" --warn 1 --crit 2 >/dev/null || fail "lag 0 is not OK (exit $?)"
"$CDCSINK" lag -c "$work/p.properties" | grep -q "total lag 0" || fail "text output lacks the total"

say "more changes while stopped"
psql_source -c "UPDATE $table SET v = -v WHERE id <= 30"
wait_records 60 "$topic" 120
[ "$("$CDCSINK" lag -c "$work/p.properties" --json | jq .total_lag)" -eq 30 ] || fail "want lag 30"

say "broker unreachable: UNKNOWN"
sed -i "s|^kafka.bootstrap.servers = .*|kafka.bootstrap.servers = 127.0.0.1:1|" "$work/p.properties"
status=0; timeout 60 "$CDCSINK" lag -c "$work/p.properties" >/dev/null 2>&1 || status=$?
[ "$status" -eq 3 ] || fail "broker down: exit $status, want 3"
echo ok

#!/usr/bin/env bash
# The registry stopped for 20 s: no DLQ record, no commit, nothing written;
# the pipeline resumes and catches up when the registry returns.
. "$(dirname "$0")/lib.sh"

table="it_reg_$uid"
topic="it.public.$table"
dlq="cdcsink.dlq.$test_name-$uid"
psql_source -c "CREATE TABLE $table (id int PRIMARY KEY, v int NOT NULL)"
ensure_it_connector
psql_source -c "INSERT INTO $table SELECT g, g FROM generate_series(1, 10) g"
wait_for 60 "10 records in $topic" bash -c \
    "[ \$('$KCAT' -b '$KAFKA_BOOTSTRAP_SERVERS' -C -t '$topic' -o beginning -e -q -f '.\n' 2>/dev/null | wc -l) -ge 10 ]"

say "registry down; a fresh cdcsink has no schema cached"
"$root/tests/stack/stack" down registry
trap '"$root/tests/stack/stack" up registry >/dev/null 2>&1; cleanup' EXIT
pipeline_file "$work/p.properties" "topics=$topic" "jsonl.path=$work/out.jsonl" \
    "errors.retry.backoff.max.ms=2000" "schema.registry.timeout.ms=2000"
start_cdcsink "$work/p.properties" "$work/cdcsink.log"
sleep 20

say "after 20 s of outage"
kill -0 "$cdcsink_pid" || fail "cdcsink exited during the outage"
[ "$(lines "$work/out.jsonl")" -eq 0 ] || fail "records were written without their schema"
dlq_count=$(consume_all "$dlq" '.\n' | wc -l)
[ "$dlq_count" -eq 0 ] || fail "$dlq_count DLQ records during an outage"
committed=$(lag_json "$work/p.properties" | jq '[.partitions[].committed] | max')
[ "$committed" -eq -1 ] || fail "offsets committed during the outage: $committed"
grep -q "transient failure" "$work/cdcsink.log" || fail "no retry logged"

say "registry back"
"$root/tests/stack/stack" up registry
wait_for 90 "10 lines after the registry returned" at_least 10 "$work/out.jsonl"
wait_for 30 "lag 0" bash -c "'$CDCSINK' lag -c '$work/p.properties' --json | jq -e '.total_lag == 0' >/dev/null"
[ "$(consume_all "$dlq" '.\n' | wc -l)" -eq 0 ] || fail "DLQ records after the outage"
echo ok

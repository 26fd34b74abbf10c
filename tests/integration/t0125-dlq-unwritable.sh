#!/usr/bin/env bash
# The DLQ cannot be written (the broker refuses the record: the DLQ topic's
# max.message.bytes is smaller than it): the poison record is not skipped
# and nothing is committed; once the broker accepts it the record lands in
# the DLQ exactly once and the pipeline commits and goes on.
. "$(dirname "$0")/lib.sh"

table="it_dlqdown_$uid"
topic="it.public.$table"
dlq="cdcsink.dlq.$test_name-$uid"
psql_source -c "CREATE TABLE $table (id int PRIMARY KEY, v text)"
ensure_it_connector
psql_source -c "INSERT INTO $table VALUES (1, 'before')"
wait_records 60 "$topic" 1
printf 'poison' | "$KCAT" -b "$KAFKA_BOOTSTRAP_SERVERS" -P -t "$topic" -p 0
psql_source -c "INSERT INTO $table VALUES (2, 'after')"
"$root/build/topic_config" "$KAFKA_BOOTSTRAP_SERVERS" create "$dlq" 1 max.message.bytes=64

pipeline_file "$work/p.properties" "topics=$topic" "jsonl.path=$work/out.jsonl" \
    "errors.retry.backoff.max.ms=1000"
start_cdcsink "$work/p.properties" "$work/cdcsink.log"
sleep 12
say "after 12 s with the DLQ refusing writes"
kill -0 "$cdcsink_pid" || fail "cdcsink exited"
committed=$(lag_json "$work/p.properties" | jq '[.partitions[].committed] | max')
[ "$committed" -eq -1 ] || fail "offsets committed past an undelivered DLQ record: $committed"
[ "$(records "$dlq")" -eq 0 ] || fail "the DLQ has records although it refuses writes"
grep -q "transient failure.*DLQ" "$work/cdcsink.log" || fail "no retry logged for the DLQ"

say "the broker accepts writes again"
"$root/build/topic_config" "$KAFKA_BOOTSTRAP_SERVERS" alter "$dlq" max.message.bytes=1048588
wait_for 90 "caught up" caught_up "$work/p.properties"
[ "$(records "$dlq")" -eq 1 ] || fail "want exactly one DLQ record, got $(records "$dlq")"
consume_all "$dlq" '%s' | grep -q '^poison$' || fail "the DLQ record lost its bytes"
jq -s -e 'map(.after.v) | sort == ["after", "before"]' "$work/out.jsonl" >/dev/null ||
    fail "the good records were not applied: $(cat "$work/out.jsonl")"
echo ok

#!/usr/bin/env bash
# A garbage message, a wrong magic byte and an unknown schema id each land
# in the DLQ with the error headers and the original bytes; the pipeline
# goes on with the records after them.
. "$(dirname "$0")/lib.sh"

table="it_dlq_$uid"
topic="it.public.$table"
dlq="cdcsink.dlq.$test_name-$uid"
psql_source -c "CREATE TABLE $table (id int PRIMARY KEY, v text)"
ensure_it_connector
psql_source -c "INSERT INTO $table VALUES (1, 'before')"
wait_for 60 "topic $topic exists" bash -c "'$KCAT' -b '$KAFKA_BOOTSTRAP_SERVERS' -C -t '$topic' -o beginning -c 1 -e -q >/dev/null 2>&1"

say "three poison records in partition 0"
base=$(partition_end "$topic" 0)
printf 'not avro at all' | "$KCAT" -b "$KAFKA_BOOTSTRAP_SERVERS" -P -t "$topic" -p 0
printf '\x01\x00\x00\x00\x01\x02\x03' | "$KCAT" -b "$KAFKA_BOOTSTRAP_SERVERS" -P -t "$topic" -p 0
printf '\x00\x00\x0f\x42\x3f\x02\x04' | "$KCAT" -b "$KAFKA_BOOTSTRAP_SERVERS" -P -t "$topic" -p 0
psql_source -c "INSERT INTO $table VALUES (2, 'after')"

pipeline_file "$work/p.properties" "topics=$topic" "jsonl.path=$work/out.jsonl"
start_cdcsink "$work/p.properties" "$work/cdcsink.log"

wait_for 60 "both good rows in the sink" \
    at_least 2 "$work/out.jsonl"
[ "$(jq -s -r 'sort_by(.key.id) | map(.after.v) | join(" ")' "$work/out.jsonl")" = "before after" ] ||
    fail "sink has: $(cat "$work/out.jsonl")"

wait_for 30 "3 DLQ records" bash -c "[ \$('$KCAT' -b '$KAFKA_BOOTSTRAP_SERVERS' -C -t '$dlq' -o beginning -e -q -f '.\n' 2>/dev/null | wc -l) -ge 3 ]"
records=$(consume_all "$dlq" '%o|%h|%s\n')
echo "$records"
[ "$(echo "$records" | wc -l)" -eq 3 ] || fail "want exactly 3 DLQ records"

check_record() { # N OFFSET MESSAGE-PART HEX
    local line
    line=$(echo "$records" | sed -n "${1}p")
    for h in "__connect.errors.topic=$topic" "__connect.errors.partition=0" \
             "__connect.errors.offset=$2" "__connect.errors.exception.class.name=cdcsink.DecodeError" \
             "cdcsink.error.class=data" "cdcsink.pipeline=$test_name-$uid" "cdcsink.sink=jsonl" \
             "cdcsink.failed.at=20"; do
        [[ "$line" == *"$h"* ]] || fail "DLQ record $1 lacks header $h: $line"
    done
    [[ "$line" == *"$3"* ]] || fail "DLQ record $1: message lacks '$3': $line"
    local got
    got=$("$KCAT" -b "$KAFKA_BOOTSTRAP_SERVERS" -C -t "$dlq" -o "$(( $1 - 1 ))" -c 1 -e -q -f '%s' | od -An -tx1 | tr -d ' \n')
    [ "$got" = "$4" ] || fail "DLQ record $1 value bytes $got, want $4"
}
check_record 1 "$base" "bad framing" "$(printf 'not avro at all' | od -An -tx1 | tr -d ' \n')"
check_record 2 $((base + 1)) "magic byte is not 0" "01000000010203"
check_record 3 $((base + 2)) "schema id 999999 not found" "00000f423f0204"

say "offsets committed past the poison records"
wait_for 30 "lag 0" bash -c "'$CDCSINK' lag -c '$work/p.properties' --json | jq -e '.total_lag == 0' >/dev/null"
grep -q "cdcsink.DecodeError\|→ DLQ" "$work/cdcsink.log" || fail "no DLQ log line"
echo ok

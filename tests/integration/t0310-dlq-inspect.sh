#!/usr/bin/env bash
# dlq inspect: poison records and a value the target rejects (a CHECK
# constraint) reach the DLQ; inspect prints each as one JSON line with its
# DLQ coordinates, every error header, the source coordinates, and the
# decoded change — or the decode error and the raw bytes in base64.
# --class, --limit, --since and --until select; inspecting commits nothing
# (neither by itself nor for the replay group); exit codes 0/1/2.
. "$(dirname "$0")/lib.sh"

table="it_insp_$uid"
topic="it.public.$table"
name="$test_name-$uid"
dlq="cdcsink.dlq.$name"
psql_source -c "CREATE TABLE $table (id int PRIMARY KEY, v int)"
psql_target <<SQL
CREATE SCHEMA "$pg_schema";
CREATE TABLE "$pg_schema"."$table" (id int PRIMARY KEY, v int CHECK (v >= 0),
    __cdc_lsn bigint NOT NULL, __cdc_deleted boolean NOT NULL DEFAULT false);
SQL
ensure_it_connector
psql_source -c "INSERT INTO $table VALUES (1, 1)"
wait_records 60 "$topic" 1

say "two poison records in partition 0, then a row the target rejects"
base=$(partition_end "$topic" 0)
printf 'poison-key|not avro at all' | "$KCAT" -b "$KAFKA_BOOTSTRAP_SERVERS" -P -t "$topic" -p 0 -K '|'
printf '\x00\x00\x0f\x42\x3f\x02\x04' | "$KCAT" -b "$KAFKA_BOOTSTRAP_SERVERS" -P -t "$topic" -p 0
psql_source -c "INSERT INTO $table VALUES (2, -2)"
psql_source -c "INSERT INTO $table VALUES (3, 3)"
wait_records 60 "$topic" 5

pg_pipeline_file "$work/p.properties" "topics=$topic"
start_cdcsink "$work/p.properties" "$work/cdcsink.log"
wait_for 60 "caught up" caught_up "$work/p.properties"
kill -TERM "$cdcsink_pid"; wait "$cdcsink_pid"
[ "$(records "$dlq")" -eq 3 ] || fail "want 3 DLQ records, have $(records "$dlq")"

say "inspect prints all three"
"$CDCSINK" dlq inspect -c "$work/p.properties" >"$work/all.jsonl" 2>"$work/inspect.err" ||
    fail "inspect exited $?: $(cat "$work/inspect.err")"
cat "$work/all.jsonl"
[ "$(wc -l <"$work/all.jsonl")" -eq 3 ] || fail "want 3 lines"
jq -e . "$work/all.jsonl" >/dev/null || fail "not JSON lines"

b64() { printf '%b' "$1" | base64 -w0; }
by_offset() { jq -c --argjson o "$1" 'select(.source.partition == 0 and .source.offset == $o)' "$work/all.jsonl"; }
expect() { # LINE JQ-FILTER WHAT
    echo "$1" | jq -e "$2" >/dev/null || fail "$3: $1"
}

say "every line carries the DLQ coordinates and the error headers"
kcat_coords=$(consume_all "$dlq" '%p:%o\n' | sort)
inspect_coords=$(jq -r '"\(.dlq.partition):\(.dlq.offset)"' "$work/all.jsonl" | sort)
[ "$kcat_coords" = "$inspect_coords" ] || fail "DLQ coordinates $inspect_coords, kcat says $kcat_coords"
while read -r line; do
    expect "$line" ".dlq.topic == \"$dlq\" and (.dlq.timestamp_ms > 0)" "DLQ topic/timestamp"
    expect "$line" ".source.topic == \"$topic\" and .source.partition == (.headers[\"__connect.errors.partition\"] | tonumber)
                    and .source.offset == (.headers[\"__connect.errors.offset\"] | tonumber)" "source coordinates"
    expect "$line" ".headers[\"__connect.errors.topic\"] == \"$topic\" and .headers[\"cdcsink.error.class\"] == \"data\"
                    and .headers[\"cdcsink.pipeline\"] == \"$name\" and .headers[\"cdcsink.sink\"] == \"postgres\"
                    and (.headers[\"cdcsink.failed.at\"] | test(\"^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$\"))
                    and (.headers[\"__connect.errors.exception.message\"] | length > 0)
                    and (.headers | has(\"cdcsink.replay.attempts\") | not)" "error headers"
done <"$work/all.jsonl"

say "poison records: the decode error and the raw bytes in base64"
p1=$(by_offset "$base")
expect "$p1" '.change == null and (.decode_error | test("bad framing"))' "first poison record"
expect "$p1" ".headers[\"__connect.errors.exception.class.name\"] == \"cdcsink.DecodeError\"" "first poison class"
expect "$p1" ".raw.key == \"$(b64 'poison-key')\" and .raw.value == \"$(b64 'not avro at all')\"" "first poison bytes"
p2=$(by_offset $((base + 1)))
expect "$p2" '.change == null and (.decode_error | test("999999"))' "second poison record"
expect "$p2" ".raw.key == null and .raw.value == \"$(b64 '\x00\x00\x0f\x42\x3f\x02\x04')\"" "second poison bytes"

say "the rejected row: decoded, with the constraint's SQLSTATE"
rej=$(jq -c 'select(.change != null)' "$work/all.jsonl")
expect "$rej" '.headers["__connect.errors.exception.class.name"] == "SQLSTATE 23514"' "rejection class"
expect "$rej" '.headers["__connect.errors.exception.message"] | test("check constraint")' "rejection message"
expect "$rej" ".change.op == \"c\" and .change.key.id == 2 and .change.after == {\"id\":2,\"v\":-2}
               and .change.topic == \"$topic\" and .change.offset == .source.offset
               and (.change.position > 0) and .change.source.table == \"$table\"" "decoded change"
expect "$rej" 'has("raw") | not' "a decoded record has no raw bytes"

say "--class, --limit, --since, --until select"
count() { "$CDCSINK" dlq inspect -c "$work/p.properties" "$@" | wc -l; }
[ "$(count --class data)" -eq 3 ] || fail "--class data"
[ "$(count --class schema)" -eq 0 ] || fail "--class schema"
[ "$(count --limit 2)" -eq 2 ] || fail "--limit 2"
[ "$(count --limit 0)" -eq 0 ] || fail "--limit 0"
[ "$(count --since 1h)" -eq 3 ] || fail "--since 1h"
[ "$(count --until 1h)" -eq 0 ] || fail "--until 1h (all failed within the hour)"
yesterday=$(date -u -d '1 day ago' +%Y-%m-%dT%H:%M:%SZ)
tomorrow=$(date -u -d 'tomorrow' +%Y-%m-%dT%H:%M:%SZ)
[ "$(count --since "$yesterday" --until "$tomorrow")" -eq 3 ] || fail "--since yesterday --until tomorrow"
[ "$(count --since "$tomorrow")" -eq 0 ] || fail "--since tomorrow"
[ "$(count --class data --limit 1 --since 1d)" -eq 1 ] || fail "filters combined"

say "inspect commits nothing; a dry-run replay sees every record and commits nothing either"
for group in "cdcsink.$name.dlq-inspect" "cdcsink.$name.dlq-replay" "cdcsink.$name"; do
    committed=$(group_committed "$group" "$dlq")
    echo "$group: $committed"
    [ -n "$committed" ] || fail "no partitions reported for $dlq"
    ! echo "$committed" | grep -qv ':-1$' || fail "group $group has offsets committed on $dlq: $committed"
done
rc=0
"$CDCSINK" dlq replay -c "$work/p.properties" --dry-run >"$work/dry.txt" 2>"$work/dry.err" || rc=$?
cat "$work/dry.txt"
[ "$rc" -eq 1 ] || fail "dry run exit $rc; want 1 (two records would fail again)"
[ "$(replay_stat would_apply "$work/dry.txt")" -eq 1 ] || fail "dry run would_apply"
[ "$(replay_stat failed_again "$work/dry.txt")" -eq 2 ] || fail "dry run failed_again"
[ "$(grep -c '^apply ' "$work/dry.txt")" -eq 1 ] && [ "$(grep -c '^fail ' "$work/dry.txt")" -eq 2 ] ||
    fail "dry run lines"
! group_committed "cdcsink.$name.dlq-replay" "$dlq" | grep -qv ':-1$' || fail "the dry run committed"
[ "$(records "$dlq")" -eq 3 ] || fail "the dry run produced to the DLQ"
cmp <("$CDCSINK" dlq inspect -c "$work/p.properties") "$work/all.jsonl" || fail "a second inspect differs"

say "exit codes: 2 for usage, 1 for an unreachable broker"
rc=0; "$CDCSINK" dlq inspect -c "$work/p.properties" --since soon 2>/dev/null || rc=$?
[ "$rc" -eq 2 ] || fail "--since soon exit $rc"
rc=0; "$CDCSINK" dlq inspect -c "$work/p.properties" --class transient 2>/dev/null || rc=$?
[ "$rc" -eq 2 ] || fail "--class transient exit $rc"
rc=0; "$CDCSINK" dlq inspect 2>/dev/null || rc=$?
[ "$rc" -eq 2 ] || fail "no -c exit $rc"
pg_pipeline_file "$work/down.properties" "topics=$topic" "kafka.bootstrap.servers=127.0.0.1:1"
rc=0; "$CDCSINK" dlq inspect -c "$work/down.properties" >/dev/null 2>"$work/down.err" || rc=$?
[ "$rc" -eq 1 ] || fail "unreachable broker exit $rc"
tail -n 1 "$work/down.err"
echo ok

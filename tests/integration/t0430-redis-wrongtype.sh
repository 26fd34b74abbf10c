#!/usr/bin/env bash
# Redis sink, a key that holds another type (a list where the sink writes
# a JSON string): that record alone goes to the DLQ with WRONGTYPE, the
# key and both types in its headers; the rest of its batch is applied.
# Once the key is cleared, `cdcsink dlq replay` applies the parked record.
. "$(dirname "$0")/lib.sh"

table="it_rwrong_$uid"
topic="it.public.$table"
psql_source -c "CREATE TABLE $table (id int PRIMARY KEY, v text)"
ensure_it_connector
rcli RPUSH "$redis_prefix:$table:5" "someone else's list" >/dev/null
psql_source -c "INSERT INTO $table SELECT g, 'v' || g FROM generate_series(1, 100) g"
wait_records 60 "$topic" 100

redis_pipeline_file "$work/p.properties" "topics=$topic" "batch.size=500" "batch.max.wait.ms=2000"
start_cdcsink "$work/p.properties" "$work/cdcsink.log"
wait_for 60 "caught up" caught_up "$work/p.properties"
[ "$(redis_keys "$redis_prefix:*" | wc -l)" -eq 100 ] || fail "want 100 keys"
[ "$(rcli TYPE "$redis_prefix:$table:5")" = list ] || fail "the list was overwritten"
[ "$(rcli GET "$redis_prefix:$table:6")" = '{"id":6,"v":"v6"}' ] || fail "the batch's other records were not applied"
dlq="cdcsink.dlq.$test_name-$uid"
record=$(consume_all "$dlq" '%h\n')
echo "$record"
[ "$(echo "$record" | grep -c .)" -eq 1 ] || fail "want exactly one DLQ record"
for h in "__connect.errors.exception.class.name=WRONGTYPE" "cdcsink.error.class=data" \
         "cdcsink.sink=redis" "__connect.errors.topic=$topic" "holds a list"; do
    [[ "$record" == *"$h"* ]] || fail "DLQ header missing: $h"
done
kill -TERM "$cdcsink_pid"; wait "$cdcsink_pid"
[ "$(stat dlq "$work/cdcsink.log")" -eq 1 ] || fail "want dlq=1"

say "the key cleared, the replay applies the parked record"
rcli DEL "$redis_prefix:$table:5" >/dev/null
dlq_replay "$work/p.properties" "$work/replay.out"
[ "$replay_rc" -eq 0 ] || fail "dlq replay exited $replay_rc"
[ "$(replay_stat applied "$work/replay.out")" -eq 1 ] || fail "want applied=1"
[ "$(rcli GET "$redis_prefix:$table:5")" = '{"id":5,"v":"v5"}' ] || fail "key 5 is $(rcli GET "$redis_prefix:$table:5")"
echo ok

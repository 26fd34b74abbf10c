#!/usr/bin/env bash
# Redis sink, the guard, with the real Debezium records:
# - older changes produced again (byte for byte) after newer ones change
#   nothing; a stale insert after a delete does not resurrect the key:
#   it stays deleted (hard), flagged (soft) or as it was (none);
# - a new consumer group reading from the beginning into the same keys
#   applies nothing and changes nothing;
# - update → delete → insert → update of one key in one batch ends with
#   the key present with the last values, one change applied;
# - a genuinely newer insert brings a deleted key back (and clears the
#   soft-delete flag), and the old delete delivered again after it changes
#   nothing;
# - redis.ttl.ms puts the TTL on the key and its marker;
# - delete.on.tombstone deletes by key (delete.mode=none, a producer that
#   keeps only tombstones);
# - with REDIS_MODE=cluster (t0415) all of it on the three-master Cluster.
. "$(dirname "$0")/lib.sh"

table="it_rguard_$uid"
topic="it.public.$table"
guard_fixture "$table"

k() { echo "$redis_prefix$1:$table:$2"; } # k MODE ID
for mode in hard soft none; do
    redis_pipeline_file "$work/$mode.properties" "topics=$topic" "name=$test_name-$mode-$uid" \
        "delete.mode=$mode" "key.format=$redis_prefix$mode:\${source.table}:\${key}"
done
# Soft deletes in the json layout too.
redis_pipeline_file "$work/softj.properties" "topics=$topic" "name=$test_name-softj-$uid" \
    "delete.mode=soft" "key.format=${redis_prefix}softj:\${source.table}:\${key}"
# A producer that keeps only tombstones: deletes by key, unguarded.
redis_pipeline_file "$work/tomb.properties" "topics=$topic" "name=$test_name-tomb-$uid" \
    "delete.mode=none" "delete.on.tombstone=true" "key.format=${redis_prefix}tomb:\${source.table}:\${key}"
sed -i 's/^redis.value.format.*//' "$work/soft.properties"
echo "redis.value.format = hash" >>"$work/soft.properties"
for mode in hard soft softj none tomb; do start_cdcsink "$work/$mode.properties" "$work/$mode.log"; eval "${mode}_pid=$cdcsink_pid"; done
for mode in hard soft softj none tomb; do wait_for 60 "$mode caught up" caught_up "$work/$mode.properties"; done
[ "$(rcli GET "$(k softj 2)")" = '{"id":2,"v":"x","__deleted":true}' ] || fail "softj: key 2 is '$(rcli GET "$(k softj 2)")'"
[ "$(rcli EXISTS "$(k tomb 2)")" = 0 ] || fail "tomb: the tombstone did not delete key 2"
[ "$(rcli GET "$(k tomb 1)")" = '{"id":1,"v":"c"}' ] || fail "tomb: key 1 is $(rcli GET "$(k tomb 1)")"
[ "$(rcli GET "$(k hard 1)")" = '{"id":1,"v":"c"}' ] || fail "hard: key 1 is $(rcli GET "$(k hard 1)")"
[ "$(rcli EXISTS "$(k hard 2)")" = 0 ] || fail "hard: key 2 exists after its delete"
[ "$(rcli HGET "$(k soft 2)" __deleted)" = true ] || fail "soft: key 2 not flagged deleted"
[ "$(rcli GET "$(k none 2)")" = '{"id":2,"v":"x"}' ] || fail "none: key 2 is $(rcli GET "$(k none 2)")"

say "old insert and update of key 1, old insert of deleted key 2, again"
"$REPRODUCE" "$KAFKA_BOOTSTRAP_SERVERS" "$topic" "$p1" "$o_insert1"
"$REPRODUCE" "$KAFKA_BOOTSTRAP_SERVERS" "$topic" "$p1" "$o_update_b"
"$REPRODUCE" "$KAFKA_BOOTSTRAP_SERVERS" "$topic" "$p2" "$o_insert2"
for mode in hard soft softj none tomb; do wait_for 60 "$mode caught up again" caught_up "$work/$mode.properties"; done
[ "$(rcli GET "$(k softj 2)")" = '{"id":2,"v":"x","__deleted":true}' ] || fail "softj: the stale insert changed key 2 to '$(rcli GET "$(k softj 2)")'"
# A tombstone carries no position, so it leaves nothing to guard with: the
# old insert delivered again writes the key again (the documented caveat of
# delete.on.tombstone).
[ "$(rcli GET "$(k tomb 2)")" = '{"id":2,"v":"x"}' ] || fail "tomb: key 2 is '$(rcli GET "$(k tomb 2)")'"
[ "$(rcli GET "$(k hard 1)")" = '{"id":1,"v":"c"}' ] || fail "hard: key 1 regressed to $(rcli GET "$(k hard 1)")"
[ "$(rcli EXISTS "$(k hard 2)")" = 0 ] || fail "hard: the stale insert resurrected key 2"
[ "$(rcli HGET "$(k soft 1)" v)" = c ] || fail "soft: key 1 regressed"
[ "$(rcli HGET "$(k soft 2)" __deleted)" = true ] || fail "soft: the stale insert cleared the flag of key 2"
[ "$(rcli HGET "$(k soft 2)" v)" = x ] || fail "soft: key 2 lost its last values"
[ "$(rcli GET "$(k none 1)")" = '{"id":1,"v":"c"}' ] || fail "none: key 1 regressed"

say "a new consumer group from the beginning into the same keys"
rcli GET "$(k hard 1)" >"$work/before.txt"
redis_pipeline_file "$work/again.properties" "topics=$topic" "name=$test_name-again-$uid" \
    "key.format=${redis_prefix}hard:\${source.table}:\${key}"
start_cdcsink "$work/again.properties" "$work/again.log"; again_pid=$cdcsink_pid
wait_for 60 "the second group caught up" caught_up "$work/again.properties"
kill -TERM "$again_pid"; wait "$again_pid"
[ "$(stat applied "$work/again.log")" -eq 0 ] || fail "the second group applied $(stat applied "$work/again.log") changes"
[ "$(stat stale "$work/again.log")" -ge 6 ] || fail "the second group saw $(stat stale "$work/again.log") stale changes, want >= 6"
[ "$(rcli GET "$(k hard 1)")" = "$(cat "$work/before.txt")" ] || fail "the second group changed key 1"
[ "$(rcli EXISTS "$(k hard 2)")" = 0 ] || fail "the second group resurrected key 2"

say "update, delete, insert, update of key 3 in one batch"
kill -TERM "$hard_pid"; wait "$hard_pid"
psql_source <<SQL
INSERT INTO $table VALUES (3, 'p');
UPDATE $table SET v = 'q' WHERE id = 3;
DELETE FROM $table WHERE id = 3;
INSERT INTO $table VALUES (3, 'r');
UPDATE $table SET v = 's' WHERE id = 3;
SQL
wait_records 60 "$topic" 15
sed -i 's/^batch.max.wait.ms.*/batch.max.wait.ms = 3000/' "$work/hard.properties"
: >"$work/hard.log"
start_cdcsink "$work/hard.properties" "$work/hard.log"; hard_pid=$cdcsink_pid
wait_for 60 "hard caught up" caught_up "$work/hard.properties"
[ "$(rcli GET "$(k hard 3)")" = '{"id":3,"v":"s"}' ] || fail "key 3 is $(rcli GET "$(k hard 3)"), want s"

say "a newer insert brings key 2 back"
psql_source -c "INSERT INTO $table VALUES (2, 'y')"
wait_for 60 "hard has key 2 again" bash -c "[ \"\$(rcli GET '$(k hard 2)')\" = '{\"id\":2,\"v\":\"y\"}' ]"
wait_for 60 "softj has key 2 undeleted" bash -c "[ \"\$(rcli GET '$(k softj 2)')\" = '{\"id\":2,\"v\":\"y\"}' ]"
wait_for 60 "soft has key 2 undeleted" bash -c "[ \"\$(rcli HGET '$(k soft 2)' v)\" = y ] && [ \"\$(rcli HEXISTS '$(k soft 2)' __deleted)\" = 0 ]"

say "the old delete of key 2, again, after its newer insert"
read -r p_del o_del <<<"$(where 2 d true)"
"$REPRODUCE" "$KAFKA_BOOTSTRAP_SERVERS" "$topic" "$p_del" "$o_del"
wait_for 60 "hard caught up after the old delete" caught_up "$work/hard.properties"
wait_for 60 "soft caught up after the old delete" caught_up "$work/soft.properties"
[ "$(rcli GET "$(k hard 2)")" = '{"id":2,"v":"y"}' ] || fail "hard: the old delete removed the newer key 2"
[ "$(rcli HEXISTS "$(k soft 2)" __deleted)" = 0 ] || fail "soft: the old delete flagged the newer key 2"
kill -TERM "$hard_pid" "$soft_pid" "$softj_pid" "$none_pid" "$tomb_pid"
wait "$hard_pid" "$soft_pid" "$softj_pid" "$none_pid" "$tomb_pid"
say "applied=$(stat applied "$work/hard.log") stale=$(stat stale "$work/hard.log")"
# key 3: one applied of its five (collapsed), key 2's insert the other.
[ "$(stat applied "$work/hard.log")" -eq 2 ] || fail "want 2 changes applied after the restart (collapse)"
for mode in hard soft softj none tomb; do [ "$(stat dlq "$work/$mode.log")" -eq 0 ] || fail "$mode: records in the DLQ"; done

say "redis.ttl.ms: the key and its marker expire"
redis_pipeline_file "$work/ttl.properties" "topics=$topic" "name=$test_name-ttl-$uid" \
    "redis.ttl.ms=600000" "key.format=${redis_prefix}ttl:\${source.table}:\${key}"
start_cdcsink "$work/ttl.properties" "$work/ttl.log"
wait_for 60 "ttl caught up" caught_up "$work/ttl.properties"
ttl=$(rcli PTTL "$(k ttl 1)")
[ "$ttl" -gt 0 ] && [ "$ttl" -le 600000 ] || fail "key 1 has PTTL $ttl"
marker=$(redis_scan "__cdc:pos:*:$(k ttl 1)" | head -n 1)
[ -n "$marker" ] || fail "no marker for $(k ttl 1)"
mttl=$(rcli PTTL "$marker")
[ "$mttl" -gt 0 ] && [ "$mttl" -le 600000 ] || fail "the marker has PTTL $mttl"
hard_marker=$(redis_scan "__cdc:pos:*:$(k hard 2)" | head -n 1)
[ "$(rcli PTTL "$hard_marker")" -eq -1 ] || fail "without a TTL the marker must not expire"
echo ok

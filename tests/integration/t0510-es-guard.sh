#!/usr/bin/env bash
# Elasticsearch/OpenSearch sink, the guard (external versions = source
# positions), with the real Debezium records:
# - older changes produced again (byte for byte) after newer ones change
#   nothing (409 → stale); a stale insert after a delete does not
#   resurrect the document: it stays deleted (hard, inside
#   index.gc_deletes), flagged (soft) or as it was (none);
# - with a short delete.retention.ms the index's gc_deletes is that short,
#   and the same stale insert after it DOES come back: the documented
#   limit of external-version deletes;
# - a new consumer group reading from the beginning applies nothing;
# - update → delete → insert → update of one key in one batch ends with
#   the last values, one change applied;
# - a genuinely newer insert brings a deleted document back (and clears
#   the soft-delete flag); the old delete delivered again changes nothing;
# - delete.on.tombstone deletes by key (unversioned).
. "$(dirname "$0")/lib.sh"

table="it_eguard_$uid"
topic="it.public.$table"
guard_fixture "$table"

ix() { echo "$es_prefix$1-$table"; } # ix MODE
# doc MODE ID: the document's _source (compact), or "missing".
doc() { es "/$(ix "$1")/_doc/$2" | jq -c 'if .found then ._source else "missing" end'; }
modes="hard soft none tomb short"
for mode in $modes; do
    extra=()
    case $mode in
        tomb) extra=("delete.mode=none" "delete.on.tombstone=true") ;;
        short) extra=("delete.retention.ms=2000") ;;
        hard | soft | none) extra=("delete.mode=$mode") ;;
    esac
    es_pipeline_file "$work/$mode.properties" "topics=$topic" "name=$test_name-$mode-$uid" \
        "index.name.format=$es_prefix$mode-\${source.table}" "${extra[@]}"
done
for mode in $modes; do start_cdcsink "$work/$mode.properties" "$work/$mode.log"; eval "${mode}_pid=$cdcsink_pid"; done
for mode in $modes; do wait_for 60 "$mode caught up" caught_up "$work/$mode.properties"; done
[ "$(doc hard 1)" = '{"id":1,"v":"c"}' ] || fail "hard: doc 1 is $(doc hard 1)"
[ "$(doc hard 2)" = '"missing"' ] || fail "hard: doc 2 is $(doc hard 2) after its delete"
[ "$(doc soft 2)" = '{"id":2,"v":"x","__deleted":true}' ] || fail "soft: doc 2 is $(doc soft 2)"
[ "$(doc none 2)" = '{"id":2,"v":"x"}' ] || fail "none: doc 2 is $(doc none 2)"
[ "$(doc tomb 2)" = '"missing"' ] || fail "tomb: the tombstone did not delete doc 2"
[ "$(doc tomb 1)" = '{"id":1,"v":"c"}' ] || fail "tomb: doc 1 is $(doc tomb 1)"
gc=$(es "/$(ix short)/_settings" | jq -r '.[].settings.index.gc_deletes')
[ "$gc" = 2000ms ] || fail "short: index.gc_deletes is $gc"

say "old insert and update of doc 1, old insert of deleted doc 2, again"
sleep 4 # the short index's delete leaves its window
"$REPRODUCE" "$KAFKA_BOOTSTRAP_SERVERS" "$topic" "$p1" "$o_insert1"
"$REPRODUCE" "$KAFKA_BOOTSTRAP_SERVERS" "$topic" "$p1" "$o_update_b"
"$REPRODUCE" "$KAFKA_BOOTSTRAP_SERVERS" "$topic" "$p2" "$o_insert2"
for mode in $modes; do wait_for 60 "$mode caught up again" caught_up "$work/$mode.properties"; done
[ "$(doc hard 1)" = '{"id":1,"v":"c"}' ] || fail "hard: doc 1 regressed to $(doc hard 1)"
[ "$(doc hard 2)" = '"missing"' ] || fail "hard: the stale insert resurrected doc 2: $(doc hard 2)"
[ "$(doc soft 1)" = '{"id":1,"v":"c"}' ] || fail "soft: doc 1 regressed"
[ "$(doc soft 2)" = '{"id":2,"v":"x","__deleted":true}' ] || fail "soft: the stale insert changed doc 2: $(doc soft 2)"
[ "$(doc none 1)" = '{"id":1,"v":"c"}' ] || fail "none: doc 1 regressed"
# Outside the gc_deletes window the engine has forgotten the delete's
# version: the old insert comes back (README: "Deletes and resurrection").
[ "$(doc short 2)" = '{"id":2,"v":"x"}' ] || fail "short: want the documented resurrection after gc_deletes, doc 2 is $(doc short 2)"
# A tombstone's delete is unversioned: nothing to guard with.
[ "$(doc tomb 2)" = '{"id":2,"v":"x"}' ] || fail "tomb: doc 2 is $(doc tomb 2)"
stale=$(stat stale "$work/hard.log" 2>/dev/null || true)

say "a new consumer group from the beginning into the same index"
es_pipeline_file "$work/again.properties" "topics=$topic" "name=$test_name-again-$uid" \
    "index.name.format=${es_prefix}hard-\${source.table}"
start_cdcsink "$work/again.properties" "$work/again.log"; again_pid=$cdcsink_pid
wait_for 60 "the second group caught up" caught_up "$work/again.properties"
kill -TERM "$again_pid"; wait "$again_pid"
[ "$(stat applied "$work/again.log")" -eq 0 ] || fail "the second group applied $(stat applied "$work/again.log") changes"
[ "$(stat stale "$work/again.log")" -ge 6 ] || fail "the second group saw $(stat stale "$work/again.log") stale changes, want >= 6"
[ "$(doc hard 1)" = '{"id":1,"v":"c"}' ] || fail "the second group changed doc 1"
[ "$(doc hard 2)" = '"missing"' ] || fail "the second group resurrected doc 2"

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
[ "$(doc hard 3)" = '{"id":3,"v":"s"}' ] || fail "doc 3 is $(doc hard 3), want s"

say "a newer insert brings doc 2 back"
psql_source -c "INSERT INTO $table VALUES (2, 'y')"
doc_is() { [ "$(doc "$1" "$2")" = "$3" ]; } # doc_is MODE ID JSON
wait_for 60 "hard has doc 2 again" doc_is hard 2 '{"id":2,"v":"y"}'
wait_for 60 "soft has doc 2 undeleted" doc_is soft 2 '{"id":2,"v":"y"}'

say "the old delete of doc 2, again, after its newer insert"
read -r p_del o_del <<<"$(where 2 d true)"
"$REPRODUCE" "$KAFKA_BOOTSTRAP_SERVERS" "$topic" "$p_del" "$o_del"
wait_for 60 "hard caught up after the old delete" caught_up "$work/hard.properties"
wait_for 60 "soft caught up after the old delete" caught_up "$work/soft.properties"
[ "$(doc hard 2)" = '{"id":2,"v":"y"}' ] || fail "hard: the old delete removed the newer doc 2"
[ "$(doc soft 2)" = '{"id":2,"v":"y"}' ] || fail "soft: the old delete flagged the newer doc 2: $(doc soft 2)"
kill -TERM $(for m in $modes; do eval echo "\$${m}_pid"; done)
wait $(for m in $modes; do eval echo "\$${m}_pid"; done) || true
say "applied=$(stat applied "$work/hard.log") stale=$(stat stale "$work/hard.log")"
# key 3: one applied of its five (collapsed), key 2's insert the other.
[ "$(stat applied "$work/hard.log")" -eq 2 ] || fail "want 2 changes applied after the restart (collapse)"
for mode in $modes; do [ "$(stat dlq "$work/$mode.log")" -eq 0 ] || fail "$mode: records in the DLQ"; done
echo ok

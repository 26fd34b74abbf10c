#!/usr/bin/env bash
# Elasticsearch/OpenSearch sink, documents the mapping rejects. An index
# the team made itself (`dynamic: strict`, auto.evolve=false) meets a
# column added at the source: the engine refuses each document that sets
# the field, even NULL (400 strict_dynamic_mapping_exception); those
# records alone go to the DLQ with the engine's error type and reason, the
# changes before the column came, in the same batch, are applied. Once the field is added to the
# mapping, `cdcsink dlq replay` applies the parked records. A mapping that
# cannot take a column at all (text into an integer field) is found before
# sending: every record of that schema goes to the DLQ as class schema.
# An index deleted behind cdcsink's back (with the engine's own index
# auto-creation off) is created again, not a DLQ flood.
. "$(dirname "$0")/lib.sh"

table="it_emap_$uid"
topic="it.public.$table"
index="$es_prefix-$table"
psql_source -c "CREATE TABLE $table (id int PRIMARY KEY, v text)"
ensure_it_connector
es "/$index" -X PUT -d '{"settings":{"index":{"number_of_replicas":0}},
    "mappings":{"dynamic":"strict","properties":{"id":{"type":"integer"},"v":{"type":"text"}}}}' |
    jq -e .acknowledged >/dev/null || fail "could not create the index"
psql_source -c "INSERT INTO $table SELECT g, 'v' || g FROM generate_series(1, 20) g"

es_pipeline_file "$work/p.properties" "topics=$topic" "batch.size=500" "batch.max.wait.ms=1000" \
    "auto.evolve=false"
start_cdcsink "$work/p.properties" "$work/cdcsink.log"
wait_for 60 "caught up" caught_up "$work/p.properties"

say "two updates, then a new column and five changes that carry it"
psql_source <<SQL
UPDATE $table SET v = 'v6 again' WHERE id = 6;
UPDATE $table SET v = 'v7 again' WHERE id = 7;
ALTER TABLE $table ADD COLUMN w text;
INSERT INTO $table VALUES (21, 'v21', 'w21'), (22, 'v22', 'w22');
UPDATE $table SET w = 'w3' WHERE id = 3;
UPDATE $table SET v = 'v4 again' WHERE id = 4;
UPDATE $table SET v = 'v5 again' WHERE id = 5;
SQL
wait_records 60 "$topic" 27
wait_for 60 "caught up" caught_up "$work/p.properties"
dlq="cdcsink.dlq.$test_name-$uid"
consume_all "$dlq" '%h\n' >"$work/dlq.txt"
[ "$(grep -c . "$work/dlq.txt")" -eq 5 ] || { cat "$work/dlq.txt"; fail "want 5 DLQ records"; }
for h in "__connect.errors.exception.class.name=strict_dynamic_mapping_exception" \
         "cdcsink.error.class=data" "cdcsink.sink=elasticsearch" "__connect.errors.topic=$topic" \
         "[w]"; do
    [ "$(grep -cF "$h" "$work/dlq.txt")" -eq 5 ] || fail "DLQ header missing: $h"
done
doc() { es "/$index/_doc/$1" | jq -c 'if .found then ._source else "missing" end'; }
[ "$(doc 6)" = '{"id":6,"v":"v6 again"}' ] || fail "doc 6 is $(doc 6)"
[ "$(doc 4)" = '{"id":4,"v":"v4"}' ] || fail "doc 4 is $(doc 4)"
[ "$(doc 21)" = '"missing"' ] || fail "doc 21 is $(doc 21)"
[ "$(doc 3)" = '{"id":3,"v":"v3"}' ] || fail "doc 3 is $(doc 3)"
kill -TERM "$cdcsink_pid"; wait "$cdcsink_pid"
[ "$(stat dlq "$work/cdcsink.log")" -eq 5 ] || fail "want dlq=5"

say "the field added to the mapping, the replay applies the parked records"
es "/$index/_mapping" -X PUT -d '{"properties":{"w":{"type":"text"}}}' | jq -e .acknowledged >/dev/null
dlq_replay "$work/p.properties" "$work/replay.out"
[ "$replay_rc" -eq 0 ] || fail "dlq replay exited $replay_rc"
[ "$(replay_stat applied "$work/replay.out")" -eq 5 ] || fail "want applied=5"
[ "$(doc 21)" = '{"id":21,"v":"v21","w":"w21"}' ] || fail "doc 21 is $(doc 21)"
[ "$(doc 3)" = '{"id":3,"v":"v3","w":"w3"}' ] || fail "doc 3 is $(doc 3)"
[ "$(doc 4)" = '{"id":4,"v":"v4 again","w":null}' ] || fail "doc 4 is $(doc 4)"

say "a field that cannot take the column: every record of the schema, class schema"
index2="$es_prefix-c-$table"
es "/$index2" -X PUT -d '{"settings":{"index":{"number_of_replicas":0}},
    "mappings":{"properties":{"v":{"type":"integer"}}}}' | jq -e .acknowledged >/dev/null
es_pipeline_file "$work/c.properties" "topics=$topic" "name=$test_name-c-$uid" \
    "index.name.format=$es_prefix-c-\${source.table}"
start_cdcsink "$work/c.properties" "$work/c.log"
wait_for 60 "caught up" caught_up "$work/c.properties"
kill -TERM "$cdcsink_pid"; wait "$cdcsink_pid"
consume_all "cdcsink.dlq.$test_name-c-$uid" '%h\n' >"$work/dlq-c.txt"
n=$(grep -c . "$work/dlq-c.txt")
# Superseded changes of a key in one batch are settled stale; each key's
# newest change goes to the DLQ.
[ "$n" -eq "$(stat dlq "$work/c.log")" ] && [ "$n" -ge 22 ] || fail "want every key's change in the DLQ, got $n"
[ "$(grep -c 'cdcsink.error.class=schema' "$work/dlq-c.txt")" -eq "$n" ] || fail "want class schema"
grep -q "maps field v as integer" "$work/dlq-c.txt" || fail "the reason does not name the field"
[ "$(es "/$index2/_count" | jq .count)" -eq 0 ] || fail "documents were written"

say "the index deleted while the pipeline runs, the engine's auto-creation off"
restore_auto_create() { es /_cluster/settings -X PUT -d '{"persistent":{"action.auto_create_index":null}}' >/dev/null; }
trap 'restore_auto_create; cleanup' EXIT
es /_cluster/settings -X PUT -d '{"persistent":{"action.auto_create_index":"false"}}' | jq -e .acknowledged >/dev/null
index3="$es_prefix-d-$table"
es_pipeline_file "$work/d.properties" "topics=$topic" "name=$test_name-d-$uid" \
    "index.name.format=$es_prefix-d-\${source.table}" "batch.max.wait.ms=500"
start_cdcsink "$work/d.properties" "$work/d.log"
wait_for 60 "caught up" caught_up "$work/d.properties"
es "/$index3" -X DELETE | jq -e .acknowledged >/dev/null
psql_source -c "INSERT INTO $table SELECT g, 'v' || g, 'w' FROM generate_series(100, 149) g"
wait_records 60 "$topic" 77
wait_for 60 "caught up after the delete" caught_up "$work/d.properties"
kill -TERM "$cdcsink_pid"; wait "$cdcsink_pid"
restore_auto_create
es "/$index3/_refresh" -X POST >/dev/null
[ "$(es "/$index3/_count" | jq .count)" -eq 50 ] || fail "want the 50 new documents in the index made again"
[ "$(stat dlq "$work/d.log")" -eq 0 ] || fail "records went to the DLQ"
grep -q "index $index3 no longer exists" "$work/d.log" || fail "the sink never met the missing index"
echo ok

#!/usr/bin/env bash
# A source table without a primary key (Debezium's record key is null,
# REPLICA IDENTITY FULL), with pk.fields=id, into Elasticsearch/OpenSearch
# and into Redis: each row is one document (_id = its id) and one key
# (`<table>:<id>`), updates replace it, deletes remove it: the identity
# ${key} renders is the pk.fields values, as it is the record key's for a
# keyed table. Without it every row would land on one empty _id or key.
. "$(dirname "$0")/lib.sh"

table="it_enk_$uid"
topic="it.public.$table"
psql_source <<SQL
CREATE TABLE $table (id int NOT NULL, v text);
ALTER TABLE $table REPLICA IDENTITY FULL;
SQL
ensure_it_connector
psql_source <<SQL
INSERT INTO $table SELECT g, 'v' || g FROM generate_series(1, 50) g;
UPDATE $table SET v = 'u' || id WHERE id % 5 = 0;
DELETE FROM $table WHERE id % 7 = 0;
SQL
wait_records 60 "$topic" $((50 + 10 + 7))
es_pipeline_file "$work/es.properties" "topics=$topic" "pk.fields=id"
redis_pipeline_file "$work/redis.properties" "topics=$topic" "pk.fields=id" "name=$test_name-r-$uid"
start_cdcsink "$work/es.properties" "$work/es.log"; es_pid=$cdcsink_pid
start_cdcsink "$work/redis.properties" "$work/redis.log"; redis_pid=$cdcsink_pid
wait_for 60 "es caught up" caught_up "$work/es.properties"
wait_for 60 "redis caught up" caught_up "$work/redis.properties"
kill -TERM "$es_pid" "$redis_pid"; wait "$es_pid" "$redis_pid"
psql_source -c "SELECT json_object_agg(id, json_build_object('id', id, 'v', v) ORDER BY id) FROM $table" |
    jq -S . >"$work/want.json"
es_docs "$es_prefix-$table" >"$work/es.json"
diff "$work/want.json" "$work/es.json" >/dev/null || { diff "$work/want.json" "$work/es.json" | head; fail "documents differ from the rows"; }
while read -r id; do
    jq -c ".[\"$id\"]" "$work/want.json" >"$work/want1"
    rcli GET "$redis_prefix:$table:$id" >"$work/got1"
    cmp -s "$work/want1" "$work/got1" || fail "redis key of id $id: $(cat "$work/got1")"
done < <(jq -r 'keys[]' "$work/want.json")
[ "$(redis_keys "$redis_prefix:*" | wc -l)" -eq "$(jq length "$work/want.json")" ] || fail "redis holds other keys"
[ "$(jq length "$work/want.json")" -eq 43 ] || fail "want 43 rows"
for l in es redis; do [ "$(stat dlq "$work/$l.log")" -eq 0 ] || fail "$l: records in the DLQ"; done
echo ok

#!/usr/bin/env bash
# Elasticsearch/OpenSearch sink, end state: after a workload on a table of
# every type the PostgreSQL sink maps (inserts, updates, deletes, NULLs, a
# TOASTed column left unchanged by updates in LATER batches than its
# insert, so the value must come from the index itself), the index holds
# exactly the source's rows: each document equals the row the change log
# implies (the jq model of the guard over the jsonl sink's output of the
# same topic), the _ids are the source's keys, and the mapping cdcsink
# created is the documented one (not the engine's guesses). The pipeline
# sends small gzipped requests (bulk.max.bytes=4096: many requests a batch,
# the 10 kB TOASTed rows one each) to two nodes, the first one dead.
. "$(dirname "$0")/lib.sh"

table="it_etypes_$uid"
mood="it_emood_$uid"
index="$es_prefix-$table"
types_table_create "$table" "$mood"
ensure_it_connector
topic="it.public.$table"

say "the fixture's changes and 200 more rows"
types_table_fill "$table" "$mood"

es_pipeline_file "$work/es.properties" "topics=$topic" "batch.size=50" "bulk.max.bytes=4096" \
    "connection.compression=true" "connection.url=${es_url%%://*}://127.0.0.1:9,$es_url"
pipeline_file "$work/log.properties" "topics=$topic" "name=$test_name-log-$uid" \
    "jsonl.path=$work/log.jsonl"
start_cdcsink "$work/es.properties" "$work/es.log"; es_pid=$cdcsink_pid
start_cdcsink "$work/log.properties" "$work/log.log"; log_pid=$cdcsink_pid
wait_for 90 "the index caught up with the inserts" caught_up "$work/es.properties"

say "updates (TOASTed column unchanged), NULLs and deletes, in later batches"
psql_source <<SQL
UPDATE $table SET c_text = 'updated ' || id, c_numeric = -c_numeric WHERE id % 3 = 0;
UPDATE $table SET c_int4 = NULL, c_jsonb = NULL WHERE id % 7 = 0;
DELETE FROM $table WHERE id % 11 = 0;
UPDATE $table SET c_text = 'again ' || id WHERE id % 13 = 0;
SQL
logged_all() { [ "$(lines "$work/log.jsonl")" -ge "$(records "$topic")" ]; }
sleep 2 # Debezium publishes the last changes
wait_for 60 "the log has every change" logged_all
wait_for 90 "the index caught up" caught_up "$work/es.properties"
kill -TERM "$es_pid" "$log_pid"
wait "$es_pid" "$log_pid"
[ "$(stat dlq "$work/es.log")" -eq 0 ] || { grep -i dlq "$work/es.log" | head -5; fail "records went to the DLQ"; }

say "the documents are the rows the change log implies"
jsonl_state "$work/log.jsonl" | jq -S 'with_entries(.key |= (fromjson | .id | tostring))' >"$work/model.json"
es_docs "$index" >"$work/got.json"
n=$(jq length "$work/model.json")
[ "$n" -eq "$(psql_source -c "SELECT count(*) FROM $table")" ] || fail "the model has $n rows, the source another count"
[ "$n" -gt 150 ] || fail "too few rows"
if ! diff <(jq -S . "$work/model.json") "$work/got.json" >"$work/docs.diff"; then
    cut -c1-160 "$work/docs.diff" | head -30
    fail "documents differ from the model ($(grep -c '^[<>]' "$work/docs.diff") lines)"
fi
tb=$(psql_source -c "SELECT count(*) FROM $table WHERE length(c_big) >= 9600 AND c_text LIKE 'updated%'")
[ "$tb" -gt 5 ] || fail "the workload updated only $tb rows with TOASTed values"
got=$(jq '[.[] | select((.c_big // "" | length) >= 9600 and (.c_text | startswith("updated")))] | length' "$work/got.json")
[ "$got" -eq "$tb" ] || fail "TOASTed values lost: $got of $tb updated rows kept theirs"

say "the mapping is derived from the schema"
es "/$index/_mapping" | jq -S ".[\"$index\"].mappings.properties | map_values(.type)" >"$work/mapping.json"
jq -e '.id == "integer" and .c_int2 == "short" and .c_int8 == "long" and .c_numeric == "double"
       and .c_real == "float" and .c_double == "double" and .c_bool == "boolean" and .c_text == "text"
       and .c_bytea == "binary" and .c_date == "date" and .c_timestamp == "date"
       and .c_timestamptz == "date" and .c_time == "keyword" and .c_uuid == "keyword"
       and .c_enum == "keyword" and .c_jsonb == "object" and .c_int_array == "integer"
       and .__deleted == "boolean"' "$work/mapping.json" >/dev/null ||
    { cat "$work/mapping.json"; fail "unexpected mapping"; }
settings=$(es "/$index/_settings" | jq -c ".[\"$index\"].settings.index | {gc_deletes, number_of_replicas}")
[ "$settings" = '{"gc_deletes":"604800000ms","number_of_replicas":"0"}' ] || fail "settings: $settings"
say "compared $n documents ($tb with a TOASTed value kept from the index)"
echo ok

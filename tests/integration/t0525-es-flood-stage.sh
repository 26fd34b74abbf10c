#!/usr/bin/env bash
# Elasticsearch/OpenSearch sink, a full disk: at the flood-stage watermark
# the engine puts index.blocks.read_only_allow_delete on the index, and
# every write is answered cluster_block_exception. Here the block is set as
# the engine sets it, on the real engine, while changes stream in: the
# pipeline retries with backoff, counts the retries as class sink_full
# (the CdcsinkSinkFull alert), commits nothing it did not write, sends
# nothing to the DLQ, and once the block is lifted (disk freed) applies
# everything. Runs on OpenSearch; ES_MODE=elasticsearch on Elasticsearch 8.
. "$(dirname "$0")/lib.sh"

table="it_eflood_$uid"
topic="it.public.$table"
index="$es_prefix-$table"
psql_source -c "CREATE TABLE $table (id int PRIMARY KEY, v text)"
ensure_it_connector
block() { es "/$index/_settings" -X PUT -d "{\"index.blocks.read_only_allow_delete\": $1}"; }
flood_cleanup() { block null >/dev/null 2>&1 || true; cleanup; }
trap flood_cleanup EXIT

port=$((20000 + RANDOM % 5000))
es_pipeline_file "$work/p.properties" "topics=$topic" "http.listen=127.0.0.1:$port" \
    "errors.retry.backoff.max.ms=500"
start_cdcsink "$work/p.properties" "$work/cdcsink.log"
psql_source -c "INSERT INTO $table SELECT g, 'a' || g FROM generate_series(1, 100) g"
wait_for 60 "the first rows applied" caught_up "$work/p.properties"

say "the index made read-only, as at the flood stage; changes go on"
block true | jq -e .acknowledged >/dev/null || fail "could not set the block"
psql_source -c "UPDATE $table SET v = 'b' || id; INSERT INTO $table SELECT g, 'c' || g FROM generate_series(101, 200) g"
full_retries() {
    curl -sf "http://127.0.0.1:$port/metrics" | awk '/^cdcsink_retries_total.*class="sink_full"/ {print $NF}'
}
enough_retries() { [ "$(full_retries)" -ge 3 ] 2>/dev/null; }
wait_for 60 "retries counted as sink_full" enough_retries
grep -q "cluster_block_exception" "$work/cdcsink.log" || fail "the log does not name the block"
lag_json "$work/p.properties" | jq -e '.total_lag > 0' >/dev/null ||
    fail "the pipeline committed while the index refused writes"
parked=$(curl -sf "http://127.0.0.1:$port/metrics" | awk '/^cdcsink_dlq_records_total/ {n += $NF} END {print n + 0}')
[ "$parked" -eq 0 ] || fail "$parked records went to the DLQ during the block"
es "/$index/_refresh" -X POST >/dev/null
[ "$(es "/$index/_doc/150" | jq .found)" = false ] || fail "a write went through the block"

say "the block lifted: everything applied"
block null | jq -e .acknowledged >/dev/null
wait_for 60 "caught up" caught_up "$work/p.properties"
kill -TERM "$cdcsink_pid"; wait "$cdcsink_pid"
[ "$(stat dlq "$work/cdcsink.log")" -eq 0 ] || fail "records went to the DLQ"
es "/$index/_refresh" -X POST >/dev/null
[ "$(es "/$index/_count" | jq .count)" -eq 200 ] || fail "want 200 documents"
[ "$(es "/$index/_doc/7" | jq -c ._source)" = '{"id":7,"v":"b7"}' ] || fail "document 7 lost its update"
[ "$(es "/$index/_doc/150" | jq -c ._source)" = '{"id":150,"v":"c150"}' ] || fail "document 150 is missing"
echo "sink_full retries: $(grep -c 'cluster_block_exception' "$work/cdcsink.log")"
echo ok

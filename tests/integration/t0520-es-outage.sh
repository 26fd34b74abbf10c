#!/usr/bin/env bash
# Elasticsearch/OpenSearch sink under an overloaded, then absent engine,
# and a killed cdcsink, while a stream of inserts, updates and deletes
# runs:
# - through tests/tools/es-fault-proxy, a tenth of the _bulk items answer
#   429 (es_rejected_execution_exception) and one request in twenty
#   answers 429 or 503 as a whole: those items, or that batch, are retried;
# - the engine is stopped for 10 s: the batch is retried with backoff
#   until it is back;
# - cdcsink is killed with -9 and started again: it resumes from the last
#   commit.
# In the end every document equals its source row, no more and no fewer,
# and the DLQ is empty.
. "$(dirname "$0")/lib.sh"

table="it_eout_$uid"
topic="it.public.$table"
index="$es_prefix-$table"
psql_source -c "CREATE TABLE $table (id int PRIMARY KEY, v int, t text)"
ensure_it_connector
proxy_port=$((19290 + $$ % 9))
"$root/tests/tools/es-fault-proxy" --listen "$proxy_port" --upstream "$ELASTICSEARCH_URL" \
    --item-reject 0.1 --request-fail 0.05 --seed "$$" 2>"$work/proxy.log" &
proxy_pid=$!
pids+=("$proxy_pid")
wait_for 10 "the proxy listens" curl -sf "http://127.0.0.1:$proxy_port/" -o /dev/null
es_pipeline_file "$work/p.properties" "topics=$topic" "batch.size=500" \
    "connection.url=http://127.0.0.1:$proxy_port" "errors.retry.backoff.max.ms=1000" \
    "connection.timeout.ms=5000"
start_cdcsink "$work/p.properties" "$work/cdcsink.log"
churn "$table" 60 50 0.4 40 &
writer=$!

sleep 5
say "the engine stopped for 10 s"
"$root/tests/stack/stack" down opensearch >"$work/stack.log" 2>&1
sleep 10
"$root/tests/stack/stack" up opensearch >>"$work/stack.log" 2>&1 || { tail "$work/stack.log"; fail "opensearch did not come back"; }
kill -0 "$cdcsink_pid" || fail "cdcsink stopped during the outage"
sleep 3
say "cdcsink killed with -9, started again"
kill -9 "$cdcsink_pid"; wait "$cdcsink_pid" 2>/dev/null || true
start_cdcsink "$work/p.properties" "$work/cdcsink.log"
wait "$writer"

q="SELECT json_object_agg(id, json_build_object('id', id, 'v', v, 't', t) ORDER BY id) FROM $table"
converged() {
    psql_source -c "$q" | jq -S . >"$work/want.json"
    es_docs "$index" >"$work/got.json" 2>/dev/null || return 1
    cmp -s "$work/want.json" "$work/got.json"
}
wait_for 180 "every document equal to its source row" converged
kill -TERM "$cdcsink_pid"; wait "$cdcsink_pid"
kill -TERM "$proxy_pid"; wait "$proxy_pid" || true
rows=$(jq length "$work/want.json")
retries=$(grep -c 'retrying the batch' "$work/cdcsink.log" || true)
say "rows=$rows batch retries=$retries proxy: $(tail -n 1 "$work/proxy.log")"
[ "$rows" -gt 800 ] || fail "too few rows compared"
[ "$(tail -n 1 "$work/proxy.log" | jq .rejected_items)" -gt 100 ] || fail "the proxy rejected too few items: the test did not test 429s"
[ "$retries" -gt 0 ] || fail "no batch retry: the test did not test the outage"
[ "$(records "cdcsink.dlq.$test_name-$uid")" -eq 0 ] || fail "records went to the DLQ"
echo ok

#!/usr/bin/env bash
# Redis sink, Redis out of memory (maxmemory reached, noeviction): writes
# are answered OOM; the pipeline retries with backoff, counts the retries
# as class sink_full (the CdcsinkSinkFull alert), sends nothing to the DLQ,
# and once room is made it applies everything.
. "$(dirname "$0")/lib.sh"

table="it_rfull_$uid"
topic="it.public.$table"
psql_source -c "CREATE TABLE $table (id int PRIMARY KEY, v text)"
ensure_it_connector
restore() { rcli CONFIG SET maxmemory 0 >/dev/null 2>&1 || true; }
full_cleanup() { restore; cleanup; }
trap full_cleanup EXIT

used=$(rcli INFO memory | awk -F: '/^used_memory:/ {print $2}' | tr -d '\r')
rcli CONFIG SET maxmemory-policy noeviction >/dev/null
rcli CONFIG SET maxmemory "$((used + 65536))" >/dev/null
psql_source -c "INSERT INTO $table SELECT g, repeat('x', 1000) FROM generate_series(1, 500) g"
wait_records 60 "$topic" 500

port=$((20000 + RANDOM % 5000))
redis_pipeline_file "$work/p.properties" "topics=$topic" "http.listen=127.0.0.1:$port" \
    "errors.retry.backoff.max.ms=500"
start_cdcsink "$work/p.properties" "$work/cdcsink.log"
full_retries() {
    curl -sf "http://127.0.0.1:$port/metrics" |
        awk '/^cdcsink_retries_total.*class="sink_full"/ {print $NF}'
}
wait_for 60 "OOM retries counted as sink_full" bash -c "[ \"\$(curl -sf http://127.0.0.1:$port/metrics | awk '/^cdcsink_retries_total.*class=\"sink_full\"/ {print \$NF}')\" -ge 2 ] 2>/dev/null"
grep -q "out of memory (maxmemory): writes wait" "$work/cdcsink.log" || fail "no log line for the OOM"
caught_up "$work/p.properties" && fail "the pipeline committed while Redis refused writes"

say "room made: everything applied"
restore
wait_for 60 "caught up" caught_up "$work/p.properties"
[ "$(redis_keys "$redis_prefix:*" | wc -l)" -eq 500 ] || fail "want 500 keys"
kill -TERM "$cdcsink_pid"; wait "$cdcsink_pid"
echo "sink_full retries: $(grep -c 'out of memory' "$work/cdcsink.log")"
[ "$(stat dlq "$work/cdcsink.log")" -eq 0 ] || fail "records went to the DLQ"
echo ok

#!/usr/bin/env bash
# Redis sink under faults, with a stream running: Redis stopped for 10 s
# mid-stream, then cdcsink killed with -9 and restarted. Nothing goes to
# the DLQ, the outage is retried, and in the end every key equals its
# source row (nothing lost, nothing regressed).
. "$(dirname "$0")/lib.sh"

table="it_rout_$uid"
topic="it.public.$table"
psql_source -c "CREATE TABLE $table (id int PRIMARY KEY, v int, t text)"
ensure_it_connector
redis_pipeline_file "$work/p.properties" "topics=$topic" "batch.size=200" \
    "errors.retry.backoff.max.ms=1000"
start_cdcsink "$work/p.properties" "$work/cdcsink.log"
# The stream goes on until the test says so (a Redis loading a large AOF
# may take a while to come back), at most 150 rounds.
churn "$table" 150 100 0.3 50 &
writer=$!
cached() { redis_keys "$redis_prefix:*" | wc -l; }
wait_for 60 "some rows cached" bash -c "[ \$(redis-cli --no-auth-warning -u '$REDIS_URL' --scan --pattern '$redis_prefix:*' | wc -l) -gt 0 ]"

say "Redis down for 10 s"
"$root/tests/stack/stack" down redis >/dev/null 2>&1
sleep 10
"$root/tests/stack/stack" up redis >/dev/null 2>&1
kill -0 "$cdcsink_pid" || fail "cdcsink stopped during the outage"

say "kill -9 of cdcsink with $(cached) keys cached"
sleep 2
kill -9 "$cdcsink_pid"
kill -0 "$writer" 2>/dev/null || fail "the stream was over before the kill"
start_cdcsink "$work/p.properties" "$work/cdcsink.log"
sleep 2
touch "$work/stop"
wait "$writer"

q="SELECT '$redis_prefix:$table:' || id, json_build_object('id', id, 'v', v, 't', t)::text FROM $table ORDER BY 1"
converged() {
    psql_source -F ' ' -c "$q" >"$work/want.txt"
    [ "$(redis_keys "$redis_prefix:*" | wc -l)" -eq "$(wc -l <"$work/want.txt")" ] || return 1
    cut -d' ' -f2- "$work/want.txt" | jq -c . >"$work/want.json"
    cut -d' ' -f1 "$work/want.txt" | xargs -n 500 redis-cli --no-auth-warning -u "$REDIS_URL" MGET |
        jq -c . >"$work/got.json" 2>/dev/null || return 1
    cmp -s "$work/want.json" "$work/got.json"
}
wait_for 180 "every key equal to its source row" converged
kill -TERM "$cdcsink_pid"; wait "$cdcsink_pid"
echo "rows=$(wc -l <"$work/want.txt") retries=$(grep -c 'retrying the batch' "$work/cdcsink.log")"
[ "$(grep -c 'retrying the batch' "$work/cdcsink.log")" -gt 0 ] || fail "the outage was not retried"
[ "$(records "cdcsink.dlq.$test_name-$uid")" -eq 0 ] || fail "records went to the DLQ"
[ "$(wc -l <"$work/want.txt")" -gt 2000 ] || fail "too few rows compared"
echo ok

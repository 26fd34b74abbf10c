#!/usr/bin/env bash
# Redis sink on the stack's three-master Redis Cluster, with a stream
# running and 1,000 slots moving from one master to another meanwhile
# (`redis-cli --cluster reshard`: keys migrate, the sink meets MOVED and
# ASK). Every key ends equal to its source row, keys are spread over all
# masters, each position marker shares its key's slot, nothing in the DLQ.
. "$(dirname "$0")/lib.sh"

table="it_rclu_$uid"
topic="it.public.$table"
psql_source -c "CREATE TABLE $table (id int PRIMARY KEY, v int, t text)"
ensure_it_connector
ccli() { redis-cli --no-auth-warning --user cdcsink --pass cdcsink "$@"; }
seed=${REDIS_CLUSTER_URL##*@}; seed=${seed%%,*}
redis_pipeline_file "$work/p.properties" "topics=$topic" "batch.size=200" \
    "connection.url=$REDIS_CLUSTER_URL" "redis.cluster=true" "errors.retry.backoff.max.ms=500"
start_cdcsink "$work/p.properties" "$work/cdcsink.log"
churn "$table" 40 100 0.3 40 &
writer=$!

# A reshard interrupted earlier (a test killed mid-way) leaves open slots,
# and redis-cli refuses to reshard until they are fixed.
ccli --cluster check "$seed" >"$work/check.log" 2>&1 ||
    ccli --cluster fix "$seed" --cluster-yes >"$work/fix.log" 2>&1 || true
say "1000 slots move while the stream runs"
sleep 3
read -r from to <<<"$(ccli -h "${seed%:*}" -p "${seed#*:}" cluster nodes |
    awk '$3 ~ /master/ {n = 0; for (i = 9; i <= NF; i++) {split($i, r, "-"); n += (r[2] ? r[2] - r[1] + 1 : 1)} print n, $1}' |
    sort -rn | awk 'NR == 1 {f = $2} NR == 2 {t = $2} END {print f, t}')"
[ -n "$from" ] && [ -n "$to" ] || fail "could not read the cluster's masters"
ccli --cluster reshard "$seed" --cluster-from "$from" --cluster-to "$to" \
    --cluster-slots 1000 --cluster-yes >"$work/reshard.log" 2>&1 || { tail "$work/reshard.log"; fail "reshard failed"; }
kill -0 "$cdcsink_pid" || fail "cdcsink stopped during the reshard"
wait "$writer"

wait_for 180 "every key equal to its source row" redis_cluster_converged "$table" "$seed"
kill -TERM "$cdcsink_pid"; wait "$cdcsink_pid"
rows=$(wc -l <"$work/want.txt")
say "rows=$rows retries=$(grep -c 'retrying the batch' "$work/cdcsink.log" || true) $(grep -o 'followed [0-9]* MOVED and [0-9]* ASK' "$work/cdcsink.log" || echo 'no redirects')"
grep -q 'followed [1-9][0-9]* MOVED' "$work/cdcsink.log" || fail "the sink never met a moved slot: the test did not test the reshard"
[ "$rows" -gt 2000 ] || fail "too few rows compared"
total=0
for node in $(redis_masters); do
    n=$(ccli -h "${node%:*}" -p "${node#*:}" --scan --pattern "$redis_prefix:*" | wc -l)
    [ "$n" -gt 0 ] || fail "master $node holds none of the keys"
    total=$((total + n))
done
[ "$total" -eq "$rows" ] || fail "the masters hold $total keys, the source $rows rows (deleted keys left behind?)"
key=$(head -n 1 "$work/want.txt" | cut -d' ' -f1)
marker=$(for node in $(redis_masters); do
    ccli -h "${node%:*}" -p "${node#*:}" --scan --pattern "__cdc:pos:*:$key"; done | head -n 1)
[ -n "$marker" ] || fail "no marker for $key"
[ "$(ccli -h "${seed%:*}" -p "${seed#*:}" CLUSTER KEYSLOT "$key")" = \
  "$(ccli -h "${seed%:*}" -p "${seed#*:}" CLUSTER KEYSLOT "$marker")" ] || fail "a marker is not in its key's slot"
[ "$(records "cdcsink.dlq.$test_name-$uid")" -eq 0 ] || fail "records went to the DLQ"
echo ok

#!/usr/bin/env bash
# Redis sink on the stack's Cluster while a replica takes over its master
# (`CLUSTER FAILOVER`, what a managed Redis does for maintenance) and,
# later, while a master is killed with -9 and its replica is promoted by
# the cluster's own failure detection. The sink follows the new masters
# (MOVED from the demoted node, refused connections and CLUSTERDOWN while
# the cluster decides); every key ends equal to its source row and nothing
# goes to the DLQ. At the end the stack gives the masters their roles back.
. "$(dirname "$0")/lib.sh"

table="it_rfail_$uid"
topic="it.public.$table"
psql_source -c "CREATE TABLE $table (id int PRIMARY KEY, v int, t text)"
ensure_it_connector
ccli() { redis-cli --no-auth-warning --user cdcsink --pass cdcsink "$@"; }
node_cli() { ccli -h "${1%:*}" -p "${1#*:}" "${@:2}"; }
seed=${REDIS_CLUSTER_URL##*@}; seed=${seed%%,*}

# replica_of MASTER: host:port of a replica of that master.
replica_of() {
    local id
    id=$(node_cli "$1" CLUSTER MYID)
    node_cli "$1" CLUSTER NODES | awk -v id="$id" '$4 == id && $3 !~ /fail/ {sub(/@.*/, "", $2); print $2; exit}'
}
cluster_ok() { [[ $(node_cli "$1" CLUSTER INFO) == *cluster_state:ok* ]]; }
original_masters=$(redis_masters | sort | tr '\n' ' ' | sed 's/ $//')

redis_pipeline_file "$work/p.properties" "topics=$topic" "batch.size=200" \
    "connection.url=$REDIS_CLUSTER_URL" "redis.cluster=true" "errors.retry.backoff.max.ms=500"
start_cdcsink "$work/p.properties" "$work/cdcsink.log"
churn "$table" 60 50 0.3 40 &
writer=$!

sleep 3
planned=$(redis_masters | head -n 1)
promoted=$(replica_of "$planned")
[ -n "$promoted" ] || fail "master $planned has no replica (is the stack's cluster 3 masters + 3 replicas?)"
say "planned failover: $promoted takes over from $planned"
node_cli "$promoted" CLUSTER FAILOVER >/dev/null
wait_for 30 "$promoted to be a master" bash -c "[ \"\$(redis-cli --no-auth-warning --user cdcsink --pass cdcsink -h ${promoted%:*} -p ${promoted#*:} ROLE | head -n 1)\" = master ]"

sleep 3
killed=$(redis_masters | grep -v "^$promoted\$" | head -n 1)
heir=$(replica_of "$killed")
killed_pid=$(node_cli "$killed" INFO server | tr -d '\r' | awk -F: '$1 == "process_id" {print $2}')
say "unplanned failover: $killed killed (pid $killed_pid), $heir to be promoted"
# Writes the master acknowledged but had not yet sent to its replica
# would be lost with it (Redis replicates asynchronously); WAIT makes
# sure there are none, so what the test checks is the sink's part.
node_cli "$killed" WAIT 1 5000 >/dev/null
kill -9 "$killed_pid"
wait_for 60 "$heir to be promoted" bash -c "[ \"\$(redis-cli --no-auth-warning --user cdcsink --pass cdcsink -h ${heir%:*} -p ${heir#*:} ROLE | head -n 1)\" = master ]"
wait_for 30 "the cluster to be ok again" cluster_ok "$heir"
wait "$writer"
kill -0 "$cdcsink_pid" || fail "cdcsink stopped during the failovers"

wait_for 180 "every key equal to its source row" redis_cluster_converged "$table" "$heir"
kill -TERM "$cdcsink_pid"; wait "$cdcsink_pid"
rows=$(wc -l <"$work/want.txt")
retries=$(grep -c 'retrying the batch' "$work/cdcsink.log" || true)
say "rows=$rows retries=$retries $(grep -o 'followed [0-9]* MOVED and [0-9]* ASK' "$work/cdcsink.log" || echo 'no redirects')"
[ "$rows" -gt 800 ] || fail "too few rows compared"
grep -q 'followed [1-9][0-9]* MOVED' "$work/cdcsink.log" || fail "the sink never met a demoted master: the test did not test the failover"
[ "$retries" -gt 0 ] || fail "no retry while a master was down: the test did not test the outage"
[ "$(records "cdcsink.dlq.$test_name-$uid")" -eq 0 ] || fail "records went to the DLQ"

# The stack restarts the killed node (it rejoins as a replica) and gives
# the first three nodes their master roles back, so the next test meets
# the layout the stack made.
"$root/tests/stack/stack" up redis-cluster >"$work/stack.log" 2>&1 || { cat "$work/stack.log"; fail "the stack could not restore the cluster"; }
masters_restored() { [ "$(redis_masters | sort | tr '\n' ' ' | sed 's/ $//')" = "$original_masters" ]; }
wait_for 30 "the masters to be $original_masters again (now $(redis_masters | tr '\n' ' '))" masters_restored
echo ok

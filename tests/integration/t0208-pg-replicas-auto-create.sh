#!/usr/bin/env bash
# PostgreSQL sink, three replicas of one pipeline started together over a
# whole database (topics.regex, 12 tables, their rows already in Kafka) with
# auto.create into a schema that does not exist yet: every replica meets the
# same missing schema and tables at the same moment. CREATE ... IF NOT EXISTS
# alone races (the loser fails on the catalog's unique index, 23505, and
# stopped). No replica may stop; every table ends equal to its source.
. "$(dirname "$0")/lib.sh"

ntables=12
ensure_it_connector
tables=()
# The topics first (one partition each: a metadata request for a missing
# topic has the broker create it), so the three replicas share them out
# before any record exists; then the tables and their rows, which reach
# the three at the same moment.
for i in $(seq 1 "$ntables"); do
    tables+=("it_race${i}_$uid")
    "$KCAT" -b "$KAFKA_BOOTSTRAP_SERVERS" -L -t "it.public.it_race${i}_$uid" >/dev/null 2>&1
done
for r in 1 2 3; do
    pg_pipeline_file "$work/r$r.properties" "topics.regex=it\\.public\\.it_race[0-9]+_$uid" \
        "auto.create=true" "batch.size=50"
done
say "three replicas, schema $pg_schema not there yet"
pids_r=()
for r in 1 2 3; do start_cdcsink "$work/r$r.properties" "$work/r$r.log"; pids_r+=("$cdcsink_pid"); done
every_replica_assigned() {
    local r
    for r in 1 2 3; do grep -q "assigned [1-9]" "$work/r$r.log" || return 1; done
}
wait_for 60 "every replica holds topics" every_replica_assigned
sleep 3
say "$ntables tables, their rows at once"
for t in "${tables[@]}"; do
    psql_source -c "CREATE TABLE $t (id int PRIMARY KEY, v int NOT NULL)"
done
for i in $(seq 1 "$ntables"); do
    psql_source -c "INSERT INTO ${tables[$((i - 1))]} SELECT g, g * $i FROM generate_series(1, 200) g"
done

q="SELECT id, v FROM %s ORDER BY id"
for t in "${tables[@]}"; do
    wait_for 90 "$t equal to its source" same_rows "$(printf "$q" "$t")" "$(printf "$q" "\"$pg_schema\".\"$t\"")"
done
for r in 1 2 3; do
    kill -0 "${pids_r[$((r - 1))]}" 2>/dev/null || fail "replica $r stopped: $(grep -m1 'fatal' "$work/r$r.log")"
    ! grep -q 'level=error' "$work/r$r.log" || fail "replica $r logged: $(grep -m1 'level=error' "$work/r$r.log")"
done
for r in 1 2 3; do kill -TERM "${pids_r[$((r - 1))]}"; wait "${pids_r[$((r - 1))]}" || fail "replica $r exited with $?"; done
echo ok

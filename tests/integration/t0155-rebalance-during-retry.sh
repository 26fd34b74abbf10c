#!/usr/bin/env bash
# A partition revoked while a retry has the assignment paused, then given
# back after the retry ended, is fetched again. A retry pauses every
# assigned partition and resumes those assigned when it ends; librdkafka
# keeps a partition's pause across its revocation, so one that left during
# the retry missed the resume and, assigned back, would stay paused for ever
# (the chaos suite met it: lag stuck, group Stable, nobody fetching).
# Member A retries through a target outage; B joins (A revokes a partition
# while paused); the target returns (A resumes what it holds); B leaves (the
# partition comes back to A); every later change must reach the target.
. "$(dirname "$0")/lib.sh"

table="it_retry_rebal_$uid"
topic="it.public.$table"
db=$(sed -E 's|.*/([^/?]+).*|\1|' <<<"$TARGET_PG_URL")
psql_source -c "CREATE TABLE $table (id int PRIMARY KEY, v int)"
insert() { psql_source -c "INSERT INTO $table SELECT g, g FROM generate_series($1, $2) g"; }
ensure_it_connector
common=("topics=$topic" "auto.create=true" "errors.retry.backoff.max.ms=1000" "batch.size=50")
pg_pipeline_file "$work/a.properties" "${common[@]}"
pg_pipeline_file "$work/b.properties" "${common[@]}"
q="SELECT id, v FROM %s ORDER BY id"
target_equal() {
    wait_for "$1" "$2" same_rows "$(printf "$q" "$table")" "$(printf "$q" "\"$pg_schema\".\"$table\"")"
}

say "member A alone"
start_cdcsink "$work/a.properties" "$work/a.log"
a=$cdcsink_pid
insert 1 300
target_equal 60 "the first 300 rows"

say "target refused: A retries with its assignment paused"
restore() { psql_source -c "ALTER DATABASE \"$db\" ALLOW_CONNECTIONS true" >/dev/null 2>&1 || true; }
trap 'restore; cleanup' EXIT
psql_source -c "ALTER DATABASE \"$db\" ALLOW_CONNECTIONS false"
psql_source -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '$db'" >/dev/null
insert 301 600
wait_for 60 "A retries" grep -q "transient failure" "$work/a.log"

say "member B joins during the retry: A gives up a paused partition"
start_cdcsink "$work/b.properties" "$work/b.log"
b=$cdcsink_pid
wait_for 60 "A revokes" grep -q "revoking [1-9]" "$work/a.log"
wait_for 60 "B is assigned" grep -q "assigned [1-9]" "$work/b.log"
grep -q "transient failure" "$work/a.log" || fail "A was not retrying"

say "target back: A resumes what it holds, B applies its share"
restore
target_equal 90 "600 rows"

say "B leaves: its partitions come back to A"
assigned_before=$(grep -c "assigned [1-9]" "$work/a.log")
kill -TERM "$b"
wait "$b" || fail "B exited with $?"
wait_for 60 "A is assigned B's partitions" bash -c \
    "[ \$(grep -c 'assigned [1-9]' '$work/a.log') -gt $assigned_before ]"
insert 601 900
psql_source -c "UPDATE $table SET v = -v"
target_equal 90 "900 rows, every one updated after B left (a partition A got back paused is never fetched)"
wait_for 30 "lag 0" caught_up "$work/a.properties"
kill -TERM "$a"
wait "$a" || fail "A exited with $?"
[ "$(consume_all "cdcsink.dlq.$test_name-$uid" '.\n' | grep -c .)" -eq 0 ] || fail "DLQ records during an outage"
echo ok

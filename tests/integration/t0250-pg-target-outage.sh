#!/usr/bin/env bash
# PostgreSQL sink, the target goes away mid-stream: its sessions are killed
# and new ones refused (the stack runs source and target in one cluster, so
# the target database is taken away rather than the server restarted —
# Debezium keeps reading the source meanwhile). No DLQ record, no loss: the
# pipeline retries and converges when the target returns.
. "$(dirname "$0")/lib.sh"

table="it_outage_$uid"
topic="it.public.$table"
db=$(sed -E 's|.*/([^/?]+).*|\1|' <<<"$TARGET_PG_URL")
psql_source -c "CREATE TABLE $table (id int PRIMARY KEY, v int)"
ensure_it_connector
pg_pipeline_file "$work/p.properties" "topics=$topic" "auto.create=true" \
    "errors.retry.backoff.max.ms=1000" "batch.size=50"
start_cdcsink "$work/p.properties" "$work/cdcsink.log"
psql_source -c "INSERT INTO $table SELECT g, g FROM generate_series(1, 100) g"
wait_for 60 "the first 100 rows" bash -c "[ \"\$(psql '$TARGET_PG_URL' -Atc 'SELECT count(*) FROM \"$pg_schema\".\"$table\"' 2>/dev/null)\" = 100 ]"

say "target database refused and its sessions terminated"
restore() { psql_source -c "ALTER DATABASE \"$db\" ALLOW_CONNECTIONS true" >/dev/null 2>&1 || true; }
trap 'restore; cleanup' EXIT
psql_source -c "ALTER DATABASE \"$db\" ALLOW_CONNECTIONS false"
psql_source -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '$db'" >/dev/null
psql_source -c "INSERT INTO $table SELECT g, g FROM generate_series(101, 300) g"
psql_source -c "UPDATE $table SET v = -v WHERE id % 2 = 0"
sleep 10
kill -0 "$cdcsink_pid" || fail "cdcsink exited during the outage"
grep -q "transient failure" "$work/cdcsink.log" || fail "no retry logged"

say "target back"
restore
q="SELECT id, v FROM %s ORDER BY id"
wait_for 90 "target equal to source" same_rows "$(printf "$q" "$table")" "$(printf "$q" "\"$pg_schema\".\"$table\"")"
[ "$(psql_target -c "SELECT count(*) FROM \"$pg_schema\".\"$table\"")" -eq 300 ] || fail "want 300 rows"
[ "$(consume_all "cdcsink.dlq.$test_name-$uid" '.\n' | grep -c .)" -eq 0 ] || fail "DLQ records during an outage"
echo ok

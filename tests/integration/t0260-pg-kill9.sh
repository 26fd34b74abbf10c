#!/usr/bin/env bash
# PostgreSQL sink, kill -9 of cdcsink in the middle of batches, then a
# restart: the target converges to the source.
. "$(dirname "$0")/lib.sh"

table="it_pgkill_$uid"
topic="it.public.$table"
psql_source -c "CREATE TABLE $table (id int PRIMARY KEY, v int, t text)"
ensure_it_connector
pg_pipeline_file "$work/p.properties" "topics=$topic" "auto.create=true" "batch.size=100"
start_cdcsink "$work/p.properties" "$work/cdcsink.log"
churn "$table" 40 100 0 0 &
writer=$!
count() { psql "$TARGET_PG_URL" -Atc "SELECT count(*) FROM \"$pg_schema\".\"$table\"" 2>/dev/null || echo 0; }
wait_for 60 "some rows applied" bash -c "[ \$(psql '$TARGET_PG_URL' -Atc 'SELECT count(*) FROM \"$pg_schema\".\"$table\"' 2>/dev/null || echo 0) -gt 0 ]"
at_kill=$(count)
kill -9 "$cdcsink_pid"
say "kill -9 with $at_kill rows in the target"
wait "$writer"
[ "$at_kill" -lt 4000 ] || fail "the stream was over before the kill"
start_cdcsink "$work/p.properties" "$work/cdcsink.log"
q="SELECT id, v, t FROM %s ORDER BY id"
wait_for 120 "target equal to source" same_rows "$(printf "$q" "$table")" "$(printf "$q" "\"$pg_schema\".\"$table\"")"
psql_source -c "$(printf "$q" "$table")" >"$work/source.txt"
psql_target -c "$(printf "$q" "\"$pg_schema\".\"$table\"")" >"$work/target.txt"
diff -q "$work/source.txt" "$work/target.txt" || fail "target differs from source"
[ "$(wc -l <"$work/target.txt")" -eq 4000 ] || fail "want 4000 rows"
echo ok

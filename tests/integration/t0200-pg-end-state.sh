#!/usr/bin/env bash
# PostgreSQL sink, end state: after a mixed workload on a source table with
# every type of the fixture table (inserts, updates, deletes, NULLs, a
# TOASTed column left unchanged by updates) the target table created by
# auto.create equals the source table, value for value, compared with SQL.
. "$(dirname "$0")/lib.sh"

table="it_types_$uid"
mood="it_mood_$uid"
types_table_create "$table" "$mood"
ensure_it_connector
topic="it.public.$table"

say "the fixture's changes, then 200 more rows, updates and deletes"
types_table_fill "$table" "$mood"
psql_source <<SQL
UPDATE $table SET c_text = 'updated ' || id, c_numeric = -c_numeric WHERE id % 3 = 0;
UPDATE $table SET c_int4 = NULL, c_jsonb = NULL WHERE id % 7 = 0;
DELETE FROM $table WHERE id % 11 = 0;
UPDATE $table SET c_text = 'again ' || id WHERE id % 13 = 0;
SQL

pg_pipeline_file "$work/p.properties" "topics=$topic" "auto.create=true" "batch.size=50"
start_cdcsink "$work/p.properties" "$work/cdcsink.log"

# Debezium sends numeric-without-scale values with trailing zeros dropped
# (6.0000 arrives as 6): equal as numbers, so compare them as numbers.
columns="id, c_int2, c_int4, c_int8, c_numeric, trim_scale(c_numeric_any), c_real, c_double, c_bool,
    c_text, c_varchar, c_char, c_bytea, c_date, c_time, c_timestamp, c_timestamptz,
    c_interval, c_uuid, c_json::jsonb, c_jsonb, c_enum, c_int_array, c_text_array, md5(c_big)"
# Converged when both answer the same (the lag alone can read 0 before
# Debezium has published everything).
wait_for 120 "target equal to source" same_rows "SELECT $columns FROM public.$table ORDER BY id" \
    "SELECT $columns FROM \"$pg_schema\".\"$table\" ORDER BY id"
psql_source -P null=NULL -c "SELECT $columns FROM public.$table ORDER BY id" >"$work/source.txt"
psql_target -P null=NULL -c "SELECT $columns FROM \"$pg_schema\".\"$table\" ORDER BY id" >"$work/target.txt"
say "source: $(wc -l <"$work/source.txt") rows, target: $(wc -l <"$work/target.txt") rows"
diff "$work/source.txt" "$work/target.txt" >"$work/diff.txt" || { head -20 "$work/diff.txt"; fail "target differs from source"; }
[ "$(wc -l <"$work/source.txt")" -gt 150 ] || fail "too few rows compared"
# Rows whose TOASTed c_big was left unchanged by an update kept it.
big="SELECT count(*) FROM %s WHERE length(c_big) >= 9600 AND c_text LIKE 'updated%%'"
toasted=$(psql_source -c "$(printf "$big" "public.$table")")
[ "$toasted" -gt 5 ] || fail "the workload updated only $toasted rows with TOASTed values"
[ "$(psql_target -c "$(printf "$big" "\"$pg_schema\".\"$table\"")")" -eq "$toasted" ] ||
    fail "TOASTed values lost"
kill -TERM "$cdcsink_pid"
wait "$cdcsink_pid"
echo "dlq=$(stat dlq "$work/cdcsink.log") applied=$(stat applied "$work/cdcsink.log") stale=$(stat stale "$work/cdcsink.log")"
[ "$(stat dlq "$work/cdcsink.log")" -eq 0 ] || fail "records went to the DLQ"
echo ok

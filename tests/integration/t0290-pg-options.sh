#!/usr/bin/env bash
# PostgreSQL sink options and fatal errors:
# - delete.mode=none ignores deletes;
# - delete.on.tombstone=true deletes by key on a tombstone (unguarded);
# - pk.fields sets the primary key auto.create uses;
# - a missing table with auto.create=false, and bad credentials, stop the
#   pipeline with exit 1 and one clear line, committing nothing.
. "$(dirname "$0")/lib.sh"

table="it_opts_$uid"
topic="it.public.$table"
psql_source -c "CREATE TABLE $table (id int PRIMARY KEY, code text NOT NULL, v int)"
# pk.fields below names a column beyond the record key: deletes need it in
# their before image.
psql_source -c "ALTER TABLE $table REPLICA IDENTITY FULL"
ensure_it_connector
psql_source <<SQL
INSERT INTO $table SELECT g, 'k' || g, g FROM generate_series(1, 5) g;
DELETE FROM $table WHERE id IN (1, 2);
SQL
wait_records 60 "$topic" 9   # 5 inserts, 2 deletes, 2 tombstones

rows() { psql_target -c "SELECT string_agg(id::text, ',' ORDER BY id) FROM \"$1\".\"$table\""; }

say "delete.mode=none"
pg_pipeline_file "$work/none.properties" "topics=$topic" "auto.create=true" "name=none-$uid" \
    "delete.mode=none" "table.schema=${pg_schema}_none"
start_cdcsink "$work/none.properties" "$work/none.log"
wait_for 60 "caught up" caught_up "$work/none.properties"
kill -TERM "$cdcsink_pid"; wait "$cdcsink_pid"
[ "$(rows "${pg_schema}_none")" = "1,2,3,4,5" ] || fail "delete.mode=none deleted rows: $(rows "${pg_schema}_none")"
[ "$(stat skipped "$work/none.log")" -eq 4 ] || fail "want the 2 deletes and 2 tombstones skipped"

say "delete.mode=none + delete.on.tombstone=true: the tombstones delete"
pg_pipeline_file "$work/tomb.properties" "topics=$topic" "auto.create=true" "name=tomb-$uid" \
    "delete.mode=none" "delete.on.tombstone=true" "table.schema=${pg_schema}_tomb"
start_cdcsink "$work/tomb.properties" "$work/tomb.log"
wait_for 60 "caught up" caught_up "$work/tomb.properties"
kill -TERM "$cdcsink_pid"; wait "$cdcsink_pid"
[ "$(rows "${pg_schema}_tomb")" = "3,4,5" ] || fail "tombstones did not delete: $(rows "${pg_schema}_tomb")"

say "pk.fields=code"
pg_pipeline_file "$work/pk.properties" "topics=$topic" "auto.create=true" "name=pk-$uid" \
    "pk.fields=code,id" "table.schema=${pg_schema}_pk"
start_cdcsink "$work/pk.properties" "$work/pk.log"
wait_for 60 "caught up" caught_up "$work/pk.properties"
kill -TERM "$cdcsink_pid"; wait "$cdcsink_pid"
pk=$(psql_target -c "SELECT string_agg(a.attname, ',' ORDER BY array_position(i.indkey, a.attnum))
    FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
    WHERE i.indrelid = '\"${pg_schema}_pk\".\"$table\"'::regclass AND i.indisprimary")
[ "$pk" = "id,code" ] || [ "$pk" = "code,id" ] || fail "primary key is ($pk), want code and id"
[ "$(rows "${pg_schema}_pk")" = "3,4,5" ] || fail "pk.fields table: $(rows "${pg_schema}_pk")"

say "missing table, auto.create=false: exit 1, nothing committed"
pg_pipeline_file "$work/missing.properties" "topics=$topic" "name=missing-$uid" \
    "table.schema=${pg_schema}_missing"
status=0; timeout 60 "$CDCSINK" run -c "$work/missing.properties" >"$work/missing.log" 2>&1 || status=$?
[ "$status" -eq 1 ] || fail "exit $status, want 1"
grep -q 'does not exist (create it, or set auto.create=true)' "$work/missing.log" || fail "no clear line"
[ "$(lag_json "$work/missing.properties" | jq '[.partitions[].committed] | max')" -eq -1 ] || fail "committed"

say "bad credentials: exit 1, the password never printed"
bad_url=$(sed -E 's|://([^:]+):[^@]+@|://\1:wrong-pw-'"$uid"'@|' <<<"$TARGET_PG_URL")
pg_pipeline_file "$work/auth.properties" "topics=$topic" "name=auth-$uid" "connection.url=$bad_url"
status=0; timeout 60 "$CDCSINK" run -c "$work/auth.properties" >"$work/auth.log" 2>&1 || status=$?
[ "$status" -eq 1 ] || fail "exit $status, want 1"
grep -q "password authentication failed" "$work/auth.log" || fail "no clear line: $(tail -2 "$work/auth.log")"
! grep -q "wrong-pw-$uid" "$work/auth.log" || fail "the password was printed"
echo ok

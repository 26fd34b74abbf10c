#!/usr/bin/env bash
# PostgreSQL sink, ALTER TABLE ... ADD COLUMN on the source while running.
# With auto.evolve=true the column appears in the target and fills. With
# auto.evolve=false the pipeline stops (exit 1) with a line naming the
# missing column, committing nothing past it (docs: sinks/postgres/README).
# A column whose type changes at the source sends its records to the DLQ
# with class schema; after the target column is changed, new records flow
# again without a restart and a DLQ replay applies the parked ones.
. "$(dirname "$0")/lib.sh"

table="it_evolve_$uid"
topic="it.public.$table"
psql_source -c "CREATE TABLE $table (id int PRIMARY KEY, v int)"
ensure_it_connector
pg_pipeline_file "$work/on.properties" "topics=$topic" "auto.create=true" "auto.evolve=true" "name=on-$uid"
start_cdcsink "$work/on.properties" "$work/on.log"
psql_source -c "INSERT INTO $table VALUES (1, 1)"
wait_records 60 "$topic" 1
wait_for 60 "row 1" caught_up "$work/on.properties"

say "source gains a column"
psql_source -c "ALTER TABLE $table ADD COLUMN extra text"
psql_source -c "INSERT INTO $table VALUES (2, 2, 'e2')"
psql_source -c "UPDATE $table SET extra = 'e1' WHERE id = 1"
wait_records 60 "$topic" 3
wait_for 60 "caught up" caught_up "$work/on.properties"
rows=$(psql_target -c "SELECT id, v, extra FROM \"$pg_schema\".\"$table\" ORDER BY id" | tr '\n' ' ')
[ "$rows" = "1|1|e1 2|2|e2 " ] || fail "auto.evolve=true: target has $rows"
grep -q 'auto.evolve: added column \\"extra\\"' "$work/on.log" || fail "no auto.evolve log line"

say "a type change at the source: DLQ with class schema, then fix and replay"
psql_source -c "ALTER TABLE $table ALTER COLUMN v TYPE text USING v::text"
psql_source -c "INSERT INTO $table VALUES (3, 'three', 'e3')"
wait_records 60 "$topic" 4
wait_for 60 "caught up" caught_up "$work/on.properties"
dlq="cdcsink.dlq.on-$uid"
record=$(consume_all "$dlq" '%h\n')
[ "$(echo "$record" | grep -c .)" -eq 1 ] || fail "want one DLQ record, got: $record"
for h in "cdcsink.error.class=schema" "__connect.errors.exception.class.name=cdcsink.SchemaChange" \
         'column "v"' "is integer"; do
    [[ "$record" == *"$h"* ]] || fail "DLQ header missing: $h in $record"
done
[ "$(psql_target -c "SELECT count(*) FROM \"$pg_schema\".\"$table\" WHERE id = 3")" -eq 0 ] ||
    fail "the record of the changed type was written"
psql_target -c "ALTER TABLE \"$pg_schema\".\"$table\" ALTER COLUMN v TYPE text USING v::text"
psql_source -c "INSERT INTO $table VALUES (4, 'four', 'e4')"
wait_records 60 "$topic" 5
wait_for 60 "row 4 without a restart" bash -c \
    "[ \"\$(psql '$TARGET_PG_URL' -Atc 'SELECT v FROM \"$pg_schema\".\"$table\" WHERE id = 4')\" = four ]"
dlq_replay "$work/on.properties" "$work/replay.out" >/dev/null
[ "$replay_rc" -eq 0 ] || fail "dlq replay exited $replay_rc: $(cat "$work/replay.out.log")"
rows=$(psql_target -c "SELECT id, v, extra FROM \"$pg_schema\".\"$table\" ORDER BY id" | tr '\n' ' ')
[ "$rows" = "1|1|e1 2|2|e2 3|three|e3 4|four|e4 " ] || fail "after fix and replay: target has $rows"

say "auto.evolve=false: a table without the column"
psql_target -c "CREATE TABLE \"$pg_schema\".\"${table}_fixed\" (id int PRIMARY KEY, v int, __cdc_lsn bigint NOT NULL)"
pg_pipeline_file "$work/off.properties" "topics=$topic" "auto.evolve=false" "name=off-$uid" \
    "table.name.format=\${source.table}_fixed"
status=0
timeout 60 "$CDCSINK" run -c "$work/off.properties" >"$work/off.log" 2>&1 || status=$?
[ "$status" -eq 1 ] || fail "exit $status, want 1"
grep -q 'has no column \\"extra\\"' "$work/off.log" || fail "the fatal line does not name the column"
# The first batch holds the records of both schemas: none is applied and
# nothing is committed, so a restart after the fix starts over.
committed=$(lag_json "$work/off.properties" | jq '[.partitions[].committed] | max')
[ "$committed" -eq -1 ] || fail "offsets committed past the incompatible record: $committed"
rows=$(psql_target -c "SELECT count(*) FROM \"$pg_schema\".\"${table}_fixed\"")
[ "$rows" -eq 0 ] || fail "auto.evolve=false: the batch was partly applied"

say "after adding the column by hand, a restart converges"
psql_target -c "ALTER TABLE \"$pg_schema\".\"${table}_fixed\" ADD COLUMN extra text"
start_cdcsink "$work/off.properties" "$work/off2.log"
wait_for 60 "caught up" caught_up "$work/off.properties"
rows=$(psql_target -c "SELECT id, v, extra FROM \"$pg_schema\".\"${table}_fixed\" ORDER BY id" | tr '\n' ' ')
[ "$rows" = "1|1|e1 2|2|e2 " ] || fail "after the fix: target has $rows"
echo ok

#!/usr/bin/env bash
# PostgreSQL sink, guard: older changes delivered again after newer ones
# (the real Debezium records, produced again byte for byte) change nothing;
# a stale insert after a delete does not resurrect the row — it stays
# deleted with delete.mode=hard (tombstone ledger) and flagged with
# delete.mode=soft; a genuinely newer insert brings the row back in both.
. "$(dirname "$0")/lib.sh"

table="it_ooo_$uid"
topic="it.public.$table"
guard_fixture "$table"

pg_pipeline_file "$work/hard.properties" "topics=$topic" "auto.create=true" "name=hard-$uid"
pg_pipeline_file "$work/soft.properties" "topics=$topic" "auto.create=true" "name=soft-$uid" \
    "delete.mode=soft" "table.schema=${pg_schema}_soft"
start_cdcsink "$work/hard.properties" "$work/hard.log"; hard=$cdcsink_pid
start_cdcsink "$work/soft.properties" "$work/soft.log"; soft=$cdcsink_pid
wait_for 60 "hard caught up" caught_up "$work/hard.properties"
wait_for 60 "soft caught up" caught_up "$work/soft.properties"

say "old insert and update of key 1, old insert of deleted key 2, again"
"$REPRODUCE" "$KAFKA_BOOTSTRAP_SERVERS" "$topic" "$p1" "$o_insert1"
"$REPRODUCE" "$KAFKA_BOOTSTRAP_SERVERS" "$topic" "$p1" "$o_update_b"
"$REPRODUCE" "$KAFKA_BOOTSTRAP_SERVERS" "$topic" "$p2" "$o_insert2"
wait_for 60 "hard caught up again" caught_up "$work/hard.properties"
wait_for 60 "soft caught up again" caught_up "$work/soft.properties"

hard_rows() { psql_target -c "SELECT id, v FROM \"$pg_schema\".\"$table\" ORDER BY id" | tr '\n' ' '; }
soft_rows() { psql_target -c "SELECT id, v, __cdc_deleted FROM \"${pg_schema}_soft\".\"$table\" ORDER BY id" | tr '\n' ' '; }
[ "$(hard_rows)" = "1|c " ] || fail "hard: $(hard_rows), want only 1|c"
[ "$(soft_rows)" = "1|c|f 2|x|t " ] || fail "soft: $(soft_rows), want 1|c|f 2|x|t"
[ "$(psql_target -c "SELECT count(*) FROM cdcsink.tombstones WHERE target_table = '\"$pg_schema\".\"$table\"' AND key = '{2}'")" -eq 1 ] ||
    fail "no tombstone for key 2"

say "a newer insert of key 2 brings it back"
psql_source -c "INSERT INTO $table VALUES (2, 'y')"
wait_for 60 "hard has key 2 again" bash -c "[ \"\$(psql '$TARGET_PG_URL' -Atc 'SELECT v FROM \"$pg_schema\".\"$table\" WHERE id = 2')\" = y ]"
wait_for 60 "soft has key 2 undeleted" bash -c "[ \"\$(psql '$TARGET_PG_URL' -Atc 'SELECT v, __cdc_deleted FROM \"${pg_schema}_soft\".\"$table\" WHERE id = 2')\" = 'y|f' ]"
kill -TERM "$hard" "$soft"; wait "$hard" "$soft"
[ "$(stat stale "$work/hard.log")" -ge 3 ] || fail "hard: the old records were not counted stale"
echo ok

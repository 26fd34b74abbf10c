#!/usr/bin/env bash
# PostgreSQL sink, replay: a second pipeline with a new group reads the
# topic again from the beginning; the target does not change, nothing is
# applied, and every replayed change counts as stale (tombstones are
# skipped, as by default). Then a third group replays with new changes
# mixed into the same batch: its counted statements see some rows change
# and not others, so the sink writes the batch again precisely and counts
# exactly the new ones as applied.
. "$(dirname "$0")/lib.sh"

table="it_replay_$uid"
topic="it.public.$table"
psql_source -c "CREATE TABLE $table (id int PRIMARY KEY, v text, n int)"
ensure_it_connector
psql_source <<SQL
INSERT INTO $table SELECT g, 'v' || g, g FROM generate_series(1, 300) g;
UPDATE $table SET v = 'u' || id, n = n + 1 WHERE id % 2 = 0;
DELETE FROM $table WHERE id % 10 = 0;
UPDATE $table SET n = -n WHERE id % 3 = 0;
SQL
wait_records 60 "$topic" 600   # 300 + 150 + 30 deletes + 30 tombstones + 90
pg_pipeline_file "$work/first.properties" "topics=$topic" "auto.create=true" "name=first-$uid"
start_cdcsink "$work/first.properties" "$work/first.log"
wait_for 90 "the first pipeline caught up" caught_up "$work/first.properties"
kill -TERM "$cdcsink_pid"; wait "$cdcsink_pid"
snapshot() { psql_target -c "SELECT id, v, n, __cdc_lsn FROM \"$pg_schema\".\"$table\" ORDER BY id"; }
snapshot >"$work/before.txt"
[ "$(wc -l <"$work/before.txt")" -eq 270 ] || fail "want 270 rows after the first pass"

say "replay from the beginning with a new group"
pg_pipeline_file "$work/second.properties" "topics=$topic" "auto.create=true" "name=second-$uid"
start_cdcsink "$work/second.properties" "$work/second.log"
wait_for 90 "the replay caught up" caught_up "$work/second.properties"
kill -TERM "$cdcsink_pid"; wait "$cdcsink_pid"
snapshot >"$work/after.txt"
diff "$work/before.txt" "$work/after.txt" || fail "the replay changed the target"

consumed=$(stat consumed "$work/second.log")
tombstones=$(consume_all "$topic" '%S\n' | grep -c '^-1$' || true)
say "replayed $consumed records ($tombstones tombstones): applied=$(stat applied "$work/second.log") stale=$(stat stale "$work/second.log")"
[ "$consumed" -eq $((300 + 150 + 30 + 90 + 30)) ] || fail "consumed $consumed"
[ "$(stat applied "$work/second.log")" -eq 0 ] || fail "the replay applied changes"
[ "$(stat dlq "$work/second.log")" -eq 0 ] || fail "the replay sent records to the DLQ"
[ "$(stat stale "$work/second.log")" -eq $((consumed - tombstones)) ] ||
    fail "stale $(stat stale "$work/second.log") != replayed $((consumed - tombstones))"

say "a replay with new changes in the same batch: applied and stale told apart"
psql_source -c "INSERT INTO $table SELECT g, 'v' || g, g FROM generate_series(301, 400) g"
wait_records 60 "$topic" 700
pg_pipeline_file "$work/third.properties" "topics=$topic" "auto.create=true" "name=third-$uid" \
    batch.size=1000 batch.max.wait.ms=5000
start_cdcsink "$work/third.properties" "$work/third.log"
wait_for 90 "the mixed replay caught up" caught_up "$work/third.properties"
kill -TERM "$cdcsink_pid"; wait "$cdcsink_pid"
consumed=$(stat consumed "$work/third.log")
say "mixed replay of $consumed records: applied=$(stat applied "$work/third.log") stale=$(stat stale "$work/third.log")"
[ "$consumed" -eq $((600 + 100)) ] || fail "consumed $consumed"
[ "$(stat applied "$work/third.log")" -eq 100 ] || fail "want the 100 new rows applied"
[ "$(stat stale "$work/third.log")" -eq $((consumed - tombstones - 100)) ] ||
    fail "want $((consumed - tombstones - 100)) stale, got $(stat stale "$work/third.log")"
same_rows "SELECT id, v, n FROM $table ORDER BY id" \
    "SELECT id, v, n FROM \"$pg_schema\".\"$table\" ORDER BY id" || fail "the target differs from the source after the mixed replay"
echo ok

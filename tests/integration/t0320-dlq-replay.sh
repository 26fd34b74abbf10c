#!/usr/bin/env bash
# dlq replay, PostgreSQL sink: rows a CHECK constraint on the target rejects
# go to the DLQ; inspect shows them; once the constraint is dropped, replay
# applies them. An old change for a key that has newer data stays stale. A
# record that fails again goes back to the DLQ with
# cdcsink.replay.attempts=1 and the replay exits 1. A second replay resumes
# after the first and changes nothing. A replay running next to the live
# pipeline, while the source keeps changing the same keys, leaves the
# target equal to the source. Records a filter does not select are skipped
# and committed past.
. "$(dirname "$0")/lib.sh"

table="it_repl_$uid"
topic="it.public.$table"
name="$test_name-$uid"
dlq="cdcsink.dlq.$name"
target="\"$pg_schema\".\"$table\""
psql_source -c "CREATE TABLE $table (id int PRIMARY KEY, v int)"
psql_target <<SQL
CREATE SCHEMA "$pg_schema";
CREATE TABLE $target (id int PRIMARY KEY, v int CONSTRAINT v_nonneg CHECK (v >= 0),
    __cdc_lsn bigint NOT NULL, __cdc_deleted boolean NOT NULL DEFAULT false);
SQL
ensure_it_connector
pg_pipeline_file "$work/p.properties" "topics=$topic"
target_rows() { psql_target -c "SELECT string_agg(id || '=' || v, ' ' ORDER BY id) FROM $target"; }
dlq_count() { [ "$(records "$dlq")" -ge "$1" ]; }

say "the live pipeline dead-letters four rejected changes"
start_cdcsink "$work/p.properties" "$work/live.log"
psql_source -c "INSERT INTO $table VALUES (1, 1), (2, -2), (3, -3), (4, -7), (5, 5)"
wait_for 60 "three rejected inserts in the DLQ" dlq_count 3
# The update must be dead-lettered before the newer one exists, or the
# batch would collapse both into the newer.
psql_source -c "UPDATE $table SET v = -1 WHERE id = 1"
wait_for 60 "the rejected update in the DLQ" dlq_count 4
psql_source -c "UPDATE $table SET v = 5 WHERE id = 1"
wait_records 60 "$topic" 7
wait_for 60 "caught up" caught_up "$work/p.properties"
kill -TERM "$cdcsink_pid"; wait "$cdcsink_pid"
[ "$(target_rows)" = "1=5 5=5" ] || fail "target before the replay: $(target_rows)"

say "inspect shows them"
"$CDCSINK" dlq inspect -c "$work/p.properties" >"$work/inspect1.jsonl"
cat "$work/inspect1.jsonl"
[ "$(jq -s -c 'map(.change.key.id) | sort' "$work/inspect1.jsonl")" = "[1,2,3,4]" ] ||
    fail "want the changes of keys 1-4 in the DLQ"
jq -s -e 'all(.[]; .headers["__connect.errors.exception.class.name"] == "SQLSTATE 23514")' \
    "$work/inspect1.jsonl" >/dev/null || fail "not all rejected by the constraint"
jq -e 'select(.change.key.id == 1) | .change.op == "u" and .change.after.v == -1' \
    "$work/inspect1.jsonl" >/dev/null || fail "the update of key 1 is not the rejected v=-1"

say "drop the constraint, but reject v=-7 still: replay applies two, one is stale, one fails again"
psql_target -c "ALTER TABLE $target DROP CONSTRAINT v_nonneg, ADD CONSTRAINT no_seven CHECK (v <> -7)"
dlq_replay "$work/p.properties" "$work/replay1.txt"
[ "$replay_rc" -eq 1 ] || fail "a replay with a record failing again exited $replay_rc"
[ "$(replay_stat applied "$work/replay1.txt")" -eq 2 ] || fail "applied"
[ "$(replay_stat stale "$work/replay1.txt")" -eq 1 ] || fail "stale: the old change of key 1"
[ "$(replay_stat failed_again "$work/replay1.txt")" -eq 1 ] || fail "failed_again"
[ "$(replay_stat skipped_by_filter "$work/replay1.txt")" -eq 0 ] || fail "skipped_by_filter"
[ "$(target_rows)" = "1=5 2=-2 3=-3 5=5" ] || fail "target after the replay: $(target_rows)"

say "the record that failed again is back in the DLQ: same bytes and source, attempts=1"
"$CDCSINK" dlq inspect -c "$work/p.properties" >"$work/inspect2.jsonl"
[ "$(wc -l <"$work/inspect2.jsonl")" -eq 5 ] || fail "want 5 DLQ records"
again=$(tail -n 1 "$work/inspect2.jsonl")
echo "$again"
first=$(jq -c 'select(.change.key.id == 4)' "$work/inspect1.jsonl")
echo "$again" | jq -e --argjson f "$first" '
    .headers["cdcsink.replay.attempts"] == "1"
    and .source == $f.source and .change == $f.change
    and .headers["__connect.errors.exception.class.name"] == "SQLSTATE 23514"
    and (.headers["__connect.errors.exception.message"] | test("no_seven"))
    and .headers["cdcsink.pipeline"] == $f.headers["cdcsink.pipeline"]' >/dev/null ||
    fail "the re-dead-lettered record does not match the original"
offset=$(echo "$again" | jq .dlq.offset)
part=$(echo "$again" | jq .dlq.partition)
orig=$(echo "$first" | jq .dlq.offset)
origp=$(echo "$first" | jq .dlq.partition)
[ "$("$KCAT" -b "$KAFKA_BOOTSTRAP_SERVERS" -C -t "$dlq" -p "$part" -o "$offset" -c 1 -e -q -f '%k|%s' | md5sum)" = \
  "$("$KCAT" -b "$KAFKA_BOOTSTRAP_SERVERS" -C -t "$dlq" -p "$origp" -o "$orig" -c 1 -e -q -f '%k|%s' | md5sum)" ] ||
    fail "the key/value bytes changed on the way back to the DLQ"

say "drop the last constraint: the replay resumes and applies only the record that came back"
psql_target -c "ALTER TABLE $target DROP CONSTRAINT no_seven"
dlq_replay "$work/p.properties" "$work/replay2.txt"
[ "$replay_rc" -eq 0 ] || fail "replay exited $replay_rc"
[ "$(cat "$work/replay2.txt")" = "replay: applied=1 stale=0 failed_again=0 skipped_by_filter=0" ] ||
    fail "second replay"
[ "$(target_rows)" = "1=5 2=-2 3=-3 4=-7 5=5" ] || fail "target: $(target_rows)"
same_rows "SELECT id, v FROM $table ORDER BY id" "SELECT id, v FROM $target ORDER BY id" ||
    fail "target differs from the source"

say "replaying again changes nothing"
before=$(psql_target -c "SELECT id, v, __cdc_lsn FROM $target ORDER BY id" | md5sum)
dlq_replay "$work/p.properties" "$work/replay3.txt"
[ "$replay_rc" -eq 0 ] || fail "replay exited $replay_rc"
[ "$(cat "$work/replay3.txt")" = "replay: applied=0 stale=0 failed_again=0 skipped_by_filter=0" ] ||
    fail "third replay"
[ "$(psql_target -c "SELECT id, v, __cdc_lsn FROM $target ORDER BY id" | md5sum)" = "$before" ] ||
    fail "the target changed"

say "200 more rejections while the live pipeline runs"
psql_target -c "ALTER TABLE $target ADD CONSTRAINT lt_1000 CHECK (v < 1000) NOT VALID"
start_cdcsink "$work/p.properties" "$work/live2.log"
psql_source -c "INSERT INTO $table SELECT g, 1000 + g FROM generate_series(100, 299) g"
wait_for 90 "205 DLQ records" dlq_count 205
wait_for 60 "caught up" caught_up "$work/p.properties"

say "a dry run selects by source coordinates and commits nothing"
first_off=$(jq -s 'map(.source.offset) | min' <("$CDCSINK" dlq inspect -c "$work/p.properties" --since 1h | jq -c 'select(.change.key.id >= 100 and .source.partition == 0)'))
dry_rc=0
"$CDCSINK" dlq replay -c "$work/p.properties" --dry-run --topic "$topic" --partition 0 \
    --offsets "$first_off-$((first_off + 9))" >"$work/dry.txt" 2>/dev/null || dry_rc=$?
tail -n 1 "$work/dry.txt"
[ "$dry_rc" -eq 0 ] || fail "dry run exited $dry_rc"
selected=$(grep -c '^apply ' "$work/dry.txt" || true)
[ "$selected" -ge 1 ] && [ "$selected" -le 10 ] || fail "dry run selected $selected"
[ "$(replay_stat would_apply "$work/dry.txt")" -eq "$selected" ] || fail "would_apply"
[ "$(replay_stat skipped_by_filter "$work/dry.txt")" -eq $((200 - selected)) ] || fail "skipped_by_filter"
[ "$(psql_target -c "SELECT count(*) FROM $target WHERE id >= 100")" -eq 0 ] || fail "the dry run wrote"

say "replay while the live pipeline runs and the source changes the same keys"
psql_target -c "ALTER TABLE $target DROP CONSTRAINT lt_1000"
(
    for i in 1 2 3 4 5; do
        psql_source -c "UPDATE $table SET v = v + 1 WHERE id BETWEEN 100 AND 299"
        sleep 0.5
    done
    psql_source -c "DELETE FROM $table WHERE id BETWEEN 100 AND 119"
    psql_source -c "UPDATE $table SET v = -v WHERE id BETWEEN 280 AND 299"
) &
writer=$!
pids+=("$writer")
# Once the live pipeline has applied newer changes of some keys, their
# replayed inserts must come out stale.
wait_for 30 "live updates in the target" bash -c \
    "[ \$(psql '$TARGET_PG_URL' -Atc 'SELECT count(*) FROM $target WHERE id >= 100') -gt 0 ]"
dlq_replay "$work/p.properties" "$work/replay4.txt" --class data --since 1h
kill -0 "$writer" 2>/dev/null && say "(the source was still changing when the replay ended)"
wait "$writer"
# 207 so far, 5 x 200 updates, 20 deletes and their tombstones, 20 updates.
wait_records 60 "$topic" 1267
[ "$replay_rc" -eq 0 ] || fail "the concurrent replay exited $replay_rc"
[ "$(replay_stat failed_again "$work/replay4.txt")" -eq 0 ] || fail "failed_again"
[ "$(( $(replay_stat applied "$work/replay4.txt") + $(replay_stat stale "$work/replay4.txt") ))" -eq 200 ] ||
    fail "applied + stale != 200"
[ "$(replay_stat stale "$work/replay4.txt")" -gt 0 ] || fail "no replayed change was stale"
wait_for 60 "caught up" caught_up "$work/p.properties"
same_rows "SELECT id, v FROM $table ORDER BY id" "SELECT id, v FROM $target WHERE NOT __cdc_deleted ORDER BY id" ||
    fail "target differs from the source: $(diff <(psql_source -c "SELECT id, v FROM $table ORDER BY id") \
        <(psql_target -c "SELECT id, v FROM $target ORDER BY id") | head)"
[ "$(psql_target -c "SELECT count(*) FROM $target WHERE id BETWEEN 100 AND 119")" -eq 0 ] ||
    fail "a replayed insert resurrected a deleted row"
kill -TERM "$cdcsink_pid"; wait "$cdcsink_pid"
grep -q 'level=error' "$work/live2.log" && fail "the live pipeline logged errors"

say "records a filter does not select are skipped and committed past"
psql_target -c "ALTER TABLE $target ADD CONSTRAINT gt_minus_500 CHECK (v > -500) NOT VALID"
start_cdcsink "$work/p.properties" "$work/live3.log"
psql_source -c "INSERT INTO $table VALUES (900, -900)"
wait_records 60 "$topic" 1268
wait_for 60 "206 DLQ records" dlq_count 206
wait_for 60 "caught up" caught_up "$work/p.properties"
kill -TERM "$cdcsink_pid"; wait "$cdcsink_pid"
psql_target -c "ALTER TABLE $target DROP CONSTRAINT gt_minus_500"
dlq_replay "$work/p.properties" "$work/replay5.txt" --class schema
[ "$replay_rc" -eq 0 ] || fail "filtered replay exited $replay_rc"
[ "$(cat "$work/replay5.txt")" = "replay: applied=0 stale=0 failed_again=0 skipped_by_filter=1" ] ||
    fail "filtered replay"
dlq_replay "$work/p.properties" "$work/replay6.txt"
[ "$(cat "$work/replay6.txt")" = "replay: applied=0 stale=0 failed_again=0 skipped_by_filter=0" ] ||
    fail "the skipped record was not committed past"
[ "$(psql_target -c "SELECT count(*) FROM $target WHERE id = 900")" -eq 0 ] || fail "the skipped record was applied"
echo ok

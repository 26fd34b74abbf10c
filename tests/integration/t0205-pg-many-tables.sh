#!/usr/bin/env bash
# PostgreSQL sink, a production-like deployment: one Debezium connector of its
# own over a whole source schema of 34 tables of mixed shapes (int, composite
# and uuid keys, an 80-column table, TOASTed text, most column types), rows
# there before the connector (its snapshot), then a concurrent stream of
# inserts, updates (TOASTed column left unchanged, NULLs), deletes and primary
# key changes. Two pipelines consume every topic with one topics.regex, each
# into its own target schema (apply.overlap true and false); both are killed
# with -9 mid-stream and restarted. In the end every target table of both
# schemas equals its source table, value for value.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/many_tables.sh"

schema_a="mt_a_$uid"        # pipeline A (apply.overlap=true)
schema_b="mt_b_$uid"        # pipeline B (apply.overlap=false)

mt_create_source
mt_connector_add

for p in a b; do
    overlap=true
    [ "$p" = a ] || overlap=false
    schema=schema_$p
    pg_pipeline_file "$work/$p.properties" "name=$test_name-$p-$uid" "topics.regex=$prefix\\.$src\\..*" \
        "table.schema=${!schema}" "auto.create=true" "batch.size=500" "apply.overlap=$overlap"
done

say "pipelines A (apply.overlap=true) and B (apply.overlap=false) over $ntopics topics"
started=$(now)
start_cdcsink "$work/a.properties" "$work/a.log"
pid_a=$cdcsink_pid
start_cdcsink "$work/b.properties" "$work/b.log"
pid_b=$cdcsink_pid
deadline=$(( $(date +%s) + 60 ))
until [ "$(rows_in "$TARGET_PG_URL" "$schema_a" true)" -gt 0 ]; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "pipeline A applied nothing within 60 s"
    sleep 0.1
done
startup=$(since "$started")

mt_stream_start

# Killed once both have applied rows of the stream (g > 1000).
stream_applied() {
    [ "$(rows_in "$TARGET_PG_URL" "$schema_a" "g > 1000")" -gt 0 ] &&
        [ "$(rows_in "$TARGET_PG_URL" "$schema_b" "g > 1000")" -gt 0 ]
}
wait_for 90 "rows of the stream applied by both pipelines" stream_applied
kill -9 "$pid_a" "$pid_b"
round_at_kill=$(cat "$work/round")
rows_a=$(rows_in "$TARGET_PG_URL" "$schema_a" true)
rows_b=$(rows_in "$TARGET_PG_URL" "$schema_b" true)
say "kill -9 of both in round $round_at_kill of $rounds; rows in the targets: A $rows_a, B $rows_b"
kill -0 "$mt_writer" 2>/dev/null && [ "$round_at_kill" -lt $((rounds - 1)) ] ||
    fail "the stream was over before the kill"
[ "$rows_a" -gt 0 ] && [ "$rows_b" -gt 0 ] || fail "nothing applied before the kill"
sleep 1
start_cdcsink "$work/a.properties" "$work/a.log"
pid_a=$cdcsink_pid
start_cdcsink "$work/b.properties" "$work/b.log"
pid_b=$cdcsink_pid
wait "$mt_writer" || fail "the stream workload failed"

mt_catalog

# digest SCHEMA: one line per table: name, rows, md5 of its rows in key order.
digest() {
    local t sep=""
    for t in "${tables[@]}"; do
        printf '%sSELECT %s, count(*), md5(coalesce(string_agg(x::text, E%s ORDER BY %s), %s)) FROM (SELECT %s FROM "%s".%s) x\n' \
            "$sep" "'$t'" "'\\n'" "${order_by[$t]}" "''" "${select_cols[$t]}" "$1" "$t"
        sep="UNION ALL "
    done
    echo "ORDER BY 1"
}
digest_src=$(digest "$src") digest_a=$(digest "$schema_a") digest_b=$(digest "$schema_b")
both_equal() { same_rows "$digest_src" "$digest_a" && same_rows "$digest_src" "$digest_b"; }
wait_for 240 "both target schemas equal to the source" both_equal
converged=$(since "$started")

say "table by table"
for schema in "$schema_a" "$schema_b"; do
    n=$(psql_target -c "SELECT count(*) FROM information_schema.tables
                        WHERE table_schema = '$schema' AND table_type = 'BASE TABLE'")
    [ "$n" -eq "$ntables" ] || fail "$schema holds $n tables, the source $ntables"
    compared=0
    for t in "${tables[@]}"; do
        q="SELECT ${select_cols[$t]} FROM \"%s\".$t ORDER BY ${order_by[$t]}"
        psql_source -P null=NULL -c "$(printf "$q" "$src")" >"$work/source.$t.txt"
        psql_target -P null=NULL -c "$(printf "$q" "$schema")" >"$work/$schema.$t.txt"
        diff "$work/source.$t.txt" "$work/$schema.$t.txt" >"$work/diff.txt" ||
            { head -20 "$work/diff.txt"; fail "$schema.$t differs from $src.$t"; }
        [ -s "$work/source.$t.txt" ] || fail "$src.$t is empty"
        compared=$((compared + 1))
    done
    [ "$compared" -ge 32 ] || fail "only $compared tables compared in $schema"
    say "$schema: $compared tables equal to the source"
done

# The snapshot's rows (g <= $snapshot_rows) that are left, on both sides.
left=$(rows_in "$SOURCE_PG_URL" "$src" "g <= $snapshot_rows")
[ "$left" -gt $((ntables * snapshot_rows / 2)) ] || fail "only $left rows of the snapshot left"
for schema in "$schema_a" "$schema_b"; do
    [ "$(rows_in "$TARGET_PG_URL" "$schema" "g <= $snapshot_rows")" -eq "$left" ] ||
        fail "$schema lacks rows of the snapshot"
done
# TOASTed values survived the updates that left them unchanged.
big="SELECT (SELECT count(*) FROM \"%s\".toast_1 WHERE length(big) >= 9600 AND v > 0)
          + (SELECT count(*) FROM \"%s\".toast_2 WHERE length(big) >= 9600 AND v > 0)
          + (SELECT count(*) FROM \"%s\".toast_3 WHERE length(big) >= 9600 AND v > 0)
          + (SELECT count(*) FROM \"%s\".toast_4 WHERE length(big) >= 9600 AND v > 0)"
toasted=$(psql_source -c "$(printf "$big" "$src" "$src" "$src" "$src")")
[ "$toasted" -gt 100 ] || fail "only $toasted updated rows hold TOASTed values"
for schema in "$schema_a" "$schema_b"; do
    [ "$(psql_target -c "$(printf "$big" "$schema" "$schema" "$schema" "$schema")")" -eq "$toasted" ] ||
        fail "TOASTed values lost in $schema"
done

kill -TERM "$pid_a" "$pid_b"
wait "$pid_a" || fail "pipeline A exited with $?"
wait "$pid_b" || fail "pipeline B exited with $?"
for p in a b; do
    echo "pipeline $p (last run): consumed=$(stat consumed "$work/$p.log") applied=$(stat applied "$work/$p.log") stale=$(stat stale "$work/$p.log") dlq=$(stat dlq "$work/$p.log")"
    [ "$(stat dlq "$work/$p.log")" -eq 0 ] || fail "pipeline $p sent records to the DLQ"
done
! grep -E 'AddressSanitizer|LeakSanitizer|runtime error' "$work/a.log" "$work/b.log" || fail "a sanitizer report in cdcsink's log"

# events: every record of the topics (snapshot, stream, tombstones);
# seconds: from the first start of the pipelines to both targets converged.
events=$(mt_events_settled)
echo "many-tables: tables=$ntables events=$events snapshot_rows=$((ntables * snapshot_rows)) seconds=${converged%.*} toasted=$toasted"
echo "startup: first applied after $startup s over $ntopics topics"
echo ok

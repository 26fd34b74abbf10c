#!/usr/bin/env bash
# `cdcsink verify` on a PostgreSQL replica of a whole database: the 34
# tables of many_tables.sh (int, composite, text and uuid keys, an 80-column
# table, TOASTed text, most column types), their snapshot, then a stream.
#   - before the pipeline created the tables: exit 3 (not checked) or 0;
#   - once while the stream runs and the pipeline applies it: exit 0, nothing
#     divergent (what differed was in flight);
#   - caught up after the stream: exit 0, every source row compared; with a
#     group that never committed, every record of the topics is read;
#   - the pipeline stopped, changes in Kafka it has not committed: exit 0,
#     those keys in flight;
#   - rows changed, deleted and added by hand in the replica (an int key, a
#     composite key, a uuid key): exit 1 with exactly those counts and keys,
#     in text and JSON; --table picks one table;
#   - --repair writes those four from the source (the extra one deleted with
#     its tombstone): exit 0, then verify is equal, the rows equal the
#     source's, and a later source change still applies;
#   - Debezium stopped and a source row changed: exit 3 (not checked, the
#     change may be in Debezium), never divergent; resumed: exit 0;
#   - a jsonl pipeline cannot be verified (exit 3);
#   - usage and config errors exit 2; an unreachable source exits 3, and
#     its password is never printed.
. "$(dirname "$0")/lib.sh"
rounds=12
. "$(dirname "$0")/many_tables.sh"

schema="vf_$uid"
# The shared connector's slot is active on the same source database, as
# other connectors are in production: verify must not take its progress
# for this connector's (source.slot.name is unset here).
ensure_it_connector
mt_create_source
mt_connector_add

pg_pipeline_file "$work/p.properties" "topics.regex=$prefix\\.$src\\..*" \
    "table.schema=$schema" "auto.create=true" "source.connection.url=$SOURCE_PG_URL"

# verify_json ARGS...: the JSON report in $work/v.json, the exit code in $vrc.
verify_json() {
    vrc=0
    "$CDCSINK" verify -c "$work/p.properties" --json "$@" >"$work/v.json" 2>"$work/v.err" || vrc=$?
}
total() { jq "[.tables[].$1] | add" "$work/v.json"; }
source_rows() {
    psql_source -c "SELECT sum((xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.%I',
                    table_schema, table_name), false, true, '')))[1]::text::bigint)
                    FROM information_schema.tables WHERE table_schema = '$src'"
}

say "the pipeline over $ntopics topics, and the stream"
start_cdcsink "$work/p.properties" "$work/p.log"
pid=$cdcsink_pid
rc=0
"$CDCSINK" verify -c "$work/p.properties" --settle 0 >"$work/v.txt" 2>&1 || rc=$?
[ "$rc" -eq 3 ] || [ "$rc" -eq 0 ] || { cat "$work/v.txt"; fail "verify before the tables exist: exit $rc"; }

# verify names a replica table the pipeline has not created yet as not
# checked (exit 3); here the stream starts once the snapshot is applied.
snapshot_applied() { [ "$(rows_in "$TARGET_PG_URL" "$schema" true)" -ge $((ntables * snapshot_rows)) ]; }
wait_for 120 "the snapshot applied" snapshot_applied
mt_stream_start

say "verify while the stream runs"
checks=0
while kill -0 "$mt_writer" 2>/dev/null && [ "$checks" -lt 1 ]; do
    verify_json
    cat "$work/v.err" >&2
    jq -c '{status, uncommitted_changes, compared: [.tables[].compared] | add,
            in_flight: [.tables[].in_flight] | add, errors: [.tables[] | select(.error) | .error]}' "$work/v.json"
    [ "$vrc" -eq 0 ] || { jq -c '.tables[] | select(.missing + .extra + .different > 0 or .error)' "$work/v.json" | cut -c1-400; fail "verify during the stream: exit $vrc"; }
    [ "$(jq '.tables | length' "$work/v.json")" -eq "$ntables" ] || fail "verify did not check all $ntables tables"
    checks=$((checks + 1))
done
[ "$checks" -ge 1 ] || fail "the stream ended before verify ran"
wait "$mt_writer"
expected_events=$(mt_events_settled)
wait_for 180 "the pipeline caught up" caught_up "$work/p.properties"

say "verify, caught up"
verify_json
[ "$vrc" -eq 0 ] || { cat "$work/v.json"; fail "verify after catching up: exit $vrc"; }
want=$(source_rows)
[ "$(total compared)" -eq "$want" ] || fail "compared $(total compared) rows, the source holds $want"
[ "$(total missing)$(total extra)$(total different)" = 000 ] || fail "divergent rows after catching up"
say "compared $want rows of $ntables tables: equal"
# A group that never committed: every record of every partition is read.
sed "s/^name = .*/name = $test_name-fresh-$uid/" "$work/p.properties" >"$work/fresh.properties"
"$CDCSINK" verify -c "$work/fresh.properties" --json >"$work/v.json" || fail "verify with a new group"
[ "$(jq .uncommitted_changes "$work/v.json")" -eq "$expected_events" ] ||
    fail "a new group: read $(jq .uncommitted_changes "$work/v.json") uncommitted records, the topics hold $expected_events"

say "the pipeline stopped; 30 source rows change and reach Kafka"
kill -TERM "$pid"
wait "$pid" || fail "cdcsink did not stop cleanly"
psql_source -c "UPDATE $src.simple_02 SET v = v + 100 WHERE g BETWEEN 151 AND 160;
                UPDATE $src.tenant_2 SET note = 'pending' WHERE g BETWEEN 151 AND 160;
                DELETE FROM $src.uuid_2 WHERE g BETWEEN 151 AND 160;" >/dev/null
# an update is one record, a delete a record and a tombstone
published_at_least() { [ "$(mt_events)" -ge "$1" ]; }
wait_for 60 "Debezium published the 30 changes" published_at_least $((expected_events + 40))
verify_json
[ "$vrc" -eq 0 ] || { cat "$work/v.json"; fail "verify with uncommitted changes: exit $vrc"; }
[ "$(total in_flight)" -eq 30 ] || { cat "$work/v.json"; fail "want 30 rows in flight, got $(total in_flight)"; }
[ "$(jq .uncommitted_changes "$work/v.json")" -ge 40 ] || fail "the uncommitted changes were not read"

say "the pipeline again, caught up; then rows changed by hand in the replica"
start_cdcsink "$work/p.properties" "$work/p.log"
pid=$cdcsink_pid
wait_for 120 "the pipeline caught up" caught_up "$work/p.properties"
key_of() { psql_target -c "SELECT $2 FROM $schema.$1 WHERE g = $3"; }
changed_key=$(key_of simple_03 id 42)
deleted_key=$(key_of tenant_3 "tenant || ':' || id" 43)
extra_key="777:99"
psql_target -c "UPDATE $schema.simple_03 SET note = 'edited by hand' WHERE g = 42;
                DELETE FROM $schema.tenant_3 WHERE g = 43;
                INSERT INTO $schema.tenant_3 (tenant, id, g, v, __cdc_lsn) VALUES (777, 99, -1, 0, 1);
                UPDATE $schema.uuid_1 SET c1 = NULL WHERE g = 44 AND c1 IS NOT NULL;
                UPDATE $schema.uuid_1 SET v = -5 WHERE g = 44;" >/dev/null
uuid_key=$(key_of uuid_1 id 44)

# --settle 1000: nothing of this converges, no need to wait the default 5 s
verify_json --settle 1000
[ "$vrc" -eq 1 ] || { cat "$work/v.json" "$work/v.err"; fail "want exit 1 (divergent), got $vrc"; }
table() { jq -c --arg t "$src.$1" '.tables[] | select(.source == $t) | {missing, extra, different, keys}' "$work/v.json"; }
[ "$(table simple_03)" = "{\"missing\":0,\"extra\":0,\"different\":1,\"keys\":[{\"kind\":\"different\",\"key\":\"$changed_key\"}]}" ] ||
    fail "simple_03: $(table simple_03)"
[ "$(table tenant_3)" = "{\"missing\":1,\"extra\":1,\"different\":0,\"keys\":[{\"kind\":\"missing\",\"key\":\"$deleted_key\"},{\"kind\":\"extra\",\"key\":\"$extra_key\"}]}" ] ||
    [ "$(table tenant_3)" = "{\"missing\":1,\"extra\":1,\"different\":0,\"keys\":[{\"kind\":\"extra\",\"key\":\"$extra_key\"},{\"kind\":\"missing\",\"key\":\"$deleted_key\"}]}" ] ||
    fail "tenant_3: $(table tenant_3)"
[ "$(table uuid_1)" = "{\"missing\":0,\"extra\":0,\"different\":1,\"keys\":[{\"kind\":\"different\",\"key\":\"$uuid_key\"}]}" ] ||
    fail "uuid_1: $(table uuid_1)"
[ "$(total missing) $(total extra) $(total different)" = "1 1 2" ] ||
    fail "totals: $(total missing) missing, $(total extra) extra, $(total different) different"
[ "$(jq -r .status "$work/v.json")" = DIVERGENT ] || fail "status $(jq -r .status "$work/v.json")"

say "the text report and --table"
rc=0
"$CDCSINK" verify -c "$work/p.properties" --settle 1000 >"$work/v.txt" 2>&1 || rc=$?
cat "$work/v.txt" | grep -v ' 0 *0 *0 *0$' || true
[ "$rc" -eq 1 ] || fail "text report: exit $rc"
grep -q "^  different key $changed_key$" "$work/v.txt" || fail "the text report does not name $changed_key"
grep -q "^verify: DIVERGENT: 4 divergent row(s) in 3 of $ntables table(s)" "$work/v.txt" || fail "no summary line"
verify_json --table "simple_04" --settle 1000
[ "$vrc" -eq 0 ] && [ "$(jq '.tables | length' "$work/v.json")" -eq 1 ] || fail "--table simple_04: exit $vrc"
verify_json --table "$src.tenant_3" --settle 1000
[ "$vrc" -eq 1 ] && [ "$(total missing)" -eq 1 ] || fail "--table $src.tenant_3: exit $vrc"

say "--repair: the four rows written from the source, a later change still applies"
verify_json --settle 1000 --repair
[ "$vrc" -eq 0 ] || { cat "$work/v.json"; fail "--repair: want exit 0, got $vrc"; }
[ "$(total repaired)" -eq 4 ] || fail "--repair repaired $(total repaired) of 4"
[ "$(jq '[.tables[].keys[] | select(.repaired)] | length' "$work/v.json")" -eq 4 ] || fail "the repaired keys are not listed"
verify_json --settle 1000
[ "$vrc" -eq 0 ] && [ "$(total missing)$(total extra)$(total different)" = 000 ] || fail "after --repair: exit $vrc"
row_of() { echo "SELECT ${select_cols[$1]} FROM $2.$1 WHERE g = $3"; }
mt_catalog
for t_g in simple_03:42 tenant_3:43 uuid_1:44; do
    t=${t_g%:*} g=${t_g#*:}
    same_rows "$(row_of "$t" "$src" "$g")" "$(row_of "$t" "$schema" "$g")" || fail "$t g=$g differs from the source after --repair"
done
[ "$(psql_target -c "SELECT count(*) FROM $schema.tenant_3 WHERE tenant = 777")" -eq 0 ] || fail "the extra row is still there"
[ "$(psql_target -c "SELECT count(*) FROM cdcsink.tombstones WHERE target_table = '\"$schema\".\"tenant_3\"' AND key = '{777,99}'")" -eq 1 ] ||
    fail "the extra row's delete left no tombstone"
psql_source -c "UPDATE $src.simple_03 SET v = v + 7 WHERE g = 42" >/dev/null
wait_for 60 "a change after the repair applied" same_rows "$(row_of simple_03 "$src" 42)" "$(row_of simple_03 "$schema" 42)"

say "Debezium stopped, then a source row changes: not checked (exit 3), never divergent"
curl -fsS -X PUT "$KAFKA_CONNECT_URL/connectors/$connector/stop" >/dev/null
slot_idle() { [ "$(psql_source -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'dbz_mt_$uid' AND NOT active")" -eq 1 ]; }
wait_for 60 "Debezium's slot without a reader" slot_idle
psql_source -c "UPDATE $src.simple_05 SET v = v + 1000 WHERE g = 150" >/dev/null
verify_json --table simple_05 --wait 3000
[ "$vrc" -eq 3 ] || { cat "$work/v.json"; fail "a change Debezium holds: want exit 3, got $vrc"; }
jq -e '.tables[0].error | test("cannot tell in flight from divergent")' "$work/v.json" >/dev/null || fail "no reason given: $(cat "$work/v.json")"
jq -e --arg s "dbz_mt_$uid" '.warnings | any(test($s + " has no reader"))' "$work/v.json" >/dev/null || fail "no warning about the idle slot"
curl -fsS -X PUT "$KAFKA_CONNECT_URL/connectors/$connector/resume" >/dev/null
verify_json --table simple_05
[ "$vrc" -eq 0 ] || { cat "$work/v.json"; fail "Debezium running again: want exit 0, got $vrc"; }

say "usage, config, a sink that cannot be verified (a log), an unreachable source"
pipeline_file "$work/j.properties" "topics.regex=$prefix\\.$src\\..*" "jsonl.path=$work/j.jsonl" \
    "source.connection.url=$SOURCE_PG_URL"
rc=0; "$CDCSINK" verify -c "$work/j.properties" >"$work/e.txt" 2>&1 || rc=$?
[ "$rc" -eq 3 ] && grep -q "the jsonl sink keeps no state to compare" "$work/e.txt" || { cat "$work/e.txt"; fail "jsonl: exit $rc"; }
rc=0; "$CDCSINK" verify -c "$work/p.properties" --bogus >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "an unknown option: exit $rc"
grep -v '^source.connection.url' "$work/p.properties" >"$work/nosource.properties"
rc=0; "$CDCSINK" verify -c "$work/nosource.properties" >/dev/null 2>"$work/e.txt" || rc=$?
[ "$rc" -eq 2 ] && grep -q "sets no source.connection.url" "$work/e.txt" || fail "no source.connection.url: exit $rc"
sed "s|^source.connection.url.*|source.connection.url = postgresql://verifier:Secr3tPw@127.0.0.1:1/app|" \
    "$work/p.properties" >"$work/down.properties"
rc=0; "$CDCSINK" verify -c "$work/down.properties" >"$work/e.txt" 2>&1 || rc=$?
cat "$work/e.txt"
[ "$rc" -eq 3 ] && grep -q "UNKNOWN: connecting to the source" "$work/e.txt" || fail "unreachable source: exit $rc"
! grep -q Secr3tPw "$work/e.txt" || fail "the source password was printed"
say "ok"

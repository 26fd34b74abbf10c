#!/usr/bin/env bash
# Continuous verify in `cdcsink run` (verify.interval.ms), and verify over
# every column type the sinks map: a table of all types (NULLs, extremes,
# TOASTed text, an enum, arrays, numeric without scale) next to a small
# one, both through the shared connector.
#   - the pipeline verifies every 1.5 s: cdcsink_verify_runs_total{result=
#     "equal"} grows and cdcsink_verify_divergent_rows is 0 (no false
#     difference on any type); `cdcsink verify` of the whole tables too;
#   - a 25,000-row table compared whole, range by range;
#   - rows changed by hand in the replica: the gauge goes above 0 and the
#     log warns; `verify --repair` fixes both (one in the big table's third
#     range) and the gauge is 0 again;
#   - verify.interval.ms without source.connection.url is a config error.
. "$(dirname "$0")/lib.sh"

types="it_types_$uid"
mood="it_mood_$uid"
small="it_small_$uid"
types_table_create "$types" "$mood"
big="it_big_$uid"
psql_source -c "CREATE TABLE $small (id int PRIMARY KEY, name text, price numeric(10,2));
                CREATE TABLE $big (id int PRIMARY KEY, v int)" >/dev/null
ensure_it_connector
types_table_fill "$types" "$mood"
# 25,000 rows: three of verify's 10,000-row ranges (keys past 9999, whose
# text sorts before 10000's).
psql_source -c "INSERT INTO $big SELECT g, g FROM generate_series(1, 25000) g;
                INSERT INTO $small SELECT g, 'item ' || g, g * 1.5 FROM generate_series(1, 20) g;
                UPDATE $types SET c_text = 'updated ' || id, c_numeric = -c_numeric WHERE id % 3 = 0;
                DELETE FROM $types WHERE id % 11 = 0;" >/dev/null

# Named, as production configs name it: only this slot's progress counts.
slot=$(psql_source -c "SELECT slot_name FROM pg_replication_slots WHERE slot_name LIKE 'dbz\_it%' AND active LIMIT 1")
[ -n "$slot" ] || fail "the shared connector has no active slot"
pg_pipeline_file "$work/p.properties" "topics=it.public.$types,it.public.$small,it.public.$big" "auto.create=true" \
    "source.connection.url=$SOURCE_PG_URL" "source.slot.name=$slot" \
    "verify.interval.ms=1500" "verify.sample.rows=50" "http.listen=127.0.0.1:0"
start_cdcsink "$work/p.properties" "$work/cdcsink.log"
wait_for 30 "the HTTP port in the log" grep -q "serving /metrics" "$work/cdcsink.log"
port=$(grep -o 'serving /metrics.*(port [0-9]*)' "$work/cdcsink.log" | grep -o '[0-9]*)$' | tr -d ')')
metric() { curl -fsS "http://127.0.0.1:$port/metrics" | awk -v m="$1" 'index($1, m) == 1 {print $2}' | head -n 1; }
runs() { metric "cdcsink_verify_runs_total{pipeline=\"$test_name-$uid\",sink=\"postgres\",result=\"$1\"}"; }
divergent() { metric "cdcsink_verify_divergent_rows{"; }
wait_for 120 "the pipeline caught up" caught_up "$work/p.properties"

say "equal: the runs count, the gauge is 0"
equal_runs_at_least() { [ "$(runs equal)" -ge "$1" ] 2>/dev/null; }
before=$(runs equal 2>/dev/null || echo 0)
wait_for 60 "two more equal runs" equal_runs_at_least $(( ${before:-0} + 2 ))
[ "$(divergent)" = 0 ] || fail "cdcsink_verify_divergent_rows is $(divergent), want 0"
grep -q 'msg="verify: equal: ' "$work/cdcsink.log" || fail "no verify line in the log"
rc=0
"$CDCSINK" verify -c "$work/p.properties" --json >"$work/v.json" || rc=$?
[ "$rc" -eq 0 ] || { cat "$work/v.json"; fail "verify of every type: exit $rc"; }
want=$(psql_source -c "SELECT count(*) FROM $types")
[ "$(jq --arg t "public.$types" '.tables[] | select(.source == $t) | .compared' "$work/v.json")" -eq "$want" ] ||
    fail "the types table was not compared whole"
[ "$(jq --arg t "public.$big" '.tables[] | select(.source == $t) | .compared' "$work/v.json")" -eq 25000 ] ||
    fail "the 25,000-row table: compared $(jq --arg t "public.$big" '.tables[] | select(.source == $t) | .compared' "$work/v.json")"

say "a row changed by hand in the replica: the gauge, the log, then --repair"
psql_target -c "UPDATE $pg_schema.$small SET price = 999 WHERE id = 7" >/dev/null
# and one in the big table's third range, for the full comparison below
psql_target -c "UPDATE $pg_schema.$big SET v = -1 WHERE id = 20001" >/dev/null
divergent_is() { [ "$(divergent)" = "$1" ]; }
at_least_one() { [ "$(divergent)" -ge 1 ] 2>/dev/null; }
wait_for 60 "cdcsink_verify_divergent_rows >= 1" at_least_one
[ "$(runs divergent)" -ge 1 ] || fail "no divergent run counted"
grep -q 'msg="verify: DIVERGENT: ' "$work/cdcsink.log" || fail "no DIVERGENT line in the log"
rc=0
"$CDCSINK" verify -c "$work/p.properties" --repair --settle 1000 >"$work/repair.txt" || rc=$?
cat "$work/repair.txt"
[ "$rc" -eq 0 ] && grep -q "different key 7 (repaired)" "$work/repair.txt" &&
    grep -q "different key 20001 (repaired)" "$work/repair.txt" || fail "--repair: exit $rc"
[ "$(psql_target -c "SELECT price FROM $pg_schema.$small WHERE id = 7")" = "10.50" ] || fail "the price was not repaired"
wait_for 60 "cdcsink_verify_divergent_rows = 0 again" divergent_is 0

say "verify.interval.ms needs source.connection.url"
grep -v '^source.connection.url' "$work/p.properties" >"$work/bad.properties"
rc=0
"$CDCSINK" check -c "$work/bad.properties" >/dev/null 2>"$work/bad.txt" || rc=$?
[ "$rc" -eq 2 ] && grep -q "'verify.interval.ms' needs 'source.connection.url'" "$work/bad.txt" ||
    fail "check: exit $rc: $(cat "$work/bad.txt")"
kill -TERM "$cdcsink_pid"
wait "$cdcsink_pid" || fail "cdcsink did not stop cleanly"
say "ok"

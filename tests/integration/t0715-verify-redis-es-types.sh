#!/usr/bin/env bash
# `cdcsink verify` of the document sinks over every column type the sinks
# map (a table of all types: NULLs, extremes, TOASTed text, an enum,
# arrays, numeric without scale, intervals in Debezium's numeric mode) and
# a small table, through the shared connector, into Redis (json and hash
# layouts) and OpenSearch.
#   - each is equal (exit 0) once applied: no false difference on any type;
#   - OpenSearch: a document deleted by hand, one edited and one added:
#     exit 1 with those counts and keys; --repair: exit 0, the deleted one
#     written again (above the version the hand delete left), the extra one
#     gone, and a later source change still applies;
#   - Redis hash: a field changed and a field removed by hand: exit 1;
#     --repair: exit 0, the fields equal the source's again;
#   - Redis with redis.ttl.ms: once every key and its marker expired, all
#     are missing (exit 1); --repair writes them again (exit 0);
#   - --sample compares a sample and still finds the deleted document.
. "$(dirname "$0")/lib.sh"

types="it_vt_$uid"
mood="it_vmood_$uid"
small="it_vsmall_$uid"
types_table_create "$types" "$mood"
psql_source -c "CREATE TABLE $small (id int PRIMARY KEY, name text, price numeric(10,2))" >/dev/null
ensure_it_connector
types_table_fill "$types" "$mood"
psql_source -c "INSERT INTO $small SELECT g, 'item ' || g, g * 1.5 FROM generate_series(1, 20) g;
                UPDATE $types SET c_text = 'updated ' || id, c_numeric = -c_numeric WHERE id % 3 = 0;
                DELETE FROM $types WHERE id % 11 = 0;" >/dev/null

topics="topics=it.public.$types,it.public.$small"
src_url="source.connection.url=$SOURCE_PG_URL"
redis_pipeline_file "$work/json.properties" "name=$test_name-json-$uid" "$topics" "$src_url"
redis_pipeline_file "$work/hash.properties" "name=$test_name-hash-$uid" "$topics" "$src_url" \
    "redis.value.format=hash" "key.format=${redis_prefix}h:\${source.table}:\${key}"
redis_pipeline_file "$work/ttl.properties" "name=$test_name-ttl-$uid" "topics=it.public.$small" "$src_url" \
    "redis.ttl.ms=4000" "key.format=${redis_prefix}t:\${source.table}:\${key}"
es_pipeline_file "$work/es.properties" "name=$test_name-es-$uid" "$topics" "$src_url"
for p in json hash ttl es; do start_cdcsink "$work/$p.properties" "$work/$p.log"; eval "pid_$p=$cdcsink_pid"; done
for p in json hash ttl es; do wait_for 120 "the $p pipeline caught up" caught_up "$work/$p.properties"; done

# verify_json PIPELINE ARGS...: the JSON report in $work/v.json, the exit code in $vrc.
verify_json() {
    vrc=0
    "$CDCSINK" verify -c "$work/$1.properties" --json "${@:2}" >"$work/v.json" 2>"$work/v.err" || vrc=$?
}
total() { jq "[.tables[].$1] | add" "$work/v.json"; }
table() { jq -c --arg t "public.$1" '.tables[] | select(.source == $t) | {missing, extra, different, keys}' "$work/v.json"; }
want=$(psql_source -c "SELECT (SELECT count(*) FROM $types) + (SELECT count(*) FROM $small)")

say "every type, each sink: equal"
for p in json hash es; do
    verify_json "$p"
    [ "$vrc" -eq 0 ] || { jq -c '.tables[]' "$work/v.json" | cut -c1-600; cat "$work/v.err"; fail "$p: verify of every type: exit $vrc"; }
    [ "$(total compared)" -eq "$want" ] || fail "$p: compared $(total compared) rows, the source holds $want"
done
[ "$(jq -r '.tables[0].target' "$work/v.json")" = "$es_prefix-$types" ] ||
    [ "$(jq -r '.tables[1].target' "$work/v.json")" = "$es_prefix-$types" ] || fail "the index is not shown: $(jq -c '[.tables[].target]' "$work/v.json")"

say "Redis json: in each of 24 keys one column of another type changed by hand"
# each key gets the value row id + 31 holds in that column (another parity,
# enum and char value); the TOASTed text, NULL in most rows, a literal
cols=(c_int2 c_int4 c_int8 c_numeric c_numeric_any c_real c_double c_bool c_text c_varchar
      c_char c_bytea c_date c_time c_timestamp c_timestamptz c_interval c_uuid c_json c_jsonb
      c_enum c_int_array c_text_array c_big)
edited=()
id=12
for c in "${cols[@]}"; do
    while [ $((id % 11)) -eq 0 ] || [ $(((id + 31) % 11)) -eq 0 ]; do id=$((id + 1)); done
    other=$(rcli GET "$redis_prefix:$types:$((id + 31))" | jq -c --arg c "$c" '.[$c]')
    [ "$c" = c_big ] && other='"not the source text"'
    rcli GET "$redis_prefix:$types:$id" | jq -c --arg c "$c" --argjson v "$other" '.[$c] = $v' >"$work/edit.json"
    rcli SET "$redis_prefix:$types:$id" "$(cat "$work/edit.json")" >/dev/null
    edited+=("\"$id\"")
    id=$((id + 1))
done
verify_json json --settle 1000 --keys 100
[ "$vrc" -eq 1 ] || { cat "$work/v.json"; fail "json: want exit 1, got $vrc"; }
want_keys=$(echo "[$(IFS=,; echo "${edited[*]}")]" | jq -c sort)
got_keys=$(jq -c --arg t "public.$types" '[.tables[] | select(.source == $t) | .keys[] | select(.kind == "different") | .key] | sort' "$work/v.json")
[ "$(total different)" -eq "${#cols[@]}" ] && [ "$got_keys" = "$want_keys" ] ||
    fail "json: $(total different) different, keys $got_keys; want ${#cols[@]}: $want_keys"
verify_json json --settle 1000 --repair --keys 100
[ "$vrc" -eq 0 ] && [ "$(total repaired)" -eq "${#cols[@]}" ] || { cat "$work/v.json"; fail "json --repair: exit $vrc"; }
verify_json json --settle 1000 --keys 100
[ "$vrc" -eq 0 ] || { cat "$work/v.json"; fail "json after --repair: exit $vrc"; }

say "OpenSearch: a document deleted, one edited and one added by hand"
index="$es_prefix-$small"
es "/$index/_doc/3" -X DELETE >/dev/null
es "/$index/_doc/4" | jq -c '._source | .name = "edited by hand"' >"$work/doc4.json"
es "/$index/_doc/4" -X PUT -d @"$work/doc4.json" >/dev/null
es "/$index/_doc/99" -X PUT -d '{"id":99,"name":"nobody","price":"1.00"}' >/dev/null
es "/$index/_refresh" -X POST >/dev/null
verify_json es --settle 1000
[ "$vrc" -eq 1 ] || { cat "$work/v.json" "$work/v.err"; fail "es: want exit 1, got $vrc"; }
[ "$(table "$small")" = '{"missing":1,"extra":1,"different":1,"keys":[{"kind":"missing","key":"3"},{"kind":"different","key":"4"},{"kind":"extra","key":"99"}]}' ] ||
    fail "es: $(table "$small")"
verify_json es --settle 1000 --sample 10
[ "$vrc" -eq 1 ] && [ "$(jq --arg t "public.$small" '.tables[] | select(.source == $t) | .compared' "$work/v.json")" -eq 10 ] ||
    fail "es --sample: exit $vrc: $(table "$small")"
verify_json es --settle 1000 --repair
[ "$vrc" -eq 0 ] && [ "$(total repaired)" -eq 3 ] || { cat "$work/v.json"; fail "es --repair: exit $vrc"; }
[ "$(es "/$index/_doc/3" | jq -r '._source.name')" = "item 3" ] || fail "document 3 was not written again"
[ "$(es "/$index/_doc/4" | jq -r '._source.name')" = "item 4" ] || fail "document 4 was not repaired"
[ "$(es "/$index/_doc/99" | jq -r '.found')" = false ] || fail "document 99 is still there"
verify_json es --settle 1000
[ "$vrc" -eq 0 ] || fail "es after --repair: exit $vrc"
psql_source -c "UPDATE $small SET name = 'renamed' WHERE id = 3" >/dev/null
renamed() { [ "$(es "/$index/_doc/3" | jq -r '._source.name')" = renamed ]; }
wait_for 60 "a change after the repair applied" renamed

say "Redis hash: a field changed and a field removed by hand"
rcli HSET "${redis_prefix}h:$small:5" price 0.01 >/dev/null
rcli HDEL "${redis_prefix}h:$small:6" name >/dev/null
verify_json hash --settle 1000
[ "$vrc" -eq 1 ] || { cat "$work/v.json"; fail "hash: want exit 1, got $vrc"; }
[ "$(table "$small")" = '{"missing":0,"extra":0,"different":2,"keys":[{"kind":"different","key":"5"},{"kind":"different","key":"6"}]}' ] ||
    fail "hash: $(table "$small")"
verify_json hash --settle 1000 --repair
[ "$vrc" -eq 0 ] && [ "$(total repaired)" -eq 2 ] || { cat "$work/v.json"; fail "hash --repair: exit $vrc"; }
[ "$(rcli HGET "${redis_prefix}h:$small:5" price)" = 7.50 ] || fail "price of 5: $(rcli HGET "${redis_prefix}h:$small:5" price)"
[ "$(rcli HGET "${redis_prefix}h:$small:6" name)" = "item 6" ] || fail "name of 6 not written again"

say "Redis with a TTL: every key expired"
kill -TERM "$pid_ttl"
wait "$pid_ttl" || fail "the ttl pipeline did not stop cleanly"
expired() { [ -z "$(redis_scan "${redis_prefix}t:*")" ]; }
wait_for 30 "the keys and their markers expired" expired
verify_json ttl --settle 1000
[ "$vrc" -eq 1 ] && [ "$(total missing)" -eq 20 ] || { cat "$work/v.json"; fail "ttl: want exit 1 and 20 missing, got $vrc"; }
verify_json ttl --settle 1000 --repair
[ "$vrc" -eq 0 ] && [ "$(total repaired)" -eq 20 ] || { cat "$work/v.json"; fail "ttl --repair: exit $vrc"; }
rcli GET "${redis_prefix}t:$small:1" | jq -e '.name == "item 1"' >/dev/null || fail "key 1 not written again"
ttl=$(rcli PTTL "${redis_prefix}t:$small:1")
[ "$ttl" -gt 0 ] && [ "$ttl" -le 4000 ] || fail "the repaired key has no TTL ($ttl)"
say "ok"

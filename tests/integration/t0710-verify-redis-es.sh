#!/usr/bin/env bash
# `cdcsink verify` on a Redis cache and an OpenSearch index of a whole
# database: the 34 tables of many_tables.sh (int, composite, text and uuid
# keys, an 80-column table, TOASTed text, most column types), their
# snapshot, then a stream, into one Redis key per row (json layout) and
# one document per row.
#   - while the stream runs and the pipelines apply it: exit 0 for both,
#     nothing divergent (what differed was in flight);
#   - caught up: exit 0, every source row compared, in both;
#   - keys changed, deleted, expired (PEXPIRE), replaced by a value of
#     another type or by text that is no JSON, and added by hand: exit 1 with exactly those counts and
#     keys;
#   - --repair writes them from the source through the guard (the extra
#     key deleted): exit 0, the values equal the source's rows again, and
#     a later source change still applies.
. "$(dirname "$0")/lib.sh"
rounds=12
. "$(dirname "$0")/many_tables.sh"

ensure_it_connector
mt_create_source
mt_connector_add

redis_pipeline_file "$work/r.properties" "topics.regex=$prefix\\.$src\\..*" \
    "source.connection.url=$SOURCE_PG_URL"
es_pipeline_file "$work/es.properties" "name=$test_name-es-$uid" "topics.regex=$prefix\\.$src\\..*" \
    "source.connection.url=$SOURCE_PG_URL"

# verify_json ARGS...: the JSON report in $work/v.json, the exit code in $vrc
# (of the Redis pipeline; with VERIFY_PIPELINE=es of OpenSearch's).
verify_json() {
    vrc=0
    "$CDCSINK" verify -c "$work/${VERIFY_PIPELINE:-r}.properties" --json "$@" >"$work/v.json" 2>"$work/v.err" || vrc=$?
}
total() { jq "[.tables[].$1] | add" "$work/v.json"; }
source_rows() {
    psql_source -c "SELECT sum((xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.%I',
                    table_schema, table_name), false, true, '')))[1]::text::bigint)
                    FROM information_schema.tables WHERE table_schema = '$src'"
}
cache_keys() { redis_keys "$redis_prefix:*" | wc -l; }
index_docs() { es "/$es_prefix-*/_count" | jq '.count // 0'; }

say "the pipelines over $ntopics topics, and the stream"
start_cdcsink "$work/r.properties" "$work/r.log"
start_cdcsink "$work/es.properties" "$work/es.log"
snapshot_applied() { [ "$(cache_keys)" -ge $((ntables * snapshot_rows)) ] && [ "$(index_docs)" -ge $((ntables * snapshot_rows)) ]; }
wait_for 120 "the snapshot applied" snapshot_applied
mt_stream_start

say "verify while the stream runs (both at once)"
sleep 2
kill -0 "$mt_writer" 2>/dev/null || fail "the stream ended before verify ran"
for VERIFY_PIPELINE in r es; do
    (rc=0; "$CDCSINK" verify -c "$work/$VERIFY_PIPELINE.properties" --json >"$work/during-$VERIFY_PIPELINE.json" || rc=$?
     echo "$rc" >"$work/during-$VERIFY_PIPELINE.rc") &
    pids+=($!)
done
wait "${pids[@]: -2}"
for VERIFY_PIPELINE in r es; do
    vrc=$(cat "$work/during-$VERIFY_PIPELINE.rc")
    cp "$work/during-$VERIFY_PIPELINE.json" "$work/v.json"
    jq -c '{status, uncommitted_changes, compared: [.tables[].compared] | add,
            in_flight: [.tables[].in_flight] | add, errors: [.tables[] | select(.error) | .error]}' "$work/v.json"
    [ "$vrc" -eq 0 ] || { jq -c '.tables[] | select(.missing + .extra + .different > 0 or .error)' "$work/v.json" | cut -c1-400; fail "verify of $VERIFY_PIPELINE during the stream: exit $vrc"; }
    [ "$(jq '.tables | length' "$work/v.json")" -eq "$ntables" ] || fail "verify did not check all $ntables tables"
done
kill -0 "$mt_writer" 2>/dev/null || say "(the stream ended while verify ran)"
wait "$mt_writer"
want=$(source_rows)
for VERIFY_PIPELINE in es r; do
    wait_for 180 "the $VERIFY_PIPELINE pipeline caught up" caught_up "$work/$VERIFY_PIPELINE.properties"
    say "verify of $VERIFY_PIPELINE, caught up"
    verify_json
    [ "$vrc" -eq 0 ] || { cat "$work/v.json"; fail "verify of $VERIFY_PIPELINE after catching up: exit $vrc"; }
    [ "$(total compared)" -eq "$want" ] || fail "$VERIFY_PIPELINE: compared $(total compared) rows, the source holds $want"
    [ "$(total missing)$(total extra)$(total different)" = 000 ] || fail "$VERIFY_PIPELINE: divergent rows after catching up"
done
[ "$(jq -r '.tables[] | select(.source == "'"$src"'.simple_03") | .target' "$work/v.json")" = "$redis_prefix:simple_03:*" ] ||
    fail "the target is not shown as the key pattern: $(jq -c '.tables[0]' "$work/v.json")"
say "compared $want rows of $ntables tables: equal"

say "keys changed, deleted, expired, retyped and added by hand"
key_of() { psql_source -c "SELECT $2 FROM $src.$1 WHERE g = $3"; }
changed=$(key_of simple_03 id 42)
deleted=$(key_of tenant_3 "tenant || ':' || id" 43)
expired=$(key_of uuid_1 id 44)
retyped=$(key_of simple_04 id 45)
garbled=$(key_of simple_05 id 46)
extra="777:99"
rcli GET "$redis_prefix:simple_03:$changed" | jq -c '.note = "edited by hand"' >"$work/edited.json"
rcli SET "$redis_prefix:simple_03:$changed" "$(cat "$work/edited.json")" >/dev/null
rcli DEL "$redis_prefix:tenant_3:$deleted" >/dev/null
rcli PEXPIRE "$redis_prefix:uuid_1:$expired" 10 >/dev/null
rcli DEL "$redis_prefix:simple_04:$retyped" >/dev/null
rcli HSET "$redis_prefix:simple_04:$retyped" id "$retyped" >/dev/null
rcli SET "$redis_prefix:simple_05:$garbled" 'not JSON at all' >/dev/null
rcli SET "$redis_prefix:tenant_3:$extra" '{"tenant":777,"id":99,"g":-1,"v":0}' >/dev/null
gone() { [ "$(rcli EXISTS "$redis_prefix:uuid_1:$expired")" = 0 ]; }
wait_for 10 "the key expired" gone

# --settle 1000: nothing of this converges, no need to wait the default 5 s
verify_json --settle 1000
[ "$vrc" -eq 1 ] || { cat "$work/v.json" "$work/v.err"; fail "want exit 1 (divergent), got $vrc"; }
table() { jq -c --arg t "$src.$1" '.tables[] | select(.source == $t) | {missing, extra, different, keys}' "$work/v.json"; }
[ "$(table simple_03)" = "{\"missing\":0,\"extra\":0,\"different\":1,\"keys\":[{\"kind\":\"different\",\"key\":\"$changed\"}]}" ] ||
    fail "simple_03: $(table simple_03)"
jq -e --arg t "$src.tenant_3" --arg d "$deleted" --arg e "$extra" '.tables[] | select(.source == $t)
        | .missing == 1 and .extra == 1 and .different == 0
          and (.keys | sort_by(.key)) == ([{kind: "missing", key: $d}, {kind: "extra", key: $e}] | sort_by(.key))' \
    "$work/v.json" >/dev/null || fail "tenant_3: $(table tenant_3)"
[ "$(table uuid_1)" = "{\"missing\":1,\"extra\":0,\"different\":0,\"keys\":[{\"kind\":\"missing\",\"key\":\"$expired\"}]}" ] ||
    fail "uuid_1 (the expired key): $(table uuid_1)"
[ "$(table simple_04)" = "{\"missing\":0,\"extra\":0,\"different\":1,\"keys\":[{\"kind\":\"different\",\"key\":\"$retyped\"}]}" ] ||
    fail "simple_04 (a hash where a string belongs): $(table simple_04)"
[ "$(table simple_05)" = "{\"missing\":0,\"extra\":0,\"different\":1,\"keys\":[{\"kind\":\"different\",\"key\":\"$garbled\"}]}" ] ||
    fail "simple_05 (a value that is no JSON): $(table simple_05)"
[ "$(total missing) $(total extra) $(total different)" = "2 1 3" ] ||
    fail "totals: $(total missing) missing, $(total extra) extra, $(total different) different"

say "--repair: the six keys written from the source, a later change still applies"
verify_json --settle 1000 --repair
[ "$vrc" -eq 0 ] || { cat "$work/v.json"; fail "--repair: want exit 0, got $vrc"; }
[ "$(total repaired)" -eq 6 ] || fail "--repair repaired $(total repaired) of 6"
verify_json --settle 1000
[ "$vrc" -eq 0 ] && [ "$(total missing)$(total extra)$(total different)" = 000 ] || fail "after --repair: exit $vrc"
[ "$(rcli EXISTS "$redis_prefix:tenant_3:$extra")" = 0 ] || fail "the extra key is still there"
[ "$(rcli TYPE "$redis_prefix:simple_04:$retyped")" = string ] || fail "the retyped key is not a string again"
note() { rcli GET "$redis_prefix:simple_03:$changed" | jq -r .note; }
[ "$(note)" = "$(psql_source -c "SELECT coalesce(note, 'null') FROM $src.simple_03 WHERE g = 42")" ] ||
    fail "simple_03 g=42 holds note $(note) after --repair"
rcli GET "$redis_prefix:uuid_1:$expired" | jq -e --argjson g 44 '.g == $g' >/dev/null || fail "the expired key was not written again"
psql_source -c "UPDATE $src.simple_03 SET v = v + 7 WHERE g = 42" >/dev/null
v_applied() { [ "$(rcli GET "$redis_prefix:simple_03:$changed" | jq .v)" = "$(psql_source -c "SELECT v FROM $src.simple_03 WHERE g = 42")" ]; }
wait_for 60 "a change after the repair applied" v_applied
say "ok"

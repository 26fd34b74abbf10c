#!/usr/bin/env bash
# Redis sink, end state: after a workload on a table of every type the
# PostgreSQL sink maps (inserts, updates, deletes, NULLs, a TOASTed column
# left unchanged by updates in LATER batches than its insert, so the value
# must come from Redis itself), the cache holds exactly the source's rows:
# - json layout: GET of each key equals the row the change log implies
#   (a jq model of the guard over the jsonl sink's output of the same
#   topic: the rendering the json layout promises), key for key;
# - hash layout: one field per non-NULL column, the same values as text;
# - the keys are the source's primary keys, no more, no fewer.
. "$(dirname "$0")/lib.sh"

table="it_rtypes_$uid"
mood="it_rmood_$uid"
types_table_create "$table" "$mood"
ensure_it_connector
topic="it.public.$table"

say "the fixture's changes and 200 more rows"
types_table_fill "$table" "$mood"

redis_pipeline_file "$work/json.properties" "topics=$topic" "batch.size=50"
redis_pipeline_file "$work/hash.properties" "topics=$topic" "batch.size=50" \
    "name=$test_name-hash-$uid" "redis.value.format=hash" \
    "key.format=${redis_prefix}h:\${source.table}:\${key}"
pipeline_file "$work/log.properties" "topics=$topic" "name=$test_name-log-$uid" \
    "jsonl.path=$work/log.jsonl"
start_cdcsink "$work/json.properties" "$work/json.log"; json_pid=$cdcsink_pid
start_cdcsink "$work/hash.properties" "$work/hash.log"; hash_pid=$cdcsink_pid
start_cdcsink "$work/log.properties" "$work/log.log"; log_pid=$cdcsink_pid
rows() { psql_source -c "SELECT count(*) FROM $table"; }
wait_for 90 "json caught up with the inserts" caught_up "$work/json.properties"
wait_for 90 "hash caught up with the inserts" caught_up "$work/hash.properties"
wait_for 60 "all rows cached" bash -c "[ \$(redis-cli --no-auth-warning -u '$REDIS_URL' --scan --pattern '$redis_prefix:*' | wc -l) -ge $(rows) ]"

say "updates (TOASTed column unchanged), NULLs and deletes, in later batches"
psql_source <<SQL
UPDATE $table SET c_text = 'updated ' || id, c_numeric = -c_numeric WHERE id % 3 = 0;
UPDATE $table SET c_int4 = NULL, c_jsonb = NULL WHERE id % 7 = 0;
DELETE FROM $table WHERE id % 11 = 0;
UPDATE $table SET c_text = 'again ' || id WHERE id % 13 = 0;
SQL
logged_all() { [ "$(lines "$work/log.jsonl")" -ge "$(records "$topic")" ]; }
sleep 2 # Debezium publishes the last changes
wait_for 60 "the log has every change" logged_all
wait_for 90 "json caught up" caught_up "$work/json.properties"
wait_for 90 "hash caught up" caught_up "$work/hash.properties"
kill -TERM "$json_pid" "$hash_pid" "$log_pid"
wait "$json_pid" "$hash_pid" "$log_pid"
for l in json hash; do
    [ "$(stat dlq "$work/$l.log")" -eq 0 ] || fail "$l: records went to the DLQ"
done

say "the keys are the source's"
psql_source -c "SELECT '$redis_prefix:$table:' || id FROM $table ORDER BY 1" >"$work/want-keys"
redis_keys "$redis_prefix:*" >"$work/json-keys"
diff "$work/want-keys" "$work/json-keys" >"$work/keys.diff" || { head "$work/keys.diff"; fail "json keys differ from the source's ids"; }
psql_source -c "SELECT '${redis_prefix}h:$table:' || id FROM $table ORDER BY 1" >"$work/want-hkeys"
redis_keys "${redis_prefix}h:*" >"$work/hash-keys"
diff -q "$work/want-hkeys" "$work/hash-keys" || fail "hash keys differ from the source's ids"
[ "$(wc -l <"$work/want-keys")" -gt 150 ] || fail "too few rows"

say "every value is the row the change log implies"
jsonl_state "$work/log.jsonl" >"$work/model.json"
[ "$(jq length "$work/model.json")" -eq "$(wc -l <"$work/want-keys")" ] ||
    fail "the model has $(jq length "$work/model.json") rows, the source $(wc -l <"$work/want-keys")"
checked=0 toasted=0
while read -r id; do
    jq -S ".[\"{\\\"id\\\":$id}\"]" "$work/model.json" >"$work/want.json"
    rcli GET "$redis_prefix:$table:$id" | jq -S . >"$work/got.json"
    diff "$work/want.json" "$work/got.json" >"$work/value.diff" ||
        { cut -c1-120 "$work/value.diff" | head -20; fail "json value of id $id differs"; }
    # hash: the same values as text; JSON and arrays compared as JSON.
    rcli --json HGETALL "${redis_prefix}h:$table:$id" >"$work/hash.json"
    jq -e --slurpfile want "$work/want.json" '
        . as $in
        | ($want[0] | with_entries(select(.value != null))) as $w
        | (keys == ($w | keys)) and all($w | to_entries[];
            .key as $k | .value as $v
            | if ($v | type) == "string" then $v == $in[$k]
              elif ($v | type) == "object" or ($v | type) == "array" then ($in[$k] | fromjson) == $v
              elif ($v | type) == "number" then ($in[$k] | tonumber) == $v
              else ($v | tojson) == $in[$k] end)' "$work/hash.json" >/dev/null ||
        { jq -c --slurpfile want "$work/want.json" '. as $in | $want[0] | to_entries
              | map(select(.value != null and (.value | tostring) != ($in[.key] // "" | tostring)))
              | map({key, want: (.value | tostring | .[:80]), got: ($in[.key] // "(absent)" | .[:80])})' \
              "$work/hash.json"; fail "hash of id $id differs"; }
    checked=$((checked + 1))
    [ "$(jq -r '.c_big // "" | length' "$work/want.json")" -ge 9600 ] && toasted=$((toasted + 1))
done < <(psql_source -c "SELECT id FROM $table ORDER BY id")
say "compared $checked keys in both layouts ($toasted with a TOASTed value)"
tb=$(psql_source -c "SELECT count(*) FROM $table WHERE length(c_big) >= 9600 AND c_text LIKE 'updated%'")
[ "$tb" -gt 5 ] || fail "the workload updated only $tb rows with TOASTed values"
got=$(for id in $(psql_source -c "SELECT id FROM $table WHERE length(c_big) >= 9600 AND c_text LIKE 'updated%'"); do
    rcli GET "$redis_prefix:$table:$id" | jq -r '.c_big | length'; done | awk '$1 >= 9600' | wc -l)
[ "$got" -eq "$tb" ] || fail "TOASTed values lost: $got of $tb updated rows kept theirs"
echo ok

#!/usr/bin/env bash
# The Elasticsearch/OpenSearch and Redis sinks in a production-like
# deployment: one Debezium connector of its own over a whole source schema
# of 34 tables (int, composite and uuid keys, an 80-column table, TOASTed
# text, most column types; many_tables.sh), its snapshot, then a stream of
# inserts, updates (TOASTed column left unchanged, NULLs), deletes and
# primary key changes. Three pipelines consume every topic with one
# topics.regex: into OpenSearch 2, into Elasticsearch 8 (HTTPS, its own
# security) and into Redis; all three are killed with -9 mid-stream and
# started again. A jsonl pipeline beside them, never killed, is the model.
# In the end, for every table, each sink holds exactly the source's keys,
# with the source's g, v, note and TOASTed text (its length), and every
# document/value equals the row the change log implies.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/many_tables.sh"

mt_create_source
mt_connector_add

regex="topics.regex=$prefix\\.$src\\..*"
common=("$regex" "batch.size=500")
es_engine_select opensearch
es_pipeline_file "$work/os.properties" "name=$test_name-os-$uid" "${common[@]}"
es_engine_select elasticsearch
es_pipeline_file "$work/es8.properties" "name=$test_name-es8-$uid" "${common[@]}"
redis_pipeline_file "$work/redis.properties" "name=$test_name-redis-$uid" "${common[@]}"
pipeline_file "$work/log.properties" "name=$test_name-log-$uid" "${common[@]}" \
    "jsonl.path=$work/log.jsonl"
sinks="os es8 redis"

say "pipelines into OpenSearch, Elasticsearch 8 and Redis over $ntopics topics"
started=$(now)
for s in $sinks log; do start_cdcsink "$work/$s.properties" "$work/$s.log"; eval "pid_$s=$cdcsink_pid"; done

mt_stream_start 12 # rounds 12 and later wait for the kill

# sink_docs SINK: documents/keys in SINK.
sink_docs() {
    case $1 in
    os) es_engine_select opensearch; es "/$es_prefix-*/_count" | jq '.count // 0' ;;
    es8) es_engine_select elasticsearch; es "/$es_prefix-*/_count" | jq '.count // 0' ;;
    redis) redis_keys "$redis_prefix:*" | wc -l ;;
    esac
}
# Killed in the middle of the stream (round 8 of 25 or later, and the
# stream holds before round 12 until then), once every sink holds
# documents (the search engines create 34 indexes first).
mid_stream() {
    local s
    [ "$(cat "$work/round")" -ge 8 ] || return 1
    for s in $sinks; do [ "$(sink_docs "$s")" -gt 0 ] || return 1; done
}
wait_for 120 "every sink applying, the stream at round 8" mid_stream
kill -9 "$pid_os" "$pid_es8" "$pid_redis"
round_at_kill=$(cat "$work/round")
touch "$work/go"
say "kill -9 of the three in round $round_at_kill of $rounds"
kill -0 "$mt_writer" 2>/dev/null && [ "$round_at_kill" -lt $((rounds - 1)) ] ||
    fail "the stream was over before the kill"
sleep 1
for s in $sinks; do start_cdcsink "$work/$s.properties" "$work/$s.log"; eval "pid_$s=$cdcsink_pid"; done
wait "$mt_writer" || fail "the stream workload failed"

events=$(mt_events_settled)
logged_all() { [ "$(lines "$work/log.jsonl")" -ge "$events" ]; }
wait_for 120 "the model has all $events records" logged_all
for s in $sinks log; do wait_for 240 "$s caught up" caught_up "$work/$s.properties"; done
caught_at=$(since "$started")

# ---------------------------------------------------------------------------
# The comparison, table by table. A sink's documents and the model are
# {"<_id or key>": row} in $work/<sink>.<table>.json; the source's truth is,
# per key, g, v, note and the length of the TOASTed text. Each is read in
# one pass and split by table (34 passes over an 80,000-record log took
# minutes).

# split_by_table NAME: lines "<table> <json>" on stdin into $work/NAME.<table>.json.
split_by_table() {
    awk -v dir="$work" -v name="$1" '{ t = $1; sub(/^[^ ]* /, ""); print > (dir "/" name "." t ".json") }'
}

# why REASON: a comparison failed; the reason is kept for the last try.
why() { echo "$*" >"$work/why"; return 1; }

# compare_all: reads the model, the source and every sink again and
# compares them table by table; 1 with the reason in $work/why.
compare_all() {
    rm -f "$work"/model.*.json "$work"/truth.*.json "$work"/os.*.json "$work"/es8.*.json "$work"/redis.*.json
    say "the model: the end state the change log implies, by table and _id"
    jsonl_state "$work/log.jsonl" '[.source.table, (.key | [.[] | tostring] | join(":"))] | tojson' |
        jq -r 'to_entries | map(.key |= fromjson) | group_by(.key[0])[]
               | "\(.[0].key[0]) \(map({key: .key[1], value}) | from_entries | tojson)"' |
        split_by_table model

    say "the source's rows"
    mt_catalog
    for t in "${tables[@]}"; do
        big=NULL
        [ -z "${has_big[$t]:-}" ] || big="length(big)"
        echo "SELECT '$t', jsonb_agg(jsonb_build_object('k', concat_ws(':', ${order_by[$t]}), 'g', g, 'v', v,
                                                        'note', note, 'big', $big)) FROM $src.$t;"
    done | psql_source -F ' ' | split_by_table truth

    say "what the sinks hold"
    for engine in os es8; do
        if [ "$engine" = os ]; then es_engine_select opensearch; else es_engine_select elasticsearch; fi
        for t in "${tables[@]}"; do echo "$t $(es_docs "$es_prefix-$t" | jq -c .)"; done | split_by_table "$engine"
    done
    redis_keys "$redis_prefix:*" >"$work/keys.txt"
    sed 's/^/GET /' "$work/keys.txt" | rcli >"$work/values.txt"
    [ "$(wc -l <"$work/keys.txt")" -eq "$(wc -l <"$work/values.txt")" ] || { why "redis: keys and values do not pair"; return 1; }
    paste -d' ' <(sed "s/^$redis_prefix://; s/:/ /" "$work/keys.txt") "$work/values.txt" |
        jq -R -r -n '[inputs | capture("^(?<t>[^ ]*) (?<k>[^ ]*) (?<v>.*)$")] | group_by(.t)[]
                     | "\(.[0].t) \(map({key: .k, value: (.v | fromjson)}) | from_entries | tojson)"' |
        split_by_table redis

    # project: {"<id>": row} (or the source's list) on stdin as sorted [{k, g, v, note, big}].
    project() {
        jq -S 'if type == "object" then [to_entries[] | {k: .key, g: .value.g, v: .value.v, note: .value.note,
                                         big: (.value.big | if . == null then null else length end)}]
               else . end | sort_by(.k)'
    }

    say "every sink, table by table"
    for t in "${tables[@]}"; do
        project <"$work/truth.$t.json" >"$work/truth.$t.sorted"
        [ "$(jq length "$work/truth.$t.sorted")" -gt 100 ] || { why "$src.$t has too few rows"; return 1; }
        project <"$work/model.$t.json" | cmp -s - "$work/truth.$t.sorted" ||
            { why "the model of $t differs from the source"; return 1; }
        jq -S . "$work/model.$t.json" >"$work/model.$t.sorted"
        for s in $sinks; do
            [ -s "$work/$s.$t.json" ] || { why "$s holds nothing of $t"; return 1; }
            if ! project <"$work/$s.$t.json" | diff "$work/truth.$t.sorted" - >"$work/diff.txt"; then
                why "$s: $t differs from the source: $(head -20 "$work/diff.txt")"
                return 1
            fi
            if ! jq -S . "$work/$s.$t.json" | diff "$work/model.$t.sorted" - >"$work/diff.txt"; then
                why "$s: the documents of $t differ from the rows the change log implies: $(cut -c1-200 "$work/diff.txt" | head -20)"
                return 1
            fi
        done
    done
}

# Debezium may still publish a change late on a loaded machine: a mismatch
# is looked at again, up to five times.
converged=""
for attempt in 1 2 3 4 5; do
    if compare_all; then converged=1; break; fi
    say "not equal yet (try $attempt): $(head -c 300 "$work/why")"
    sleep 10
    for s in $sinks log; do wait_for 120 "$s caught up" caught_up "$work/$s.properties"; done
done
[ -n "$converged" ] || fail "$(cat "$work/why")"

say "$ntables tables equal in each of: $sinks"

toasted=$(cat "$work"/truth.toast_*.sorted | jq -s '[.[][] | select(.big != null and .big >= 9600 and .v > 0)] | length')
[ "$toasted" -gt 100 ] || fail "only $toasted updated rows hold TOASTed values"
for s in $sinks; do kill -TERM "$(eval echo "\$pid_$s")"; done
kill -TERM "$pid_log"
for s in $sinks log; do wait "$(eval echo "\$pid_$s")" || fail "pipeline $s exited with $?"; done
for s in $sinks; do
    [ "$(records "cdcsink.dlq.$test_name-$s-$uid")" -eq 0 ] || fail "$s: records in its DLQ topic (any run)"
    echo "$s (last run): consumed=$(stat consumed "$work/$s.log") applied=$(stat applied "$work/$s.log") stale=$(stat stale "$work/$s.log") dlq=$(stat dlq "$work/$s.log")"
    [ "$(stat dlq "$work/$s.log")" -eq 0 ] || fail "pipeline $s sent records to the DLQ"
done
! grep -E 'AddressSanitizer|LeakSanitizer|runtime error' "$work"/*.log || fail "a sanitizer report in cdcsink's log"
echo "many-tables-search-cache: tables=$ntables events=$events seconds=${caught_at%.*} toasted=$toasted"
echo ok

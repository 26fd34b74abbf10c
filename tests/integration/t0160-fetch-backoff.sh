#!/usr/bin/env bash
# A full prefetch queue is looked at again after 10 ms, not librdkafka's
# 1 s (fetch.queue.backoff.ms, src/consumer.c): with the default, a
# pipeline faster than one queue a second waits most of each second
# (docs/decisions.md, "Consumer prefetch"). Speed is measured by benchmarks,
# not here: this reads librdkafka's own fetch debug lines while the queue is
# kept full, checks the backoff they name, that kafka.fetch.queue.backoff.ms
# still overrides it, and that every record arrives.
. "$(dirname "$0")/lib.sh"

table="it_backoff_$uid"
topic="it.public.$table"
psql_source -c "CREATE TABLE $table (id int PRIMARY KEY, pad text NOT NULL)"
ensure_it_connector
rows=3000
psql_source -c "INSERT INTO $table SELECT g, repeat('x', 200) FROM generate_series(1, $rows) g"
wait_records 120 "$topic" "$rows"

# A 16 KiB prefetch queue holds a few dozen records: it is full all along.
run_once() { # NAME [key=value...]
    local name=$1
    shift
    pipeline_file "$work/$name.properties" "topics=$topic" "jsonl.path=$work/$name.jsonl" \
        "group.id=$test_name-$uid-$name" kafka.queued.max.messages.kbytes=16 \
        kafka.debug=fetch log.level=debug "$@"
    start_cdcsink "$work/$name.properties" "$work/$name.log"
    wait_for 120 "$rows lines" at_least "$rows" "$work/$name.jsonl"
    kill -TERM "$cdcsink_pid"
    wait "$cdcsink_pid" || fail "cdcsink exited $?"
    [ "$(lines "$work/$name.jsonl")" -eq "$rows" ] || fail "want $rows lines, got $(lines "$work/$name.jsonl")"
}
# queue_backoffs LOG: the distinct backoffs librdkafka took for a full queue.
queue_backoffs() {
    grep -o 'Fetch backoff for [0-9]*ms: Local: Queue full' "$1" | awk '{print $4}' | tr -d : | sort -u | tr '\n' ' '
}

say "cdcsink's default: 10 ms"
run_once default
got=$(queue_backoffs "$work/default.log")
echo "queue-full backoffs: $got"
[ "$got" = "10ms " ] || fail "want only 10ms backoffs for a full queue, got '$got'"

say "kafka.fetch.queue.backoff.ms=25 wins"
run_once given kafka.fetch.queue.backoff.ms=25
got=$(queue_backoffs "$work/given.log")
[ "$got" = "25ms " ] || fail "want only 25ms backoffs, got '$got'"
cmp <(jq -c '.key.id' "$work/default.jsonl" | sort -n) <(jq -c '.key.id' "$work/given.jsonl" | sort -n) ||
    fail "the two runs delivered different records"
echo "ok"

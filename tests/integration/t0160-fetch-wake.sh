#!/usr/bin/env bash
# The fetch waker (src/fetchwake.c) asks the leaders for watermarks while
# the pipeline lags behind a full prefetch queue, never once it has caught
# up, and not at all with fetch.wake.ms=0. Speed is measured by benchmarks,
# not here; this checks what the waker sends and that nothing is lost.
. "$(dirname "$0")/lib.sh"

table="it_wake_$uid"
topic="it.public.$table"
psql_source -c "CREATE TABLE $table (id int PRIMARY KEY, pad text NOT NULL)"
ensure_it_connector
rows=3000
psql_source -c "INSERT INTO $table SELECT g, repeat('x', 200) FROM generate_series(1, $rows) g"
wait_records 120 "$topic" "$rows"

# A 16 KiB prefetch queue holds a few dozen records: it is full all along.
run_once() { # NAME LOG [key=value...]
    local name=$1 log=$2
    shift 2
    pipeline_file "$work/$name.properties" "topics=$topic" "jsonl.path=$work/$name.jsonl" \
        "group.id=$test_name-$uid-$name" kafka.queued.max.messages.kbytes=16 "$@"
    start_cdcsink "$work/$name.properties" "$log"
}
stop_now() {
    kill -TERM "$cdcsink_pid"
    wait "$cdcsink_pid" || fail "cdcsink exited $?"
}

say "lagging behind a full queue: watermark requests are sent"
run_once lag "$work/lag.log" fetch.wake.ms=20
wait_for 120 "$rows lines" at_least "$rows" "$work/lag.jsonl"
stop_now
[ "$(lines "$work/lag.jsonl")" -eq "$rows" ] || fail "want $rows lines, got $(lines "$work/lag.jsonl")"
wakes=$(stat fetch_wakes "$work/lag.log")
[ "${wakes:-0}" -gt 0 ] || fail "no watermark request while lagging (fetch_wakes=$wakes)"
echo "fetch_wakes=$wakes while reading $rows records"

say "caught up, the same group idles 3 s: nothing is sent"
run_once lag "$work/idle.log" fetch.wake.ms=20
sleep 3
stop_now
[ "$(stat consumed "$work/idle.log")" -eq 0 ] || fail "the caught-up group read records again"
[ "$(stat fetch_wakes "$work/idle.log")" -eq 0 ] ||
    fail "caught up, yet fetch_wakes=$(stat fetch_wakes "$work/idle.log")"

say "fetch.wake.ms=0: no waker, all records still arrive"
run_once off "$work/off.log" fetch.wake.ms=0
wait_for 120 "$rows lines" at_least "$rows" "$work/off.jsonl"
stop_now
[ "$(stat fetch_wakes "$work/off.log")" -eq 0 ] || fail "fetch.wake.ms=0 still sent requests"
cmp <(jq -c '.key.id' "$work/lag.jsonl" | sort -n) <(jq -c '.key.id' "$work/off.jsonl" | sort -n) ||
    fail "the two runs delivered different records"
echo "ok"

#!/usr/bin/env bash
# Two members in one group on a 3-partition topic, with the default
# cooperative-sticky strategy and with the eager "range" strategy: a member
# joining and a member leaving (SIGTERM) move partitions without losing or
# repeating a change — offsets are committed on revoke and in-flight
# records of revoked partitions are abandoned, not applied.
. "$(dirname "$0")/lib.sh"

ensure_it_connector
for strategy in cooperative-sticky range; do
    table="it_rebal_${strategy%%-*}_$uid"
    topic="it.public.$table"
    psql_source -c "CREATE TABLE $table (id int PRIMARY KEY, v int NOT NULL)"
    insert() { psql_source -c "INSERT INTO $table SELECT g, g FROM generate_series($1, $2) g"; }
    dir="$work/$strategy"
    mkdir -p "$dir"
    insert 1 300
    wait_for 60 "topic $topic" bash -c "'$KCAT' -b '$KAFKA_BOOTSTRAP_SERVERS' -C -t '$topic' -o beginning -c 1 -e -q >/dev/null 2>&1"

    say "$strategy: member A alone"
    common=("topics=$topic" "kafka.partition.assignment.strategy=$strategy"
            "name=rebal-${strategy%%-*}-$uid" "batch.size=20")
    pipeline_file "$dir/a.properties" "${common[@]}" "jsonl.path=$dir/a.jsonl"
    pipeline_file "$dir/b.properties" "${common[@]}" "jsonl.path=$dir/b.jsonl"
    start_cdcsink "$dir/a.properties" "$dir/a.log"
    a=$cdcsink_pid
    wait_for 60 "A applies the first changes" at_least 1 "$dir/a.jsonl"

    say "$strategy: member B joins"
    start_cdcsink "$dir/b.properties" "$dir/b.log"
    b=$cdcsink_pid
    insert 301 600
    wait_for 60 "B is assigned partitions" grep -q "assigned [1-9]" "$dir/b.log"

    say "$strategy: member A leaves"
    kill -TERM "$a"
    wait "$a" || fail "A exited with $?"
    insert 601 900
    wait_for 90 "900 ids across A and B" bash -c \
        "[ \$(cat '$dir/a.jsonl' '$dir/b.jsonl' 2>/dev/null | jq -s 'map(.key.id) | unique | length') -eq 900 ]"
    total=$(cat "$dir/a.jsonl" "$dir/b.jsonl" | wc -l)
    say "$strategy: A wrote $(lines "$dir/a.jsonl"), B wrote $(lines "$dir/b.jsonl")"
    [ "$total" -eq 900 ] || fail "$strategy: $total lines for 900 changes: a handover repeated records"
    [ "$(lines "$dir/b.jsonl")" -gt 0 ] || fail "$strategy: B applied nothing"
    grep -q "revoking" "$dir/a.log" || fail "$strategy: A never revoked"
    wait_for 30 "lag 0" bash -c "'$CDCSINK' lag -c '$dir/b.properties' --json | jq -e '.total_lag == 0' >/dev/null"
    kill -TERM "$b"
    wait "$b" || fail "B exited with $?"
done
echo ok

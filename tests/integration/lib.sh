# Sourced by every integration test. Needs `tests/stack/stack up` first.
# Tests chain their steps and stop at the first failing one (set -e); each
# failure says what was expected and what was seen.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
[ -f "$root/.stack/env" ] || { echo "no .stack/env: run tests/stack/stack up" >&2; exit 1; }
set -a
# shellcheck disable=SC1091
. "$root/.stack/env"
set +a
# shellcheck source=../stack/process.sh
. "$root/tests/stack/process.sh"
CDCSINK=${CDCSINK:-$root/build/cdcsink}
REPRODUCE=$root/build/reproduce
KCAT=$(command -v kcat || command -v kafkacat)
test_name=$(basename "$0" .sh)
# Everything a test creates carries a unique suffix, so tests neither see
# each other's data nor depend on a fresh stack.
uid="$(date +%s)$$"
work="$root/.stack/work/$test_name-$uid"
mkdir -p "$work"
pids=()

cleanup() {
    for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
say() { echo "--- $*"; }

psql_source() { psql "$SOURCE_PG_URL" -v ON_ERROR_STOP=1 -qAt "$@"; }
psql_target() { psql "$TARGET_PG_URL" -v ON_ERROR_STOP=1 -qAt "$@"; }

# The shared Debezium connector captures every public.it_* table into
# topics it.public.it_*; tests create their own tables.
# The shared connector's name changes whenever it is created again: Kafka
# Connect keeps source offsets by connector name, and a connector of an old
# name would resume from an LSN its new replication slot never had.
ensure_it_connector() {
    local name
    for name in $(curl -fsS "$KAFKA_CONNECT_URL/connectors" | jq -r '.[] | select(. == "it" or startswith("it-"))'); do
        if connector_running "$name" && curl -fsS "$KAFKA_CONNECT_URL/connectors/$name/config" |
            jq -e '.["field.name.adjustment.mode"] == "avro"' >/dev/null; then
            return 0
        fi
        "$root/tests/stack/stack" connector remove "$name" >&2 || true
    done
    # Slots of connectors a restarted Connect forgot would hold WAL forever.
    psql_source -c "SELECT count(pg_drop_replication_slot(slot_name)) FROM pg_replication_slots
                    WHERE slot_name LIKE 'dbz\_it%' AND NOT active" >/dev/null
    # Three partitions per topic, so rebalances have something to move.
    # Intervals as ISO 8601 strings: Debezium's default (microseconds with
    # 30.4375-day months) cannot round-trip. Column names that Avro cannot
    # hold become valid Avro names.
    "$root/tests/stack/stack" connector add "it-$(date +%s%N)" 'public\.it_.*' topic.prefix=it \
        publication.autocreate.mode=all_tables snapshot.mode=no_data \
        topic.creation.default.partitions=3 topic.creation.default.replication.factor=1 \
        interval.handling.mode=string \
        field.name.adjustment.mode=avro schema.name.adjustment.mode=avro >&2
}

connector_running() {
    curl -fsS "$KAFKA_CONNECT_URL/connectors/$1/status" 2>/dev/null |
        jq -e '.connector.state == "RUNNING" and (.tasks | length) > 0 and all(.tasks[]; .state == "RUNNING")' >/dev/null
}

# wait_for SECONDS DESCRIPTION COMMAND...: polls until COMMAND succeeds.
wait_for() {
    local seconds=$1 what=$2
    shift 2
    local deadline=$(( $(date +%s) + seconds ))
    until "$@"; do
        [ "$(date +%s)" -lt "$deadline" ] || fail "timed out after ${seconds}s waiting for: $what"
        sleep 0.5
    done
}

# pipeline_file PATH KEY=VALUE...: a jsonl pipeline on the stack, with the
# given keys added or overriding.
pipeline_file() {
    local path=$1
    shift
    local -A keys=(
        [name]="$test_name-$uid" [sink]=jsonl
        [schema.registry.url]="$SCHEMA_REGISTRY_URL"
        [kafka.bootstrap.servers]="$KAFKA_BOOTSTRAP_SERVERS"
        [kafka.topic.metadata.refresh.interval.ms]=1000
        [batch.max.wait.ms]=50 [commit.interval.ms]=500 [http.listen]=off
        # A killed member's partitions move after this, not after 45 s.
        [kafka.session.timeout.ms]=6000
    )
    local kv
    for kv in "$@"; do keys[${kv%%=*}]=${kv#*=}; done
    for k in "${!keys[@]}"; do echo "$k = ${keys[$k]}"; done >"$path"
}

# pg_pipeline_file PATH KEY=VALUE...: a postgres pipeline writing into the
# schema $pg_schema of the target (unique per test).
pg_schema="it_$uid"
pg_pipeline_file() {
    local path=$1
    shift
    pipeline_file "$path" sink=postgres "connection.url=$TARGET_PG_URL" \
        "table.schema=$pg_schema" "$@"
}

# stat NAME LOG: a counter from cdcsink's last "stopping:" line.
stat() {
    grep 'msg="stopping:' "$2" | tail -n 1 | grep -o "$1=[0-9]*" | cut -d= -f2
}

# caught_up CONFIG: the pipeline's group has committed everything.
caught_up() {
    "$CDCSINK" lag -c "$1" --json 2>/dev/null | jq -e '.total_lag == 0 and (.partitions | length) > 0' >/dev/null
}

# records TOPIC: how many records the topic holds (all partitions).
records() { consume_all "$1" '.\n' | grep -c . || true; }

# wait_records SECONDS TOPIC N: Debezium has published at least N records.
wait_records() {
    wait_for "$1" "$3 records in $2" bash -c "[ \$('$KCAT' -b '$KAFKA_BOOTSTRAP_SERVERS' -C -t '$2' -o beginning -e -q -f '.\n' 2>/dev/null | wc -l) -ge $3 ]"
}

# same_rows QUERY_SOURCE QUERY_TARGET: both databases answer the same.
# A query that fails (a table not created yet) is never "the same".
same_rows() {
    local a b
    a=$(set -o pipefail; psql "$SOURCE_PG_URL" -v ON_ERROR_STOP=1 -Atc "$1" 2>/dev/null | md5sum) || return 1
    b=$(set -o pipefail; psql "$TARGET_PG_URL" -v ON_ERROR_STOP=1 -Atc "$2" 2>/dev/null | md5sum) || return 1
    [ "$a" = "$b" ]
}

# expect_fatal CONFIG LOG WHAT [SECONDS]: `cdcsink run` must stop by itself
# with exit 1 (a fatal error) within SECONDS (default 30); its output is in
# LOG and in the test's log. WHAT ends the failure message ("with ...").
expect_fatal() {
    local rc=0
    timeout "${4:-30}" "$CDCSINK" run -c "$1" >"$2" 2>&1 || rc=$?
    cat "$2"
    [ "$rc" -eq 1 ] || fail "want exit 1 $3, got $rc"
}

# start_cdcsink CONFIG LOG: runs `cdcsink run` in the background; the pid
# is in $cdcsink_pid.
start_cdcsink() {
    "$CDCSINK" run -c "$1" >>"$2" 2>&1 &
    cdcsink_pid=$!
    pids+=("$cdcsink_pid")
}

lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }

# at_least N FILE: FILE has at least N lines (for wait_for).
at_least() { [ "$(lines "$2")" -ge "$1" ]; }

# partition_end TOPIC PARTITION: the offset the next record will get.
partition_end() {
    "$KCAT" -b "$KAFKA_BOOTSTRAP_SERVERS" -Q -t "$1:$2:-1" 2>/dev/null | awk '{print $NF}'
}

# lag_json CONFIG: cdcsink lag --json (exit code ignored).
lag_json() { "$CDCSINK" lag -c "$1" --json || true; }

# consume_all TOPIC FORMAT: every record of a topic, kcat's -f format.
consume_all() {
    "$KCAT" -b "$KAFKA_BOOTSTRAP_SERVERS" -C -t "$1" -o beginning -e -q -f "$2" 2>/dev/null || true
}

# group_committed GROUP TOPIC: "partition:committed" for each partition of
# TOPIC, as consumer group GROUP has committed it (-1: nothing committed).
group_committed() {
    local cfg="$work/committed-$RANDOM.properties"
    pipeline_file "$cfg" "topics=$2" "group.id=$1"
    "$CDCSINK" lag -c "$cfg" --json 2>/dev/null | jq -r '.partitions[] | "\(.partition):\(.committed)"'
}

# replay_stat NAME OUTPUT: a counter from the summary line that `cdcsink
# dlq replay` printed into OUTPUT ("replay: applied=N stale=N ...").
replay_stat() {
    grep '^replay' "$2" | tail -n 1 | grep -o "$1=[0-9]*" | cut -d= -f2
}

# dlq_replay CONFIG OUTPUT [ARGS...]: runs `cdcsink dlq replay`, stdout into
# OUTPUT, stderr appended to OUTPUT.log; the exit code is in $replay_rc.
dlq_replay() {
    local cfg=$1 out=$2
    shift 2
    replay_rc=0
    "$CDCSINK" dlq replay -c "$cfg" "$@" >"$out" 2>>"$out.log" || replay_rc=$?
    cat "$out"
}

# redis_pipeline_file PATH KEY=VALUE...: a redis pipeline on the stack's
# Redis (its Cluster with REDIS_MODE=cluster); keys carry the prefix
# $redis_prefix (unique per test).
redis_prefix="rt$uid"
redis_pipeline_file() {
    local path=$1
    shift
    local where=("connection.url=$REDIS_URL")
    [ "${REDIS_MODE:-}" = cluster ] && where=("connection.url=$REDIS_CLUSTER_URL" "redis.cluster=true")
    pipeline_file "$path" sink=redis "${where[@]}" \
        "key.format=$redis_prefix:\${source.table}:\${key}" "$@"
}

# The search engine the elasticsearch tests write to: the stack's
# OpenSearch 2, or with ES_MODE=elasticsearch its Elasticsearch 8 (HTTPS
# and users of its own security). es_engine_select ENGINE sets es_url (the
# engine's address), es_connection (the pipeline keys that reach it) and
# es_curl (curl's options); a test over both engines calls it to switch.
es_engine_select() {
    case $1 in
    elasticsearch)
        es_url=$ES8_URL
        es_connection=("connection.url=$ES8_URL" "connection.username=$ES8_USERNAME"
            "connection.password=$ES8_PASSWORD" "connection.ssl.ca.location=$ES8_TLS_CA")
        es_curl=(--cacert "$ES8_TLS_CA" -u "$ES8_USERNAME:$ES8_PASSWORD") ;;
    opensearch)
        es_url=$ELASTICSEARCH_URL
        es_connection=("connection.url=$ELASTICSEARCH_URL")
        es_curl=() ;;
    *) fail "es_engine_select: no engine '$1'" ;;
    esac
}
es_engine_select "${ES_MODE:-opensearch}"

# es_pipeline_file PATH KEY=VALUE...: an elasticsearch pipeline on the
# stack's engine (above); indexes carry the prefix $es_prefix (unique per
# test) and get no replicas (one node).
es_prefix="et$uid"
es_pipeline_file() {
    local path=$1
    shift
    pipeline_file "$path" sink=elasticsearch "${es_connection[@]}" \
        "index.name.format=$es_prefix-\${source.table}" "index.number_of_replicas=0" "$@"
}

# es PATH [CURL ARGS...]: the engine's answer to a request (JSON).
es() { curl -sS "${es_curl[@]}" "$es_url$1" -H 'Content-Type: application/json' "${@:2}"; }

# es_docs INDEX: every document as {"<_id>": _source}, sorted by _id.
es_docs() {
    es "/$1/_refresh" -X POST >/dev/null
    # (no sort=_id: Elasticsearch 8 refuses to sort on _id; jq -S sorts)
    es "/$1/_search?size=10000" |
        jq -S '[.hits.hits[] | {key: ._id, value: ._source}] | from_entries'
}

# guard_fixture TABLE: the guard tests' table (id int PRIMARY KEY, v
# text) with insert 1 'a', updates 'b' and 'c', insert 2 'x', delete 2,
# each change's place listed by a jsonl pipeline, and where to find them
# again: p1 o_insert1 o_update_b (key 1) and p2 o_insert2 (key 2), the
# partition and offset for `reproduce`.
guard_fixture() {
    psql_source -c "CREATE TABLE $1 (id int PRIMARY KEY, v text)"
    ensure_it_connector
    psql_source <<SQL
INSERT INTO $1 VALUES (1, 'a');
UPDATE $1 SET v = 'b' WHERE id = 1;
UPDATE $1 SET v = 'c' WHERE id = 1;
INSERT INTO $1 VALUES (2, 'x');
DELETE FROM $1 WHERE id = 2;
SQL
    say "where each change is: a jsonl pipeline lists them"
    index_records "it.public.$1" 6
    read -r p1 o_insert1 <<<"$(where 1 c true)"
    read -r _ o_update_b <<<"$(where 1 u '.after.v == "b"')"
    read -r p2 o_insert2 <<<"$(where 2 c true)"
}

# churn TABLE ROUNDS ROWS [PAUSE] [DELETE_MOD]: a stream of changes on a
# table (id int PRIMARY KEY, v int, t text), one transaction a round: ROWS
# new rows, v + 1 on every 7th row, and (DELETE_MOD > 0) a delete of every
# DELETE_MOD-th older row; then PAUSE seconds (default 0.3). Stops early
# once $work/stop exists. Tests run it in the background while something
# breaks.
churn() {
    local table=$1 rounds=$2 rows=$3 pause=${4:-0.3} mod=${5:-40} i del
    for i in $(seq 0 $((rounds - 1))); do
        [ -e "$work/stop" ] && break
        del=""
        [ "$mod" -gt 0 ] && del="; DELETE FROM $table WHERE id % $mod = $((i % mod)) AND id < $((i * rows))"
        psql_source -c "INSERT INTO $table SELECT g, g, 't' || g FROM generate_series($((i * rows + 1)), $((i * rows + rows))) g;
                        UPDATE $table SET v = v + 1 WHERE id % 7 = $((i % 7))$del"
        [ "$pause" = 0 ] || sleep "$pause"
    done
}

# redis_cluster_converged TABLE NODE: every row of a churn table equals its
# key's JSON value in the Cluster, read through NODE (host:port) following
# redirects. Leaves the source's "key json" lines in $work/want.txt.
redis_cluster_converged() {
    local q="SELECT '$redis_prefix:$1:' || id, json_build_object('id', id, 'v', v, 't', t)::text FROM $1 ORDER BY 1"
    psql_source -F ' ' -c "$q" >"$work/want.txt"
    cut -d' ' -f2- "$work/want.txt" | jq -c . >"$work/want.json"
    cut -d' ' -f1 "$work/want.txt" | sed 's/^/GET /' |
        redis-cli --no-auth-warning --user cdcsink --pass cdcsink -c -h "${2%:*}" -p "${2#*:}" |
        grep -v '^-> Redirected' | jq -c . >"$work/got.json" 2>/dev/null || return 1
    cmp -s "$work/want.json" "$work/got.json"
}

# redis_masters: host:port of the Cluster's masters now (a failover
# swaps a master and its replica), read from CLUSTER NODES on a seed.
redis_masters() {
    local seed=${REDIS_CLUSTER_URL##*@}
    seed=${seed%%,*}
    redis-cli --no-auth-warning -u "redis://cdcsink:cdcsink@$seed" CLUSTER NODES |
        awk '$3 ~ /master/ && $3 !~ /fail/ && $9 != "" {sub(/@.*/, "", $2); print $2}'
}

# redis_nodes: host:port of every server holding data (the Cluster's
# masters, or the one server).
redis_nodes() {
    if [ "${REDIS_MODE:-}" = cluster ]; then
        redis_masters
    else
        local hp=${REDIS_URL##*@}
        echo "${hp%%/*}"
    fi
}

# rcli ARGS...: redis-cli as the test's user; in a Cluster it follows
# redirects.
rcli() {
    if [ "${REDIS_MODE:-}" = cluster ]; then
        redis-cli --no-auth-warning -c -u "redis://cdcsink:cdcsink@$(redis_nodes | head -n 1)" "$@"
    else
        redis-cli --no-auth-warning -u "$REDIS_URL" "$@"
    fi
}
export -f rcli redis_nodes redis_masters

# redis_scan PATTERN: every key matching, on every server.
redis_scan() {
    local node
    for node in $(redis_nodes); do
        redis-cli --no-auth-warning -u "redis://cdcsink:cdcsink@$node" --scan --pattern "$1"
    done
}

# redis_keys PATTERN: the data keys (not position markers) matching, sorted.
redis_keys() { redis_scan "$1" | grep -v '^__cdc:' | sort; }

# jsonl_state FILE [KEY]: the end state a change log implies, as the jq
# model of the guard: per key, changes in position order; a delete removes
# the row, an insert or update replaces it, and a column Debezium left
# unavailable (unchanged TOASTed) keeps the value the key had. KEY is the
# jq expression that names an event's row (default: the record key as
# JSON). Prints {"<key>": row, ...}. (Only the key's old row is bound,
# never the whole state: binding the state made every update copy it.)
jsonl_state() {
    jq -s "def row_key: ${2:-.key | tojson};"'
           map(select(.op == "c" or .op == "u" or .op == "r" or .op == "d"))
           | sort_by(.position)
           | reduce .[] as $e ({};
               ($e | row_key) as $k
               | if $e.op == "d" then del(.[$k])
                 else .[$k] as $old
                 | .[$k] = ($e.after | with_entries(
                     if (.value | type) == "object" and (.value | has("$unavailable"))
                     then .value = ($old[.key] // null) else . end))
                 end)' "$1"
}

# types_table_create TABLE ENUM: a source table of every column type the
# sinks map (tests/data/sql/types-schema.sql, renamed), captured by the
# shared connector.
types_table_create() {
    sed -e "s/public\.all_types/public.$1/g; s/public\.mood/public.$2/g" \
        "$root/tests/data/sql/types-schema.sql" | sed '/orders/,$d' | psql_source >/dev/null
}

# types_table_fill TABLE ENUM: the fixture's changes (NULLs, extremes), then
# rows 10..209 of every type, a fifth of them with a TOASTed c_big, text
# with non-ASCII, quotes and `:`.
types_table_fill() {
    sed -e "s/public\.all_types/public.$1/g; s/public\.mood/public.$2/g" \
        "$root/tests/data/sql/types-changes.sql" | sed '/orders/,$d' | psql_source >/dev/null
    psql_source <<SQL
INSERT INTO $1 (id, c_int2, c_int4, c_int8, c_numeric, c_numeric_any, c_real,
    c_double, c_bool, c_text, c_varchar, c_char, c_bytea, c_date, c_time,
    c_timestamp, c_timestamptz, c_interval, c_uuid, c_json, c_jsonb, c_enum,
    c_int_array, c_text_array, c_big)
SELECT g, g % 300, g * 1000, g::bigint * 1000000000, g / 7.0, g / 3.0, g / 4.0, g / 9.0,
    g % 2 = 0, 'row ' || g || ' é:"q"', 'v' || g, 'c' || (g % 10), decode(md5(g::text), 'hex'),
    date '2000-01-01' + g, time '10:00' + g * interval '1 minute',
    timestamp '2020-01-01' + g * interval '1 hour',
    timestamptz '2020-01-01 00:00+00' + g * interval '1 day',
    g * interval '1 hour 1 second', md5(g::text)::uuid,
    json_build_object('g', g), jsonb_build_object('g', g, 'tags', jsonb_build_array('a', g)),
    (ARRAY['sad', 'ok', 'happy'])[g % 3 + 1]::$2, ARRAY[g, g + 1], ARRAY['t' || g, NULL],
    CASE WHEN g % 5 = 0 THEN (SELECT string_agg(md5((g * k)::text), '') FROM generate_series(1, 300) k) END
FROM generate_series(10, 209) g;
SQL
}

# index_records TOPIC N: a jsonl pipeline lists the topic's first N
# records in $work/index.jsonl, for `where`.
index_records() {
    pipeline_file "$work/index.properties" "topics=$1" "jsonl.path=$work/index.jsonl" "name=index-$uid"
    start_cdcsink "$work/index.properties" "$work/index.log"
    wait_for 60 "$2 records listed" at_least "$2" "$work/index.jsonl"
    kill -TERM "$cdcsink_pid"
    wait "$cdcsink_pid"
}

# where ID OP JQ_FILTER: "partition offset" of the first listed record of
# key id ID with op OP that matches the filter (for reproduce).
where() {
    jq -r "select(.key.id == $1 and .op == \"$2\" and ($3)) | \"\(.partition) \(.offset)\"" \
        "$work/index.jsonl" | head -n 1
}

# sql_session NAME: a psql session on the source, fed through a FIFO, that
# stays open between statements (to hold a transaction, an xid, locks);
# `sql_run NAME SQL` sends SQL and returns once it has been executed.
# sql_sessions_close ends them all (their open transactions roll back).
sql_sessions=()
sql_step=0
sql_session() {
    mkfifo "$work/$1.in"
    psql "$SOURCE_PG_URL" -v ON_ERROR_STOP=1 -qAt <"$work/$1.in" >"$work/$1.out" 2>&1 &
    pids+=($!)
    local fd
    exec {fd}>"$work/$1.in"
    printf -v "sql_fd_$1" '%s' "$fd"
    sql_sessions+=("$1")
}
sql_run() {
    local fdvar="sql_fd_$1" mark
    sql_step=$((sql_step + 1))
    mark="done-$sql_step"
    printf '%s\n\\echo %s\n' "$2" "$mark" >&"${!fdvar}"
    wait_for 60 "session $1: $2" grep -q "^$mark\$" "$work/$1.out"
    ! grep -q ERROR "$work/$1.out" || fail "session $1: $(cat "$work/$1.out")"
}
sql_sessions_close() {
    local s v
    for s in "${sql_sessions[@]}"; do
        v="sql_fd_$s"
        [ -n "${!v:-}" ] && eval "exec ${!v}>&-" 2>/dev/null || true
    done
    sql_sessions=()
}

# Tables (id int PRIMARY KEY, v text) written to all three sinks:
# source_rows TABLE and sink_rows pg|rd|es TABLE print "id=v " for each
# row, by id; three_sink_pipelines KEY=VALUE... writes $work/pg, rd and
# es.properties (postgres with auto.create); three_sinks_hold TABLE WANT
# WHEN fails unless every sink holds WANT.
source_rows() { psql_source -c "SELECT id || '=' || v FROM $1 ORDER BY id" | tr '\n' ' '; }
sink_rows() {
    local k
    case $1 in
    pg) psql_target -c "SELECT id || '=' || v FROM $pg_schema.$2 ORDER BY id" 2>/dev/null | tr '\n' ' ' ;;
    rd) for k in $(redis_keys "$redis_prefix:$2:*" | sort -t: -k3 -n); do
            rcli GET "$k" | jq -r '"\(.id)=\(.v)"'
        done | tr '\n' ' ' ;;
    es) es_docs "$es_prefix-$2" |
            jq -r 'to_entries | sort_by(.key | tonumber)[] | "\(.value.id)=\(.value.v)"' | tr '\n' ' ' ;;
    esac
}
three_sink_pipelines() {
    pg_pipeline_file "$work/pg.properties" "name=$test_name-pg-$uid" auto.create=true "$@"
    redis_pipeline_file "$work/rd.properties" "name=$test_name-rd-$uid" "$@"
    es_pipeline_file "$work/es.properties" "name=$test_name-es-$uid" "$@"
}
# three_sinks_start LOG_SUFFIX: runs the three pipelines, logs in
# $work/<pg|rd|es>LOG_SUFFIX.log. three_sinks_stop: waits until each caught
# up, then stops it (SIGTERM) and fails if it sent anything to the DLQ.
# three_sinks_new_group: the next start reads from the beginning as a new
# consumer group.
declare -A three_pids
three_sinks_start() {
    local s
    three_log_suffix=${1:-}
    for s in pg rd es; do
        start_cdcsink "$work/$s.properties" "$work/$s$three_log_suffix.log"
        three_pids[$s]=$cdcsink_pid
    done
}
three_sinks_stop() {
    local s
    for s in pg rd es; do wait_for 90 "$s caught up" caught_up "$work/$s.properties"; done
    for s in pg rd es; do
        kill -TERM "${three_pids[$s]}"; wait "${three_pids[$s]}" || true
        [ "$(stat dlq "$work/$s$three_log_suffix.log")" -eq 0 ] || fail "$s: records went to the DLQ"
    done
}
three_sinks_new_group() {
    local s
    for s in pg rd es; do sed -i "s/^name = .*/name = $test_name-$s-again-$uid/" "$work/$s.properties"; done
}
three_sinks_hold() {
    local s got
    for s in pg rd es; do
        got=$(sink_rows "$s" "$1")
        [ "$got" = "$2" ] || fail "$s $3: $got, want $2"
    done
}

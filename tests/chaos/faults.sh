# Sourced by tests/chaos/run (after lib.sh): the sink servers the suite
# owns, and one function per fault kind (fault_<kind>). Needs $sinks,
# $replicas, replica_start/replica_alive/replica_pid from run.

CHAOS_PG_PORT=${CHAOS_PG_PORT:-15439}
CHAOS_REDIS_PORT=${CHAOS_REDIS_PORT:-16391}
CHAOS_PG_URL="postgresql://postgres@127.0.0.1:$CHAOS_PG_PORT/postgres"
CHAOS_PG_BIN=${STACK_PG_BIN:-/usr/lib/postgresql/15/bin}
stack="$root/tests/stack/stack"

# random_between LOW HIGH: a number of seconds, two decimals.
random_between() { awk -v r=$RANDOM -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a + (b - a) * r / 32768 }'; }
# random_item WORDS...: one of them.
random_item() { local a=("$@"); echo "${a[$((RANDOM % ${#a[@]}))]}"; }
has_sink() { [[ " $sinks " == *" $1 "* ]]; }

# ---------------------------------------------------------------------------
# the suite's own sink servers: they are crashed on purpose, so they are not
# the stack's (the stack's PostgreSQL is also Debezium's source)

# The postgres OS user must reach the cluster's files: they live under /var/tmp.
chaos_pg_dir="/var/tmp/cdcsink-chaos-$uid"
as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}
pg_target_start() {
    as_postgres "$CHAOS_PG_BIN/pg_ctl" -D "$chaos_pg_dir/data" -l "$chaos_pg_dir/postgres.log" -w -t 120 start >/dev/null
}
pg_target_up() {
    mkdir -p "$chaos_pg_dir"
    [ "$(id -u)" -ne 0 ] || chown postgres "$chaos_pg_dir"
    as_postgres "$CHAOS_PG_BIN/initdb" -D "$chaos_pg_dir/data" -U postgres --auth=trust \
        --encoding=UTF8 --locale=C.UTF-8 >"$work/initdb.log" 2>&1 || fail "initdb failed: $(tail -3 "$work/initdb.log")"
    # fsync and synchronous_commit stay on: a crash must not lose a commit.
    cat >>"$chaos_pg_dir/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $CHAOS_PG_PORT
unix_socket_directories = '$chaos_pg_dir'
shared_buffers = 64MB
max_connections = 60
EOF
    pg_target_start
}
pg_target_crash() { as_postgres "$CHAOS_PG_BIN/pg_ctl" -D "$chaos_pg_dir/data" -m immediate stop >/dev/null 2>&1 || true; }
pg_target_alive() { psql "$CHAOS_PG_URL" -X -qAtc 'SELECT 1' >/dev/null 2>&1; }

redis_target_start() {
    mkdir -p "$work/redis"
    setsid redis-server --bind 127.0.0.1 --port "$CHAOS_REDIS_PORT" --dir "$work/redis" \
        --appendonly yes --appendfsync always --save '' --protected-mode no \
        >>"$work/redis-server.log" 2>&1 </dev/null &
    redis_target_pid=$!
    wait_for 30 "the chaos Redis answering" redis_target_alive
}
redis_target_alive() { [ "$(redis-cli -p "$CHAOS_REDIS_PORT" PING 2>/dev/null)" = PONG ]; }
redis_target_crash() { kill -9 "$redis_target_pid" 2>/dev/null || true; wait "$redis_target_pid" 2>/dev/null || true; }

targets_up() {
    if has_sink postgres; then pg_target_up; fi
    if has_sink redis; then redis_target_start; fi
}
targets_down() {
    if [ -d "$chaos_pg_dir/data" ]; then
        as_postgres "$CHAOS_PG_BIN/pg_ctl" -D "$chaos_pg_dir/data" -m fast stop >/dev/null 2>&1
        rm -rf "$chaos_pg_dir"
    fi
    [ -z "${redis_target_pid:-}" ] || kill -TERM "$redis_target_pid" 2>/dev/null
}

# ---------------------------------------------------------------------------
# the stack's servers: killed -9 (the whole process group: the launcher and
# the JVM), started again with the stack's own script

stack_pid() { cat "$root/.stack/run/$1.pid" 2>/dev/null || true; }
stack_kill() {
    local pid
    pid=$(stack_pid "$1")
    [ -n "$pid" ] || fail "no pid for the stack's $1"
    kill -9 -- "-$pid" 2>/dev/null || kill -9 "$pid" 2>/dev/null || true
    local deadline=$(( $(date +%s) + 30 ))
    while pid_running "$pid"; do
        [ "$(date +%s)" -lt "$deadline" ] || fail "the stack's $1 (pid $pid) still runs 30 s after kill -9"
        sleep 0.1
    done
}
# stack_up NAME: the stack's NAME running and answering again. An
# OpenSearch recovering its indexes on a loaded machine can need more than
# the stack's own 180 s: while its process lives, the suite asks again, for
# up to 10 minutes.
stack_up() {
    local deadline=$(( $(date +%s) + 600 )) pid
    until "$stack" up "$1" >>"$work/stack.log" 2>&1; do
        pid=$(stack_pid "$1")
        [ -n "$pid" ] && pid_running "$pid" && [ "$(date +%s)" -lt "$deadline" ] ||
            fail "the stack's $1 did not come back (${work#"$root"/}/stack.log)"
    done
}
opensearch_stopped=""

# faults_restore: whatever a failed run left broken is running again.
faults_restore() {
    [ -z "$opensearch_stopped" ] || kill -CONT -- "-$opensearch_stopped" 2>/dev/null
    "$stack" up kafka registry >>"$work/stack.log" 2>&1
    if has_sink elasticsearch; then "$stack" up opensearch >>"$work/stack.log" 2>&1; fi
}

# ---------------------------------------------------------------------------
# replicas

# replica_stopped PID: its exit code once it stopped on the SIGTERM it was
# sent; one that still runs after 60 s is killed -9 and answers 124.
replica_stopped() {
    local deadline=$(( $(date +%s) + 60 ))
    while pid_running "$1" && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.2; done
    if pid_running "$1"; then
        kill -9 "$1" 2>/dev/null; wait "$1" 2>/dev/null
        return 124
    fi
    wait "$1"
}
replica_kill9() { kill -9 "${replica_pid[$1.$2]}" 2>/dev/null || true; wait "${replica_pid[$1.$2]}" 2>/dev/null || true; }

# ---------------------------------------------------------------------------
# the faults; each returns with everything running again

fault_kill9() {
    local s r chosen=()
    for s in $sinks; do
        r=$(( RANDOM % replicas + 1 ))
        replica_kill9 "$s" "$r"
        chosen+=("$s.$r")
    done
    echo "    killed ${chosen[*]}" >>"$work/faults.log"
    sleep "$(random_between 0 2)"
    for s in "${chosen[@]}"; do replica_start "${s%.*}" "${s#*.}"; done
}

fault_kill9_all() {
    local s r
    for s in $sinks; do for r in $(seq "$replicas"); do replica_kill9 "$s" "$r"; done; done
    sleep "$(random_between 0 1)"
    for s in $sinks; do
        for r in $(seq "$replicas"); do replica_start "$s" "$r"; sleep "$(random_between 0 0.5)"; done
    done
}

fault_sigterm() {
    local s r chosen=()
    for s in $sinks; do
        r=$(( RANDOM % replicas + 1 ))
        kill -TERM "${replica_pid[$s.$r]}" 2>/dev/null || true
        chosen+=("$s.$r")
    done
    for s in "${chosen[@]}"; do
        local rc=0
        replica_stopped "${replica_pid[$s]}" || rc=$?
        [ "$rc" -eq 0 ] || bad_exits=$((bad_exits + 1))
        echo "    sigterm $s: exit $rc" >>"$work/faults.log"
    done
    sleep "$(random_between 0 3)"
    for s in "${chosen[@]}"; do replica_start "${s%.*}" "${s#*.}"; done
}

declare -A fault_sink_counts
# fault_sink_restart [SINK] / fault_sink_stall [SINK]: a random sink's
# server unless one is named.
fault_sink_restart() {
    local s=${1:-$(random_item $sinks)}
    fault_sink_counts[restart.$s]=$(( ${fault_sink_counts[restart.$s]:-0} + 1 ))
    echo "    $s server" >>"$work/faults.log"
    case $s in
    postgres) pg_target_crash; sleep "$(random_between 1 5)"; pg_target_start ;;
    redis) redis_target_crash; sleep "$(random_between 1 5)"; redis_target_start ;;
    elasticsearch) stack_kill opensearch; sleep "$(random_between 1 3)"; stack_up opensearch ;;
    esac
}

fault_sink_stall() {
    local s=${1:-$(random_item $sinks)} seconds
    seconds=$(random_between 2 5)
    fault_sink_counts[stall.$s]=$(( ${fault_sink_counts[stall.$s]:-0} + 1 ))
    echo "    $s server for ${seconds}s" >>"$work/faults.log"
    case $s in
    postgres)
        # A migration's lock on every target table, held by a sleeping
        # transaction: the sink's writes wait server-side.
        local tables
        tables=$(psql "$CHAOS_PG_URL" -X -qAtc "SELECT string_agg(format('%I.%I', schemaname, tablename), ', ')
                                                 FROM pg_tables WHERE schemaname = '$src'")
        [ -n "$tables" ] || fail "no target tables to lock"
        psql "$CHAOS_PG_URL" -X -q -v ON_ERROR_STOP=1 -c "BEGIN; LOCK TABLE $tables IN EXCLUSIVE MODE;
                                                           SELECT pg_sleep($seconds); COMMIT;" >/dev/null ;;
    redis)
        redis-cli -p "$CHAOS_REDIS_PORT" CLIENT PAUSE "$(awk -v s="$seconds" 'BEGIN { printf "%d", s * 1000 }')" WRITE >/dev/null
        sleep "$seconds" ;;
    elasticsearch)
        opensearch_stopped=$(stack_pid opensearch)
        kill -STOP -- "-$opensearch_stopped"
        sleep "$seconds"
        kill -CONT -- "-$opensearch_stopped"
        opensearch_stopped="" ;;
    esac
}

fault_kafka_restart() {
    stack_kill kafka
    sleep "$(random_between 1 3)"
    stack_up kafka
}

fault_registry_down() {
    local s r
    stack_kill registry
    # Replicas that start now cannot fetch their schemas until it is back.
    for s in $sinks; do
        r=$(( RANDOM % replicas + 1 ))
        replica_kill9 "$s" "$r"
        replica_start "$s" "$r"
    done
    sleep "$(random_between 3 8)"
    stack_up registry
}

# debezium_heal: Debezium's task dies when the registry is away while it
# needs a schema (its converter does not retry) or the broker is away too
# long; an operator restarts it, and so does the suite. It resumes from its
# last committed source offset, so it publishes some changes again:
# duplicates every sink must absorb. Counted in $debezium_restarts.
debezium_restarts=0
debezium_heal() {
    local i
    for i in 1 2 3; do connector_running "$connector" && return 0; sleep 1; done
    curl -fsS -X POST "$KAFKA_CONNECT_URL/connectors/$connector/restart?includeTasks=true&onlyFailed=true" >/dev/null ||
        fail "could not restart the connector's failed task"
    debezium_restarts=$((debezium_restarts + 1))
    echo "    Debezium's task restarted" >>"$work/faults.log"
    wait_for 120 "the connector running again" connector_running "$connector"
}

# fault_resnapshot: Debezium snapshots one table again in the middle of the
# stream (a signalled incremental snapshot, in chunks of 256 rows, each
# emitted when its window closes), while the workload's transactions run
# and straddle its windows. Nothing may be lost, regressed or resurrected
# (docs/semantics.md, "Snapshots and the stream"). A restart with
# snapshot.mode=always is not used: Debezium reads the snapshot's LSN after
# its snapshot transaction took its view, and loses what commits in
# between (docs/decisions.md).
fault_resnapshot() {
    local table
    table=$(random_item $(jq -r '.tables | keys[]' "$work/layout.json"))
    psql_source -c "INSERT INTO ${src}_signal.signal VALUES ('chaos-$RANDOM$RANDOM', 'execute-snapshot',
                    '{\"data-collections\": [\"$src.$table\"], \"type\": \"incremental\"}')" >/dev/null
    echo "    incremental snapshot of $table signalled" >>"$work/faults.log"
    sleep "$(random_between 2 5)"
}

# fault_draw: a kind, kill -9 most often (two thirds of the points kill
# replicas: 170 points give over 100 kill -9 a sink).
fault_draw() {
    local n=$((RANDOM % 100))
    if [ "$n" -lt 60 ]; then echo kill9
    elif [ "$n" -lt 68 ]; then echo kill9_all
    elif [ "$n" -lt 80 ]; then echo sigterm
    elif [ "$n" -lt 87 ]; then echo sink_restart
    elif [ "$n" -lt 94 ]; then echo sink_stall
    elif [ "$n" -lt 96 ]; then echo resnapshot
    elif [ "$n" -lt 98 ]; then echo kafka_restart
    else echo registry_down
    fi
}

# faults_by_sink restart|stall: "postgres=N redis=N ..." for the figures.
faults_by_sink() {
    local s out=""
    for s in $sinks; do out+="$s=${fault_sink_counts[$1.$s]:-0} "; done
    echo "${out% }"
}

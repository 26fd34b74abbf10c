#!/usr/bin/env bash
# Oversized and hostile input (issue 13), through every sink (jsonl,
# postgres, redis, elasticsearch on the stack's OpenSearch). Each case is
# a topic: a "before" row, the hostile records, an "after" row; each sink
# reads it in a pipeline of its own, and for each the test asserts what
# was applied (the 10 MiB value and the 1 MiB key byte-exact, by md5), or
# the DLQ record (original bytes, error class, exception, reason), that
# "after" was applied behind the hostile ones, that the lag is 0, that
# cdcsink exits 0 on SIGTERM, and that its peak RSS (VmHWM, read before it
# exits) stays under baseline + 10 x the largest record (baseline: the same
# sink on a topic of two plain rows). One "figures:" line per case and sink.
#
#   big     a 10 MiB text value, from the REAL Debezium: a connector of its
#           own (not the shared `it` one, which would fail on it) with
#           producer.override.max.request.size and a topic made with a
#           larger max.message.bytes. Applied everywhere. Then the same
#           record rejected by a PostgreSQL CHECK, with a DLQ topic that
#           takes 1 MiB (the broker's default): retried with a line naming
#           the size and max.message.bytes, nothing committed, never lost;
#           once the topic's limit is raised it lands in the DLQ once.
#   many    12 crafted records of 10 MiB in a row, batches of up to 2 s
#           (jsonl: the batching is the core's): batch.max.bytes bounds
#           memory by the batch, not by batch.size x the record.
#   wide    5,000 columns (crafted: PostgreSQL holds 1,600), into an
#           existing table and as a new table's first record.
#   deep    schemas nested past the limits (records, arrays of arrays, the
#           JSON text), a recursive schema whose datum nests 10,000 deep,
#           arrays of arrays 20 deep (crafted: Debezium never nests).
#           Apicurio refuses JSON nested ~1,000 deep, so those go in as deep
#           as it takes; 10,000 is in tests/unit/t0020-hostile-input.c.
#   bigkey  a 1 MiB primary key (crafted: a btree cannot index it).
# Crafted records come from tests/tools/hostile.py (Debezium's envelope,
# source block and key shapes, copied from the captured schemas) and are
# sent by tests/tools/produce.
. "$(dirname "$0")/lib.sh"

tools=$(dirname "$CDCSINK")
[ -x "$tools/produce" ] || tools=$root/build
big_limit=33554432 # max.message.bytes of the test's topics and DLQs
check_rss=true
[[ "$CDCSINK" == *asan* ]] && check_rss=false # ASan's shadow memory is no measure

table_prefix="hx_${uid}"
connector=""
cleanup_all() {
    [ -n "$connector" ] && "$root/tests/stack/stack" connector remove "$connector" >/dev/null 2>&1
    cleanup
}
trap cleanup_all EXIT

# make_topic TOPIC: one partition, records up to 32 MiB.
make_topic() { "$tools/topic_config" "$KAFKA_BOOTSTRAP_SERVERS" create "$1" 1 "max.message.bytes=$big_limit"; }

# crafted CASE: a topic of the case's crafted records; sets topic, table.
crafted() {
    table="${table_prefix}_$1"
    topic="hx$uid.public.$table"
    make_topic "$topic"
    python3 "$root/tests/tools/hostile.py" "$SCHEMA_REGISTRY_URL" "$topic" "$work/$1" "$1"
    local args=() f
    for f in "$work/$1"/*.key; do args+=("$f" "${f%.key}.value"); done
    "$tools/produce" "$KAFKA_BOOTSTRAP_SERVERS" "$topic" 0 "${args[@]}"
}

# record_md5 TOPIC OFFSET: md5 of the value bytes of a record (partition 0).
record_md5() {
    "$KCAT" -b "$KAFKA_BOOTSTRAP_SERVERS" -C -t "$1" -p 0 -o "$2" -c 1 -e -q -f '%s' | md5sum | cut -d' ' -f1
}
record_size() { # TOPIC OFFSET: key + value bytes
    "$KCAT" -b "$KAFKA_BOOTSTRAP_SERVERS" -C -t "$1" -p 0 -o "$2" -c 1 -e -q -f '%K %S' | awk '{print ($1 < 0 ? 0 : $1) + $2}'
}
largest_record() { # TOPIC COUNT
    local i max=0 n
    for ((i = 0; i < $2; i++)); do
        n=$(record_size "$1" "$i")
        [ "$n" -gt "$max" ] && max=$n
    done
    echo "$max"
}

# pipeline SINK NAME TOPIC [KEY=VALUE...]: the pipeline file
# $work/NAME.properties.
pipeline() {
    local sink=$1 name=$2 t=$3
    shift 3
    local common=("topics=$t" "name=$test_name-$name-$uid" "batch.max.wait.ms=200" "$@")
    case $sink in
    jsonl) pipeline_file "$work/$name.properties" "${common[@]}" "jsonl.path=$work/$name.jsonl" ;;
    postgres) pg_pipeline_file "$work/$name.properties" "${common[@]}" auto.create=true auto.evolve=true ;;
    redis) redis_pipeline_file "$work/$name.properties" "${common[@]}" ;;
    elasticsearch) es_pipeline_file "$work/$name.properties" "${common[@]}" ;;
    esac
}

# run_sink SINK NAME TOPIC: runs the pipeline until its lag is 0, reads its
# peak RSS into $rss_kib, stops it (exit 0 wanted). DLQ: $dlq.
run_sink() {
    local sink=$1 name=$2
    dlq="cdcsink.dlq.$test_name-$name-$uid"
    [ -e "$work/$name.properties" ] || pipeline "$sink" "$name" "$3"
    "$tools/topic_config" "$KAFKA_BOOTSTRAP_SERVERS" create "$dlq" 1 "max.message.bytes=$big_limit" 2>/dev/null || true
    start_cdcsink "$work/$name.properties" "$work/$name.log"
    wait_for 120 "$name caught up" caught_up "$work/$name.properties"
    rss_kib=$(awk '/^VmHWM:/ {print $2}' "/proc/$cdcsink_pid/status")
    kill -TERM "$cdcsink_pid"
    local rc=0
    wait "$cdcsink_pid" || rc=$?
    [ "$rc" -eq 0 ] || { tail -n 20 "$work/$name.log"; fail "$name: cdcsink exited $rc"; }
    grep -q 'level=error' "$work/$name.log" && { grep 'level=error' "$work/$name.log"; fail "$name: an error was logged"; }
    return 0
}

declare -A baseline
# figures CASE SINK LARGEST_RECORD LARGEST_SCHEMA OUTCOME [BASIS]: the line
# of figures; fails past the bound, baseline + 10 x BASIS (default: the
# largest record) + 100 x the largest schema text: compiling a schema takes
# about 50 bytes for each byte of its JSON, most of it avro-c's validation
# (schema.c; 5,000 columns: 287 KB of JSON, 14 MiB), once per schema.
figures() {
    local basis=${6:-$3}
    local bound=$(( ${baseline[$2]} + (10 * basis + 100 * $4) / 1024 ))
    echo "figures: case=$1 sink=$2 largest_record=${3}B largest_schema=${4}B outcome=$5 dlq=$(records "$dlq") peak_rss=${rss_kib}KiB baseline=${baseline[$2]}KiB bound=${bound}KiB${6:+ (10 x ${6}B)}"
    if $check_rss && [ "$rss_kib" -ge "$bound" ]; then fail "$1/$2: peak RSS ${rss_kib} KiB >= ${bound} KiB"; fi
    return 0
}

# dlq_has OFFSET CLASS EXCEPTION REASON: the DLQ holds the record of $topic
# @OFFSET, its bytes unchanged, with these headers.
dlq_has() {
    local line
    line=$(consume_all "$dlq" '%h\n' | grep -F "__connect.errors.offset=$1," || true)
    [ "$(echo "$line" | grep -c .)" -eq 1 ] || fail "$dlq: want one record of offset $1, got: $(consume_all "$dlq" '%h\n' | cut -c1-300)"
    local h
    for h in "__connect.errors.topic=$topic," "cdcsink.error.class=$2," \
             "__connect.errors.exception.class.name=$3," "$4"; do
        [[ "$line" == *"$h"* ]] || fail "$dlq @$1: no '$h' in: ${line:0:600}"
    done
    local dlq_offset
    dlq_offset=$(consume_all "$dlq" '%o %h\n' | grep -F "__connect.errors.offset=$1," | cut -d' ' -f1)
    [ "$(record_md5 "$dlq" "$dlq_offset")" = "$(record_md5 "$topic" "$1")" ] ||
        fail "$dlq @$1: the value bytes changed"
}

# jsonl_rows NAME: the jsonl output's rows, {"<id>": after}.
jsonl_rows() { jq -s -c 'map({key: (.key.id | tostring), value: .after}) | from_entries' "$work/$1.jsonl"; }
rget() { rcli GET "$1"; }
es_get() { es "/$es_prefix-$1/_doc/$2" | jq -c 'if .found then ._source else "missing" end'; }
pg_get() { psql_target -c "SELECT v FROM \"$pg_schema\".\"$1\" WHERE id::text = '$2'"; }
# the plain rows are there: "before" (id 1 or k1), "after" (3, k3 or 5)
plain_rows_in() { # SINK NAME TABLE BEFORE_ID AFTER_ID
    local got_before got_after
    case $1 in
    jsonl) got_before=$(jsonl_rows "$2" | jq -r --arg k "$4" '.[$k].v')
           got_after=$(jsonl_rows "$2" | jq -r --arg k "$5" '.[$k].v') ;;
    postgres) got_before=$(pg_get "$3" "$4"); got_after=$(pg_get "$3" "$5") ;;
    redis) got_before=$(rget "$redis_prefix:$3:$4" | jq -r .v)
           got_after=$(rget "$redis_prefix:$3:$5" | jq -r .v) ;;
    elasticsearch) got_before=$(es_get "$3" "$4" | jq -r .v); got_after=$(es_get "$3" "$5" | jq -r .v) ;;
    esac
    [ "$got_before" = before ] && [ "$got_after" = after ] ||
        fail "$2: want before/after applied, got '$got_before'/'$got_after'"
}

sinks=(jsonl postgres redis elasticsearch)

say "baselines: each sink on two plain rows"
crafted plain
for sink in "${sinks[@]}"; do
    run_sink "$sink" "plain-$sink" "$topic"
    baseline[$sink]=$rss_kib
    plain_rows_in "$sink" "plain-$sink" "$table" 1 3
    echo "baseline: sink=$sink peak_rss=${rss_kib}KiB"
done

# ---------------------------------------------------------------------------
say "big: a 10 MiB text value from Debezium"
big_table="${table_prefix}_big"
psql_source -c "CREATE TABLE $big_table (id int PRIMARY KEY, v text)"
connector="hx-big-$uid"
topic="hx$uid.public.$big_table"
make_topic "$topic"
"$root/tests/stack/stack" connector add "$connector" "public.$big_table" "topic.prefix=hx$uid" \
    snapshot.mode=no_data "producer.override.max.request.size=$big_limit" >&2
psql_source <<SQL
INSERT INTO $big_table VALUES (1, 'before');
INSERT INTO $big_table SELECT 2, string_agg(md5(g::text || random()::text), '') FROM generate_series(1, 327680) g;
INSERT INTO $big_table VALUES (3, 'after');
SQL
big_md5=$(psql_source -c "SELECT md5(v) FROM $big_table WHERE id = 2")
[ "$(psql_source -c "SELECT length(v) FROM $big_table WHERE id = 2")" -eq 10485760 ] || fail "the source row is not 10 MiB"
wait_records 120 "$topic" 3
"$root/tests/stack/stack" connector remove "$connector" >&2
connector=""
big_size=$(record_size "$topic" 1)
big_schema=$(curl -fsS "$SCHEMA_REGISTRY_URL/schemas/ids/$("$KCAT" -b "$KAFKA_BOOTSTRAP_SERVERS" -C -t "$topic" -p 0 -o 1 -c 1 -e -q -f '%s' |
    head -c 5 | od -An -tu1 -j1 | awk '{print $1*16777216 + $2*65536 + $3*256 + $4}')" | jq -r .schema | wc -c)
[ "$big_size" -gt 10485760 ] || fail "Debezium's record is $big_size bytes"
table=$big_table
for sink in "${sinks[@]}"; do
    run_sink "$sink" "big-$sink" "$topic"
    case $sink in
    jsonl) got=$(jq -r 'select(.key.id == 2) | .after.v' "$work/big-$sink.jsonl" | tr -d '\n' | md5sum | cut -d' ' -f1) ;;
    postgres) got=$(psql_target -c "SELECT md5(v) FROM \"$pg_schema\".\"$big_table\" WHERE id = 2") ;;
    redis) got=$(rget "$redis_prefix:$big_table:2" | jq -j .v | md5sum | cut -d' ' -f1) ;;
    elasticsearch) got=$(es "/$es_prefix-$big_table/_doc/2" | jq -j ._source.v | md5sum | cut -d' ' -f1) ;;
    esac
    [ "$got" = "$big_md5" ] || fail "big/$sink: the 10 MiB value has md5 $got, want $big_md5"
    [ "$(records "$dlq")" -eq 0 ] || fail "big/$sink: DLQ records"
    plain_rows_in "$sink" "big-$sink" "$big_table" 1 3
    figures big "$sink" "$big_size" "$big_schema" "applied(md5=ok)"
done

say "big into a DLQ that takes 1 MiB: retried, never lost, then delivered once"
chk_schema="${pg_schema}_chk"
psql_target <<SQL
CREATE SCHEMA "$chk_schema";
CREATE TABLE "$chk_schema"."$big_table" (id int PRIMARY KEY, v text CHECK (length(v) < 1000000),
    __cdc_lsn bigint NOT NULL, __cdc_deleted boolean NOT NULL DEFAULT false);
SQL
name=big-dlq-postgres
dlq="cdcsink.dlq.$test_name-$name-$uid"
"$tools/topic_config" "$KAFKA_BOOTSTRAP_SERVERS" create "$dlq" 1 max.message.bytes=1048588
pg_pipeline_file "$work/$name.properties" "topics=$topic" "name=$test_name-$name-$uid" \
    "table.schema=$chk_schema" "errors.retry.backoff.max.ms=1000"
start_cdcsink "$work/$name.properties" "$work/$name.log"
refused() { grep -q "transient failure.*DLQ $dlq: $topic \[0\] @1 ([0-9]* bytes): Broker: Message size too large: .*max.message.bytes" "$work/$name.log"; }
wait_for 60 "the DLQ's refusal logged" refused
grep -m1 "transient failure.*DLQ" "$work/$name.log" | cut -c1-400
sleep 3
kill -0 "$cdcsink_pid" || fail "cdcsink exited while the DLQ refused the record"
committed=$(lag_json "$work/$name.properties" | jq '[.partitions[].committed] | max')
[ "$committed" -le 1 ] || fail "committed past the undelivered record: $committed"
[ "$(records "$dlq")" -eq 0 ] || fail "the DLQ holds records although it refuses them"
"$tools/topic_config" "$KAFKA_BOOTSTRAP_SERVERS" alter "$dlq" "max.message.bytes=$big_limit"
wait_for 120 "caught up once the DLQ takes it" caught_up "$work/$name.properties"
rss_kib=$(awk '/^VmHWM:/ {print $2}' "/proc/$cdcsink_pid/status")
kill -TERM "$cdcsink_pid"
wait "$cdcsink_pid" || fail "$name: cdcsink exited $?"
[ "$(records "$dlq")" -eq 1 ] || fail "want exactly one DLQ record, got $(records "$dlq")"
dlq_has 1 data "SQLSTATE 23514" "check constraint"
[ "$(psql_target -c "SELECT string_agg(id::text, ',' ORDER BY id) FROM \"$chk_schema\".\"$big_table\"")" = "1,3" ] ||
    fail "want rows 1 and 3 in the CHECK table"
figures big-dlq postgres "$big_size" "$big_schema" "dlq(refused,retried,delivered once,md5=ok)"

# ---------------------------------------------------------------------------
say "many: 12 records of 10 MiB in a row, batches of up to 2 s"
# Batches close at batch.max.bytes (16 MiB): without it a batch held every
# record that came within batch.max.wait.ms (30 of them: 640 MiB peak).
crafted many
batch_max_bytes=16777216 # the default; the bound is 10 x the larger of it and a record
name=many-jsonl
pipeline jsonl "$name" "$topic" batch.max.wait.ms=2000
run_sink jsonl "$name" "$topic"
[ "$(grep -c . "$work/$name.jsonl")" -eq 14 ] || fail "many: want 14 lines"
[ "$(jq -r 'select(.key.id == 21) | .after.v' "$work/$name.jsonl" | tr -d '\n' | md5sum | cut -d' ' -f1)" = \
  "$(jq -r .big_md5 "$work/many/expect.json")" ] || fail "many: record 21 changed"
plain_rows_in jsonl "$name" "$table" 1 3
figures many jsonl "$(largest_record "$topic" 2)" "$(jq .largest_schema "$work/many/expect.json")" \
    "applied(14 records, md5=ok)" "$batch_max_bytes"

# ---------------------------------------------------------------------------
say "wide: 5,000 columns"
crafted wide
largest=$(largest_record "$topic" 4)
for sink in "${sinks[@]}"; do
    run_sink "$sink" "wide-$sink" "$topic"
    plain_rows_in "$sink" "wide-$sink" "$table" 1 3
    case $sink in
    jsonl)
        [ "$(jsonl_rows "wide-$sink" | jq '.["2"] | length')" -eq 5000 ] || fail "wide/jsonl: row 2 lacks columns"
        [ "$(jsonl_rows "wide-$sink" | jq -r '.["4"].c4999')" = x4999 ] || fail "wide/jsonl: row 4"
        outcome="applied(5000 columns)" ;;
    postgres)
        dlq_has 1 schema cdcsink.SchemaChange "SQLSTATE 54011: tables can have at most 1600 columns"
        dlq_has 3 schema "SQLSTATE 54011" "SQLSTATE 54011: tables can have at most 1600 columns"
        cols=$(psql_target -c "SELECT count(*) FROM information_schema.columns WHERE table_schema = '$pg_schema' AND table_name = '$table'")
        [ "$cols" -eq 4 ] || fail "wide/postgres: the refused ALTER left $cols columns"
        outcome="dlq(schema,SQLSTATE 54011,table unchanged)" ;;
    redis)
        [ "$(rget "$redis_prefix:$table:2" | jq length)" -eq 5000 ] || fail "wide/redis: row 2"
        [ "$(rget "$redis_prefix:${table}_w:4" | jq -r .c4999)" = x4999 ] || fail "wide/redis: row 4"
        outcome="applied(5000 fields)" ;;
    elasticsearch)
        dlq_has 1 schema cdcsink.MappingConflict "Limit of total fields [1000] has been exceeded"
        dlq_has 3 schema cdcsink.MappingConflict "Limit of total fields [1000] has been exceeded"
        [ "$(es_get "$table" 2)" = '"missing"' ] || fail "wide/elasticsearch: document 2 written"
        outcome="dlq(schema,total fields limit)" ;;
    esac
    [ "$sink" = postgres ] || [ "$sink" = elasticsearch ] || [ "$(records "$dlq")" -eq 0 ] || fail "wide/$sink: DLQ records"
    [ "$sink" = jsonl ] || [ "$sink" = redis ] || [ "$(records "$dlq")" -eq 2 ] || fail "wide/$sink: want 2 DLQ records"
    figures wide "$sink" "$largest" "$(jq .largest_schema "$work/wide/expect.json")" "$outcome"
done

# ---------------------------------------------------------------------------
say "deep: nesting past the limits"
crafted deep
largest=$(largest_record "$topic" 7)
jq -c '.depths' "$work/deep/expect.json"
for sink in "${sinks[@]}"; do
    run_sink "$sink" "deep-$sink" "$topic"
    plain_rows_in "$sink" "deep-$sink" "$table" 1 5
    for off in 1 2 3; do
        dlq_has "$off" data cdcsink.DecodeError "invalid schema: JSON nested deeper than 96 levels"
    done
    dlq_has 4 data cdcsink.DecodeError "undecodable Avro: nested deeper than 64 levels"
    want20=$(printf '[%.0s' {1..20})7$(printf ']%.0s' {1..20})
    case $sink in
    jsonl) got=$(jsonl_rows "deep-$sink" | jq -c '.["4"].d') ;;
    redis) got=$(rget "$redis_prefix:$table:4" | jq -c .d) ;;
    elasticsearch) got=$(es_get "$table" 4 | jq -c .d) ;;
    postgres)
        dlq_has 5 data "SQLSTATE 54000" "SQLSTATE 54000: number of array dimensions (7) exceeds the maximum allowed (6)"
        got=$want20 ;;
    esac
    [ "$got" = "$want20" ] || fail "deep/$sink: the 20-deep array is $got"
    want=4
    [ "$sink" = postgres ] && want=5
    [ "$(records "$dlq")" -eq "$want" ] || fail "deep/$sink: want $want DLQ records, got $(records "$dlq")"
    figures deep "$sink" "$largest" "$(jq .largest_schema "$work/deep/expect.json")" "dlq(4 DecodeError)+arrays20 $([ "$sink" = postgres ] && echo 'dlq(54000)' || echo applied)"
done

# ---------------------------------------------------------------------------
say "bigkey: a 1 MiB primary key"
crafted bigkey
key_md5=$(jq -r .key_md5 "$work/bigkey/expect.json")
largest=$(largest_record "$topic" 3)
for sink in "${sinks[@]}"; do
    run_sink "$sink" "bigkey-$sink" "$topic"
    plain_rows_in "$sink" "bigkey-$sink" "$table" k1 k3
    case $sink in
    jsonl)
        got=$(jq -j 'select(.after.v == "big key") | .key.id' "$work/bigkey-$sink.jsonl" | md5sum | cut -d' ' -f1)
        [ "$got" = "$key_md5" ] || fail "bigkey/jsonl: key md5 $got"
        outcome="applied(md5=ok)" ;;
    redis)
        long=$(redis_scan "$redis_prefix:$table:*" | awk 'length($0) > 1000')
        [ "$(printf '%s' "${long#"$redis_prefix:$table:"}" | md5sum | cut -d' ' -f1)" = "$key_md5" ] ||
            fail "bigkey/redis: no key of the 1 MiB id"
        [ "$(printf "%s" "$long" | rcli -x GET | jq -r .v)" = "big key" ] || fail "bigkey/redis: the value"
        outcome="applied(md5=ok)" ;;
    postgres)
        dlq_has 1 data "SQLSTATE 54000" "index row requires"
        outcome="dlq(data,SQLSTATE 54000)" ;;
    elasticsearch)
        dlq_has 1 data cdcsink.DocumentIdTooLong "is 1048576 bytes; Elasticsearch and OpenSearch take at most 512"
        outcome="dlq(data,_id > 512 bytes)" ;;
    esac
    want=1
    [ "$sink" = jsonl ] || [ "$sink" = redis ] && want=0
    [ "$(records "$dlq")" -eq "$want" ] || fail "bigkey/$sink: want $want DLQ records"
    figures bigkey "$sink" "$largest" "$(jq .largest_schema "$work/bigkey/expect.json")" "$outcome"
done
echo ok

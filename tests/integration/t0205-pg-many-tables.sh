#!/usr/bin/env bash
# PostgreSQL sink, a production-like deployment: one Debezium connector of its
# own over a whole source schema of 34 tables of mixed shapes (int, composite
# and uuid keys, an 80-column table, TOASTed text, most column types), rows
# there before the connector (its snapshot), then a concurrent stream of
# inserts, updates (TOASTed column left unchanged, NULLs), deletes and primary
# key changes. Two pipelines consume every topic with one topics.regex, each
# into its own target schema (apply.overlap true and false); both are killed
# with -9 mid-stream and restarted. In the end every target table of both
# schemas equals its source table, value for value.
. "$(dirname "$0")/lib.sh"

src="mt_$uid"               # the source schema
connector="mt-$uid"
prefix="mt$uid"             # topics: mt<uid>.mt_<uid>.<table>
schema_a="mt_a_$uid"        # pipeline A (apply.overlap=true)
schema_b="mt_b_$uid"        # pipeline B (apply.overlap=false)
snapshot_rows=200           # rows per table before the connector exists
rounds=25                   # rounds of the stream workload

mt_cleanup() {
    cleanup
    # The dedicated connector goes with its replication slot (it would hold
    # WAL forever).
    "$root/tests/stack/stack" connector remove "$connector" >&2 || true
}
trap mt_cleanup EXIT

# ---------------------------------------------------------------------------
# The tables. Every table has its key columns, g (the row's generator number,
# unique, never changed), v (a version counter), note (text, NULL in a third
# of the rows) and payload columns c1, c2, ... of the types given.

types=(integer text "numeric(12,2)" date timestamp timestamptz boolean jsonb bytea
       "integer[]" "text[]" smallint bigint "double precision" interval uuid)

# value TYPE K: an SQL expression of g for the payload column cK of type TYPE.
value() {
    local k=$2
    case $1 in
    integer)            echo "g * $k" ;;
    smallint)           echo "(g * $k % 30000)::smallint" ;;
    bigint)             echo "g * 1000000007::bigint + $k" ;;
    'numeric(12,2)')    echo "round(g * $k / 7.0, 2)" ;;
    'double precision') echo "g / ($k + 0.3)::float8" ;;
    boolean)            echo "(g + $k) % 3 = 0" ;;
    text)               echo "CASE WHEN (g + $k) % 4 = 0 THEN NULL ELSE 'r' || g || ' k$k ''é''' END" ;;
    date)               echo "date '2000-01-01' + g + $k" ;;
    timestamp)          echo "timestamp '2020-01-01' + g * interval '1 hour 1.5 s' + $k * interval '1 microsecond'" ;;
    timestamptz)        echo "timestamptz '2020-01-01 00:00+00' + g * interval '1 day 0.123456 s' + interval '$k min'" ;;
    jsonb)              echo "jsonb_build_object('g', g, 'k', $k, 'a', jsonb_build_array(g, 'x', NULL), 'f', g / 8.0)" ;;
    bytea)              echo "decode(md5((g + $k)::text), 'hex')" ;;
    'integer[]')        echo "ARRAY[g, $k, g * $k]" ;;
    'text[]')           echo "ARRAY['t' || g, NULL, 'a,b \"q\" {$k}']" ;;
    interval)           echo "g * interval '1 hour 1 second' + $k * interval '1 mon 2 days'" ;;
    uuid)               echo "md5(g::text || '-$k')::uuid" ;;
    *)                  fail "no value for type $1" ;;
    esac
}

# big_value SEED: ~9600 characters, stored out of line (NULL in a quarter of
# the rows).
big_value() {
    echo "CASE WHEN g % 4 = 0 THEN NULL ELSE (SELECT string_agg(md5((g * k + $1)::text), '') FROM generate_series(1, 300) k) END"
}

# pick N OFFSET: N payload types, in $picked.
pick() {
    picked=()
    local j
    for ((j = 0; j < $1; j++)); do picked+=("${types[($2 + j * 3) % ${#types[@]}]}"); done
}

tables=()
declare -A ddl cols exprs pkchange c2type has_big
# add_table NAME KEY_COLUMNS_DDL KEY_COLUMNS KEY_EXPRESSIONS PK_CHANGE TYPE...:
# PK_CHANGE is the SET clause of the stream's primary key changes ("" none);
# a TYPE of "big" is the TOASTed text column.
add_table() {
    local name=$1 key_ddl=$2 key_cols=$3 key_exprs=$4 k=0 type
    pkchange[$name]=$5
    shift 5
    local d="$key_ddl, g integer NOT NULL UNIQUE, v integer NOT NULL, note text"
    local c="$key_cols, g, v, note"
    local e="$key_exprs, g, 0, CASE WHEN g % 3 = 0 THEN NULL ELSE 'note ' || g END"
    for type in "$@"; do
        if [ "$type" = big ]; then
            d+=", big text" c+=", big" e+=", $(big_value 0)"
            has_big[$name]=1
            continue
        fi
        k=$((k + 1))
        d+=", c$k $type" c+=", c$k" e+=", $(value "$type" "$k")"
        [ "$k" -ne 2 ] || c2type[$name]=$type
    done
    ddl[$name]="$d, PRIMARY KEY ($key_cols)"
    cols[$name]=$c
    exprs[$name]=$e
    tables+=("$name")
}

for i in $(seq 1 20); do
    pick 5 "$i"
    change=""
    [ $((i % 7)) -ne 1 ] || change="id = id + 100000"
    add_table "$(printf 'simple_%02d' "$i")" "id integer" "id" "g" "$change" "${picked[@]}"
done
for i in 1 2 3 4; do
    pick 4 $((i * 5))
    change=""
    [ "$i" -ne 1 ] || change="id = id + 100000"
    add_table "tenant_$i" "tenant integer, id bigint" "tenant, id" "g % 5, g * 10000000000::bigint" "$change" "${picked[@]}"
done
for i in 1 2 3; do
    pick 4 $((i * 7))
    change=""
    [ "$i" -ne 1 ] || change="seq = seq + 100000"
    add_table "code_$i" "code text, seq integer" "code, seq" "'k' || (g % 7), g" "$change" "${picked[@]}"
done
# No primary key change on TOASTed tables: Debezium would send the moved
# row's unchanged TOASTed value as unavailable, which no sink can restore.
for i in 1 2 3 4; do
    pick 3 $((i * 3))
    add_table "toast_$i" "id integer" "id" "g" "" "${picked[@]}" big
done
for i in 1 2; do
    pick 4 $((i * 11))
    change=""
    [ "$i" -ne 1 ] || change="id = md5(id::text)::uuid"
    add_table "uuid_$i" "id uuid" "id" "md5('u' || g)::uuid" "$change" "${picked[@]}"
done
pick 76 0
add_table wide "id integer" "id" "g" "" "${picked[@]}"     # 80 columns
ntables=${#tables[@]}

# insert_sql TABLE FROM TO: rows g = FROM..TO.
insert_sql() {
    echo "INSERT INTO $src.$1 (${cols[$1]}) SELECT ${exprs[$1]} FROM generate_series($2, $3) g;"
}

# round_sql R: one round of the stream, touching every table. Even rounds are
# one transaction, odd ones a transaction per statement.
round_sql() {
    local r=$1 t
    [ $((r % 2)) -eq 1 ] || echo "BEGIN;"
    for t in "${tables[@]}"; do
        insert_sql "$t" $((1000 * (r + 1) + 1)) $((1000 * (r + 1) + 8))
        # Updates leave the TOASTed column unchanged...
        echo "UPDATE $src.$t SET v = v + 1, note = 'round $r' WHERE g % 10 = $((r % 10));"
        echo "UPDATE $src.$t SET note = NULL, c1 = NULL WHERE g % 17 = $((r % 17));"
        echo "UPDATE $src.$t SET c2 = $(value "${c2type[$t]}" $((r + 50))) WHERE g % 13 = $((r % 13));"
        # ...except these.
        if [ -n "${has_big[$t]:-}" ]; then
            echo "UPDATE $src.$t SET big = $(big_value $((r + 7))) WHERE g % 19 = $((r % 19));"
        fi
        echo "DELETE FROM $src.$t WHERE g % 89 = $r OR g = $((1000 * r + 3));"
        if [ -n "${pkchange[$t]}" ]; then
            echo "UPDATE $src.$t SET ${pkchange[$t]} WHERE g % 23 = $((r % 23));"
        fi
    done
    [ $((r % 2)) -eq 1 ] || echo "COMMIT;"
}

# rows_in URL SCHEMA CONDITION: rows matching CONDITION in all tables of SCHEMA.
rows_in() {
    psql "$1" -v ON_ERROR_STOP=1 -Atc "SELECT coalesce(sum((xpath('/row/n/text()',
            query_to_xml(format('SELECT count(*) AS n FROM %I.%I WHERE $3', table_schema, table_name),
                         false, true, '')))[1]::text::bigint), 0)
        FROM information_schema.tables WHERE table_schema = '$2'" 2>/dev/null || echo 0
}

topic_list() {
    "$KCAT" -b "$KAFKA_BOOTSTRAP_SERVERS" -L 2>/dev/null |
        sed -n "s/^ *topic \"\\($prefix\\.$src\\.[^\"]*\\)\".*/\\1/p" | sort
}

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# ---------------------------------------------------------------------------
say "$ntables tables in schema $src, $snapshot_rows rows each"
{
    echo "CREATE SCHEMA $src;"
    for t in "${tables[@]}"; do
        echo "CREATE TABLE $src.$t (${ddl[$t]});"
        insert_sql "$t" 1 "$snapshot_rows"
    done
} >"$work/schema.sql"
psql_source -f "$work/schema.sql" >/dev/null
[ "$(psql_source -c "SELECT count(*) FROM information_schema.columns
                     WHERE table_schema = '$src' AND table_name = 'wide'")" -ge 80 ] ||
    fail "the wide table has fewer than 80 columns"
toasted_at_start=$(psql_source -c "SELECT count(*) FROM pg_class c JOIN pg_class t ON t.oid = c.reltoastrelid
                                   WHERE c.relnamespace = '$src'::regnamespace AND c.relname LIKE 'toast_%'
                                     AND pg_relation_size(t.oid) > 0")
[ "$toasted_at_start" -eq 4 ] || fail "the big values are not stored out of line ($toasted_at_start of 4 tables)"

say "connector $connector over $src.*: its snapshot"
"$root/tests/stack/stack" connector add "$connector" "$src\\..*" topic.prefix="$prefix" \
    snapshot.mode=initial publication.autocreate.mode=filtered \
    topic.creation.default.partitions=3 topic.creation.default.replication.factor=1 \
    interval.handling.mode=string \
    field.name.adjustment.mode=avro schema.name.adjustment.mode=avro >&2
all_topics() { [ "$(topic_list | wc -l)" -ge "$ntables" ]; }
wait_for 120 "a topic for each of the $ntables tables" all_topics
topics=$(topic_list)
ntopics=$(wc -l <<<"$topics")

for p in a b; do
    overlap=true
    [ "$p" = a ] || overlap=false
    schema=schema_$p
    pg_pipeline_file "$work/$p.properties" "name=$test_name-$p-$uid" "topics.regex=$prefix\\.$src\\..*" \
        "table.schema=${!schema}" "auto.create=true" "batch.size=500" "apply.overlap=$overlap"
done

say "pipelines A (apply.overlap=true) and B (apply.overlap=false) over $ntopics topics"
started=$(now)
start_cdcsink "$work/a.properties" "$work/a.log"
pid_a=$cdcsink_pid
start_cdcsink "$work/b.properties" "$work/b.log"
pid_b=$cdcsink_pid
deadline=$(( $(date +%s) + 60 ))
until [ "$(rows_in "$TARGET_PG_URL" "$schema_a" true)" -gt 0 ]; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "pipeline A applied nothing within 60 s"
    sleep 0.1
done
startup=$(since "$started")

say "the stream: $rounds rounds over every table, in the background"
echo -1 >"$work/round"
(for r in $(seq 0 $((rounds - 1))); do
    round_sql "$r" | psql_source >/dev/null
    echo "$r" >"$work/round"
    sleep 0.3
 done) &
writer=$!
pids+=("$writer")

# Killed once both have applied rows of the stream (g > 1000).
stream_applied() {
    [ "$(rows_in "$TARGET_PG_URL" "$schema_a" "g > 1000")" -gt 0 ] &&
        [ "$(rows_in "$TARGET_PG_URL" "$schema_b" "g > 1000")" -gt 0 ]
}
wait_for 90 "rows of the stream applied by both pipelines" stream_applied
kill -9 "$pid_a" "$pid_b"
round_at_kill=$(cat "$work/round")
rows_a=$(rows_in "$TARGET_PG_URL" "$schema_a" true)
rows_b=$(rows_in "$TARGET_PG_URL" "$schema_b" true)
say "kill -9 of both in round $round_at_kill of $rounds; rows in the targets: A $rows_a, B $rows_b"
kill -0 "$writer" 2>/dev/null && [ "$round_at_kill" -lt $((rounds - 1)) ] ||
    fail "the stream was over before the kill"
[ "$rows_a" -gt 0 ] && [ "$rows_b" -gt 0 ] || fail "nothing applied before the kill"
sleep 1
start_cdcsink "$work/a.properties" "$work/a.log"
pid_a=$cdcsink_pid
start_cdcsink "$work/b.properties" "$work/b.log"
pid_b=$cdcsink_pid
wait "$writer" || fail "the stream workload failed"

# ---------------------------------------------------------------------------
# Each source table's columns in order (the TOASTed text as its md5) and its
# primary key, from the catalog.
declare -A select_cols order_by
while IFS='|' read -r t c k; do
    select_cols[$t]=$c
    order_by[$t]=$k
done < <(psql_source -c "
    SELECT c.table_name,
           string_agg(CASE WHEN c.column_name = 'big' THEN 'md5(big) AS big'
                           ELSE quote_ident(c.column_name) END, ', ' ORDER BY c.ordinal_position),
           (SELECT string_agg(quote_ident(k.column_name), ', ' ORDER BY k.ordinal_position)
              FROM information_schema.table_constraints tc
              JOIN information_schema.key_column_usage k USING (constraint_schema, constraint_name)
             WHERE tc.constraint_type = 'PRIMARY KEY'
               AND tc.table_schema = c.table_schema AND tc.table_name = c.table_name)
      FROM information_schema.columns c
     WHERE c.table_schema = '$src'
     GROUP BY c.table_schema, c.table_name ORDER BY 1")
[ "${#select_cols[@]}" -eq "$ntables" ] || fail "the catalog lists ${#select_cols[@]} tables, not $ntables"

# digest SCHEMA: one line per table: name, rows, md5 of its rows in key order.
digest() {
    local t sep=""
    for t in "${tables[@]}"; do
        printf '%sSELECT %s, count(*), md5(coalesce(string_agg(x::text, E%s ORDER BY %s), %s)) FROM (SELECT %s FROM "%s".%s) x\n' \
            "$sep" "'$t'" "'\\n'" "${order_by[$t]}" "''" "${select_cols[$t]}" "$1" "$t"
        sep="UNION ALL "
    done
    echo "ORDER BY 1"
}
digest_src=$(digest "$src") digest_a=$(digest "$schema_a") digest_b=$(digest "$schema_b")
both_equal() { same_rows "$digest_src" "$digest_a" && same_rows "$digest_src" "$digest_b"; }
wait_for 240 "both target schemas equal to the source" both_equal
converged=$(since "$started")

say "table by table"
for schema in "$schema_a" "$schema_b"; do
    n=$(psql_target -c "SELECT count(*) FROM information_schema.tables
                        WHERE table_schema = '$schema' AND table_type = 'BASE TABLE'")
    [ "$n" -eq "$ntables" ] || fail "$schema holds $n tables, the source $ntables"
    compared=0
    for t in "${tables[@]}"; do
        q="SELECT ${select_cols[$t]} FROM \"%s\".$t ORDER BY ${order_by[$t]}"
        psql_source -P null=NULL -c "$(printf "$q" "$src")" >"$work/source.$t.txt"
        psql_target -P null=NULL -c "$(printf "$q" "$schema")" >"$work/$schema.$t.txt"
        diff "$work/source.$t.txt" "$work/$schema.$t.txt" >"$work/diff.txt" ||
            { head -20 "$work/diff.txt"; fail "$schema.$t differs from $src.$t"; }
        [ -s "$work/source.$t.txt" ] || fail "$src.$t is empty"
        compared=$((compared + 1))
    done
    [ "$compared" -ge 32 ] || fail "only $compared tables compared in $schema"
    say "$schema: $compared tables equal to the source"
done

# The snapshot's rows (g <= $snapshot_rows) that are left, on both sides.
left=$(rows_in "$SOURCE_PG_URL" "$src" "g <= $snapshot_rows")
[ "$left" -gt $((ntables * snapshot_rows / 2)) ] || fail "only $left rows of the snapshot left"
for schema in "$schema_a" "$schema_b"; do
    [ "$(rows_in "$TARGET_PG_URL" "$schema" "g <= $snapshot_rows")" -eq "$left" ] ||
        fail "$schema lacks rows of the snapshot"
done
# TOASTed values survived the updates that left them unchanged.
big="SELECT (SELECT count(*) FROM \"%s\".toast_1 WHERE length(big) >= 9600 AND v > 0)
          + (SELECT count(*) FROM \"%s\".toast_2 WHERE length(big) >= 9600 AND v > 0)
          + (SELECT count(*) FROM \"%s\".toast_3 WHERE length(big) >= 9600 AND v > 0)
          + (SELECT count(*) FROM \"%s\".toast_4 WHERE length(big) >= 9600 AND v > 0)"
toasted=$(psql_source -c "$(printf "$big" "$src" "$src" "$src" "$src")")
[ "$toasted" -gt 100 ] || fail "only $toasted updated rows hold TOASTed values"
for schema in "$schema_a" "$schema_b"; do
    [ "$(psql_target -c "$(printf "$big" "$schema" "$schema" "$schema" "$schema")")" -eq "$toasted" ] ||
        fail "TOASTed values lost in $schema"
done

kill -TERM "$pid_a" "$pid_b"
wait "$pid_a" || fail "pipeline A exited with $?"
wait "$pid_b" || fail "pipeline B exited with $?"
for p in a b; do
    echo "pipeline $p (last run): consumed=$(stat consumed "$work/$p.log") applied=$(stat applied "$work/$p.log") stale=$(stat stale "$work/$p.log") dlq=$(stat dlq "$work/$p.log")"
    [ "$(stat dlq "$work/$p.log")" -eq 0 ] || fail "pipeline $p sent records to the DLQ"
done
! grep -E 'AddressSanitizer|LeakSanitizer|runtime error' "$work/a.log" "$work/b.log" || fail "a sanitizer report in cdcsink's log"

# events: every record of the topics (snapshot, stream, tombstones);
# seconds: from the first start of the pipelines to both targets converged.
events=0
for topic in $topics; do events=$((events + $(records "$topic"))); done
echo "many-tables: tables=$ntables events=$events snapshot_rows=$((ntables * snapshot_rows)) seconds=${converged%.*} toasted=$toasted"
echo "startup: first applied after $startup s over $ntopics topics"
echo ok

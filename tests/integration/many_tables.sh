# Sourced by the many-tables tests (t0205, t0560): a production-like source
# for one Debezium connector of its own, a whole schema of 34 tables of
# mixed shapes (int, composite and uuid keys, an 80-column table, TOASTed
# text, most column types), rows there before the connector (its snapshot),
# then a stream of inserts, updates (TOASTed column left unchanged, NULLs),
# deletes and primary key changes. Needs lib.sh first.
#
#   mt_create_source         the schema and its snapshot rows
#   mt_connector_add         the connector; waits for a topic per table ($topics)
#   mt_stream_start          the stream in the background ($mt_writer; the
#                            round reached is in $work/round)
#   mt_catalog               per table its columns (select_cols) and key (order_by)
#
# Names: source schema $src, topics $prefix.$src.<table>, tables in ${tables[@]}.

src="mt_$uid"               # the source schema
connector="mt-$uid"
prefix="mt$uid"             # topics: mt<uid>.mt_<uid>.<table>
snapshot_rows=${snapshot_rows:-200}   # rows per table before the connector exists
rounds=${rounds:-25}                  # rounds of the stream workload

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

mt_create_source() {
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
    local toasted_at_start
    toasted_at_start=$(psql_source -c "SELECT count(*) FROM pg_class c JOIN pg_class t ON t.oid = c.reltoastrelid
                                       WHERE c.relnamespace = '$src'::regnamespace AND c.relname LIKE 'toast_%'
                                         AND pg_relation_size(t.oid) > 0")
    [ "$toasted_at_start" -eq 4 ] || fail "the big values are not stored out of line ($toasted_at_start of 4 tables)"
}

all_topics() { [ "$(topic_list | wc -l)" -ge "$ntables" ]; }

mt_connector_add() {
    say "connector $connector over $src.*: its snapshot"
    "$root/tests/stack/stack" connector add "$connector" "$src\\..*" topic.prefix="$prefix" \
        snapshot.mode=initial publication.autocreate.mode=filtered \
        topic.creation.default.partitions=3 topic.creation.default.replication.factor=1 \
        interval.handling.mode=string \
        field.name.adjustment.mode=avro schema.name.adjustment.mode=avro >&2
    wait_for 120 "a topic for each of the $ntables tables" all_topics
    topics=$(topic_list)
    ntopics=$(wc -l <<<"$topics")
}

# mt_stream_start [HOLD]: with HOLD, the stream waits before round HOLD
# until $work/go exists (at most 180 s): a test kills its pipelines in
# the middle of the stream, however slow they were to start.
mt_stream_start() {
    local hold=${1:--1}
    say "the stream: $rounds rounds over every table, in the background"
    echo -1 >"$work/round"
    (for r in $(seq 0 $((rounds - 1))); do
        if [ "$r" -eq "$hold" ]; then
            for _ in $(seq 900); do [ -e "$work/go" ] && break; sleep 0.2; done
        fi
        round_sql "$r" | psql_source >/dev/null
        echo "$r" >"$work/round.tmp" && mv "$work/round.tmp" "$work/round"
        sleep 0.3
     done) &
    mt_writer=$!
    pids+=("$mt_writer")
}

# mt_catalog: each source table's columns in order (the TOASTed text as its
# md5) in select_cols, its primary key columns in order_by, from the catalog.
declare -A select_cols order_by
mt_catalog() {
    local t c k
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
}

# mt_events: every record of the topics (snapshot, stream, tombstones).
mt_events() {
    local n=0 topic
    for topic in $topics; do n=$((n + $(records "$topic"))); done
    echo "$n"
}

# mt_events_settled: mt_events once Debezium has published the last
# changes: two counts 3 s apart agree (and are not 0, what a failed count
# gives); at most 120 s.
mt_events_settled() {
    local before="" after i
    after=$(mt_events)
    for i in $(seq 40); do
        [ "$after" -gt 0 ] && [ "$before" = "$after" ] && break
        before=$after
        sleep 3
        after=$(mt_events)
    done
    [ "$after" -gt 0 ] && [ "$before" = "$after" ] || fail "the topics' record count did not settle"
    echo "$after"
}

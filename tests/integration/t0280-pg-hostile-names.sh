#!/usr/bin/env bash
# PostgreSQL sink, hostile identifiers: a table named with quotes, spaces,
# a semicolon and uppercase, and uppercase columns, are created and written
# exactly as named and cannot inject SQL. Column names reach cdcsink as Avro
# field names, which cannot hold quotes or spaces: Debezium adjusts them
# (field.name.adjustment.mode=avro: `we"ird col` arrives as `we_ird_col`).
. "$(dirname "$0")/lib.sh"

table="it_Hostile \"Q\" T; DROP TABLE x_$uid"
quoted="\"it_Hostile \"\"Q\"\" T; DROP TABLE x_$uid\""
psql_source <<SQL
CREATE TABLE public.$quoted ("Id" int PRIMARY KEY, "we""ird col" text,
    "select 1; --" int, "UPPER_Case" text);
SQL
ensure_it_connector
psql_source <<SQL
INSERT INTO public.$quoted VALUES (1, 'it''s "fine"', 1, 'A'), (2, 'x); DROP TABLE y; --', 2, 'B');
UPDATE public.$quoted SET "select 1; --" = 10 WHERE "Id" = 1;
DELETE FROM public.$quoted WHERE "Id" = 2;
SQL
# Debezium replaces the characters a topic name cannot hold.
wait_for 60 "the topic" bash -c "'$KCAT' -b '$KAFKA_BOOTSTRAP_SERVERS' -L 2>/dev/null | grep -q 'it_Hostile.*$uid'"
topic=$("$KCAT" -b "$KAFKA_BOOTSTRAP_SERVERS" -L | grep -o "topic \"it\.public\.it_Hostile[^\"]*$uid\"" | head -1 | cut -d'"' -f2)
say "topic $topic"
wait_records 60 "$topic" 4
pg_pipeline_file "$work/p.properties" "topics=$topic" "auto.create=true"
start_cdcsink "$work/p.properties" "$work/cdcsink.log"
wait_for 60 "caught up" caught_up "$work/p.properties"

q='SELECT "Id", %s, "UPPER_Case" FROM %s ORDER BY 1'
got=$(psql_target -c "$(printf "$q" 'we_ird_col, select_1____' "\"$pg_schema\".$quoted")")
want=$(psql_source -c "$(printf "$q" '"we""ird col", "select 1; --"' "public.$quoted")")
[ "$got" = "$want" ] || fail "target: $got; source: $want"
[ "$got" = "1|it's \"fine\"|10|A" ] || fail "unexpected rows: $got"
[ "$(psql_target -c "SELECT count(*) FROM pg_tables WHERE schemaname = '$pg_schema'")" -eq 1 ] ||
    fail "tables other than the target appeared"
[ "$(psql_target -c "SELECT count(*) FROM cdcsink.tombstones WHERE target_table LIKE '%Hostile%$uid%' AND key = '{2}'")" -eq 1 ] ||
    fail "no tombstone for the deleted row"
echo ok

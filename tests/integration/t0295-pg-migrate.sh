#!/usr/bin/env bash
# cdcsink migrate on an empty database, six replicas at once: the advisory
# lock lets one apply the migrations and the others find them applied; every
# process exits 0, each migration is recorded once, and a later migrate
# applies nothing.
. "$(dirname "$0")/lib.sh"

db="it_migrate_$uid"
db_url="${TARGET_PG_URL%/*}/$db"
psql_target -c "CREATE DATABASE $db"
drop_db() { psql "$TARGET_PG_URL" -qAt -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; }
trap 'drop_db; cleanup' EXIT
migrations=$(ls "$root"/migrations/*.sql | wc -l)

pg_pipeline_file "$work/m.properties" "topics=unused" "connection.url=$db_url"

say "six concurrent migrates on an empty database"
mpids=()
for i in 1 2 3 4 5 6; do
    "$CDCSINK" migrate -c "$work/m.properties" >"$work/m$i.out" 2>"$work/m$i.log" &
    mpids+=($!)
done
for i in "${!mpids[@]}"; do
    wait "${mpids[$i]}" || fail "migrate $((i + 1)) exited $?: $(cat "$work/m$((i + 1)).log")"
done
total=$(cat "$work"/m*.out | grep -o '^[0-9]*' | paste -sd+ | bc)
[ "$total" -eq "$migrations" ] || fail "the replicas applied $total migrations between them, want $migrations"
recorded=$(psql "$db_url" -qAt -c "SELECT count(*), count(DISTINCT version) FROM cdcsink.schema_migrations")
[ "$recorded" = "$migrations|$migrations" ] || fail "schema_migrations holds count|distinct $recorded"
psql "$db_url" -qAt -c "SELECT 'cdcsink.tombstones'::regclass" >/dev/null || fail "no ledger table"

say "migrate again: nothing to do"
out=$("$CDCSINK" migrate -c "$work/m.properties" 2>>"$work/again.log")
[ "$out" = "0 migration(s) applied" ] || fail "second migrate said: $out"
echo ok

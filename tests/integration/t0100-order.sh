#!/usr/bin/env bash
# Every source change reaches the jsonl sink, in per-key order; the same
# with apply.overlap=false (decode and write by turns) gives the same lines.
. "$(dirname "$0")/lib.sh"

table="it_order_$uid"
topic="it.public.$table"
psql_source -c "CREATE TABLE $table (id int PRIMARY KEY, v int NOT NULL)"
ensure_it_connector

pipeline_file "$work/p.properties" "topics=$topic" "jsonl.path=$work/out.jsonl"
start_cdcsink "$work/p.properties" "$work/cdcsink.log"

say "20 inserts, 10 rounds of updates of every row, 5 deletes"
psql_source <<SQL
INSERT INTO $table SELECT g, 0 FROM generate_series(1, 20) g;
DO \$\$ BEGIN FOR r IN 1..10 LOOP UPDATE $table SET v = r; END LOOP; END \$\$;
DELETE FROM $table WHERE id <= 5;
SQL
# 20 + 200 + 5 changes, and Debezium's tombstone after each delete.
expected=230
wait_for 90 "$expected lines in the jsonl sink" \
    at_least $expected "$work/out.jsonl"
[ "$(lines "$work/out.jsonl")" -eq "$expected" ] ||
    fail "want $expected lines, got $(lines "$work/out.jsonl")"

say "per key: c 0, u 1..10, then d and tombstone for ids 1..5"
bad=$(jq -s -r '
  reduce .[] as $e ({};
    .[($e.key.id | tostring)] += [
      if $e.op == "tombstone" then "T"
      elif $e.op == "d" then "d"
      else "\($e.op)\($e.after.v)" end ])
  | to_entries
  | map(. as $k | ($k.key | tonumber) as $id
        | (["c0"] + [range(1; 11) | "u\(.)"] + (if $id <= 5 then ["d", "T"] else [] end)) as $want
        | select($k.value != $want)
        | "key \($k.key): got \($k.value | join(" ")), want \($want | join(" "))")
  | .[]' "$work/out.jsonl")
[ -z "$bad" ] || fail "out of order: $bad"
[ "$(jq -s 'map(.key.id) | unique | length' "$work/out.jsonl")" -eq 20 ] || fail "not 20 keys"

say "positions grow per key"
jq -s -e 'map(select(.op != "tombstone")) | group_by(.key.id)
          | all(.[]; [.[].position] as $p | $p == ($p | sort) and ($p | unique | length) == ($p | length))' \
    "$work/out.jsonl" >/dev/null || fail "positions not increasing per key"

say "apply.overlap=false, a new group: the same lines, key by key"
pipeline_file "$work/serial.properties" "topics=$topic" "jsonl.path=$work/serial.jsonl" \
    "group.id=$test_name-$uid-serial" apply.overlap=false
start_cdcsink "$work/serial.properties" "$work/serial.log"
wait_for 90 "$expected lines without overlap" at_least $expected "$work/serial.jsonl"
per_key() { jq -s -c 'group_by(.key.id) | map([.[] | [.op, .position]])' "$1"; }
diff <(per_key "$work/out.jsonl") <(per_key "$work/serial.jsonl") >/dev/null ||
    fail "with and without overlap, the per-key sequences differ"
echo "ok"

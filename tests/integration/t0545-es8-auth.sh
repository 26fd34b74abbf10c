#!/usr/bin/env bash
# Elasticsearch 8's own security (HTTPS, file-realm users), not a proxy's:
# - a wrong password: exit 1 with one clear line (the engine's 401 and its
#   JSON body), no secret in it;
# - a least-privilege writer (index privileges on et* only, no cluster
#   monitor) may not read the version (GET /_nodes/_local answers 403): it
#   writes all the same, with one warning;
# - the same writer routed to an index it may not write: the engine's 403
#   security_exception stops the pipeline (exit 1, one line) instead of
#   parking every record in the DLQ.
ES_MODE=elasticsearch
. "$(dirname "$0")/lib.sh"

table="it_eauth_$uid"
topic="it.public.$table"
index="$es_prefix-$table"
psql_source -c "CREATE TABLE $table (id int PRIMARY KEY, v text)"
ensure_it_connector
psql_source -c "INSERT INTO $table SELECT g, 'v' || g FROM generate_series(1, 40) g"
wait_records 60 "$topic" 40

writer=("connection.url=$ES8_URL" "connection.username=$ES8_WRITER_USERNAME"
    "connection.password=$ES8_WRITER_PASSWORD" "connection.ssl.ca.location=$ES8_TLS_CA")

say "a wrong password"
secret="wrongSecret$uid"
es_pipeline_file "$work/badpw.properties" "topics=$topic" "name=$test_name-badpw-$uid" \
    "connection.password=$secret"
expect_fatal "$work/badpw.properties" "$work/badpw.log" "with a wrong password"
[ "$(grep -c 'level=error' "$work/badpw.log")" -eq 1 ] || fail "want one error line"
grep -q "HTTP 401 (authentication failed): check connection.username/password" "$work/badpw.log" ||
    fail "no clear line"
! grep -q "$secret" "$work/badpw.log" || fail "the password appears in the output"

say "a writer without the monitor privilege"
es_pipeline_file "$work/writer.properties" "topics=$topic" "name=$test_name-writer-$uid" "${writer[@]}"
start_cdcsink "$work/writer.properties" "$work/writer.log"
wait_for 60 "the writer caught up" caught_up "$work/writer.properties"
kill -TERM "$cdcsink_pid"; wait "$cdcsink_pid"
grep -q "GET /_nodes/_local on .*HTTP 403: the user may not read the engine's version" "$work/writer.log" ||
    fail "no warning about the unreadable version"
es "/$index/_refresh" -X POST >/dev/null
[ "$(es "/$index/_count" | jq .count)" -eq 40 ] || fail "want the writer's 40 documents"
[ "$(es "/$index/_doc/7" | jq -c ._source)" = '{"id":7,"v":"v7"}' ] || fail "document 7 is wrong"
[ "$(stat dlq "$work/writer.log")" -eq 0 ] || fail "the writer parked records"

say "the writer routed to an index it may not write"
es_pipeline_file "$work/denied.properties" "topics=$topic" "name=$test_name-denied-$uid" "${writer[@]}" \
    "index.name.format=denied-$uid-\${source.table}"
expect_fatal "$work/denied.properties" "$work/denied.log" "for an index the user may not write" 60
grep -q "level=error.*HTTP 403 (forbidden)" "$work/denied.log" || fail "the error does not say 403"
grep -q "level=error.*security_exception" "$work/denied.log" ||
    fail "the error does not carry the engine's error type"
! grep -qF "$ES8_WRITER_PASSWORD" "$work/denied.log" "$work/writer.log" ||
    fail "the writer's password appears in the output"
"$CDCSINK" lag -c "$work/denied.properties" --json | jq -e '.total_lag == 40' >/dev/null ||
    fail "offsets were committed past records that were not written"
[ "$(es "/denied-$uid-$table" -o /dev/null -w '%{http_code}')" = 404 ] || fail "the denied index exists"
echo ok

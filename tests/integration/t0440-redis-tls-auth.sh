#!/usr/bin/env bash
# Redis sink over TLS (rediss://) against the stack's TLS port, with the
# stack's CA and with a client certificate; a server certificate the
# configured CA does not vouch for, and a wrong password, each stop the
# pipeline at once (exit 1) with one clear line that holds no secret.
. "$(dirname "$0")/lib.sh"

table="it_rtls_$uid"
topic="it.public.$table"
psql_source -c "CREATE TABLE $table (id int PRIMARY KEY, v text)"
ensure_it_connector
psql_source -c "INSERT INTO $table SELECT g, 'v' || g FROM generate_series(1, 50) g"
wait_records 60 "$topic" 50

say "rediss:// with the stack's CA and a client certificate"
redis_pipeline_file "$work/tls.properties" "topics=$topic" "connection.url=$REDIS_TLS_URL" \
    "redis.ssl.ca.location=$REDIS_TLS_CA" "redis.ssl.certificate.location=$REDIS_TLS_CLIENT_CERT" \
    "redis.ssl.key.location=$REDIS_TLS_CLIENT_KEY"
start_cdcsink "$work/tls.properties" "$work/tls.log"
wait_for 60 "caught up over TLS" caught_up "$work/tls.properties"
kill -TERM "$cdcsink_pid"; wait "$cdcsink_pid"
[ "$(redis_keys "$redis_prefix:*" | wc -l)" -eq 50 ] || fail "want 50 keys written over TLS"
[ "$(rcli GET "$redis_prefix:$table:7")" = '{"id":7,"v":"v7"}' ] || fail "key 7 is wrong"

say "a CA that did not sign the server's certificate: exit 1"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=other CA" \
    -keyout "$work/other.key" -out "$work/other.crt" >/dev/null 2>&1
redis_pipeline_file "$work/badca.properties" "topics=$topic" "connection.url=$REDIS_TLS_URL" \
    "redis.ssl.ca.location=$work/other.crt" "name=$test_name-badca-$uid"
expect_fatal "$work/badca.properties" "$work/badca.log" "with an unknown CA"
grep -q "certificate" "$work/badca.log" || fail "the error does not mention the certificate"

say "a wrong password: exit 1, one clear line, no secret"
secret="wrongSecret$uid"
redis_pipeline_file "$work/badpw.properties" "topics=$topic" "name=$test_name-badpw-$uid" \
    "connection.url=redis://cdcsink:$secret@127.0.0.1:${REDIS_URL##*@127.0.0.1:}"
expect_fatal "$work/badpw.properties" "$work/badpw.log" "with a wrong password"
grep -q "authentication as cdcsink failed: WRONGPASS" "$work/badpw.log" || fail "no clear line"
! grep -q "$secret" "$work/badpw.log" || fail "the password appears in the output"
"$CDCSINK" check -c "$work/badpw.properties" >"$work/check.out" 2>&1
grep -q 'connection.url = redis://cdcsink:\*\*\*\*\*\*\*\*@127.0.0.1' "$work/check.out" || fail "check does not mask the password"
! grep -q "$secret" "$work/check.out" || fail "check prints the password"
echo ok

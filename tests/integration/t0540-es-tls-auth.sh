#!/usr/bin/env bash
# Elasticsearch/OpenSearch sink over HTTPS with basic authentication, and
# with an API key (the stack's TLS proxy in front of OpenSearch, its own
# CA): the documents arrive. A wrong password, a CA that did not sign the node's certificate,
# and an engine version cdcsink does not support each stop the pipeline
# at once (exit 1) with one clear line that holds no secret; `check`
# masks the password. So does a missing index with auto.create=false. A
# user who may write but not read `GET /` (403, no monitor privilege)
# writes all the same, with a warning.
. "$(dirname "$0")/lib.sh"

table="it_etls_$uid"
topic="it.public.$table"
index="$es_prefix-$table"
psql_source -c "CREATE TABLE $table (id int PRIMARY KEY, v text)"
ensure_it_connector
psql_source -c "INSERT INTO $table SELECT g, 'v' || g FROM generate_series(1, 50) g"
wait_records 60 "$topic" 50

say "https:// with the stack's CA, basic auth, gzip"
export ES_PASSWORD=$ELASTICSEARCH_PASSWORD
es_pipeline_file "$work/tls.properties" "topics=$topic" "connection.url=$ELASTICSEARCH_TLS_URL" \
    "connection.username=$ELASTICSEARCH_USERNAME" "connection.password=\${env:ES_PASSWORD}" \
    "connection.ssl.ca.location=$ELASTICSEARCH_TLS_CA" "connection.compression=true"
start_cdcsink "$work/tls.properties" "$work/tls.log"
wait_for 60 "caught up over TLS" caught_up "$work/tls.properties"
kill -TERM "$cdcsink_pid"; wait "$cdcsink_pid"
es "/$index/_refresh" -X POST >/dev/null
[ "$(es "/$index/_count" | jq .count)" -eq 50 ] || fail "want 50 documents written over TLS"
[ "$(es "/$index/_doc/7" | jq -c ._source)" = '{"id":7,"v":"v7"}' ] || fail "document 7 is wrong"

say "an API key instead of basic auth"
export ES_API_KEY=$ELASTICSEARCH_API_KEY
es_pipeline_file "$work/key.properties" "topics=$topic" "name=$test_name-key-$uid" \
    "connection.url=$ELASTICSEARCH_TLS_URL" "connection.api.key=\${env:ES_API_KEY}" \
    "connection.ssl.ca.location=$ELASTICSEARCH_TLS_CA" "index.name.format=$es_prefix-key-\${source.table}"
start_cdcsink "$work/key.properties" "$work/key.log"
wait_for 60 "caught up with the API key" caught_up "$work/key.properties"
kill -TERM "$cdcsink_pid"; wait "$cdcsink_pid"
es "/$es_prefix-key-$table/_refresh" -X POST >/dev/null
[ "$(es "/$es_prefix-key-$table/_count" | jq .count)" -eq 50 ] || fail "want 50 documents written with the API key"
secret_key=$(printf 'cdcsink-key:wrong%s' "$uid" | base64)
es_pipeline_file "$work/badkey.properties" "topics=$topic" "name=$test_name-badkey-$uid" \
    "connection.url=$ELASTICSEARCH_TLS_URL" "connection.api.key=$secret_key" \
    "connection.ssl.ca.location=$ELASTICSEARCH_TLS_CA"
expect_fatal "$work/badkey.properties" "$work/badkey.log" "with a wrong API key"
grep -q "HTTP 401" "$work/badkey.log" || fail "no clear line for the wrong API key"
! grep -q "$secret_key" "$work/badkey.log" || fail "the API key appears in the output"
"$CDCSINK" check -c "$work/badkey.properties" 2>&1 | grep -q "$secret_key" && fail "check prints the API key"

say "a wrong password: exit 1, one clear line, no secret"
secret="wrongSecret$uid"
es_pipeline_file "$work/badpw.properties" "topics=$topic" "name=$test_name-badpw-$uid" \
    "connection.url=$ELASTICSEARCH_TLS_URL" "connection.username=cdcsink" \
    "connection.password=$secret" "connection.ssl.ca.location=$ELASTICSEARCH_TLS_CA"
expect_fatal "$work/badpw.properties" "$work/badpw.log" "with a wrong password"
grep -q "HTTP 401 (authentication failed): check connection.username/password" "$work/badpw.log" || fail "no clear line"
! grep -q "$secret" "$work/badpw.log" || fail "the password appears in the output"
"$CDCSINK" check -c "$work/badpw.properties" >"$work/check.out" 2>&1 || true
grep -q 'connection.password = \*\*\*\*\*\*\*\*' "$work/check.out" || fail "check does not mask the password"
! grep -q "$secret" "$work/check.out" || fail "check prints the password"

say "the password in the URL instead: masked too"
es_pipeline_file "$work/urlpw.properties" "topics=$topic" "name=$test_name-urlpw-$uid" \
    "connection.url=https://cdcsink:$secret@127.0.0.1:${ELASTICSEARCH_TLS_URL##*:}" \
    "connection.ssl.ca.location=$ELASTICSEARCH_TLS_CA"
expect_fatal "$work/urlpw.properties" "$work/urlpw.log" "with a wrong password in the URL"
! grep -q "$secret" "$work/urlpw.log" || fail "the URL's password appears in the output"

say "a CA that did not sign the node's certificate: exit 1"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=other CA" \
    -keyout "$work/other.key" -out "$work/other.crt" >/dev/null 2>&1
es_pipeline_file "$work/badca.properties" "topics=$topic" "name=$test_name-badca-$uid" \
    "connection.url=$ELASTICSEARCH_TLS_URL" "connection.ssl.ca.location=$work/other.crt"
expect_fatal "$work/badca.properties" "$work/badca.log" "with an unknown CA"
grep -qi "certificate" "$work/badca.log" || fail "the error does not mention the certificate"

say "an engine cdcsink does not support (Elasticsearch 7): exit 1"
port=$((19280 + $$ % 9))
python3 -c '
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"{\"version\":{\"number\":\"7.10.2\"},\"tagline\":\"You Know, for Search\"}"
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()' "$port" &
pids+=($!)
wait_for 10 "the fake engine listens" curl -sf "http://127.0.0.1:$port/" -o /dev/null
es_pipeline_file "$work/old.properties" "topics=$topic" "name=$test_name-old-$uid" \
    "connection.url=http://127.0.0.1:$port"
expect_fatal "$work/old.properties" "$work/old.log" "with Elasticsearch 7"
grep -q "elasticsearch 7.10.2 is not supported" "$work/old.log" || fail "no clear line"

say "a missing index with auto.create=false: exit 1"
es_pipeline_file "$work/nocreate.properties" "topics=$topic" "name=$test_name-nocreate-$uid" \
    "auto.create=false" "index.name.format=$es_prefix-absent-\${source.table}"
expect_fatal "$work/nocreate.properties" "$work/nocreate.log" "with a missing index"
grep -q "index $es_prefix-absent-$table does not exist and auto.create=false" "$work/nocreate.log" || fail "no clear line"
[ "$(es "/$es_prefix-absent-$table" -o /dev/null -w '%{http_code}')" = 404 ] || fail "the index was created"

say "GET / forbidden (a least-privilege user): a warning, and the documents arrive"
proxy_port=$((19270 + $$ % 9))
"$root/tests/tools/es-fault-proxy" --listen "$proxy_port" --upstream "$ELASTICSEARCH_URL" \
    --item-reject 0 --forbid-root 2>"$work/proxy.log" &
pids+=($!)
wait_for 10 "the proxy listens" bash -c "curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$proxy_port/ | grep -q 403"
es_pipeline_file "$work/nomonitor.properties" "topics=$topic" "name=$test_name-nomon-$uid" \
    "connection.url=http://127.0.0.1:$proxy_port" "index.name.format=$es_prefix-nomon-\${source.table}"
start_cdcsink "$work/nomonitor.properties" "$work/nomonitor.log"
wait_for 60 "caught up without GET /" caught_up "$work/nomonitor.properties"
kill -TERM "$cdcsink_pid"; wait "$cdcsink_pid"
grep -q "may not read the engine's version" "$work/nomonitor.log" || fail "no warning about GET /"
es "/$es_prefix-nomon-$table/_refresh" -X POST >/dev/null
[ "$(es "/$es_prefix-nomon-$table/_count" | jq .count)" -eq 50 ] || fail "want 50 documents without GET /"
echo ok

#!/usr/bin/env bash
# No secret leaves cdcsink. Every secret cdcsink takes is configured, each
# distinct and greppable (none equals a user name), inline and through
# ${env:NAME} and ${file:PATH}: the Kafka SASL password, the registry's basic
# auth password (and one in the registry URL's userinfo), the PostgreSQL
# password in connection.url (userinfo and ?password=), the Redis password
# in the URL, the Elasticsearch password (key and URL userinfo) and API key,
# and the wrong passwords of the failure cases. Then every byte cdcsink
# writes is collected in $work/out:
# - `run` stdout+stderr at log.level=debug (librdkafka's debug contexts on),
#   logfmt and json, one pipeline per sink, with a record the target
#   rejects (a CHECK constraint) so the DLQ has one;
# - /metrics, /healthz and /readyz, status line and headers included;
# - `check` of every pipeline file, and of files with an error in them
#   (a secret in a bad value, an unknown key, a repeated key, a secret on
#   a line of its own, "key: value" for "key = value", an unset variable,
#   an unreadable file), and `run` of a bad file;
# - `lag` (text, --json), `version`, `migrate`;
# - the DLQ topic raw (headers, key, value) before and after a replay,
#   `dlq inspect`, `dlq replay --dry-run` and `dlq replay`;
# - the error lines of failed connects: a wrong password for Kafka SASL,
#   the registry (basic auth and URL userinfo), PostgreSQL (userinfo and
#   ?password=), Redis, Elasticsearch 8 and the API key, a PostgreSQL URL
#   whose password has a stray '%', and an unreachable host for each, with
#   the secret configured.
# Each secret is looked for as fixed strings: as is, URL-encoded, without
# its base64 padding, and in base64 at every alignment (a basic auth
# header carries base64 of user:password). A failure names the file and the secret's name, never
# the secret. Each output is also checked for what it must hold (the start
# line, the expected reason of each failure...), so that an empty
# collection cannot pass.
. "$(dirname "$0")/lib.sh"

for v in KAFKA_SASL_BOOTSTRAP_SERVERS KAFKA_SASL_USERNAME KAFKA_SASL_PASSWORD KAFKA_TLS_CA \
         SCHEMA_REGISTRY_TLS_URL SCHEMA_REGISTRY_USER_INFO SCHEMA_REGISTRY_TLS_CA \
         TARGET_PG_TLS_URL PG_TLS_CA REDIS_LEAK_URL ES8_URL ES8_WRITER_USERNAME ES8_WRITER_PASSWORD \
         ELASTICSEARCH_TLS_URL ELASTICSEARCH_API_KEY ELASTICSEARCH_TLS_CA; do
    [ -n "${!v:-}" ] || fail "the stack's environment has no $v: tests/stack/stack up"
done

out="$work/out"         # everything cdcsink wrote, and nothing else
cfg="$work/cfg"         # the pipeline files and the secret files they read
mkdir -p "$out" "$cfg/secrets"

# ---- the secrets ------------------------------------------------------------

# url_userinfo URL: the "user:password" of a URL.
url_userinfo() { local a=${1#*://}; echo "${a%@*}"; }
urlencode() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }

pg_tls_user=$(url_userinfo "$TARGET_PG_TLS_URL"); pg_tls_user=${pg_tls_user%%:*}
redis_leak_user=$(url_userinfo "$REDIS_LEAK_URL"); redis_leak_user=${redis_leak_user%%:*}
registry_user=${SCHEMA_REGISTRY_USER_INFO%%:*}
api_key_id=$(printf '%s' "$ELASTICSEARCH_API_KEY" | base64 -d | cut -d: -f1)
pg_tls_rest=${TARGET_PG_TLS_URL#*@}              # host:port/db?sslmode=...
redis_rest=${REDIS_LEAK_URL#*@}                  # host:port/db

# Each of the test's own secrets ends in random hex of its own: no two
# share a stretch that their base64 forms could share.
rnd() { openssl rand -hex 5; }
declare -A secret=(
    [KAFKA_SASL_PASSWORD]=$KAFKA_SASL_PASSWORD
    [SCHEMA_REGISTRY_PASSWORD]=${SCHEMA_REGISTRY_USER_INFO#*:}
    [PG_TLS_PASSWORD]=$(url_userinfo "$TARGET_PG_TLS_URL" | cut -d: -f2-)
    [REDIS_LEAK_PASSWORD]=$(url_userinfo "$REDIS_LEAK_URL" | cut -d: -f2-)
    [ES8_WRITER_PASSWORD]=$ES8_WRITER_PASSWORD
    [ELASTICSEARCH_API_KEY]=$ELASTICSEARCH_API_KEY
    [ELASTICSEARCH_API_KEY_SECRET]=$(printf '%s' "$ELASTICSEARCH_API_KEY" | base64 -d | cut -d: -f2-)
    # The test's own: wrong passwords, and secrets only the failure cases
    # configure. Some hold characters a URL must percent-encode.
    [WRONG_KAFKA_PASSWORD]="kafka-Wrong-$(rnd)"
    [WRONG_REGISTRY_PASSWORD]="reg-Wrong-$(rnd)"
    [REGISTRY_URL_PASSWORD]="reg-Url@Pw/$(rnd)"
    [WRONG_REGISTRY_URL_PASSWORD]="reg-Url-Wrong:$(rnd)"
    [WRONG_PG_PASSWORD]="pg-Wr@ng:Pw/$(rnd)"
    [WRONG_PG_QUERY_PASSWORD]="pg-Query-Wrong-$(rnd)"
    [PG_BADLY_ENCODED_PASSWORD]="pg-Bad%zz-$(rnd)"   # a '%' left unencoded in the URL
    [WRONG_REDIS_PASSWORD]="redis-Wr@ng/$(rnd)"
    [WRONG_ES_PASSWORD]="es-Wrong-$(rnd)"
    [ES_URL_PASSWORD]="es-Url@Pw,$(rnd)"
    [WRONG_API_KEY]=$(printf '%s' "$api_key_id:key-Wrong-$(rnd)" | base64 -w0)
    [SSL_KEY_PASSWORD]="sslkey-Pw-$(rnd)"
)
# The user of each password, for the basic auth header's form.
declare -A user_of=(
    [SCHEMA_REGISTRY_PASSWORD]=$registry_user [WRONG_REGISTRY_PASSWORD]=$registry_user
    [REGISTRY_URL_PASSWORD]=$registry_user [WRONG_REGISTRY_URL_PASSWORD]=$registry_user
    [ES8_WRITER_PASSWORD]=$ES8_WRITER_USERNAME
    [WRONG_ES_PASSWORD]=$ES8_WRITER_USERNAME [ES_URL_PASSWORD]=$ES8_WRITER_USERNAME
    [KAFKA_SASL_PASSWORD]=$KAFKA_SASL_USERNAME [WRONG_KAFKA_PASSWORD]=$KAFKA_SASL_USERNAME
)
for name in "${!secret[@]}"; do
    v=${secret[$name]}
    [ ${#v} -ge 10 ] || fail "secret $name is too short to look for"
    for u in "$KAFKA_SASL_USERNAME" "$registry_user" "$pg_tls_user" "$redis_leak_user" \
             "$ES8_WRITER_USERNAME" "$api_key_id" cdcsink; do
        [ "$v" != "$u" ] || fail "secret $name equals a user name"
    done
done

# Every form a secret could be printed in, as "NAME (form)<TAB>text" lines.
for name in "${!secret[@]}"; do
    printf '%s\t%s\t%s\n' "$name" "${user_of[$name]:-}" "${secret[$name]}"
done | python3 -c '
import base64, re, sys, urllib.parse
forms = set()
for line in sys.stdin:
    name, user, v = line.rstrip("\n").split("\t", 2)
    forms.add((name, "as is", v))
    if v.rstrip("=") != v:
        forms.add((name, "without its base64 padding", v.rstrip("=")))
    enc = urllib.parse.quote(v, safe="")
    for enc in (enc, re.sub("%[0-9A-F]{2}", lambda m: m.group(0).lower(), enc)):
        if enc != v:
            forms.add((name, "URL-encoded", enc))
    # base64 of a text that holds v: the groups only bytes of v fill, for
    # each of the three alignments v can have in it.
    b = v.encode()
    for pad in range(3):
        e = base64.b64encode(b"\0" * pad + b).decode()
        first, end = (pad + 2) // 3, (pad + len(b)) // 3
        if end - first >= 2:
            forms.add((name, "base64", e[4 * first:4 * end]))
    if user:
        forms.add((name, "basic auth", base64.b64encode(f"{user}:{v}".encode()).decode()))
for name, form, text in sorted(forms):
    print(f"{name} ({form})\t{text}")
' >"$work/forms.tsv"
[ "$(wc -l <"$work/forms.tsv")" -ge $((${#secret[@]} * 4)) ] || fail "too few forms of the secrets"

# redacted FILE: FILE with every form of every secret replaced by its name,
# for failure messages.
redacted() {
    python3 -c '
import sys
forms = [l.rstrip("\n").split("\t", 1) for l in open(sys.argv[1])]
text = open(sys.argv[2], errors="replace").read()
for name, form in sorted(forms, key=lambda f: -len(f[1])):
    text = text.replace(form, "<" + name + ">")
sys.stdout.write(text)
' "$work/forms.tsv" "$1"
}

# leaks PATH...: prints "LEAK: secret NAME (form) in FILE" for each form of
# each secret found in the files (directories: every file under them);
# fails when there is one.
leaks() {
    local what text f n=0
    while IFS=$'\t' read -r what text; do
        while read -r f; do
            [ -n "$f" ] || continue
            echo "LEAK: secret $what in out/${f#"$out"/}" >&2
            n=$((n + 1))
        done <<<"$(grep -rlaF -e "$text" "$@" || true)"
    done <"$work/forms.tsv"
    [ "$n" -eq 0 ] || fail "$n secret(s) found in what cdcsink wrote (above; the files are in $out)"
}

# shown FILE: the end of $out/FILE, for a failure message, once it is
# known to hold no secret (and with every secret redacted all the same).
shown() {
    leaks "$out/$1"
    redacted "$out/$1" | tail -n 20 >&2
}

# want FILE REGEX WHAT: the output $out/FILE holds a line matching REGEX
# (extended), else the test fails showing the end of the file.
want() {
    grep -qaE -- "$2" "$out/$1" && return 0
    shown "$1"
    fail "$1: want $3 (/$2/)"
}

# collect NAME SECONDS CMD...: runs CMD, stopped with SIGTERM after SECONDS;
# its stdout and stderr in $out/NAME, its exit status in $rc (124: timeout).
collect() {
    local name=$1 secs=$2
    shift 2
    rc=0
    timeout "$secs" "$@" >"$out/$name" 2>&1 || rc=$?
}

# want_rc NAME WANT...: $rc is one of WANT.
want_rc() {
    local name=$1 w
    shift
    for w in "$@"; do [ "$rc" -eq "$w" ] && return 0; done
    shown "$name"
    fail "$name: exit $rc, want $*"
}

# ---- the pipelines ---------------------------------------------------------

# Secrets as cdcsink reads them besides inline: from the environment and
# from files (relative paths are relative to the pipeline file).
export LEAK_KAFKA_PASSWORD=$KAFKA_SASL_PASSWORD LEAK_REGISTRY_USER_INFO=$SCHEMA_REGISTRY_USER_INFO
export LEAK_API_KEY=$ELASTICSEARCH_API_KEY LEAK_SSL_KEY_PASSWORD=${secret[SSL_KEY_PASSWORD]}
printf '%s\n' "$KAFKA_SASL_PASSWORD" >"$cfg/secrets/kafka.pw"
printf '%s\n' "$SCHEMA_REGISTRY_USER_INFO" >"$cfg/secrets/registry.userinfo"
printf '%s\n' "$TARGET_PG_TLS_URL" >"$cfg/secrets/pg.url"
printf '%s\r\n' "$REDIS_LEAK_URL" >"$cfg/secrets/redis.url"
printf '%s' "$ES8_WRITER_PASSWORD" >"$cfg/secrets/es.pw"

table="it_leak_$uid"
topic="it.public.$table"

# leak_file NAME KAFKA_PASSWORD REGISTRY_USER_INFO KEY=VALUE...: the
# pipeline $cfg/NAME.properties over Kafka's SASL_SSL listener and the
# registry's HTTPS with basic auth, the two secrets as given (inline,
# ${env:} or ${file:}), at log.level=debug with an HTTP port of its own.
leak_file() {
    local name=$1 kafka_pw=$2 registry=$3
    shift 3
    pipeline_file "$cfg/$name.properties" "name=$test_name-$name-$uid" "topics=$topic" \
        "kafka.bootstrap.servers=$KAFKA_SASL_BOOTSTRAP_SERVERS" kafka.security.protocol=SASL_SSL \
        kafka.sasl.mechanism=SCRAM-SHA-512 "kafka.sasl.username=$KAFKA_SASL_USERNAME" \
        "kafka.sasl.password=$kafka_pw" "kafka.ssl.ca.location=$KAFKA_TLS_CA" \
        "schema.registry.url=$SCHEMA_REGISTRY_TLS_URL" "schema.registry.basic.auth.user.info=$registry" \
        "schema.registry.ssl.ca.location=$SCHEMA_REGISTRY_TLS_CA" \
        http.listen=127.0.0.1:0 log.level=debug "$@"
}
pg_keys=(sink=postgres "table.schema=$pg_schema")
redis_keys=(sink=redis "key.format=$redis_prefix:\${source.table}:\${key}")
es8_keys=(sink=elasticsearch "connection.url=$ES8_URL" "connection.username=$ES8_WRITER_USERNAME"
    "connection.ssl.ca.location=$ES8_TLS_CA" "index.name.format=$es_prefix-\${source.table}"
    index.number_of_replicas=0)
key_keys=(sink=elasticsearch "connection.url=$ELASTICSEARCH_TLS_URL"
    "connection.ssl.ca.location=$ELASTICSEARCH_TLS_CA" "index.name.format=$es_prefix-key-\${source.table}"
    index.number_of_replicas=0)
jsonl_keys=(sink=jsonl "jsonl.path=$work/sink.jsonl")

# One pipeline per sink; between them every secret is set inline, through
# ${env:} and through ${file:}, and both log formats are written. The
# postgres one also turns on librdkafka's debug contexts (SASL, TLS,
# configuration, protocol).
leak_file pg "$KAFKA_SASL_PASSWORD" "\${env:LEAK_REGISTRY_USER_INFO}" "${pg_keys[@]}" \
    "connection.url=\${file:secrets/pg.url}" log.format=json kafka.debug=security,broker,conf,protocol \
    "kafka.ssl.key.password=\${env:LEAK_SSL_KEY_PASSWORD}"
leak_file redis "\${file:$cfg/secrets/kafka.pw}" "$SCHEMA_REGISTRY_USER_INFO" "${redis_keys[@]}" \
    "connection.url=\${file:secrets/redis.url}" log.format=logfmt "kafka.ssl.key.password=${secret[SSL_KEY_PASSWORD]}"
leak_file es8 "\${env:LEAK_KAFKA_PASSWORD}" "\${file:secrets/registry.userinfo}" "${es8_keys[@]}" \
    "connection.password=\${file:secrets/es.pw}" log.format=logfmt
leak_file apikey "\${env:LEAK_KAFKA_PASSWORD}" "$SCHEMA_REGISTRY_USER_INFO" "${key_keys[@]}" \
    "connection.api.key=$ELASTICSEARCH_API_KEY" log.format=json
leak_file pginline "\${env:LEAK_KAFKA_PASSWORD}" "$SCHEMA_REGISTRY_USER_INFO" "${pg_keys[@]}" \
    "connection.url=$TARGET_PG_TLS_URL" log.format=logfmt
leak_file redisinline "$KAFKA_SASL_PASSWORD" "$SCHEMA_REGISTRY_USER_INFO" "${redis_keys[@]}" \
    "connection.url=$REDIS_LEAK_URL"
leak_file es8inline "$KAFKA_SASL_PASSWORD" "$SCHEMA_REGISTRY_USER_INFO" "${es8_keys[@]}" \
    "connection.password=$ES8_WRITER_PASSWORD"
leak_file apikeyfile "$KAFKA_SASL_PASSWORD" "$SCHEMA_REGISTRY_USER_INFO" "${key_keys[@]}" \
    "connection.api.key=\${env:LEAK_API_KEY}"

say "self-test: the scan finds the inline secrets in the pipeline files"
for name in KAFKA_SASL_PASSWORD SCHEMA_REGISTRY_PASSWORD PG_TLS_PASSWORD REDIS_LEAK_PASSWORD \
            ES8_WRITER_PASSWORD ELASTICSEARCH_API_KEY SSL_KEY_PASSWORD; do
    cut -f2 "$work/forms.tsv" | grep -qxF -- "${secret[$name]}" || fail "forms of $name missing"
    grep -rqaF -- "${secret[$name]}" "$cfg" || fail "$name is set inline in no pipeline file"
done
printf 'Authorization: Basic %s\n' "$(printf '%s' "$SCHEMA_REGISTRY_USER_INFO" | base64 -w0)" >"$work/canary"
printf 'x%s\n' "$(printf 'xx%s' "$ES8_WRITER_PASSWORD" | base64 -w0)" >>"$work/canary"
for name in SCHEMA_REGISTRY_PASSWORD ES8_WRITER_PASSWORD; do
    grep -F "$name (" "$work/forms.tsv" | cut -f2 | grep -qaF -f - "$work/canary" ||
        fail "the scan would miss $name in base64"
done

say "a source table; row 7 breaks the target's CHECK constraint"
psql_source -c "CREATE TABLE $table (id int PRIMARY KEY, v int)"
# The target table belongs to the TLS role the pipelines log in as.
psql "$TARGET_PG_TLS_URL" -v ON_ERROR_STOP=1 -qAt <<SQL
CREATE SCHEMA "$pg_schema";
CREATE TABLE "$pg_schema"."$table" (id int PRIMARY KEY, v int CHECK (v >= 0),
    __cdc_lsn bigint NOT NULL, __cdc_deleted boolean NOT NULL DEFAULT false);
SQL
ensure_it_connector
psql_source -c "INSERT INTO $table SELECT g, CASE WHEN g = 7 THEN -7 ELSE g END FROM generate_series(1, 20) g"
wait_records 60 "$topic" 20

# http_port LOG: the port `run` serves on (it picked a free one).
http_port() { grep -ao 'on 127\.0\.0\.1:0 (port [0-9]*)' "$1" | head -n 1 | grep -o '[0-9]*)$' | tr -d ')'; }

# run_pipeline NAME: runs $cfg/NAME.properties until its group caught up,
# keeps the answers of /metrics, /healthz and /readyz (with status line and
# headers) in $out/NAME.{metrics,healthz,readyz}, stops it with SIGTERM;
# its output is $out/NAME.run.
run_pipeline() {
    local name=$1 port ep
    start_cdcsink "$cfg/$name.properties" "$out/$name.run"
    wait_for 60 "$name serving HTTP" grep -q '(port [0-9]*)' "$out/$name.run"
    port=$(http_port "$out/$name.run")
    wait_for 120 "$name caught up" caught_up "$cfg/$name.properties"
    wait_for 30 "$name ready" curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz"
    for ep in metrics healthz readyz; do
        curl -sS -i "http://127.0.0.1:$port/$ep" >"$out/$name.$ep" || fail "GET /$ep of $name failed"
    done
    kill -TERM "$cdcsink_pid"
    wait "$cdcsink_pid" || fail "$name exited $? after SIGTERM"
    want "$name.run" 'consuming as group cdcsink\.'"$test_name-$name-$uid"' into sink' "the start line"
    want "$name.run" 'msg(=|":)"stopping: consumed=[1-9]' "the stop line with a count"
    want "$name.metrics" '^cdcsink_records_consumed_total\{.*\} [1-9]' "a consumed count"
    want "$name.healthz" '^HTTP/1\.[01] 200' "200"
    want "$name.readyz" '^HTTP/1\.[01] 200' "200"
}

for p in pg redis es8 apikey; do
    say "run $p"
    run_pipeline "$p"
done
want pg.run '^\{"ts":"[^"]*","level":"debug"' "JSON lines at debug"
jq -e . "$out/pg.run" >/dev/null 2>&1 || fail "pg.run: not JSON lines"
want pg.run 'librdkafka .*SASL' "librdkafka's SASL debug lines"
want redis.run '^ts=[^ ]* level=debug ' "logfmt lines at debug"
want pg.run 'SQLSTATE 23514' "the rejected row"
[ "$(redis-cli --no-auth-warning -u "$REDIS_LEAK_URL" GET "$redis_prefix:$table:7")" = '{"id":7,"v":-7}' ] ||
    fail "the redis pipeline did not write key 7"

say "lag, version, migrate"
collect pg.lag 30 "$CDCSINK" lag -c "$cfg/pg.properties"
want_rc pg.lag 0
want pg.lag "$topic" "the topic's partitions"
collect pg.lag.json 30 "$CDCSINK" lag -c "$cfg/pg.properties" --json
want_rc pg.lag.json 0
jq -e '.total_lag == 0' "$out/pg.lag.json" >/dev/null || fail "pg.lag.json: want total_lag 0"
collect version 10 "$CDCSINK" version
want_rc version 0
want version '^cdcsink [0-9]' "the version"
collect pg.migrate 30 "$CDCSINK" migrate -c "$cfg/pg.properties"
want_rc pg.migrate 0

say "the DLQ: raw records, inspect, replay"
dlq="cdcsink.dlq.$test_name-pg-$uid"
consume_all "$dlq" '%h\t%k\t%s\n' >"$out/dlq.raw"
[ "$(records "$dlq")" -eq 1 ] || fail "want 1 DLQ record, have $(records "$dlq")"
want dlq.raw '__connect\.errors\.exception\.class\.name=SQLSTATE 23514' "the rejection's headers"
want dlq.raw 'check constraint' "the constraint's message"
collect dlq.inspect 60 "$CDCSINK" dlq inspect -c "$cfg/pg.properties"
want_rc dlq.inspect 0
want dlq.inspect '"SQLSTATE 23514"' "the rejected record"
collect dlq.dry-run 60 "$CDCSINK" dlq replay -c "$cfg/pg.properties" --dry-run
want_rc dlq.dry-run 0
want dlq.dry-run '^replay --dry-run: would_apply=1 ' "the summary"
collect dlq.replay 60 "$CDCSINK" dlq replay -c "$cfg/pg.properties"
want_rc dlq.replay 1
want dlq.replay '^replay: .*failed_again=1' "the summary"
consume_all "$dlq" '%h\t%k\t%s\n' >"$out/dlq.raw.after-replay"
want dlq.raw.after-replay 'cdcsink\.replay\.attempts=1' "the replayed record back in the DLQ"
collect dlq.inspect.after-replay 60 "$CDCSINK" dlq inspect -c "$cfg/pg.properties"
want_rc dlq.inspect.after-replay 0
want dlq.inspect.after-replay '"cdcsink\.replay\.attempts":"1"' "the replayed record"

say "check, of every pipeline file"
for f in "$cfg"/*.properties; do
    p=$(basename "$f" .properties)
    collect "$p.check" 10 "$CDCSINK" check -c "$f"
    want_rc "$p.check" 0
    want "$p.check" '^kafka\.sasl\.password = \*{8}$' "the SASL password masked"
    want "$p.check" '^schema\.registry\.basic\.auth\.user\.info = \*{8}$' "the registry's user info masked"
done
want pg.check '^connection\.url = postgresql://'"$pg_tls_user"':\*{8}@' "the PostgreSQL password masked"
want redis.check '^connection\.url = redis://'"$redis_leak_user"':\*{8}@' "the Redis password masked"
want es8.check '^connection\.password = \*{8}$' "the Elasticsearch password masked"
want apikey.check '^connection\.api\.key = \*{8}$' "the API key masked"

say "check, of files with an error"
# bad NAME BASE LINE...: $cfg/bad/NAME.properties, BASE's file with the
# lines appended, must fail `check` (exit 2) with "file:line:".
mkdir -p "$cfg/bad"
ln -s ../secrets "$cfg/bad/secrets"
bad() {
    local name=$1 base=$2
    shift 2
    cp "$cfg/$base.properties" "$cfg/bad/$name.properties"
    printf '%s\n' "$@" >>"$cfg/bad/$name.properties"
    collect "$name.check" 10 "$CDCSINK" check -c "$cfg/bad/$name.properties"
    want_rc "$name.check" 2
    want "$name.check" "$name\\.properties:[0-9]+: " "file:line: message"
}
grep -v '^schema\.registry\.basic\.auth\.user\.info ' "$cfg/pg.properties" >"$cfg/bad/no-colon.properties"
printf 'schema.registry.basic.auth.user.info = %s\n' "${secret[SCHEMA_REGISTRY_PASSWORD]}" >>"$cfg/bad/no-colon.properties"
collect no-colon.check 10 "$CDCSINK" check -c "$cfg/bad/no-colon.properties"
want_rc no-colon.check 2
want no-colon.check 'not USER:PASSWORD' "the reason"
collect no-colon.run 10 "$CDCSINK" run -c "$cfg/bad/no-colon.properties"
want_rc no-colon.run 2
want no-colon.run 'not USER:PASSWORD' "the reason"
bad unknown-key es8 "connection.pasword = ${secret[WRONG_ES_PASSWORD]}"
want unknown-key.check "did you mean 'connection.password'" "the suggestion"
bad repeated redis "kafka.sasl.password = ${secret[WRONG_KAFKA_PASSWORD]}"
want repeated.check 'repeated' "the reason"
bad no-equals redis "${secret[WRONG_KAFKA_PASSWORD]}"
want no-equals.check "expected 'key = value'" "the reason"
bad colon apikey "connection.api.key: ${secret[WRONG_API_KEY]}"
want colon.check "expected 'key = value' \(the text before '=' is no key name" "the reason"
bad no-env pg "kafka.ssl.key.password = \${env:LEAK_UNSET_$uid}"
want no-env.check "environment variable 'LEAK_UNSET_$uid' is not set" "the reason"
bad no-file pg "kafka.ssl.key.password = \${file:secrets/missing}"
want no-file.check "cannot read file" "the reason"
cp "$cfg/pg.properties" "$cfg/bad/bad-scheme.properties"
sed -i '/^schema\.registry\.url /d' "$cfg/bad/bad-scheme.properties"
printf 'schema.registry.url = ftp://%s:%s@127.0.0.1/x\n' "$registry_user" \
    "$(urlencode "${secret[REGISTRY_URL_PASSWORD]}")" >>"$cfg/bad/bad-scheme.properties"
collect bad-scheme.check 10 "$CDCSINK" check -c "$cfg/bad/bad-scheme.properties"
want_rc bad-scheme.check 2
want bad-scheme.check 'is not an http:// or https:// URL' "the reason"

# ---- failed connects -------------------------------------------------------

# failing NAME SECONDS "RC..." REGEX WHAT: `run` of $cfg/NAME.properties
# (stopped after SECONDS) exits with one of RC and its output holds REGEX.
failing() {
    local name=$1 secs=$2 rcs=$3 re=$4 what=$5
    say "run $name"
    collect "$name.run" "$secs" "$CDCSINK" run -c "$cfg/$name.properties"
    # shellcheck disable=SC2086  # a list of exit codes
    want_rc "$name.run" $rcs
    want "$name.run" "$re" "$what"
}
refused="Connection refused|[Cc]ouldn't connect|Failed to connect"
# Transient failures (a host that does not answer) are retried this long.
short=(errors.retry.timeout.ms=3000 errors.retry.backoff.max.ms=500)

leak_file kafka-badpw "${secret[WRONG_KAFKA_PASSWORD]}" "$SCHEMA_REGISTRY_USER_INFO" "${jsonl_keys[@]}"
failing kafka-badpw 15 "124 1" 'SASL authentication (error|failed)|Authentication failed' "the broker's refusal"
collect kafka-badpw.lag 60 "$CDCSINK" lag -c "$cfg/kafka-badpw.properties"
want_rc kafka-badpw.lag 3
collect kafka-badpw.inspect 60 "$CDCSINK" dlq inspect -c "$cfg/kafka-badpw.properties"
want_rc kafka-badpw.inspect 1
leak_file kafka-down "$KAFKA_SASL_PASSWORD" "$SCHEMA_REGISTRY_USER_INFO" "${jsonl_keys[@]}" \
    kafka.bootstrap.servers=127.0.0.1:1
failing kafka-down 10 "124 1" "$refused" "the connect error"
collect kafka-down.lag 60 "$CDCSINK" lag -c "$cfg/kafka-down.properties"
want_rc kafka-down.lag 3
collect kafka-down.replay 60 "$CDCSINK" dlq replay -c "$cfg/kafka-down.properties"
want_rc kafka-down.replay 1

leak_file registry-badpw "$KAFKA_SASL_PASSWORD" "$registry_user:${secret[WRONG_REGISTRY_PASSWORD]}" "${jsonl_keys[@]}"
failing registry-badpw 60 1 'HTTP 401' "the registry's refusal"
leak_file registry-badpw-url "$KAFKA_SASL_PASSWORD" unused "${jsonl_keys[@]}" \
    "schema.registry.url=https://$registry_user:$(urlencode "${secret[WRONG_REGISTRY_URL_PASSWORD]}")@${SCHEMA_REGISTRY_TLS_URL#https://}"
sed -i '/^schema\.registry\.basic\.auth\.user\.info /d' "$cfg/registry-badpw-url.properties"
failing registry-badpw-url 60 1 'HTTP 401' "the registry's refusal"
leak_file registry-down "\${env:LEAK_KAFKA_PASSWORD}" unused "${jsonl_keys[@]}" "${short[@]}" \
    "schema.registry.url=https://$registry_user:$(urlencode "${secret[REGISTRY_URL_PASSWORD]}")@127.0.0.1:1/apis/ccompat/v7"
sed -i '/^schema\.registry\.basic\.auth\.user\.info /d' "$cfg/registry-down.properties"
failing registry-down 60 1 "$refused" "the connect error"

leak_file pg-badpw "$KAFKA_SASL_PASSWORD" "$SCHEMA_REGISTRY_USER_INFO" "${pg_keys[@]}" \
    "connection.url=postgresql://$pg_tls_user:$(urlencode "${secret[WRONG_PG_PASSWORD]}")@$pg_tls_rest"
failing pg-badpw 60 1 'password authentication failed' "the server's refusal"
leak_file pg-badpw-query "$KAFKA_SASL_PASSWORD" "$SCHEMA_REGISTRY_USER_INFO" "${pg_keys[@]}" \
    "connection.url=postgresql://$pg_tls_user@$pg_tls_rest&password=${secret[WRONG_PG_QUERY_PASSWORD]}"
failing pg-badpw-query 60 1 'password authentication failed' "the server's refusal"
leak_file pg-badurl "$KAFKA_SASL_PASSWORD" "$SCHEMA_REGISTRY_USER_INFO" "${pg_keys[@]}" "${short[@]}" \
    "connection.url=postgresql://$pg_tls_user:${secret[PG_BADLY_ENCODED_PASSWORD]}@$pg_tls_rest"
failing pg-badurl 60 1 'invalid percent-encoded token' "libpq's reason"
leak_file pg-down "$KAFKA_SASL_PASSWORD" "$SCHEMA_REGISTRY_USER_INFO" "${pg_keys[@]}" "${short[@]}" \
    "connection.url=postgresql://$pg_tls_user:${secret[PG_TLS_PASSWORD]}@127.0.0.1:1/target?sslmode=require"
failing pg-down 60 1 "$refused" "the connect error"

leak_file redis-badpw "$KAFKA_SASL_PASSWORD" "$SCHEMA_REGISTRY_USER_INFO" "${redis_keys[@]}" \
    "connection.url=redis://$redis_leak_user:$(urlencode "${secret[WRONG_REDIS_PASSWORD]}")@$redis_rest"
failing redis-badpw 60 1 'WRONGPASS' "the server's refusal"
leak_file redis-down "$KAFKA_SASL_PASSWORD" "$SCHEMA_REGISTRY_USER_INFO" "${redis_keys[@]}" "${short[@]}" \
    "connection.url=redis://$redis_leak_user:${secret[REDIS_LEAK_PASSWORD]}@127.0.0.1:1/0"
failing redis-down 60 1 "$refused" "the connect error"

leak_file es8-badpw "$KAFKA_SASL_PASSWORD" "$SCHEMA_REGISTRY_USER_INFO" "${es8_keys[@]}" \
    "connection.password=${secret[WRONG_ES_PASSWORD]}"
failing es8-badpw 60 1 'HTTP 401' "the engine's refusal"
leak_file es8-down "$KAFKA_SASL_PASSWORD" "$SCHEMA_REGISTRY_USER_INFO" "${es8_keys[@]}" "${short[@]}" \
    "connection.url=https://$ES8_WRITER_USERNAME:$(urlencode "${secret[ES_URL_PASSWORD]}")@127.0.0.1:1" \
    "connection.password=$ES8_WRITER_PASSWORD"
failing es8-down 60 1 "$refused" "the connect error"

leak_file apikey-bad "$KAFKA_SASL_PASSWORD" "$SCHEMA_REGISTRY_USER_INFO" "${key_keys[@]}" \
    "connection.api.key=${secret[WRONG_API_KEY]}"
failing apikey-bad 60 1 'HTTP 401' "the proxy's refusal"
leak_file apikey-down "$KAFKA_SASL_PASSWORD" "$SCHEMA_REGISTRY_USER_INFO" "${key_keys[@]}" "${short[@]}" \
    "connection.url=https://127.0.0.1:1" "connection.api.key=\${env:LEAK_API_KEY}"
failing apikey-down 60 1 "$refused" "the connect error"

say "check, of the failure cases' files"
for p in kafka-badpw kafka-down registry-badpw registry-badpw-url registry-down \
         pg-badpw pg-badpw-query pg-badurl pg-down \
         redis-badpw redis-down es8-badpw es8-down apikey-bad apikey-down; do
    collect "$p.check" 10 "$CDCSINK" check -c "$cfg/$p.properties"
    want_rc "$p.check" 0
    want "$p.check" '^kafka\.sasl\.password = \*{8}$' "the SASL password masked"
done

# ---- the scan --------------------------------------------------------------

files=$(find "$out" -type f | wc -l)
bytes=$(cat "$out"/* | wc -c)
say "looking for $(wc -l <"$work/forms.tsv") forms of ${#secret[@]} secrets in $files outputs ($bytes bytes)"
{ [ "$files" -ge 70 ] && [ "$bytes" -ge 100000 ]; } || fail "too little was collected"
leaks "$out"
echo ok

#!/usr/bin/env bash
# TLS and SASL end to end: Kafka over the stack's SASL_SSL listener
# (SCRAM-SHA-512, the broker's certificate checked against the stack's
# CA), the schema registry over HTTPS with basic auth (nginx in front of
# Apicurio), the PostgreSQL target over TLS with sslmode=verify-full as a
# role that pg_hba.conf lets in over TLS only. Real Debezium changes land as
# exact rows; the group's lag reads 0 over SASL_SSL; a change the target
# rejects goes to the DLQ (produced over SASL_SSL), `dlq inspect` reads it
# back and `dlq replay` applies it once the constraint is gone. The same
# stream also reaches Redis over TLS. Each wrong setting stops the pipeline
# at once (exit 1) with one clear line: a wrong SASL password, a CA that
# did not sign the broker's certificate, a wrong registry password (HTTP
# 401), a registry CA that does not match, a PostgreSQL root certificate
# that does not match, the TLS-only role without TLS. cdcsink runs
# librdkafka 2.6.1 or newer (Debian 12's 2.0.2 cannot do SCRAM with Kafka 4).
# No password appears in anything cdcsink printed.
# (Redis and OpenSearch over TLS with their own wrong settings: t0440, t0540.)
. "$(dirname "$0")/lib.sh"

table="it_sec_$uid"
topic="it.public.$table"
target="\"$pg_schema\".\"$table\""
dlq="cdcsink.dlq.$test_name-$uid"
tls_psql() { psql "$TARGET_PG_TLS_URL" -v ON_ERROR_STOP=1 -qAt "$@"; }
rows() { psql "$1" -v ON_ERROR_STOP=1 -qAt -c "SELECT string_agg(id || ':' || v || ':' || t, ' ' ORDER BY id) FROM $2"; }

# secure_file PATH KEY=VALUE...: a postgres pipeline on the secured
# endpoints; secrets come from the environment, not the file.
secure_file() {
    local path=$1
    shift
    pg_pipeline_file "$path" "topics=$topic" \
        "kafka.bootstrap.servers=$KAFKA_SASL_BOOTSTRAP_SERVERS" \
        kafka.security.protocol=SASL_SSL kafka.sasl.mechanism=SCRAM-SHA-512 \
        "kafka.sasl.username=$KAFKA_SASL_USERNAME" \
        'kafka.sasl.password=${env:KAFKA_SASL_PASSWORD}' \
        "kafka.ssl.ca.location=$KAFKA_TLS_CA" \
        "schema.registry.url=$SCHEMA_REGISTRY_TLS_URL" \
        'schema.registry.basic.auth.user.info=${env:SCHEMA_REGISTRY_USER_INFO}' \
        "schema.registry.ssl.ca.location=$SCHEMA_REGISTRY_TLS_CA" \
        'connection.url=${env:TARGET_PG_TLS_URL}' "$@"
}

# at_least_version VERSION MIN: VERSION >= MIN.
at_least_version() { [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n 1)" = "$2" ]; }
rdkafka_version() { "$CDCSINK" version | awk '$1 == "librdkafka" {print $2}'; }

say "the TLS role owns its schema; the target rejects t = 'rejected' (a CHECK the source lacks)"
psql_source -c "CREATE TABLE $table (id int PRIMARY KEY, v int, t text)"
tls_psql <<SQL
CREATE SCHEMA "$pg_schema";
CREATE TABLE $target (id int PRIMARY KEY, v int, t text CONSTRAINT t_ok CHECK (t <> 'rejected'),
    __cdc_lsn bigint NOT NULL, __cdc_deleted boolean NOT NULL DEFAULT false);
SQL
[ "$(tls_psql -c "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")" = t ] ||
    fail "the TLS role's session is not encrypted"
ensure_it_connector
psql_source <<SQL
INSERT INTO $table SELECT g, g, 't' || g FROM generate_series(1, 20) g;
UPDATE $table SET t = 'u' || id WHERE id % 5 = 0;
DELETE FROM $table WHERE id = 20;
SQL
wait_records 60 "$topic" 25

# cdcsink links librdkafka 2.8 statically: Kafka 4 takes its SCRAM
# (Debian 12's 2.0.2 could not, librdkafka#4895).
version=$(rdkafka_version)
at_least_version "$version" 2.6.1 || fail "cdcsink runs librdkafka $version, older than 2.6.1"
say "librdkafka $version"

say "SASL_SSL + registry over HTTPS + PostgreSQL verify-full: exact rows"
secure_file "$work/p.properties"
start_cdcsink "$work/p.properties" "$work/live.log"
wait_for 60 "caught up over SASL_SSL" caught_up "$work/p.properties"
want="1:1:t1 2:2:t2 3:3:t3 4:4:t4 5:5:u5 6:6:t6 7:7:t7 8:8:t8 9:9:t9 10:10:u10 11:11:t11 12:12:t12 13:13:t13 14:14:t14 15:15:u15 16:16:t16 17:17:t17 18:18:t18 19:19:t19"
[ "$(rows "$SOURCE_PG_URL" "$table")" = "$want" ] || fail "source: $(rows "$SOURCE_PG_URL" "$table")"
[ "$(rows "$TARGET_PG_TLS_URL" "$target")" = "$want" ] || fail "target: $(rows "$TARGET_PG_TLS_URL" "$target")"
grep -q 'msg="consuming as group' "$work/live.log" || fail "the pipeline did not start"

say "a change the target rejects goes to the DLQ over SASL_SSL"
psql_source -c "UPDATE $table SET v = 300, t = 'rejected' WHERE id = 3"
dlq_has_one() { [ "$(records "$dlq")" -ge 1 ]; }
wait_for 60 "one record in the DLQ" dlq_has_one
wait_for 60 "caught up after the rejected change" caught_up "$work/p.properties"
kill -TERM "$cdcsink_pid"; wait "$cdcsink_pid"
[ "$(rows "$TARGET_PG_TLS_URL" "$target")" = "$want" ] || fail "target after the rejected change: $(rows "$TARGET_PG_TLS_URL" "$target")"
"$CDCSINK" lag -c "$work/p.properties" --json >"$work/lag.json"
cat "$work/lag.json"
jq -e '.total_lag == 0 and (.partitions | length) == 3 and all(.partitions[]; .committed >= 0)' "$work/lag.json" >/dev/null ||
    fail "lag over SASL_SSL is not 0 with three committed partitions"

say "dlq inspect reads it back over SASL_SSL"
"$CDCSINK" dlq inspect -c "$work/p.properties" >"$work/inspect.jsonl" 2>"$work/inspect.log"
cat "$work/inspect.jsonl"
[ "$(wc -l <"$work/inspect.jsonl")" -eq 1 ] || fail "want one DLQ record"
jq -e --arg topic "$topic" '.change.key.id == 3 and .change.op == "u" and .change.after.v == 300
    and .headers["__connect.errors.topic"] == $topic
    and .headers["__connect.errors.exception.class.name"] == "SQLSTATE 23514"
    and (.headers["__connect.errors.exception.message"] | test("t_ok"))
    and .headers["cdcsink.error.class"] == "data"' "$work/inspect.jsonl" >/dev/null ||
    fail "the DLQ record is not the rejected update of key 3"

say "dlq replay applies it over SASL_SSL once the constraint is gone"
tls_psql -c "ALTER TABLE $target DROP CONSTRAINT t_ok"
dlq_replay "$work/p.properties" "$work/replay.txt"
[ "$replay_rc" -eq 0 ] || fail "replay exited $replay_rc: $(cat "$work/replay.txt.log")"
[ "$(cat "$work/replay.txt")" = "replay: applied=1 stale=0 failed_again=0 skipped_by_filter=0" ] ||
    fail "replay: $(cat "$work/replay.txt")"
want=${want/3:3:t3/3:300:rejected}
[ "$(rows "$TARGET_PG_TLS_URL" "$target")" = "$want" ] || fail "target after the replay: $(rows "$TARGET_PG_TLS_URL" "$target")"
[ "$(rows "$SOURCE_PG_URL" "$table")" = "$want" ] || fail "source: $(rows "$SOURCE_PG_URL" "$table")"

say "the same stream, SASL_SSL Kafka, into Redis over TLS"
redis_pipeline_file "$work/redis.properties" "topics=$topic" "name=$test_name-redis-$uid" \
    "kafka.bootstrap.servers=$KAFKA_SASL_BOOTSTRAP_SERVERS" \
    kafka.security.protocol=SASL_SSL kafka.sasl.mechanism=SCRAM-SHA-512 \
    "kafka.sasl.username=$KAFKA_SASL_USERNAME" 'kafka.sasl.password=${env:KAFKA_SASL_PASSWORD}' \
    "kafka.ssl.ca.location=$KAFKA_TLS_CA" "schema.registry.url=$SCHEMA_REGISTRY_TLS_URL" \
    'schema.registry.basic.auth.user.info=${env:SCHEMA_REGISTRY_USER_INFO}' \
    "schema.registry.ssl.ca.location=$SCHEMA_REGISTRY_TLS_CA" \
    'connection.url=${env:REDIS_TLS_URL}' "redis.ssl.ca.location=$REDIS_TLS_CA"
start_cdcsink "$work/redis.properties" "$work/redis.log"
wait_for 60 "Redis caught up" caught_up "$work/redis.properties"
kill -TERM "$cdcsink_pid"; wait "$cdcsink_pid"
[ "$(redis_keys "$redis_prefix:*" | wc -l)" -eq 19 ] || fail "want 19 keys in Redis"
[ "$(rcli GET "$redis_prefix:$table:3")" = '{"id":3,"v":300,"t":"rejected"}' ] || fail "key 3 in Redis"

# wrong NAME KEY=VALUE...: a pipeline of its own (it reads from the
# beginning, so the registry is asked) that must stop with exit 1.
wrong() {
    local name=$1
    shift
    secure_file "$work/$name.properties" "name=$test_name-$name-$uid" "$@"
    expect_fatal "$work/$name.properties" "$work/$name.log" "with $name"
}
expect_line() { grep -q "level=error.*$2" "$work/$1.log" || fail "$1: no error line matching '$2'"; }

say "a wrong SASL password"
export WRONG_SASL_PASSWORD="kafka-Wrong-$uid"
wrong badsasl 'kafka.sasl.password=${env:WRONG_SASL_PASSWORD}'
expect_line badsasl "kafka: .*SASL authentication error: .*invalid credentials"

say "a CA that did not sign the broker's certificate"
wrong kafkaca "kafka.ssl.ca.location=$REDIS_TLS_CA"
expect_line kafkaca "kafka: .*certificate verify failed"

say "a wrong registry password: HTTP 401"
export WRONG_REGISTRY_USER_INFO="${SCHEMA_REGISTRY_USER_INFO%%:*}:reg-Wrong-$uid"
wrong badreg 'schema.registry.basic.auth.user.info=${env:WRONG_REGISTRY_USER_INFO}'
expect_line badreg "HTTP 401 (check schema.registry.basic.auth.user.info)"

say "a CA that did not sign the registry's certificate"
wrong regca "schema.registry.ssl.ca.location=$REDIS_TLS_CA"
expect_line regca "schema registry https://.*certificate"

say "PostgreSQL with sslmode=verify-full and a root certificate that does not match"
export WRONG_ROOT_URL=${TARGET_PG_TLS_URL/sslrootcert=$PG_TLS_CA/sslrootcert=$REDIS_TLS_CA}
[ "$WRONG_ROOT_URL" != "$TARGET_PG_TLS_URL" ] || fail "TARGET_PG_TLS_URL has no sslrootcert=$PG_TLS_CA"
wrong pgca 'connection.url=${env:WRONG_ROOT_URL}'
expect_line pgca "connecting to PostgreSQL: .*certificate verify failed"

say "the TLS-only role without TLS"
export NO_TLS_URL="${TARGET_PG_TLS_URL%%\?*}?sslmode=disable"
wrong pgnotls 'connection.url=${env:NO_TLS_URL}'
expect_line pgnotls "connecting to PostgreSQL: .*pg_hba.conf rejects connection"

say "no password in anything cdcsink printed"
for secret in "$KAFKA_SASL_PASSWORD" "${SCHEMA_REGISTRY_USER_INFO#*:}" "${TARGET_PG_TLS_URL#*//*:}" \
              "$WRONG_SASL_PASSWORD" "${WRONG_REGISTRY_USER_INFO#*:}"; do
    secret=${secret%%@*}
    [ -n "$secret" ] || fail "empty secret"
    if grep -rlF -- "$secret" "$work" --include='*.log' --include='*.json' --include='*.jsonl' --include='*.txt'; then
        fail "a password appears in the output above"
    fi
done
echo ok

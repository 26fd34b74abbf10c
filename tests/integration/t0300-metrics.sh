#!/usr/bin/env bash
# /metrics, /healthz and /readyz of a running pipeline: the text parses as
# Prometheus exposition (promtool), the counters move by exactly the records
# processed, and /readyz goes unready while the sink is down and ready again
# when it returns.
. "$(dirname "$0")/lib.sh"
command -v promtool >/dev/null || fail "promtool missing (scripts/test-alerts installs it)"

table="it_metrics_$uid"
topic="it.public.$table"
db=$(sed -E 's|.*/([^/?]+).*|\1|' <<<"$TARGET_PG_URL")
psql_source -c "CREATE TABLE $table (id int PRIMARY KEY, v int)"
ensure_it_connector
# A secret that must never show: in the log, /metrics or `check`.
secret="s3cr3t-$uid"
pg_pipeline_file "$work/p.properties" "topics=$topic" "auto.create=true" "http.listen=127.0.0.1:0" \
    "schema.registry.basic.auth.user.info=reader:$secret"
start_cdcsink "$work/p.properties" "$work/cdcsink.log"
wait_for 30 "the HTTP port in the log" grep -q "serving /metrics" "$work/cdcsink.log"
port=$(grep -o 'serving /metrics.*(port [0-9]*)' "$work/cdcsink.log" | grep -o '[0-9]*)$' | tr -d ')')
url="http://127.0.0.1:$port"

psql_source <<SQL
INSERT INTO $table SELECT g, g FROM generate_series(1, 100) g;
UPDATE $table SET v = -v WHERE id <= 20;
DELETE FROM $table WHERE id > 90;
SQL
# 100 + 20 + 10 changes and 10 tombstones.
wait_records 60 "$topic" 140
wait_for 60 "caught up" caught_up "$work/p.properties"
sleep 1
curl -fsS "$url/metrics" >"$work/metrics.txt"
promtool check metrics <"$work/metrics.txt" || fail "promtool rejects /metrics"
sum() { awk -v m="$1" '$1 ~ "^"m"[{]" {s += $NF} END {print s + 0}' "$work/metrics.txt"; }
consumed=$(sum cdcsink_records_consumed_total)
applied=$(sum cdcsink_records_applied_total)
stale=$(sum cdcsink_records_stale_total)
skipped=$(sum cdcsink_records_skipped_total)
say "consumed=$consumed applied=$applied stale=$stale skipped=$skipped"
[ "$consumed" -eq 140 ] || fail "records_consumed_total $consumed, want 140"
[ "$skipped" -eq 10 ] || fail "records_skipped_total $skipped, want the 10 tombstones"
[ $((applied + stale + skipped)) -eq 140 ] || fail "outcomes do not add up to 140"
[ "$(sum cdcsink_dlq_records_total)" -eq 0 ] || fail "DLQ records counted"
grep -q "^cdcsink_consumer_lag{.*} 0$" "$work/metrics.txt" || fail "no lag gauge at 0"
grep -q '^cdcsink_freshness_seconds{' "$work/metrics.txt" || fail "no freshness gauge"
grep -q '^cdcsink_ready{.*} 1$' "$work/metrics.txt" || fail "not ready"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/healthz")" = 200 ] || fail "/healthz not 200"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/readyz")" = 200 ] || fail "/readyz not 200"

"$CDCSINK" check -c "$work/p.properties" >"$work/check.txt"
grep -q "schema.registry.basic.auth.user.info = \*\*\*\*\*\*\*\*" "$work/check.txt" || fail "check does not mask the secret"
! grep -q "$secret" "$work/check.txt" "$work/metrics.txt" "$work/cdcsink.log" || fail "the secret leaked"

say "sink down: /readyz 503"
restore() { psql_source -c "ALTER DATABASE \"$db\" ALLOW_CONNECTIONS true" >/dev/null 2>&1 || true; }
trap 'restore; cleanup' EXIT
psql_source -c "ALTER DATABASE \"$db\" ALLOW_CONNECTIONS false"
psql_source -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '$db'" >/dev/null
wait_for 20 "/readyz 503" bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' '$url/readyz')\" = 503 ]"
curl -s "$url/readyz" | grep -q "sink unreachable" || fail "/readyz does not say why"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/healthz")" = 200 ] || fail "/healthz must stay 200"
restore
wait_for 20 "/readyz 200 again" bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' '$url/readyz')\" = 200 ]"
echo ok

#!/usr/bin/env bash
# A topics.regex pipeline with librdkafka's metadata settings left at
# cdcsink's defaults: a table created at the source while the pipeline runs
# (a new topic matching the pattern) is applied within seconds, not after
# librdkafka's 5-minute metadata refresh. cdcsink sets the refresh to 10 s
# for pattern subscriptions.
. "$(dirname "$0")/lib.sh"

first="it_nt_a_$uid"
second="it_nt_b_$uid"
psql_source -c "CREATE TABLE $first (id int PRIMARY KEY, v text)"
ensure_it_connector
psql_source -c "INSERT INTO $first SELECT g, 'a' || g FROM generate_series(1, 50) g"
wait_records 60 "it.public.$first" 50

pg_pipeline_file "$work/p.properties" "topics.regex=it\\.public\\.it_nt_.*_$uid" "auto.create=true"
# The tests' quick refresh would hide the default this test is about.
sed -i '/^kafka.topic.metadata.refresh.interval.ms/d' "$work/p.properties"
start_cdcsink "$work/p.properties" "$work/cdcsink.log"
q="SELECT id, v FROM %s ORDER BY id"
wait_for 60 "first table applied" same_rows "$(printf "$q" "$first")" "$(printf "$q" "\"$pg_schema\".\"$first\"")"

say "a table created while the pipeline runs"
psql_source <<SQL
CREATE TABLE $second (id int PRIMARY KEY, v text);
INSERT INTO $second SELECT g, 'b' || g FROM generate_series(1, 30) g;
SQL
created=$(date +%s)
wait_records 60 "it.public.$second" 30
wait_for 45 "new table applied" same_rows "$(printf "$q" "$second")" "$(printf "$q" "\"$pg_schema\".\"$second\"")"
echo "new table applied $(( $(date +%s) - created )) s after it was created"
echo ok

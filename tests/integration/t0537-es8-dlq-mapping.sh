#!/usr/bin/env bash
# The mapping rejections of t0530 (a strict mapping refuses a new column:
# those records alone to the DLQ, replayed after the mapping is fixed; an
# incompatible field: class schema; an index deleted while running is made
# again) on a real Elasticsearch 8, whose error types and reasons differ in
# wording from OpenSearch's.
ES_MODE=elasticsearch exec bash "$(dirname "$0")/t0530-es-dlq-mapping.sh"

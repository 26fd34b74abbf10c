#!/usr/bin/env bash
# The flood-stage block of t0525 on a real Elasticsearch 8: its
# cluster_block_exception (status 429 since 7.x for
# read_only_allow_delete) is a retry of class sink_full, not a DLQ record.
ES_MODE=elasticsearch exec bash "$(dirname "$0")/t0525-es-flood-stage.sh"

#!/usr/bin/env bash
# The end state of t0500 (every mapped type, TOASTed values kept from the
# index, small gzipped requests, a dead first node) on a real
# Elasticsearch 8, over HTTPS with a user of its own security: the version
# is read from GET /_nodes/_local, since that distribution does not route
# GET /.
ES_MODE=elasticsearch exec bash "$(dirname "$0")/t0500-es-end-state.sh"

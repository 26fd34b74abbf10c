#!/usr/bin/env bash
# The guard scenarios of t0510 (stale changes, no resurrection inside
# gc_deletes and the documented one after it, hard/soft/none, tombstones,
# a second group, collapse, an old delete after a newer insert) on a real
# Elasticsearch 8, over HTTPS with a user of its own security.
ES_MODE=elasticsearch exec bash "$(dirname "$0")/t0510-es-guard.sh"

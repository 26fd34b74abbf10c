#!/usr/bin/env bash
# The guard scenarios of t0410 (out-of-order records, no resurrection,
# hard/soft/none deletes, tombstones, a second group, collapse, TTL) on the
# stack's three-master Redis Cluster.
REDIS_MODE=cluster exec bash "$(dirname "$0")/t0410-redis-guard.sh"

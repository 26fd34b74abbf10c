/* redis — the Redis sink: a cache that never goes back in time.
 *
 * Every change is written by a Lua script (rd_script.c) that compares the
 * change's source position with the one kept in the key's marker, in one
 * atomic step per call, many keys per call, calls pipelined per node;
 * standalone or Cluster (rd_conn.c), json or hash layout.
 * sinks/redis/README.md documents keys, layouts and the guard. */
#ifndef CDC_REDIS_H
#define CDC_REDIS_H

#include "sink.h"

extern const cdc_sink_ops_t cdc_redis_sink;

#endif

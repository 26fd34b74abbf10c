/* rd_conn — connections to Redis: one server, or the masters of a Cluster
 * found from seed nodes, with TLS, AUTH and the error classes of the
 * sink contract.
 *
 * A node is connected lazily and forgotten when its connection breaks; the
 * next call connects again. In a Cluster the slot map comes from CLUSTER
 * SLOTS and is read again after a MOVED reply. */
#ifndef CDC_RD_CONN_H
#define CDC_RD_CONN_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>

#include "rd_slot.h"
#include "rd_url.h"
#include "config.h"
#include "sink.h"

typedef struct cdc_rd_node {
    cdc_rd_endpoint_t at;
    redisContext *ctx; /* NULL until connected */
} cdc_rd_node_t;

typedef struct cdc_rd_tls {
    const char *ca_location;
    const char *cert_location;
    const char *key_location;
} cdc_rd_tls_t;

typedef struct cdc_rd_conn cdc_rd_conn_t;

/* Parses the URL and makes the TLS context; connects nothing yet. NULL
 * with errstr (never holding the password). */
cdc_rd_conn_t *cdc_rd_conn_new(const char *url, bool cluster,
                               const cdc_rd_tls_t *tls, int timeout_ms,
                               char *errstr, size_t errstr_size);
void cdc_rd_conn_destroy(cdc_rd_conn_t *c);

/* The same from a pipeline's keys (connection.url, redis.cluster,
 * redis.ssl.*): the sink's and `cdcsink verify`'s. */
cdc_rd_conn_t *cdc_rd_conn_configured(const cdc_config_t *cfg, int timeout_ms,
                                      char *errstr, size_t errstr_size);

/* Connects the server (a Cluster: reads the slot map, once) and loads
 * the guard script. OK, RETRY (unreachable, loading...) or FATAL (bad
 * credentials, a certificate the CA does not vouch for) with errstr. */
cdc_sink_status_t cdc_rd_conn_ready(cdc_rd_conn_t *c, char *errstr,
                                    size_t errstr_size);

/* The SHA1 of the guard script as the server knows it (after ready). */
const char *cdc_rd_conn_script_sha(const cdc_rd_conn_t *c);

bool cdc_rd_conn_is_cluster(const cdc_rd_conn_t *c);

/* The node serving a slot (any slot: the server outside a Cluster). */
cdc_rd_node_t *cdc_rd_conn_node_for(cdc_rd_conn_t *c, int slot);

/* The node at host:port, added when new (a MOVED or ASK target). NULL when
 * out of memory. */
cdc_rd_node_t *cdc_rd_conn_node_at(cdc_rd_conn_t *c, const char *host, int port);

/* Connects one node if it is not; OK, RETRY or FATAL with errstr. */
cdc_sink_status_t cdc_rd_conn_node_connect(cdc_rd_conn_t *c, cdc_rd_node_t *n,
                                           char *errstr, size_t errstr_size);

/* Drops a node's connection (it broke, or its state is unknown). */
void cdc_rd_conn_node_forget(cdc_rd_node_t *n);

/* The Cluster's slot map is to be read again before the next call (a
 * master unreachable or refusing writes: a failover may have moved it). */
void cdc_rd_conn_forget_map(cdc_rd_conn_t *c);

/* Reads the Cluster's slot map again (after MOVED). */
cdc_sink_status_t cdc_rd_conn_refresh(cdc_rd_conn_t *c, char *errstr,
                                      size_t errstr_size);

/* Loads the guard script on a node that answered NOSCRIPT. */
cdc_sink_status_t cdc_rd_conn_load_script(cdc_rd_conn_t *c, cdc_rd_node_t *n,
                                          char *errstr, size_t errstr_size);

/* What an error reply means for the batch: RETRY for the transient ones
 * (LOADING, BUSY, TRYAGAIN, CLUSTERDOWN, MASTERDOWN, READONLY, OOM...),
 * FATAL for credentials and permissions (NOAUTH, WRONGPASS, NOPERM) and
 * anything unexpected. */
cdc_sink_status_t cdc_rd_conn_classify(const char *error);

/* Whether every node connected so far answers PING. */
bool cdc_rd_conn_ping(cdc_rd_conn_t *c);

#endif

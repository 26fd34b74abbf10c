#include "rd_conn.h"

#include <hiredis/hiredis_ssl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "errstr.h"
#include "log.h"
#include "rd_reply.h"
#include "rd_script.h"

enum { MAX_NODES = 256 };

struct cdc_rd_conn {
    cdc_rd_url_t url;
    bool cluster;
    struct timeval timeout;
    redisSSLContext *ssl;
    /* Each node allocated alone: pointers handed out stay valid. */
    cdc_rd_node_t *nodes[MAX_NODES];
    size_t nnodes;
    int16_t slot_node[CDC_RD_SLOTS]; /* index into nodes, -1 unknown */
    bool mapped;                     /* slot_node was read (Cluster) */
    char sha[41];
};

static pthread_once_t openssl_once = PTHREAD_ONCE_INIT;
static void openssl_init(void) { redisInitOpenSSL(); }

cdc_rd_conn_t *cdc_rd_conn_new(const char *url, bool cluster,
                               const cdc_rd_tls_t *tls, int timeout_ms,
                               char *errstr, size_t errstr_size)
{
    cdc_rd_conn_t *c = calloc(1, sizeof *c);
    if (!c) {
        cdc_errstr_set(errstr, errstr_size, "out of memory");
        return NULL;
    }
    c->cluster = cluster;
    c->timeout.tv_sec = timeout_ms / 1000;
    c->timeout.tv_usec = (timeout_ms % 1000) * 1000;
    for (size_t i = 0; i < CDC_RD_SLOTS; i++) c->slot_node[i] = -1;
    if (cdc_rd_url_parse(url, &c->url, errstr, errstr_size) != 0) goto err;
    if (!cluster && c->url.nnodes > 1) {
        cdc_errstr_set(errstr, errstr_size,
                       "connection.url names %zu nodes: set redis.cluster=true "
                       "for a Cluster, or name one server",
                       c->url.nnodes);
        goto err;
    }
    if (cluster && c->url.db != 0) {
        cdc_errstr_set(errstr, errstr_size,
                       "a Redis Cluster has only database 0 (connection.url ends in /%d)",
                       c->url.db);
        goto err;
    }
    if ((tls->cert_location == NULL) != (tls->key_location == NULL)) {
        cdc_errstr_set(errstr, errstr_size,
                       "redis.ssl.certificate.location and redis.ssl.key.location "
                       "go together");
        goto err;
    }
    if (c->url.tls) {
        pthread_once(&openssl_once, openssl_init);
        redisSSLContextError why = REDIS_SSL_CTX_NONE;
        redisSSLOptions options = {
            .cacert_filename = tls->ca_location,
            .cert_filename = tls->cert_location,
            .private_key_filename = tls->key_location,
            .server_name = c->url.nodes[0].host,
            .verify_mode = REDIS_SSL_VERIFY_PEER,
        };
        if (!(c->ssl = redisCreateSSLContextWithOptions(&options, &why))) {
            cdc_errstr_set(errstr, errstr_size, "TLS for rediss://: %s",
                           redisSSLContextGetError(why));
            goto err;
        }
    }
    for (size_t i = 0; i < c->url.nnodes; i++)
        if (!cdc_rd_conn_node_at(c, c->url.nodes[i].host, c->url.nodes[i].port)) {
            cdc_errstr_set(errstr, errstr_size, "out of memory");
            goto err;
        }
    return c;
err:
    cdc_rd_conn_destroy(c);
    return NULL;
}

void cdc_rd_conn_destroy(cdc_rd_conn_t *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->nnodes; i++) {
        cdc_rd_conn_node_forget(c->nodes[i]);
        free(c->nodes[i]);
    }
    if (c->ssl) redisFreeSSLContext(c->ssl);
    /* The password lived here: leave nothing of it in freed memory. */
    memset(&c->url, 0, sizeof c->url);
    free(c);
}

cdc_rd_conn_t *cdc_rd_conn_configured(const cdc_config_t *cfg, int timeout_ms,
                                      char *errstr, size_t errstr_size)
{
    cdc_rd_tls_t tls = {
        .ca_location = cdc_config_get(cfg, "redis.ssl.ca.location"),
        .cert_location = cdc_config_get(cfg, "redis.ssl.certificate.location"),
        .key_location = cdc_config_get(cfg, "redis.ssl.key.location"),
    };
    return cdc_rd_conn_new(cdc_config_get(cfg, "connection.url"),
                           cdc_config_get_bool(cfg, "redis.cluster"), &tls, timeout_ms,
                           errstr, errstr_size);
}

bool cdc_rd_conn_is_cluster(const cdc_rd_conn_t *c) { return c->cluster; }
const char *cdc_rd_conn_script_sha(const cdc_rd_conn_t *c) { return c->sha; }

cdc_rd_node_t *cdc_rd_conn_node_at(cdc_rd_conn_t *c, const char *host, int port)
{
    for (size_t i = 0; i < c->nnodes; i++)
        if (c->nodes[i]->at.port == port && strcmp(c->nodes[i]->at.host, host) == 0)
            return c->nodes[i];
    if (c->nnodes == MAX_NODES) return NULL;
    cdc_rd_node_t *n = calloc(1, sizeof *n);
    if (!n) return NULL;
    snprintf(n->at.host, sizeof n->at.host, "%s", host);
    n->at.port = port;
    c->nodes[c->nnodes++] = n;
    return n;
}

static int node_index(const cdc_rd_conn_t *c, const cdc_rd_node_t *n)
{
    for (size_t i = 0; i < c->nnodes; i++)
        if (c->nodes[i] == n) return (int)i;
    return -1;
}

cdc_rd_node_t *cdc_rd_conn_node_for(cdc_rd_conn_t *c, int slot)
{
    if (!c->cluster) return c->nodes[0];
    int i = c->slot_node[slot];
    return i >= 0 ? c->nodes[i] : NULL;
}

void cdc_rd_conn_node_forget(cdc_rd_node_t *n)
{
    if (n->ctx) redisFree(n->ctx);
    n->ctx = NULL;
}

/* ---------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------- */

static bool starts_with_word(const char *s, const char *word)
{
    size_t n = strlen(word);
    return strncmp(s, word, n) == 0 && (s[n] == ' ' || s[n] == '\0');
}

cdc_sink_status_t cdc_rd_conn_classify(const char *error)
{
    static const char *const transient[] = {
        "LOADING", "BUSY", "TRYAGAIN", "CLUSTERDOWN", "MASTERDOWN",
        "READONLY", "OOM", "MOVED", "ASK", "NOSCRIPT", "UNBLOCKED", NULL};
    for (const char *const *w = transient; *w; w++)
        if (starts_with_word(error, *w)) return CDC_SINK_RETRY;
    return CDC_SINK_FATAL;
}

/* A reply that is an error, as a status and a message. */
static cdc_sink_status_t reply_error(const cdc_rd_node_t *n, const char *what,
                                     const redisReply *r, char *errstr,
                                     size_t errstr_size)
{
    cdc_errstr_set(errstr, errstr_size, "redis %s:%d: %s: %s", n->at.host,
                   n->at.port, what, r->str);
    return cdc_rd_conn_classify(r->str);
}

/* The context broke (connection lost, timeout): retry on a new one. */
static cdc_sink_status_t context_error(cdc_rd_node_t *n, const char *what,
                                       char *errstr, size_t errstr_size)
{
    cdc_errstr_set(errstr, errstr_size, "redis %s:%d: %s: %s", n->at.host,
                   n->at.port, what, n->ctx ? n->ctx->errstr : "out of memory");
    cdc_rd_conn_node_forget(n);
    return CDC_SINK_RETRY;
}

/* ---------------------------------------------------------------------
 * Connecting
 * ------------------------------------------------------------------- */

/* Runs one command on the node; *out is the reply (freed by the caller)
 * unless the status is not OK. */
static cdc_sink_status_t node_command(cdc_rd_node_t *n, const char *what,
                                      redisReply **out, char *errstr,
                                      size_t errstr_size, int argc,
                                      const char **argv)
{
    redisReply *r = redisCommandArgv(n->ctx, argc, argv, NULL);
    if (!r) return context_error(n, what, errstr, errstr_size);
    if (r->type == REDIS_REPLY_ERROR) {
        cdc_sink_status_t st = reply_error(n, what, r, errstr, errstr_size);
        freeReplyObject(r);
        return st;
    }
    *out = r;
    return CDC_SINK_OK;
}

static cdc_sink_status_t node_auth(cdc_rd_conn_t *c, cdc_rd_node_t *n,
                                   char *errstr, size_t errstr_size)
{
    if (!c->url.password[0]) return CDC_SINK_OK;
    const char *argv[3] = {"AUTH", c->url.user, c->url.password};
    int argc = c->url.user[0] ? 3 : 2;
    if (!c->url.user[0]) argv[1] = c->url.password;
    redisReply *r = redisCommandArgv(n->ctx, argc, argv, NULL);
    if (!r) return context_error(n, "AUTH", errstr, errstr_size);
    cdc_sink_status_t st = CDC_SINK_OK;
    if (r->type == REDIS_REPLY_ERROR) {
        /* The server's words (WRONGPASS ...) never hold the password. */
        cdc_errstr_set(errstr, errstr_size,
                       "redis %s:%d: authentication as %s failed: %s", n->at.host,
                       n->at.port, c->url.user[0] ? c->url.user : "the default user",
                       r->str);
        st = starts_with_word(r->str, "LOADING") ? CDC_SINK_RETRY : CDC_SINK_FATAL;
    }
    freeReplyObject(r);
    return st;
}

cdc_sink_status_t cdc_rd_conn_load_script(cdc_rd_conn_t *c, cdc_rd_node_t *n,
                                          char *errstr, size_t errstr_size)
{
    const char *argv[3] = {"SCRIPT", "LOAD", cdc_rd_guard_script};
    redisReply *r = NULL;
    cdc_sink_status_t st = node_command(n, "SCRIPT LOAD", &r, errstr, errstr_size, 3, argv);
    if (st != CDC_SINK_OK) return st;
    if (r->type == REDIS_REPLY_STRING && r->len == 40) memcpy(c->sha, r->str, 41);
    freeReplyObject(r);
    return CDC_SINK_OK;
}

static cdc_sink_status_t node_setup(cdc_rd_conn_t *c, cdc_rd_node_t *n,
                                    char *errstr, size_t errstr_size)
{
    cdc_sink_status_t st = node_auth(c, n, errstr, errstr_size);
    if (st != CDC_SINK_OK) return st;
    redisReply *r = NULL;
    if (c->url.db != 0) {
        char db[16];
        snprintf(db, sizeof db, "%d", c->url.db);
        const char *argv[2] = {"SELECT", db};
        if ((st = node_command(n, "SELECT", &r, errstr, errstr_size, 2, argv)) != CDC_SINK_OK)
            return st;
        freeReplyObject(r);
    }
    const char *name[3] = {"CLIENT", "SETNAME", "cdcsink"};
    if (node_command(n, "CLIENT SETNAME", &r, errstr, errstr_size, 3, name) == CDC_SINK_OK)
        freeReplyObject(r);
    return cdc_rd_conn_load_script(c, n, errstr, errstr_size);
}

cdc_sink_status_t cdc_rd_conn_node_connect(cdc_rd_conn_t *c, cdc_rd_node_t *n,
                                           char *errstr, size_t errstr_size)
{
    if (n->ctx && !n->ctx->err) return CDC_SINK_OK;
    cdc_rd_conn_node_forget(n);
    n->ctx = redisConnectWithTimeout(n->at.host, n->at.port, c->timeout);
    if (!n->ctx || n->ctx->err) return context_error(n, "connect", errstr, errstr_size);
    n->ctx->reader->maxelements = CDC_RD_REPLY_MAX_ELEMENTS;
    redisSetTimeout(n->ctx, c->timeout);
    if (c->ssl && redisInitiateSSLWithContext(n->ctx, c->ssl) != REDIS_OK) {
        /* A certificate the CA does not vouch for will not change by
         * retrying; a handshake cut short might. */
        bool verify = strstr(n->ctx->errstr, "certificate") != NULL;
        cdc_sink_status_t st = context_error(n, "TLS handshake", errstr, errstr_size);
        return verify ? CDC_SINK_FATAL : st;
    }
    cdc_sink_status_t st = node_setup(c, n, errstr, errstr_size);
    if (st != CDC_SINK_OK) cdc_rd_conn_node_forget(n);
    return st;
}

/* ---------------------------------------------------------------------
 * The Cluster's slot map
 * ------------------------------------------------------------------- */

/* One CLUSTER SLOTS entry (rd_reply.c reads it) into the map. */
static bool slot_range(cdc_rd_conn_t *c, const redisReply *e,
                       const cdc_rd_node_t *asked)
{
    cdc_rd_slot_range_t range;
    if (cdc_rd_reply_slot_range(e, &range) != 0) return false;
    /* An empty host means "the node you asked". */
    const char *host = range.master.host[0] ? range.master.host : asked->at.host;
    cdc_rd_node_t *n = cdc_rd_conn_node_at(c, host, range.master.port);
    if (!n) return false;
    int i = node_index(c, n);
    for (int s = range.first; s <= range.last; s++) c->slot_node[s] = (int16_t)i;
    return true;
}

static cdc_sink_status_t refresh_from(cdc_rd_conn_t *c, cdc_rd_node_t *n,
                                      char *errstr, size_t errstr_size)
{
    cdc_sink_status_t st = cdc_rd_conn_node_connect(c, n, errstr, errstr_size);
    if (st != CDC_SINK_OK) return st;
    const char *argv[2] = {"CLUSTER", "SLOTS"};
    redisReply *r = NULL;
    if ((st = node_command(n, "CLUSTER SLOTS", &r, errstr, errstr_size, 2, argv)) != CDC_SINK_OK)
        return st;
    bool ok = r->type == REDIS_REPLY_ARRAY && r->elements > 0;
    if (ok) {
        for (size_t i = 0; i < CDC_RD_SLOTS; i++) c->slot_node[i] = -1;
        for (size_t i = 0; i < r->elements && ok; i++) ok = slot_range(c, r->element[i], n);
    }
    freeReplyObject(r);
    if (!ok)
        return cdc_errstr_set(errstr, errstr_size,
                              "redis %s:%d: CLUSTER SLOTS gave no usable slot map",
                              n->at.host, n->at.port),
               CDC_SINK_RETRY;
    c->mapped = true;
    return CDC_SINK_OK;
}

cdc_sink_status_t cdc_rd_conn_refresh(cdc_rd_conn_t *c, char *errstr,
                                      size_t errstr_size)
{
    cdc_sink_status_t st = CDC_SINK_RETRY;
    /* Any node will do: seeds first, then whatever the map knew. */
    for (size_t i = 0; i < c->nnodes; i++) {
        st = refresh_from(c, c->nodes[i], errstr, errstr_size);
        if (st != CDC_SINK_RETRY) return st;
    }
    return st;
}

void cdc_rd_conn_forget_map(cdc_rd_conn_t *c) { c->mapped = false; }

cdc_sink_status_t cdc_rd_conn_ready(cdc_rd_conn_t *c, char *errstr,
                                    size_t errstr_size)
{
    if (!c->cluster) return cdc_rd_conn_node_connect(c, c->nodes[0], errstr, errstr_size);
    /* The map is read once, then again only after a MOVED. */
    return c->mapped ? CDC_SINK_OK : cdc_rd_conn_refresh(c, errstr, errstr_size);
}

bool cdc_rd_conn_ping(cdc_rd_conn_t *c)
{
    char why[256];
    for (size_t i = 0; i < c->nnodes; i++) {
        cdc_rd_node_t *n = c->nodes[i];
        if (c->cluster && !n->ctx) continue;
        if (cdc_rd_conn_node_connect(c, n, why, sizeof why) != CDC_SINK_OK) return false;
        const char *argv[1] = {"PING"};
        redisReply *r = NULL;
        if (node_command(n, "PING", &r, why, sizeof why, 1, argv) != CDC_SINK_OK) return false;
        freeReplyObject(r);
    }
    return true;
}

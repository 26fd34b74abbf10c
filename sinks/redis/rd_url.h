/* rd_url — `connection.url` of the redis sink.
 *
 *   redis://[user:password@]host:port[,host:port...][/db]
 *   rediss://...                      (TLS)
 *
 * A password alone is `redis://:password@host:port`. User and password may
 * be percent-encoded. Several host:port are Cluster seed nodes. */
#ifndef CDC_RD_URL_H
#define CDC_RD_URL_H

#include <stdbool.h>
#include <stddef.h>

enum { CDC_RD_URL_MAX_NODES = 16 };

typedef struct cdc_rd_endpoint {
    char host[256];
    int port;
} cdc_rd_endpoint_t;

typedef struct cdc_rd_url {
    bool tls;
    char user[256];     /* "" for none (the default user) */
    char password[512]; /* "" for none */
    int db;
    cdc_rd_endpoint_t nodes[CDC_RD_URL_MAX_NODES];
    size_t nnodes;
} cdc_rd_url_t;

/* 0, or -1 with errstr (which never holds the password). */
int cdc_rd_url_parse(const char *text, cdc_rd_url_t *url, char *errstr,
                     size_t errstr_size);

#endif

#include "es_http.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <zlib.h>

#include "errstr.h"

#define NODE_REST_MS 30000
#define MAX_SLOTS 17 /* bulk.max.in.flight (16) + one */

typedef struct es_node {
    char *base;            /* scheme://host:port[/prefix], no userinfo */
    long long resting_until; /* monotonic ms; 0: usable */
} es_node_t;

typedef struct es_slot {
    CURL *easy;
    cdc_es_request_t *req;
    size_t node;
    int attempts;
    struct curl_slist *headers;
    unsigned char *gz; /* the compressed body, while in flight */
    size_t gz_len;
    char curl_error[CURL_ERROR_SIZE];
} es_slot_t;

struct cdc_es_http {
    es_node_t *nodes;
    size_t nnodes, next;
    char *nodes_shown;
    char *userpwd;      /* "user:password" or NULL */
    char *auth_header;  /* "Authorization: ApiKey …" or NULL */
    char *ca_location;
    bool verify, compression;
    long timeout_ms;
    CURLM *multi;
    es_slot_t slots[MAX_SLOTS];
    char product[64];
};

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------------
 * Nodes
 * ------------------------------------------------------------------- */

/* "user:password" with its %XX escapes decoded (a '@' or ':' in a
 * password is written %40, %3A in a URL). */
static char *userinfo_decode(const char *text, size_t len)
{
    char *out = malloc(len + 1);
    if (!out) return NULL;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned hi, lo;
        if (text[i] == '%' && i + 2 < len && sscanf(text + i + 1, "%1x%1x", &hi, &lo) == 2) {
            out[n++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            out[n++] = text[i];
        }
    }
    out[n] = '\0';
    return out;
}

/* Splits one URL into its base (without userinfo) and, when it has one,
 * its "user:password". */
static int node_parse(const char *url, size_t len, char **base, char **userinfo)
{
    *base = *userinfo = NULL;
    while (len && (*url == ' ' || *url == '\t')) url++, len--;
    while (len && (url[len - 1] == ' ' || url[len - 1] == '/')) len--;
    const char *sep = NULL;
    for (size_t i = 0; i + 3 <= len && !sep; i++)
        if (memcmp(url + i, "://", 3) == 0) sep = url + i;
    if (!sep) return -1;
    size_t scheme_len = (size_t)(sep - url);
    if (!((scheme_len == 4 && strncmp(url, "http", 4) == 0) ||
          (scheme_len == 5 && strncmp(url, "https", 5) == 0)))
        return -1;
    /* The userinfo ends at the element's last '@' (as src/mask.c reads
     * it): a password with an unencoded '/' is never taken for a host. */
    const char *auth = sep + 3, *end = url + len, *at = NULL;
    for (const char *c = auth; c < end; c++)
        if (*c == '@') at = c;
    const char *host = at ? at + 1 : auth;
    if (host == end || *host == '/') return -1;
    size_t base_len = scheme_len + 3 + (size_t)(end - host);
    if (!(*base = malloc(base_len + 1))) return -1;
    snprintf(*base, base_len + 1, "%.*s://%.*s", (int)scheme_len, url,
             (int)(end - host), host);
    if (at && !(*userinfo = userinfo_decode(auth, (size_t)(at - auth)))) return -1;
    return 0;
}

static int nodes_parse(cdc_es_http_t *h, const char *urls, char **userinfo,
                       char *errstr, size_t errstr_size)
{
    size_t count = 1;
    for (const char *c = urls; *c; c++) count += *c == ',';
    if (!(h->nodes = calloc(count, sizeof *h->nodes))) goto oom;
    cdc_buf_t shown;
    cdc_buf_init(&shown);
    const char *p = urls;
    for (;;) {
        size_t len = strcspn(p, ",");
        char *info = NULL;
        es_node_t *n = &h->nodes[h->nnodes];
        if (node_parse(p, len, &n->base, &info) != 0) {
            free(n->base);
            free(info);
            cdc_buf_free(&shown);
            cdc_errstr_set(errstr, errstr_size,
                           "connection.url: node %zu is not an http:// or "
                           "https:// URL with a host", h->nnodes + 1);
            return -1;
        }
        if (info && !*userinfo) *userinfo = info;
        else free(info);
        if (h->nnodes) cdc_buf_putc(&shown, ',');
        cdc_buf_puts(&shown, n->base);
        h->nnodes++;
        if (!p[len]) break;
        p += len + 1;
    }
    if (shown.failed) {
        cdc_buf_free(&shown);
        goto oom;
    }
    h->nodes_shown = shown.data;
    return 0;
oom:
    cdc_errstr_set(errstr, errstr_size, "out of memory");
    return -1;
}

/* The next node that is not resting; when all rest, the one that rests
 * least (a request is never refused without trying). */
static size_t node_pick(cdc_es_http_t *h)
{
    long long now = mono_ms();
    size_t best = h->next % h->nnodes;
    for (size_t k = 0; k < h->nnodes; k++) {
        size_t i = (h->next + k) % h->nnodes;
        if (h->nodes[i].resting_until <= now) {
            h->next = i + 1;
            return i;
        }
        if (h->nodes[i].resting_until < h->nodes[best].resting_until) best = i;
    }
    h->next = best + 1;
    return best;
}

static bool another_node_up(const cdc_es_http_t *h, size_t failed)
{
    long long now = mono_ms();
    for (size_t i = 0; i < h->nnodes; i++)
        if (i != failed && h->nodes[i].resting_until <= now) return true;
    return false;
}

/* ---------------------------------------------------------------------
 * Set-up
 * ------------------------------------------------------------------- */

static bool set(const char *s) { return s && *s; }

cdc_es_http_t *cdc_es_http_new(const cdc_es_http_options_t *o, char *errstr,
                               size_t errstr_size)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        cdc_errstr_set(errstr, errstr_size, "curl_global_init failed");
        return NULL;
    }
    cdc_es_http_t *h = calloc(1, sizeof *h);
    char *userinfo = NULL;
    if (!h) goto oom;
    h->verify = o->verify;
    h->compression = o->compression;
    h->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 30000;
    if (nodes_parse(h, o->urls ? o->urls : "", &userinfo, errstr, errstr_size) != 0) {
        free(userinfo);
        cdc_es_http_free(h);
        return NULL;
    }
    if (set(o->username)) {
        size_t n = strlen(o->username) + strlen(o->password ? o->password : "") + 2;
        if (!(h->userpwd = malloc(n))) goto oom;
        snprintf(h->userpwd, n, "%s:%s", o->username, o->password ? o->password : "");
        free(userinfo);
    } else {
        h->userpwd = userinfo; /* from a URL, or NULL */
    }
    userinfo = NULL;
    if (set(o->api_key)) {
        size_t n = strlen(o->api_key) + 32;
        if (!(h->auth_header = malloc(n))) goto oom;
        snprintf(h->auth_header, n, "Authorization: ApiKey %s", o->api_key);
    }
    if (set(o->ca_location) && !(h->ca_location = strdup(o->ca_location))) goto oom;
    if (!(h->multi = curl_multi_init())) goto oom;
    return h;
oom:
    free(userinfo);
    cdc_es_http_free(h);
    cdc_errstr_set(errstr, errstr_size, "out of memory");
    return NULL;
}

static void slot_release(es_slot_t *s)
{
    curl_slist_free_all(s->headers);
    s->headers = NULL;
    free(s->gz);
    s->gz = NULL;
    s->req = NULL;
}

void cdc_es_http_free(cdc_es_http_t *h)
{
    if (!h) return;
    for (size_t i = 0; i < MAX_SLOTS; i++) {
        slot_release(&h->slots[i]);
        if (h->slots[i].easy) curl_easy_cleanup(h->slots[i].easy);
    }
    if (h->multi) curl_multi_cleanup(h->multi);
    for (size_t i = 0; i < h->nnodes; i++) free(h->nodes[i].base);
    free(h->nodes);
    free(h->nodes_shown);
    if (h->userpwd) {
        memset(h->userpwd, 0, strlen(h->userpwd));
        free(h->userpwd);
    }
    if (h->auth_header) {
        memset(h->auth_header, 0, strlen(h->auth_header));
        free(h->auth_header);
    }
    free(h->ca_location);
    free(h);
    curl_global_cleanup();
}

const char *cdc_es_http_nodes(const cdc_es_http_t *h) { return h->nodes_shown; }

const char *cdc_es_http_product(const cdc_es_http_t *h) { return h->product; }

void cdc_es_request_clear(cdc_es_request_t *req)
{
    cdc_buf_free(&req->response);
    req->status = 0;
    req->error[0] = '\0';
}

/* ---------------------------------------------------------------------
 * One transfer
 * ------------------------------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *opaque)
{
    cdc_buf_t *buf = opaque;
    cdc_buf_append(buf, data, size * nmemb);
    return buf->failed ? 0 : size * nmemb;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *opaque)
{
    cdc_es_http_t *h = opaque;
    size_t n = size * nmemb;
    static const char name[] = "x-elastic-product:";
    if (n > sizeof name - 1 && strncasecmp(data, name, sizeof name - 1) == 0) {
        const char *v = data + sizeof name - 1;
        size_t len = n - (sizeof name - 1);
        while (len && (*v == ' ')) v++, len--;
        while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' ')) len--;
        snprintf(h->product, sizeof h->product, "%.*s", (int)len, v);
    }
    return n;
}

static int gzip_body(const char *body, size_t len, unsigned char **out, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    /* 15 + 16: a gzip wrapper. Level 1: the bodies are repetitive JSON,
     * and the fast level keeps most of the gain at a fraction of the CPU. */
    if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return -1;
    size_t cap = deflateBound(&z, (uLong)len);
    unsigned char *buf = malloc(cap);
    if (!buf) {
        deflateEnd(&z);
        return -1;
    }
    z.next_in = (Bytef *)body;
    z.avail_in = (uInt)len;
    z.next_out = buf;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    *out_len = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(buf);
        return -1;
    }
    *out = buf;
    return 0;
}

/* Adds a header to the slot's list (freed by slot_release); false when
 * out of memory, the list left whole. */
static bool header_add(es_slot_t *s, const char *line)
{
    struct curl_slist *grown = curl_slist_append(s->headers, line);
    if (!grown) return false;
    s->headers = grown;
    return true;
}

static int slot_start(cdc_es_http_t *h, es_slot_t *s, cdc_es_request_t *req)
{
    if (!s->easy && !(s->easy = curl_easy_init())) return -1;
    CURL *c = s->easy;
    curl_easy_reset(c); /* keeps the connection and the TLS session */
    s->req = req;
    s->node = node_pick(h);
    s->curl_error[0] = '\0';
    cdc_buf_reset(&req->response);
    size_t url_len = strlen(h->nodes[s->node].base) + strlen(req->path) + 1;
    char *url = malloc(url_len);
    if (!url) return -1;
    snprintf(url, url_len, "%s%s", h->nodes[s->node].base, req->path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    free(url); /* libcurl keeps its own copy */
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    long timeout = req->timeout_ms > 0 ? req->timeout_ms : h->timeout_ms;
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout < 10000 ? timeout : 10000L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, s->curl_error);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &req->response);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
    curl_easy_setopt(c, CURLOPT_PRIVATE, s);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, h->verify ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, h->verify ? 2L : 0L);
    if (h->ca_location) curl_easy_setopt(c, CURLOPT_CAINFO, h->ca_location);
    if (h->userpwd) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERPWD, h->userpwd);
    }
    if (h->compression) curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    /* No "Expect: 100-continue" round trip before large bodies. */
    if (!header_add(s, "Expect:") || (h->auth_header && !header_add(s, h->auth_header)))
        return -1;
    if (req->body) {
        if (!header_add(s, req->ndjson ? "Content-Type: application/x-ndjson"
                                       : "Content-Type: application/json"))
            return -1;
        const void *body = req->body;
        size_t len = req->body_len;
        if (h->compression && len > 0) {
            if (gzip_body(req->body, len, &s->gz, &s->gz_len) != 0 ||
                !header_add(s, "Content-Encoding: gzip"))
                return -1;
            body = s->gz;
            len = s->gz_len;
        }
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        if (strcmp(req->method, "POST") != 0)
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
    } else if (strcmp(req->method, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (strcmp(req->method, "GET") != 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, s->headers);
    return curl_multi_add_handle(h->multi, c) == CURLM_OK ? 0 : -1;
}

/* A finished transfer: its status, or a transport error that rests the
 * node and, when another node is up, sends the request again there.
 * Returns true when the request is done. */
static bool slot_finish(cdc_es_http_t *h, es_slot_t *s, CURLcode rc)
{
    cdc_es_request_t *req = s->req;
    curl_multi_remove_handle(h->multi, s->easy);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &req->status);
        req->error[0] = '\0';
        return true;
    }
    req->status = 0;
    req->fatal = rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
                 rc == CURLE_SSL_CERTPROBLEM;
    cdc_errstr_set(req->error, sizeof req->error, "%s: %s", h->nodes[s->node].base,
                   s->curl_error[0] ? s->curl_error : curl_easy_strerror(rc));
    if (req->response.failed)
        snprintf(req->error, sizeof req->error, "out of memory reading the answer");
    h->nodes[s->node].resting_until = mono_ms() + NODE_REST_MS;
    return req->fatal || !(++s->attempts < 2 && another_node_up(h, s->node));
}

int cdc_es_http_run(cdc_es_http_t *h, cdc_es_request_t *reqs, size_t n,
                    int max_in_flight)
{
    if (max_in_flight < 1) max_in_flight = 1;
    if (max_in_flight > MAX_SLOTS) max_in_flight = MAX_SLOTS;
    size_t next = 0, done = 0;
    int failed = 0, running = 0;
    for (size_t i = 0; i < n; i++) {
        reqs[i].status = 0;
        reqs[i].error[0] = '\0';
        reqs[i].fatal = false;
    }
    while (done < n) {
        for (int k = 0; k < max_in_flight && next < n; k++) {
            es_slot_t *s = &h->slots[k];
            if (s->req) continue;
            s->attempts = 0;
            if (slot_start(h, s, &reqs[next]) != 0) {
                snprintf(reqs[next].error, sizeof reqs[next].error,
                         "could not start a request (out of memory)");
                slot_release(s);
                failed = 1;
                done++;
            }
            next++;
        }
        curl_multi_perform(h->multi, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(h->multi, &left))) {
            if (msg->msg != CURLMSG_DONE) continue;
            es_slot_t *s = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
            CURLcode rc = msg->data.result;
            cdc_es_request_t *req = s->req;
            if (slot_finish(h, s, rc)) {
                if (req->status == 0) failed = 1;
                slot_release(s);
                done++;
            } else {
                curl_slist_free_all(s->headers);
                s->headers = NULL;
                free(s->gz);
                s->gz = NULL;
                if (slot_start(h, s, req) != 0) {
                    slot_release(s);
                    failed = 1;
                    done++;
                }
            }
        }
        if (done < n) curl_multi_poll(h->multi, NULL, 0, 100, NULL);
    }
    return failed ? -1 : 0;
}

int cdc_es_http_one(cdc_es_http_t *h, cdc_es_request_t *req)
{
    h->product[0] = '\0';
    return cdc_es_http_run(h, req, 1, 1);
}

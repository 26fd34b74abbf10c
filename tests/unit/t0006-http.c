/* t0006-http — the HTTP server and the health endpoints, over real
 * loopback sockets: /metrics, /healthz, /readyz and unknown paths; 400,
 * 405, 431 and 408 for what is not a good GET, the server answering the
 * next client after each; /healthz going 503 when the loop stops beating;
 * bind errors in errstr; stop never waiting for a silent client. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "health.h"
#include "http.h"
#include "metrics.h"
#include "unit.h"

static int port;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int connect_server(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Sends req as raw bytes and reads the whole response (the server closes).
 * Returns a malloc'd NUL-terminated string, "" when nothing came. */
static char *exchange(const char *req, size_t req_len)
{
    int fd = connect_server();
    CHECK(fd >= 0);
    if (fd < 0) return strdup("");
    for (size_t off = 0; off < req_len;) {
        ssize_t n = send(fd, req + off, req_len - off, MSG_NOSIGNAL);
        if (n <= 0) break;
        off += (size_t)n;
    }
    size_t cap = 65536, len = 0;
    char *resp = malloc(cap);
    for (;;) {
        if (len + 1 == cap) resp = realloc(resp, cap *= 2);
        ssize_t n = recv(fd, resp + len, cap - len - 1, 0);
        if (n <= 0) break;
        len += (size_t)n;
    }
    resp[len] = '\0';
    close(fd);
    return resp;
}

static char *get(const char *path)
{
    char req[256];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: test\r\n\r\n", path);
    return exchange(req, strlen(req));
}

static const char *body_of(const char *resp)
{
    const char *b = strstr(resp, "\r\n\r\n");
    return b ? b + 4 : "";
}

static bool starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Checks the status line and body of GET path (body NULL: not checked). */
static void expect_get(const char *path, const char *status_line,
                       const char *body)
{
    char *resp = get(path);
    if (!starts(resp, status_line))
        fprintf(stderr, "GET %s answered:\n%s\n", path, resp);
    CHECK(starts(resp, status_line));
    CHECK(strstr(resp, "\r\nConnection: close\r\n") != NULL);
    if (body) CHECK_STR(body_of(resp), body);
    free(resp);
}

static cdc_health_endpoints_t ep;

/* The health handler plus a path whose handler fails. */
static int handler(const char *path, char **body, size_t *len,
                   const char **content_type, void *opaque)
{
    if (strcmp(path, "/boom") == 0) return -1;
    return cdc_health_http_handler(path, body, len, content_type, opaque);
}

static void test_endpoints(cdc_health_t *h)
{
    cdc_health_heartbeat(h);
    cdc_health_set_assigned(h, 2);
    cdc_health_set_sink_ok(h, true);
    expect_get("/healthz", "HTTP/1.1 200 OK\r\n", "ok\n");
    expect_get("/readyz", "HTTP/1.1 200 OK\r\n", "ready\n");
    expect_get("/nope", "HTTP/1.1 404 Not Found\r\n", NULL);
    expect_get("/boom", "HTTP/1.1 500 Internal Server Error\r\n", NULL);

    char *resp = get("/metrics?debug=1");
    CHECK(starts(resp, "HTTP/1.1 200 OK\r\n"));
    CHECK(strstr(resp, "\r\nContent-Type: text/plain; version=0.0.4; "
                       "charset=utf-8\r\n") != NULL);
    char want[128];
    snprintf(want, sizeof want, "\r\nContent-Length: %zu\r\n",
             strlen(body_of(resp)));
    CHECK(strstr(resp, want) != NULL);
    CHECK(strstr(resp, "\ncdcsink_up{pipeline=\"orders\",sink=\"jsonl\"} 1\n"));
    CHECK(strstr(resp, "\ncdcsink_records_consumed_total{pipeline=\"orders\","
                       "sink=\"jsonl\",topic=\"t\",partition=\"0\"} 3\n"));
    CHECK(strstr(resp, "\ncdcsink_ready{pipeline=\"orders\",sink=\"jsonl\"} "
                       "1\n"));
    free(resp);

    /* Not ready: each reason on the one line; the gauge follows. */
    cdc_health_set_sink_ok(h, false);
    expect_get("/readyz", "HTTP/1.1 503 Service Unavailable\r\n",
               "sink unreachable\n");
    cdc_health_set_assigned(h, 0);
    expect_get("/readyz", "HTTP/1.1 503 Service Unavailable\r\n",
               "no partitions assigned; sink unreachable\n");
    cdc_health_set_sink_ok(h, true);
    expect_get("/readyz", "HTTP/1.1 503 Service Unavailable\r\n",
               "no partitions assigned\n");
    resp = get("/metrics");
    CHECK(strstr(resp, "\ncdcsink_ready{pipeline=\"orders\",sink=\"jsonl\"} "
                       "0\n"));
    free(resp);
    cdc_health_set_assigned(h, 1);
    expect_get("/readyz", "HTTP/1.1 200 OK\r\n", "ready\n");
}

static void expect_raw(const char *req, size_t len, const char *status_line)
{
    char *resp = exchange(req, len);
    if (!starts(resp, status_line))
        fprintf(stderr, "request %.40s answered:\n%s\n", req, resp);
    CHECK(starts(resp, status_line));
    free(resp);
}

static void test_bad_requests(void)
{
    const char *bad400 = "HTTP/1.1 400 Bad Request\r\n";
    expect_raw("hello\r\n\r\n", 9, bad400);
    expect_raw("GET /healthz HTTP/2.0\r\n\r\n", 25, bad400);
    expect_raw("GET healthz HTTP/1.1\r\n\r\n", 24, bad400);
    expect_raw("GET /a b HTTP/1.1\r\n\r\n", 21, bad400);
    expect_raw("GET /healthz HTTP/1.1\r\nno colon here\r\n\r\n", 40, bad400);
    expect_raw("GET /\0 HTTP/1.1\r\n\r\n", 19, bad400);
    expect_raw("POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 45,
               "HTTP/1.1 405 Method Not Allowed\r\n");
    char *resp = exchange("HEAD /metrics HTTP/1.1\r\n\r\n", 26);
    CHECK(starts(resp, "HTTP/1.1 405 "));
    CHECK(strstr(resp, "\r\nAllow: GET\r\n") != NULL);
    free(resp);
    /* HTTP/1.0 and bare-LF line ends are still HTTP. */
    expect_raw("GET /nope HTTP/1.0\r\n\r\n", 22, "HTTP/1.1 404 ");
    expect_raw("GET /nope HTTP/1.1\n\n", 20, "HTTP/1.1 404 ");
}

/* A 20 KiB header is refused whole, and the server goes on. */
static void test_oversized_head(void)
{
    size_t big = 20 * 1024;
    char *req = malloc(big + 64);
    int n = snprintf(req, 64, "GET /healthz HTTP/1.1\r\nX-Big: ");
    memset(req + n, 'a', big);
    memcpy(req + n + big, "\r\n\r\n", 4);
    expect_raw(req, (size_t)n + big + 4,
               "HTTP/1.1 431 Request Header Fields Too Large\r\n");
    free(req);
    expect_get("/nope", "HTTP/1.1 404 Not Found\r\n", NULL);
}

/* A client that connects and says nothing gets 408 after the head
 * timeout; a client behind it is answered right after. */
static void test_silent_client(void)
{
    int silent = connect_server();
    CHECK(silent >= 0);
    int64_t t0 = mono_ms();
    expect_get("/nope", "HTTP/1.1 404 Not Found\r\n", NULL);
    int64_t waited = mono_ms() - t0;
    CHECK(waited < CDC_HTTP_HEAD_TIMEOUT_MS + 2000);
    char buf[256] = "";
    ssize_t got = recv(silent, buf, sizeof buf - 1, 0);
    CHECK(got > 0 && starts(buf, "HTTP/1.1 408 Request Timeout\r\n"));
    close(silent);
}

static void test_stale_heartbeat(cdc_health_t *h)
{
    cdc_health_heartbeat(h);
    expect_get("/healthz", "HTTP/1.1 200 OK\r\n", "ok\n");
    usleep(600 * 1000); /* staleness is 500 ms */
    char *resp = get("/healthz");
    CHECK(starts(resp, "HTTP/1.1 503 Service Unavailable\r\n"));
    CHECK(starts(body_of(resp), "stalled: last loop heartbeat 0."));
    CHECK(strstr(body_of(resp), " s ago (limit 0.5 s)\n") != NULL);
    free(resp);
    expect_get("/readyz", "HTTP/1.1 503 Service Unavailable\r\n",
               "loop stalled\n");
    cdc_health_heartbeat(h);
    expect_get("/healthz", "HTTP/1.1 200 OK\r\n", "ok\n");
}

static void test_bind_errors(void)
{
    char listen[64], errstr[256] = "";
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    cdc_http_t *again = cdc_http_start(listen, handler, &ep, errstr,
                                       sizeof errstr);
    CHECK(again == NULL);
    char want[128];
    snprintf(want, sizeof want, "http.listen 127.0.0.1:%d: Address already "
             "in use", port);
    CHECK_STR(errstr, want);
    cdc_http_stop(again);

    errstr[0] = '\0';
    CHECK(cdc_http_start("nonsense", handler, &ep, errstr, sizeof errstr) ==
          NULL);
    CHECK_STR(errstr, "http.listen nonsense: not HOST:PORT");
}

/* stop joins promptly even with a client connected that never speaks. */
static void test_stop_with_silent_client(cdc_http_t *srv)
{
    int silent = connect_server();
    usleep(100 * 1000); /* let the server accept it */
    int64_t t0 = mono_ms();
    cdc_http_stop(srv);
    CHECK(mono_ms() - t0 < 1000);
    if (silent >= 0) close(silent);
}

int main(void)
{
    cdc_metrics_t *m = cdc_metrics_new("orders", "jsonl");
    cdc_health_t *h = cdc_health_new(500);
    cdc_metrics_add(m, CDC_METRIC_CONSUMED, "t", 0, NULL, 3);
    ep = (cdc_health_endpoints_t){.metrics = m, .health = h};

    char errstr[256] = "";
    cdc_http_t *srv = cdc_http_start("127.0.0.1:0", handler, &ep, errstr,
                                     sizeof errstr);
    if (!srv) fprintf(stderr, "start: %s\n", errstr);
    CHECK(srv != NULL);
    if (srv) {
        port = cdc_http_port(srv);
        CHECK(port > 0);
        test_endpoints(h);
        test_bad_requests();
        test_oversized_head();
        test_silent_client();
        test_stale_heartbeat(h);
        test_bind_errors();
        test_stop_with_silent_client(srv);
    }
    cdc_health_destroy(h);
    cdc_metrics_destroy(m);
    return unit_finish("t0006-http");
}

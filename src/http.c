#include "http.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "errstr.h"
#include "log.h"
#include "thread.h"

/* A response that cannot be written this fast goes to a client that does
 * not read; give up on it. */
#define WRITE_TIMEOUT_MS 5000
/* After answering, how long to read and drop what the client still sends
 * (see lingering_close). */
#define LINGER_MS 500
#define LINGER_MAX 65536

struct cdc_http {
    int listen_fd;
    int wake[2]; /* self-pipe: stop writes, the thread's polls see it */
    int port;
    pthread_t thread;
    cdc_http_handler_t *handler;
    void *opaque;
};

enum { WAIT_READY = 1, WAIT_TIMEOUT = 0, WAIT_STOP = -1 };

/* Waits for events on fd until deadline (monotonic ms), watching the
 * self-pipe too so that stop never waits for a slow client. */
static int wait_fd(cdc_http_t *srv, int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - cdc_clock_mono_ms();
        if (left <= 0) return WAIT_TIMEOUT;
        struct pollfd pf[2] = {{.fd = fd, .events = events},
                               {.fd = srv->wake[0], .events = POLLIN}};
        int n = poll(pf, 2, (int)left);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 || pf[1].revents) return WAIT_STOP;
        if (n > 0) return WAIT_READY; /* incl. POLLHUP/POLLERR: recv says */
    }
}

static int set_flags(int fd, bool nonblock)
{
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) return -1;
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0) return -1;
    return nonblock ? fcntl(fd, F_SETFL, fl | O_NONBLOCK) : 0;
}

/* ---- responses ---- */

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    }
    return status < 400 ? "OK" : status < 500 ? "Client Error"
                                              : "Server Error";
}

static int send_all(cdc_http_t *srv, int fd, const char *p, size_t len,
                    int64_t deadline)
{
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (wait_fd(srv, fd, POLLOUT, deadline) != WAIT_READY) return -1;
        } else {
            return -1;
        }
    }
    return 0;
}

static void respond(cdc_http_t *srv, int fd, int status,
                    const char *content_type, const char *body, size_t len)
{
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\n"
                     "Content-Type: %s\r\n"
                     "Content-Length: %zu\r\n"
                     "%s"
                     "Connection: close\r\n\r\n",
                     status, reason(status),
                     content_type ? content_type : "text/plain; charset=utf-8",
                     len, status == 405 ? "Allow: GET\r\n" : "");
    int64_t deadline = cdc_clock_mono_ms() + WRITE_TIMEOUT_MS;
    if (n < 0 || (size_t)n >= sizeof head ||
        send_all(srv, fd, head, (size_t)n, deadline) != 0 ||
        send_all(srv, fd, body ? body : "", body ? len : 0, deadline) != 0)
        cdc_log_debug("http: client went away before the %d response was "
                      "written", status);
}

static void respond_text(cdc_http_t *srv, int fd, int status,
                         const char *text)
{
    respond(srv, fd, status, NULL, text, strlen(text));
}

/* Closing a socket with unread input makes the kernel send RST, which can
 * destroy the response before the client reads it (an oversized head is
 * exactly that case). So: end our side, then read and drop until the
 * client closes, briefly and boundedly. */
static void lingering_close(cdc_http_t *srv, int fd)
{
    shutdown(fd, SHUT_WR);
    int64_t deadline = cdc_clock_mono_ms() + LINGER_MS;
    size_t dropped = 0;
    char sink[4096];
    while (dropped < LINGER_MAX &&
           wait_fd(srv, fd, POLLIN, deadline) == WAIT_READY) {
        ssize_t n = recv(fd, sink, sizeof sink, 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n <= 0) break;
        dropped += (size_t)n;
    }
    close(fd);
}

/* ---- requests ---- */

enum { HEAD_OK, HEAD_CLOSED, HEAD_BAD, HEAD_TOO_BIG, HEAD_TIMEOUT, HEAD_STOP };

/* Reads until the blank line that ends the head; buf holds
 * CDC_HTTP_HEAD_MAX + 1 bytes and ends up NUL-terminated. */
static int read_head(cdc_http_t *srv, int fd, char *buf)
{
    int64_t deadline = cdc_clock_mono_ms() + CDC_HTTP_HEAD_TIMEOUT_MS;
    size_t n = 0;
    for (;;) {
        int w = wait_fd(srv, fd, POLLIN, deadline);
        if (w == WAIT_STOP) return HEAD_STOP;
        if (w == WAIT_TIMEOUT) return HEAD_TIMEOUT;
        ssize_t r = recv(fd, buf + n, CDC_HTTP_HEAD_MAX - n, 0);
        if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (r <= 0) return HEAD_CLOSED;
        /* No text protocol has NULs; refusing them keeps the string
         * functions below honest. */
        if (memchr(buf + n, '\0', (size_t)r)) return HEAD_BAD;
        n += (size_t)r;
        buf[n] = '\0';
        /* Bare LF line ends are tolerated, as RFC 9112 §2.2 allows. */
        if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n")) return HEAD_OK;
        if (n == CDC_HTTP_HEAD_MAX) return HEAD_TOO_BIG;
    }
}

static bool is_tchar(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* The header lines after the request line are only checked for shape: we
 * use none of them. */
int cdc_http_parse_head(char *head, char **method, char **target)
{
    char *eol = strchr(head, '\n');
    if (!eol) return -1;
    for (char *line = eol + 1; *line && *line != '\r' && *line != '\n';) {
        char *next = strchr(line, '\n');
        char *colon = strchr(line, ':');
        if (!next || !colon || colon > next || colon == line ||
            !is_tchar(*line))
            return -1;
        line = next + 1;
    }
    if (eol > head && eol[-1] == '\r') eol--;
    *eol = '\0';
    char *sp1 = strchr(head, ' ');
    char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    if (!sp1 || !sp2 || sp1 == head || strchr(sp2 + 1, ' ')) return -1;
    *sp1 = *sp2 = '\0';
    for (char *c = head; *c; c++)
        if (!is_tchar(*c)) return -1;
    for (char *c = sp1 + 1; *c; c++)
        if ((unsigned char)*c <= 0x20 || *c == 0x7f) return -1;
    if (sp1[1] != '/') return -1;
    if (strcmp(sp2 + 1, "HTTP/1.1") != 0 && strcmp(sp2 + 1, "HTTP/1.0") != 0)
        return -1;
    *method = head;
    *target = sp1 + 1;
    return 0;
}

static void dispatch(cdc_http_t *srv, int fd, char *target)
{
    target[strcspn(target, "?#")] = '\0';
    char *body = NULL;
    size_t len = 0;
    const char *type = NULL;
    int status = srv->handler(target, &body, &len, &type, srv->opaque);
    if (status < 100 || status > 599) {
        free(body);
        respond_text(srv, fd, 500, "internal error\n");
        return;
    }
    respond(srv, fd, status, type, body, body ? len : 0);
    free(body);
}

static void serve(cdc_http_t *srv, int fd)
{
    char head[CDC_HTTP_HEAD_MAX + 1];
    char *method, *target;
    switch (read_head(srv, fd, head)) {
    case HEAD_STOP:
    case HEAD_CLOSED: close(fd); return;
    case HEAD_BAD:
        respond_text(srv, fd, 400, "malformed request\n");
        break;
    case HEAD_TIMEOUT:
        respond_text(srv, fd, 408, "request head not received in time\n");
        break;
    case HEAD_TOO_BIG:
        respond_text(srv, fd, 431, "request head larger than 8 KiB\n");
        break;
    default:
        if (cdc_http_parse_head(head, &method, &target) != 0)
            respond_text(srv, fd, 400, "malformed request\n");
        else if (strcmp(method, "GET") != 0)
            respond_text(srv, fd, 405, "only GET is served\n");
        else
            dispatch(srv, fd, target);
    }
    lingering_close(srv, fd);
}

/* ---- the thread ---- */

static int accept_one(cdc_http_t *srv)
{
    int fd = accept(srv->listen_fd, NULL, NULL);
    if (fd >= 0) {
        if (set_flags(fd, true) == 0) serve(srv, fd);
        else close(fd);
        return 0;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
        errno == ECONNABORTED)
        return 0;
    /* Out of descriptors or memory: the listen socket stays readable, so
     * back off instead of spinning on it. */
    cdc_log_warn("http: accept failed: %s", strerror(errno));
    int64_t deadline = cdc_clock_mono_ms() + 100;
    return wait_fd(srv, srv->wake[0], POLLIN, deadline) == WAIT_STOP ? -1 : 0;
}

static void *http_thread(void *arg)
{
    cdc_http_t *srv = arg;
    for (;;) {
        struct pollfd pf[2] = {{.fd = srv->listen_fd, .events = POLLIN},
                               {.fd = srv->wake[0], .events = POLLIN}};
        int n = poll(pf, 2, -1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 || pf[1].revents) break;
        if ((pf[0].revents & POLLIN) && accept_one(srv) != 0) break;
    }
    return NULL;
}

/* ---- start and stop ---- */

/* "HOST:PORT" or "[V6]:PORT" into host (NULL for "" = every address) and
 * port; 0 or -1. */
static int split_listen(const char *listen, char *host, size_t host_size,
                        const char **port)
{
    const char *colon = strrchr(listen, ':');
    if (!colon || !colon[1]) return -1;
    const char *h = listen;
    size_t hlen = (size_t)(colon - listen);
    if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    }
    if (hlen >= host_size) return -1;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    *port = colon + 1;
    return 0;
}

static int bind_listen(const char *addr, int *out_fd, char *errstr,
                       size_t errstr_size)
{
    char host[256];
    const char *port;
    if (split_listen(addr, host, sizeof host, &port) != 0)
        return cdc_errstr_set(errstr, errstr_size,
                              "http.listen %s: not HOST:PORT", addr);
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    if (gai != 0)
        return cdc_errstr_set(errstr, errstr_size, "http.listen %s: %s",
                              addr, gai_strerror(gai));
    int err = 0, fd = -1;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        int one = 1;
        /* REUSEADDR: a restart must not fail on the last run's TIME_WAIT. */
        if (fd < 0 ||
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
            bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 16) < 0 ||
            set_flags(fd, true) < 0) {
            err = errno;
            if (fd >= 0) close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        return cdc_errstr_set(errstr, errstr_size, "http.listen %s: %s",
                              addr, strerror(err));
    *out_fd = fd;
    return 0;
}

static int bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) return -1;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return -1;
}

cdc_http_t *cdc_http_start(const char *listen, cdc_http_handler_t *handler,
                           void *opaque, char *errstr, size_t errstr_size)
{
    cdc_http_t *srv = calloc(1, sizeof *srv);
    if (!srv) {
        cdc_errstr_set(errstr, errstr_size, "http.listen %s: out of memory",
                       listen);
        return NULL;
    }
    srv->listen_fd = srv->wake[0] = srv->wake[1] = -1;
    srv->handler = handler;
    srv->opaque = opaque;
    if (bind_listen(listen, &srv->listen_fd, errstr, errstr_size) != 0)
        goto err;
    srv->port = bound_port(srv->listen_fd);
    if (pipe(srv->wake) < 0 || set_flags(srv->wake[0], true) < 0 ||
        set_flags(srv->wake[1], true) < 0) {
        cdc_errstr_set(errstr, errstr_size, "http.listen %s: pipe: %s",
                       listen, strerror(errno));
        goto err;
    }
    int rc = cdc_thread_start(&srv->thread, http_thread, srv);
    if (rc != 0) {
        cdc_errstr_set(errstr, errstr_size, "http.listen %s: thread: %s",
                       listen, strerror(rc));
        goto err;
    }
    return srv;
err:
    if (srv->listen_fd >= 0) close(srv->listen_fd);
    if (srv->wake[0] >= 0) close(srv->wake[0]);
    if (srv->wake[1] >= 0) close(srv->wake[1]);
    free(srv);
    return NULL;
}

int cdc_http_port(const cdc_http_t *srv)
{
    return srv ? srv->port : -1;
}

void cdc_http_stop(cdc_http_t *srv)
{
    if (!srv) return;
    ssize_t n;
    do n = write(srv->wake[1], "x", 1);
    while (n < 0 && errno == EINTR);
    pthread_join(srv->thread, NULL);
    close(srv->listen_fd);
    close(srv->wake[0]);
    close(srv->wake[1]);
    free(srv);
}

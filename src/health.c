#include "health.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

struct cdc_health {
    int stale_ms;
    _Atomic int64_t heartbeat_ms; /* monotonic: wall-clock jumps don't age it */
    _Atomic int assigned;
    _Atomic bool sink_ok;
};

cdc_health_t *cdc_health_new(int stale_ms)
{
    cdc_health_t *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    h->stale_ms = stale_ms > 0 ? stale_ms : CDC_HEALTH_STALE_MS_DEFAULT;
    atomic_init(&h->heartbeat_ms, cdc_clock_mono_ms());
    atomic_init(&h->assigned, 0);
    atomic_init(&h->sink_ok, false);
    return h;
}

void cdc_health_destroy(cdc_health_t *h)
{
    free(h);
}

void cdc_health_heartbeat(cdc_health_t *h)
{
    atomic_store_explicit(&h->heartbeat_ms, cdc_clock_mono_ms(),
                          memory_order_relaxed);
}

void cdc_health_set_assigned(cdc_health_t *h, int partitions)
{
    atomic_store_explicit(&h->assigned, partitions, memory_order_relaxed);
}

void cdc_health_set_sink_ok(cdc_health_t *h, bool ok)
{
    atomic_store_explicit(&h->sink_ok, ok, memory_order_relaxed);
}

/* Milliseconds since the last heartbeat. */
static int64_t heartbeat_age_ms(const cdc_health_t *h)
{
    return cdc_clock_mono_ms() - atomic_load_explicit(&h->heartbeat_ms,
                                                      memory_order_relaxed);
}

int cdc_health_live(const cdc_health_t *h, char *text, size_t text_size)
{
    int64_t age = heartbeat_age_ms(h);
    if (age < h->stale_ms) {
        snprintf(text, text_size, "ok");
        return 200;
    }
    snprintf(text, text_size,
             "stalled: last loop heartbeat %.1f s ago (limit %.1f s)",
             (double)age / 1000.0, (double)h->stale_ms / 1000.0);
    return 503;
}

int cdc_health_ready(const cdc_health_t *h, char *text, size_t text_size)
{
    const char *why[3];
    int n = 0;
    if (heartbeat_age_ms(h) >= h->stale_ms) why[n++] = "loop stalled";
    if (atomic_load_explicit(&h->assigned, memory_order_relaxed) <= 0)
        why[n++] = "no partitions assigned";
    if (!atomic_load_explicit(&h->sink_ok, memory_order_relaxed))
        why[n++] = "sink unreachable";
    if (n == 0) {
        snprintf(text, text_size, "ready");
        return 200;
    }
    snprintf(text, text_size, "%s%s%s%s%s", why[0], n > 1 ? "; " : "",
             n > 1 ? why[1] : "", n > 2 ? "; " : "", n > 2 ? why[2] : "");
    return 503;
}

/* body = text + "\n", malloc'd. */
static int text_body(int status, const char *text, char **body, size_t *len)
{
    size_t n = strlen(text);
    if (!(*body = malloc(n + 2))) return -1;
    memcpy(*body, text, n);
    (*body)[n] = '\n';
    (*body)[n + 1] = '\0';
    *len = n + 1;
    return status;
}

int cdc_health_http_handler(const char *path, char **body, size_t *len,
                            const char **content_type, void *opaque)
{
    cdc_health_endpoints_t *ep = opaque;
    char text[256];
    if (strcmp(path, "/healthz") == 0) {
        int status = cdc_health_live(ep->health, text, sizeof text);
        return text_body(status, text, body, len);
    }
    if (strcmp(path, "/readyz") == 0) {
        int status = cdc_health_ready(ep->health, text, sizeof text);
        return text_body(status, text, body, len);
    }
    if (strcmp(path, "/metrics") == 0 && ep->metrics) {
        int ready = cdc_health_ready(ep->health, text, sizeof text);
        cdc_metrics_set_ready(ep->metrics, ready == 200);
        if (cdc_metrics_render(ep->metrics, body, len) != 0) return -1;
        *content_type = CDC_METRICS_CONTENT_TYPE;
        return 200;
    }
    return text_body(404, "not found: try /metrics, /healthz or /readyz",
                     body, len);
}

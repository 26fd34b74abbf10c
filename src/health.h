/* health — what /healthz and /readyz answer.
 *
 * The pipeline thread writes (heartbeat every loop iteration, the number
 * of assigned partitions, whether the sink answers); the HTTP thread
 * reads. Everything is an atomic, so neither side ever waits on the other.
 *
 *   /healthz  liveness: 200 "ok" while the last heartbeat is younger than
 *             the staleness limit, else 503 with its age. A stuck loop is
 *             what a restart fixes; a down sink is not, so it is not here.
 *   /readyz   readiness: 200 when the loop is live, partitions are
 *             assigned and the sink is reachable, else 503 with the
 *             reasons on one line. */
#ifndef CDC_HEALTH_H
#define CDC_HEALTH_H

#include <stdbool.h>
#include <stddef.h>

#include "metrics.h"

#define CDC_HEALTH_STALE_MS_DEFAULT 30000

typedef struct cdc_health cdc_health_t;

/* stale_ms <= 0 means CDC_HEALTH_STALE_MS_DEFAULT. Starts with a heartbeat
 * (start-up counts as alive), no partitions and the sink not ok. NULL only
 * when out of memory. */
cdc_health_t *cdc_health_new(int stale_ms);
void cdc_health_destroy(cdc_health_t *h);

void cdc_health_heartbeat(cdc_health_t *h);
void cdc_health_set_assigned(cdc_health_t *h, int partitions);
void cdc_health_set_sink_ok(cdc_health_t *h, bool ok);

/* The verdicts as HTTP statuses (200 or 503); text gets the one-line body
 * without its newline. */
int cdc_health_live(const cdc_health_t *h, char *text, size_t text_size);
int cdc_health_ready(const cdc_health_t *h, char *text, size_t text_size);

/* What cdc_health_http_handler serves; both pointers stay owned by the
 * caller and must outlive the HTTP server. metrics may be NULL (then
 * /metrics is 404). */
typedef struct cdc_health_endpoints {
    cdc_metrics_t *metrics;
    cdc_health_t *health;
} cdc_health_endpoints_t;

/* A cdc_http_handler_t for /metrics, /healthz and /readyz; opaque is a
 * cdc_health_endpoints_t. Before rendering /metrics it sets
 * cdcsink_ready from the /readyz verdict, so the gauge and the probe
 * never disagree. */
int cdc_health_http_handler(const char *path, char **body, size_t *len,
                            const char **content_type, void *opaque);

#endif

/* observe — the pipeline's metrics, health and HTTP endpoints in one place.
 *
 * The pipeline reports what happens (a record's outcome, a retry, offsets
 * stored, partitions assigned or revoked) and calls tick() from its loop;
 * this module turns that into the metrics of monitoring/README.md, /healthz and
 * /readyz, served on `http.listen` unless it is "off". Consumer lag is the
 * consumer's own view: the high watermark librdkafka last saw minus the
 * offset the pipeline stored (seeded from the committed offset when a
 * partition is assigned). */
#ifndef CDC_OBSERVE_H
#define CDC_OBSERVE_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "event.h"
#include "metrics.h"

typedef struct cdc_observe cdc_observe_t;

cdc_observe_t *cdc_observe_new(const cdc_config_t *cfg, char *errstr,
                               size_t errstr_size);
void cdc_observe_destroy(cdc_observe_t *obs);

/* The bound HTTP port (0 when off): tests listen on port 0. */
int cdc_observe_http_port(const cdc_observe_t *obs);
/* The pipeline's metrics, for what reports from a thread of its own
 * (src/verify_loop.h). */
cdc_metrics_t *cdc_observe_metrics(cdc_observe_t *obs);

void cdc_observe_consumed(cdc_observe_t *obs, const char *topic,
                          int32_t partition);
/* A record's final outcome. op names the change (for applied); error_class
 * the DLQ class (for dead-lettered). */
void cdc_observe_applied(cdc_observe_t *obs, const cdc_event_t *event);
void cdc_observe_outcome(cdc_observe_t *obs, const char *topic,
                         int32_t partition, cdc_metric_t metric,
                         const char *label);
void cdc_observe_retry(cdc_observe_t *obs, const char *what);
/* A partition's offset commit failed (offset_commit_failures_total). */
void cdc_observe_commit_failed(cdc_observe_t *obs, const char *topic, int32_t partition);
void cdc_observe_batch(cdc_observe_t *obs, double seconds);
void cdc_observe_sink_ok(cdc_observe_t *obs, bool ok);
void cdc_observe_stored(cdc_observe_t *obs, const char *topic,
                        int32_t partition, int64_t next_offset);
void cdc_observe_assigned(cdc_observe_t *obs, rd_kafka_t *rk,
                          const rd_kafka_topic_partition_list_t *parts);
void cdc_observe_revoked(cdc_observe_t *obs,
                         const rd_kafka_topic_partition_list_t *parts);

/* From the loop: heartbeat, assignment count, lag gauges. */
void cdc_observe_tick(cdc_observe_t *obs, rd_kafka_t *rk, int assigned);

#endif

/* elasticsearch — the sink for Elasticsearch 8/9 and OpenSearch 2/3
 * (sinks/elasticsearch/README.md). */
#ifndef CDC_ELASTICSEARCH_H
#define CDC_ELASTICSEARCH_H

#include "sink.h"

extern const cdc_sink_ops_t cdc_elasticsearch_sink;

#endif

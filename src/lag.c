#include "lag.h"

#include <librdkafka/rdkafka.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "consumer.h"
#include "errstr.h"

static bool lag_topic_wanted(const cdc_config_t *cfg, const char *topic,
                             const regex_t *re)
{
    if (re) return regexec(re, topic, 0, NULL, 0) == 0;
    const char *list = cdc_config_settings(cfg)->topics;
    size_t n = strlen(topic);
    for (const char *p = list; p && *p;) {
        while (*p == ' ' || *p == ',') p++;
        const char *end = p;
        while (*end && *end != ',') end++;
        const char *last = end;
        while (last > p && last[-1] == ' ') last--;
        if ((size_t)(last - p) == n && strncmp(p, topic, n) == 0) return true;
        p = end;
    }
    return false;
}

/* Every partition of the pipeline's topics, from the cluster metadata. */
static rd_kafka_topic_partition_list_t *lag_partitions(
    rd_kafka_t *rk, const cdc_config_t *cfg, int timeout_ms, char *errstr,
    size_t errstr_size)
{
    const rd_kafka_metadata_t *md;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, NULL, &md, timeout_ms);
    if (err) {
        cdc_errstr_set(errstr, errstr_size, "kafka metadata: %s",
                       rd_kafka_err2str(err));
        return NULL;
    }
    regex_t re;
    const char *pattern = cdc_config_settings(cfg)->topics_regex;
    bool use_re = pattern && *pattern &&
                  regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) == 0;
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(8);
    for (int t = 0; t < md->topic_cnt; t++) {
        const rd_kafka_metadata_topic_t *mt = &md->topics[t];
        if (mt->err || !lag_topic_wanted(cfg, mt->topic, use_re ? &re : NULL))
            continue;
        for (int p = 0; p < mt->partition_cnt; p++)
            rd_kafka_topic_partition_list_add(parts, mt->topic,
                                              mt->partitions[p].id);
    }
    if (use_re) regfree(&re);
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_partition_list_sort(parts, NULL, NULL);
    return parts;
}

static void lag_group_state(rd_kafka_t *rk, const char *group, int timeout_ms,
                            cdc_lag_report_t *report)
{
    snprintf(report->group_state, sizeof report->group_state, "Unknown");
    report->members = -1;
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    const char *groups[] = {group};
    rd_kafka_DescribeConsumerGroups(rk, groups, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms);
    const rd_kafka_DescribeConsumerGroups_result_t *res =
        ev ? rd_kafka_event_DescribeConsumerGroups_result(ev) : NULL;
    size_t n = 0;
    const rd_kafka_ConsumerGroupDescription_t **descs =
        res ? rd_kafka_DescribeConsumerGroups_result_groups(res, &n) : NULL;
    if (n == 1 && !rd_kafka_ConsumerGroupDescription_error(descs[0])) {
        snprintf(report->group_state, sizeof report->group_state, "%s",
                 rd_kafka_consumer_group_state_name(
                     rd_kafka_ConsumerGroupDescription_state(descs[0])));
        report->members =
            (int)rd_kafka_ConsumerGroupDescription_member_count(descs[0]);
    }
    if (ev) rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
}

static void lag_fill(rd_kafka_t *rk, const rd_kafka_topic_partition_list_t *parts,
                     int timeout_ms, cdc_lag_report_t *report)
{
    report->partitions = calloc((size_t)parts->cnt + 1, sizeof *report->partitions);
    for (int i = 0; i < parts->cnt; i++) {
        const rd_kafka_topic_partition_t *tp = &parts->elems[i];
        cdc_lag_partition_t *lp = &report->partitions[report->count++];
        lp->topic = strdup(tp->topic);
        lp->partition = tp->partition;
        lp->committed = tp->offset >= 0 ? tp->offset : -1;
        lp->low = lp->end = 0;
        rd_kafka_query_watermark_offsets(rk, tp->topic, tp->partition,
                                         &lp->low, &lp->end, timeout_ms);
        lp->lag = lp->end - (lp->committed >= 0 ? lp->committed : lp->low);
        if (lp->lag < 0) lp->lag = 0;
        report->total += lp->lag;
    }
}

int cdc_lag_collect(const cdc_config_t *cfg, int timeout_ms,
                    cdc_lag_report_t *report, char *errstr,
                    size_t errstr_size)
{
    memset(report, 0, sizeof *report);
    rd_kafka_conf_t *conf = cdc_consumer_kafka_conf(cfg, errstr, errstr_size);
    if (!conf) return -1;
    char why[512];
    const char *group = cdc_config_settings(cfg)->group_id;
    if (rd_kafka_conf_set(conf, "group.id", group, why, sizeof why) !=
        RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        return cdc_errstr_set(errstr, errstr_size, "%s", why);
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        return cdc_errstr_set(errstr, errstr_size, "kafka: %s", why);
    }
    int rc = -1;
    rd_kafka_topic_partition_list_t *parts =
        lag_partitions(rk, cfg, timeout_ms, errstr, errstr_size);
    if (parts) {
        /* Never subscribed: reading committed offsets does not join. */
        rd_kafka_resp_err_t err = rd_kafka_committed(rk, parts, timeout_ms);
        if (err) {
            cdc_errstr_set(errstr, errstr_size, "committed offsets: %s",
                           rd_kafka_err2str(err));
        } else {
            lag_fill(rk, parts, timeout_ms, report);
            lag_group_state(rk, group, timeout_ms, report);
            rc = 0;
        }
        rd_kafka_topic_partition_list_destroy(parts);
    }
    rd_kafka_destroy(rk);
    return rc;
}

void cdc_lag_report_free(cdc_lag_report_t *report)
{
    for (size_t i = 0; i < report->count; i++) free(report->partitions[i].topic);
    free(report->partitions);
    memset(report, 0, sizeof *report);
}

void cdc_lag_print_text(const cdc_lag_report_t *report, FILE *out)
{
    fprintf(out, "%-40s %9s %12s %12s %10s\n", "TOPIC", "PARTITION",
            "COMMITTED", "END", "LAG");
    for (size_t i = 0; i < report->count; i++) {
        const cdc_lag_partition_t *p = &report->partitions[i];
        char committed[24];
        if (p->committed >= 0) snprintf(committed, sizeof committed, "%lld", (long long)p->committed);
        else snprintf(committed, sizeof committed, "-");
        fprintf(out, "%-40s %9d %12s %12lld %10lld\n", p->topic, p->partition,
                committed, (long long)p->end, (long long)p->lag);
    }
    fprintf(out, "total lag %lld; group %s, %d member(s)\n",
            (long long)report->total, report->group_state, report->members);
}

void cdc_lag_print_json(const cdc_lag_report_t *report, const char *group,
                        FILE *out)
{
    /* Topic and group names are restricted to [A-Za-z0-9._-] by Kafka. */
    fprintf(out, "{\"group\":\"%s\",\"state\":\"%s\",\"members\":%d,"
                 "\"total_lag\":%lld,\"partitions\":[",
            group, report->group_state, report->members,
            (long long)report->total);
    for (size_t i = 0; i < report->count; i++) {
        const cdc_lag_partition_t *p = &report->partitions[i];
        fprintf(out, "%s{\"topic\":\"%s\",\"partition\":%d,\"committed\":%lld,"
                     "\"end\":%lld,\"lag\":%lld}",
                i ? "," : "", p->topic, p->partition, (long long)p->committed,
                (long long)p->end, (long long)p->lag);
    }
    fputs("]}\n", out);
}

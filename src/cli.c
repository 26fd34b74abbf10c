#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "dlqread.h"
#include "inspect.h"
#include "lag.h"
#include "log.h"
#include "pipeline.h"
#include "replay.h"
#include "sink.h"
#include "verify.h"

#include <bson/bson.h>
#include <curl/curl.h>
#include <librdkafka/rdkafka.h>

typedef struct cli_command {
    const char *name;
    const char *summary;
    const char *usage;
    int (*run)(int argc, char **argv, volatile sig_atomic_t *stop);
} cli_command_t;

static int cmd_run(int argc, char **argv, volatile sig_atomic_t *stop);
static int cmd_check(int argc, char **argv, volatile sig_atomic_t *stop);
static int cmd_version(int argc, char **argv, volatile sig_atomic_t *stop);
static int cmd_help(int argc, char **argv, volatile sig_atomic_t *stop);
static int cmd_lag(int argc, char **argv, volatile sig_atomic_t *stop);
static int cmd_verify(int argc, char **argv, volatile sig_atomic_t *stop);
static int cmd_migrate(int argc, char **argv, volatile sig_atomic_t *stop);
static int cmd_dlq(int argc, char **argv, volatile sig_atomic_t *stop);
static int cmd_dlq_inspect(int argc, char **argv, volatile sig_atomic_t *stop);
static int cmd_dlq_replay(int argc, char **argv, volatile sig_atomic_t *stop);

#define DLQ_TIME_HELP                                                         \
    "TIME is ISO-8601 UTC (2026-11-22T02:10:00Z) or an age: 30s, 15m, 2h,\n" \
    "1d. Times compare with the record's cdcsink.failed.at header.\n"

#define DLQ_INSPECT_USAGE                                                     \
    "cdcsink dlq inspect -c FILE [--limit N] [--since TIME] [--until TIME]\n"  \
    "                    [--class CLASS]\n"
#define DLQ_REPLAY_USAGE                                                      \
    "cdcsink dlq replay -c FILE [--dry-run] [--class CLASS] [--since TIME]\n"  \
    "                   [--until TIME] [--topic T [--partition P\n"            \
    "                   [--offsets A-B]]]\n"

/* Subcommands of `dlq`; docs/dlq.md is the runbook. */
static const cli_command_t dlq_commands[] = {
    {"inspect", "print the DLQ's records as JSON lines",
     DLQ_INSPECT_USAGE
     "\n"
     "Prints the records of the pipeline's DLQ topic\n"
     "(errors.deadletterqueue.topic.name) as JSON lines: where each sits in\n"
     "the DLQ, every error header, the source topic/partition/offset, and\n"
     "the change decoded as far as it decodes -- or the decode error and\n"
     "the raw key/value in base64. Reads each partition from its start to\n"
     "its end as of now without joining a consumer group: commits nothing.\n"
     "\n"
     "  --limit N      print at most N records\n"
     "  --since TIME   only records that failed at or after TIME\n"
     "  --until TIME   only records that failed at or before TIME\n"
     "  --class CLASS  only records of this error class: data or schema\n"
     "\n" DLQ_TIME_HELP
     "Exit 0; 1 when the broker cannot be reached; 2 on bad usage or config.\n",
     cmd_dlq_inspect},
    {"replay", "apply the DLQ's records again through the sink",
     DLQ_REPLAY_USAGE
     "\n"
     "Feeds the selected DLQ records back through decode and the sink, with\n"
     "their original topic/partition/offset. Safe by construction: the\n"
     "position guard makes an old change stale, never a regression. Reads\n"
     "as group <group.id>.dlq-replay up to the end of the DLQ as of now and\n"
     "commits as it goes, so an interrupted replay resumes where it stopped\n"
     "and the next replay starts after this one. Records not selected are\n"
     "skipped AND committed past. A record that fails again goes back to the\n"
     "DLQ with cdcsink.replay.attempts incremented. Outages are retried\n"
     "with the pipeline's backoff, never dead-lettered.\n"
     "\n"
     "  --dry-run      decode and print one line per record; write nothing,\n"
     "                 produce nothing, commit nothing\n"
     "  --class CLASS  only records of this error class: data or schema\n"
     "  --since TIME   only records that failed at or after TIME\n"
     "  --until TIME   only records that failed at or before TIME\n"
     "  --topic T      only records from source topic T\n"
     "  --partition P  ... and its partition P\n"
     "  --offsets A-B  ... and source offsets A to B (inclusive; or one: A)\n"
     "\n" DLQ_TIME_HELP
     "Ends with: replay: applied=N stale=N failed_again=N skipped_by_filter=N\n"
     "Exit 0 when nothing failed again; 1 when something did, on a fatal\n"
     "error, an unreachable broker or an interrupt; 2 on bad usage or config.\n",
     cmd_dlq_replay},
};

static const cli_command_t commands[] = {
    {"run", "consume the pipeline's topics and apply them to its sink",
     "cdcsink run -c FILE\n\n"
     "Runs the pipeline described by FILE until SIGTERM or SIGINT: stops\n"
     "fetching, finishes the batch, commits, leaves the group, exits 0.\n"
     "A second signal exits at once. Exit 1 on a fatal error (bad\n"
     "credentials, missing table, retries exhausted), 2 on a bad config.\n",
     cmd_run},
    {"check", "validate a pipeline file and print the effective config",
     "cdcsink check -c FILE\n\n"
     "Validates FILE without connecting to anything and prints every key\n"
     "with its effective value (defaults included), secrets masked.\n"
     "Exit 0 when valid, 2 with file:line: message otherwise.\n",
     cmd_check},
    {"lag", "show the consumer group's lag per partition (Nagios exit codes)",
     "cdcsink lag -c FILE [--warn N] [--crit N] [--json]\n\n"
     "Reads the group's committed offsets and the end offsets from the\n"
     "broker, without joining the group: works with the pipeline stopped.\n"
     "Exit codes follow Nagios: 0 OK, 1 total lag >= --warn, 2 total lag\n"
     ">= --crit, 3 UNKNOWN (broker unreachable, bad usage or config).\n",
     cmd_lag},
    {"verify", "prove the sink equals the source, table by table",
     "cdcsink verify -c FILE [--table T] [--sample N|--full] [--settle MS]\n"
     "               [--wait MS] [--keys N] [--json] [--repair]\n\n"
     "Compares every source table behind the pipeline's topics (Debezium's\n"
     "prefix.schema.table; --table SCHEMA.TABLE or TABLE picks one) with\n"
     "what the sink holds, reading the source at source.connection.url at\n"
     "most verify.rate.limit.rows rows a second. --full (the default) reads\n"
     "every row; --sample N compares N keys picked at random on each side\n"
     "of each table. A key that differs is read again for --settle MS\n"
     "(default 5000) and until Debezium has published what the source had\n"
     "committed when the tables were read (at most --wait MS, default\n"
     "60000); one that converges, keeps changing at the source, or has a\n"
     "change in Kafka the pipeline has not committed yet is in flight, not\n"
     "divergent. A table whose differences Debezium may still hold is not\n"
     "checked. Prints per table the rows compared, missing, extra, different\n"
     "and in flight, and the first --keys N (default 10) divergent keys.\n"
     "--repair writes each divergent key from the source's current row\n"
     "through the sink's guarded path (never over anything newer) and says\n"
     "what it changed. Exit 0 equal (or all repaired), 1 divergent, 2 bad\n"
     "usage or config, 3 could not check (a store or the broker unreachable,\n"
     "a table that cannot be read).\n",
     cmd_verify},
    {"migrate", "apply cdcsink's own migrations to a PostgreSQL target",
     "cdcsink migrate -c FILE\n\n"
     "Creates or upgrades cdcsink's tables (schema cdcsink: the tombstone\n"
     "ledger) in the database of connection.url, under an advisory lock so\n"
     "that concurrent replicas do not race. `run` does the same first when\n"
     "auto.migrate=true (the default). Exit 0, 1 on failure, 2 on a bad\n"
     "config or a sink other than postgres.\n",
     cmd_migrate},
    {"dlq", "inspect or replay the dead-letter queue",
     DLQ_INSPECT_USAGE DLQ_REPLAY_USAGE
     "\n"
     "inspect prints the DLQ's records with their error headers and the\n"
     "change they carry; replay applies them again once the cause is fixed.\n"
     "'cdcsink dlq inspect --help' and 'cdcsink dlq replay --help' tell more.\n",
     cmd_dlq},
    {"version", "print the version and the libraries it runs on",
     "cdcsink version\n", cmd_version},
    {"help", "show help for a command", "cdcsink help [COMMAND [SUBCOMMAND]]\n", cmd_help},
};

static const cli_command_t *cli_find(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0) return &commands[i];
    return NULL;
}

static void cli_usage(FILE *out)
{
    fputs("usage: cdcsink COMMAND [options]\n\ncommands:\n", out);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fputs("\n'cdcsink help COMMAND' or 'cdcsink COMMAND --help' tells more.\n"
          "Exit codes: 0 ok, 1 runtime failure, 2 usage or config error.\n",
          out);
}

/* Parses "-c FILE" / "--config FILE" / "--help"; returns -1 on misuse,
 * 1 when help was printed. */
static int cli_config_option(const cli_command_t *cmd, int argc, char **argv,
                             const char **path)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    opterr = 0;
    int ch;
    *path = NULL;
    while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        if (ch == 'c') *path = optarg;
        else if (ch == 'h') {
            fputs(cmd->usage, stdout);
            return 1;
        } else {
            fprintf(stderr, "cdcsink %s: unknown option '%s'\n\n%s", cmd->name,
                    argv[optind - 1], cmd->usage);
            return -1;
        }
    }
    if (!*path || optind < argc) {
        fprintf(stderr, "cdcsink %s: %s\n\n%s", cmd->name,
                *path ? "unexpected argument" : "-c FILE is required",
                cmd->usage);
        return -1;
    }
    return 0;
}

static cdc_config_t *cli_load(const cli_command_t *cmd, int argc, char **argv,
                              int *code)
{
    const char *path;
    int rc = cli_config_option(cmd, argc, argv, &path);
    if (rc != 0) {
        *code = rc > 0 ? CDC_EXIT_OK : CDC_EXIT_USAGE;
        return NULL;
    }
    char errstr[1024];
    cdc_config_t *cfg = cdc_config_load(path, cdc_sink_catalog(), errstr,
                                       sizeof errstr);
    if (!cfg) {
        fprintf(stderr, "cdcsink: %s\n", errstr);
        *code = CDC_EXIT_USAGE;
    }
    return cfg;
}

static int cmd_check(int argc, char **argv, volatile sig_atomic_t *stop)
{
    (void)stop;
    int code;
    cdc_config_t *cfg = cli_load(cli_find("check"), argc, argv, &code);
    if (!cfg) return code;
    cdc_config_print(cfg, stdout);
    cdc_config_destroy(cfg);
    return CDC_EXIT_OK;
}

static void cli_setup_log(const cdc_config_t *cfg)
{
    const cdc_settings_t *set = cdc_config_settings(cfg);
    cdc_log_level_t level = CDC_LOG_INFO;
    cdc_log_level_parse(set->log_level, &level);
    cdc_log_format_t format = strcmp(set->log_format, "json") == 0
                                  ? CDC_LOG_FORMAT_JSON
                                  : CDC_LOG_FORMAT_LOGFMT;
    cdc_log_setup(level, format, set->name);
}

static int cmd_run(int argc, char **argv, volatile sig_atomic_t *stop)
{
    int code;
    cdc_config_t *cfg = cli_load(cli_find("run"), argc, argv, &code);
    if (!cfg) return code;
    cli_setup_log(cfg);
    char errstr[1024];
    cdc_pipeline_t *p = cdc_pipeline_new(cfg, errstr, sizeof errstr);
    if (!p) {
        cdc_log_error("cannot start: %s", errstr);
        cdc_config_destroy(cfg);
        return CDC_EXIT_FAILURE;
    }
    cdc_pipeline_exit_t r = cdc_pipeline_run(p, stop, errstr, sizeof errstr);
    if (r == CDC_PIPELINE_FATAL) cdc_log_error("fatal: %s", errstr);
    const cdc_pipeline_stats_t *s = cdc_pipeline_stats(p);
    cdc_log_info("stopping: consumed=%llu applied=%llu stale=%llu skipped=%llu "
                 "dlq=%llu retries=%llu latency_p50_ms=%lld latency_p99_ms=%lld "
                 "latency_p999_ms=%lld source_latency_p50_ms=%lld "
                 "source_latency_p99_ms=%lld source_latency_p999_ms=%lld "
                 "commit_failures=%llu",
                 (unsigned long long)s->consumed, (unsigned long long)s->applied,
                 (unsigned long long)s->stale, (unsigned long long)s->skipped,
                 (unsigned long long)s->dlq, (unsigned long long)s->retries,
                 (long long)s->latency_p50_ms, (long long)s->latency_p99_ms,
                 (long long)s->latency_p999_ms, (long long)s->source_latency_p50_ms,
                 (long long)s->source_latency_p99_ms, (long long)s->source_latency_p999_ms,
                 (unsigned long long)s->commit_failures);
    cdc_pipeline_destroy(p);
    cdc_log_info("stopped");
    cdc_config_destroy(cfg);
    return r == CDC_PIPELINE_FATAL ? CDC_EXIT_FAILURE : CDC_EXIT_OK;
}

/* Nagios: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. */
enum { LAG_OK = 0, LAG_WARN = 1, LAG_CRIT = 2, LAG_UNKNOWN = 3 };

static int lag_parse_args(int argc, char **argv, const char **path,
                          long long *warn, long long *crit, int *json)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"warn", required_argument, NULL, 'w'},
        {"crit", required_argument, NULL, 'C'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const cli_command_t *cmd = cli_find("lag");
    optind = 1;
    opterr = 0;
    int ch;
    char *end;
    while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c': *path = optarg; break;
        case 'w':
        case 'C':
            *(ch == 'w' ? warn : crit) = strtoll(optarg, &end, 10);
            if (*end || *optarg == '\0') {
                fprintf(stderr, "cdcsink lag: '%s' is not a number\n", optarg);
                return -1;
            }
            break;
        case 'j': *json = 1; break;
        case 'h': fputs(cmd->usage, stdout); return 1;
        default:
            fprintf(stderr, "cdcsink lag: unknown option '%s'\n\n%s",
                    argv[optind - 1], cmd->usage);
            return -1;
        }
    }
    if (!*path) {
        fprintf(stderr, "cdcsink lag: -c FILE is required\n\n%s", cmd->usage);
        return -1;
    }
    return 0;
}

static int cmd_lag(int argc, char **argv, volatile sig_atomic_t *stop)
{
    (void)stop;
    const char *path = NULL;
    long long warn = -1, crit = -1;
    int json = 0;
    int rc = lag_parse_args(argc, argv, &path, &warn, &crit, &json);
    if (rc != 0) return rc > 0 ? LAG_OK : LAG_UNKNOWN;
    char errstr[1024];
    cdc_config_t *cfg = cdc_config_load(path, cdc_sink_catalog(), errstr,
                                       sizeof errstr);
    if (!cfg) {
        fprintf(stderr, "cdcsink: %s\n", errstr);
        return LAG_UNKNOWN;
    }
    cdc_log_setup(CDC_LOG_ERROR, CDC_LOG_FORMAT_LOGFMT, cdc_config_settings(cfg)->name);
    cdc_lag_report_t report;
    if (cdc_lag_collect(cfg, 10000, &report, errstr, sizeof errstr) != 0) {
        fprintf(stderr, "cdcsink lag: UNKNOWN: %s\n", errstr);
        cdc_config_destroy(cfg);
        return LAG_UNKNOWN;
    }
    if (json) cdc_lag_print_json(&report, cdc_config_settings(cfg)->group_id, stdout);
    else cdc_lag_print_text(&report, stdout);
    int code = LAG_OK;
    if (crit >= 0 && report.total >= crit) code = LAG_CRIT;
    else if (warn >= 0 && report.total >= warn) code = LAG_WARN;
    cdc_lag_report_free(&report);
    cdc_config_destroy(cfg);
    return code;
}

typedef struct verify_args {
    const char *path;
    cdc_verify_options_t opt;
    bool json;
} verify_args_t;

static int verify_number(const char *text, int64_t max, int64_t *out)
{
    char *end;
    long long v = strtoll(text, &end, 10);
    if (*text == '\0' || *end || v < 0 || v > max) {
        fprintf(stderr, "cdcsink verify: '%s' is not a number from 0 to %lld\n",
                text, (long long)max);
        return -1;
    }
    *out = v;
    return 0;
}

/* -1 on misuse, 1 when help was printed. */
static int verify_parse_args(int argc, char **argv, verify_args_t *a)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"table", required_argument, NULL, 't'},
        {"full", no_argument, NULL, 'f'},         {"settle", required_argument, NULL, 's'},
        {"keys", required_argument, NULL, 'k'},   {"json", no_argument, NULL, 'j'},
        {"wait", required_argument, NULL, 'w'},   {"repair", no_argument, NULL, 'r'},
        {"sample", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const cli_command_t *cmd = cli_find("verify");
    a->opt.settle_ms = 5000;
    a->opt.wait_ms = 60000;
    a->opt.keys_shown = 10;
    optind = 1;
    opterr = 0;
    int ch;
    int64_t n;
    while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c': a->path = optarg; break;
        case 't': a->opt.table = optarg; break;
        case 'f': a->opt.sample = 0; break;
        case 'S':
            if (verify_number(optarg, 100000000, &a->opt.sample) != 0) return -1;
            break;
        case 's':
            if (verify_number(optarg, 3600000, &a->opt.settle_ms) != 0) return -1;
            break;
        case 'w':
            if (verify_number(optarg, 3600000, &a->opt.wait_ms) != 0) return -1;
            break;
        case 'k':
            if (verify_number(optarg, 1000000, &n) != 0) return -1;
            a->opt.keys_shown = (size_t)n;
            break;
        case 'j': a->json = true; break;
        case 'r': a->opt.repair = true; break;
        case 'h': fputs(cmd->usage, stdout); return 1;
        default:
            fprintf(stderr, "cdcsink verify: unknown option or missing value '%s'\n\n%s",
                    argv[optind - 1], cmd->usage);
            return -1;
        }
    }
    if (optind < argc || !a->path) {
        fprintf(stderr, "cdcsink verify: %s\n\n%s",
                a->path ? "unexpected argument" : "-c FILE is required", cmd->usage);
        return -1;
    }
    return 0;
}

static int cmd_verify(int argc, char **argv, volatile sig_atomic_t *stop)
{
    verify_args_t a = {0};
    int rc = verify_parse_args(argc, argv, &a);
    if (rc != 0) return rc > 0 ? CDC_VERIFY_EQUAL : CDC_VERIFY_USAGE;
    char errstr[1024];
    cdc_config_t *cfg = cdc_config_load(a.path, cdc_sink_catalog(), errstr,
                                       sizeof errstr);
    if (!cfg) {
        fprintf(stderr, "cdcsink: %s\n", errstr);
        return CDC_VERIFY_USAGE;
    }
    if (!cdc_config_is_set(cfg, "source.connection.url")) {
        fprintf(stderr, "cdcsink verify: %s sets no source.connection.url: "
                        "verify reads the source database\n", a.path);
        cdc_config_destroy(cfg);
        return CDC_VERIFY_USAGE;
    }
    cdc_log_setup(CDC_LOG_ERROR, CDC_LOG_FORMAT_LOGFMT, cdc_config_settings(cfg)->name);
    a.opt.stop = stop;
    cdc_verify_report_t report;
    int code = cdc_verify_run(cfg, &a.opt, &report);
    if (a.json) cdc_verify_print_json(&report, a.opt.keys_shown, stdout);
    else cdc_verify_print_text(&report, a.opt.keys_shown, stdout);
    cdc_verify_report_free(&report);
    cdc_config_destroy(cfg);
    return code;
}

static int cmd_migrate(int argc, char **argv, volatile sig_atomic_t *stop)
{
    (void)stop;
    int code;
    cdc_config_t *cfg = cli_load(cli_find("migrate"), argc, argv, &code);
    if (!cfg) return code;
    cli_setup_log(cfg);
    const char *sink_name = cdc_config_settings(cfg)->sink;
    const cdc_sink_ops_t *sink = cdc_sink_find(sink_name);
    if (!sink || !sink->migrate) {
        fprintf(stderr, "cdcsink migrate: sink %s keeps nothing of its own "
                        "in the target: nothing to migrate\n",
                sink_name);
        cdc_config_destroy(cfg);
        return CDC_EXIT_USAGE;
    }
    char errstr[1024];
    int applied = 0;
    int rc = sink->migrate(cfg, &applied, errstr, sizeof errstr);
    if (rc != 0) fprintf(stderr, "cdcsink migrate: %s\n", errstr);
    else printf("%d migration(s) applied\n", applied);
    cdc_config_destroy(cfg);
    return rc == 0 ? CDC_EXIT_OK : CDC_EXIT_FAILURE;
}

/* ---------------------------------------------------------------------
 * dlq inspect | replay
 * ------------------------------------------------------------------- */

typedef struct dlq_args {
    const char *path;
    cdc_dlqread_filter_t filter;
    int64_t limit;
    bool dry_run;
} dlq_args_t;

static const cli_command_t *dlq_find(const char *name)
{
    for (size_t i = 0; i < sizeof dlq_commands / sizeof dlq_commands[0]; i++)
        if (strcmp(dlq_commands[i].name, name) == 0) return &dlq_commands[i];
    return NULL;
}

static int dlq_number(const char *cmd, const char *what, const char *text,
                      int64_t max, int64_t *out)
{
    char *end;
    long long v = strtoll(text, &end, 10);
    if (*text == '\0' || *end || v < 0 || v > max) {
        fprintf(stderr, "cdcsink dlq %s: %s '%s' is not a number from 0 to %lld\n",
                cmd, what, text, (long long)max);
        return -1;
    }
    *out = v;
    return 0;
}

/* One option of either subcommand; -1 on a bad value. */
static int dlq_option(const char *cmd, int ch, dlq_args_t *a, int64_t now)
{
    char why[256];
    int64_t n = 0;
    int rc = 0;
    switch (ch) {
    case 'c': a->path = optarg; break;
    case 'n': rc = dlq_number(cmd, "--limit", optarg, INT64_MAX, &a->limit); break;
    case 's':
    case 'u':
        rc = cdc_dlqread_parse_time(optarg, now,
                                    ch == 's' ? &a->filter.since_s : &a->filter.until_s,
                                    why, sizeof why);
        break;
    case 'k':
        rc = cdc_dlqread_check_class(optarg, why, sizeof why);
        a->filter.error_class = optarg;
        break;
    case 'd': a->dry_run = true; break;
    case 't': a->filter.topic = optarg; break;
    case 'p':
        rc = dlq_number(cmd, "--partition", optarg, INT32_MAX, &n);
        a->filter.partition = (int32_t)n;
        break;
    case 'o':
        rc = cdc_dlqread_parse_offsets(optarg, &a->filter.offset_from,
                                       &a->filter.offset_to, why, sizeof why);
        break;
    }
    if (rc != 0 && ch != 'n' && ch != 'p')
        fprintf(stderr, "cdcsink dlq %s: %s\n", cmd, why);
    return rc;
}

/* The combinations getopt cannot check. */
static int dlq_check_args(const cli_command_t *cmd, const dlq_args_t *a,
                          bool offsets_given)
{
    const char *why = NULL;
    if (!a->path) why = "-c FILE is required";
    else if (a->filter.partition >= 0 && !a->filter.topic)
        why = "--partition needs --topic";
    else if (offsets_given && a->filter.partition < 0)
        why = "--offsets needs --topic and --partition";
    else if (a->filter.since_s > a->filter.until_s)
        why = "--since is after --until";
    if (!why) return 0;
    fprintf(stderr, "cdcsink dlq %s: %s\n\n%s", cmd->name, why, cmd->usage);
    return -1;
}

/* Parses a dlq subcommand's options; -1 on misuse, 1 when help was
 * printed. */
static int dlq_parse_args(const cli_command_t *cmd, bool replay, int argc,
                          char **argv, dlq_args_t *a)
{
    static const struct option inspect_opts[] = {
        {"config", required_argument, NULL, 'c'}, {"limit", required_argument, NULL, 'n'},
        {"since", required_argument, NULL, 's'},  {"until", required_argument, NULL, 'u'},
        {"class", required_argument, NULL, 'k'},  {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const struct option replay_opts[] = {
        {"config", required_argument, NULL, 'c'},   {"dry-run", no_argument, NULL, 'd'},
        {"since", required_argument, NULL, 's'},    {"until", required_argument, NULL, 'u'},
        {"class", required_argument, NULL, 'k'},    {"topic", required_argument, NULL, 't'},
        {"partition", required_argument, NULL, 'p'}, {"offsets", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    memset(a, 0, sizeof *a);
    cdc_dlqread_filter_init(&a->filter);
    a->limit = -1;
    int64_t now = (int64_t)time(NULL);
    bool offsets_given = false;
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "c:h", replay ? replay_opts : inspect_opts,
                             NULL)) != -1) {
        if (ch == 'h') {
            fputs(cmd->usage, stdout);
            return 1;
        }
        if (ch == '?' || ch == ':') {
            fprintf(stderr, "cdcsink dlq %s: unknown option or missing value '%s'\n\n%s",
                    cmd->name, argv[optind - 1], cmd->usage);
            return -1;
        }
        offsets_given = offsets_given || ch == 'o';
        if (dlq_option(cmd->name, ch, a, now) != 0) return -1;
    }
    if (optind < argc) {
        fprintf(stderr, "cdcsink dlq %s: unexpected argument '%s'\n\n%s",
                cmd->name, argv[optind], cmd->usage);
        return -1;
    }
    return dlq_check_args(cmd, a, offsets_given);
}

/* Loads the config of a dlq subcommand; NULL with *code set otherwise. */
static cdc_config_t *dlq_load(const char *name, bool replay, int argc,
                              char **argv, dlq_args_t *a, int *code)
{
    int rc = dlq_parse_args(dlq_find(name), replay, argc, argv, a);
    if (rc != 0) {
        *code = rc > 0 ? CDC_EXIT_OK : CDC_EXIT_USAGE;
        return NULL;
    }
    char errstr[1024];
    cdc_config_t *cfg = cdc_config_load(a->path, cdc_sink_catalog(), errstr,
                                       sizeof errstr);
    if (!cfg) {
        fprintf(stderr, "cdcsink: %s\n", errstr);
        *code = CDC_EXIT_USAGE;
    }
    return cfg;
}

static int cmd_dlq_inspect(int argc, char **argv, volatile sig_atomic_t *stop)
{
    dlq_args_t a;
    int code;
    cdc_config_t *cfg = dlq_load("inspect", false, argc, argv, &a, &code);
    if (!cfg) return code;
    /* stdout is the JSON; only warnings and errors go to stderr. */
    cdc_log_setup(CDC_LOG_WARN, CDC_LOG_FORMAT_LOGFMT, cdc_config_settings(cfg)->name);
    cdc_inspect_options_t opts = {.filter = a.filter, .limit = a.limit};
    char errstr[1024];
    int64_t printed = 0;
    code = CDC_EXIT_OK;
    if (cdc_inspect_run(cfg, &opts, stdout, stop, &printed, errstr, sizeof errstr) != 0) {
        fprintf(stderr, "cdcsink dlq inspect: %s\n", errstr);
        code = CDC_EXIT_FAILURE;
    }
    cdc_config_destroy(cfg);
    return code;
}

static int cmd_dlq_replay(int argc, char **argv, volatile sig_atomic_t *stop)
{
    dlq_args_t a;
    int code;
    cdc_config_t *cfg = dlq_load("replay", true, argc, argv, &a, &code);
    if (!cfg) return code;
    cli_setup_log(cfg);
    cdc_replay_options_t opts = {.filter = a.filter, .dry_run = a.dry_run};
    cdc_replay_stats_t stats;
    char errstr[1024];
    cdc_replay_result_t r =
        cdc_replay_run(cfg, &opts, stdout, stop, &stats, errstr, sizeof errstr);
    cdc_replay_print_summary(&stats, a.dry_run, stdout);
    if (r == CDC_REPLAY_FAILED)
        fprintf(stderr, "cdcsink dlq replay: %s\n", errstr);
    else if (r == CDC_REPLAY_STOPPED)
        fprintf(stderr, "cdcsink dlq replay: interrupted; what finished is "
                        "committed, run it again to resume\n");
    cdc_config_destroy(cfg);
    return r == CDC_REPLAY_DONE && stats.failed_again == 0 ? CDC_EXIT_OK
                                                           : CDC_EXIT_FAILURE;
}

static int cmd_dlq(int argc, char **argv, volatile sig_atomic_t *stop)
{
    const cli_command_t *dlq = cli_find("dlq");
    if (argc < 2) {
        fputs(dlq->usage, stderr);
        return CDC_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(dlq->usage, stdout);
        return CDC_EXIT_OK;
    }
    const cli_command_t *sub = dlq_find(argv[1]);
    if (!sub) {
        fprintf(stderr, "cdcsink dlq: no subcommand '%s'\n\n%s", argv[1], dlq->usage);
        return CDC_EXIT_USAGE;
    }
    return sub->run(argc - 1, argv + 1, stop);
}

static int cmd_version(int argc, char **argv, volatile sig_atomic_t *stop)
{
    (void)argc;
    (void)argv;
    (void)stop;
    /* The libraries as loaded at run time (a packaged binary may meet newer
     * ones than it was built with); avro-c has no run-time version call.
     * librdkafka is linked statically (cmake/rdkafka.cmake). */
    printf("cdcsink %s\n", CDCSINK_VERSION);
    printf("librdkafka %s (static)\n", rd_kafka_version_str());
    printf("avro-c %s (built with)\n", CDCSINK_AVRO_VERSION);
    printf("libbson %s\n", bson_get_version());
    printf("%s\n", curl_version());
    cdc_sink_print_versions(stdout);
    return CDC_EXIT_OK;
}

static int cmd_help(int argc, char **argv, volatile sig_atomic_t *stop)
{
    (void)stop;
    if (argc < 2) {
        cli_usage(stdout);
        return CDC_EXIT_OK;
    }
    const cli_command_t *cmd = cli_find(argv[1]);
    if (!cmd) {
        fprintf(stderr, "cdcsink: no command '%s'\n\n", argv[1]);
        cli_usage(stderr);
        return CDC_EXIT_USAGE;
    }
    if (argc >= 3 && cmd->run == cmd_dlq) { /* help dlq inspect|replay */
        const cli_command_t *sub = dlq_find(argv[2]);
        if (!sub) {
            fprintf(stderr, "cdcsink dlq: no subcommand '%s'\n\n%s", argv[2],
                    cmd->usage);
            return CDC_EXIT_USAGE;
        }
        cmd = sub;
    }
    fputs(cmd->usage, stdout);
    return CDC_EXIT_OK;
}

int cdc_cli_main(int argc, char **argv, volatile sig_atomic_t *stop)
{
    if (argc < 2) {
        cli_usage(stderr);
        return CDC_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        cli_usage(stdout);
        return CDC_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) return cmd_version(0, NULL, stop);
    const cli_command_t *cmd = cli_find(argv[1]);
    if (!cmd) {
        fprintf(stderr, "cdcsink: no command '%s'\n\n", argv[1]);
        cli_usage(stderr);
        return CDC_EXIT_USAGE;
    }
    return cmd->run(argc - 1, argv + 1, stop);
}

#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "lag.h"
#include "log.h"
#include "pipeline.h"
#include "postgres.h"

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
static int cmd_migrate(int argc, char **argv, volatile sig_atomic_t *stop);

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
    {"migrate", "apply cdcsink's own migrations to a PostgreSQL target",
     "cdcsink migrate -c FILE\n\n"
     "Creates or upgrades cdcsink's tables (schema cdcsink: the tombstone\n"
     "ledger) in the database of connection.url, under an advisory lock so\n"
     "that concurrent replicas do not race. `run` does the same first when\n"
     "auto.migrate=true (the default). Exit 0, 1 on failure, 2 on a bad\n"
     "config or a sink other than postgres.\n",
     cmd_migrate},
    {"version", "print the version and the libraries it runs on",
     "cdcsink version\n", cmd_version},
    {"help", "show help for a command", "cdcsink help [COMMAND]\n", cmd_help},
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
    cdc_config_t *cfg = cdc_config_load(path, errstr, sizeof errstr);
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
    cdc_log_level_t level = CDC_LOG_INFO;
    cdc_log_level_parse(cdc_config_get(cfg, "log.level"), &level);
    cdc_log_format_t format = strcmp(cdc_config_get(cfg, "log.format"), "json") == 0
                                  ? CDC_LOG_FORMAT_JSON
                                  : CDC_LOG_FORMAT_LOGFMT;
    cdc_log_setup(level, format, cdc_config_get(cfg, "name"));
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
                 "dlq=%llu retries=%llu latency_p50_ms=%lld latency_p99_ms=%lld",
                 (unsigned long long)s->consumed, (unsigned long long)s->applied,
                 (unsigned long long)s->stale, (unsigned long long)s->skipped,
                 (unsigned long long)s->dlq, (unsigned long long)s->retries,
                 (long long)s->latency_p50_ms, (long long)s->latency_p99_ms);
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
    cdc_config_t *cfg = cdc_config_load(path, errstr, sizeof errstr);
    if (!cfg) {
        fprintf(stderr, "cdcsink: %s\n", errstr);
        return LAG_UNKNOWN;
    }
    cdc_log_setup(CDC_LOG_ERROR, CDC_LOG_FORMAT_LOGFMT, cdc_config_get(cfg, "name"));
    cdc_lag_report_t report;
    if (cdc_lag_collect(cfg, 10000, &report, errstr, sizeof errstr) != 0) {
        fprintf(stderr, "cdcsink lag: UNKNOWN: %s\n", errstr);
        cdc_config_destroy(cfg);
        return LAG_UNKNOWN;
    }
    if (json) cdc_lag_print_json(&report, cdc_config_get(cfg, "group.id"), stdout);
    else cdc_lag_print_text(&report, stdout);
    int code = LAG_OK;
    if (crit >= 0 && report.total >= crit) code = LAG_CRIT;
    else if (warn >= 0 && report.total >= warn) code = LAG_WARN;
    cdc_lag_report_free(&report);
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
    if (strcmp(cdc_config_get(cfg, "sink"), "postgres") != 0) {
        fprintf(stderr, "cdcsink migrate: sink is %s; migrations are for "
                        "postgres\n", cdc_config_get(cfg, "sink"));
        cdc_config_destroy(cfg);
        return CDC_EXIT_USAGE;
    }
    char errstr[1024];
    int applied = 0;
    int rc = cdc_postgres_migrate(cfg, &applied, errstr, sizeof errstr);
    if (rc != 0) fprintf(stderr, "cdcsink migrate: %s\n", errstr);
    else printf("%d migration(s) applied\n", applied);
    cdc_config_destroy(cfg);
    return rc == 0 ? CDC_EXIT_OK : CDC_EXIT_FAILURE;
}

static int cmd_version(int argc, char **argv, volatile sig_atomic_t *stop)
{
    (void)argc;
    (void)argv;
    (void)stop;
    printf("cdcsink %s (librdkafka %s)\n", CDCSINK_VERSION,
           rd_kafka_version_str());
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

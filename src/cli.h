/* cli — the cdcsink command line: commands, their help, exit codes.
 *
 * Exit codes (docs/cli.md): 0 ok, 1 runtime failure, 2 usage or
 * configuration error. Commands return a code; only main() exits. */
#ifndef CDC_CLI_H
#define CDC_CLI_H

#include <signal.h>

enum {
    CDC_EXIT_OK = 0,
    CDC_EXIT_FAILURE = 1,
    CDC_EXIT_USAGE = 2
};

/* Runs the command named in argv. `stop` is set by main's signal
 * handler; long-running commands watch it. */
int cdc_cli_main(int argc, char **argv, volatile sig_atomic_t *stop);

#endif

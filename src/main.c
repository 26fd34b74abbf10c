/* main — the only code that exits.
 *
 * Signals only set a flag that the pipeline loop reads (PgBouncer's way):
 * the first SIGTERM/SIGINT asks for a graceful stop (finish the batch,
 * commit, leave the group); a second one exits at once. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    if (stop_requested) _exit(128 + sig);
    stop_requested = 1;
}

int main(int argc, char **argv)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    exit(cdc_cli_main(argc, argv, &stop_requested));
}

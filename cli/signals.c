/* SIGINT and SIGTERM handling of the program's loops (see signals.h). */
#include "signals.h"

#include <string.h>

#include "cli.h"

/* The program's only mutable global: set by the handler (to the signal's
 * number), read between steps. */
static volatile sig_atomic_t interrupted = 0;

static void on_signal(int sig)
{
    interrupted = sig;
}

void cli_signals_catch(cli_signals *s)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    interrupted = 0;
    sigaction(SIGINT, &sa, &s->old[0]);
    sigaction(SIGTERM, &sa, &s->old[1]);
    s->caught = 1;
}

void cli_signals_restore(cli_signals *s)
{
    if (!s->caught) return;
    sigaction(SIGINT, &s->old[0], NULL);
    sigaction(SIGTERM, &s->old[1], NULL);
    s->caught = 0;
}

int cli_interrupted(void)
{
    return (int)interrupted;
}

const char *cli_signal_name(int sig)
{
    return sig == SIGTERM ? "SIGTERM" : "SIGINT";
}

int cli_signal_exit(int sig)
{
    return sig == SIGTERM ? CLI_EXIT_TERMINATED : CLI_EXIT_INTERRUPTED;
}

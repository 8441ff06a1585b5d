/*
 * SIGINT and SIGTERM during the long loops of `ovica` (train, demo,
 * separate): the first signal sets a flag that the loop reads between
 * steps; the handler is then reset, so a second signal stops the program at
 * once. The flag is the program's only mutable global (a sig_atomic_t in
 * signals.c): the library itself keeps no such state.
 */
#ifndef OVICA_CLI_SIGNALS_H
#define OVICA_CLI_SIGNALS_H

#include <signal.h>

/* The handlers replaced by cli_signals_catch, to put back. */
typedef struct {
    struct sigaction old[2]; /* SIGINT, SIGTERM */
    int caught;              /* 1 between catch and restore */
} cli_signals;

/* Clears the flag and catches the next SIGINT or SIGTERM (once each). */
void cli_signals_catch(cli_signals *s);

/* Puts back the handlers replaced by cli_signals_catch; does nothing if they
 * are not caught (so it may be called on every exit path). The flag keeps
 * its value. */
void cli_signals_restore(cli_signals *s);

/* The number of the signal caught since cli_signals_catch (SIGINT or
 * SIGTERM), or 0. */
int cli_interrupted(void);

/* "SIGTERM" for SIGTERM, else "SIGINT". */
const char *cli_signal_name(int sig);

/* The exit code of a run stopped by sig: CLI_EXIT_TERMINATED (143) for
 * SIGTERM, else CLI_EXIT_INTERRUPTED (130). */
int cli_signal_exit(int sig);

#endif /* OVICA_CLI_SIGNALS_H */

/*
 * The progress display of the training loops of `ovica` (train, demo,
 * separate), on stderr: a bar redrawn in place on a terminal (at most every
 * 0.1 s), else a line at the first step, every 5% of the steps and at the
 * last; nothing with --quiet. Each shows the step, the batch objective, the
 * monitor's best objective once it has run, the angle error when the true
 * basis is known, the learning rate and the time.
 */
#ifndef OVICA_CLI_PROGRESS_H
#define OVICA_CLI_PROGRESS_H

#include <stddef.h>

#include <ovica.h>

typedef struct {
    int mode;        /* 0 nothing, 1 a bar redrawn in place (terminal), 2 lines */
    int open;        /* 1 while a bar is drawn without its newline */
    size_t total, every;
    double t0, last_draw;
    double best;     /* the monitor's best objective so far, NaN before it runs */
    double angle;    /* largest angle to the true atoms (set by the caller), NaN if unknown */
} cli_progress;

/* Seconds on the monotonic clock. */
double cli_now(void);

/* A display of `total` steps starting now (mode 0 if quiet). */
void cli_progress_init(cli_progress *p, int quiet, size_t total);

/* Shows step s->step + 1 (`last`: the final one, always shown). Lines are
 * prefixed "ovica CMD: ". */
void cli_progress_step(cli_progress *p, const char *cmd, const ovica_step_stats *s, int last);

/* Ends a bar drawn in place with a newline (before a message, or when the
 * loop stops early); does nothing otherwise. */
void cli_progress_break(cli_progress *p);

#endif /* OVICA_CLI_PROGRESS_H */

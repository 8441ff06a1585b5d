/* The progress display of the training loops (see progress.h). */
#include "progress.h"

#include <math.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void cli_progress_init(cli_progress *p, int quiet, size_t total)
{
    p->mode = quiet ? 0 : isatty(STDERR_FILENO) ? 1 : 2;
    p->open = 0;
    p->total = total;
    p->every = total >= 20 ? total / 20 : 1;
    p->t0 = p->last_draw = cli_now();
    p->best = NAN;
    p->angle = NAN;
}

/* The bar: [####----] with `done` of `total` filled. */
static void draw_bar(cli_progress *p, size_t done, const ovica_step_stats *s, const char *mon,
                     double t, int last)
{
    enum { W = 28 };
    int fill = p->total ? (int)((double)W * (double)done / (double)p->total) : W;
    if (fill > W) fill = W;
    char bar[W + 1];
    for (int i = 0; i < W; i++) bar[i] = i < fill ? '#' : '-';
    bar[W] = '\0';
    fprintf(stderr, "\r[%s] %zu/%zu  batch objective %.5g%s  lr %.3g  %.1f s\033[K", bar, done,
            p->total, s->objective, mon, s->lr, t - p->t0);
    p->open = !last;
    if (last) fputc('\n', stderr);
    fflush(stderr);
}

void cli_progress_step(cli_progress *p, const char *cmd, const ovica_step_stats *s, int last)
{
    if (p->mode == 0) return;
    if (isfinite(s->best)) p->best = s->best;
    size_t done = s->step + 1;
    double t = cli_now();
    char mon[96] = "";
    int k = 0;
    if (isfinite(p->best)) k = snprintf(mon, sizeof mon, "  monitor best %.5g", p->best);
    if (isfinite(p->angle) && k >= 0 && (size_t)k < sizeof mon)
        snprintf(mon + k, sizeof mon - (size_t)k, "  angle %.3g deg", p->angle);
    if (p->mode == 1) {
        if (!last && t - p->last_draw < 0.1) return;
        p->last_draw = t;
        draw_bar(p, done, s, mon, t, last);
    } else if (last || done % p->every == 0 || done == 1) {
        fprintf(stderr, "ovica %s: step %zu/%zu  batch objective %.6g%s  lr %.4g  %.1f s\n", cmd,
                done, p->total, s->objective, mon, s->lr, t - p->t0);
    }
}

void cli_progress_break(cli_progress *p)
{
    if (!p->open) return;
    fputc('\n', stderr);
    p->open = 0;
}

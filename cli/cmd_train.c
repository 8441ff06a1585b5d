/* ovica train and ovica demo: the training loop, its progress display, its
 * log, and SIGINT handling. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <ovica.h>

#include "cli.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The program's only mutable global: set by the SIGINT and SIGTERM
 * handler (to the signal's number), read between training steps. */
static volatile sig_atomic_t interrupted = 0;

static void on_signal(int sig)
{
    interrupted = sig;
}

/* Catches the first SIGINT or SIGTERM (the handler is reset, so a second one
 * stops the program at once). */
static void catch_signals(struct sigaction old[2])
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    interrupted = 0;
    sigaction(SIGINT, &sa, &old[0]);
    sigaction(SIGTERM, &sa, &old[1]);
}

static void restore_signals(const struct sigaction old[2])
{
    sigaction(SIGINT, &old[0], NULL);
    sigaction(SIGTERM, &old[1], NULL);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static const char *const schedule_names[] = {"constant", "cosine", NULL};
/* indices 0-2 are enum ovica_init_method; "auto": the trainer's own choice */
static const char *const init_names[] = {"random", "spread", "data", "auto", NULL};
enum { INIT_AUTO = 3 };
static const char *const keep_names[] = {"best", "final", NULL};

/* Settings of a training run (train's options; demo fills them itself). */
typedef struct {
    size_t atoms;
    int prior;            /* index in cli_prior_names */
    double sigma, scale;
    int solver;           /* index in cli_solver_names, or -1: the trainer's default */
    int rule;             /* index in cli_rule_names */
    size_t steps, batch;  /* batch 0: all the data */
    double lr;            /* <= 0: the trainer's default */
    int schedule;         /* -1: the trainer's default */
    int init;             /* enum ovica_init_method, or INIT_AUTO */
    uint64_t seed;
    int keep;             /* 0 best, 1 final */
    int quiet;
    const char *log;      /* CSV log, or NULL */
    const double *truth;  /* true basis (m x n_true) for the error curve, or NULL */
    size_t n_true;
    const char *checkpoint;  /* checkpoint file to write, or NULL */
    size_t checkpoint_every; /* steps between checkpoints (0: only at the end) */
    const char *resume;      /* checkpoint to resume from, or NULL */
    int steps_given;         /* steps given: else the trainer's default (new run) or the
                                saved plan (resume) */
    const char *data_name;   /* the data file, for messages (NULL: in memory) */
} train_cfg;

/* ------------------------------------------------------------------------ */
/* Progress                                                                 */

typedef struct {
    int mode;         /* 0 nothing, 1 a bar redrawn in place (terminal), 2 lines */
    size_t total, every;
    double t0, last_draw;
    double best;
    double angle;     /* largest angle to the true atoms, NaN if unknown */
} progress;

static void progress_init(progress *p, int quiet, size_t total)
{
    p->mode = quiet ? 0 : isatty(STDERR_FILENO) ? 1 : 2;
    p->total = total;
    p->every = total >= 20 ? total / 20 : 1;
    p->t0 = p->last_draw = now_seconds();
    p->best = NAN;
    p->angle = NAN;
}

static void progress_step(progress *p, const char *cmd, const ovica_step_stats *s, int last)
{
    if (p->mode == 0) return;
    if (isfinite(s->best)) p->best = s->best;
    size_t done = s->step + 1;
    double t = now_seconds();
    char mon[96] = "";
    int k = 0;
    if (isfinite(p->best)) k = snprintf(mon, sizeof mon, "  monitor best %.5g", p->best);
    if (isfinite(p->angle) && k >= 0 && (size_t)k < sizeof mon)
        snprintf(mon + k, sizeof mon - (size_t)k, "  angle %.3g deg", p->angle);
    if (p->mode == 1) {
        if (!last && t - p->last_draw < 0.1) return;
        p->last_draw = t;
        const int W = 28;
        int fill = p->total ? (int)((double)W * (double)done / (double)p->total) : W;
        if (fill > W) fill = W;
        char bar[32];
        for (int i = 0; i < W; i++) bar[i] = i < fill ? '#' : '-';
        bar[W] = '\0';
        fprintf(stderr, "\r[%s] %zu/%zu  batch objective %.5g%s  lr %.3g  %.1f s\033[K", bar, done,
                p->total, s->objective, mon, s->lr, t - p->t0);
        if (last) fputc('\n', stderr);
        fflush(stderr);
    } else if (last || done % p->every == 0 || done == 1) {
        fprintf(stderr, "ovica %s: step %zu/%zu  batch objective %.6g%s  lr %.4g  %.1f s\n", cmd, done,
                p->total, s->objective, mon, s->lr, t - p->t0);
    }
}

/* ------------------------------------------------------------------------ */
/* The loop                                                                 */

/*
 * Where the batches come from. Either all the rows are in memory (X; every
 * step uses all of them), or batches of B rows are read from an opened .npy
 * file (ovica_npy_read_rows: memory-mapped, converted to double, only the
 * batch in memory). The file's first N rows are cut into blocks of `block`
 * contiguous rows; every pass over them visits the blocks in a random order
 * of its own (seeded by the seed and the pass), and step k takes the rows
 * [k B, (k + 1) B) of the sequence of passes. The batch of a step depends
 * only on the step's index, so a resumed run reads the same batches.
 */
typedef struct {
    const double *X;      /* all rows in memory, or NULL */
    ovica_npy_file *file; /* else: batches read from here */
    size_t N, m, B, block, nblocks;
    uint64_t seed;
    size_t pass;          /* pass whose order is in perm/start (SIZE_MAX: none) */
    size_t *perm;         /* blocks in the pass's order */
    size_t *start;        /* start[j]: offset in the pass of the j-th block visited; start[nblocks] = N */
    double *buf;          /* B x m */
} batch_src;

static void src_free(batch_src *b)
{
    free(b->perm);
    free(b->start);
    free(b->buf);
    b->perm = b->start = NULL;
    b->buf = NULL;
}

/* A source of batches of B < N rows from `file`, or from X (N x m) when
 * file is NULL. OVICA_OK or OVICA_ENOMEM. */
static int src_stream(batch_src *b, ovica_npy_file *file, const double *X, size_t N, size_t m,
                      size_t B, size_t block, uint64_t seed)
{
    memset(b, 0, sizeof *b);
    b->file = file;
    b->X = X;
    b->N = N;
    b->m = m;
    b->B = B;
    b->block = block < 1 ? 1 : block > N ? N : block;
    b->nblocks = (N + b->block - 1) / b->block;
    b->seed = seed;
    b->pass = SIZE_MAX;
    b->perm = malloc(b->nblocks * sizeof *b->perm);
    b->start = malloc((b->nblocks + 1) * sizeof *b->start);
    b->buf = malloc(B * m * sizeof *b->buf);
    if (b->perm == NULL || b->start == NULL || b->buf == NULL) {
        src_free(b);
        return OVICA_ENOMEM;
    }
    return OVICA_OK;
}

/* The order of the blocks in pass `pass` (Fisher-Yates with the library's
 * generator, seeded by the seed and the pass). */
static int src_order(batch_src *b, size_t pass)
{
    if (b->pass == pass) return OVICA_OK;
    ovica_rng *r = NULL;
    int st = ovica_rng_new(&r, (b->seed ^ 0x9E3779B97F4A7C15ULL) + 0xD1B54A32D192ED03ULL * (uint64_t)pass);
    if (st) return st;
    size_t nb = b->nblocks;
    for (size_t i = 0; i < nb; i++) b->perm[i] = i;
    for (size_t i = nb - 1; i > 0; i--) {
        size_t j = (size_t)(ovica_rng_uniform(r) * (double)(i + 1));
        if (j > i) j = i;
        size_t t = b->perm[i];
        b->perm[i] = b->perm[j];
        b->perm[j] = t;
    }
    ovica_rng_free(r);
    size_t off = 0;
    for (size_t i = 0; i < nb; i++) {
        b->start[i] = off;
        size_t lo = b->perm[i] * b->block, hi = lo + b->block < b->N ? lo + b->block : b->N;
        off += hi - lo;
    }
    b->start[nb] = off; /* = N */
    b->pass = pass;
    return OVICA_OK;
}

/* The B rows of step k. */
static int src_batch(batch_src *b, size_t k, const double **out, size_t *rows)
{
    if (b->B == b->N) {
        *out = b->X;
        *rows = b->N;
        return OVICA_OK;
    }
    /* position in the sequence of passes (k <= 1e9 steps and B <= 1e9 rows,
     * the options' bounds: k B fits in 64 bits) */
    uint64_t pos = (uint64_t)k * (uint64_t)b->B;
    size_t pass = (size_t)(pos / b->N), off = (size_t)(pos % b->N);
    size_t filled = 0;
    while (filled < b->B) {
        int st = src_order(b, pass);
        if (st) return st;
        /* the visited block holding offset off: start[j] <= off < start[j + 1] */
        size_t lo = 0, hi = b->nblocks;
        while (hi - lo > 1) {
            size_t mid = lo + (hi - lo) / 2;
            if (b->start[mid] <= off) lo = mid;
            else hi = mid;
        }
        size_t row0 = b->perm[lo] * b->block + (off - b->start[lo]);
        size_t avail = b->start[lo + 1] - off, want = b->B - filled;
        size_t n = avail < want ? avail : want;
        if (b->X != NULL)
            memcpy(b->buf + filled * b->m, b->X + row0 * b->m, n * b->m * sizeof *b->buf);
        else if ((st = ovica_npy_read_rows(b->file, row0, row0 + n, b->buf + filled * b->m,
                                           b->m)) != OVICA_OK)
            return st;
        filled += n;
        off += n;
        if (off == b->N) {
            off = 0;
            pass++;
        }
    }
    *out = b->buf;
    *rows = b->B;
    return OVICA_OK;
}

/* The file row of row i of step k's batch (SIZE_MAX if it cannot be told). */
static size_t src_row(batch_src *b, size_t k, size_t i)
{
    if (b->B == b->N) return i;
    uint64_t pos = (uint64_t)k * (uint64_t)b->B + (uint64_t)i;
    size_t pass = (size_t)(pos / b->N), off = (size_t)(pos % b->N);
    if (src_order(b, pass) != OVICA_OK) return SIZE_MAX;
    size_t lo = 0, hi = b->nblocks;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (b->start[mid] <= off) lo = mid;
        else hi = mid;
    }
    return b->perm[lo] * b->block + (off - b->start[lo]);
}

/* Names the first non-finite value of step k's batch (B x m) by its row in
 * the data file, and counts the batch's rows that hold one. */
static void report_nonfinite(const char *cmd, const train_cfg *c, batch_src *src, size_t k,
                             const double *batch, size_t B, size_t m)
{
    size_t first = SIZE_MAX, col = 0, rows = 0;
    double v = 0;
    for (size_t i = 0; i < B; i++) {
        int badrow = 0;
        for (size_t j = 0; j < m; j++)
            if (!isfinite(batch[i * m + j])) {
                if (first == SIZE_MAX) {
                    first = i;
                    col = j;
                    v = batch[i * m + j];
                }
                badrow = 1;
            }
        rows += (size_t)badrow;
    }
    if (first == SIZE_MAX) return;
    size_t row = src_row(src, k, first);
    const char *what = c->data_name ? c->data_name : "the data";
    if (row == SIZE_MAX)
        fprintf(stderr, "ovica %s: %s holds a non-finite value (%g) in the rows of step %zu\n",
                cmd, what, v, k + 1);
    else
        fprintf(stderr, "ovica %s: %s holds a non-finite value (%g) at row %zu, column %zu "
                        "(counted from 0)%s", cmd, what, v, row, col,
                rows > 1 ? "" : "\n");
    if (row != SIZE_MAX && rows > 1)
        fprintf(stderr, "; %zu rows of step %zu's batch hold one\n", rows, k + 1);
}

/* OUT.partial.ovm (OUT's ".ovm" replaced): where the basis of a run that
 * failed or was stopped is saved. 0, or -1 if it does not fit. */
static int partial_path(char *dst, size_t cap, const char *out)
{
    size_t n = strlen(out);
    if (n >= 4 && strcmp(out + n - 4, ".ovm") == 0) n -= 4;
    int w = snprintf(dst, cap, "%.*s.partial.ovm", (int)n, out);
    return w < 0 || (size_t)w >= cap ? -1 : 0;
}

/*
 * Saves the best basis so far (keep best, once the monitor has run; else
 * the current basis) to OUT.partial.ovm and says where, after a failure or
 * a signal. Returns 0 if saved.
 */
static int save_partial(const char *cmd, ovica_trainer *t, int keep_best, const char *out,
                        size_t step)
{
    char path[4200];
    if (partial_path(path, sizeof path, out) != 0) {
        fprintf(stderr, "ovica %s: the basis so far is lost (output path too long)\n", cmd);
        return -1;
    }
    const ovica_model *cur = ovica_trainer_model(t);
    size_t m = ovica_model_dim(cur), n = ovica_model_atoms(cur);
    ovica_model *copy = NULL;
    double best = NAN;
    int used_best = 0;
    int st = ovica_model_clone(&copy, cur);
    if (st == OVICA_OK && keep_best) {
        double *A = malloc(m * n * sizeof *A);
        if (A != NULL && ovica_trainer_best_basis(t, A, m, n, &best) == OVICA_OK &&
            ovica_model_set_basis(copy, A, m, n) == OVICA_OK)
            used_best = 1;
        free(A);
    }
    if (st == OVICA_OK) st = ovica_model_save(copy, path);
    ovica_model_free(copy);
    if (st != OVICA_OK) {
        cli_fail(cmd, st, "the basis so far could not be saved to %s either", path);
        return -1;
    }
    if (used_best)
        fprintf(stderr, "ovica %s: saved the best basis so far (monitor objective %.6g) to %s "
                        "(not to %s: the run did not finish)\n", cmd, best, path, out);
    else
        fprintf(stderr, "ovica %s: saved the basis of step %zu to %s (not to %s: the run did "
                        "not finish)\n", cmd, step, path, out);
    return 0;
}

/* The trainer's seed: the user's seed hashed (splitmix64 finaliser) with a
 * constant, so that `ovica synth --seed S` and `ovica train --seed S` do not
 * draw the same random numbers (a random initial basis equal to the true
 * one, say). */
static uint64_t trainer_seed(uint64_t seed)
{
    uint64_t z = seed ^ 0x747261696E6572ULL; /* "trainer" */
    z += 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* Saves the model; on error prints why. 0 or CLI_EXIT_FAIL. */
static int save_model(const char *cmd, const ovica_model *model, const char *path)
{
    int st = ovica_model_save(model, path);
    if (st != OVICA_OK) return cli_fail(cmd, st, "cannot save the model");
    return 0;
}

/*
 * Trains a model on the batches of src and saves it to `out`. Returns CLI_EXIT_OK, CLI_EXIT_FAIL or
 * CLI_EXIT_INTERRUPTED (the model saved first). On success *model_out (if
 * not NULL) receives a copy of the saved model.
 */
static int train_run(const char *cmd, train_cfg *c, batch_src *src, const char *out,
                     ovica_model **model_out)
{
    const size_t m = src->m;
    ovica_prior *prior = NULL;
    ovica_model *model = NULL;
    ovica_trainer *t = NULL;
    FILE *log = NULL;
    char logtmp[4200];
    int code = CLI_EXIT_FAIL, st;
    struct sigaction old_sa[2];
    int caught = 0;
    int keep_best = c->keep == 0;
    size_t at = 0; /* the step the trainer is at, for messages */

    size_t atoms = c->atoms, steps = c->steps, first = 0;
    int use_sign = c->prior == 1; /* signed matching for a non-negative prior */
    if (c->resume != NULL) {
        st = ovica_checkpoint_load(&t, c->resume);
        if (st != OVICA_OK) {
            cli_fail(cmd, st, "cannot resume");
            goto done;
        }
        const ovica_model *md = ovica_trainer_model(t);
        if (ovica_model_dim(md) != m) {
            cli_fail(cmd, 0, "the checkpoint's dimension is %zu, the data have %zu columns",
                     ovica_model_dim(md), m);
            goto done;
        }
        if (atoms != 0 && atoms != ovica_model_atoms(md)) {
            cli_fail(cmd, 0, "the checkpoint has %zu atoms, not %zu", ovica_model_atoms(md), atoms);
            goto done;
        }
        atoms = ovica_model_atoms(md);
        use_sign = ovica_prior_domain(ovica_model_prior(md)) == OVICA_DOMAIN_NONNEG;
        first = ovica_trainer_step_index(t);
        double planned = 0;
        (void)ovica_trainer_get_param(t, OVICA_TRAIN_STEPS, &planned);
        if (!c->steps_given) steps = (size_t)planned;
        st = OVICA_OK;
    } else {
        st = c->prior == 0 ? ovica_prior_laplace_new(&prior, c->scale)
                           : ovica_prior_exponential_new(&prior, c->scale);
        if (st == OVICA_OK) st = ovica_model_new(&model, m, atoms, prior, c->sigma);
        if (st != OVICA_OK) {
            cli_fail(cmd, st, "cannot make the model");
            goto done;
        }
        const ovica_rule_type *rule = ovica_rule_type_find(cli_rule_names[c->rule]);
        st = rule ? ovica_trainer_new(&t, model, rule, trainer_seed(c->seed)) : OVICA_EINVAL;
    }
    if (st == OVICA_OK && c->steps_given) {
        st = ovica_trainer_set_param(t, OVICA_TRAIN_STEPS, (double)steps);
    } else if (st == OVICA_OK) { /* the trainer's default, or the saved plan */
        double planned = 0;
        st = ovica_trainer_get_param(t, OVICA_TRAIN_STEPS, &planned);
        steps = (size_t)planned;
    }
    c->steps = steps; /* what the run plans, for the caller */
    if (st == OVICA_OK && c->lr > 0) st = ovica_trainer_set_param(t, OVICA_TRAIN_LR, c->lr);
    if (st == OVICA_OK && c->schedule >= 0)
        st = ovica_trainer_set_param(t, OVICA_TRAIN_SCHEDULE, (double)c->schedule);
    if (st == OVICA_OK && c->solver >= 0)
        st = ovica_trainer_set_solver(t, ovica_solver_type_find(cli_solver_names[c->solver]));
    if (st != OVICA_OK) {
        cli_fail(cmd, st, "cannot set up the trainer");
        goto done;
    }
    if (first >= steps) {
        cli_fail(cmd, 0, "the checkpoint is at step %zu of %zu: nothing left to do (give --steps)",
                 first, steps);
        goto done;
    }

    if (c->resume == NULL && c->init != INIT_AUTO) {
        /* from the rows of the first step (all the rows when they are in memory) */
        const double *X0 = NULL;
        size_t N0 = 0;
        st = src_batch(src, 0, &X0, &N0);
        if (st == OVICA_OK) st = ovica_trainer_init_basis(t, c->init, X0, N0, m);
        if (st == OVICA_ENONFINITE) {
            report_nonfinite(cmd, c, src, 0, X0, N0, m);
            fprintf(stderr, "ovica %s: cannot initialise the basis from the rows of step 1\n", cmd);
            goto done;
        }
        if (st != OVICA_OK) {
            cli_fail(cmd, st, "cannot initialise the basis");
            goto done;
        }
    }
    if (c->log != NULL) {
        log = cli_create(cmd, c->log, logtmp, sizeof logtmp);
        if (log == NULL) goto done;
        fputs("step,objective,mse,active,dead,lr,sigma_t,update,monitor,best,guard,draws,"
              "max_angle,mean_angle\n", log);
    }

    progress pr;
    progress_init(&pr, c->quiet, steps);
    catch_signals(old_sa);
    caught = 1;
    size_t done_steps = 0;
    ovica_step_stats s = OVICA_STEP_STATS_INIT;
    for (size_t k = first; k < steps && !interrupted; k++) {
        const double *batch = NULL;
        size_t B = 0;
        at = k;
        st = src_batch(src, k, &batch, &B);
        if (st != OVICA_OK) {
            if (pr.mode == 1) fputc('\n', stderr);
            cli_fail(cmd, st, "cannot read the rows of step %zu", k + 1);
            if (done_steps > 0) save_partial(cmd, t, keep_best, out, k);
            goto done;
        }
        s = (ovica_step_stats)OVICA_STEP_STATS_INIT;
        st = ovica_trainer_step(t, batch, B, m, &s);
        if (st != OVICA_OK) {
            if (pr.mode == 1) fputc('\n', stderr);
            if (st == OVICA_ENONFINITE) {
                report_nonfinite(cmd, c, src, k, batch, B, m);
                fprintf(stderr, "ovica %s: training step %zu failed on it\n", cmd, k + 1);
            } else {
                cli_fail(cmd, st, "training step %zu failed", k + 1);
            }
            if (done_steps > 0) save_partial(cmd, t, keep_best, out, k);
            goto done;
        }
        done_steps++;
        at = k + 1;
        /* the error against the true atoms (every step while that is cheap) */
        double amax = NAN, amean = NAN;
        if (c->truth != NULL && (c->n_true * atoms <= 10000 || (k + 1) % 10 == 0 ||
                                 k + 1 == steps)) {
            ovica_recovery rec = OVICA_RECOVERY_INIT;
            if (ovica_recovery_eval(&rec, ovica_model_basis(ovica_trainer_model(t)), m, atoms,
                                    c->truth, c->n_true, use_sign, 3.0, NULL, 0) == OVICA_OK) {
                amax = rec.max_angle_deg;
                amean = rec.mean_angle_deg;
                pr.angle = amax;
            }
        }
        if (log)
            fprintf(log, "%zu,%.10g,%.10g,%.6g,%zu,%.6g,%.6g,%.6g,%.10g,%.10g,%d,%d,%.6g,%.6g\n",
                    s.step + 1, s.objective, s.mse, s.active, s.dead, s.lr, s.sigma_t, s.update,
                    s.monitor, s.best, s.guard, s.rule, amax, amean);
        progress_step(&pr, cmd, &s, k + 1 == steps || interrupted);
        if (c->checkpoint != NULL && c->checkpoint_every > 0 && (k + 1) % c->checkpoint_every == 0 &&
            k + 1 < steps && !interrupted) {
            st = ovica_checkpoint_save(t, c->checkpoint);
            if (st != OVICA_OK) {
                if (pr.mode == 1) fputc('\n', stderr);
                cli_fail(cmd, st, "cannot write the checkpoint");
                save_partial(cmd, t, keep_best, out, at);
                goto done;
            }
        }
    }
    if (interrupted && pr.mode == 1 && done_steps > 0 && first + done_steps < steps)
        fputc('\n', stderr);
    restore_signals(old_sa);
    caught = 0;
    /* The checkpoint holds the state as it is (before the best basis is put
     * back), so that a resumed run goes on from where this one stopped. */
    if (c->checkpoint != NULL) {
        st = ovica_checkpoint_save(t, c->checkpoint);
        if (st != OVICA_OK) {
            cli_fail(cmd, st, "cannot write the checkpoint");
            save_partial(cmd, t, keep_best, out, at);
            goto done;
        }
    }
    /* A run stopped by a signal is not the requested model: its basis goes
     * to OUT.partial.ovm, and OUT is left as it was. */
    if (interrupted) {
        if (log != NULL) {
            FILE *f = log;
            log = NULL;
            (void)cli_commit(cmd, f, logtmp, c->log);
        }
        if (!c->quiet)
            fprintf(stderr, "ovica %s: interrupted by %s at step %zu of %zu (%zu steps in "
                            "%.1f s)%s%s\n", cmd, interrupted == SIGTERM ? "SIGTERM" : "SIGINT",
                    first + done_steps, steps, done_steps, now_seconds() - pr.t0,
                    c->checkpoint ? "; checkpoint saved to " : "",
                    c->checkpoint ? c->checkpoint : "");
        if (save_partial(cmd, t, keep_best && done_steps > 0, out, at) != 0) goto done;
        code = interrupted == SIGTERM ? CLI_EXIT_TERMINATED : CLI_EXIT_INTERRUPTED;
        goto done;
    }

    int kept_best = 0;
    double best = NAN;
    if (c->keep == 0 && done_steps > 0) {
        double *tmpA = malloc(m * atoms * sizeof *tmpA);
        if (tmpA && ovica_trainer_best_basis(t, tmpA, m, atoms, &best) == OVICA_OK &&
            ovica_trainer_restore_best(t) == OVICA_OK)
            kept_best = 1;
        free(tmpA);
    }
    if (log != NULL) {
        FILE *f = log;
        log = NULL;
        if (cli_commit(cmd, f, logtmp, c->log)) {
            save_partial(cmd, t, 0, out, at); /* the best basis is already in place */
            goto done;
        }
    }
    if (save_model(cmd, ovica_trainer_model(t), out)) {
        save_partial(cmd, t, 0, out, at);
        goto done;
    }
    if (!c->quiet) {
        static const char *const routes[] = {
            "undecided (stopped in auto's probe)", "sparse (MAP codes, noise estimated)",
            "dense (posterior draws)", "MAP codes"};
        const int rg = ovica_trainer_regime(t);
        fprintf(stderr, "ovica %s: trained at step %zu of %zu (%zu steps in %.1f s); route: %s; ",
                cmd, first + done_steps, steps, done_steps, now_seconds() - pr.t0,
                rg >= 0 && rg <= 3 ? routes[rg] : "?");
        if (kept_best)
            fprintf(stderr, "kept the best basis (monitor objective %.6g); ", best);
        else
            fprintf(stderr, "kept the final basis; ");
        fprintf(stderr, "model saved to %s%s%s\n", out, c->checkpoint ? ", checkpoint to " : "",
                c->checkpoint ? c->checkpoint : "");
    }
    if (model_out != NULL) {
        st = ovica_model_clone(model_out, ovica_trainer_model(t));
        if (st != OVICA_OK) {
            cli_fail(cmd, st, "cannot copy the model");
            goto done;
        }
    }
    code = CLI_EXIT_OK;
done:
    if (caught) restore_signals(old_sa);
    if (log != NULL) {
        fclose(log);
        unlink(logtmp);
    }
    ovica_trainer_free(t);
    ovica_model_free(model);
    ovica_prior_free(prior);
    return code;
}

/* ------------------------------------------------------------------------ */
/* train                                                                    */

static const char train_help[] =
    "usage: ovica train --data X.npy --atoms N --out MODEL [options]\n"
    "       ovica train --data X.npy --resume CHECKPOINT --out MODEL [options]\n"
    "\n"
    "Learns a basis A (m x N atoms) for data X (rows are samples) by overcomplete\n"
    "ICA and saves the model (A, sigma, the prior) to MODEL. Progress goes to\n"
    "stderr: a bar on a terminal, a line every 5% of the steps otherwise; it shows\n"
    "the batch objective (the mean MAP objective per sample of the step's batch:\n"
    "it moves with the batch and the annealed noise) and the monitor best (the\n"
    "lowest negative log-likelihood per sample so far on the fixed monitor batch,\n"
    "the basis --keep best keeps): different quantities, not comparable.\n"
    "\n"
    "Every output path is checked before training (exit 2 if one cannot be\n"
    "written). A run that does not finish (Ctrl-C or SIGTERM: after the current\n"
    "step, exit 130 or 143; a failed step, such as a NaN in a batch; a write\n"
    "failure) saves the best basis so far to MODEL.partial.ovm (MODEL's .ovm\n"
    "replaced), says so, and leaves MODEL alone. A data file with fewer rows\n"
    "than columns (transposed?) or fewer rows than atoms is refused (exit 2)\n"
    "unless --force is given.\n";

/* (two strings: one would pass the 4095 characters C99 compilers must take) */
static const char train_help_options[] =
    "\n"
    "options:\n"
    "  --data X.npy       the data, N x m (required)\n"
    "  --atoms N          number of atoms, >= 1 (required)\n"
    "  --out MODEL        the model file to write (required)\n"
    "  --prior NAME       laplace or exponential (non-negative codes); default exponential\n"
    "  --scale B          scale of the prior (E|s| = B), > 0; default 1\n"
    "  --sigma S          noise standard deviation of the model, > 0; default 0.05\n"
    "  --rule NAME        natural, plain, reconstruction, exact, em, auto or\n"
    "                     dictionary; default auto: a probe of 50 steps on the\n"
    "                     sparse route (dictionary: exact MAP codes at a threshold\n"
    "                     set from the estimated noise, a block update of unit\n"
    "                     atoms) decides; sparse sources stay on it, dense ones\n"
    "                     (many active per sample) get the exact likelihood\n"
    "                     gradient from posterior draws, the draws' noise annealed\n"
    "                     from 30 sigma down to sigma (--sigma) over the first 60%%\n"
    "                     of the remaining steps. On the sparse route --sigma and\n"
    "                     --scale are hints: the trainer estimates the noise\n"
    "  --solver NAME      MAP solver: pg, ista, fista, active (exact active-set) or\n"
    "                     auto (active for the built-in priors); default: the\n"
    "                     trainer's (auto)\n"
    "  --steps K          number of steps, >= 1; default: the trainer's (650)\n"
    "  --batch B          samples per step (0: all, and the trainer draws the rows\n"
    "                     of each step itself); default 0. With B < N each step\n"
    "                     reads its B rows from the file (memory-mapped, so the data\n"
    "                     need not fit in memory): every pass over the data visits\n"
    "                     blocks of contiguous rows in a new random order (by the seed)\n"
    "  --block R          rows per block of that shuffling, >= 1; default B/16\n"
    "  --max-samples N    use only the first N rows of the data (0: all); default 0\n"
    "  --lr R             base learning rate, > 0; default: the trainer's (0.3)\n"
    "  --schedule NAME    constant, or cosine (linear warm-up, cosine decay);\n"
    "                     default: the trainer's (cosine)\n"
    "  --init NAME        random, spread, data or auto (the trainer's choice: data\n"
    "                     on the sparse route, spread for the draws); default auto\n"
    "  --seed S           seed of the random generator; default 1\n"
    "  --keep WHICH       final, or best (the basis with the best monitor objective;\n"
    "                     the monitor does not run on the sparse route); default final\n"
    "  --log FILE.csv     write one line of statistics per step (for 'ovica plot --curve')\n"
    "  --checkpoint FILE  also save the training state (a checkpoint: the model plus\n"
    "                     the step, the parameters and the best basis) to FILE at the\n"
    "                     end, on Ctrl-C or SIGTERM, and every --checkpoint-every steps\n"
    "  --checkpoint-every K  steps between checkpoints; default: a tenth of the steps\n"
    "  --resume FILE      go on from a checkpoint: the model, rule, parameters and\n"
    "                     step come from FILE (--prior, --scale, --sigma, --rule and\n"
    "                     --init are then refused); --steps, if given, is the new\n"
    "                     total; give the same --data, --batch, --block,\n"
    "                     --max-samples and --seed\n"
    "  --truth A.npy      the true basis (m x n_true), when known: the log and the\n"
    "                     progress show the angle error, and the recovery table is\n"
    "                     printed at the end\n"
    "  --force            train on data with fewer rows than columns or than atoms\n"
    "  --quiet            no progress and no summary\n";

int cmd_train(int argc, char **argv)
{
    const char *data = NULL, *out = NULL, *log = NULL, *truth = NULL, *checkpoint = NULL,
               *resume = NULL;
    uint64_t atoms = 0, steps = 300, batch = 0, seed = 1, every = 0, block = 0, max_samples = 0;
    int prior = 1, rule = 5, solver = -1, schedule = -1, init = INIT_AUTO, keep = 1, quiet = 0,
        force = 0;
    double sigma = 0.05, scale = 1.0, lr = 0;
    const cli_opt opts[] = {
        {"data", CLI_STRING, &data, 0, 0, 0, NULL},
        {"atoms", CLI_U64, &atoms, 1, 1e6, 0, NULL},
        {"out", CLI_STRING, &out, 0, 0, 0, NULL},
        {"prior", CLI_CHOICE, &prior, 0, 0, 0, cli_prior_names},
        {"scale", CLI_DOUBLE, &scale, 0, 1e12, CLI_LO_OPEN, NULL},
        {"sigma", CLI_DOUBLE, &sigma, 0, 1e12, CLI_LO_OPEN, NULL},
        {"rule", CLI_CHOICE, &rule, 0, 0, 0, cli_rule_names},
        {"solver", CLI_CHOICE, &solver, 0, 0, 0, cli_solver_names},
        {"steps", CLI_U64, &steps, 1, 1e9, 0, NULL},
        {"batch", CLI_U64, &batch, 0, 1e9, 0, NULL},
        {"block", CLI_U64, &block, 1, 1e12, 0, NULL},
        {"max-samples", CLI_U64, &max_samples, 0, 1e15, 0, NULL},
        {"lr", CLI_DOUBLE, &lr, 0, 100, CLI_LO_OPEN, NULL},
        {"schedule", CLI_CHOICE, &schedule, 0, 0, 0, schedule_names},
        {"init", CLI_CHOICE, &init, 0, 0, 0, init_names},
        {"seed", CLI_U64, &seed, 0, 18446744073709551615.0, 0, NULL},
        {"keep", CLI_CHOICE, &keep, 0, 0, 0, keep_names},
        {"log", CLI_STRING, &log, 0, 0, 0, NULL},
        {"truth", CLI_STRING, &truth, 0, 0, 0, NULL},
        {"checkpoint", CLI_STRING, &checkpoint, 0, 0, 0, NULL},
        {"checkpoint-every", CLI_U64, &every, 1, 1e12, 0, NULL},
        {"resume", CLI_STRING, &resume, 0, 0, 0, NULL},
        {"quiet", CLI_FLAG, &quiet, 0, 0, 0, NULL},
        {"force", CLI_FLAG, &force, 0, 0, 0, NULL},
    };
    unsigned char seen[COUNT(opts)];
    static char help[sizeof train_help + sizeof train_help_options];
    snprintf(help, sizeof help, "%s%s", train_help, train_help_options);
    int r = cli_options("train", help, argc, argv, opts, COUNT(opts), NULL, 0, NULL, seen);
    if (r >= 0) return r;
    if (data == NULL) return cli_usage("train", "--data is required");
    if (atoms == 0 && resume == NULL) return cli_usage("train", "--atoms is required");
    if (resume != NULL) {
        static const char *const fixed[] = {"prior", "scale", "sigma", "rule", "init"};
        for (size_t i = 0; i < COUNT(opts); i++)
            for (size_t j = 0; j < COUNT(fixed); j++)
                if (seen[i] && strcmp(opts[i].name, fixed[j]) == 0)
                    return cli_usage("train", "--%s comes from the checkpoint with --resume",
                                     fixed[j]);
    }
    int steps_given = 0;
    for (size_t i = 0; i < COUNT(opts); i++)
        if (seen[i] && strcmp(opts[i].name, "steps") == 0) steps_given = 1;
    if (every == 0) every = steps >= 10 ? steps / 10 : 1;
    if (out == NULL) return cli_usage("train", "--out is required");
    /* Every output is checked before the data are read and before the
     * first step: a run must not end in a file it cannot write. */
    if (cli_check_output("train", "--out", out) || (log && cli_check_output("train", "--log", log)) ||
        (checkpoint && cli_check_output("train", "--checkpoint", checkpoint)))
        return CLI_EXIT_USAGE;
    if ((log && strcmp(log, out) == 0) || (checkpoint && strcmp(checkpoint, out) == 0) ||
        (log && checkpoint && strcmp(log, checkpoint) == 0))
        return cli_usage("train", "--out, --log and --checkpoint must name different files");
    char partial[4200];
    if (partial_path(partial, sizeof partial, out) != 0 ||
        cli_check_output("train", "the partial model", partial))
        return CLI_EXIT_USAGE;
    double *X = NULL, *T = NULL;
    size_t N = 0, m = 0, tm = 0, tn = 0;
    ovica_npy_file *file = NULL;
    int x_lib = 0; /* X from ovica_npy_read (ovica_free) or malloc (free) */
    batch_src src;
    memset(&src, 0, sizeof src);
    /* A regular file is opened and read by rows (memory-mapped); anything
     * else (a pipe, say) is read whole. */
    struct stat sb;
    int st = stat(data, &sb) == 0 && !S_ISREG(sb.st_mode) ? OVICA_ENOTSUP
                                                           : ovica_npy_open(&file, data);
    if (st == OVICA_ENOTSUP) {
        double *all = NULL;
        if (cli_read_npy("train", "the data", data, &all, &N, &m)) return CLI_EXIT_FAIL;
        X = all;
        x_lib = 1;
        st = OVICA_OK;
    } else if (st == OVICA_OK) {
        st = ovica_npy_file_shape(file, &N, &m);
    }
    if (st != OVICA_OK) return cli_fail("train", st, "cannot read the data");
    if (max_samples > 0 && max_samples < N) N = (size_t)max_samples;
    /* A transposed file (dimensions as rows), or too few samples for the
     * atoms, trains without complaint into nonsense: refused unless --force. */
    const char *shape_warning = NULL;
    char shape_msg[400];
    if (N < m) {
        snprintf(shape_msg, sizeof shape_msg,
                 "the data have %zu rows and %zu columns: fewer samples than dimensions "
                 "(rows must be samples, columns dimensions: is the file transposed?)", N, m);
        shape_warning = shape_msg;
    } else if (atoms > 0 && N < atoms) {
        snprintf(shape_msg, sizeof shape_msg,
                 "the data have %zu rows (samples), fewer than the %zu atoms", N, (size_t)atoms);
        shape_warning = shape_msg;
    }
    if (shape_warning != NULL && !force) {
        ovica_npy_close(file);
        if (x_lib) ovica_free(X);
        else free(X);
        return cli_usage("train", "%s; give --force to train anyway", shape_warning);
    }
    if (shape_warning != NULL && !quiet)
        fprintf(stderr, "ovica train: warning: %s (training anyway: --force)\n", shape_warning);
    size_t B = batch == 0 || batch >= N ? N : (size_t)batch;
    if (B == N && file != NULL) { /* every step uses all the rows: read them once */
        X = N <= SIZE_MAX / m / sizeof *X ? malloc(N * m * sizeof *X) : NULL;
        if (X == NULL) {
            ovica_npy_close(file);
            return cli_fail("train", 0, "cannot hold the %zu x %zu data in memory", N, m);
        }
        st = ovica_npy_read_rows(file, 0, N, X, m);
        ovica_npy_close(file);
        file = NULL;
        if (st != OVICA_OK) {
            free(X); /* (malloc) */
            return cli_fail("train", st, "cannot read the data");
        }
    }
    if (B == N) {
        src.X = X;
        src.N = src.B = N;
        src.m = m;
    } else if (src_stream(&src, file, X, N, m, B,
                          block > 0 ? (size_t)block : (B >= 16 ? B / 16 : 1), seed) != OVICA_OK) {
        ovica_npy_close(file);
        if (x_lib) ovica_free(X);
        else free(X);
        return cli_fail("train", OVICA_ENOMEM, "cannot allocate the batch buffers");
    }
    if (truth != NULL) {
        if (cli_read_npy("train", "the true basis", truth, &T, &tm, &tn)) {
            src_free(&src);
            ovica_npy_close(file);
            if (x_lib) ovica_free(X);
            else free(X);
            return CLI_EXIT_FAIL;
        }
        if (tm != m) {
            src_free(&src);
            ovica_npy_close(file);
            if (x_lib) ovica_free(X);
            else free(X);
            ovica_free(T);
            return cli_fail("train", 0, "the true basis has %zu rows, the data %zu columns", tm, m);
        }
    }
    train_cfg c = {(size_t)atoms, prior, sigma, scale, solver, rule, (size_t)steps,
                   (size_t)batch, lr, schedule, init, seed, keep, quiet, log, T, tn,
                   checkpoint, (size_t)every, resume, steps_given, data};
    ovica_model *model = NULL;
    int code = train_run("train", &c, &src, out, T ? &model : NULL);
    if (code == CLI_EXIT_OK && model != NULL) {
        int st = cli_recovery_table(stdout, ovica_model_basis(model), m, ovica_model_atoms(model),
                                    T, tn, ovica_prior_domain(ovica_model_prior(model)) ==
                                               OVICA_DOMAIN_NONNEG,
                                    3.0, NULL, 0, NULL);
        if (st != OVICA_OK) code = cli_fail("train", st, "cannot compare the bases");
    }
    ovica_model_free(model);
    src_free(&src);
    ovica_npy_close(file);
    if (x_lib) ovica_free(X);
    else free(X);
    ovica_free(T);
    return code;
}

/* ------------------------------------------------------------------------ */
/* demo                                                                     */

static const char demo_help[] =
    "usage: ovica demo [--out DIR] [options]\n"
    "\n"
    "The article's 2-D experiment end to end: 3 exponential sources mixed by atoms\n"
    "at 90, 210 and 330 degrees, 20000 samples with noise 0.05; training from a\n"
    "spread initialisation with the trainer's defaults; the recovery table; and a\n"
    "picture, DIR/demo.svg (the data with the true and learned atoms as arrows,\n"
    "and the training curve). Also writes DIR/data.npy, DIR/truth.npy,\n"
    "DIR/model.ovm and DIR/train.csv.\n"
    "\n"
    "options:\n"
    "  --out DIR       output directory (created if missing); default ovica-demo\n"
    "  --set NAME      regular3 or irregular4 (4 atoms at 15, 38, 140, 250 degrees);\n"
    "                  default regular3\n"
    "  --prior NAME    exponential or laplace; default exponential\n"
    "  --samples N     default 20000\n"
    "  --noise S       default 0.05 (also the model's sigma)\n"
    "  --steps K       training steps; default: the trainer's (650)\n"
    "  --seed S        default 1\n"
    "  --quiet         no progress (the table is still printed)\n";

static int join(char *dst, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(dst, cap, "%s/%s", dir, name);
    return n < 0 || (size_t)n >= cap;
}

int cmd_demo(int argc, char **argv)
{
    static const char *const sets[] = {"regular3", "irregular4", NULL};
    const char *dir = "ovica-demo";
    int set = 0, prior = 1, quiet = 0;
    uint64_t samples = 20000, steps = 0, seed = 1; /* steps 0: the trainer's default */
    double noise = 0.05;
    const cli_opt opts[] = {
        {"out", CLI_STRING, &dir, 0, 0, 0, NULL},
        {"set", CLI_CHOICE, &set, 0, 0, 0, sets},
        {"prior", CLI_CHOICE, &prior, 0, 0, 0, cli_prior_names},
        {"samples", CLI_U64, &samples, 1, 1e8, 0, NULL},
        {"noise", CLI_DOUBLE, &noise, 0, 1e6, CLI_LO_OPEN, NULL},
        {"steps", CLI_U64, &steps, 1, 1e9, 0, NULL},
        {"seed", CLI_U64, &seed, 0, 18446744073709551615.0, 0, NULL},
        {"quiet", CLI_FLAG, &quiet, 0, 0, 0, NULL},
    };
    int r = cli_options("demo", demo_help, argc, argv, opts, COUNT(opts), NULL, 0, NULL, NULL);
    if (r >= 0) return r;
    if (dir[0] == '\0') return cli_usage("demo", "--out must not be empty");
    char p_data[4096], p_truth[4096], p_model[4096], p_log[4096], p_svg[4096];
    if (join(p_data, sizeof p_data, dir, "data.npy") || join(p_truth, sizeof p_truth, dir, "truth.npy") ||
        join(p_model, sizeof p_model, dir, "model.ovm") || join(p_log, sizeof p_log, dir, "train.csv") ||
        join(p_svg, sizeof p_svg, dir, "demo.svg"))
        return cli_usage("demo", "--out is too long");
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return cli_fail("demo", 0, "cannot create the directory '%s': %s", dir, strerror(errno));
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return cli_fail("demo", 0, "'%s' is not a directory", dir);

    const size_t m = 2, n = set == 0 ? 3 : 4, N = (size_t)samples;
    double A[8], *S = malloc(N * n * sizeof *S), *X = malloc(N * m * sizeof *X), *codes = NULL;
    ovica_rng *rng = NULL;
    ovica_model *model = NULL;
    int code = CLI_EXIT_FAIL, st;
    if (S == NULL || X == NULL) {
        cli_fail("demo", 0, "out of memory");
        goto done;
    }
    st = ovica_rng_new(&rng, seed);
    if (st == OVICA_OK)
        st = ovica_synth_basis_2d(set == 0 ? OVICA_SYNTH_REGULAR3 : OVICA_SYNTH_IRREGULAR4, A, m, n);
    if (st == OVICA_OK)
        st = ovica_synth_sources(rng, prior == 0 ? OVICA_PRIOR_LAPLACE : OVICA_PRIOR_EXPONENTIAL,
                                 1.0, 1.0, S, N, n);
    if (st == OVICA_OK) st = ovica_synth_mix(rng, A, m, n, S, N, noise, X);
    if (st != OVICA_OK) {
        cli_fail("demo", st, "cannot generate the data");
        goto done;
    }
    if (cli_write_npy("demo", p_data, X, N, m) || cli_write_npy("demo", p_truth, A, m, n)) goto done;
    if (!quiet)
        printf("data: %zu samples of %zu %s sources mixed by the %s basis, noise %g -> %s\n", N, n,
               cli_prior_names[prior], sets[set], noise, p_data);
    fflush(stdout);

    train_cfg c = {n, prior, noise, 1.0, -1, 5, (size_t)steps, 0, 0, -1, INIT_AUTO, seed, 1, quiet,
                   p_log, A, n, NULL, 0, NULL, steps != 0, NULL};
    batch_src src;
    memset(&src, 0, sizeof src);
    src.X = X;
    src.N = src.B = N;
    src.m = m;
    code = train_run("demo", &c, &src, p_model, &model);
    if (code != CLI_EXIT_OK) goto done;
    code = CLI_EXIT_FAIL;

    size_t conv = 0;
    double obj = 0;
    st = cli_encode(model, "auto", 1000, 1e-6, X, N, &codes, &conv, &obj);
    if (st != OVICA_OK) {
        cli_fail("demo", st, "inference failed");
        goto done;
    }
    int use_sign = prior == 1;
    size_t match[4];
    printf("\nrecovery of the %zu true atoms (%s matching):\n", n, use_sign ? "signed" : "sign-free");
    st = cli_recovery_table(stdout, ovica_model_basis(model), m, n, A, n, use_sign, 3.0, codes, N,
                            match);
    if (st != OVICA_OK) {
        cli_fail("demo", st, "cannot compare the bases");
        goto done;
    }
    fflush(stdout);
    char title[160];
    snprintf(title, sizeof title, "ovica demo: %zu %s sources (%s), %zu samples, noise %g, %zu steps",
             n, cli_prior_names[prior], sets[set], N, noise, c.steps);
    if (cli_plot("demo", p_svg, title, X, N, m, ovica_model_basis(model), n, A, n, use_sign, p_log,
                 3000))
        goto done;
    printf("\nwrote %s, %s, %s, %s and %s\n", p_data, p_truth, p_model, p_log, p_svg);
    code = CLI_EXIT_OK;
done:
    ovica_rng_free(rng);
    ovica_model_free(model);
    free(S);
    free(X);
    free(codes);
    return code;
}

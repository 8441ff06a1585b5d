/* ovica train and ovica demo: a training run (the trainer, its loop, its
 * log, the partial model of a run that does not finish); the progress
 * display, the signals and the batches are shared with ovica separate
 * (progress.c, signals.c, batches.c). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <ovica.h>

#include "batches.h"
#include "cli.h"
#include "progress.h"
#include "signals.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const schedule_names[] = {"constant", "cosine", NULL};
/* indices 0-2 are enum ovica_init_method; "auto": the trainer's own choice */
static const char *const init_names[] = {"random", "spread", "data", "auto", NULL};
enum { INIT_AUTO = 3 };
static const char *const keep_names[] = {"best", "final", NULL};
/* --precision: auto, then enum ovica_precision's SINGLE and DOUBLE */
static const char *const precision_names[] = {"auto", "single", "double", NULL};

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
    double stop;          /* < 0: the trainer's default convergence test */
    size_t threads;       /* 0: the trainer's default */
    int init;             /* enum ovica_init_method, or INIT_AUTO */
    uint64_t seed;
    int keep;             /* 0 best, 1 final */
    int quiet;
    const char *log;      /* CSV log, or NULL */
    const double *truth;  /* true basis (m x n_true) for the error curve, or NULL */
    size_t n_true;
    const char *checkpoint;  /* checkpoint file to write, or NULL */
    size_t checkpoint_every; /* steps between checkpoints (0: a tenth of the planned steps) */
    const char *resume;      /* checkpoint to resume from, or NULL */
    int steps_given;         /* steps given: else the trainer's default (new run) or the
                                saved plan (resume) */
    const char *data_name;   /* the data file, for messages (NULL: in memory) */
    int precision;           /* enum ovica_precision of the codes (0: the trainer's
                                default, double for the rows read as doubles) */
} train_cfg;

/* Names the first non-finite value of step k's batch (B x m) by its row in
 * the data file, and counts the batch's rows that hold one. */
static void report_nonfinite(const char *cmd, const train_cfg *c, cli_batches *src, size_t k,
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
    size_t row = cli_batches_row(src, k, first);
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

/* Saves the model; on error prints why. 0 or CLI_EXIT_FAIL. */
static int save_model(const char *cmd, const ovica_model *model, const char *path)
{
    int st = ovica_model_save(model, path);
    if (st != OVICA_OK) return cli_fail(cmd, st, "cannot save the model");
    return 0;
}

/* ------------------------------------------------------------------------ */
/* A training run                                                           */

/* The state of train_run, shared by its parts. */
typedef struct {
    const char *cmd, *out;
    train_cfg *c;
    cli_batches *src;
    size_t m, atoms;
    size_t steps, first; /* the planned total, the step the run starts at */
    size_t done_steps;   /* steps done by this run */
    int settled;         /* the run stopped early: ovica_trainer_converged */
    size_t at;           /* the step the trainer is at, for messages */
    int use_sign;        /* signed matching (a non-negative prior) */
    int keep_best;
    ovica_prior *prior;
    ovica_model *model;
    ovica_trainer *t;
    FILE *log;
    char logtmp[4200];
    cli_progress pr;
    cli_signals sig;
} train_state;

/* A new trainer (a new model from the settings), or the one of the
 * checkpoint c->resume; sets atoms, first and use_sign. 0 or CLI_EXIT_FAIL. */
static int run_make_trainer(train_state *r)
{
    const train_cfg *c = r->c;
    int st;
    if (c->resume == NULL) {
        st = c->prior == 0 ? ovica_prior_laplace_new(&r->prior, c->scale)
                           : ovica_prior_exponential_new(&r->prior, c->scale);
        if (st == OVICA_OK) st = ovica_model_new(&r->model, r->m, r->atoms, r->prior, c->sigma);
        if (st != OVICA_OK) return cli_fail(r->cmd, st, "cannot make the model");
        const ovica_rule_type *rule = ovica_rule_type_find(cli_rule_names[c->rule]);
        st = rule ? ovica_trainer_new(&r->t, r->model, rule, cli_mix_seed(c->seed, SALT_TRAINER))
                  : OVICA_EINVAL;
        if (st != OVICA_OK) return cli_fail(r->cmd, st, "cannot set up the trainer");
        return 0;
    }
    st = ovica_checkpoint_load(&r->t, c->resume);
    if (st != OVICA_OK) return cli_fail(r->cmd, st, "cannot resume");
    const ovica_model *md = ovica_trainer_model(r->t);
    if (ovica_model_dim(md) != r->m)
        return cli_fail(r->cmd, 0, "the checkpoint's dimension is %zu, the data have %zu columns",
                        ovica_model_dim(md), r->m);
    if (r->atoms != 0 && r->atoms != ovica_model_atoms(md))
        return cli_fail(r->cmd, 0, "the checkpoint has %zu atoms, not %zu",
                        ovica_model_atoms(md), r->atoms);
    r->atoms = ovica_model_atoms(md);
    r->use_sign = ovica_prior_domain(ovica_model_prior(md)) == OVICA_DOMAIN_NONNEG;
    r->first = ovica_trainer_step_index(r->t);
    return 0;
}

/* The planned steps (--steps, else the trainer's default or the saved
 * plan) and the options that override the trainer's parameters. */
static int run_set_params(train_state *r)
{
    const train_cfg *c = r->c;
    int st;
    if (c->steps_given) {
        r->steps = c->steps;
        st = ovica_trainer_set_param(r->t, OVICA_TRAIN_STEPS, (double)r->steps);
    } else {
        double planned = 0;
        st = ovica_trainer_get_param(r->t, OVICA_TRAIN_STEPS, &planned);
        r->steps = (size_t)planned;
    }
    r->c->steps = r->steps; /* what the run plans, for the caller */
    if (c->checkpoint_every == 0) /* not given: a tenth of the planned steps */
        r->c->checkpoint_every = r->steps >= 10 ? r->steps / 10 : 1;
    if (st == OVICA_OK && c->lr > 0) st = ovica_trainer_set_param(r->t, OVICA_TRAIN_LR, c->lr);
    if (st == OVICA_OK && c->schedule >= 0)
        st = ovica_trainer_set_param(r->t, OVICA_TRAIN_SCHEDULE, (double)c->schedule);
    if (st == OVICA_OK && c->stop >= 0)
        st = ovica_trainer_set_param(r->t, OVICA_TRAIN_STOP, c->stop);
    if (st == OVICA_OK && c->threads > 0)
        st = ovica_trainer_set_param(r->t, OVICA_TRAIN_THREADS, (double)c->threads);
    if (st == OVICA_OK && c->precision != OVICA_PRECISION_INPUT)
        st = ovica_trainer_set_param(r->t, OVICA_TRAIN_PRECISION, (double)c->precision);
    if (st == OVICA_OK && c->solver >= 0)
        st = ovica_trainer_set_solver(r->t, ovica_solver_type_find(cli_solver_names[c->solver]));
    if (st != OVICA_OK) return cli_fail(r->cmd, st, "cannot set up the trainer");
    if (r->first >= r->steps)
        return cli_fail(r->cmd, 0, "the checkpoint is at step %zu of %zu: nothing left to do "
                                   "(give --steps)", r->first, r->steps);
    return 0;
}

/* --init other than auto: the initial basis from the rows of the first step
 * (all the rows when they are in memory). */
static int run_init_basis(train_state *r)
{
    if (r->c->resume != NULL || r->c->init == INIT_AUTO) return 0;
    const double *X0 = NULL;
    size_t N0 = 0;
    int st = cli_batches_get(r->src, 0, &X0, &N0);
    if (st == OVICA_OK) st = ovica_trainer_init_basis(r->t, r->c->init, X0, N0, r->m);
    if (st == OVICA_ENONFINITE) {
        report_nonfinite(r->cmd, r->c, r->src, 0, X0, N0, r->m);
        fprintf(stderr, "ovica %s: cannot initialise the basis from the rows of step 1\n", r->cmd);
        return CLI_EXIT_FAIL;
    }
    if (st != OVICA_OK) return cli_fail(r->cmd, st, "cannot initialise the basis");
    return 0;
}

static int run_open_log(train_state *r)
{
    if (r->c->log == NULL) return 0;
    r->log = cli_create(r->cmd, r->c->log, r->logtmp, sizeof r->logtmp);
    if (r->log == NULL) return CLI_EXIT_FAIL;
    fputs("step,objective,mse,active,dead,lr,sigma_t,update,monitor,best,guard,draws,"
          "max_angle,mean_angle\n", r->log);
    return 0;
}

/* Closes the log and renames it into place (once). 0 or CLI_EXIT_FAIL. */
static int run_commit_log(train_state *r)
{
    if (r->log == NULL) return 0;
    FILE *f = r->log;
    r->log = NULL;
    return cli_commit(r->cmd, f, r->logtmp, r->c->log);
}

/* A step that failed (st: reading its rows when batch is NULL, else the
 * step itself): says why and saves the basis so far. */
static int run_step_failed(train_state *r, size_t k, int st, const double *batch, size_t B)
{
    cli_progress_break(&r->pr);
    if (batch == NULL) {
        cli_fail(r->cmd, st, "cannot read the rows of step %zu", k + 1);
    } else if (st == OVICA_ENONFINITE) {
        report_nonfinite(r->cmd, r->c, r->src, k, batch, B, r->m);
        fprintf(stderr, "ovica %s: training step %zu failed on it\n", r->cmd, k + 1);
    } else {
        cli_fail(r->cmd, st, "training step %zu failed", k + 1);
    }
    if (r->done_steps > 0) save_partial(r->cmd, r->t, r->keep_best, r->out, k);
    return CLI_EXIT_FAIL;
}

/* After step k: the error against the true atoms (every step while that is
 * cheap), the log line and the progress. */
static void run_report_step(train_state *r, size_t k, const ovica_step_stats *s)
{
    const train_cfg *c = r->c;
    double amax = NAN, amean = NAN;
    if (c->truth != NULL && (c->n_true * r->atoms <= 10000 || (k + 1) % 10 == 0 ||
                             k + 1 == r->steps)) {
        ovica_recovery rec = OVICA_RECOVERY_INIT;
        if (ovica_recovery_eval(ovica_model_basis(ovica_trainer_model(r->t)), r->m,
                                r->atoms, c->truth, c->n_true, r->use_sign, 3.0, NULL, 0,
                                &rec) == OVICA_OK) {
            amax = rec.max_angle_deg;
            amean = rec.mean_angle_deg;
            r->pr.angle = amax;
        }
    }
    if (r->log)
        fprintf(r->log, "%zu,%.10g,%.10g,%.6g,%zu,%.6g,%.6g,%.6g,%.10g,%.10g,%d,%d,%.6g,%.6g\n",
                s->step + 1, s->objective, s->mse, s->active, s->dead, s->lr, s->sigma_t,
                s->update, s->monitor, s->best, s->guard, s->rule, amax, amean);
    cli_progress_step(&r->pr, r->cmd, s, k + 1 == r->steps || cli_interrupted());
}

/* The loop: steps first .. steps - 1 until done or a signal, with the
 * checkpoints every c->checkpoint_every steps. 0 or CLI_EXIT_FAIL. */
static int run_steps(train_state *r)
{
    const train_cfg *c = r->c;
    int code = 0;
    cli_progress_init(&r->pr, c->quiet, r->steps);
    cli_signals_catch(&r->sig);
    for (size_t k = r->first; k < r->steps && !cli_interrupted(); k++) {
        const double *batch = NULL;
        size_t B = 0;
        r->at = k;
        if (ovica_trainer_converged(r->t) == 1) { /* settled: the rest would not move it */
            r->settled = 1;
            break;
        }
        int st = cli_batches_get(r->src, k, &batch, &B);
        if (st != OVICA_OK) {
            code = run_step_failed(r, k, st, NULL, 0);
            break;
        }
        ovica_step_stats s = OVICA_STEP_STATS_INIT;
        st = ovica_trainer_step(r->t, batch, B, r->m, &s);
        if (st != OVICA_OK) {
            code = run_step_failed(r, k, st, batch, B);
            break;
        }
        r->done_steps++;
        r->at = k + 1;
        run_report_step(r, k, &s);
        if (c->checkpoint != NULL && c->checkpoint_every > 0 &&
            (k + 1) % c->checkpoint_every == 0 && k + 1 < r->steps && !cli_interrupted()) {
            st = ovica_checkpoint_save(r->t, c->checkpoint);
            if (st != OVICA_OK) {
                cli_progress_break(&r->pr);
                cli_fail(r->cmd, st, "cannot write the checkpoint");
                save_partial(r->cmd, r->t, r->keep_best, r->out, r->at);
                code = CLI_EXIT_FAIL;
                break;
            }
        }
    }
    cli_progress_break(&r->pr);
    cli_signals_restore(&r->sig);
    return code;
}

/* The checkpoint at the end holds the state as it is (before the best basis
 * is put back), so that a resumed run goes on from where this one stopped. */
static int run_final_checkpoint(train_state *r)
{
    if (r->c->checkpoint == NULL) return 0;
    int st = ovica_checkpoint_save(r->t, r->c->checkpoint);
    if (st == OVICA_OK) return 0;
    cli_fail(r->cmd, st, "cannot write the checkpoint");
    save_partial(r->cmd, r->t, r->keep_best, r->out, r->at);
    return CLI_EXIT_FAIL;
}

/* A run stopped by a signal is not the requested model: its basis goes to
 * OUT.partial.ovm, and OUT is left as it was. Returns the exit code. */
static int run_stopped(train_state *r)
{
    const int sig = cli_interrupted();
    (void)run_commit_log(r);
    if (!r->c->quiet)
        fprintf(stderr, "ovica %s: interrupted by %s at step %zu of %zu (%zu steps in "
                        "%.1f s)%s%s\n", r->cmd, cli_signal_name(sig),
                r->first + r->done_steps, r->steps, r->done_steps, cli_now() - r->pr.t0,
                r->c->checkpoint ? "; checkpoint saved to " : "",
                r->c->checkpoint ? r->c->checkpoint : "");
    if (save_partial(r->cmd, r->t, r->keep_best && r->done_steps > 0, r->out, r->at) != 0)
        return CLI_EXIT_FAIL;
    return cli_signal_exit(sig);
}

/* The summary line of a finished run. */
static void run_summary(const train_state *r, int kept_best, double best)
{
    static const char *const routes[] = {
        "undecided (stopped in auto's probe)", "sparse (MAP codes, noise estimated)",
        "dense (posterior draws)", "MAP codes"};
    const int rg = ovica_trainer_regime(r->t);
    fprintf(stderr, "ovica %s: trained at step %zu of %zu (%zu steps in %.1f s%s); route: %s; ",
            r->cmd, r->first + r->done_steps, r->steps, r->done_steps, cli_now() - r->pr.t0,
            r->settled ? "; settled, so stopped early: --stop 0 takes every step" : "",
            rg >= 0 && rg <= 3 ? routes[rg] : "?");
    if (kept_best)
        fprintf(stderr, "kept the best basis (monitor objective %.6g); ", best);
    else
        fprintf(stderr, "kept the final basis; ");
    fprintf(stderr, "model saved to %s%s%s\n", r->out, r->c->checkpoint ? ", checkpoint to " : "",
            r->c->checkpoint ? r->c->checkpoint : "");
}

/* A finished run: the best basis put back (--keep best, once the monitor
 * has run), the log and the model written, the summary. Returns the exit
 * code; *model_out (if not NULL) receives a copy of the saved model. */
static int run_save(train_state *r, ovica_model **model_out)
{
    int kept_best = 0;
    double best = NAN;
    if (r->keep_best && r->done_steps > 0) {
        double *tmpA = malloc(r->m * r->atoms * sizeof *tmpA);
        if (tmpA && ovica_trainer_best_basis(r->t, tmpA, r->m, r->atoms, &best) == OVICA_OK &&
            ovica_trainer_restore_best(r->t) == OVICA_OK)
            kept_best = 1;
        free(tmpA);
    }
    if (run_commit_log(r) || save_model(r->cmd, ovica_trainer_model(r->t), r->out)) {
        save_partial(r->cmd, r->t, 0, r->out, r->at); /* the best basis is already in place */
        return CLI_EXIT_FAIL;
    }
    if (!r->c->quiet) run_summary(r, kept_best, best);
    if (model_out != NULL) {
        int st = ovica_model_clone(model_out, ovica_trainer_model(r->t));
        if (st != OVICA_OK) return cli_fail(r->cmd, st, "cannot copy the model");
    }
    return CLI_EXIT_OK;
}

/*
 * Trains a model on the batches of src and saves it to `out`. Returns
 * CLI_EXIT_OK, CLI_EXIT_FAIL, or CLI_EXIT_INTERRUPTED / CLI_EXIT_TERMINATED
 * (the basis so far saved to OUT.partial.ovm first). On success *model_out
 * (if not NULL) receives a copy of the saved model.
 */
static int train_run(const char *cmd, train_cfg *c, cli_batches *src, const char *out,
                     ovica_model **model_out)
{
    train_state r;
    memset(&r, 0, sizeof r);
    r.cmd = cmd;
    r.out = out;
    r.c = c;
    r.src = src;
    r.m = src->m;
    r.atoms = c->atoms;
    r.use_sign = c->prior == 1;
    r.keep_best = c->keep == 0;
    int code = CLI_EXIT_FAIL;
    if (!run_make_trainer(&r) && !run_set_params(&r) && !run_init_basis(&r) &&
        !run_open_log(&r) && !run_steps(&r) && !run_final_checkpoint(&r))
        code = cli_interrupted() ? run_stopped(&r) : run_save(&r, model_out);
    cli_signals_restore(&r.sig);
    if (r.log != NULL) {
        fclose(r.log);
        unlink(r.logtmp);
    }
    ovica_trainer_free(r.t);
    ovica_model_free(r.model);
    ovica_prior_free(r.prior);
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

/* (three strings: one would pass the 4095 characters C99 compilers must take) */
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
    "                     (a second probe of up to 50 steps runs, with the noise\n"
    "                     estimated from refitted codes, when the first ends\n"
    "                     above the line: many active atoms a sample)\n"
    "  --solver NAME      MAP solver: pg, ista, fista, active (exact active-set) or\n"
    "                     auto (active for the built-in priors); default: the\n"
    "                     trainer's (auto)\n"
    "  --steps K          number of steps, >= 1; default: the trainer's (650)\n"
    "  --stop TOL         on the sparse route, stop before --steps once the basis has\n"
    "                     settled: at most 5%% of the atoms turned by more than\n"
    "                     1 - cos = TOL over 25 steps, the atoms' mean move no\n"
    "                     longer shrinking and the noise estimate steady (0: take\n"
    "                     every step); default: the trainer's (0.002)\n"
    "  --threads T        threads for the exact codes' per-sample work (the GEMMs\n"
    "                     use OPENBLAS_NUM_THREADS); the result does not depend on\n"
    "                     it; default: the trainer's (1)\n"
    "  --batch B          samples per step (0: all, and the trainer draws the rows\n"
    "                     of each step itself); default 0. With B < N each step\n"
    "                     reads its B rows from the file (memory-mapped, so the data\n"
    "                     need not fit in memory): every pass over the data visits\n"
    "                     blocks of contiguous rows in a new random order (by the seed)\n"
    "  --block R          rows per block of that shuffling, >= 1; default B/16\n"
    "  --max-samples N    use only the first N rows of the data (0: all); default 0\n"
    "  --precision P      the arithmetic of the codes: single, double or auto (single\n"
    "                     for a float32 file, double otherwise); the statistics and\n"
    "                     the update are in double either way; default auto\n"
    ;
static const char train_help_options2[] =
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

/* The options of ovica train. */
typedef struct {
    const char *data, *out, *log, *truth, *checkpoint, *resume;
    uint64_t atoms, steps, batch, seed, every, block, max_samples, threads;
    int prior, rule, solver, schedule, init, keep, quiet, force, precision;
    double sigma, scale, lr, stop;
    int steps_given;
} train_opts;

/* Parses train's options into o and checks those that go together. Returns
 * -1 to go on, else the exit code (0 after --help). */
static int train_parse(int argc, char **argv, train_opts *o)
{
    *o = (train_opts){.steps = 300, .seed = 1, .prior = 1, .rule = 5, .solver = -1,
                      .schedule = -1, .init = INIT_AUTO, .keep = 1, .sigma = 0.05,
                      .scale = 1.0, .stop = -1.0};
    const cli_opt opts[] = {
        {"data", CLI_STRING, &o->data, 0, 0, 0, NULL},
        {"atoms", CLI_U64, &o->atoms, 1, 1e6, 0, NULL},
        {"out", CLI_STRING, &o->out, 0, 0, 0, NULL},
        {"prior", CLI_CHOICE, &o->prior, 0, 0, 0, cli_prior_names},
        {"scale", CLI_DOUBLE, &o->scale, 0, 1e12, CLI_LO_OPEN, NULL},
        {"sigma", CLI_DOUBLE, &o->sigma, 0, 1e12, CLI_LO_OPEN, NULL},
        {"rule", CLI_CHOICE, &o->rule, 0, 0, 0, cli_rule_names},
        {"solver", CLI_CHOICE, &o->solver, 0, 0, 0, cli_solver_names},
        {"steps", CLI_U64, &o->steps, 1, 1e9, 0, NULL},
        {"batch", CLI_U64, &o->batch, 0, 1e9, 0, NULL},
        {"block", CLI_U64, &o->block, 1, 1e12, 0, NULL},
        {"max-samples", CLI_U64, &o->max_samples, 0, 1e15, 0, NULL},
        {"lr", CLI_DOUBLE, &o->lr, 0, 100, CLI_LO_OPEN, NULL},
        {"schedule", CLI_CHOICE, &o->schedule, 0, 0, 0, schedule_names},
        {"stop", CLI_DOUBLE, &o->stop, 0, 1, 0, NULL},
        {"threads", CLI_U64, &o->threads, 1, 256, 0, NULL},
        {"precision", CLI_CHOICE, &o->precision, 0, 0, 0, precision_names},
        {"init", CLI_CHOICE, &o->init, 0, 0, 0, init_names},
        {"seed", CLI_U64, &o->seed, 0, 18446744073709551615.0, 0, NULL},
        {"keep", CLI_CHOICE, &o->keep, 0, 0, 0, keep_names},
        {"log", CLI_STRING, &o->log, 0, 0, 0, NULL},
        {"truth", CLI_STRING, &o->truth, 0, 0, 0, NULL},
        {"checkpoint", CLI_STRING, &o->checkpoint, 0, 0, 0, NULL},
        {"checkpoint-every", CLI_U64, &o->every, 1, 1e12, 0, NULL},
        {"resume", CLI_STRING, &o->resume, 0, 0, 0, NULL},
        {"quiet", CLI_FLAG, &o->quiet, 0, 0, 0, NULL},
        {"force", CLI_FLAG, &o->force, 0, 0, 0, NULL},
    };
    unsigned char seen[COUNT(opts)];
    static char help[sizeof train_help + sizeof train_help_options + sizeof train_help_options2];
    snprintf(help, sizeof help, "%s%s%s", train_help, train_help_options, train_help_options2);
    int r = cli_options("train", help, argc, argv, opts, COUNT(opts), NULL, 0, NULL, seen);
    if (r >= 0) return r;
    if (o->data == NULL) return cli_usage("train", "--data is required");
    if (o->atoms == 0 && o->resume == NULL) return cli_usage("train", "--atoms is required");
    static const char *const fixed[] = {"prior", "scale", "sigma", "rule", "init"};
    for (size_t i = 0; i < COUNT(opts); i++) {
        if (!seen[i]) continue;
        for (size_t j = 0; j < COUNT(fixed) && o->resume != NULL; j++)
            if (strcmp(opts[i].name, fixed[j]) == 0)
                return cli_usage("train", "--%s comes from the checkpoint with --resume",
                                 fixed[j]);
        if (strcmp(opts[i].name, "steps") == 0) o->steps_given = 1;
    }
    if (o->out == NULL) return cli_usage("train", "--out is required");
    return -1;
}

/* Every output is checked before the data are read and before the first
 * step: a run must not end in a file it cannot write. 0 or CLI_EXIT_USAGE. */
static int train_check_outputs(const train_opts *o)
{
    const char *out = o->out, *log = o->log, *checkpoint = o->checkpoint;
    if (cli_check_output("train", "--out", out) ||
        (log && cli_check_output("train", "--log", log)) ||
        (checkpoint && cli_check_output("train", "--checkpoint", checkpoint)))
        return CLI_EXIT_USAGE;
    if ((log && strcmp(log, out) == 0) || (checkpoint && strcmp(checkpoint, out) == 0) ||
        (log && checkpoint && strcmp(log, checkpoint) == 0))
        return cli_usage("train", "--out, --log and --checkpoint must name different files");
    char partial[4200];
    if (partial_path(partial, sizeof partial, out) != 0 ||
        cli_check_output("train", "the partial model", partial))
        return CLI_EXIT_USAGE;
    return 0;
}

/* The data of ovica train: all in memory (X) or an opened file read by
 * rows; the true basis; the batches. */
typedef struct {
    double *X;
    int x_lib;            /* X from ovica_npy_read (ovica_free) or malloc (free) */
    ovica_npy_file *file;
    size_t N, m;
    double *T;            /* the true basis (m x tn), or NULL */
    size_t tn;
    cli_batches src;
    int f32;              /* the file holds float32 values */
} train_data;

static void data_free(train_data *d)
{
    cli_batches_free(&d->src);
    ovica_npy_close(d->file);
    if (d->x_lib) ovica_free(d->X);
    else free(d->X);
    ovica_free(d->T);
    memset(d, 0, sizeof *d);
}

/* A regular file is opened and read by rows (memory-mapped); anything else
 * (a pipe, say) is read whole. Only the first max_samples rows count (0:
 * all). 0 or CLI_EXIT_FAIL. */
static int data_open(train_data *d, const char *path, uint64_t max_samples)
{
    struct stat sb;
    int st = stat(path, &sb) == 0 && !S_ISREG(sb.st_mode) ? OVICA_ENOTSUP
                                                           : ovica_npy_open(&d->file, path);
    if (st == OVICA_ENOTSUP) {
        if (cli_read_npy("train", "the data", path, &d->X, &d->N, &d->m)) return CLI_EXIT_FAIL;
        d->x_lib = 1;
        st = OVICA_OK;
    } else if (st == OVICA_OK) {
        st = ovica_npy_file_shape(d->file, &d->N, &d->m);
        int dtype = OVICA_NPY_FLOAT64;
        if (st == OVICA_OK) st = ovica_npy_file_format(d->file, &dtype, NULL, NULL);
        d->f32 = dtype == OVICA_NPY_FLOAT32;
    }
    if (st != OVICA_OK) return cli_fail("train", st, "cannot read the data");
    if (max_samples > 0 && max_samples < d->N) d->N = (size_t)max_samples;
    return 0;
}

/* --precision (index in precision_names) as an enum ovica_precision: auto
 * is single for a float32 file (its rows, read as doubles, round back to
 * float exactly) and double otherwise. */
static int data_precision(const train_data *d, int choice)
{
    if (choice == 1) return OVICA_PRECISION_SINGLE;
    if (choice == 2) return OVICA_PRECISION_DOUBLE;
    return d->f32 ? OVICA_PRECISION_SINGLE : OVICA_PRECISION_DOUBLE;
}

/* A transposed file (dimensions as rows), or too few samples for the atoms,
 * trains without complaint into nonsense: refused unless --force. */
static int data_check_shape(const train_data *d, const train_opts *o)
{
    char msg[400];
    if (d->N < d->m)
        snprintf(msg, sizeof msg,
                 "the data have %zu rows and %zu columns: fewer samples than dimensions "
                 "(rows must be samples, columns dimensions: is the file transposed?)", d->N,
                 d->m);
    else if (o->atoms > 0 && d->N < o->atoms)
        snprintf(msg, sizeof msg, "the data have %zu rows (samples), fewer than the %zu atoms",
                 d->N, (size_t)o->atoms);
    else
        return 0;
    if (!o->force) return cli_usage("train", "%s; give --force to train anyway", msg);
    if (!o->quiet) fprintf(stderr, "ovica train: warning: %s (training anyway: --force)\n", msg);
    return 0;
}

/* The batches: all the rows at every step (read once), or B of them
 * streamed by shuffled blocks. 0 or CLI_EXIT_FAIL. */
static int data_batches(train_data *d, const train_opts *o)
{
    const size_t N = d->N, m = d->m;
    size_t B = o->batch == 0 || o->batch >= N ? N : (size_t)o->batch;
    if (B == N && d->file != NULL) { /* every step uses all the rows: read them once */
        d->X = N <= SIZE_MAX / m / sizeof *d->X ? malloc(N * m * sizeof *d->X) : NULL;
        if (d->X == NULL)
            return cli_fail("train", 0, "cannot hold the %zu x %zu data in memory", N, m);
        int st = ovica_npy_read_rows(d->file, 0, N, d->X, m);
        ovica_npy_close(d->file);
        d->file = NULL;
        if (st != OVICA_OK) return cli_fail("train", st, "cannot read the data");
    }
    if (B == N) {
        cli_batches_all(&d->src, d->X, N, m);
        return 0;
    }
    size_t block = o->block > 0 ? (size_t)o->block : (B >= 16 ? B / 16 : 1);
    if (cli_batches_shuffle(&d->src, d->file, d->X, N, m, B, block, o->seed) != OVICA_OK)
        return cli_fail("train", OVICA_ENOMEM, "cannot allocate the batch buffers");
    return 0;
}

/* --truth: the true basis, m x tn. 0 or CLI_EXIT_FAIL. */
static int data_truth(train_data *d, const char *truth)
{
    if (truth == NULL) return 0;
    size_t tm = 0;
    if (cli_read_npy("train", "the true basis", truth, &d->T, &tm, &d->tn)) return CLI_EXIT_FAIL;
    if (tm != d->m)
        return cli_fail("train", 0, "the true basis has %zu rows, the data %zu columns", tm, d->m);
    return 0;
}

int cmd_train(int argc, char **argv)
{
    train_opts o;
    int r = train_parse(argc, argv, &o);
    if (r >= 0) return r;
    if (train_check_outputs(&o)) return CLI_EXIT_USAGE;
    train_data d;
    memset(&d, 0, sizeof d);
    int code = data_open(&d, o.data, o.max_samples);
    if (code == 0) code = data_check_shape(&d, &o);
    if (code == 0) code = data_batches(&d, &o);
    if (code == 0) code = data_truth(&d, o.truth);
    if (code != 0) {
        data_free(&d);
        return code;
    }
    train_cfg c = {(size_t)o.atoms, o.prior, o.sigma, o.scale, o.solver, o.rule, (size_t)o.steps,
                   (size_t)o.batch, o.lr, o.schedule, o.stop, (size_t)o.threads, o.init, o.seed, o.keep, o.quiet, o.log,
                   d.T, d.tn, o.checkpoint, (size_t)o.every, o.resume, o.steps_given, o.data,
                   data_precision(&d, o.precision)};
    ovica_model *model = NULL;
    code = train_run("train", &c, &d.src, o.out, d.T ? &model : NULL);
    if (code == CLI_EXIT_OK && model != NULL) {
        int st = cli_recovery_table(stdout, ovica_model_basis(model), d.m,
                                    ovica_model_atoms(model), d.T, d.tn,
                                    ovica_prior_domain(ovica_model_prior(model)) ==
                                        OVICA_DOMAIN_NONNEG,
                                    3.0, NULL, 0, NULL);
        if (st != OVICA_OK) code = cli_fail("train", st, "cannot compare the bases");
    }
    ovica_model_free(model);
    data_free(&d);
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

/* The demo's files in its directory. */
typedef struct {
    char data[4096], truth[4096], model[4096], log[4096], svg[4096];
} demo_paths;

/* The file names in `dir`, and the directory (created if missing). Returns
 * 0 or the exit code. */
static int demo_make_dir(demo_paths *p, const char *dir)
{
    if (join(p->data, sizeof p->data, dir, "data.npy") ||
        join(p->truth, sizeof p->truth, dir, "truth.npy") ||
        join(p->model, sizeof p->model, dir, "model.ovm") ||
        join(p->log, sizeof p->log, dir, "train.csv") || join(p->svg, sizeof p->svg, dir, "demo.svg"))
        return cli_usage("demo", "--out is too long");
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return cli_fail("demo", 0, "cannot create the directory '%s': %s", dir, strerror(errno));
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return cli_fail("demo", 0, "'%s' is not a directory", dir);
    return 0;
}

/* The data: N samples of n sources (S, N x n) mixed by the set's basis A
 * (2 x n) with noise, into X (N x 2); X and A written to their files. 0 or
 * CLI_EXIT_FAIL. */
static int demo_data(const demo_paths *p, int set, int prior, double noise, uint64_t seed,
                     double *A, size_t n, double *S, double *X, size_t N)
{
    const size_t m = 2;
    ovica_rng *rng = NULL;
    int st = ovica_rng_new(&rng, seed);
    if (st == OVICA_OK)
        st = ovica_synth_basis_2d(set == 0 ? OVICA_SYNTH_REGULAR3 : OVICA_SYNTH_IRREGULAR4, A, m, n);
    if (st == OVICA_OK)
        st = ovica_synth_sources(rng, prior == 0 ? OVICA_PRIOR_LAPLACE : OVICA_PRIOR_EXPONENTIAL,
                                 1.0, 1.0, S, N, n);
    if (st == OVICA_OK) st = ovica_synth_mix(rng, A, m, n, S, N, noise, X);
    ovica_rng_free(rng);
    if (st != OVICA_OK) return cli_fail("demo", st, "cannot generate the data");
    if (cli_write_npy("demo", p->data, X, N, m) || cli_write_npy("demo", p->truth, A, m, n))
        return CLI_EXIT_FAIL;
    return 0;
}

/* The recovery table (with the codes of the data, for the dead atoms) and
 * the picture. 0 or CLI_EXIT_FAIL. */
static int demo_report(const demo_paths *p, const ovica_model *model, const double *X, size_t N,
                       const double *A, size_t n, int use_sign, const char *title)
{
    const size_t m = 2;
    double *codes = NULL, obj = 0;
    size_t conv = 0, match[4];
    int st = cli_encode(model, "auto", 1000, 1e-6, X, N, &codes, &conv, &obj);
    if (st != OVICA_OK) return cli_fail("demo", st, "inference failed");
    printf("\nrecovery of the %zu true atoms (%s matching):\n", n, use_sign ? "signed" : "sign-free");
    st = cli_recovery_table(stdout, ovica_model_basis(model), m, n, A, n, use_sign, 3.0, codes, N,
                            match);
    free(codes);
    if (st != OVICA_OK) return cli_fail("demo", st, "cannot compare the bases");
    fflush(stdout);
    return cli_plot("demo", p->svg, title, X, N, m, ovica_model_basis(model), n, A, n, use_sign,
                    p->log, 3000);
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
    demo_paths p;
    if ((r = demo_make_dir(&p, dir)) != 0) return r;

    const size_t m = 2, n = set == 0 ? 3 : 4, N = (size_t)samples;
    double A[8], *S = malloc(N * n * sizeof *S), *X = malloc(N * m * sizeof *X);
    ovica_model *model = NULL;
    int code = CLI_EXIT_FAIL;
    if (S == NULL || X == NULL) {
        cli_fail("demo", 0, "out of memory");
        goto done;
    }
    if (demo_data(&p, set, prior, noise, seed, A, n, S, X, N)) goto done;
    if (!quiet)
        printf("data: %zu samples of %zu %s sources mixed by the %s basis, noise %g -> %s\n", N, n,
               cli_prior_names[prior], sets[set], noise, p.data);
    fflush(stdout);

    train_cfg c = {n, prior, noise, 1.0, -1, 5, (size_t)steps, 0, 0, -1, -1.0, 0, INIT_AUTO, seed, 1, quiet,
                   p.log, A, n, NULL, 0, NULL, steps != 0, NULL, 0};
    cli_batches src;
    cli_batches_all(&src, X, N, m);
    code = train_run("demo", &c, &src, p.model, &model);
    if (code != CLI_EXIT_OK) goto done;

    char title[160];
    snprintf(title, sizeof title, "ovica demo: %zu %s sources (%s), %zu samples, noise %g, %zu steps",
             n, cli_prior_names[prior], sets[set], N, noise, c.steps);
    code = demo_report(&p, model, X, N, A, n, prior == 1, title);
    if (code == 0)
        printf("\nwrote %s, %s, %s, %s and %s\n", p.data, p.truth, p.model, p.log, p.svg);
done:
    ovica_model_free(model);
    free(S);
    free(X);
    return code;
}

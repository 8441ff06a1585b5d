/* The trainer's state, shared by the trainer's sources (src/trainer.c:
 * parameters and lifecycle; trainer_schedule.c, trainer_init.c,
 * trainer_stats.c, trainer_guard.c, trainer_apply.c; trainer_sparse.c: the
 * sparse route and auto's choice of regime), the rule types under
 * src/rule/ (through src/rule_internal.h) and src/checkpoint.c. Private. */
#ifndef OVICA_TRAINER_INTERNAL_H
#define OVICA_TRAINER_INTERNAL_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"
#include "ovica/trainer.h"

#define N_PARAMS (OVICA_TRAIN_PRECISION + 1) /* the length of enum ovica_train_param */

/* Offsets into the flat statistics array. */
enum { ST_SAMPLES, ST_DRAWS, ST_OBJ, ST_SQ, ST_ACTIVE, ST_XX, ST_SQ_REFIT, ST_HEAD };

struct ovica_trainer {
    ovica_model *model;
    const ovica_rule_type *rule;
    void *rule_state;          /* rule->state_size bytes, or NULL (src/rule_internal.h) */
    ovica_solver *solver;      /* MAP codes of the training batches */
    ovica_solver *mon_solver;  /* MAP codes of the monitor batch (warm-started) */
    ovica_sampler *sampler;
    ovica_rng *rng;
    double param[N_PARAMS];
    ovica_schedule_fn lr_fn, sigma_fn;
    void *lr_user, *sigma_user;
    size_t m, n;
    size_t step;
    double lr_scale;           /* product of back-offs after rollbacks */

    double *stats;             /* flat statistics, stats_len doubles */
    size_t stats_len;
    double *zs, *xs, *ss, *act; /* views into stats */
    int have_stats;

    double *S;                 /* N x n codes of the last batch (chains) */
    double *R;                 /* N x m residual of the last batch */
    double *Z;                 /* N x n scores */
    double *bnd;               /* n x n boundary term of one accumulate */
    size_t cap;                /* rows S, R, Z can hold */
    size_t last_N;             /* rows of the last batch (warm start) */
    uint64_t last_hash;        /* content hash of the last batch */
    const void *seen_X;        /* the last batch whose every row was checked finite ... */
    size_t seen_N;             /* ... and its rows (a step that draws rows from it checks only those) */

    double *worst;             /* m: worst-reconstructed sample of the last batch (for re-seeding) */
    int have_worst;
    size_t *last_active;       /* n: last step each atom was active */
    double *usage;             /* n: moving average of activity */

    double *mon_X, *mon_S;     /* monitor batch and its codes */
    size_t mon_N;
    int mon_fresh;             /* mon_S holds no codes yet */
    double *best_A;            /* m x n */
    double best;               /* best monitor objective; NAN if none */

    double *A1, *prev;         /* m x n work: new basis, basis before the update */
    double *last_dir;          /* m x n: direction of the last gradient update */
    int have_last_dir;
    const ovica_rule_type *last_rule; /* the type that made last_dir */
    double *W1, *W2;           /* n x n, max(m,n) x max(m,n) work */
    double *wk;                /* the statistics' per-thread scratch (trainer_stats.c):
                                * per worker a support (n) and a Cholesky factor with its
                                * solve (m x m + m) */
    size_t wk_n;               /* workers it holds */
    double *rowst;             /* 4 x cap: per-sample statistics of the last batch */
    double *mom, *var;         /* m x n: Adam's moving averages of dA and dA^2 */
    double adam_n;             /* Adam steps since the moments were reset */
    int strikes;               /* monitor evaluations in a row above the divergence threshold */

    /* the sparse route and auto's regime (src/trainer_sparse.c) */
    int regime;                /* enum ovica_regime */
    int reinit;                /* auto turned dense: spread atoms at the next batch */
    size_t phase0;             /* step at which auto's dense route started */
    size_t dict_steps;         /* sparse steps since the running statistics were reset */
    double sig2;               /* running noise variance estimate (< 0: none yet) */
    double unexpl;             /* running fraction of the data's energy left unexplained */
    double data_ms;            /* running mean square entry of the data */
    double kfrac;              /* running mean number of active codes per sample / m */
    double sigma0, b0;         /* the host's sigma and prior scale */
    double *dC, *dB;           /* n x n, m x n: running <s s^T>, <x s^T> */
    double *conv_A;            /* m x n: the basis at the last evaluation of the convergence test */
    double conv_sig, conv_move; /* its noise estimate; the mean move of the atoms over the lag before */
    size_t conv_steps;         /* sparse steps since the test was reset */
    int conv_have, converged;  /* evaluations since the reset (capped at 2); the verdict */
    double *Xsub;              /* rows drawn from a large batch, cap_sub x m */
    size_t cap_sub;
    /* single-precision codes (OVICA_TRAIN_PRECISION): the step's rows and
     * codes in float, cap_f rows */
    float *Xf, *Sf;
    size_t cap_f;
    int last_single;           /* the last batch was coded in single precision */
    size_t sub_N;              /* rows of the last batch as used (drawn or all) */
    size_t worst_row;          /* row of the worst-reconstructed sample in t->R, t->S */
    double *probe_A;           /* m x n: the host's basis at the start of auto's probe */
    int probe_started, host_basis;
    int noise_refit;           /* the sparse route's noise estimate reads the refitted residuals */
    size_t probe_ext;          /* steps auto's probe was extended by (the second probe) */
    double probe_d0;           /* D at the end of the first probe */
};


/* Column helpers on a row-major m x n matrix. */
static inline double col_norm(const double *A, size_t m, size_t n, size_t j)
{
    double s = 0.0;
    for (size_t i = 0; i < m; i++) s += A[i * n + j] * A[i * n + j];
    return sqrt(s);
}

/* Mean length of the n atoms (columns) of A. */
static inline double mean_col_norm(const double *A, size_t m, size_t n)
{
    double mean = 0.0;
    for (size_t j = 0; j < n; j++) mean += col_norm(A, m, n, j) / (double)n;
    return mean;
}

static inline void normalise_columns(double *A, size_t m, size_t n)
{
    for (size_t j = 0; j < n; j++) {
        double c = col_norm(A, m, n, j);
        if (c > 0.0)
            for (size_t i = 0; i < m; i++) A[i * n + j] /= c;
    }
}

static inline double frob(const double *A, size_t len)
{
    double s = 0.0;
    for (size_t i = 0; i < len; i++) s += A[i] * A[i];
    return sqrt(s);
}


/* ---- src/trainer.c: parameters, lifecycle, per-batch arrays ---- */

/* Checks a batch passed to the trainer (fn names the caller). */
/* The batch's shape (NULL, N, x_dim), without the finiteness check. */
int ovica__trainer_check_shape(const char *fn, const ovica_trainer *t, const void *X, size_t N,
                               size_t x_dim);
int ovica__trainer_check_batch(const char *fn, const ovica_trainer *t, const double *X, size_t N,
                               size_t x_dim);
/* Grows the per-batch arrays S, R, Z to N rows (forgets the last batch). */
int ovica__trainer_ensure_rows(ovica_trainer *t, size_t N);

/* ---- src/trainer_schedule.c ---- */

/* Step k and the planned steps as the schedules see them (auto's dense
 * route starts its schedules where the probe ended). */
void ovica__schedule_clock(const ovica_trainer *t, size_t k, size_t *kk, size_t *TT);
/* The learning rate of step k (schedule times the back-offs), the noise
 * level of its posterior draws; OVICA_EUSER when a host's schedule
 * returns an invalid value. */
int ovica__current_lr(const ovica_trainer *t, size_t k, double *lr);
int ovica__current_sigma(const ovica_trainer *t, size_t k, double *sigma);
/* The rule type step k runs (ovica_rule_auto resolves to another). */
const ovica_rule_type *ovica__rule_at(const ovica_trainer *t, size_t k);

/* ---- src/trainer_guard.c ---- */

/* Negative mean log-likelihood per sample of the monitor batch; OVICA_DONE
 * (and NaN) when there is no verdict. */
int ovica__monitor_objective(ovica_trainer *t, double *obj);
/* Back to the best basis (or `fallback` if none yet), with the learning
 * rate backed off. */
int ovica__rollback(ovica_trainer *t, const double *fallback);
/* The guards ovica_trainer_apply runs after an update, in this order. */
int ovica__guard_dead_atoms(ovica_trainer *t, size_t k, int *guard, size_t *dead);
int ovica__guard_split(ovica_trainer *t, const ovica_rule_type *rule, double sigma_t, int *guard);
int ovica__guard_monitor(ovica_trainer *t, const ovica_rule_type *rule, size_t k, int *guard,
                         double *mon);

/* ---- src/trainer_sparse.c ---- */

/* The threshold mu / sigma of the sparse route. */
double ovica__dict_kappa(const ovica_trainer *t);
/* Rows a step uses when the host passes more (by route). */
size_t ovica__step_rows(const ovica_trainer *t, int draws);
/* Draws `rows` rows of X (N x m) with replacement into t->Xsub; of Xf,
 * widened, when X is NULL. */
int ovica__draw_rows(ovica_trainer *t, const double *X, const float *Xf, size_t N, size_t rows);
/* t->Xsub holds at least rows rows. */
int ovica__sub_rows(ovica_trainer *t, size_t rows);
/* Before a sparse step's codes: the model's sigma and prior scale from the
 * running noise estimate (the first batch X starts it). */
int ovica__dict_prepare(ovica_trainer *t, const double *X, size_t N);
/* The sparse route's new basis into A1 (statistics in t->xs, t->ss,
 * t->stats; the swap move from the last batch's R and S); sets *guard
 * flags. Returns a status; OVICA_ENUMERIC for a non-finite update (the
 * caller rolls back). */
int ovica__dict_apply(ovica_trainer *t, double *A1, int *guard);
/* auto: decides the regime at the end of the probe (or starts a second
 * probe with the refitted noise estimate). */
int ovica__auto_decide(ovica_trainer *t);
/* The sparse route's noise estimate turns to the refitted residuals if D
 * is above OVICA_TRAIN_REGIME_AT (a pinned threshold). */
void ovica__noise_check(ovica_trainer *t);
/* auto's second probe: decides early where D says so (trainer_sparse.c). */
int ovica__probe_check(ovica_trainer *t);
/* auto at its first batch: remembers a basis the host set before it. */
void ovica__auto_start(ovica_trainer *t);
/* Checkpoints: the regime state (src/checkpoint.c). */
typedef struct {
    int regime;
    uint64_t phase0;
    double sig2, unexpl, data_ms, sigma0, b0;
    int noise_refit;
    uint64_t probe_ext;
    double probe_d0;
} ovica__regime_state;
void ovica__regime_get(const ovica_trainer *t, ovica__regime_state *rs);
int ovica__regime_set(ovica_trainer *t, const ovica__regime_state *rs);
/* Resets the sparse route's running statistics (a new basis). */
void ovica__dict_reset(ovica_trainer *t);
/* Drops atom j from the running statistics (re-seeded or swapped). */
void ovica__dict_forget_atom(ovica_trainer *t, size_t j);
/* The convergence test (ovica_trainer_converged), after each sparse step. */
void ovica__conv_update(ovica_trainer *t);

#endif /* OVICA_TRAINER_INTERNAL_H */

/* The trainer's parameters and lifecycle: the parameter table, making and
 * freeing a trainer, its accessors and setters (solver, schedules, basis,
 * best basis, step index, sampler seed) and the per-batch arrays. The
 * rest of the trainer, along its seams (src/trainer_internal.h is the
 * shared private header):
 *   trainer_schedule.c  learning-rate and noise schedules, which rule runs a step
 *   trainer_init.c      the first basis (random, spread, from the data; cover)
 *   trainer_stats.c     one batch's codes and sufficient statistics; export/import
 *   trainer_guard.c     the monitor, rollback, dead atoms, duplicate split
 *   trainer_apply.c     ovica_trainer_apply (in named parts) and ovica_trainer_step
 *   trainer_sparse.c    the sparse route and auto's choice of regime
 * The rules' arithmetic is in their type objects under src/rule/. See
 * include/ovica/trainer.h. */
#include <math.h>
#include <string.h>

#include "param.h"
#include "rule_internal.h"

static const ovica__param param_info[] = {
    [OVICA_TRAIN_LR] = {"lr", 0.0, 100.0, 0.3, OVICA__PARAM_DOUBLE, 1},
    [OVICA_TRAIN_STEPS] = {"steps", 1.0, 1e12, 650.0, OVICA__PARAM_INT, 0},
    [OVICA_TRAIN_SCHEDULE] = {"schedule", 0.0, 1.0, 1.0, OVICA__PARAM_BOOL, 0},
    [OVICA_TRAIN_WARMUP] = {"warmup", 0.0, 1.0, 0.1, OVICA__PARAM_DOUBLE, 0},
    [OVICA_TRAIN_Z] = {"z", 0.0, 1.0, OVICA_Z_PRIOR, OVICA__PARAM_INT, 0},
    [OVICA_TRAIN_ANNEAL] = {"anneal", 1.0, 1e6, 30.0, OVICA__PARAM_DOUBLE, 0},
    [OVICA_TRAIN_ANNEAL_FRACTION] = {"anneal_fraction", 0.0, 1.0, 0.6, OVICA__PARAM_DOUBLE, 0},
    [OVICA_TRAIN_EM_FRACTION] = {"em_fraction", 0.0, 1.0, 0.0, OVICA__PARAM_DOUBLE, 0},
    [OVICA_TRAIN_SWEEPS] = {"sweeps", 1.0, 1e4, 1.0, OVICA__PARAM_INT, 0},
    [OVICA_TRAIN_BURNIN] = {"burnin", 0.0, 1e4, 2.0, OVICA__PARAM_INT, 0},
    [OVICA_TRAIN_STEP_CAP] = {"step_cap", 0.0, 100.0, 0.1, OVICA__PARAM_DOUBLE, 0},
    [OVICA_TRAIN_DEAD_WINDOW] = {"dead_window", 0.0, 1e12, 50.0, OVICA__PARAM_INT, 0},
    [OVICA_TRAIN_RESEED] = {"reseed", 0.0, 1.0, 1.0, OVICA__PARAM_BOOL, 0},
    [OVICA_TRAIN_MONITOR_EVERY] = {"monitor_every", 0.0, 1e12, 25.0, OVICA__PARAM_INT, 0},
    [OVICA_TRAIN_MONITOR_SIZE] = {"monitor_size", 1.0, 1e9, 2048.0, OVICA__PARAM_INT, 0},
    [OVICA_TRAIN_DIVERGE] = {"diverge", 0.0, 1e6, 1.0, OVICA__PARAM_DOUBLE, 1},
    [OVICA_TRAIN_BACKOFF] = {"backoff", 0.0, 1.0, 0.5, OVICA__PARAM_DOUBLE, 1},
    [OVICA_TRAIN_SOLVER_ITER] = {"solver_iter", 1.0, 1e9, 300.0, OVICA__PARAM_INT, 0},
    [OVICA_TRAIN_SOLVER_TOL] = {"solver_tol", 0.0, 1.0, 1e-5, OVICA__PARAM_DOUBLE, 0},
    [OVICA_TRAIN_BETA] = {"beta", 0.0, 1e6, 10.0, OVICA__PARAM_DOUBLE, 1},
    [OVICA_TRAIN_DAMPING] = {"damping", 0.0, 1.0, 0.7, OVICA__PARAM_DOUBLE, 1},
    [OVICA_TRAIN_SPLIT] = {"split", 0.0, 90.0, 3.0, OVICA__PARAM_DOUBLE, 0},
    [OVICA_TRAIN_SPLIT_APART] = {"split_apart", 0.0, 45.0, 10.0, OVICA__PARAM_DOUBLE, 1},
    [OVICA_TRAIN_ADAM] = {"adam", 0.0, 1.0, 0.03, OVICA__PARAM_DOUBLE, 0},
    [OVICA_TRAIN_MOMENTUM] = {"momentum", 0.0, 0.999, 0.9, OVICA__PARAM_DOUBLE, 0},
    [OVICA_TRAIN_MIN_DRAWS] = {"min_draws", 0.0, 1e9, 5000.0, OVICA__PARAM_INT, 0},
    [OVICA_TRAIN_COLLAPSE] = {"collapse", 0.0, 1.0, 0.0, OVICA__PARAM_DOUBLE, 0},
    [OVICA_TRAIN_BATCH] = {"batch", 0.0, 1e9, 0.0, OVICA__PARAM_INT, 0},
    [OVICA_TRAIN_PROBE] = {"probe", 1.0, 1e12, 50.0, OVICA__PARAM_INT, 0},
    [OVICA_TRAIN_REGIME_AT] = {"regime_at", 0.0, 2.0, 0.6, OVICA__PARAM_DOUBLE, 0},
    [OVICA_TRAIN_THRESHOLD] = {"threshold", 0.0, 100.0, 0.0, OVICA__PARAM_DOUBLE, 0},
    [OVICA_TRAIN_WINDOW] = {"window", 1.0, 1e6, 10.0, OVICA__PARAM_INT, 0},
    [OVICA_TRAIN_SWAP] = {"swap", 0.0, 1e6, 1.0, OVICA__PARAM_DOUBLE, 0},
    [OVICA_TRAIN_STOP] = {"stop", 0.0, 1.0, 2e-3, OVICA__PARAM_DOUBLE, 0},
    [OVICA_TRAIN_THREADS] = {"threads", 1.0, 256.0, 1.0, OVICA__PARAM_INT, 0},
    [OVICA_TRAIN_PRECISION] = {"precision", 0.0, 2.0, OVICA_PRECISION_INPUT, OVICA__PARAM_INT, 0},
};
_Static_assert(sizeof param_info / sizeof param_info[0] == N_PARAMS,
               "one entry of param_info per trainer parameter");
static const ovica__param_table params = {"trainer", param_info, N_PARAMS};

/* ---------------------------------------------------------------- params */

int ovica_trainer_param_bounds(int param, double *lo, double *hi)
{
    OVICA__CHECK_NULL(lo, "lo");
    OVICA__CHECK_NULL(hi, "hi");
    return ovica__param_bounds(&params, param, lo, hi);
}

int ovica_trainer_param_count(void) { return params.count; }

const char *ovica_trainer_param_name(int param) { return ovica__param_name(&params, param); }

int ovica_trainer_param_find(const char *name, int *out)
{
    return ovica__param_find(&params, name, out);
}

int ovica_trainer_set_param(ovica_trainer *t, int param, double value)
{
    OVICA__CHECK_NULL(t, "trainer");
    int st = ovica__param_set(&params, t->param, param, value);
    if (st) return st;
    if (param == OVICA_TRAIN_SOLVER_ITER || param == OVICA_TRAIN_SOLVER_TOL) {
        ovica_solver_set_param(t->solver, OVICA_SOLVER_MAX_ITER, t->param[OVICA_TRAIN_SOLVER_ITER]);
        ovica_solver_set_param(t->solver, OVICA_SOLVER_TOL, t->param[OVICA_TRAIN_SOLVER_TOL]);
    }
    if (param == OVICA_TRAIN_THREADS)
        ovica_solver_set_param(t->solver, OVICA_SOLVER_THREADS, t->param[OVICA_TRAIN_THREADS]);
    return OVICA_OK;
}

int ovica_trainer_get_param(const ovica_trainer *t, int param, double *out)
{
    OVICA__CHECK_NULL(t, "trainer");
    OVICA__CHECK_NULL(out, "out");
    return ovica__param_get(&params, t->param, param, out);
}

/* ------------------------------------------------------------- lifecycle */

void ovica_trainer_free(ovica_trainer *t)
{
    if (t == NULL) return;
    if (t->rule != NULL && t->rule->free != NULL) t->rule->free(t, t->rule_state);
    ovica__free(t->rule_state);
    ovica_model_free(t->model);
    ovica_solver_free(t->solver);
    ovica_solver_free(t->mon_solver);
    ovica_sampler_free(t->sampler);
    ovica_rng_free(t->rng);
    ovica__free(t->stats);
    ovica__free(t->S);
    ovica__free(t->R);
    ovica__free(t->Z);
    ovica__free(t->bnd);
    ovica__free(t->worst);
    ovica__free(t->last_active);
    ovica__free(t->usage);
    ovica__free(t->mon_X);
    ovica__free(t->mon_S);
    ovica__free(t->best_A);
    ovica__free(t->A1);
    ovica__free(t->prev);
    ovica__free(t->last_dir);
    ovica__free(t->W1);
    ovica__free(t->W2);
    ovica__free(t->wk);
    ovica__free(t->rowst);
    ovica__free(t->mom);
    ovica__free(t->var);
    ovica__free(t->dC);
    ovica__free(t->dB);
    ovica__free(t->Xsub);
    ovica__free(t->Xf);
    ovica__free(t->Sf);
    ovica__free(t->probe_A);
    ovica__free(t->conv_A);
    ovica__free(t);
}

static int set_solver_params(ovica_solver *s, double iters, double tol, int warm, double threads)
{
    int st = ovica_solver_set_param(s, OVICA_SOLVER_MAX_ITER, iters);
    if (st == OVICA_OK) st = ovica_solver_set_param(s, OVICA_SOLVER_THREADS, threads);
    if (st == OVICA_OK) st = ovica_solver_set_param(s, OVICA_SOLVER_TOL, tol);
    if (st == OVICA_OK) st = ovica_solver_set_param(s, OVICA_SOLVER_WARM_START, warm);
    return st;
}

int ovica_trainer_new(ovica_trainer **out, const ovica_model *model, const ovica_rule_type *rule,
                      uint64_t seed)
{
    OVICA__CHECK_NULL(out, "out");
    OVICA__CHECK_NULL(model, "model");
    OVICA__CHECK_NULL(rule, "rule");
    if (!ovica__rule_valid(rule))
        return ovica__error(OVICA_EINVAL, "%s: not a rule type of this library", __func__);
    if (rule->version != OVICA__RULE_TYPE_VERSION)
        return ovica__error(OVICA_EVERSION, "%s: rule type '%s' has layout version %u, this "
                            "library %u", __func__, rule->name, rule->version,
                            (unsigned)OVICA__RULE_TYPE_VERSION);
    if (rule->draws && model->prior->kind == OVICA_PRIOR_USER)
        return ovica__error(OVICA_ENOTSUP,
                            "%s: rule '%s' needs posterior draws, which a user prior does not "
                            "support; use natural, plain or reconstruction",
                            __func__, rule->name);
    if ((rule->flags & OVICA__RULE_BUILTIN) && model->prior->kind == OVICA_PRIOR_USER)
        return ovica__error(OVICA_ENOTSUP,
                            "%s: rule '%s' tunes the prior's scale, which a user prior "
                            "does not have; use natural, plain or reconstruction",
                            __func__, rule->name);
    ovica_trainer *t = ovica__calloc(1, sizeof *t);
    if (t == NULL) return ovica__error(OVICA_ENOMEM, "cannot allocate a trainer");
    const size_t m = model->m, n = model->n, big = m > n ? m : n;
    t->m = m;
    t->n = n;
    t->rule = rule;
    t->lr_scale = 1.0;
    t->best = NAN;
    t->sig2 = -1.0;
    t->unexpl = NAN;
    t->sigma0 = model->sigma;
    t->b0 = model->prior->b;
    t->regime = rule->regime;
    ovica__param_defaults(&params, t->param);
    t->stats_len = ST_HEAD + n + 2 * n * n + m * n;
    int st = ovica_model_clone(&t->model, model);
    if (st == OVICA_OK) st = ovica_solver_new(&t->solver, ovica_solver_auto);
    if (st == OVICA_OK) st = ovica_solver_new(&t->mon_solver, ovica_solver_fista);
    if (st == OVICA_OK) st = ovica_sampler_new(&t->sampler, seed ^ 0x5DEECE66DULL);
    if (st == OVICA_OK) st = ovica_rng_new(&t->rng, seed);
    if (st == OVICA_OK)
        st = set_solver_params(t->solver, t->param[OVICA_TRAIN_SOLVER_ITER],
                               t->param[OVICA_TRAIN_SOLVER_TOL], 1, t->param[OVICA_TRAIN_THREADS]);
    if (st == OVICA_OK) st = set_solver_params(t->mon_solver, 2000, 1e-7, 1, 1.0);
    if (st == OVICA_OK) {
        t->stats = ovica__calloc(t->stats_len, sizeof(double));
        t->bnd = ovica__calloc(n * n, sizeof(double));
        t->worst = ovica__calloc(m, sizeof(double));
        t->last_active = ovica__calloc(n, sizeof(size_t));
        t->usage = ovica__calloc(n, sizeof(double));
        t->best_A = ovica__calloc(m * n, sizeof(double));
        t->A1 = ovica__calloc(m * n, sizeof(double));
        t->prev = ovica__calloc(m * n, sizeof(double));
        t->last_dir = ovica__calloc(m * n, sizeof(double));
        t->W1 = ovica__calloc(n * n, sizeof(double));
        t->W2 = ovica__calloc(big * big, sizeof(double));
        t->mom = ovica__calloc(m * n, sizeof(double));
        t->var = ovica__calloc(m * n, sizeof(double));
        t->dC = ovica__calloc(n * n, sizeof(double));
        t->dB = ovica__calloc(m * n, sizeof(double));
        t->probe_A = ovica__calloc(m * n, sizeof(double));
        t->conv_A = ovica__calloc(m * n, sizeof(double));
        if (!t->stats || !t->bnd || !t->worst || !t->last_active || !t->usage || !t->best_A ||
            !t->A1 || !t->prev || !t->last_dir || !t->W1 || !t->W2 || !t->mom || !t->var ||
            !t->dC || !t->dB || !t->probe_A || !t->conv_A)
            st = ovica__error(OVICA_ENOMEM, "cannot allocate the trainer's work memory");
    }
    if (st) {
        ovica_trainer_free(t);
        return st;
    }
    t->act = t->stats + ST_HEAD;
    t->zs = t->act + n;
    t->xs = t->zs + n * n;
    t->ss = t->xs + m * n;
    /* the rule's own state, after everything it may look at */
    if (rule->state_size > 0) {
        t->rule_state = ovica__calloc(1, rule->state_size);
        if (t->rule_state == NULL)
            st = ovica__error(OVICA_ENOMEM, "cannot allocate the state of rule '%s'", rule->name);
    }
    if (st == OVICA_OK && rule->init != NULL) {
        st = rule->init(t, t->rule_state);
        if (st) t->rule = NULL; /* init failed: nothing for the rule's free() to release */
    }
    if (st) {
        ovica_trainer_free(t);
        return st;
    }
    *out = t;
    return OVICA_OK;
}

const ovica_rule_type *ovica_trainer_rule(const ovica_trainer *t) { return t ? t->rule : NULL; }
const ovica_model *ovica_trainer_model(const ovica_trainer *t) { return t ? t->model : NULL; }
size_t ovica_trainer_step_index(const ovica_trainer *t) { return t ? t->step : 0; }

int ovica_trainer_set_step_index(ovica_trainer *t, size_t step)
{
    OVICA__CHECK_NULL(t, "trainer");
    t->step = step;
    return OVICA_OK;
}

int ovica_trainer_set_solver(ovica_trainer *t, const ovica_solver_type *type)
{
    OVICA__CHECK_NULL(t, "trainer");
    OVICA__CHECK_NULL(type, "type");
    ovica_solver *s = NULL;
    int st = ovica_solver_new(&s, type);
    if (st == OVICA_OK)
        st = set_solver_params(s, t->param[OVICA_TRAIN_SOLVER_ITER],
                               t->param[OVICA_TRAIN_SOLVER_TOL], 1, t->param[OVICA_TRAIN_THREADS]);
    if (st) {
        ovica_solver_free(s);
        return st;
    }
    ovica_solver_free(t->solver);
    t->solver = s;
    return OVICA_OK;
}

int ovica_trainer_set_lr_schedule(ovica_trainer *t, ovica_schedule_fn fn, void *user)
{
    OVICA__CHECK_NULL(t, "trainer");
    t->lr_fn = fn;
    t->lr_user = user;
    return OVICA_OK;
}

int ovica_trainer_set_sigma_schedule(ovica_trainer *t, ovica_schedule_fn fn, void *user)
{
    OVICA__CHECK_NULL(t, "trainer");
    t->sigma_fn = fn;
    t->sigma_user = user;
    return OVICA_OK;
}

int ovica_trainer_set_basis(ovica_trainer *t, const double *A, size_t rows, size_t cols)
{
    OVICA__CHECK_NULL(t, "trainer");
    int st = ovica_model_set_basis(t->model, A, rows, cols);
    if (st == OVICA_OK) {
        t->mon_fresh = 1;
        t->adam_n = 0.0;
        t->have_last_dir = 0;
        t->reinit = 0;
        ovica__dict_reset(t);
    }
    return st;
}

int ovica_trainer_best_basis(const ovica_trainer *t, double *out, size_t rows, size_t cols,
                             double *best_objective)
{
    OVICA__CHECK_NULL(t, "trainer");
    OVICA__CHECK_NULL(out, "out");
    if (rows != t->m || cols != t->n)
        return ovica__error(OVICA_ESIZE, "%s: basis is %zu x %zu, the model's is %zu x %zu",
                            __func__, rows, cols, t->m, t->n);
    if (isnan(t->best))
        return ovica__error(OVICA_ESTATE, "%s: the monitor has not run yet", __func__);
    memcpy(out, t->best_A, t->m * t->n * sizeof(double));
    if (best_objective) *best_objective = t->best;
    return OVICA_OK;
}

int ovica_trainer_set_best(ovica_trainer *t, const double *A, size_t rows, size_t cols,
                           double objective)
{
    OVICA__CHECK_NULL(t, "trainer");
    OVICA__CHECK_NULL(A, "A");
    if (rows != t->m || cols != t->n)
        return ovica__error(OVICA_ESIZE, "%s: basis is %zu x %zu, the model's is %zu x %zu",
                            __func__, rows, cols, t->m, t->n);
    if (!isfinite(objective))
        return ovica__error(OVICA_ENONFINITE, "%s: objective is %g", __func__, objective);
    int st = ovica__check_finite(A, rows * cols, cols, "A");
    if (st) return st;
    memcpy(t->best_A, A, rows * cols * sizeof(double));
    t->best = objective;
    return OVICA_OK;
}

int ovica_trainer_restore_best(ovica_trainer *t)
{
    OVICA__CHECK_NULL(t, "trainer");
    if (isnan(t->best))
        return ovica__error(OVICA_ESTATE, "%s: the monitor has not run yet", __func__);
    return ovica_trainer_set_basis(t, t->best_A, t->m, t->n);
}

int ovica_trainer_atom_usage(const ovica_trainer *t, double *out, size_t n)
{
    OVICA__CHECK_NULL(t, "trainer");
    OVICA__CHECK_NULL(out, "out");
    if (n != t->n)
        return ovica__error(OVICA_ESIZE, "%s: %zu entries, the model has %zu atoms", __func__, n,
                            t->n);
    memcpy(out, t->usage, n * sizeof(double));
    return OVICA_OK;
}

/* ------------------------------------------------------ per-batch arrays */

int ovica__trainer_ensure_rows(ovica_trainer *t, size_t N)
{
    if (N <= t->cap) return OVICA_OK;
    double *S = ovica__alloc_doubles(N * t->n, "codes");
    double *R = ovica__alloc_doubles(N * t->m, "residuals");
    double *Z = ovica__alloc_doubles(N * t->n, "scores");
    double *W = ovica__alloc_doubles(4 * N, "per-sample statistics");
    if (!S || !R || !Z || !W) {
        ovica__free(S); ovica__free(R); ovica__free(Z); ovica__free(W);
        return OVICA_ENOMEM;
    }
    ovica__free(t->S); ovica__free(t->R); ovica__free(t->Z); ovica__free(t->rowst);
    t->S = S; t->R = R; t->Z = Z; t->rowst = W;
    t->cap = N;
    t->last_N = 0;
    return OVICA_OK;
}

int ovica__trainer_check_shape(const char *fn, const ovica_trainer *t, const void *X, size_t N,
                               size_t x_dim)
{
    if (t == NULL) return ovica__error(OVICA_EINVAL, "%s: trainer is NULL", fn);
    if (X == NULL) return ovica__error(OVICA_EINVAL, "%s: X is NULL", fn);
    if (N == 0) return ovica__error(OVICA_EINVAL, "%s: empty batch (N = 0)", fn);
    if (N > INT32_MAX) return ovica__error(OVICA_EINVAL, "%s: batch too large (N = %zu)", fn, N);
    if (x_dim != t->m)
        return ovica__error(OVICA_ESIZE, "%s: X has %zu columns, the model's dimension is %zu",
                            fn, x_dim, t->m);
    return OVICA_OK;
}

int ovica__trainer_check_batch(const char *fn, const ovica_trainer *t, const double *X, size_t N,
                       size_t x_dim)
{
    int st = ovica__trainer_check_shape(fn, t, X, N, x_dim);
    return st ? st : ovica__check_finite(X, N * x_dim, x_dim, "X");
}

/* ------------------------------------------------------ sampler seeding */

int ovica_trainer_set_sampler_seed(ovica_trainer *t, uint64_t seed)
{
    OVICA__CHECK_NULL(t, "trainer");
    ovica_sampler *s = NULL;
    int st = ovica_sampler_new(&s, seed ^ 0x5DEECE66DULL); /* as ovica_trainer_new() */
    for (int p = 0; st == OVICA_OK && p < ovica_sampler_param_count(); p++) {
        double v = 0.0;
        st = ovica_sampler_get_param(t->sampler, p, &v);
        if (st == OVICA_OK) st = ovica_sampler_set_param(s, p, v);
    }
    if (st) {
        ovica_sampler_free(s);
        return st;
    }
    ovica_sampler_free(t->sampler);
    t->sampler = s;
    return OVICA_OK;
}


/* The trainer: one step = codes (MAP or posterior draws), statistics,
 * update of A with schedules and guards. See include/ovica/trainer.h. */
#include <math.h>
#include <string.h>

#include <cblas.h>
#include <lapacke.h>

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
    ovica__free(t->mom);
    ovica__free(t->var);
    ovica__free(t->dC);
    ovica__free(t->dB);
    ovica__free(t->Xsub);
    ovica__free(t->probe_A);
    ovica__free(t);
}

static int set_solver_params(ovica_solver *s, double iters, double tol, int warm)
{
    int st = ovica_solver_set_param(s, OVICA_SOLVER_MAX_ITER, iters);
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
                               t->param[OVICA_TRAIN_SOLVER_TOL], 1);
    if (st == OVICA_OK) st = set_solver_params(t->mon_solver, 2000, 1e-7, 1);
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
        if (!t->stats || !t->bnd || !t->worst || !t->last_active || !t->usage || !t->best_A ||
            !t->A1 || !t->prev || !t->last_dir || !t->W1 || !t->W2 || !t->mom || !t->var ||
            !t->dC || !t->dB || !t->probe_A)
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
                               t->param[OVICA_TRAIN_SOLVER_TOL], 1);
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

/* ------------------------------------------------------------- schedules */

/* Step k and the planned steps as the schedules see them: auto's dense
 * route starts its schedules where the probe ended. */
void ovica__schedule_clock(const ovica_trainer *t, size_t k, size_t *kk, size_t *TT)
{
    size_t T = (size_t)t->param[OVICA_TRAIN_STEPS], p = 0;
    if ((t->rule->flags & OVICA__RULE_CHOOSES) && t->regime == OVICA_REGIME_DENSE) p = t->phase0;
    *kk = k >= p ? k - p : 0;
    *TT = T > p + 1 ? T - p : 1;
}

static double builtin_lr(const ovica_trainer *t, size_t k)
{
    double base = t->param[OVICA_TRAIN_LR];
    if (t->param[OVICA_TRAIN_SCHEDULE] == 0.0) return base;
    size_t kk, TT;
    ovica__schedule_clock(t, k, &kk, &TT);
    double T = (double)TT, x = (double)kk + 0.5;
    /* ovica_rule_auto: the gradient phase has its own warm-up and decay */
    if ((t->rule->flags & OVICA__RULE_CHOOSES) && t->param[OVICA_TRAIN_ADAM] > 0.0) {
        double T0 = floor(T * t->param[OVICA_TRAIN_EM_FRACTION]);
        if (x >= T0) {
            x -= T0;
            T -= T0;
        }
    }
    double w = t->param[OVICA_TRAIN_WARMUP] * T;
    if (x >= T) return 0.0;
    if (x < w) return base * x / w;
    return base * 0.5 * (1.0 + cos(OVICA__PI * (x - w) / (T - w)));
}

/* sigma_t for step k: geometric decrease from ANNEAL * sigma to sigma over
 * the first ANNEAL_FRACTION of the steps (only for the rules from draws). */
static double builtin_sigma(const ovica_trainer *t, size_t k)
{
    double sigma = t->model->sigma, f = t->param[OVICA_TRAIN_ANNEAL];
    size_t kk, TT;
    ovica__schedule_clock(t, k, &kk, &TT);
    double T = (double)TT * t->param[OVICA_TRAIN_ANNEAL_FRACTION];
    if (f <= 1.0 || (double)kk >= T) return sigma;
    return sigma * pow(f, 1.0 - (double)kk / T);
}

static int current_lr(const ovica_trainer *t, size_t k, double *lr)
{
    size_t kk, TT;
    ovica__schedule_clock(t, k, &kk, &TT);
    double v = t->lr_fn ? t->lr_fn(kk, TT, t->lr_user) : builtin_lr(t, k);
    if (t->lr_fn && !(isfinite(v) && v >= 0.0))
        return ovica__error(OVICA_EUSER, "learning-rate schedule returned %g at step %zu", v, k);
    *lr = v * t->lr_scale;
    return OVICA_OK;
}

static int current_sigma(const ovica_trainer *t, size_t k, double *sigma)
{
    size_t kk, TT;
    ovica__schedule_clock(t, k, &kk, &TT);
    double v = t->sigma_fn ? t->sigma_fn(kk, TT, t->sigma_user) : builtin_sigma(t, k);
    if (!(isfinite(v) && v > 0.0))
        return ovica__error(OVICA_EUSER, "noise schedule returned %g at step %zu", v, k);
    *sigma = v;
    return OVICA_OK;
}

/* The rule type step k runs (ovica_rule_auto resolves to another). */
static const ovica_rule_type *rule_at(const ovica_trainer *t, size_t k)
{
    return t->rule->resolve != NULL ? t->rule->resolve(t, k) : t->rule;
}

/* ---------------------------------------------------------- initialisation */

static void random_unit_columns(ovica_rng *r, double *A, size_t m, size_t n)
{
    for (size_t j = 0; j < n; j++) {
        double c;
        do {
            for (size_t i = 0; i < m; i++) A[i * n + j] = ovica_rng_normal(r);
            c = col_norm(A, m, n, j);
        } while (c < 1e-8);
        for (size_t i = 0; i < m; i++) A[i * n + j] /= c;
    }
}

/* Spreads unit atoms apart by gradient descent on a repulsion energy over
 * the sphere: sum |cos|^8 between lines (real prior: a and -a code the same
 * line) or sum exp(8 (cos - 1)) between rays (non-negative prior). The
 * gradient of all atoms at once is one GEMM, A (g'(A^T A)). */
static void spread_atoms(double *A, size_t m, size_t n, int rays, double *G, double *D)
{
    const int iters = n <= 64 ? 600 : (n <= 512 ? 200 : 60);
    for (int it = 0; it < iters; it++) {
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)n, (int)n, (int)m, 1.0, A,
                    (int)n, A, (int)n, 0.0, G, (int)n);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) {
                double c = G[i * n + j];
                G[i * n + j] = i == j ? 0.0 : (rays ? exp(8.0 * (c - 1.0)) : c * c * c * c * c * c * c);
            }
        /* D = A G': row-major D[r][i] = sum_j A[r][j] g'(c_ji) */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)n, 1.0, A,
                    (int)n, G, (int)n, 0.0, D, (int)n);
        double gmax = 0.0;
        for (size_t j = 0; j < n; j++) {
            double dot = 0.0;
            for (size_t r = 0; r < m; r++) dot += D[r * n + j] * A[r * n + j];
            for (size_t r = 0; r < m; r++) D[r * n + j] -= dot * A[r * n + j]; /* tangent part */
            double g = col_norm(D, m, n, j);
            if (g > gmax) gmax = g;
        }
        if (gmax < 1e-12) break;
        double eta = (0.2 - 0.19 * (double)it / iters) / gmax;
        for (size_t k = 0; k < m * n; k++) A[k] -= eta * D[k];
        normalise_columns(A, m, n);
    }
}

/* For a non-negative prior: every data direction must lie in some atom's
 * positive half-space, or those samples can never be coded. Replaces the
 * most crowded atom by the mean direction of the uncovered samples, a few
 * times. XA is N x n work. */
static void cover_data(double *A, size_t m, size_t n, const double *X, size_t N, double *XA,
                       double *G)
{
    for (size_t attempt = 0; attempt < n; attempt++) {
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)N, (int)n, (int)m, 1.0, X,
                    (int)m, A, (int)n, 0.0, XA, (int)n);
        double *dir = G; /* m entries */
        memset(dir, 0, m * sizeof(double));
        size_t uncovered = 0;
        for (size_t k = 0; k < N; k++) {
            double best = -INFINITY, nx = 0.0;
            for (size_t j = 0; j < n; j++)
                if (XA[k * n + j] > best) best = XA[k * n + j];
            for (size_t r = 0; r < m; r++) nx += X[k * m + r] * X[k * m + r];
            if (best <= 1e-12 * sqrt(nx) && nx > 0.0) {
                uncovered++;
                for (size_t r = 0; r < m; r++) dir[r] += X[k * m + r] / sqrt(nx);
            }
        }
        if (uncovered == 0) return;
        double dn = 0.0;
        for (size_t r = 0; r < m; r++) dn += dir[r] * dir[r];
        if (!(dn > 0.0)) return;
        /* the atom with the largest cosine to another atom */
        size_t worst = 0;
        double wc = -INFINITY;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) {
                if (i == j) continue;
                double c = 0.0;
                for (size_t r = 0; r < m; r++) c += A[r * n + i] * A[r * n + j];
                if (c > wc) { wc = c; worst = i; }
            }
        for (size_t r = 0; r < m; r++) A[r * n + worst] = dir[r] / sqrt(dn);
    }
}

/* FNV-1a over the bytes of a batch: recognises a batch seen before. */
static uint64_t batch_hash(const double *X, size_t len)
{
    const unsigned char *p = (const unsigned char *)X;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len * sizeof(double); i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static int ensure_rows(ovica_trainer *t, size_t N)
{
    if (N <= t->cap) return OVICA_OK;
    double *S = ovica__alloc_doubles(N * t->n, "codes");
    double *R = ovica__alloc_doubles(N * t->m, "residuals");
    double *Z = ovica__alloc_doubles(N * t->n, "scores");
    if (!S || !R || !Z) {
        ovica__free(S); ovica__free(R); ovica__free(Z);
        return OVICA_ENOMEM;
    }
    ovica__free(t->S); ovica__free(t->R); ovica__free(t->Z);
    t->S = S; t->R = R; t->Z = Z;
    t->cap = N;
    t->last_N = 0;
    return OVICA_OK;
}

static int check_batch(const char *fn, const ovica_trainer *t, const double *X, size_t N,
                       size_t x_dim)
{
    if (t == NULL) return ovica__error(OVICA_EINVAL, "%s: trainer is NULL", fn);
    if (X == NULL) return ovica__error(OVICA_EINVAL, "%s: X is NULL", fn);
    if (N == 0) return ovica__error(OVICA_EINVAL, "%s: empty batch (N = 0)", fn);
    if (N > INT32_MAX) return ovica__error(OVICA_EINVAL, "%s: batch too large (N = %zu)", fn, N);
    if (x_dim != t->m)
        return ovica__error(OVICA_ESIZE, "%s: X has %zu columns, the model's dimension is %zu",
                            fn, x_dim, t->m);
    return ovica__check_finite(X, N * x_dim, x_dim, "X");
}

int ovica_trainer_init_basis(ovica_trainer *t, int method, const double *X, size_t N,
                             size_t x_dim)
{
    OVICA__CHECK_NULL(t, "trainer");
    const size_t m = t->m, n = t->n;
    const int nonneg = t->model->prior->domain == OVICA_DOMAIN_NONNEG;
    if (method != OVICA_INIT_RANDOM && method != OVICA_INIT_SPREAD && method != OVICA_INIT_DATA)
        return ovica__error(OVICA_EINVAL, "%s: unknown method %d", __func__, method);
    int need_data = method == OVICA_INIT_DATA || (method == OVICA_INIT_SPREAD && nonneg);
    if (X != NULL || need_data) {
        int st = check_batch(__func__, t, X, N, x_dim);
        if (st) return st;
    }
    double *A = t->A1;
    if (method == OVICA_INIT_DATA) {
        size_t usable = 0;
        for (size_t k = 0; k < N; k++) {
            double s = 0.0;
            for (size_t r = 0; r < m; r++) s += X[k * m + r] * X[k * m + r];
            usable += s > 0.0;
        }
        if (usable == 0)
            return ovica__error(OVICA_EINVAL, "%s: every sample is zero; cannot draw atoms", __func__);
        for (size_t j = 0; j < n; j++) {
            double c = 0.0;
            const double *x;
            do {
                x = X + (ovica_rng_u64(t->rng) % N) * m;
                c = 0.0;
                for (size_t r = 0; r < m; r++) c += x[r] * x[r];
            } while (!(c > 0.0));
            c = sqrt(c);
            /* a little jitter so that repeated samples give distinct atoms */
            for (size_t r = 0; r < m; r++)
                A[r * n + j] = x[r] / c + (usable < n ? 0.01 * ovica_rng_normal(t->rng) : 0.0);
        }
        normalise_columns(A, m, n);
    } else {
        random_unit_columns(t->rng, A, m, n);
        if (method == OVICA_INIT_SPREAD) {
            /* G: n x n; D: m x n (best_A is free work space here) */
            spread_atoms(A, m, n, nonneg, t->W1, t->best_A);
            if (nonneg) {
                int st = ensure_rows(t, N);
                if (st) return st;
                cover_data(A, m, n, X, N, t->S, t->W2);
            }
        }
    }
    int st = ovica_model_set_basis(t->model, A, m, n);
    if (st) return st;
    t->best = NAN;
    t->mon_fresh = 1;
    t->last_N = 0;
    ovica__dict_reset(t);
    return OVICA_OK;
}

int ovica_trainer_set_monitor(ovica_trainer *t, const double *X, size_t N, size_t x_dim)
{
    int st = check_batch(__func__, t, X, N, x_dim);
    if (st) return st;
    double *mx = ovica__alloc_doubles(N * t->m, "the monitor batch");
    double *ms = ovica__alloc_doubles(N * t->n, "the monitor codes");
    if (!mx || !ms) {
        ovica__free(mx); ovica__free(ms);
        return OVICA_ENOMEM;
    }
    memcpy(mx, X, N * t->m * sizeof(double));
    ovica__free(t->mon_X); ovica__free(t->mon_S);
    t->mon_X = mx;
    t->mon_S = ms;
    t->mon_N = N;
    t->mon_fresh = 1;
    t->best = NAN;
    return OVICA_OK;
}

/* Negative mean log-likelihood per sample of the monitor batch. */
static int monitor_objective(ovica_trainer *t, double *obj)
{
    /* Cold start: codes warm-started from another basis that stop short of
     * the MAP keep coordinates active that the MAP would set to 0, which
     * takes their curvature out of the Hessian and makes the Laplace value
     * absurdly high (a bogus "best" that then triggers rollbacks). */
    int st = ovica_solver_set_param(t->mon_solver, OVICA_SOLVER_WARM_START, 0);
    if (st) return st;
    st = ovica_solver_infer(t->mon_solver, t->model, t->mon_X, t->mon_N, t->m, t->mon_S, t->n,
                            NULL);
    if (st < 0) return st;
    t->mon_fresh = 0;
    if (st == OVICA_NOT_CONVERGED) {
        *obj = NAN; /* codes short of the MAP: no verdict */
        return OVICA_DONE;
    }
    double mean = NAN;
    st = ovica_loglik_codes(t->model, t->mon_X, t->mon_N, t->m, t->mon_S, t->n,
                            t->param[OVICA_TRAIN_BETA], NULL, &mean);
    if (st == OVICA_ENUMERIC) {
        /* the Laplace approximation itself failed (Hessian not positive
         * definite): no verdict on this basis */
        *obj = NAN;
        return OVICA_DONE;
    }
    if (st) return st;
    *obj = -mean;
    return OVICA_OK;
}

/* ------------------------------------------------------------ statistics */

int ovica_trainer_clear_stats(ovica_trainer *t)
{
    OVICA__CHECK_NULL(t, "trainer");
    memset(t->stats, 0, t->stats_len * sizeof(double));
    t->have_stats = 0;
    t->have_worst = 0;
    return OVICA_OK;
}

size_t ovica_trainer_stats_size(const ovica_trainer *t) { return t ? t->stats_len : 0; }

int ovica_trainer_stats_export(const ovica_trainer *t, double *buf, size_t len)
{
    OVICA__CHECK_NULL(t, "trainer");
    OVICA__CHECK_NULL(buf, "buf");
    if (len != t->stats_len)
        return ovica__error(OVICA_ESIZE, "%s: buffer holds %zu doubles, the statistics %zu",
                            __func__, len, t->stats_len);
    memcpy(buf, t->stats, len * sizeof(double));
    return OVICA_OK;
}

int ovica_trainer_stats_import(ovica_trainer *t, const double *buf, size_t len)
{
    OVICA__CHECK_NULL(t, "trainer");
    OVICA__CHECK_NULL(buf, "buf");
    if (len != t->stats_len)
        return ovica__error(OVICA_ESIZE, "%s: buffer holds %zu doubles, the statistics %zu",
                            __func__, len, t->stats_len);
    int st = ovica__check_finite(buf, len, 1, "the statistics");
    if (st) return st;
    if (!(buf[ST_SAMPLES] >= 1.0) || !(buf[ST_DRAWS] >= 1.0) || buf[ST_ACTIVE] < 0.0)
        return ovica__error(OVICA_EFORMAT,
                            "%s: corrupt statistics (samples %g, draws %g, active %g)", __func__,
                            buf[ST_SAMPLES], buf[ST_DRAWS], buf[ST_ACTIVE]);
    memcpy(t->stats, buf, len * sizeof(double));
    t->have_stats = 1;
    /* The statistics now describe samples this process has not seen: its
     * own worst-reconstructed sample is no longer the batch's, and processes
     * applying the same sum must make the same update (no re-seeding from a
     * local sample). */
    t->have_worst = 0;
    return OVICA_OK;
}

/* z = d log p/ds at the MAP codes, OVICA_Z_PRIOR: the prior's score (0 at a
 * kink); OVICA_Z_SUBGRADIENT: -lambda A^T (x - A s) (needs R). */
static int map_scores(ovica_trainer *t, size_t N, int choice)
{
    const ovica_prior *p = t->model->prior;
    const size_t Nn = N * t->n;
    if (choice == OVICA_Z_SUBGRADIENT) {
        double lam = 1.0 / (t->model->sigma * t->model->sigma);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)N, (int)t->n, (int)t->m,
                    -lam, t->R, (int)t->m, t->model->A, (int)t->n, 0.0, t->Z, (int)t->n);
        return OVICA_OK;
    }
    int st = ovica__prior_grad(p, t->S, Nn, t->Z);
    if (st) return st;
    for (size_t i = 0; i < Nn; i++) t->Z[i] = -t->Z[i];
    return OVICA_OK;
}

static int accumulate(ovica_trainer *t, const double *X, size_t N, size_t x_dim);

int ovica_trainer_accumulate(ovica_trainer *t, const double *X, size_t N, size_t x_dim)
{
    if (t == NULL) return check_batch(__func__, t, X, N, x_dim);
    /* the sparse route sets the model's sigma and prior scale before its
     * codes: a step that fails leaves them as they were */
    const double sigma = t->model->sigma, b = t->model->prior->b;
    int st = accumulate(t, X, N, x_dim);
    if (st) {
        t->model->sigma = sigma;
        t->model->prior->b = b;
    }
    return st;
}

static int accumulate(ovica_trainer *t, const double *X, size_t N, size_t x_dim)
{
    int st = check_batch("ovica_trainer_accumulate", t, X, N, x_dim);
    if (st) return st;
    const size_t m = t->m, n = t->n, k = t->step;
    const ovica_rule_type *rule = rule_at(t, k);
    const int draws = rule->draws;
    if (t->mon_N == 0) {
        size_t keep = (size_t)t->param[OVICA_TRAIN_MONITOR_SIZE];
        st = ovica_trainer_set_monitor(t, X, N < keep ? N : keep, x_dim);
        if (st) return st;
    }
    /* A batch larger than the route's step size: rows drawn at random. */
    const size_t rows = ovica__step_rows(t, draws);
    if (N > rows && draws) {
        /* the rules from draws: consecutive blocks of the batch in turn (as
         * a host that batches would pass them), one per step */
        const size_t B = t->param[OVICA_TRAIN_BATCH] > 0.0 ? rows : 5000, nb = N / B;
        X += (k % nb) * B * m;
        N = B;
    } else if (N > rows) {
        st = ovica__draw_rows(t, X, N, rows);
        if (st) return st;
        X = t->Xsub;
        N = rows;
    }
    st = ensure_rows(t, N);
    if (st) return st;
    if (t->regime == OVICA_REGIME_UNDECIDED && !t->probe_started) ovica__auto_start(t);
    if (t->reinit || !(t->model->norm2 > 0.0)) {
        /* no basis yet, or auto turned dense: the default initialisation
         * (atoms drawn from the data on the sparse route, spread otherwise) */
        st = ovica_trainer_init_basis(t, (rule->flags & OVICA__RULE_INIT_DATA) ? OVICA_INIT_DATA
                                                                               : OVICA_INIT_SPREAD,
                                      X, N, x_dim);
        if (st) return st;
        t->reinit = 0;
    }
    if (rule->prepare != NULL) {
        st = rule->prepare(t, X, N);
        if (st) return st;
    }
    double sigma_t = t->model->sigma;
    if (draws) {
        st = current_sigma(t, k, &sigma_t);
        if (st) return st;
    }

    /* The codes of the last batch are kept: when the same batch comes back
     * (same size and content hash), they warm-start the MAP solver, and the
     * posterior chains simply continue (persistent chains), so the MAP codes
     * are not needed at all. */
    const uint64_t hash = batch_hash(X, N * m);
    const int same = N == t->last_N && hash == t->last_hash;
    if (!(draws && same)) {
        st = ovica_solver_set_param(t->solver, OVICA_SOLVER_WARM_START, same ? 1 : 0);
        if (st == OVICA_OK)
            st = ovica_solver_set_param(t->solver, OVICA_SOLVER_MAX_ITER,
                                        draws ? 50.0 : t->param[OVICA_TRAIN_SOLVER_ITER]);
        if (st) return st;
        st = ovica_solver_infer(t->solver, t->model, X, N, m, t->S, n, NULL);
        if (st < 0) return st;
    }

    /* Residuals, objective, activity, the worst-reconstructed sample. */
    memcpy(t->R, X, N * m * sizeof(double));
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N, (int)m, (int)n, -1.0, t->S,
                (int)n, t->model->A, (int)n, 1.0, t->R, (int)m);
    const double half_lam = 0.5 / (t->model->sigma * t->model->sigma);
    double sum_obj = 0.0, sum_sq = 0.0, sum_act = 0.0, sum_xx = 0.0, worst = -1.0;
    size_t worst_k = 0;
    for (size_t i = 0; i < N; i++) {
        double r2 = 0.0, nl = 0.0;
        for (size_t r = 0; r < m; r++) r2 += t->R[i * m + r] * t->R[i * m + r];
        for (size_t r = 0; r < m; r++) sum_xx += X[i * m + r] * X[i * m + r];
        st = ovica__prior_neglogp(t->model->prior, t->S + i * n, n, &nl);
        if (st) return st;
        sum_obj += half_lam * r2 + nl;
        sum_sq += r2;
        if (r2 > worst) { worst = r2; worst_k = i; }
    }
    double *act = t->W1; /* n counts for this batch */
    memset(act, 0, n * sizeof(double));
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < n; j++)
            if (t->S[i * n + j] != 0.0) act[j] += 1.0;
    for (size_t j = 0; j < n; j++) sum_act += act[j];

    double ndraws = (double)N;
    if (draws) {
        ovica_posterior_accum acc = OVICA_POSTERIOR_ACCUM_INIT;
        size_t burn = same ? 0 : (size_t)t->param[OVICA_TRAIN_BURNIN]; /* fresh chains only */
        if (burn > 0) {
            st = ovica_sampler_run(t->sampler, t->model, sigma_t, X, N, m, t->S, n, burn, NULL);
            if (st) return st;
        }
        memset(t->bnd, 0, n * n * sizeof(double));
        acc.zs = t->zs;
        acc.xs = t->xs;
        acc.ss = t->ss;
        acc.bnd = t->bnd;
        /* at least MIN_DRAWS draws per step: a small batch gets more sweeps */
        size_t sweeps = (size_t)t->param[OVICA_TRAIN_SWEEPS];
        const size_t min_draws = (size_t)t->param[OVICA_TRAIN_MIN_DRAWS];
        if (sweeps * N < min_draws) sweeps = (min_draws + N - 1) / N;
        st = ovica_sampler_run(t->sampler, t->model, sigma_t, X, N, m, t->S, n, sweeps, &acc);
        if (st) return st;
        for (size_t i = 0; i < n * n; i++) t->zs[i] += t->bnd[i];
        ndraws = acc.draws;
    } else {
        if (rule->flags & OVICA__RULE_SCORES) { /* (the dictionary update needs none) */
            st = map_scores(t, N, (int)t->param[OVICA_TRAIN_Z]);
            if (st) return st;
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)n, (int)n, (int)N, 1.0,
                        t->Z, (int)n, t->S, (int)n, 1.0, t->zs, (int)n);
        }
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)m, (int)n, (int)N, 1.0, X,
                    (int)m, t->S, (int)n, 1.0, t->xs, (int)n);
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)n, (int)n, (int)N, 1.0, t->S,
                    (int)n, t->S, (int)n, 1.0, t->ss, (int)n);
    }
    for (size_t j = 0; j < n; j++) t->act[j] += act[j];
    t->stats[ST_SAMPLES] += (double)N;
    t->stats[ST_DRAWS] += ndraws;
    t->stats[ST_OBJ] += sum_obj;
    t->stats[ST_SQ] += sum_sq;
    t->stats[ST_ACTIVE] += sum_act;
    t->stats[ST_XX] += sum_xx;
    if (worst > 0.0) {
        memcpy(t->worst, t->R + worst_k * m, m * sizeof(double));
        t->worst_row = worst_k;
        t->have_worst = 1;
    }
    t->have_stats = 1;
    t->last_N = N;
    t->last_hash = hash;
    t->sub_N = N;
    return OVICA_OK;
}

/* Finds a pair of atoms closer than OVICA_TRAIN_SPLIT degrees (as lines for
 * a real prior, as rays for a non-negative one). */
static int find_duplicate(const ovica_trainer *t, size_t *pi, size_t *pj)
{
    const size_t m = t->m, n = t->n;
    const double *A = t->model->A;
    const int rays = t->model->prior->domain == OVICA_DOMAIN_NONNEG;
    const double lim = cos(t->param[OVICA_TRAIN_SPLIT] * OVICA__PI / 180.0);
    double best = lim;
    int found = 0;
    for (size_t i = 0; i < n; i++) {
        double ni = col_norm(A, m, n, i);
        for (size_t j = i + 1; j < n; j++) {
            double nj = col_norm(A, m, n, j), d = 0.0;
            if (!(ni > 0.0 && nj > 0.0)) continue;
            for (size_t r = 0; r < m; r++) d += A[r * n + i] * A[r * n + j];
            double c = d / (ni * nj);
            if (!rays) c = fabs(c);
            if (c > best) {
                best = c;
                *pi = i;
                *pj = j;
                found = 1;
            }
        }
    }
    return found;
}

/* Writes into t->A1 the basis with atoms i and j rotated apart. */
static void split_pair(ovica_trainer *t, size_t i, size_t j)
{
    const size_t m = t->m, n = t->n;
    const double *A = t->model->A;
    double *A1 = t->A1, *u = t->W2, *v = t->W2 + m;
    memcpy(A1, A, m * n * sizeof(double));
    double ni = col_norm(A, m, n, i), nj = col_norm(A, m, n, j), d = 0.0, uu = 0.0, vv = 0.0;
    for (size_t r = 0; r < m; r++) d += A[r * n + i] * A[r * n + j];
    double sgn = d < 0.0 ? -1.0 : 1.0;
    for (size_t r = 0; r < m; r++) {
        u[r] = A[r * n + i] / ni + sgn * A[r * n + j] / nj; /* mean direction */
        uu += u[r] * u[r];
    }
    uu = sqrt(uu);
    for (size_t r = 0; r < m; r++) u[r] /= uu;
    do { /* a random unit direction orthogonal to u */
        double du = 0.0;
        for (size_t r = 0; r < m; r++) v[r] = ovica_rng_normal(t->rng);
        for (size_t r = 0; r < m; r++) du += v[r] * u[r];
        vv = 0.0;
        for (size_t r = 0; r < m; r++) {
            v[r] -= du * u[r];
            vv += v[r] * v[r];
        }
    } while (vv < 1e-12 && m > 1);
    vv = sqrt(vv);
    double th = t->param[OVICA_TRAIN_SPLIT_APART] * OVICA__PI / 180.0;
    for (size_t r = 0; r < m; r++) {
        double e = vv > 0.0 ? v[r] / vv : 0.0;
        A1[r * n + i] = ni * (cos(th) * u[r] + sin(th) * e);
        A1[r * n + j] = sgn * nj * (cos(th) * u[r] - sin(th) * e);
    }
}

/* ------------------------------------------------------------------ apply */

static int rollback(ovica_trainer *t, const double *fallback)
{
    const double *to = isnan(t->best) ? fallback : t->best_A;
    int st = ovica_model_set_basis(t->model, to, t->m, t->n);
    if (st) return st;
    t->lr_scale *= t->param[OVICA_TRAIN_BACKOFF];
    t->have_last_dir = 0;
    t->adam_n = 0.0;
    t->mon_fresh = 1;
    t->last_N = 0;
    return OVICA_OK;
}

int ovica_trainer_apply(ovica_trainer *t, ovica_step_stats *stats)
{
    OVICA__CHECK_NULL(t, "trainer");
    if (stats != NULL) {
        int vst = ovica__check_version(__func__, "stats", stats->version,
                                       OVICA_STEP_STATS_VERSION);
        if (vst != OVICA_OK) return vst;
    }
    if (!t->have_stats)
        return ovica__error(OVICA_ESTATE, "%s: no statistics accumulated", __func__);
    const size_t m = t->m, n = t->n, mn = m * n, k = t->step;
    const ovica_rule_type *rule = rule_at(t, k);
    double lr = 0.0, sigma_t = t->model->sigma;
    int st = current_lr(t, k, &lr);
    if (st == OVICA_OK && rule->draws) st = current_sigma(t, k, &sigma_t);
    if (st) return st;
    int guard = 0;
    double *A = t->model->A, *A1 = t->A1, *prev = t->prev;
    memcpy(prev, A, mn * sizeof(double)); /* for a rollback before any best exists */

    double anorm = frob(A, mn), unorm = 0.0;
    int bad = 0;
    /* the rule's direction (or, without an update, the new basis itself) */
    st = rule->propose(t, A1, &guard);
    if (st == OVICA_ENUMERIC) {
        bad = 1;
        st = OVICA_OK;
    }
    if (st) return st;
    if (!bad) {
        if (rule->update != NULL) {
            st = rule->update(t, rule, lr, anorm, A1, &guard);
            if (st) return st;
        }
        for (size_t i = 0; i < mn; i++) unorm += (A1[i] - A[i]) * (A1[i] - A[i]);
        unorm = sqrt(unorm);
        bad = !isfinite(unorm);
    }
    if (!bad) {
        st = ovica_model_set_basis(t->model, A1, m, n);
        if (st == OVICA_ENUMERIC || st == OVICA_ENONFINITE) {
            bad = 1;
            st = OVICA_OK;
        }
        if (st) return st;
    }
    if (bad) {
        st = rollback(t, prev);
        if (st) return st;
        guard |= OVICA_GUARD_ROLLBACK;
        unorm = 0.0;
    }

    /* usage, dead atoms, and re-seeding (one atom per step, from the
     * residual of the worst-reconstructed sample) */
    const double samples = t->stats[ST_SAMPLES];
    const double window = t->param[OVICA_TRAIN_DEAD_WINDOW];
    const double a = 2.0 / ((window > 0.0 ? window : 40.0) + 1.0);
    size_t dead = 0, reseed = n;
    /* An atom counts as alive in this step if some code used it and its
     * norm has not collapsed below COLLAPSE times the mean atom norm: the
     * rules from draws use every atom (draws are never exactly 0), so for
     * them a collapsed norm is what marks an atom the data no longer want. */
    const double *Acur = t->model->A;
    const double mean_norm = mean_col_norm(Acur, m, n); /* also the re-seeded atom's length */
    const double collapse = t->param[OVICA_TRAIN_COLLAPSE] * mean_norm;
    for (size_t j = 0; j < n; j++) {
        double frac = t->act[j] / samples;
        t->usage[j] = k == 0 ? frac : (1.0 - a) * t->usage[j] + a * frac;
        if (t->act[j] > 0.0 && !(collapse > 0.0 && col_norm(Acur, m, n, j) < collapse))
            t->last_active[j] = k + 1;
        if (window > 0.0 && (double)(k + 1 - t->last_active[j]) >= window) {
            if (reseed == n && t->param[OVICA_TRAIN_RESEED] != 0.0 && t->have_worst)
                reseed = j;
            else
                dead++;
        }
    }
    double wn = frob(t->worst, m);
    if (reseed < n && wn > 0.0) {
        memcpy(A1, t->model->A, mn * sizeof(double));
        for (size_t r = 0; r < m; r++) A1[r * n + reseed] = t->worst[r] / wn * mean_norm;
        st = ovica_model_set_basis(t->model, A1, m, n);
        if (st) return st;
        t->last_active[reseed] = k + 1;
        t->usage[reseed] = 0.0;
        ovica__dict_forget_atom(t, reseed);
        t->mon_fresh = 1;
        t->last_N = 0;
        t->adam_n = 0.0;
        guard |= OVICA_GUARD_RESEED;
    } else if (reseed < n) {
        dead++;
    }

    /* Duplicate atoms: two atoms within SPLIT degrees of each other code one
     * feature twice (a saddle that annealed EM leaves when a close pair of
     * true atoms merged at high noise, and from which neither EM nor the
     * gradient escapes quickly). Once the noise is annealed down, the pair is
     * split apart symmetrically, along a random direction orthogonal to
     * their mean, by SPLIT_APART degrees each; one pair per step. */
    if ((rule->flags & OVICA__RULE_SPLIT) && t->param[OVICA_TRAIN_SPLIT] > 0.0 &&
        sigma_t <= t->model->sigma * (1.0 + 1e-12)) {
        size_t pi = n, pj = n;
        if (find_duplicate(t, &pi, &pj)) {
            split_pair(t, pi, pj);
            st = ovica_model_set_basis(t->model, A1, m, n);
            if (st) return st;
            t->mon_fresh = 1;
            t->have_last_dir = 0;
            t->adam_n = 0.0;
            guard |= OVICA_GUARD_SPLIT;
        }
    }

    /* monitor: best basis and divergence */
    double mon = NAN;
    /* (not on the sparse route: its sigma and prior scale move every step,
     * so the objective of one step is not comparable with another's) */
    double every = (rule->flags & OVICA__RULE_MONITOR) ? t->param[OVICA_TRAIN_MONITOR_EVERY] : 0.0;
    if (every > 0.0 && t->mon_N > 0 && (k + 1) % (size_t)every == 0) {
        st = monitor_objective(t, &mon);
        if (st < 0) return st;
        double best = t->best;
        if (st == OVICA_DONE) {
            st = OVICA_OK; /* no verdict */
        } else if (!isfinite(mon) ||
                   (!isnan(best) &&
                    mon > best + t->param[OVICA_TRAIN_DIVERGE] * fmax(1.0, fabs(best)) &&
                    ++t->strikes >= 2)) {
            /* (a finite rise must be seen twice running: one odd value of
             * the approximation does not undo the progress since the best) */
            st = rollback(t, prev);
            if (st) return st;
            t->strikes = 0;
            guard |= OVICA_GUARD_ROLLBACK;
        } else if (!(mon > best + t->param[OVICA_TRAIN_DIVERGE] * fmax(1.0, fabs(best)))) {
            t->strikes = 0;
            if (isnan(best) || mon < best) {
                t->best = mon;
                memcpy(t->best_A, t->model->A, mn * sizeof(double));
                guard |= OVICA_GUARD_BEST;
            }
        }
    }

    if (stats != NULL) {
        stats->step = k;
        stats->samples = samples;
        stats->objective = t->stats[ST_OBJ] / samples;
        stats->mse = t->stats[ST_SQ] / (samples * (double)m);
        stats->active = t->stats[ST_ACTIVE] / samples;
        stats->dead = dead;
        stats->lr = lr;
        stats->sigma_t = sigma_t;
        stats->update = anorm > 0.0 ? unorm / anorm : 0.0;
        stats->monitor = mon;
        stats->best = t->best;
        stats->guard = guard;
        stats->rule = rule->draws;
    }
    ovica_trainer_clear_stats(t);
    t->step = k + 1;
    if (t->regime == OVICA_REGIME_UNDECIDED && (double)t->step >= t->param[OVICA_TRAIN_PROBE])
        return ovica__auto_decide(t);
    return OVICA_OK;
}

int ovica_trainer_step(ovica_trainer *t, const double *X, size_t N, size_t x_dim,
                       ovica_step_stats *stats)
{
    OVICA__CHECK_NULL(t, "trainer");
    if (stats != NULL) {
        int vst = ovica__check_version(__func__, "stats", stats->version,
                                       OVICA_STEP_STATS_VERSION);
        if (vst != OVICA_OK) return vst;
    }
    ovica_trainer_clear_stats(t);
    int st = ovica_trainer_accumulate(t, X, N, x_dim);
    if (st == OVICA_OK) st = ovica_trainer_apply(t, stats);
    if (st) ovica_trainer_clear_stats(t);
    return st;
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

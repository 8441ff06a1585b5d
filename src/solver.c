/* MAP inference of s_hat: projected gradient, ISTA and FISTA over a batch;
 * the exact active-set solver lives in solver_active.c. */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

#include "internal.h"
#include "solver_internal.h"

enum { KIND_PG, KIND_ISTA, KIND_FISTA, KIND_ACTIVE, KIND_AUTO };

struct ovica_solver_type {
    const char *name;
    int kind;
};

static const ovica_solver_type type_pg = {"pg", KIND_PG};
static const ovica_solver_type type_ista = {"ista", KIND_ISTA};
static const ovica_solver_type type_fista = {"fista", KIND_FISTA};
static const ovica_solver_type type_active = {"active", KIND_ACTIVE};
static const ovica_solver_type type_auto = {"auto", KIND_AUTO};

const ovica_solver_type *const ovica_solver_pg = &type_pg;
const ovica_solver_type *const ovica_solver_ista = &type_ista;
const ovica_solver_type *const ovica_solver_fista = &type_fista;
const ovica_solver_type *const ovica_solver_active = &type_active;
const ovica_solver_type *const ovica_solver_auto = &type_auto;

#define N_PARAMS 7

static const struct {
    const char *name;
    double lo, hi, def;
    int integer;
} param_info[N_PARAMS] = {
    [OVICA_SOLVER_MAX_ITER] = {"max_iter", 1.0, 1e9, 1000.0, 1},
    [OVICA_SOLVER_TOL] = {"tol", 0.0, 1.0, 1e-6, 0},
    [OVICA_SOLVER_WARM_START] = {"warm_start", 0.0, 1.0, 0.0, 1},
    [OVICA_SOLVER_RESTART] = {"restart", 0.0, 1.0, 1.0, 1},
    [OVICA_SOLVER_FORM] = {"form", 0.0, 2.0, 0.0, 1},
    [OVICA_SOLVER_STEP] = {"step", 1e-6, 1.0, 1.0, 0},
    [OVICA_SOLVER_THREADS] = {"threads", 1.0, 256.0, 1.0, 1},
};

struct ovica_solver {
    const ovica_solver_type *type;
    double param[N_PARAMS];
    double *work;        /* one block holding every array below */
    size_t work_len;
};

/* The registry: every built-in solver type, in the order the enumeration
 * (ovica_solver_type_count/_at) lists them. */
static const ovica_solver_type *const all_types[] = {&type_pg, &type_ista, &type_fista,
                                                     &type_active, &type_auto};
#define N_TYPES (sizeof all_types / sizeof all_types[0])

size_t ovica_solver_type_count(void) { return N_TYPES; }

const ovica_solver_type *ovica_solver_type_at(size_t i)
{
    if (i >= N_TYPES) {
        ovica__error(OVICA_EINVAL, "%s: index %zu out of range (%zu solver types)", __func__, i,
                     (size_t)N_TYPES);
        return NULL;
    }
    return all_types[i];
}

static int type_valid(const ovica_solver_type *type)
{
    for (size_t i = 0; i < N_TYPES; i++)
        if (type == all_types[i]) return 1;
    return 0;
}

const ovica_solver_type *ovica_solver_type_find(const char *name)
{
    if (name == NULL) {
        ovica__error(OVICA_EINVAL, "%s: name is NULL", __func__);
        return NULL;
    }
    for (size_t i = 0; i < N_TYPES; i++)
        if (strcmp(all_types[i]->name, name) == 0) return all_types[i];
    char known[256] = "";
    for (size_t i = 0; i < N_TYPES; i++)
        ovica__append_name(known, sizeof known, all_types[i]->name);
    ovica__error(OVICA_EINVAL, "unknown solver '%s' (known: %s)", name, known);
    return NULL;
}

const char *ovica_solver_type_name(const ovica_solver_type *type)
{
    return type ? type->name : "";
}

int ovica_solver_new(ovica_solver **out, const ovica_solver_type *type)
{
    OVICA__CHECK_NULL(out, "out");
    OVICA__CHECK_NULL(type, "type");
    if (!type_valid(type))
        return ovica__error(OVICA_EINVAL, "%s: not a solver type of this library", __func__);
    ovica_solver *s = ovica__calloc(1, sizeof *s);
    if (s == NULL) return ovica__error(OVICA_ENOMEM, "cannot allocate a solver");
    s->type = type;
    for (int i = 0; i < N_PARAMS; i++) s->param[i] = param_info[i].def;
    *out = s;
    return OVICA_OK;
}

void ovica_solver_free(ovica_solver *solver)
{
    if (solver == NULL) return;
    ovica__free(solver->work);
    ovica__free(solver);
}

const ovica_solver_type *ovica_solver_get_type(const ovica_solver *solver)
{
    return solver ? solver->type : NULL;
}

int ovica_solver_param_bounds(int param, double *lo, double *hi)
{
    OVICA__CHECK_NULL(lo, "lo");
    OVICA__CHECK_NULL(hi, "hi");
    if (param < 0 || param >= N_PARAMS)
        return ovica__error(OVICA_EINVAL, "unknown solver parameter %d", param);
    *lo = param_info[param].lo;
    *hi = param_info[param].hi;
    return OVICA_OK;
}

int ovica_solver_set_param(ovica_solver *solver, int param, double value)
{
    OVICA__CHECK_NULL(solver, "solver");
    if (param < 0 || param >= N_PARAMS)
        return ovica__error(OVICA_EINVAL, "unknown solver parameter %d", param);
    if (!isfinite(value))
        return ovica__error(OVICA_ENONFINITE, "solver parameter %s: value is %g",
                            param_info[param].name, value);
    if (param_info[param].integer) value = floor(value + 0.5);
    if (value < param_info[param].lo || value > param_info[param].hi)
        return ovica__error(OVICA_EINVAL, "solver parameter %s must lie in [%g, %g] (got %g)",
                            param_info[param].name, param_info[param].lo,
                            param_info[param].hi, value);
    solver->param[param] = value;
    return OVICA_OK;
}

int ovica_solver_get_param(const ovica_solver *solver, int param, double *out)
{
    OVICA__CHECK_NULL(solver, "solver");
    OVICA__CHECK_NULL(out, "out");
    if (param < 0 || param >= N_PARAMS)
        return ovica__error(OVICA_EINVAL, "unknown solver parameter %d", param);
    *out = solver->param[param];
    return OVICA_OK;
}

/* ---- the iteration ---- */

typedef struct {
    const ovica_model *md;
    const double *X;
    size_t N, m, n;
    int gram;            /* gradient through the Gram matrix */
    double inv_s2;       /* lambda = 1/sigma^2 */
    double *R;           /* N x m residual (direct form) */
    double *Gram;        /* n x n A^T A (Gram form) */
    double *XA;          /* N x n X A (Gram form) */
} grad_ctx;

/* G = lambda (Y A^T - X) A, the gradient of the smooth part at Y, for the
 * rows [r0, r0 + nb) of the batch; G and (direct form) c->R hold nb rows. */
static void smooth_gradient(const grad_ctx *c, size_t r0, size_t nb, const double *Y, double *G)
{
    int N = (int)nb, m = (int)c->m, n = (int)c->n;
    if (c->gram) {
        memcpy(G, c->XA + r0 * c->n, nb * c->n * sizeof(double));
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, n, n, c->inv_s2, Y, n,
                    c->Gram, n, -c->inv_s2, G, n);
    } else {
        memcpy(c->R, c->X + r0 * c->m, nb * c->m * sizeof(double));
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, m, n, 1.0, Y, n, c->md->A, n,
                    -1.0, c->R, m);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, n, m, c->inv_s2, c->R, m,
                    c->md->A, n, 0.0, G, n);
    }
}

/* Projected (sub)gradient step for the built-in priors: minimum-norm
 * subgradient, and no coordinate crosses zero within a step. */
static void pg_step_builtin(const ovica_prior *p, const double *S, const double *G, size_t len,
                            double eta, double *out)
{
    double ib = 1.0 / p->b;
    if (p->kind == OVICA_PRIOR_EXPONENTIAL) {
        for (size_t i = 0; i < len; i++) {
            double u = S[i] - eta * (G[i] + ib);
            out[i] = u > 0.0 ? u : 0.0;
        }
        return;
    }
    for (size_t i = 0; i < len; i++) {
        double s = S[i], g = G[i], u;
        if (s > 0.0) {
            u = s - eta * (g + ib);
            out[i] = u > 0.0 ? u : 0.0;
        } else if (s < 0.0) {
            u = s - eta * (g - ib);
            out[i] = u < 0.0 ? u : 0.0;
        } else if (g + ib < 0.0) {
            out[i] = -eta * (g + ib);
        } else if (g - ib > 0.0) {
            out[i] = -eta * (g - ib);
        } else {
            out[i] = 0.0;
        }
    }
}

/* The update of one sample's code: nxt = step from (cur, y) with the
 * smooth gradient g at y. */
static int step_row(const ovica_prior *prior, int kind, const double *cur, const double *y,
                    const double *g, size_t n, double eta, double *nxt)
{
    if (kind != KIND_PG) {
        for (size_t j = 0; j < n; j++) nxt[j] = y[j] - eta * g[j];
        return ovica__prior_prox(prior, nxt, n, eta, nxt);
    }
    if (prior->kind != OVICA_PRIOR_USER) {
        pg_step_builtin(prior, cur, g, n, eta, nxt);
        return OVICA_OK;
    }
    int st = ovica__prior_grad(prior, cur, n, nxt);
    if (st) return st;
    const int nonneg = prior->domain == OVICA_DOMAIN_NONNEG;
    for (size_t j = 0; j < n; j++) {
        double u = cur[j] - eta * (g[j] + nxt[j]);
        nxt[j] = (nonneg && u < 0.0) ? 0.0 : u;
    }
    return OVICA_OK;
}

/* The FISTA/ISTA update of one sample for a built-in prior, fused into one
 * pass over its n coordinates: the step sn = prox(y - eta g) (soft
 * threshold, resp. its non-negative part, at th = eta / b) together with
 * the sums the convergence test and the restart test need,
 *   out[0] = ||sn - so||^2, out[1] = ||sn||^2, out[2] = (y - sn).(sn - so),
 * each in four interleaved partial sums (a fixed order, so the result does
 * not depend on the machine; four lanes fill an AVX2 register). The
 * momentum, which needs these sums first, is a second pass (fista_momentum). */
/* The built-in priors' prox at v with threshold th: max(v - th, 0) for the
 * exponential prior, the soft threshold for Laplace. */
static inline double builtin_prox(int nonneg, double v, double th)
{
    if (nonneg) {
        const double u = v - th;
        return u > 0.0 ? u : 0.0;
    }
    const double u = fabs(v) - th;
    return copysign(u > 0.0 ? u : 0.0, v);
}

OVICA_SIMD
static void fista_step_builtin(int nonneg, const double *restrict so, const double *restrict yk,
                               const double *restrict gk, size_t n, double eta, double th,
                               double *restrict sn, double out[3])
{
    double d2[4] = {0.0, 0.0, 0.0, 0.0}, s2[4] = {0.0, 0.0, 0.0, 0.0},
           up[4] = {0.0, 0.0, 0.0, 0.0};
    size_t j = 0;
    for (; j + 4 <= n; j += 4)
        for (size_t l = 0; l < 4; l++) {
            const double u = builtin_prox(nonneg, yk[j + l] - eta * gk[j + l], th);
            sn[j + l] = u;
            double d = u - so[j + l];
            d2[l] += d * d;
            s2[l] += u * u;
            up[l] += (yk[j + l] - u) * d;
        }
    for (; j < n; j++) {
        const double u = builtin_prox(nonneg, yk[j] - eta * gk[j], th);
        sn[j] = u;
        double d = u - so[j];
        d2[0] += d * d;
        s2[0] += u * u;
        up[0] += (yk[j] - u) * d;
    }
    out[0] = (d2[0] + d2[1]) + (d2[2] + d2[3]);
    out[1] = (s2[0] + s2[1]) + (s2[2] + s2[3]);
    out[2] = (up[0] + up[1]) + (up[2] + up[3]);
}

/* y = sn + beta (sn - so): FISTA's momentum point. */
OVICA_SIMD
static void fista_momentum(const double *restrict sn, const double *restrict so, size_t n,
                           double beta, double *restrict yk)
{
    for (size_t j = 0; j < n; j++) yk[j] = sn[j] + beta * (sn[j] - so[j]);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int ensure_work(ovica_solver *s, size_t len)
{
    if (s->work_len >= len) return OVICA_OK;
    double *w = ovica__alloc_doubles(len, "the solver's work memory");
    if (w == NULL) return OVICA_ENOMEM;
    ovica__free(s->work);
    s->work = w;
    s->work_len = len;
    return OVICA_OK;
}

/* Swaps rows i and j of a row-major array with `w` columns. */
static void swap_rows(double *a, size_t w, size_t i, size_t j)
{
    double *p = a + i * w, *q = a + j * w;
    for (size_t k = 0; k < w; k++) {
        double t = p[k];
        p[k] = q[k];
        q[k] = t;
    }
}

/* Objective and optimality at the final S, block by block (Bk rows):
 * residual R = X - S A^T, then g = lambda R A. R (Bk x m), G (Bk x n) and
 * scratch (Bk x n) are work memory. */
static int fill_stats(const ovica_model *model, const double *X, size_t N, const double *S,
                      size_t Bk, double *R, double *G, double *scratch, double L,
                      ovica_infer_stats *stats)
{
    const size_t m = model->m, n = model->n;
    const double inv_s2 = 1.0 / (model->sigma * model->sigma);
    double obj = 0.0, worst = 0.0;
    int st;
    for (size_t b0 = 0; b0 < N; b0 += Bk) {
        size_t nb = N - b0 < Bk ? N - b0 : Bk;
        const double *Sb = S + b0 * n;
        memcpy(R, X + b0 * m, nb * m * sizeof(double));
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nb, (int)m, (int)n, -1.0, Sb,
                    (int)n, model->A, (int)n, 1.0, R, (int)m);
        for (size_t k = 0; k < nb; k++) {
            double r2 = 0.0, nl = 0.0;
            for (size_t j = 0; j < m; j++) r2 += R[k * m + j] * R[k * m + j];
            st = ovica__prior_neglogp(model->prior, Sb + k * n, n, &nl);
            if (st) return st;
            obj += 0.5 * inv_s2 * r2 + nl;
        }
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nb, (int)n, (int)m, inv_s2,
                    R, (int)m, model->A, (int)n, 0.0, G, (int)n);
        double w = 0.0;
        st = ovica__prior_violation(model->prior, Sb, G, nb * n, L, scratch, &w);
        if (st) return st;
        if (w > worst) worst = w;
    }
    stats->objective = obj / (double)N;
    stats->violation = worst;
    return OVICA_OK;
}

/* Cache-sized row blocks: a block's gradient (2 MiB) stays in cache
 * between the GEMM that makes it and the pass that reads it. */
static size_t block_rows(size_t N, size_t n)
{
    size_t Bk = (size_t)262144 / n;
    if (Bk < 64) Bk = 64;
    if (Bk > N) Bk = N;
    return Bk;
}

/* The active-set solver (built-in priors). */
static int infer_active(ovica_solver *solver, const ovica_model *model, const double *X,
                        size_t N, double *S, int warm, double L, ovica_infer_stats *stats,
                        double t0)
{
    const size_t m = model->m, n = model->n, Nn = N * n;
    const size_t Bk = block_rows(N, n);
    const size_t threads = (size_t)solver->param[OVICA_SOLVER_THREADS];
    size_t len = ovica__active_work_len(N, m, n, Bk, threads), extra = Bk * (m + 2 * n);
    if (len == 0 || len > SIZE_MAX - extra)
        return ovica__error(OVICA_ENOMEM, "%s: the batch is too large", "ovica_solver_infer");
    int st = ensure_work(solver, len + extra);
    if (st) return st;
    if (!warm) memset(S, 0, Nn * sizeof(double));
    else if (model->prior->domain == OVICA_DOMAIN_NONNEG)
        for (size_t i = 0; i < Nn; i++) S[i] = S[i] > 0.0 ? S[i] : 0.0;
    size_t rounds = 0, n_conv = 0;
    st = ovica__active_solve(model, X, N, S, solver->param[OVICA_SOLVER_TOL],
                             (size_t)solver->param[OVICA_SOLVER_MAX_ITER], Bk, threads,
                             solver->work, &rounds, &n_conv);
    if (st) return st;
    for (size_t i = 0; i < Nn; i++)
        if (!isfinite(S[i]))
            return ovica__error(OVICA_ENUMERIC, "%s: non-finite code (singular support)",
                                "ovica_solver_infer");
    if (stats != NULL) {
        double *R = solver->work + len, *G = R + Bk * m, *scratch = G + Bk * n;
        st = fill_stats(model, X, N, S, Bk, R, G, scratch, L, stats);
        if (st) return st;
        stats->iterations = rounds;
        stats->converged = n_conv;
        stats->seconds = now_seconds() - t0;
    }
    return n_conv == N ? OVICA_OK : OVICA_NOT_CONVERGED;
}

int ovica_solver_infer(ovica_solver *solver, const ovica_model *model, const double *X,
                       size_t N, size_t x_dim, double *S, size_t s_dim,
                       ovica_infer_stats *stats)
{
    double t0 = now_seconds();
    OVICA__CHECK_NULL(solver, "solver");
    int st = ovica__check_batch(__func__, model, X, N, x_dim, S, s_dim);
    if (st) return st;
    if (stats != NULL) {
        int vst = ovica__check_version(__func__, "stats", stats->version,
                                       OVICA_INFER_STATS_VERSION);
        if (vst != OVICA_OK) return vst;
    }
    const ovica_prior *prior = model->prior;
    int kind = solver->type->kind;
    const int builtin = prior->kind != OVICA_PRIOR_USER;
    if (kind == KIND_AUTO) /* exact when it can be, else FISTA, else PG */
        kind = builtin ? KIND_ACTIVE : (ovica_prior_has_prox(prior) ? KIND_FISTA : KIND_PG);
    if (kind == KIND_ACTIVE && !builtin)
        return ovica__error(OVICA_ENOTSUP,
                            "%s: the active-set solver needs a built-in prior (got '%s'); "
                            "use fista, pg or auto",
                            __func__, prior->name);
    if (kind != KIND_PG && !ovica_prior_has_prox(prior))
        return ovica__error(OVICA_ENOTSUP, "%s: prior '%s' has no prox, which %s needs; use pg",
                            __func__, prior->name, solver->type->name);
    const size_t m = model->m, n = model->n, Nn = N * n;
    const double L = model->norm2 / (model->sigma * model->sigma);
    if (!(L > 0.0))
        return ovica__error(OVICA_EINVAL, "%s: the basis is all zero; set it first", __func__);
    if (!isfinite(L))
        return ovica__error(OVICA_ENUMERIC, "%s: Lipschitz constant overflows (sigma %g too small)",
                            __func__, model->sigma);
    const int warm = solver->param[OVICA_SOLVER_WARM_START] != 0.0;
    if (warm) {
        st = ovica__check_finite(S, Nn, n, "the warm start S");
        if (st) return st;
    }
    if (kind == KIND_ACTIVE) return infer_active(solver, model, X, N, S, warm, L, stats, t0);

    /* Gram form when its per-iteration cost 2Nn^2 beats the direct 4Nmn. */
    int form = (int)solver->param[OVICA_SOLVER_FORM];
    int gram = form == 2 || (form == 0 && n < 2 * m);
    /* Rows are processed in blocks small enough that a block's gradient is
     * still in cache when the elementwise pass reads it. */
    const size_t Bk = block_rows(N, n);
    /* Work: two iterates and the momentum point (N x n each), the active
     * rows' data (N x m), per-sample t (N), a block's gradient (Bk x n) and
     * residual (Bk x m), and for the Gram form A^T A (n x n) and X A (N x n);
     * then N row indices. */
    size_t len = 3 * Nn + N * m + N + Bk * (n + m) + (gram ? n * n + Nn : 0);
    size_t idx_len = (N * sizeof(size_t) + sizeof(double) - 1) / sizeof(double);
    st = ensure_work(solver, len + idx_len);
    if (st) return st;
    double *S0 = solver->work, *S1 = S0 + Nn, *Y = S1 + Nn, *Xc = Y + Nn, *tk = Xc + N * m;
    double *G = tk + N, *R = G + Bk * n, *Gram = R + Bk * m, *XAc = Gram + (gram ? n * n : 0);
    size_t *perm = (size_t *)(solver->work + len);
    grad_ctx c = {model, Xc, N, m, n, gram, 1.0 / (model->sigma * model->sigma), R,
                  gram ? Gram : NULL, gram ? XAc : NULL};
    memcpy(Xc, X, N * m * sizeof(double));
    if (gram) {
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)n, (int)n, (int)m, 1.0,
                    model->A, (int)n, model->A, (int)n, 0.0, Gram, (int)n);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)N, (int)n, (int)m, 1.0, X,
                    (int)m, model->A, (int)n, 0.0, XAc, (int)n);
    }

    /* Starting point, projected onto the domain. */
    if (!warm) memset(S0, 0, Nn * sizeof(double));
    else if (prior->domain == OVICA_DOMAIN_NONNEG)
        for (size_t i = 0; i < Nn; i++) S0[i] = S[i] > 0.0 ? S[i] : 0.0;
    else memcpy(S0, S, Nn * sizeof(double));
    for (size_t k = 0; k < N; k++) {
        tk[k] = 1.0;
        perm[k] = k;
    }

    const double eta = solver->param[OVICA_SOLVER_STEP] / L;
    const double tol = solver->param[OVICA_SOLVER_TOL];
    const size_t max_iter = (size_t)solver->param[OVICA_SOLVER_MAX_ITER];
    const int restart = solver->param[OVICA_SOLVER_RESTART] != 0.0;
    double *cur = S0, *nxt = S1;   /* current iterate s_k and the next */
    double *y = kind == KIND_FISTA ? Y : cur;
    if (kind == KIND_FISTA) memcpy(Y, S0, Nn * sizeof(double));
    size_t it = 0, iters = 0, na = N; /* rows [0, na) are still active */
    /* The built-in priors' prox is fused with the step and the sums. */
    const int fused = kind != KIND_PG && prior->kind != OVICA_PRIOR_USER;
    const int nonneg = prior->kind == OVICA_PRIOR_EXPONENTIAL;
    const double th = eta / prior->b;

    for (it = 1; it <= max_iter && na > 0; it++) {
        iters = it;
        for (size_t b0 = 0; b0 < na && st == OVICA_OK; b0 += Bk) {
            size_t nb = na - b0 < Bk ? na - b0 : Bk;
            smooth_gradient(&c, b0, nb, y + b0 * n, G);
            /* One fused pass per sample while its rows are in cache: the
             * step, the prox or projection, the convergence test and the
             * momentum. A converged sample is marked by tk < 0. */
            for (size_t k = b0; k < b0 + nb; k++) {
                const size_t off = k * n;
                double *sn = nxt + off, *so = cur + off, *yk = y + off;
                const double *gk = G + (k - b0) * n;
                double d2 = 0.0, s2 = 0.0, up = 0.0;
                if (fused) { /* built-in prior, ISTA or FISTA: one pass */
                    double sums[3];
                    fista_step_builtin(nonneg, so, yk, gk, n, eta, th, sn, sums);
                    d2 = sums[0];
                    s2 = sums[1];
                    up = sums[2];
                } else {
                    st = step_row(prior, kind, so, yk, gk, n, eta, sn);
                    if (st) break;
                    for (size_t j = 0; j < n; j++) {
                        double d = sn[j] - so[j];
                        d2 += d * d;
                        s2 += sn[j] * sn[j];
                    }
                    if (kind == KIND_FISTA && restart)
                        for (size_t j = 0; j < n; j++)
                            up += (yk[j] - sn[j]) * (sn[j] - so[j]);
                }
                int conv = d2 <= tol * tol * (s2 > 1.0 ? s2 : 1.0);
                if (kind == KIND_FISTA && !conv) {
                    if (restart && up > 0.0) {
                        tk[k] = 1.0;
                        memcpy(yk, sn, n * sizeof(double));
                    } else {
                        double t1 = 0.5 * (1.0 + sqrt(1.0 + 4.0 * tk[k] * tk[k]));
                        double beta = (tk[k] - 1.0) / t1;
                        tk[k] = t1;
                        fista_momentum(sn, so, n, beta, yk);
                    }
                }
                if (conv) tk[k] = -1.0;
            }
        }
        if (st) break;
        double *tmp = cur;
        cur = nxt;
        nxt = tmp;
        if (kind != KIND_FISTA) y = cur;
        /* Converged samples leave the active set: their code goes to S, and
         * the last active row takes their place, so that the GEMMs keep
         * working on one contiguous block of active rows. */
        for (size_t k = 0; k < na;) {
            if (tk[k] >= 0.0) {
                k++;
                continue;
            }
            memcpy(S + perm[k] * n, cur + k * n, n * sizeof(double));
            size_t last = --na;
            if (k != last) {
                memcpy(cur + k * n, cur + last * n, n * sizeof(double));
                if (kind == KIND_FISTA) memcpy(Y + k * n, Y + last * n, n * sizeof(double));
                swap_rows(Xc, m, k, last);
                if (gram) swap_rows(XAc, n, k, last);
                tk[k] = tk[last];
                perm[k] = perm[last];
            }
        }
    }
    if (st) return st;
    const size_t n_conv = N - na;
    for (size_t k = 0; k < na; k++) memcpy(S + perm[k] * n, cur + k * n, n * sizeof(double));

    for (size_t i = 0; i < Nn; i++)
        if (!isfinite(S[i]))
            return ovica__error(OVICA_ENUMERIC, "%s: the iteration diverged (non-finite code)",
                                __func__);

    if (stats != NULL) {
        st = fill_stats(model, X, N, S, Bk, R, G, S1, L, stats);
        if (st) return st;
        stats->iterations = iters;
        stats->converged = n_conv;
        stats->seconds = now_seconds() - t0;
    }
    return n_conv == N ? OVICA_OK : OVICA_NOT_CONVERGED;
}

/* The first-order iteration the projected-gradient, ISTA and FISTA types
 * share (src/solver/pg.c, ista.c, fista.c): every sample of the batch
 * moves at once, the smooth part's gradient by GEMMs (direct or Gram
 * form), then one pass per sample for the step, the prox or projection,
 * the convergence test and (FISTA) the momentum. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <cblas.h>

#include "solver_internal.h"

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
static int step_row(const ovica_prior *prior, int proximal, const double *cur, const double *y,
                    const double *g, size_t n, double eta, double *nxt)
{
    if (proximal) {
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

/* The iteration's parameters (from the handle's). */
typedef struct {
    double eta, tol;    /* step, relative step tolerance */
    size_t max_iter;
    int restart;        /* FISTA's adaptive restart */
    size_t threads;     /* for the fused pass */
} fo_params;

/* Rows per chunk of the fused pass handed to a thread. */
#define FO_ROW_CHUNK 16

/* The iteration, in double (every prior, both step kinds) and in float
 * (ovica_solver_infer_f32's ISTA and FISTA with a built-in prior). */
#define FO_T double
#define FO_NAME(x) x##_d
#define FO_GEMM cblas_dgemm
#define FO_FABS fabs
#define FO_COPYSIGN copysign
#define FO_SWAP_ROWS ovica__swap_rows
#define FO_LANES 4
#define FO_GENERAL 1
#include "first_order_tmpl.h"

#define FO_T float
#define FO_NAME(x) x##_f
#define FO_GEMM cblas_sgemm
#define FO_FABS fabsf
#define FO_COPYSIGN copysignf
#define FO_SWAP_ROWS ovica__swap_rows_f
#define FO_LANES 8
#define FO_GENERAL 0
#include "first_order_tmpl.h"

/* The parameters every first-order call reads. */
static fo_params loop_params(const ovica_solver *solver, double L)
{
    fo_params p = {solver->param[OVICA_SOLVER_STEP] / L, solver->param[OVICA_SOLVER_TOL],
                   (size_t)solver->param[OVICA_SOLVER_MAX_ITER],
                   solver->param[OVICA_SOLVER_RESTART] != 0.0,
                   (size_t)solver->param[OVICA_SOLVER_THREADS]};
    return p;
}

/* Gram form when its per-iteration cost 2Nn^2 beats the direct 4Nmn. */
static int use_gram(const ovica_solver *solver, size_t m, size_t n)
{
    int form = (int)solver->param[OVICA_SOLVER_FORM];
    return form == 2 || (form == 0 && n < 2 * m);
}

/* Elements of work memory of one call (in units of the type): two
 * iterates and the momentum point (N x n each), the active rows' data
 * (N x m), a block's gradient (Bk x n) and residual (Bk x m), and for the
 * Gram form A^T A (n x n) and X A (N x n). */
static size_t loop_len(size_t N, size_t m, size_t n, size_t Bk, int gram)
{
    return 3 * N * n + N * m + Bk * (n + m) + (gram ? n * n + N * n : 0);
}

int ovica__first_order_solve(ovica_solver *solver, const ovica__solve_args *a, int proximal,
                             int momentum)
{
    const ovica_model *model = a->model;
    const ovica_prior *prior = model->prior;
    const double *X = a->X;
    double *S = a->S;
    const size_t N = a->N, m = model->m, n = model->n, Nn = N * n;
    ovica_infer_stats *stats = a->stats;

    const int gram = use_gram(solver, m, n);
    /* Rows are processed in blocks small enough that a block's gradient is
     * still in cache when the elementwise pass reads it. */
    const size_t Bk = ovica__block_rows(N, n);
    /* then per-sample t (N doubles) and N row indices */
    size_t len = loop_len(N, m, n, Bk, gram) + N;
    size_t idx_len = (N * sizeof(size_t) + sizeof(double) - 1) / sizeof(double);
    int st = ovica__solver_work(solver, len + idx_len);
    if (st) return st;
    double *S0 = solver->work, *S1 = S0 + Nn, *Y = S1 + Nn, *Xc = Y + Nn, *tk = Xc + N * m;
    double *G = tk + N, *R = G + Bk * n, *Gram = R + Bk * m, *XAc = Gram + (gram ? n * n : 0);
    fo_loop_d c = {prior, N, m, n, Bk, gram, proximal, momentum, model->A,
                   1.0 / (model->sigma * model->sigma), S0, S1, Y, Xc, G, R,
                   gram ? Gram : NULL, gram ? XAc : NULL, tk, (size_t *)(solver->work + len), S,
                   loop_params(solver, a->L), NULL};
    size_t iters = 0, n_conv = 0;
    st = fo_run_d(&c, X, a->warm, "ovica_solver_infer", &iters, &n_conv);
    if (st) return st;

    if (stats != NULL) {
        st = ovica__fill_stats(model, X, N, S, Bk, R, G, c.nxt, a->L, stats);
        if (st) return st;
        stats->iterations = iters;
        stats->converged = n_conv;
        stats->seconds = ovica__now_seconds() - a->t0;
    }
    return n_conv == N ? OVICA_OK : OVICA_NOT_CONVERGED;
}

int ovica__first_order_solve_f32(ovica_solver *solver, const ovica__solve_args_f32 *a,
                                 int momentum)
{
    const ovica_model *model = a->model;
    const ovica_prior *prior = model->prior;
    const float *X = a->X;
    float *S = a->S;
    const size_t N = a->N, m = model->m, n = model->n, Nn = N * n;

    const int gram = use_gram(solver, m, n);
    const size_t Bk = ovica__block_rows(N, n);
    /* floats: the loop's arrays and the basis (m x n); then N doubles of t
     * and N row indices */
    size_t flen = loop_len(N, m, n, Bk, gram) + m * n;
    size_t len = (flen + 1) / 2 + N;
    size_t idx_len = (N * sizeof(size_t) + sizeof(double) - 1) / sizeof(double);
    int st = ovica__solver_work(solver, len + idx_len);
    if (st) return st;
    float *S0 = (float *)solver->work, *S1 = S0 + Nn, *Y = S1 + Nn, *Xc = Y + Nn;
    float *G = Xc + N * m, *R = G + Bk * n, *Af = R + Bk * m, *Gram = Af + m * n;
    float *XAc = Gram + (gram ? n * n : 0);
    double *tk = solver->work + (flen + 1) / 2;
    const double inv_s2 = 1.0 / (model->sigma * model->sigma);
    fo_loop_f c = {prior, N, m, n, Bk, gram, 1, momentum, Af, (float)inv_s2, S0, S1, Y, Xc, G, R,
                   gram ? Gram : NULL, gram ? XAc : NULL, tk, (size_t *)(solver->work + len), S,
                   loop_params(solver, a->L), NULL};
    /* Single precision cannot resolve a relative step much below its
     * rounding: the tolerance is floored at 16 float epsilons. */
    if (c.p.tol > 0.0 && c.p.tol < 16.0 * FLT_EPSILON) c.p.tol = 16.0 * FLT_EPSILON;
    for (size_t i = 0; i < m * n; i++) Af[i] = (float)model->A[i];
    size_t iters = 0, n_conv = 0;
    st = fo_run_f(&c, X, a->warm, "ovica_solver_infer_f32", &iters, &n_conv);
    if (st) return st;
    *a->iters = iters;
    *a->n_conv = n_conv;
    return n_conv == N ? OVICA_OK : OVICA_NOT_CONVERGED;
}

/* The first-order iteration the projected-gradient, ISTA and FISTA types
 * share (src/solver/pg.c, ista.c, fista.c): every sample of the batch
 * moves at once, the smooth part's gradient by GEMMs (direct or Gram
 * form), then one pass per sample for the step, the prox or projection,
 * the convergence test and (FISTA) the momentum. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <cblas.h>

#include "solver_internal.h"

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


int ovica__first_order_solve(ovica_solver *solver, const ovica__solve_args *a, int proximal,
                             int momentum)
{
    const ovica_model *model = a->model;
    const ovica_prior *prior = model->prior;
    const double *X = a->X;
    double *S = a->S;
    const size_t N = a->N, m = model->m, n = model->n, Nn = N * n;
    const double L = a->L;
    const int warm = a->warm;
    ovica_infer_stats *stats = a->stats;
    int st;

    /* Gram form when its per-iteration cost 2Nn^2 beats the direct 4Nmn. */
    int form = (int)solver->param[OVICA_SOLVER_FORM];
    int gram = form == 2 || (form == 0 && n < 2 * m);
    /* Rows are processed in blocks small enough that a block's gradient is
     * still in cache when the elementwise pass reads it. */
    const size_t Bk = ovica__block_rows(N, n);
    /* Work: two iterates and the momentum point (N x n each), the active
     * rows' data (N x m), per-sample t (N), a block's gradient (Bk x n) and
     * residual (Bk x m), and for the Gram form A^T A (n x n) and X A (N x n);
     * then N row indices. */
    size_t len = 3 * Nn + N * m + N + Bk * (n + m) + (gram ? n * n + Nn : 0);
    size_t idx_len = (N * sizeof(size_t) + sizeof(double) - 1) / sizeof(double);
    st = ovica__solver_work(solver, len + idx_len);
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
    double *y = momentum ? Y : cur;
    if (momentum) memcpy(Y, S0, Nn * sizeof(double));
    size_t it = 0, iters = 0, na = N; /* rows [0, na) are still active */
    /* The built-in priors' prox is fused with the step and the sums. */
    const int fused = proximal && prior->kind != OVICA_PRIOR_USER;
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
                    st = step_row(prior, proximal, so, yk, gk, n, eta, sn);
                    if (st) break;
                    for (size_t j = 0; j < n; j++) {
                        double d = sn[j] - so[j];
                        d2 += d * d;
                        s2 += sn[j] * sn[j];
                    }
                    if (momentum && restart)
                        for (size_t j = 0; j < n; j++)
                            up += (yk[j] - sn[j]) * (sn[j] - so[j]);
                }
                int conv = d2 <= tol * tol * (s2 > 1.0 ? s2 : 1.0);
                if (momentum && !conv) {
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
        if (!momentum) y = cur;
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
                if (momentum) memcpy(Y + k * n, Y + last * n, n * sizeof(double));
                ovica__swap_rows(Xc, m, k, last);
                if (gram) ovica__swap_rows(XAc, n, k, last);
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
                                "ovica_solver_infer");

    if (stats != NULL) {
        st = ovica__fill_stats(model, X, N, S, Bk, R, G, S1, L, stats);
        if (st) return st;
        stats->iterations = iters;
        stats->converged = n_conv;
        stats->seconds = ovica__now_seconds() - a->t0;
    }
    return n_conv == N ? OVICA_OK : OVICA_NOT_CONVERGED;
}

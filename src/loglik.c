/* Log-likelihood log P(x|A): the Laplace approximation of Lewicki &
 * Sejnowski (eq. 4) with the tanh-smoothed Hessian, and bits per dimension.
 * See include/ovica/eval.h and docs/MODEL-COMPARISON.md. */
#include <math.h>
#include <string.h>

#include <cblas.h>
#include <lapacke.h>

#include "internal.h"
#include "loglik_internal.h"

#define LOG_2PI 1.83787706640934548356

int ovica__check_beta(const char *fn, double beta)
{
    if (isnan(beta) || isinf(beta))
        return ovica__error(OVICA_ENONFINITE, "%s: beta is %g", fn, beta);
    if (!(beta > 0.0))
        return ovica__error(OVICA_EINVAL, "%s: beta must be > 0 (got %g)", fn, beta);
    return OVICA_OK;
}

/* sech^2(x) = 1 - tanh^2(x), without overflow for large |x|. */
static double sech2(double x)
{
    double t = exp(-2.0 * fabs(x));
    double d = 1.0 + t;
    return 4.0 * t / (d * d);
}

int ovica__hessian_diag(const ovica_prior *prior, const double *s, size_t n, double beta,
                        double *c)
{
    if (prior->kind == OVICA_PRIOR_USER) {
        int st = ovica_prior_curvature(prior, s, n, c);
        if (st) return st;
        for (size_t i = 0; i < n; i++)
            if (!isfinite(c[i]))
                return ovica__error(OVICA_EUSER, "user prior curvature returned %g at s = %g",
                                    c[i], s[i]);
        return OVICA_OK;
    }
    /* The floor keeps H positive definite when more than m coordinates are
     * active (near-duplicate atoms), where sech^2 underflows to 0. */
    const double ib = 1.0 / prior->b, slope = beta * ib, scale = slope * ib;
    const double floor_c = OVICA__CURV_FLOOR * ib * ib;
    for (size_t i = 0; i < n; i++) {
        double v = scale * sech2(slope * s[i]);
        c[i] = v > floor_c ? v : floor_c;
    }
    return OVICA_OK;
}

/* log det of the SPD n x n matrix H (full, symmetric) via Cholesky in place.
 * Returns the LAPACK info (0 on success). */
lapack_int ovica__logdet_spd(double *H, size_t n, double *logdet)
{
    /* H is symmetric, so its row-major and column-major layouts coincide;
     * the column-major _work routine factorises in place with no copy. */
    lapack_int info = LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'L', (lapack_int)n, H,
                                          (lapack_int)n);
    if (info != 0) return info;
    double ld = 0.0;
    for (size_t i = 0; i < n; i++) ld += log(H[i * n + i]);
    *logdet = 2.0 * ld;
    return 0;
}

int ovica_loglik_codes(const ovica_model *model, const double *X, size_t N, size_t x_dim,
                       const double *S, size_t s_dim, double beta, double *per_sample,
                       double *mean)
{
    const char *fn = __func__;
    int st = ovica__check_batch(fn, model, X, N, x_dim, S, s_dim);
    if (st == OVICA_OK) st = ovica__check_finite(S, N * s_dim, s_dim, "S");
    if (st == OVICA_OK) st = ovica__prior_check_domain(model->prior, S, N * s_dim, s_dim, "S");
    if (st == OVICA_OK) st = ovica__check_beta(fn, beta);
    if (st) return st;
    const ovica_prior *prior = model->prior;
    if (prior->kind == OVICA_PRIOR_USER && prior->cb.curvature == NULL)
        return ovica__error(OVICA_ENOTSUP,
                            "%s: user prior '%s' has no curvature callback, which the "
                            "Laplace approximation needs",
                            fn, prior->name);
    if (model->norm2 <= 0.0)
        return ovica__error(OVICA_EINVAL, "%s: the basis is all zero; set it first", fn);

    const size_t m = model->m, n = model->n;
    const double lambda = 1.0 / (model->sigma * model->sigma);
    /* work: Gram (n n), H (n n), c (n), R (N m) */
    size_t nn, Nm, len;
    if (ovica__mul_size(n, n, &nn) || ovica__mul_size(N, m, &Nm) || nn > SIZE_MAX / 4 ||
        Nm > SIZE_MAX / 4 || n > SIZE_MAX / 4)
        return ovica__error(OVICA_ENOMEM, "%s: sizes overflow (N = %zu, n = %zu)", fn, N, n);
    len = 2 * nn + n + Nm;
    double *work = ovica__alloc_doubles(len, "the likelihood's work memory");
    if (work == NULL) return OVICA_ENOMEM;
    double *G = work, *H = G + nn, *c = H + nn, *R = c + n;

    /* G = lambda A^T A (n x n, full); R = X - S A^T (N x m) */
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)n, (int)n, (int)m, lambda,
                model->A, (int)n, model->A, (int)n, 0.0, G, (int)n);
    memcpy(R, X, Nm * sizeof(double));
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N, (int)m, (int)n, -1.0, S,
                (int)n, model->A, (int)n, 1.0, R, (int)m);

    const double konst = 0.5 * (double)m * (log(lambda) - LOG_2PI) + 0.5 * (double)n * LOG_2PI;
    double total = 0.0;
    for (size_t k = 0; k < N; k++) {
        const double *s = S + k * n, *r = R + k * m;
        double nl = 0.0, r2 = 0.0, logdet = 0.0;
        st = ovica__prior_neglogp(prior, s, n, &nl);
        if (st == OVICA_OK) st = ovica__hessian_diag(prior, s, n, beta, c);
        if (st) break;
        for (size_t j = 0; j < m; j++) r2 += r[j] * r[j];
        memcpy(H, G, nn * sizeof(double));
        for (size_t i = 0; i < n; i++) H[i * n + i] += c[i];
        lapack_int info = ovica__logdet_spd(H, n, &logdet);
        if (info != 0) {
            st = ovica__error(OVICA_ENUMERIC,
                              "%s: the Hessian lambda A^T A + diag(c) is not positive definite "
                              "at sample %zu (dpotrf info %d); for n > m the prior's curvature "
                              "must be > 0 on enough coordinates",
                              fn, k, (int)info);
            break;
        }
        double ll = -nl - 0.5 * lambda * r2 + konst - 0.5 * logdet;
        if (!isfinite(ll)) {
            st = ovica__error(OVICA_ENUMERIC, "%s: log-likelihood of sample %zu is %g", fn, k,
                              ll);
            break;
        }
        if (per_sample) per_sample[k] = ll;
        total += ll;
    }
    ovica__free(work);
    if (st) return st;
    if (mean) *mean = total / (double)N;
    return OVICA_OK;
}

int ovica__map_codes(const ovica_model *model, const double *X, size_t N, size_t x_dim,
                     double *S, size_t *not_converged)
{
    const ovica_solver_type *type =
        ovica_prior_has_prox(model->prior) == 1 ? ovica_solver_fista : ovica_solver_pg;
    ovica_solver *solver = NULL;
    int st = ovica_solver_new(&solver, type);
    if (st) return st;
    st = ovica_solver_set_param(solver, OVICA_SOLVER_TOL, OVICA__MAP_TOL);
    if (st == OVICA_OK) st = ovica_solver_set_param(solver, OVICA_SOLVER_MAX_ITER, OVICA__MAP_ITER);
    ovica_infer_stats stats = OVICA_INFER_STATS_INIT;
    if (st == OVICA_OK)
        st = ovica_solver_infer(solver, model, X, N, x_dim, S, model->n, &stats);
    ovica_solver_free(solver);
    *not_converged = 0;
    if (st == OVICA_NOT_CONVERGED) {
        *not_converged = N - stats.converged;
        st = OVICA_OK;
    }
    return st;
}

int ovica_loglik_laplace(const ovica_model *model, const double *X, size_t N, size_t x_dim,
                         double beta, double *per_sample, double *mean)
{
    int st = ovica__check_batch(__func__, model, X, N, x_dim, X, model ? model->n : 0);
    if (st == OVICA_OK) st = ovica__check_beta(__func__, beta);
    if (st) return st;
    double *S = ovica__alloc_doubles(N * model->n, "the MAP codes");
    if (S == NULL) return OVICA_ENOMEM;
    size_t bad = 0;
    st = ovica__map_codes(model, X, N, x_dim, S, &bad);
    if (st == OVICA_OK)
        st = ovica_loglik_codes(model, X, N, x_dim, S, model->n, beta, per_sample, mean);
    ovica__free(S);
    if (st == OVICA_OK && bad > 0) {
        ovica__error(OVICA_NOT_CONVERGED,
                     "%s: the MAP codes of %zu of %zu samples did not reach the tolerance",
                     __func__, bad, N);
        return OVICA_NOT_CONVERGED;
    }
    return st;
}

double ovica_loglik_beta_default(const ovica_prior *prior)
{
    if (prior == NULL) return NAN;
    if (prior->kind == OVICA_PRIOR_LAPLACE) return OVICA_LOGLIK_BETA_LAPLACE;
    if (prior->kind == OVICA_PRIOR_EXPONENTIAL) return OVICA_LOGLIK_BETA_EXPONENTIAL;
    return 1.0; /* unused for user priors, but a valid value */
}

int ovica_loglik_bits(double mean_loglik, size_t m, double quantum, double *out)
{
    OVICA__CHECK_NULL(out, "out");
    if (!isfinite(mean_loglik))
        return ovica__error(OVICA_ENONFINITE, "%s: mean_loglik is %g", __func__, mean_loglik);
    if (!isfinite(quantum))
        return ovica__error(OVICA_ENONFINITE, "%s: quantum is %g", __func__, quantum);
    if (m == 0) return ovica__error(OVICA_EINVAL, "%s: m must be >= 1", __func__);
    if (!(quantum > 0.0))
        return ovica__error(OVICA_EINVAL, "%s: quantum must be > 0 (got %g)", __func__, quantum);
    *out = (-mean_loglik / log(2.0)) / (double)m - log2(quantum);
    return OVICA_OK;
}

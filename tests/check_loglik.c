/* Log-likelihood by the Laplace approximation: exactness for a Gaussian
 * prior, agreement with quadrature of the exact marginal (1-D and 2-D),
 * ranking of the true basis against rotated and rescaled ones, bits per
 * dimension, and bad input. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lapacke.h>

#include "testutil.h"

#define PI 3.14159265358979323846

static ovica_model *make_model(size_t m, size_t n, const double *A, int kind, double b,
                               double sigma)
{
    ovica_prior *p = NULL;
    if (kind == OVICA_PRIOR_LAPLACE) ck_assert_status(ovica_prior_laplace_new(&p, b), OVICA_OK);
    else ck_assert_status(ovica_prior_exponential_new(&p, b), OVICA_OK);
    ovica_model *md = NULL;
    ck_assert_status(ovica_model_new(&md, m, n, p, sigma), OVICA_OK);
    ovica_prior_free(p);
    if (A) ck_assert_status(ovica_model_set_basis(md, A, m, n), OVICA_OK);
    return md;
}

/* ---- a Gaussian user prior N(0, tau^2): the Laplace approximation is exact ---- */
static int g_neglogp(const double *s, size_t count, double *out, void *user)
{
    double t2 = *(const double *)user, acc = 0.0;
    for (size_t i = 0; i < count; i++) acc += 0.5 * s[i] * s[i] / t2 + 0.5 * log(2.0 * PI * t2);
    *out = acc;
    return 0;
}
static int g_grad(const double *s, size_t count, double *g, void *user)
{
    double t2 = *(const double *)user;
    for (size_t i = 0; i < count; i++) g[i] = s[i] / t2;
    return 0;
}
static int g_prox(const double *v, size_t count, double t, double *out, void *user)
{
    double t2 = *(const double *)user;
    for (size_t i = 0; i < count; i++) out[i] = v[i] / (1.0 + t / t2);
    return 0;
}
static int g_curv(const double *s, size_t count, double *c, void *user)
{
    double t2 = *(const double *)user;
    (void)s;
    for (size_t i = 0; i < count; i++) c[i] = 1.0 / t2;
    return 0;
}

static ovica_prior *gaussian_prior(double *tau2, int with_curvature)
{
    ovica_prior_callbacks cb = OVICA_PRIOR_CALLBACKS_INIT;
    cb.name = "gauss";
    cb.neglogp = g_neglogp;
    cb.grad = g_grad;
    cb.prox = g_prox;
    cb.curvature = with_curvature ? g_curv : NULL;
    ovica_prior *p = NULL;
    ck_assert_status(ovica_prior_user_new(&p, &cb, tau2), OVICA_OK);
    return p;
}

/* log N(x; 0, C) for an m x m SPD C (destroyed). */
static double log_normal0(const double *x, double *C, size_t m)
{
    double y[16];
    ck_assert_int_eq(LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)m, C, (lapack_int)m), 0);
    double ld = 0.0, q = 0.0;
    for (size_t i = 0; i < m; i++) {
        double v = x[i];
        for (size_t j = 0; j < i; j++) v -= C[i * m + j] * y[j];
        y[i] = v / C[i * m + i];
        q += y[i] * y[i];
        ld += log(C[i * m + i]);
    }
    return -0.5 * q - ld - 0.5 * (double)m * log(2.0 * PI);
}

START_TEST(test_gaussian_prior_exact)
{
    /* _i: 0 complete (2 x 2), 1 overcomplete (2 x 3), 2 overcomplete (3 x 7) */
    const size_t ms[3] = {2, 2, 3}, ns[3] = {2, 3, 7};
    const size_t m = ms[_i], n = ns[_i], N = 50;
    double tau2 = 0.8 * 0.8, sigma = 0.3;
    tu_rng r;
    tu_seed(&r, 11 + (uint64_t)_i);
    double A[21], X[150], ll[50], C[9];
    tu_fill_normal(&r, A, m * n, 1.0);
    tu_fill_normal(&r, X, N * m, 1.5);
    ovica_prior *p = gaussian_prior(&tau2, 1);
    ovica_model *md = NULL;
    ck_assert_status(ovica_model_new(&md, m, n, p, sigma), OVICA_OK);
    ck_assert_status(ovica_model_set_basis(md, A, m, n), OVICA_OK);
    double mean = 0.0, want_mean = 0.0, worst = 0.0;
    /* beta is irrelevant for a user prior (its own curvature is used) */
    ck_assert_status(ovica_loglik(md, X, N, m, 3.0, ll, &mean), OVICA_OK);
    for (size_t k = 0; k < N; k++) {
        /* C = tau^2 A A^T + sigma^2 I */
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < m; j++) {
                double v = 0.0;
                for (size_t l = 0; l < n; l++) v += A[i * n + l] * A[j * n + l];
                C[i * m + j] = tau2 * v + (i == j ? sigma * sigma : 0.0);
            }
        double want = log_normal0(X + k * m, C, m);
        want_mean += want / (double)N;
        double e = fabs(ll[k] - want);
        if (e > worst) worst = e;
    }
    ck_assert_msg(worst < 1e-7, "m=%zu n=%zu: max |laplace - exact| = %g", m, n, worst);
    ck_assert_double_eq_tol(mean, want_mean, 1e-7);
    ovica_model_free(md);
    ovica_prior_free(p);
}
END_TEST

/* ---- quadrature of the exact marginal ---- */

/* log of int p(s) N(x; a s, sigma^2) ds (1-D), trapezoid on a grid through 0. */
static double exact_1d(double x, double a, double b, double sigma, int expo)
{
    const double h = sigma / (fabs(a) * 400.0);
    const double lo = expo ? 0.0 : -(fabs(x / a) + 40.0 * b), hi = fabs(x / a) + 40.0 * b;
    const long k0 = (long)floor(lo / h), k1 = (long)ceil(hi / h);
    double acc = 0.0;
    for (long k = k0; k <= k1; k++) {
        double s = (double)k * h, w = (k == k0 || k == k1) ? 0.5 : 1.0;
        double lp = expo ? -s / b - log(b) : -fabs(s) / b - log(2.0 * b);
        double res = x - a * s;
        acc += w * exp(lp - 0.5 * res * res / (sigma * sigma) - 0.5 * log(2.0 * PI * sigma * sigma));
    }
    return log(acc * h);
}

/* 1-D, a = 1.3, b = 1: the approximation is within tol of the exact value.
 * Laplace prior: everywhere (the kink costs at most ~0.05 nats at beta 10).
 * Exponential prior: only away from the boundary (x >= 4 sigma |a|): near
 * 0 the posterior is a Gaussian cut in half by s >= 0, which the Laplace
 * approximation counts whole (up to log 2 too high; asserted too). */
START_TEST(test_quadrature_1d)
{
    const int expo = _i / 2;
    const double sigma = (_i % 2) ? 0.2 : 0.05, a = 1.3, b = 1.0;
    ovica_model *md = make_model(1, 1, &a, expo ? OVICA_PRIOR_EXPONENTIAL : OVICA_PRIOR_LAPLACE,
                                 b, sigma);
    const double xs[] = {-3.0, -0.7, -0.2, -0.05, 0.0, 0.02, 0.08, 0.15, 0.3, 0.6, 1.0, 2.0, 4.0};
    const size_t nx = sizeof xs / sizeof xs[0];
    double worst = 0.0, worst_x = 0.0;
    int fails = 0;
    for (size_t k = 0; k < nx; k++) {
        double x = xs[k];
        if (expo && x < 0.0) continue;
        double ll = 0.0;
        ck_assert_status(ovica_loglik(md, &x, 1, 1, OVICA_LOGLIK_BETA_DEFAULT, &ll, NULL), OVICA_OK);
        double d = ll - exact_1d(x, a, b, sigma, expo);
        if (!expo || x >= 4.0 * sigma * a) {
            if (fabs(d) > worst) { worst = fabs(d); worst_x = x; }
        } else if (x == 0.0) {
            /* the half-Gaussian at the boundary: too high, by at most log 2 */
            if (!(d > 0.3 && d < log(2.0) + 0.05)) fails++;
        }
    }
    ck_assert_int_eq(fails, 0);
    ck_assert_msg(worst < 0.06, "%s sigma %g: worst |laplace - exact| %g at x = %g",
                  expo ? "exponential" : "laplace", sigma, worst, worst_x);
    ovica_model_free(md);
}
END_TEST

/* 2-D complete, Laplace prior: log of the double integral of
 * p(s1) p(s2) N(x; A s, sigma^2 I) by the trapezoid rule on a grid through 0,
 * over a box around A^{-1} x that holds all the mass. */
static double exact_2d(const double *x, const double *A, double b, double sigma)
{
    double det = A[0] * A[3] - A[1] * A[2];
    double c0 = (A[3] * x[0] - A[1] * x[1]) / det, c1 = (-A[2] * x[0] + A[0] * x[1]) / det;
    /* posterior width along each axis <= sigma * ||A^{-1}||_F */
    double inv_f = sqrt(A[0] * A[0] + A[1] * A[1] + A[2] * A[2] + A[3] * A[3]) / fabs(det);
    double half = 12.0 * sigma * inv_f + 2.0 * sigma * sigma / b * inv_f * inv_f;
    double h = sigma * inv_f / 60.0;
    long i0 = (long)floor((c0 - half) / h), i1 = (long)ceil((c0 + half) / h);
    long j0 = (long)floor((c1 - half) / h), j1 = (long)ceil((c1 + half) / h);
    double acc = 0.0, il2 = 0.5 / (sigma * sigma);
    double konst = -2.0 * log(2.0 * b) - log(2.0 * PI * sigma * sigma);
    for (long i = i0; i <= i1; i++) {
        double s0 = (double)i * h, wi = (i == i0 || i == i1) ? 0.5 : 1.0;
        for (long j = j0; j <= j1; j++) {
            double s1 = (double)j * h, w = wi * ((j == j0 || j == j1) ? 0.5 : 1.0);
            double r0 = x[0] - A[0] * s0 - A[1] * s1, r1 = x[1] - A[2] * s0 - A[3] * s1;
            acc += w * exp(konst - (fabs(s0) + fabs(s1)) / b - il2 * (r0 * r0 + r1 * r1));
        }
    }
    return log(acc * h * h);
}

START_TEST(test_quadrature_2d)
{
    const double sigma = _i ? 0.2 : 0.1, b = 1.0;
    /* atoms at 20 and 110 degrees, lengths 1 and 0.8 */
    const double A[4] = {cos(20 * PI / 180), 0.8 * cos(110 * PI / 180), sin(20 * PI / 180),
                         0.8 * sin(110 * PI / 180)};
    ovica_model *md = make_model(2, 2, A, OVICA_PRIOR_LAPLACE, b, sigma);
    tu_rng r;
    tu_seed(&r, 5 + (uint64_t)_i);
    enum { K = 12 };
    double X[2 * K], ll[K];
    /* some near the origin (both codes 0), some on an axis, some generic */
    for (int k = 0; k < K; k++) {
        double s0 = (k % 3 == 0) ? 0.0 : 2.0 * tu_normal(&r);
        double s1 = (k % 4 == 0) ? 0.0 : 2.0 * tu_normal(&r);
        X[2 * k] = A[0] * s0 + A[1] * s1 + sigma * tu_normal(&r);
        X[2 * k + 1] = A[2] * s0 + A[3] * s1 + sigma * tu_normal(&r);
    }
    ck_assert_status(ovica_loglik(md, X, K, 2, OVICA_LOGLIK_BETA_DEFAULT, ll, NULL), OVICA_OK);
    double worst = 0.0, sum = 0.0;
    for (int k = 0; k < K; k++) {
        double d = ll[k] - exact_2d(X + 2 * k, A, b, sigma);
        sum += d;
        if (fabs(d) > worst) worst = fabs(d);
    }
    ck_assert_msg(worst < 0.12 && fabs(sum / K) < 0.06,
                  "sigma %g: worst |laplace - exact| %g, mean %g", sigma, worst, sum / K);
    ovica_model_free(md);
}
END_TEST

/* ---- the true basis scores higher than rotated or rescaled versions ---- */

static void rotate_scale(const double *A, size_t n, double deg, double scale, double *out)
{
    double c = cos(deg * PI / 180.0), s = sin(deg * PI / 180.0);
    for (size_t i = 0; i < n; i++) {
        double a0 = A[i], a1 = A[n + i];
        out[i] = scale * (c * a0 - s * a1);
        out[n + i] = scale * (s * a0 + c * a1);
    }
}

/* Data drawn from the model with the article's 3 atoms (all sources active):
 * the true basis scores higher than rotations by 10 and 20 degrees and
 * rescalings by 0.7 and 1.4. The paired difference must exceed 4 standard
 * errors, except for rotations under the Laplace prior (3 for 20 degrees;
 * for 10 degrees only the sign is asserted): dense Laplace sources make a 2-D cloud so
 * nearly isotropic that a rotation changes the likelihood by only
 * 0.001-0.006 nats per sample (measured at N = 30000), so the Laplace case
 * uses N = 24000 samples and even then 10 degrees is within ~2 standard
 * errors of no difference. */
START_TEST(test_true_basis_best)
{
    const int kind = _i / 2;
    const double sigma = (_i % 2) ? 0.2 : 0.05, b = 1.0;
    const size_t N = kind == OVICA_PRIOR_LAPLACE ? 24000 : 2000, n = 3;
    double A[6], B[6];
    ck_assert_status(ovica_synth_basis_2d(OVICA_SYNTH_REGULAR3, A, 2, 3), OVICA_OK);
    ovica_rng *rng = NULL;
    ck_assert_status(ovica_rng_new(&rng, 2024 + (uint64_t)_i), OVICA_OK);
    double *S = malloc(N * n * sizeof *S), *X = malloc(N * 2 * sizeof *X);
    double *lt = malloc(N * sizeof *lt), *lo = malloc(N * sizeof *lo);
    ck_assert_status(ovica_synth_sources(rng, kind, b, 1.0, S, N, n), OVICA_OK);
    ck_assert_status(ovica_synth_mix(rng, A, 2, n, S, N, sigma, X), OVICA_OK);
    ovica_model *md = make_model(2, n, A, kind, b, sigma);
    ck_assert_status(ovica_loglik(md, X, N, 2, OVICA_LOGLIK_BETA_DEFAULT, lt, NULL), OVICA_OK);
    const double degs[] = {10, -10, 20, -20, 0, 0}, scales[] = {1, 1, 1, 1, 0.7, 1.4};
    for (int v = 0; v < 6; v++) {
        rotate_scale(A, n, degs[v], scales[v], B);
        ck_assert_status(ovica_model_set_basis(md, B, 2, n), OVICA_OK);
        ck_assert_status(ovica_loglik(md, X, N, 2, OVICA_LOGLIK_BETA_DEFAULT, lo, NULL),
                         OVICA_OK);
        double d = 0.0, d2 = 0.0;
        for (size_t k = 0; k < N; k++) {
            d += lt[k] - lo[k];
            d2 += (lt[k] - lo[k]) * (lt[k] - lo[k]);
        }
        d /= (double)N;
        double se = sqrt((d2 / (double)N - d * d) / (double)(N - 1));
        if (getenv("OVICA_TEST_VERBOSE"))
            printf("true-vs-altered %s sigma %.2f rot %+3.0f scale %.1f: true better by %.4f "
                   "nats/sample (se %.4f)\n",
                   kind ? "exponential" : "laplace", sigma, degs[v], scales[v], d, se);
        /* standard errors required: 4; Laplace rotations 3 (20 degrees), 0 (10) */
        double need = 4.0;
        if (kind == OVICA_PRIOR_LAPLACE && degs[v] != 0.0) need = fabs(degs[v]) > 15.0 ? 3.0 : 0.0;
        ck_assert_msg(d > need * se && d > 0.0,
                      "kind %d sigma %g: rot %g scale %g: true better by only %g (se %g)", kind,
                      sigma, degs[v], scales[v], d, se);
    }
    ovica_model_free(md);
    ovica_rng_free(rng);
    free(S);
    free(X);
    free(lt);
    free(lo);
}
END_TEST

/* ovica_loglik equals ovica_loglik_codes at the solver's codes; the mean
 * is the mean of the per-sample values. */
START_TEST(test_codes_consistency)
{
    const size_t m = 4, n = 8, N = 40;
    tu_rng r;
    tu_seed(&r, 99);
    double A[32], X[160], S[320], a[40], c[40];
    tu_fill_normal(&r, A, m * n, 0.5);
    tu_fill_normal(&r, X, N * m, 1.0);
    ovica_model *md = make_model(m, n, A, OVICA_PRIOR_LAPLACE, 0.7, 0.25);
    ovica_solver *s = NULL;
    ck_assert_status(ovica_solver_new(&s, ovica_solver_fista), OVICA_OK);
    ck_assert_status(ovica_solver_set_param(s, OVICA_SOLVER_TOL, 1e-12), OVICA_OK);
    ck_assert_status(ovica_solver_set_param(s, OVICA_SOLVER_MAX_ITER, 100000), OVICA_OK);
    ck_assert_status(ovica_solver_infer(s, md, X, N, m, S, n, NULL), OVICA_OK);
    double ma = 0.0, mc = 0.0, sum = 0.0;
    ck_assert_status(ovica_loglik(md, X, N, m, 5.0, a, &ma), OVICA_OK);
    ck_assert_status(ovica_loglik_codes(md, X, N, m, S, n, 5.0, c, &mc), OVICA_OK);
    ck_assert_double_le(tu_max_abs_diff(a, c, N), 1e-5);
    for (size_t k = 0; k < N; k++) sum += c[k];
    ck_assert_double_eq_tol(mc, sum / (double)N, 1e-12);
    /* beta changes the value (inactive coordinates get curvature beta/b^2) */
    double m2 = 0.0;
    ck_assert_status(ovica_loglik_codes(md, X, N, m, S, n, 20.0, NULL, &m2), OVICA_OK);
    ck_assert_double_lt(m2, mc);
    ovica_solver_free(s);
    ovica_model_free(md);
}
END_TEST

START_TEST(test_bits_per_dim)
{
    double out = -1.0;
    /* mean loglik = -3 m ln 2: 3 bits per dimension at quantum 1 */
    ck_assert_status(ovica_bits_per_dim(-3.0 * 4.0 * log(2.0), 4, 1.0, &out), OVICA_OK);
    ck_assert_double_eq_tol(out, 3.0, 1e-12);
    /* a quantum of 1/256 adds 8 bits */
    ck_assert_status(ovica_bits_per_dim(-3.0 * 4.0 * log(2.0), 4, 1.0 / 256.0, &out), OVICA_OK);
    ck_assert_double_eq_tol(out, 11.0, 1e-12);
    ck_assert_error(ovica_bits_per_dim(0.0, 4, 1.0, NULL), OVICA_EINVAL);
    ck_assert_error(ovica_bits_per_dim(0.0, 0, 1.0, &out), OVICA_EINVAL);
    ck_assert_error(ovica_bits_per_dim(0.0, 4, 0.0, &out), OVICA_EINVAL);
    ck_assert_error(ovica_bits_per_dim(0.0, 4, -1.0, &out), OVICA_EINVAL);
    ck_assert_error(ovica_bits_per_dim(NAN, 4, 1.0, &out), OVICA_ENONFINITE);
    ck_assert_error(ovica_bits_per_dim(0.0, 4, INFINITY, &out), OVICA_ENONFINITE);
    ck_assert_double_eq_tol(out, 11.0, 1e-12); /* untouched */
}
END_TEST

START_TEST(test_bad_input)
{
    double A[6] = {1, 0, 0.5, 0, 1, 0.5}, X[4] = {0.1, 0.2, 0.3, -0.1}, S[6] = {0};
    double ll[2], mean;
    ovica_model *md = make_model(2, 3, A, OVICA_PRIOR_LAPLACE, 1.0, 0.1);
    const double beta = OVICA_LOGLIK_BETA_DEFAULT;
    ck_assert_error(ovica_loglik_codes(NULL, X, 2, 2, S, 3, beta, ll, &mean), OVICA_EINVAL);
    ck_assert_error(ovica_loglik_codes(md, NULL, 2, 2, S, 3, beta, ll, &mean), OVICA_EINVAL);
    ck_assert_error(ovica_loglik_codes(md, X, 2, 2, NULL, 3, beta, ll, &mean), OVICA_EINVAL);
    ck_assert_error(ovica_loglik_codes(md, X, 0, 2, S, 3, beta, ll, &mean), OVICA_EINVAL);
    ck_assert_error(ovica_loglik_codes(md, X, 2, 3, S, 3, beta, ll, &mean), OVICA_ESIZE);
    ck_assert_error(ovica_loglik_codes(md, X, 2, 2, S, 2, beta, ll, &mean), OVICA_ESIZE);
    ck_assert_error(ovica_loglik_codes(md, X, 2, 2, S, 3, 0.0, ll, &mean), OVICA_EINVAL);
    ck_assert_error(ovica_loglik_codes(md, X, 2, 2, S, 3, -1.0, ll, &mean), OVICA_EINVAL);
    ck_assert_error(ovica_loglik_codes(md, X, 2, 2, S, 3, NAN, ll, &mean), OVICA_ENONFINITE);
    ck_assert_error(ovica_loglik_codes(md, X, 2, 2, S, 3, INFINITY, ll, &mean), OVICA_ENONFINITE);
    ck_assert_error(ovica_loglik(NULL, X, 2, 2, beta, ll, &mean), OVICA_EINVAL);
    ck_assert_error(ovica_loglik(md, NULL, 2, 2, beta, ll, &mean), OVICA_EINVAL);
    ck_assert_error(ovica_loglik(md, X, 0, 2, beta, ll, &mean), OVICA_EINVAL);
    ck_assert_error(ovica_loglik(md, X, 2, 1, beta, ll, &mean), OVICA_ESIZE);
    ck_assert_error(ovica_loglik(md, X, 2, 2, -2.0, ll, &mean), OVICA_EINVAL);
    ck_assert_error(ovica_loglik(md, X, 2, 2, NAN, ll, &mean), OVICA_ENONFINITE);
    X[3] = NAN;
    ck_assert_error(ovica_loglik(md, X, 2, 2, beta, ll, &mean), OVICA_ENONFINITE);
    ck_assert_error(ovica_loglik_codes(md, X, 2, 2, S, 3, beta, ll, &mean), OVICA_ENONFINITE);
    X[3] = -0.1;
    S[4] = INFINITY;
    ck_assert_error(ovica_loglik_codes(md, X, 2, 2, S, 3, beta, ll, &mean), OVICA_ENONFINITE);
    S[4] = 0.0;
    /* outputs are optional */
    ck_assert_status(ovica_loglik(md, X, 2, 2, beta, NULL, NULL), OVICA_OK);
    ovica_model_free(md);

    /* exponential prior: negative codes are outside the domain */
    md = make_model(2, 3, A, OVICA_PRIOR_EXPONENTIAL, 1.0, 0.1);
    S[1] = -0.5;
    ck_assert_error(ovica_loglik_codes(md, X, 2, 2, S, 3, beta, ll, &mean), OVICA_EDOMAIN);
    S[1] = 0.0;
    ovica_model_free(md);

    /* basis not set */
    md = make_model(2, 3, NULL, OVICA_PRIOR_LAPLACE, 1.0, 0.1);
    ck_assert_error(ovica_loglik_codes(md, X, 2, 2, S, 3, beta, ll, &mean), OVICA_EINVAL);
    ck_assert_error(ovica_loglik(md, X, 2, 2, beta, ll, &mean), OVICA_EINVAL);
    ovica_model_free(md);

    /* user prior without curvature: not supported; with zero curvature and
     * n > m the Hessian is singular */
    double tau2 = 1.0;
    ovica_prior *p = gaussian_prior(&tau2, 0);
    ck_assert_status(ovica_model_new(&md, 2, 3, p, 0.1), OVICA_OK);
    ck_assert_status(ovica_model_set_basis(md, A, 2, 3), OVICA_OK);
    ck_assert_error(ovica_loglik_codes(md, X, 2, 2, S, 3, beta, ll, &mean), OVICA_ENOTSUP);
    ck_assert_error(ovica_loglik(md, X, 2, 2, beta, ll, &mean), OVICA_ENOTSUP);
    ovica_model_free(md);
    ovica_prior_free(p);
}
END_TEST

static int zero_curv(const double *s, size_t count, double *c, void *user)
{
    (void)s;
    (void)user;
    for (size_t i = 0; i < count; i++) c[i] = 0.0;
    return 0;
}

START_TEST(test_singular_hessian)
{
    double tau2 = 1.0;
    ovica_prior_callbacks cb = OVICA_PRIOR_CALLBACKS_INIT;
    cb.neglogp = g_neglogp;
    cb.grad = g_grad;
    cb.prox = g_prox;
    cb.curvature = zero_curv;
    ovica_prior *p = NULL;
    ck_assert_status(ovica_prior_user_new(&p, &cb, &tau2), OVICA_OK);
    double A[6] = {1, 0, 0.5, 0, 1, 0.5}, X[2] = {0.1, 0.2}, S[3] = {0.1, 0.2, 0.0};
    ovica_model *md = NULL;
    ck_assert_status(ovica_model_new(&md, 2, 3, p, 0.1), OVICA_OK);
    ck_assert_status(ovica_model_set_basis(md, A, 2, 3), OVICA_OK);
    double ll = 0.0;
    ck_assert_error(ovica_loglik_codes(md, X, 1, 2, S, 3, 1.0, &ll, NULL), OVICA_ENUMERIC);
    ck_assert_ptr_nonnull(strstr(ovica_error_message(), "positive definite"));
    ovica_model_free(md);
    ovica_prior_free(p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("loglik");
    TCase *tc = tcase_create("laplace");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_gaussian_prior_exact, 0, 3);
    tcase_add_loop_test(tc, test_quadrature_1d, 0, 4);
    tcase_add_loop_test(tc, test_quadrature_2d, 0, 2);
    tcase_add_loop_test(tc, test_true_basis_best, 0, 4);
    tcase_add_test(tc, test_codes_consistency);
    tcase_add_test(tc, test_bits_per_dim);
    tcase_add_test(tc, test_bad_input);
    tcase_add_test(tc, test_singular_hessian);
    suite_add_tcase(s, tc);
    return tu_run(s);
}

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
    ck_assert_status(ovica_loglik_laplace(md, X, N, m, 3.0, ll, &mean), OVICA_OK);
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
 * Laplace prior: everywhere (the kink costs at most ~0.05 nats at beta 10,
 * the value used here; in the complete case beta matters little).
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
        ck_assert_status(ovica_loglik_laplace(md, &x, 1, 1, 10.0, &ll, NULL), OVICA_OK);
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
    const double sigma = _i ? 0.2 : 0.1, b = 1.0; /* beta 10 */
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
    ck_assert_status(ovica_loglik_laplace(md, X, K, 2, 10.0, ll, NULL), OVICA_OK);
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
    const double beta = ovica_loglik_beta_default(ovica_model_prior(md));
    ck_assert_status(ovica_loglik_laplace(md, X, N, 2, beta, lt, NULL), OVICA_OK);
    const double degs[] = {10, -10, 20, -20, 0, 0}, scales[] = {1, 1, 1, 1, 0.7, 1.4};
    for (int v = 0; v < 6; v++) {
        rotate_scale(A, n, degs[v], scales[v], B);
        ck_assert_status(ovica_model_set_basis(md, B, 2, n), OVICA_OK);
        ck_assert_status(ovica_loglik_laplace(md, X, N, 2, beta, lo, NULL), OVICA_OK);
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

/* ovica_loglik_laplace equals ovica_loglik_codes at the solver's codes; the
 * mean is the mean of the per-sample values. */
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
    ck_assert_status(ovica_loglik_laplace(md, X, N, m, 5.0, a, &ma), OVICA_OK);
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
    ck_assert_status(ovica_loglik_bits(-3.0 * 4.0 * log(2.0), 4, 1.0, &out), OVICA_OK);
    ck_assert_double_eq_tol(out, 3.0, 1e-12);
    /* a quantum of 1/256 adds 8 bits */
    ck_assert_status(ovica_loglik_bits(-3.0 * 4.0 * log(2.0), 4, 1.0 / 256.0, &out), OVICA_OK);
    ck_assert_double_eq_tol(out, 11.0, 1e-12);
    ck_assert_error(ovica_loglik_bits(0.0, 4, 1.0, NULL), OVICA_EINVAL);
    ck_assert_error(ovica_loglik_bits(0.0, 0, 1.0, &out), OVICA_EINVAL);
    ck_assert_error(ovica_loglik_bits(0.0, 4, 0.0, &out), OVICA_EINVAL);
    ck_assert_error(ovica_loglik_bits(0.0, 4, -1.0, &out), OVICA_EINVAL);
    ck_assert_error(ovica_loglik_bits(NAN, 4, 1.0, &out), OVICA_ENONFINITE);
    ck_assert_error(ovica_loglik_bits(0.0, 4, INFINITY, &out), OVICA_ENONFINITE);
    ck_assert_double_eq_tol(out, 11.0, 1e-12); /* untouched */
}
END_TEST

START_TEST(test_bad_input)
{
    double A[6] = {1, 0, 0.5, 0, 1, 0.5}, X[4] = {0.1, 0.2, 0.3, -0.1}, S[6] = {0};
    double ll[2], mean;
    ovica_model *md = make_model(2, 3, A, OVICA_PRIOR_LAPLACE, 1.0, 0.1);
    const double beta = 2.0;
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
    ck_assert_error(ovica_loglik_laplace(NULL, X, 2, 2, beta, ll, &mean), OVICA_EINVAL);
    ck_assert_error(ovica_loglik_laplace(md, NULL, 2, 2, beta, ll, &mean), OVICA_EINVAL);
    ck_assert_error(ovica_loglik_laplace(md, X, 0, 2, beta, ll, &mean), OVICA_EINVAL);
    ck_assert_error(ovica_loglik_laplace(md, X, 2, 1, beta, ll, &mean), OVICA_ESIZE);
    ck_assert_error(ovica_loglik_laplace(md, X, 2, 2, -2.0, ll, &mean), OVICA_EINVAL);
    ck_assert_error(ovica_loglik_laplace(md, X, 2, 2, NAN, ll, &mean), OVICA_ENONFINITE);
    X[3] = NAN;
    ck_assert_error(ovica_loglik_laplace(md, X, 2, 2, beta, ll, &mean), OVICA_ENONFINITE);
    ck_assert_error(ovica_loglik_codes(md, X, 2, 2, S, 3, beta, ll, &mean), OVICA_ENONFINITE);
    X[3] = -0.1;
    S[4] = INFINITY;
    ck_assert_error(ovica_loglik_codes(md, X, 2, 2, S, 3, beta, ll, &mean), OVICA_ENONFINITE);
    S[4] = 0.0;
    /* outputs are optional */
    ck_assert_status(ovica_loglik_laplace(md, X, 2, 2, beta, NULL, NULL), OVICA_OK);
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
    ck_assert_error(ovica_loglik_laplace(md, X, 2, 2, beta, ll, &mean), OVICA_EINVAL);
    ovica_model_free(md);

    /* user prior without curvature: not supported; with zero curvature and
     * n > m the Hessian is singular */
    double tau2 = 1.0;
    ovica_prior *p = gaussian_prior(&tau2, 0);
    ck_assert_status(ovica_model_new(&md, 2, 3, p, 0.1), OVICA_OK);
    ck_assert_status(ovica_model_set_basis(md, A, 2, 3), OVICA_OK);
    ck_assert_error(ovica_loglik_codes(md, X, 2, 2, S, 3, beta, ll, &mean), OVICA_ENOTSUP);
    ck_assert_error(ovica_loglik_laplace(md, X, 2, 2, beta, ll, &mean), OVICA_ENOTSUP);
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

/* ---- importance sampling ---- */

/* IS against 1-D quadrature: within 4 standard errors + 0.003 nats. */
START_TEST(test_is_quadrature_1d)
{
    const int expo = _i / 2;
    const double sigma = (_i % 2) ? 0.2 : 0.05, a = 1.3, b = 1.0;
    ovica_model *md = make_model(1, 1, &a, expo ? OVICA_PRIOR_EXPONENTIAL : OVICA_PRIOR_LAPLACE,
                                 b, sigma);
    const double xs[] = {-2.0, -0.1, 0.0, 0.03, 0.1, 0.5, 3.0};
    int fails = 0;
    char msg[256] = "";
    for (size_t k = 0; k < sizeof xs / sizeof xs[0]; k++) {
        double x = xs[k], ll = 0.0, mean = 0.0, se = 0.0;
        if (expo && x < 0.0) continue; /* far outside the data's cone: P ~ e^-800 */
        ck_assert_status(ovica_loglik_importance(md, &x, 1, 1, 4000, 17 + k, &ll, &mean, &se),
                         OVICA_OK);
        double want = exact_1d(x, a, b, sigma, expo);
        if (getenv("OVICA_TEST_VERBOSE"))
            printf("IS-1d %s sigma %.2f x %5.2f: IS %.5f se %.5f exact %.5f\n", expo ? "exp" : "lap",
                   sigma, x, ll, se, want);
        if (!(fabs(ll - want) <= 4.0 * se + 0.003) || ll != mean || !(se < 0.02)) {
            fails++;
            snprintf(msg, sizeof msg, "x = %g: IS %.5f (se %.5f), exact %.5f", x, ll, se, want);
        }
    }
    ck_assert_msg(fails == 0, "%d failures; last: %s", fails, msg);
    ovica_model_free(md);
}
END_TEST

START_TEST(test_is_quadrature_2d)
{
    const double sigma = 0.1, b = 1.0;
    const double A[4] = {cos(20 * PI / 180), 0.8 * cos(110 * PI / 180), sin(20 * PI / 180),
                         0.8 * sin(110 * PI / 180)};
    ovica_model *md = make_model(2, 2, A, OVICA_PRIOR_LAPLACE, b, sigma);
    const double X[8] = {0.01, -0.02, 1.2, -0.4, 0.9, 0.33, -2.0, 1.1};
    double ll[4], se = 0.0;
    ck_assert_status(ovica_loglik_importance(md, X, 4, 2, 8000, 3, ll, NULL, &se), OVICA_OK);
    for (int k = 0; k < 4; k++) {
        double want = exact_2d(X + 2 * k, A, b, sigma);
        /* se is for the mean of 4: a sample's is about 2 se */
        ck_assert_msg(fabs(ll[k] - want) < 8.0 * se + 0.003, "x%d: IS %.5f exact %.5f (se %g)",
                      k, ll[k], want, se);
    }
    ovica_model_free(md);
}
END_TEST

/* Exact marginal of a 2 x 3 model: with d the unit null vector of A and
 * Q an orthonormal basis of its row space, s = Q u + t d and
 *   P(x) = int du N(x; A Q u, sigma^2 I) int dt p(Q u + t d),
 * where the inner integral over the line is done in closed form (the log of
 * the prior is piecewise linear along it) and the outer one by the
 * trapezoid rule. */
static double line_integral(const double *a, const double *d, double b, int expo)
{
    if (expo) {
        double lo = -INFINITY, hi = INFINITY, sa = 0.0, sd = 0.0;
        for (int i = 0; i < 3; i++) {
            sa += a[i];
            sd += d[i];
            if (d[i] > 0) lo = fmax(lo, -a[i] / d[i]);
            else if (d[i] < 0) hi = fmin(hi, -a[i] / d[i]);
            else if (a[i] < 0) return 0.0;
        }
        if (!(lo < hi)) return 0.0;
        /* int_lo^hi exp(-(sa + t sd)/b) dt / b^3 */
        double k = sd / b, f = 1.0 / (b * b * b);
        if (hi == INFINITY) return f * exp(-(sa + lo * sd) / b) / k;
        if (lo == -INFINITY) return f * exp(-(sa + hi * sd) / b) / (-k);
        return f * (exp(-(sa + lo * sd) / b) - exp(-(sa + hi * sd) / b)) / k;
    }
    double br[3];
    for (int i = 0; i < 3; i++) br[i] = -a[i] / d[i];
    for (int i = 0; i < 3; i++)
        for (int j = i + 1; j < 3; j++)
            if (br[j] < br[i]) { double t = br[i]; br[i] = br[j]; br[j] = t; }
    double acc = 0.0, f = 1.0 / (8.0 * b * b * b);
    for (int seg = 0; seg <= 3; seg++) {
        double lo = seg == 0 ? -INFINITY : br[seg - 1], hi = seg == 3 ? INFINITY : br[seg];
        if (!(lo < hi)) continue;
        double mid = seg == 0 ? hi - 1.0 : (seg == 3 ? lo + 1.0 : 0.5 * (lo + hi));
        /* exponent -(c0 + c1 t)/b on this segment */
        double c0 = 0.0, c1 = 0.0;
        for (int i = 0; i < 3; i++) {
            double sg = (a[i] + mid * d[i]) >= 0 ? 1.0 : -1.0;
            c0 += sg * a[i];
            c1 += sg * d[i];
        }
        double k = -c1 / b, e0 = -c0 / b;
        if (fabs(k) < 1e-12) acc += exp(e0) * (hi - lo);
        else {
            double vhi = hi == INFINITY ? 0.0 : exp(e0 + k * hi);
            double vlo = lo == -INFINITY ? 0.0 : exp(e0 + k * lo);
            acc += (vhi - vlo) / k;
        }
    }
    return f * acc;
}

static double exact_2x3(const double *x, const double *A, double b, double sigma, int expo)
{
    /* d = row0 x row1, normalised; Q: Gram-Schmidt of the two rows */
    double d[3] = {A[1] * A[5] - A[2] * A[4], A[2] * A[3] - A[0] * A[5], A[0] * A[4] - A[1] * A[3]};
    double nd = sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
    double q0[3], q1[3], n0 = 0.0, n1 = 0.0, p = 0.0;
    for (int i = 0; i < 3; i++) { d[i] /= nd; q0[i] = A[i]; n0 += A[i] * A[i]; }
    for (int i = 0; i < 3; i++) { q0[i] /= sqrt(n0); p += q0[i] * A[3 + i]; }
    for (int i = 0; i < 3; i++) { q1[i] = A[3 + i] - p * q0[i]; n1 += q1[i] * q1[i]; }
    for (int i = 0; i < 3; i++) q1[i] /= sqrt(n1);
    /* M = A Q (2 x 2) */
    double M[4];
    for (int r = 0; r < 2; r++) {
        M[2 * r] = M[2 * r + 1] = 0.0;
        for (int i = 0; i < 3; i++) {
            M[2 * r] += A[3 * r + i] * q0[i];
            M[2 * r + 1] += A[3 * r + i] * q1[i];
        }
    }
    double det = M[0] * M[3] - M[1] * M[2];
    double u0 = (M[3] * x[0] - M[1] * x[1]) / det, u1 = (-M[2] * x[0] + M[0] * x[1]) / det;
    double inv_f = sqrt(M[0] * M[0] + M[1] * M[1] + M[2] * M[2] + M[3] * M[3]) / fabs(det);
    double half = 10.0 * sigma * inv_f, h = sigma * inv_f / 40.0;
    long K = (long)ceil(half / h);
    double acc = 0.0, il2 = 0.5 / (sigma * sigma), lnorm = -log(2.0 * PI * sigma * sigma);
    for (long i = -K; i <= K; i++)
        for (long j = -K; j <= K; j++) {
            double ua = u0 + (double)i * h, ub = u1 + (double)j * h;
            double w = ((i == -K || i == K) ? 0.5 : 1.0) * ((j == -K || j == K) ? 0.5 : 1.0);
            double r0 = x[0] - M[0] * ua - M[1] * ub, r1 = x[1] - M[2] * ua - M[3] * ub;
            double s[3];
            for (int q = 0; q < 3; q++) s[q] = ua * q0[q] + ub * q1[q];
            acc += w * exp(lnorm - il2 * (r0 * r0 + r1 * r1)) * line_integral(s, d, b, expo);
        }
    return log(acc * h * h);
}

/* IS against the exact marginal of the article's 2 x 3 model. */
START_TEST(test_is_exact_2x3)
{
    const int expo = _i / 2;
    const double sigma = (_i % 2) ? 0.2 : 0.05, b = 1.0;
    double A[6];
    ck_assert_status(ovica_synth_basis_2d(OVICA_SYNTH_REGULAR3, A, 2, 3), OVICA_OK);
    ovica_model *md = make_model(2, 3, A, expo ? OVICA_PRIOR_EXPONENTIAL : OVICA_PRIOR_LAPLACE,
                                 b, sigma);
    enum { K = 6 };
    const double X[2 * K] = {0.0, 0.01, 0.8, -0.3, -1.5, 0.2, 0.1, 2.2, 0.05, -0.6, 3.0, 1.0};
    double ll[K];
    int fails = 0;
    char msg[256] = "";
    for (int k = 0; k < K; k++) {
        double se = 0.0;
        ck_assert_status(ovica_loglik_importance(md, X + 2 * k, 1, 2, 20000, 5 + (uint64_t)k,
                                                 ll + k, NULL, &se),
                         OVICA_OK);
        double want = exact_2x3(X + 2 * k, A, b, sigma, expo);
        if (!(fabs(ll[k] - want) <= 4.0 * se + 0.003) || !(se < 0.01)) {
            fails++;
            snprintf(msg, sizeof msg, "x%d: IS %.5f (se %.5f), exact %.5f", k, ll[k], se, want);
        }
    }
    ck_assert_msg(fails == 0, "%s sigma %g: %d failures; last: %s",
                  expo ? "exponential" : "laplace", sigma, fails, msg);
    ovica_model_free(md);
}
END_TEST

/* The Laplace approximation (recommended beta) against importance sampling
 * on 2-D data from the article's 3-atom model (all sources active): the
 * mean per-sample difference within 0.1 nats (Laplace prior) or 0.6 nats
 * (exponential prior), the measured agreement plus a margin; the figures are in
 * docs/MODEL-COMPARISON.md (OVICA_TEST_VERBOSE=1 prints them). */
START_TEST(test_laplace_vs_is)
{
    const int kind = _i / 2;
    const double sigma = (_i % 2) ? 0.2 : 0.05, b = 1.0;
    const size_t N = 200, n = 3;
    double A[6];
    ck_assert_status(ovica_synth_basis_2d(OVICA_SYNTH_REGULAR3, A, 2, 3), OVICA_OK);
    ovica_rng *rng = NULL;
    ck_assert_status(ovica_rng_new(&rng, 31 + (uint64_t)_i), OVICA_OK);
    double *S = malloc(N * n * sizeof *S), *X = malloc(N * 2 * sizeof *X);
    double *li = malloc(N * sizeof *li), *ll = malloc(N * sizeof *ll);
    ck_assert_status(ovica_synth_sources(rng, kind, b, 1.0, S, N, n), OVICA_OK);
    ck_assert_status(ovica_synth_mix(rng, A, 2, n, S, N, sigma, X), OVICA_OK);
    ovica_model *md = make_model(2, n, A, kind, b, sigma);
    double mi = 0.0, se = 0.0, ml = 0.0, m10 = 0.0;
    ck_assert_status(ovica_loglik_importance(md, X, N, 2, 10000, 1, li, &mi, &se), OVICA_OK);
    const double beta = ovica_loglik_beta_default(ovica_model_prior(md));
    ck_assert_status(ovica_loglik_laplace(md, X, N, 2, beta, ll, &ml), OVICA_OK);
    ck_assert_status(ovica_loglik_laplace(md, X, N, 2, 10.0, NULL, &m10), OVICA_OK);
    double mad = 0.0;
    for (size_t k = 0; k < N; k++) mad += fabs(ll[k] - li[k]) / (double)N;
    if (getenv("OVICA_TEST_VERBOSE"))
        printf("laplace-vs-IS %s sigma %.2f: IS %.4f (se %.4f); laplace(beta %g) %.4f: mean diff "
               "%+.4f, mean |diff| %.4f; beta 10: mean diff %+.4f\n",
               kind ? "exponential" : "laplace", sigma, mi, se, beta, ml, ml - mi, mad,
               m10 - mi);
    ck_assert_double_lt(se, 0.005);
    /* measured: Laplace prior +0.03..+0.04 (mean |diff| 0.07); exponential
     * prior +0.48..+0.49 (its best beta here would be ~60, but that is far
     * off on larger models; see ovica_loglik_beta_default) */
    const double tol = kind == OVICA_PRIOR_LAPLACE ? 0.1 : 0.6;
    ck_assert_msg(fabs(ml - mi) < tol && mad < tol + 0.05,
                  "%s sigma %g: laplace %g vs IS %g (se %g), mean |diff| %g",
                  kind ? "exponential" : "laplace", sigma, ml, mi, se, mad);
    ovica_model_free(md);
    ovica_rng_free(rng);
    free(S); free(X); free(li); free(ll);
}
END_TEST

START_TEST(test_is_reproducible)
{
    double A[6], X[40], a[20], c[20], ma, mb, sa, sb;
    ck_assert_status(ovica_synth_basis_2d(OVICA_SYNTH_REGULAR3, A, 2, 3), OVICA_OK);
    tu_rng r;
    tu_seed(&r, 4);
    tu_fill_normal(&r, X, 40, 1.0);
    ovica_model *md = make_model(2, 3, A, OVICA_PRIOR_LAPLACE, 1.0, 0.1);
    ck_assert_status(ovica_loglik_importance(md, X, 20, 2, 2000, 77, a, &ma, &sa), OVICA_OK);
    ck_assert_status(ovica_loglik_importance(md, X, 20, 2, 2000, 77, c, &mb, &sb), OVICA_OK);
    ck_assert_mem_eq(a, c, sizeof a);
    ck_assert_double_eq(ma, mb);
    ck_assert_status(ovica_loglik_importance(md, X, 20, 2, 2000, 78, c, &mb, &sb), OVICA_OK);
    ck_assert_double_ne(ma, mb);
    ck_assert_double_lt(fabs(ma - mb), 5.0 * sqrt(sa * sa + sb * sb));
    ovica_model_free(md);
}
END_TEST

START_TEST(test_is_bad_input)
{
    double A[6] = {1, 0, 0.5, 0, 1, 0.5}, X[4] = {0.1, 0.2, 0.3, -0.1}, ll[2], mean, se;
    ovica_model *md = make_model(2, 3, A, OVICA_PRIOR_LAPLACE, 1.0, 0.1);
    ck_assert_error(ovica_loglik_importance(NULL, X, 2, 2, 100, 1, ll, &mean, &se), OVICA_EINVAL);
    ck_assert_error(ovica_loglik_importance(md, NULL, 2, 2, 100, 1, ll, &mean, &se), OVICA_EINVAL);
    ck_assert_error(ovica_loglik_importance(md, X, 0, 2, 100, 1, ll, &mean, &se), OVICA_EINVAL);
    ck_assert_error(ovica_loglik_importance(md, X, 2, 3, 100, 1, ll, &mean, &se), OVICA_ESIZE);
    ck_assert_error(ovica_loglik_importance(md, X, 2, 2, 15, 1, ll, &mean, &se), OVICA_EINVAL);
    X[1] = INFINITY;
    ck_assert_error(ovica_loglik_importance(md, X, 2, 2, 100, 1, ll, &mean, &se),
                    OVICA_ENONFINITE);
    X[1] = 0.2;
    ck_assert_status(ovica_loglik_importance(md, X, 2, 2, 100, 1, NULL, NULL, NULL), OVICA_OK);
    ovica_model_free(md);
    /* too many atoms */
    double *B = calloc(2 * 17, sizeof *B);
    B[0] = 1.0;
    B[17 + 1] = 1.0;
    md = make_model(2, 17, B, OVICA_PRIOR_LAPLACE, 1.0, 0.1);
    ck_assert_error(ovica_loglik_importance(md, X, 2, 2, 100, 1, ll, &mean, &se), OVICA_ENOTSUP);
    ovica_model_free(md);
    free(B);
    /* user prior */
    double tau2 = 1.0;
    ovica_prior *p = gaussian_prior(&tau2, 1);
    ck_assert_status(ovica_model_new(&md, 2, 3, p, 0.1), OVICA_OK);
    ck_assert_status(ovica_model_set_basis(md, A, 2, 3), OVICA_OK);
    ck_assert_error(ovica_loglik_importance(md, X, 2, 2, 100, 1, ll, &mean, &se), OVICA_ENOTSUP);
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
    TCase *ti = tcase_create("importance");
    tcase_set_timeout(ti, 60);
    tcase_add_loop_test(ti, test_is_quadrature_1d, 0, 4);
    tcase_add_test(ti, test_is_quadrature_2d);
    tcase_add_loop_test(ti, test_is_exact_2x3, 0, 4);
    tcase_add_loop_test(ti, test_laplace_vs_is, 0, 4);
    tcase_add_test(ti, test_is_reproducible);
    tcase_add_test(ti, test_is_bad_input);
    suite_add_tcase(s, ti);
    return tu_run(s);
}

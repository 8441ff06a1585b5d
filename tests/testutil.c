#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <lapacke.h>

void tu_seed(tu_rng *r, uint64_t seed) { r->s = seed * 0x9E3779B97F4A7C15ULL + 1; }

static uint64_t tu_next(tu_rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

double tu_uniform(tu_rng *r) { return (double)(tu_next(r) >> 11) * 0x1.0p-53; }

double tu_normal(tu_rng *r)
{
    double u = tu_uniform(r), v = tu_uniform(r);
    if (u < 1e-300) u = 1e-300;
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

void tu_fill_normal(tu_rng *r, double *x, size_t len, double scale)
{
    for (size_t i = 0; i < len; i++) x[i] = scale * tu_normal(r);
}

void tu_orthogonal(tu_rng *r, double *Q, size_t m)
{
    double *tau = malloc(m * sizeof *tau);
    tu_fill_normal(r, Q, m * m, 1.0);
    LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, (lapack_int)m, (lapack_int)m, Q, (lapack_int)m, tau);
    LAPACKE_dorgqr(LAPACK_ROW_MAJOR, (lapack_int)m, (lapack_int)m, (lapack_int)m, Q,
                   (lapack_int)m, tau);
    free(tau);
}

double tu_max_abs_diff(const double *a, const double *b, size_t len)
{
    double d = 0.0;
    for (size_t i = 0; i < len; i++) {
        double e = fabs(a[i] - b[i]);
        if (!(e <= d)) d = e; /* NaN propagates */
    }
    return d;
}

int tu_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

int tu_sq_neglogp(const double *s, size_t n, double *out, void *u)
{
    (void)u;
    double t = 0.0;
    for (size_t i = 0; i < n; i++) t += 0.5 * s[i] * s[i];
    *out = t;
    return 0;
}

int tu_sq_grad(const double *s, size_t n, double *g, void *u)
{
    (void)u;
    for (size_t i = 0; i < n; i++) g[i] = s[i];
    return 0;
}

void tu_sparse_make(tu_sparse *p, uint64_t seed, size_t m, size_t n, size_t N, double activity,
                    double noise)
{
    *p = (tu_sparse){m, n, N, malloc(m * n * sizeof(double)), malloc(N * m * sizeof(double)),
                     NULL, NULL};
    double *S = malloc(N * n * sizeof *S);
    ck_assert(p->A && p->X && S);
    ovica_rng *r = NULL;
    ck_assert_int_eq(ovica_rng_new(&r, seed), OVICA_OK);
    ck_assert_int_eq(ovica_synth_random_basis(r, p->A, m, n), OVICA_OK);
    ck_assert_int_eq(ovica_synth_sources(r, OVICA_PRIOR_EXPONENTIAL, 1.0, activity, S, N, n),
                     OVICA_OK);
    ck_assert_int_eq(ovica_synth_mix(r, p->A, m, n, S, N, noise, p->X), OVICA_OK);
    ck_assert_int_eq(ovica_prior_exponential_new(&p->prior, 1.0), OVICA_OK);
    ck_assert_int_eq(ovica_model_new(&p->model, m, n, p->prior, 0.05), OVICA_OK);
    ovica_rng_free(r);
    free(S);
}

void tu_sparse_free(tu_sparse *p)
{
    ovica_model_free(p->model);
    ovica_prior_free(p->prior);
    free(p->A);
    free(p->X);
    *p = (tu_sparse){0, 0, 0, NULL, NULL, NULL, NULL};
}

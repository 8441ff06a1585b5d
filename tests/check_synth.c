/* Tests of the synthetic data generators (ovica/synth.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

static ovica_rng *mk(uint64_t seed)
{
    ovica_rng *r = NULL;
    ck_assert_status(ovica_rng_new(&r, seed), OVICA_OK);
    return r;
}

/* Angle of column i of a 2 x n basis in degrees, in [0, 360). */
static double atom_deg(const double *A, size_t n, size_t i)
{
    double d = atan2(A[n + i], A[i]) * 180.0 / M_PI;
    return d < 0 ? d + 360.0 : d;
}

/* ---- 2-D bases ------------------------------------------------------------------- */
START_TEST(test_basis_regular3)
{
    double A[6];
    static const double deg[3] = { 90.0, 210.0, 330.0 };
    ck_assert_status(ovica_synth_basis_2d(OVICA_SYNTH_REGULAR3, A, 2, 3), OVICA_OK);
    for (size_t i = 0; i < 3; i++) {
        ck_assert_double_eq_tol(hypot(A[i], A[3 + i]), 1.0, 1e-15);
        ck_assert_double_eq_tol(atom_deg(A, 3, i), deg[i], 1e-12);
    }
    /* Exactly 120 degrees apart: pairwise cosines are -1/2. */
    for (size_t i = 0; i < 3; i++)
        for (size_t j = i + 1; j < 3; j++)
            ck_assert_double_eq_tol(A[i] * A[j] + A[3 + i] * A[3 + j], -0.5, 1e-15);
    /* The atoms sum to zero (a regular frame). */
    ck_assert_double_eq_tol(A[0] + A[1] + A[2], 0.0, 1e-15);
    ck_assert_double_eq_tol(A[3] + A[4] + A[5], 0.0, 1e-15);
}
END_TEST

START_TEST(test_basis_irregular4)
{
    double A[8];
    static const double deg[4] = { 15.0, 38.0, 140.0, 250.0 };
    ck_assert_status(ovica_synth_basis_2d(OVICA_SYNTH_IRREGULAR4, A, 2, 4), OVICA_OK);
    for (size_t i = 0; i < 4; i++) {
        ck_assert_double_eq_tol(hypot(A[i], A[4 + i]), 1.0, 1e-15);
        ck_assert_double_eq_tol(atom_deg(A, 4, i), deg[i], 1e-12);
    }
    /* The close pair: 23 degrees apart. */
    double c = A[0] * A[1] + A[4] * A[5];
    ck_assert_double_eq_tol(acos(c) * 180.0 / M_PI, 23.0, 1e-9);
}
END_TEST

START_TEST(test_basis_bad)
{
    double A[12];
    for (int i = 0; i < 12; i++) A[i] = 7.0;
    ck_assert_error(ovica_synth_basis_2d(OVICA_SYNTH_REGULAR3, NULL, 2, 3), OVICA_EINVAL);
    ck_assert_error(ovica_synth_basis_2d(2, A, 2, 3), OVICA_EINVAL);
    ck_assert_error(ovica_synth_basis_2d(-1, A, 2, 3), OVICA_EINVAL);
    ck_assert_error(ovica_synth_basis_2d(OVICA_SYNTH_REGULAR3, A, 3, 3), OVICA_ESIZE);
    ck_assert_error(ovica_synth_basis_2d(OVICA_SYNTH_REGULAR3, A, 2, 4), OVICA_ESIZE);
    ck_assert_error(ovica_synth_basis_2d(OVICA_SYNTH_IRREGULAR4, A, 2, 3), OVICA_ESIZE);
    ck_assert_error(ovica_synth_basis_2d(OVICA_SYNTH_IRREGULAR4, A, 0, 0), OVICA_ESIZE);
    for (int i = 0; i < 12; i++) ck_assert(A[i] == 7.0); /* untouched */
}
END_TEST

/* ---- random basis ----------------------------------------------------------------- */
START_TEST(test_random_basis)
{
    enum { M = 5, N = 9 };
    double A[M * N], B[M * N], C[M * N];
    ovica_rng *r1 = mk(3), *r2 = mk(3), *r3 = mk(4);
    ck_assert_status(ovica_synth_random_basis(r1, A, M, N), OVICA_OK);
    ck_assert_status(ovica_synth_random_basis(r2, B, M, N), OVICA_OK);
    ck_assert_status(ovica_synth_random_basis(r3, C, M, N), OVICA_OK);
    ck_assert(memcmp(A, B, sizeof A) == 0);
    ck_assert(tu_max_abs_diff(A, C, M * N) > 0.1);
    for (size_t i = 0; i < N; i++) {
        double ss = 0.0;
        for (size_t k = 0; k < M; k++) ss += A[k * N + i] * A[k * N + i];
        ck_assert_double_eq_tol(ss, 1.0, 1e-14);
    }
    /* Isotropy, roughly: over many columns in 3-D each coordinate's square
     * averages 1/3 (sd of the mean of a Beta(1/2,1) ~ 0.298/sqrt(n)). */
    enum { NB = 20000 };
    double *D = malloc(3 * NB * sizeof *D);
    ck_assert_ptr_nonnull(D);
    ck_assert_status(ovica_synth_random_basis(r1, D, 3, NB), OVICA_OK);
    for (size_t k = 0; k < 3; k++) {
        double s = 0.0, s1 = 0.0;
        for (size_t i = 0; i < NB; i++) {
            s += D[k * NB + i] * D[k * NB + i];
            s1 += D[k * NB + i];
        }
        ck_assert_double_eq_tol(s / NB, 1.0 / 3.0, 5.0 * 0.2981 / sqrt(NB));
        ck_assert_double_eq_tol(s1 / NB, 0.0, 5.0 * sqrt(1.0 / 3.0 / NB));
    }
    free(D);
    ovica_rng_free(r1);
    ovica_rng_free(r2);
    ovica_rng_free(r3);
}
END_TEST

START_TEST(test_random_basis_bad)
{
    double A[4];
    ovica_rng *r = mk(1);
    ck_assert_error(ovica_synth_random_basis(NULL, A, 2, 2), OVICA_EINVAL);
    ck_assert_error(ovica_synth_random_basis(r, NULL, 2, 2), OVICA_EINVAL);
    ck_assert_error(ovica_synth_random_basis(r, A, 0, 2), OVICA_EINVAL);
    ck_assert_error(ovica_synth_random_basis(r, A, 2, 0), OVICA_EINVAL);
    ck_assert_error(ovica_synth_random_basis(r, A, SIZE_MAX / 2, 4), OVICA_ESIZE);
    ovica_rng_free(r);
}
END_TEST

/* ---- sources ------------------------------------------------------------------------ */
START_TEST(test_sources_laplace)
{
    enum { NN = 20000, n = 5 };
    const double b = 1.5, act = 0.3;
    double *S = malloc(NN * n * sizeof *S);
    ck_assert_ptr_nonnull(S);
    ovica_rng *r = mk(17);
    ck_assert_status(ovica_synth_sources(r, OVICA_PRIOR_LAPLACE, b, act, S, NN, n), OVICA_OK);
    size_t active = 0, pos = 0, bad = 0;
    double sabs = 0.0;
    size_t col_active[n] = { 0 };
    for (size_t i = 0; i < (size_t)NN * n; i++) {
        bad += !isfinite(S[i]);
        if (S[i] != 0.0) {
            active++;
            col_active[i % n]++;
            pos += S[i] > 0;
            sabs += fabs(S[i]);
        }
    }
    ck_assert_uint_eq(bad, 0);
    double tot = (double)NN * n;
    ck_assert_double_eq_tol(active / tot, act, 5.0 * sqrt(act * (1 - act) / tot));
    for (size_t i = 0; i < n; i++)
        ck_assert_double_eq_tol(col_active[i] / (double)NN, act,
                                5.0 * sqrt(act * (1 - act) / NN));
    ck_assert_double_eq_tol((double)pos / active, 0.5, 5.0 * 0.5 / sqrt((double)active));
    ck_assert_double_eq_tol(sabs / active, b, 5.0 * b / sqrt((double)active));
    ovica_rng_free(r);
    free(S);
}
END_TEST

START_TEST(test_sources_exponential)
{
    enum { NN = 20000, n = 4 };
    const double b = 0.5;
    double *S = malloc(NN * n * sizeof *S), *T = malloc(NN * n * sizeof *T);
    ck_assert_ptr_nonnull(S);
    ck_assert_ptr_nonnull(T);
    ovica_rng *r = mk(18), *r2 = mk(18);
    /* activity 1: everything drawn from the prior */
    ck_assert_status(ovica_synth_sources(r, OVICA_PRIOR_EXPONENTIAL, b, 1.0, S, NN, n), OVICA_OK);
    double s = 0.0;
    size_t zeros = 0, neg = 0;
    for (size_t i = 0; i < (size_t)NN * n; i++) {
        neg += !(S[i] >= 0.0);
        zeros += S[i] == 0.0;
        s += S[i];
    }
    ck_assert_uint_eq(zeros, 0);
    ck_assert_uint_eq(neg, 0);
    ck_assert_double_eq_tol(s / (NN * n), b, 5.0 * b / sqrt(NN * n));
    /* reproducible */
    ck_assert_status(ovica_synth_sources(r2, OVICA_PRIOR_EXPONENTIAL, b, 1.0, T, NN, n), OVICA_OK);
    ck_assert(memcmp(S, T, (size_t)NN * n * sizeof *S) == 0);
    /* low activity */
    ck_assert_status(ovica_synth_sources(r, OVICA_PRIOR_EXPONENTIAL, b, 0.05, S, NN, n), OVICA_OK);
    size_t active = 0;
    for (size_t i = 0; i < (size_t)NN * n; i++) {
        neg += !(S[i] >= 0.0);
        active += S[i] > 0.0;
    }
    ck_assert_uint_eq(neg, 0);
    double tot = (double)NN * n;
    ck_assert_double_eq_tol(active / tot, 0.05, 5.0 * sqrt(0.05 * 0.95 / tot));
    ovica_rng_free(r);
    ovica_rng_free(r2);
    free(S);
    free(T);
}
END_TEST

START_TEST(test_sources_bad)
{
    double S[6] = { 9, 9, 9, 9, 9, 9 };
    ovica_rng *r = mk(1);
    const int L = OVICA_PRIOR_LAPLACE;
    ck_assert_error(ovica_synth_sources(NULL, L, 1.0, 0.5, S, 2, 3), OVICA_EINVAL);
    ck_assert_error(ovica_synth_sources(r, L, 1.0, 0.5, NULL, 2, 3), OVICA_EINVAL);
    ck_assert_error(ovica_synth_sources(r, OVICA_PRIOR_USER, 1.0, 0.5, S, 2, 3), OVICA_EINVAL);
    ck_assert_error(ovica_synth_sources(r, 99, 1.0, 0.5, S, 2, 3), OVICA_EINVAL);
    ck_assert_error(ovica_synth_sources(r, L, 0.0, 0.5, S, 2, 3), OVICA_EINVAL);
    ck_assert_error(ovica_synth_sources(r, L, -1.0, 0.5, S, 2, 3), OVICA_EINVAL);
    ck_assert_error(ovica_synth_sources(r, L, NAN, 0.5, S, 2, 3), OVICA_ENONFINITE);
    ck_assert_error(ovica_synth_sources(r, L, INFINITY, 0.5, S, 2, 3), OVICA_ENONFINITE);
    ck_assert_error(ovica_synth_sources(r, L, 1.0, 0.0, S, 2, 3), OVICA_EINVAL);
    ck_assert_error(ovica_synth_sources(r, L, 1.0, 1.0001, S, 2, 3), OVICA_EINVAL);
    ck_assert_error(ovica_synth_sources(r, L, 1.0, -0.5, S, 2, 3), OVICA_EINVAL);
    ck_assert_error(ovica_synth_sources(r, L, 1.0, NAN, S, 2, 3), OVICA_ENONFINITE);
    ck_assert_error(ovica_synth_sources(r, L, 1.0, 0.5, S, 0, 3), OVICA_EINVAL);
    ck_assert_error(ovica_synth_sources(r, L, 1.0, 0.5, S, 2, 0), OVICA_EINVAL);
    ck_assert_error(ovica_synth_sources(r, L, 1.0, 0.5, S, SIZE_MAX / 2, 3), OVICA_ESIZE);
    for (int i = 0; i < 6; i++) ck_assert(S[i] == 9.0);
    ovica_rng_free(r);
}
END_TEST

/* ---- mixing --------------------------------------------------------------------------- */
static void naive_mix(const double *A, size_t m, size_t n, const double *S, size_t N, double *X)
{
    for (size_t k = 0; k < N; k++)
        for (size_t d = 0; d < m; d++) {
            long double acc = 0.0L;
            for (size_t i = 0; i < n; i++) acc += (long double)A[d * n + i] * S[k * n + i];
            X[k * m + d] = (double)acc;
        }
}

START_TEST(test_mix_noiseless)
{
    enum { m = 3, n = 7, N = 50 };
    double A[m * n], S[N * n], X[N * m], Y[N * m];
    ovica_rng *r = mk(21);
    ck_assert_status(ovica_synth_random_basis(r, A, m, n), OVICA_OK);
    ck_assert_status(ovica_synth_sources(r, OVICA_PRIOR_LAPLACE, 1.0, 0.4, S, N, n), OVICA_OK);
    ck_assert_status(ovica_synth_mix(NULL, A, m, n, S, N, 0.0, X), OVICA_OK);
    naive_mix(A, m, n, S, N, Y);
    ck_assert_double_le(tu_max_abs_diff(X, Y, N * m), 1e-13);
    /* Non-square, non-unit A, the article's 2-D set: row k = A s_k. */
    double B[8], T[4 * 4], Z[4 * 2];
    ck_assert_status(ovica_synth_basis_2d(OVICA_SYNTH_IRREGULAR4, B, 2, 4), OVICA_OK);
    for (int i = 0; i < 16; i++) T[i] = (i % 5 == 0) ? 2.0 : 0.0; /* s_k = 2 e_k */
    ck_assert_status(ovica_synth_mix(r, B, 2, 4, T, 4, 0.0, Z), OVICA_OK);
    for (size_t k = 0; k < 4; k++) {
        ck_assert_double_eq_tol(Z[2 * k], 2.0 * B[k], 1e-15);
        ck_assert_double_eq_tol(Z[2 * k + 1], 2.0 * B[4 + k], 1e-15);
    }
    ovica_rng_free(r);
}
END_TEST

START_TEST(test_mix_noise)
{
    enum { m = 4, n = 6, N = 5000 };
    const double sigma = 0.3;
    double A[m * n];
    double *S = malloc(N * n * sizeof *S), *X = malloc(N * m * sizeof *X),
           *Y = malloc(N * m * sizeof *Y), *X2 = malloc(N * m * sizeof *X2);
    ck_assert(S && X && Y && X2);
    ovica_rng *r = mk(22);
    ck_assert_status(ovica_synth_random_basis(r, A, m, n), OVICA_OK);
    ck_assert_status(ovica_synth_sources(r, OVICA_PRIOR_EXPONENTIAL, 1.0, 0.5, S, N, n), OVICA_OK);
    ovica_rng *c = NULL;
    ck_assert_status(ovica_rng_clone(&c, r), OVICA_OK);
    ck_assert_status(ovica_synth_mix(r, A, m, n, S, N, sigma, X), OVICA_OK);
    ck_assert_status(ovica_synth_mix(c, A, m, n, S, N, sigma, X2), OVICA_OK);
    ck_assert(memcmp(X, X2, N * m * sizeof *X) == 0);
    naive_mix(A, m, n, S, N, Y);
    double s1 = 0, s2 = 0, tot = (double)N * m;
    for (size_t i = 0; i < (size_t)N * m; i++) {
        double e = X[i] - Y[i];
        s1 += e;
        s2 += e * e;
    }
    ck_assert_double_eq_tol(s1 / tot, 0.0, 5.0 * sigma / sqrt(tot));
    ck_assert_double_eq_tol(s2 / tot, sigma * sigma, 5.0 * sqrt(2.0) * sigma * sigma / sqrt(tot));
    ovica_rng_free(r);
    ovica_rng_free(c);
    free(S);
    free(X);
    free(Y);
    free(X2);
}
END_TEST

START_TEST(test_mix_bad)
{
    double A[6] = { 1, 0, 0, 0, 1, 0 }, S[6] = { 1, 2, 3, 4, 5, 6 };
    double X[4] = { 5, 5, 5, 5 };
    ovica_rng *r = mk(1);
    ck_assert_error(ovica_synth_mix(r, NULL, 2, 3, S, 2, 0.1, X), OVICA_EINVAL);
    ck_assert_error(ovica_synth_mix(r, A, 2, 3, NULL, 2, 0.1, X), OVICA_EINVAL);
    ck_assert_error(ovica_synth_mix(r, A, 2, 3, S, 2, 0.1, NULL), OVICA_EINVAL);
    ck_assert_error(ovica_synth_mix(NULL, A, 2, 3, S, 2, 0.1, X), OVICA_EINVAL);
    ck_assert_error(ovica_synth_mix(r, A, 0, 3, S, 2, 0.1, X), OVICA_EINVAL);
    ck_assert_error(ovica_synth_mix(r, A, 2, 0, S, 2, 0.1, X), OVICA_EINVAL);
    ck_assert_error(ovica_synth_mix(r, A, 2, 3, S, 0, 0.1, X), OVICA_EINVAL);
    ck_assert_error(ovica_synth_mix(r, A, 2, 3, S, 2, -0.1, X), OVICA_EINVAL);
    ck_assert_error(ovica_synth_mix(r, A, 2, 3, S, 2, NAN, X), OVICA_ENONFINITE);
    ck_assert_error(ovica_synth_mix(r, A, 2, 3, S, 2, INFINITY, X), OVICA_ENONFINITE);
    ck_assert_error(ovica_synth_mix(r, A, 2, (size_t)1 << 40, S, 2, 0.1, X), OVICA_ESIZE);
    S[4] = NAN;
    ck_assert_error(ovica_synth_mix(r, A, 2, 3, S, 2, 0.1, X), OVICA_ENONFINITE);
    S[4] = 5;
    A[2] = INFINITY;
    ck_assert_error(ovica_synth_mix(r, A, 2, 3, S, 2, 0.1, X), OVICA_ENONFINITE);
    for (int i = 0; i < 4; i++) ck_assert(X[i] == 5.0);
    ovica_rng_free(r);
}
END_TEST

static Suite *synth_suite(void)
{
    Suite *s = suite_create("synth");
    TCase *tc = tcase_create("basis");
    tcase_add_test(tc, test_basis_regular3);
    tcase_add_test(tc, test_basis_irregular4);
    tcase_add_test(tc, test_basis_bad);
    tcase_add_test(tc, test_random_basis);
    tcase_add_test(tc, test_random_basis_bad);
    suite_add_tcase(s, tc);
    tc = tcase_create("sources");
    tcase_add_test(tc, test_sources_laplace);
    tcase_add_test(tc, test_sources_exponential);
    tcase_add_test(tc, test_sources_bad);
    suite_add_tcase(s, tc);
    tc = tcase_create("mix");
    tcase_add_test(tc, test_mix_noiseless);
    tcase_add_test(tc, test_mix_noise);
    tcase_add_test(tc, test_mix_bad);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_run(synth_suite()); }

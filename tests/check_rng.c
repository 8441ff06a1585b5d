/* Tests of the seeded RNG (ovica/rng.h). */
#include <math.h>
#include <stdlib.h>

#include "testutil.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

static ovica_rng *mk(uint64_t seed)
{
    ovica_rng *r = NULL;
    ck_assert_status(ovica_rng_new(&r, seed), OVICA_OK);
    ck_assert_ptr_nonnull(r);
    return r;
}

/* ---- golden values ----------------------------------------------------------
 * First outputs of xoshiro256** with the state filled by splitmix64(seed),
 * computed independently (a Python transcription of the reference C code at
 * prng.di.unimi.it; seed 0 agrees with values published elsewhere). */
START_TEST(test_golden_u64)
{
    static const struct { uint64_t seed; uint64_t out[5]; } g[] = {
        { 0, { UINT64_C(0x99ec5f36cb75f2b4), UINT64_C(0xbf6e1f784956452a),
               UINT64_C(0x1a5f849d4933e6e0), UINT64_C(0x6aa594f1262d2d2c),
               UINT64_C(0xbba5ad4a1f842e59) } },
        { 42, { UINT64_C(0x15780b2e0c2ec716), UINT64_C(0x6104d9866d113a7e),
                UINT64_C(0xae17533239e499a1), UINT64_C(0xecb8ad4703b360a1),
                UINT64_C(0xfde6dc7fe2ec5e64) } },
        { UINT64_C(0xDEADBEEFCAFEBABE),
          { UINT64_C(0x2299b3421aa78b66), UINT64_C(0x9af6550483e02887),
            UINT64_C(0xda059cb5eec5c979), UINT64_C(0xcf86bd29360fff98),
            UINT64_C(0x5cc883c940089820) } },
    };
    for (size_t k = 0; k < sizeof g / sizeof g[0]; k++) {
        ovica_rng *r = mk(g[k].seed);
        for (int i = 0; i < 5; i++) {
            uint64_t x = ovica_rng_u64(r);
            ck_assert_msg(x == g[k].out[i], "seed %llu output %d: got %016llx want %016llx",
                          (unsigned long long)g[k].seed, i, (unsigned long long)x,
                          (unsigned long long)g[k].out[i]);
        }
        ovica_rng_free(r);
    }
}
END_TEST

START_TEST(test_golden_jump)
{
    static const uint64_t want[3] = { UINT64_C(0x50086ef83cbf4f4a),
                                      UINT64_C(0xba285ec21347d703),
                                      UINT64_C(0x5ea1247b4dc6452a) };
    ovica_rng *r = mk(42);
    ck_assert_status(ovica_rng_jump(r), OVICA_OK);
    for (int i = 0; i < 3; i++) ck_assert(ovica_rng_u64(r) == want[i]);
    ovica_rng_free(r);
}
END_TEST

START_TEST(test_golden_uniform)
{
    static const double want[3] = { 0.7438081631565894, 0.13004553462783452,
                                    0.9633344930128545 };
    ovica_rng *r = mk(12345);
    for (int i = 0; i < 3; i++) ck_assert_double_eq_tol(ovica_rng_uniform(r), want[i], 1e-16);
    ovica_rng_free(r);
}
END_TEST

/* ---- streams: reproducible, clone, reseed ------------------------------------ */
START_TEST(test_reproducible)
{
    ovica_rng *a = mk(7), *b = mk(7), *c = mk(8);
    /* (Check records every passing assertion, so hot loops count failures and
     * assert once.) */
    int differ = 0, mismatch = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = ovica_rng_u64(a), y = ovica_rng_u64(b), z = ovica_rng_u64(c);
        mismatch += x != y;
        differ += x != z;
    }
    ck_assert_int_eq(mismatch, 0);
    ck_assert_int_ge(differ, 999);
    /* Mixed variates too, bit for bit. */
    for (int i = 0; i < 1000; i++) {
        mismatch += ovica_rng_normal(a) != ovica_rng_normal(b);
        mismatch += ovica_rng_truncated_normal(a, 3.0, INFINITY) !=
                    ovica_rng_truncated_normal(b, 3.0, INFINITY);
        mismatch += ovica_rng_laplace(a, 2.0) != ovica_rng_laplace(b, 2.0);
    }
    ck_assert_int_eq(mismatch, 0);
    ovica_rng_free(a);
    ovica_rng_free(b);
    ovica_rng_free(c);
}
END_TEST

START_TEST(test_clone_and_reseed)
{
    ovica_rng *a = mk(99), *b = NULL;
    for (int i = 0; i < 17; i++) (void)ovica_rng_u64(a);
    (void)ovica_rng_normal(a); /* leaves a cached spare */
    ck_assert_status(ovica_rng_clone(&b, a), OVICA_OK);
    int mismatch = 0;
    for (int i = 0; i < 100; i++) mismatch += ovica_rng_normal(a) != ovica_rng_normal(b);
    for (int i = 0; i < 100; i++) mismatch += ovica_rng_u64(a) != ovica_rng_u64(b);
    ck_assert_int_eq(mismatch, 0);

    /* Reseeding reproduces a fresh handle, cached spare included. */
    (void)ovica_rng_normal(b);
    ck_assert_status(ovica_rng_seed(b, 5), OVICA_OK);
    ovica_rng *f = mk(5);
    for (int i = 0; i < 50; i++) mismatch += ovica_rng_normal(f) != ovica_rng_normal(b);
    ck_assert_int_eq(mismatch, 0);
    ovica_rng_free(f);

    /* A jumped clone differs from the original. */
    ovica_rng *j = NULL;
    ck_assert_status(ovica_rng_clone(&j, a), OVICA_OK);
    ck_assert_status(ovica_rng_jump(j), OVICA_OK);
    int same = 0;
    for (int i = 0; i < 100; i++) same += ovica_rng_u64(a) == ovica_rng_u64(j);
    ck_assert_int_eq(same, 0);
    ovica_rng_free(j);
    ovica_rng_free(a);
    ovica_rng_free(b);
    ovica_rng_free(NULL);
}
END_TEST

START_TEST(test_fill_normal_matches_calls)
{
    ovica_rng *a = mk(3), *b = mk(3);
    double x[101];
    ck_assert_status(ovica_rng_fill_normal(a, x, 101), OVICA_OK);
    int mismatch = 0;
    for (int i = 0; i < 101; i++) mismatch += x[i] != ovica_rng_normal(b);
    ck_assert_int_eq(mismatch, 0);
    ck_assert_status(ovica_rng_fill_normal(a, NULL, 0), OVICA_OK);
    ovica_rng_free(a);
    ovica_rng_free(b);
}
END_TEST

/* ---- distributions ------------------------------------------------------------
 * Tolerances are 5 standard errors of the estimate for the sample size. */
#define NS 200000

START_TEST(test_uniform_props)
{
    ovica_rng *r = mk(11);
    double sum = 0.0, sum2 = 0.0;
    size_t below = 0, bad = 0;
    for (int i = 0; i < NS; i++) {
        double u = ovica_rng_uniform(r);
        double k = u * 0x1.0p53;
        bad += !(u >= 0.0 && u < 1.0) || k != floor(k); /* in [0,1), a multiple of 2^-53 */
        sum += u;
        sum2 += u * u;
        below += u < 0.1;
    }
    ck_assert_uint_eq(bad, 0);
    double mean = sum / NS, var = sum2 / NS - mean * mean;
    ck_assert_double_eq_tol(mean, 0.5, 5.0 * sqrt(1.0 / 12.0 / NS));
    ck_assert_double_eq_tol(var, 1.0 / 12.0, 5.0 * sqrt(1.0 / 180.0 / NS));
    ck_assert_double_eq_tol((double)below / NS, 0.1, 5.0 * sqrt(0.09 / NS));
    /* uniform == (u64 >> 11) * 2^-53 on the same stream */
    ovica_rng *a = mk(4), *b = mk(4);
    for (int i = 0; i < 100; i++)
        bad += ovica_rng_uniform(a) != (double)(ovica_rng_u64(b) >> 11) * 0x1.0p-53;
    ck_assert_uint_eq(bad, 0);
    ovica_rng_free(a);
    ovica_rng_free(b);
    ovica_rng_free(r);
}
END_TEST

START_TEST(test_normal_moments)
{
    ovica_rng *r = mk(12);
    double s1 = 0, s2 = 0, s3 = 0, s4 = 0, lag1 = 0, prev = 0;
    size_t below1 = 0, below_m2 = 0, bad = 0;
    for (int i = 0; i < NS; i++) {
        double z = ovica_rng_normal(r);
        bad += !isfinite(z);
        lag1 += z * prev; /* consecutive draws (incl. the two of a polar pair) uncorrelated */
        prev = z;
        s1 += z;
        s2 += z * z;
        s3 += z * z * z;
        s4 += z * z * z * z;
        below1 += z < 1.0;
        below_m2 += z < -2.0;
    }
    ck_assert_uint_eq(bad, 0);
    double n = NS;
    ck_assert_double_eq_tol(s1 / n, 0.0, 5.0 / sqrt(n));
    ck_assert_double_eq_tol(s2 / n, 1.0, 5.0 * sqrt(2.0 / n));
    ck_assert_double_eq_tol(s3 / n, 0.0, 5.0 * sqrt(15.0 / n));
    ck_assert_double_eq_tol(s4 / n, 3.0, 5.0 * sqrt(96.0 / n));
    ck_assert_double_eq_tol(lag1 / n, 0.0, 5.0 / sqrt(n));
    double p1 = 0.8413447460685429, p2 = 0.022750131948179195;
    ck_assert_double_eq_tol(below1 / n, p1, 5.0 * sqrt(p1 * (1 - p1) / n));
    ck_assert_double_eq_tol(below_m2 / n, p2, 5.0 * sqrt(p2 * (1 - p2) / n));
    ovica_rng_free(r);
}
END_TEST

START_TEST(test_exponential_moments)
{
    ovica_rng *r = mk(13);
    const double b = 2.5;
    double s1 = 0, s2 = 0;
    size_t above = 0, bad = 0;
    for (int i = 0; i < NS; i++) {
        double e = ovica_rng_exponential(r, b);
        bad += !(e >= 0.0 && isfinite(e)) || signbit(e);
        s1 += e;
        s2 += e * e;
        above += e > b; /* P = 1/e */
    }
    ck_assert_uint_eq(bad, 0);
    double n = NS, mean = s1 / n, var = s2 / n - mean * mean;
    ck_assert_double_eq_tol(mean, b, 5.0 * b / sqrt(n));
    ck_assert_double_eq_tol(var, b * b, 5.0 * sqrt(8.0) * b * b / sqrt(n));
    double p = exp(-1.0);
    ck_assert_double_eq_tol(above / n, p, 5.0 * sqrt(p * (1 - p) / n));
    ovica_rng_free(r);
}
END_TEST

START_TEST(test_laplace_moments)
{
    ovica_rng *r = mk(14);
    const double b = 0.7;
    double s1 = 0, sabs = 0, s2 = 0;
    size_t pos = 0, big = 0, bad = 0;
    for (int i = 0; i < NS; i++) {
        double x = ovica_rng_laplace(r, b);
        bad += !isfinite(x);
        s1 += x;
        sabs += fabs(x);
        s2 += x * x;
        pos += x > 0;
        big += fabs(x) > 2 * b; /* P = e^-2 */
    }
    ck_assert_uint_eq(bad, 0);
    double n = NS;
    ck_assert_double_eq_tol(s1 / n, 0.0, 5.0 * sqrt(2.0) * b / sqrt(n));
    ck_assert_double_eq_tol(sabs / n, b, 5.0 * b / sqrt(n));
    ck_assert_double_eq_tol(s2 / n, 2 * b * b, 5.0 * sqrt(20.0) * b * b / sqrt(n));
    ck_assert_double_eq_tol(pos / n, 0.5, 5.0 * 0.5 / sqrt(n));
    double p = exp(-2.0);
    ck_assert_double_eq_tol(big / n, p, 5.0 * sqrt(p * (1 - p) / n));
    ovica_rng_free(r);
}
END_TEST

START_TEST(test_bad_scales_give_nan)
{
    ovica_rng *r = mk(1), *c = mk(1);
    ck_assert(isnan(ovica_rng_exponential(r, 0.0)));
    ck_assert(isnan(ovica_rng_exponential(r, -1.0)));
    ck_assert(isnan(ovica_rng_exponential(r, NAN)));
    ck_assert(isnan(ovica_rng_laplace(r, INFINITY)));
    ck_assert(isnan(ovica_rng_laplace(r, -2.0)));
    ck_assert(isnan(ovica_rng_truncated_normal(r, NAN, 1.0)));
    ck_assert(isnan(ovica_rng_truncated_normal(r, 0.0, NAN)));
    ck_assert(isnan(ovica_rng_truncated_normal(r, 2.0, 1.0)));
    ck_assert(isnan(ovica_rng_truncated_normal(r, INFINITY, INFINITY)));
    ck_assert(ovica_rng_truncated_normal(r, 1.5, 1.5) == 1.5);
    /* None of these drew anything. */
    ck_assert(ovica_rng_u64(r) == ovica_rng_u64(c));
    ovica_rng_free(r);
    ovica_rng_free(c);
}
END_TEST

/* ---- truncated normal -----------------------------------------------------------
 * Reference moments of N(0,1) truncated to [a, b], by Simpson's rule on the
 * density exp(-(z^2 - c^2)/2), c the point of [a, b] closest to 0, over
 * [a, b] cut to [c - 12, c + 12] (beyond which the mass is < e^-72 relative). */
static void tn_reference(double a, double b, double *mean, double *var)
{
    double c = a > 0 ? a : (b < 0 ? b : 0.0);
    double lo = a > c - 12 ? a : c - 12, hi = b < c + 12 ? b : c + 12;
    const int K = 200000; /* even */
    double h = (hi - lo) / K, m0 = 0, m1 = 0, m2 = 0;
    for (int k = 0; k <= K; k++) {
        double z = lo + k * h;
        double wgt = (k == 0 || k == K) ? 1.0 : (k % 2 ? 4.0 : 2.0);
        double f = wgt * exp(-0.5 * (z - c) * (z + c));
        m0 += f;
        m1 += f * (z - c); /* centred at c for accuracy far out */
        m2 += f * (z - c) * (z - c);
    }
    double mu = m1 / m0;
    *mean = c + mu;
    *var = m2 / m0 - mu * mu;
}

static void tn_check(uint64_t seed, double a, double b, int n)
{
    ovica_rng *r = mk(seed);
    double mean_ref, var_ref;
    tn_reference(a, b, &mean_ref, &var_ref);
    /* Accumulate centred at the reference mean to avoid cancellation. */
    double s1 = 0, s2 = 0, first_bad = 0;
    int bad = 0;
    for (int i = 0; i < n; i++) {
        double z = ovica_rng_truncated_normal(r, a, b);
        if (!(z >= a && z <= b) && bad++ == 0) first_bad = z;
        double d = z - mean_ref;
        s1 += d;
        s2 += d * d;
    }
    ck_assert_msg(bad == 0, "[%g, %g]: %d draws out of range, first %.17g", a, b, bad, first_bad);
    double mean_err = s1 / n, var = s2 / n - mean_err * mean_err;
    double sd = sqrt(var_ref);
    ck_assert_msg(fabs(mean_err) <= 5.0 * sd / sqrt(n) + 1e-12 * fabs(mean_ref),
                  "[%g, %g]: mean %.10g, reference %.10g (sd %.3g, n %d)", a, b,
                  mean_ref + mean_err, mean_ref, sd, n);
    /* The variance estimate's relative standard error is at most about
     * sqrt(2/n) for these light-tailed laws; allow a margin (kurtosis). */
    ck_assert_msg(fabs(var / var_ref - 1.0) <= 8.0 * sqrt(2.0 / n),
                  "[%g, %g]: variance %.6g, reference %.6g", a, b, var, var_ref);
    ovica_rng_free(r);
}

START_TEST(test_tn_deep_tails)
{
    tn_check(21, 30.0, INFINITY, 100000);      /* Robert's exponential rejection */
    tn_check(22, -INFINITY, -40.0, 100000);    /* mirrored */
    tn_check(23, 8.0, 8.5, 100000);            /* two-sided, far out, not narrow */
    tn_check(24, -1e3, -999.9, 20000);
    /* The analytic mean for [30, inf) is the inverse Mills ratio
     * phi(30)/Q(30) = 30 + 1/30 - 2/30^3 + ... */
    double mean, var;
    tn_reference(30.0, INFINITY, &mean, &var);
    ck_assert_double_eq_tol(mean, 30.0 + 1.0 / 30 - 2.0 / (30.0 * 30 * 30), 1e-6);
}
END_TEST

START_TEST(test_tn_narrow)
{
    tn_check(31, 5.0, 5.001, 50000);
    tn_check(32, -5.001, -5.0, 50000);
    tn_check(33, 2.5, 3.0, 100000);
    tn_check(34, -0.01, 0.02, 50000);
    tn_check(37, -1.0, 1.2, 100000);   /* straddling, uniform proposal */
    tn_check(38, -2.4, 0.05, 100000);
    tn_check(35, 0.0, 0.5, 100000);
    tn_check(36, 0.3, 0.9, 100000);
}
END_TEST

START_TEST(test_tn_central)
{
    tn_check(41, -INFINITY, INFINITY, 100000);
    tn_check(42, 0.0, INFINITY, 100000);       /* half-normal: mean sqrt(2/pi) */
    tn_check(43, -INFINITY, 0.0, 100000);
    tn_check(44, -1.0, 2.0, 100000);
    tn_check(45, -3.0, 1.0, 100000);
    tn_check(46, 0.1, INFINITY, 100000);       /* |Z| rejection */
    tn_check(47, 0.25, INFINITY, 100000);      /* Robert at the switch */
    tn_check(48, 1.0, 4.0, 100000);
    tn_check(49, -INFINITY, 1.5, 100000);
    double mean, var;
    tn_reference(0.0, INFINITY, &mean, &var);
    ck_assert_double_eq_tol(mean, sqrt(2.0 / M_PI), 1e-9);
    ck_assert_double_eq_tol(var, 1.0 - 2.0 / M_PI, 1e-9);
}
END_TEST

START_TEST(test_tn_extreme_bounds)
{
    ovica_rng *r = mk(51);
    static const double iv[][2] = {
        { 1e300, INFINITY }, { -INFINITY, -1e300 }, { 1e10, 1e10 + 1e-3 },
        { 1e154, 1.0000001e154 }, { 0.0, 1e-300 }, { -1e-300, 1e-300 },
        { 37.0, 37.0000000001 }, { -INFINITY, -1e8 }, { 5.0, 1e300 },
        { -1e300, 1e300 }, { 0.0, 0x1p-1074 },
    };
    for (size_t k = 0; k < sizeof iv / sizeof iv[0]; k++) {
        int bad = 0;
        double first_bad = 0.0;
        for (int i = 0; i < 1000; i++) {
            double z = ovica_rng_truncated_normal(r, iv[k][0], iv[k][1]);
            if (!(z >= iv[k][0] && z <= iv[k][1]) && bad++ == 0) first_bad = z;
        }
        ck_assert_msg(bad == 0, "[%g, %g]: %d draws out of range, first %.17g", iv[k][0],
                      iv[k][1], bad, first_bad);
    }
    /* Far in a tail the excess z - a is about Exp(a): mean 1/a. */
    double s = 0.0;
    for (int i = 0; i < 20000; i++) s += ovica_rng_truncated_normal(r, 1e4, INFINITY) - 1e4;
    ck_assert_double_eq_tol(s / 20000 * 1e4, 1.0, 0.05);
    ovica_rng_free(r);
}
END_TEST

/* ---- argument checks ----------------------------------------------------------- */
START_TEST(test_bad_args)
{
    ovica_rng *r = mk(1), *c = NULL;
    double x[2];
    ck_assert_error(ovica_rng_new(NULL, 1), OVICA_EINVAL);
    ck_assert_error(ovica_rng_clone(NULL, r), OVICA_EINVAL);
    ck_assert_error(ovica_rng_clone(&c, NULL), OVICA_EINVAL);
    ck_assert_ptr_null(c);
    ck_assert_error(ovica_rng_seed(NULL, 1), OVICA_EINVAL);
    ck_assert_error(ovica_rng_jump(NULL), OVICA_EINVAL);
    ck_assert_error(ovica_rng_fill_normal(NULL, x, 2), OVICA_EINVAL);
    ck_assert_error(ovica_rng_fill_normal(r, NULL, 2), OVICA_EINVAL);
    ovica_rng_free(r);
}
END_TEST

static Suite *rng_suite(void)
{
    Suite *s = suite_create("rng");
    TCase *tc = tcase_create("stream");
    tcase_add_test(tc, test_golden_u64);
    tcase_add_test(tc, test_golden_jump);
    tcase_add_test(tc, test_golden_uniform);
    tcase_add_test(tc, test_reproducible);
    tcase_add_test(tc, test_clone_and_reseed);
    tcase_add_test(tc, test_fill_normal_matches_calls);
    tcase_add_test(tc, test_bad_args);
    suite_add_tcase(s, tc);

    tc = tcase_create("distributions");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_uniform_props);
    tcase_add_test(tc, test_normal_moments);
    tcase_add_test(tc, test_exponential_moments);
    tcase_add_test(tc, test_laplace_moments);
    tcase_add_test(tc, test_bad_scales_give_nan);
    suite_add_tcase(s, tc);

    tc = tcase_create("truncated_normal");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_tn_deep_tails);
    tcase_add_test(tc, test_tn_narrow);
    tcase_add_test(tc, test_tn_central);
    tcase_add_test(tc, test_tn_extreme_bounds);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_run(rng_suite()); }

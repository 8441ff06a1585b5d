/* Clustering the atoms of an over-provisioned basis: recovery of the true
 * directions, weights, signs, rescaling, the choice of k, bad input. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define PI 3.14159265358979323846

/* Builds an over-provisioned 2-D basis from the article's 3 atoms: copies
 * of true atom (i % 3) for i < n_copies, each rotated by a uniform angle in
 * [-jitter, jitter] degrees, with a random length in [0.5, 1.5] and (if
 * flip) a random sign; then n - n_copies weak random atoms of weight
 * weak_w (the others weight 1). */
static void overprovisioned_2d(tu_rng *r, size_t n, size_t n_copies, double jitter, int flip,
                               double weak_w, double *B, double *w)
{
    double A[6];
    ck_assert_status(ovica_synth_basis_2d(OVICA_SYNTH_REGULAR3, A, 2, 3), OVICA_OK);
    for (size_t i = 0; i < n; i++) {
        double ang;
        if (i < n_copies) {
            size_t t = i % 3;
            ang = atan2(A[3 + t], A[t]) + (2.0 * tu_uniform(r) - 1.0) * jitter * PI / 180.0;
            w[i] = 1.0;
        } else {
            ang = 2.0 * PI * tu_uniform(r);
            w[i] = weak_w;
        }
        double len = 0.5 + tu_uniform(r);
        if (flip && tu_uniform(r) < 0.5) len = -len;
        B[i] = len * cos(ang);
        B[n + i] = len * sin(ang);
    }
}

/* 3 true sources, 6 and 8 atoms: clustering to 3 gives atoms each within 3
 * degrees of a true atom. _i: 0 = 6 atoms (pairs), 1 = 8 atoms (pairs plus
 * 2 weak random atoms, usage weight 0.01), 2 = 8 atoms (triples, triple,
 * pair), 3 = case 1 without the usage weights (the random atoms then count
 * fully: asserted to do worse, which shows that the weights matter). */
START_TEST(test_overprovisioned_2d)
{
    tu_rng r;
    tu_seed(&r, 300 + (uint64_t)_i);
    const size_t n = _i == 0 ? 6 : 8, copies = _i == 2 ? 8 : 6;
    double B[16], w[8], merged[6], ang[3], A[6];
    size_t assign[8], match[3];
    ck_assert_status(ovica_synth_basis_2d(OVICA_SYNTH_REGULAR3, A, 2, 3), OVICA_OK);
    overprovisioned_2d(&r, n, copies, 2.0, 1, 0.01, B, w);
    const double *wp = _i == 3 ? NULL : w;
    ck_assert_status(ovica_atoms_cluster(B, 2, n, wp, 3, 0, 42, merged, assign), OVICA_OK);
    ck_assert_status(ovica_atoms_match(merged, 2, 3, A, 3, 0, match, ang), OVICA_OK);
    double worst = fmax(ang[0], fmax(ang[1], ang[2]));
    if (getenv("OVICA_TEST_VERBOSE"))
        printf("cluster 2-D n=%zu weights=%s: angles %.3f %.3f %.3f degrees\n", n,
               wp ? "usage" : "none", ang[0], ang[1], ang[2]);
    if (_i < 3) {
        ck_assert_msg(worst < 3.0, "n = %zu: worst angle %g degrees", n, worst);
        /* the copies of one true atom share a cluster, the one matched to it */
        for (size_t i = 0; i < copies; i++) ck_assert_uint_eq(assign[i], match[i % 3]);
        /* unit columns */
        for (int q = 0; q < 3; q++)
            ck_assert_double_eq_tol(hypot(merged[q], merged[3 + q]), 1.0, 1e-12);
    } else {
        /* without weights the two random atoms take part in full */
        ck_assert_msg(worst > 3.0, "unweighted: worst angle only %g", worst);
    }
}
END_TEST

/* m = 8, 5 random true directions, 3 noisy copies each (2 degrees) with
 * random signs and lengths: clustering to 5 recovers them within 3 degrees,
 * from any seed. */
START_TEST(test_overprovisioned_8d)
{
    const size_t m = 8, nt = 5, n = 15;
    tu_rng r;
    tu_seed(&r, 77);
    double T[40], B[120], merged[40], ang[5];
    size_t assign[15];
    tu_fill_normal(&r, T, m * nt, 1.0);
    for (size_t t = 0; t < nt; t++) {
        double nr = 0.0;
        for (size_t j = 0; j < m; j++) nr += T[j * nt + t] * T[j * nt + t];
        for (size_t j = 0; j < m; j++) T[j * nt + t] /= sqrt(nr);
    }
    for (size_t i = 0; i < n; i++) {
        size_t t = i % nt;
        /* perturb by a random orthogonal direction at 2 degrees */
        double d[8], dot = 0.0, nd = 0.0;
        for (size_t j = 0; j < m; j++) d[j] = tu_normal(&r);
        for (size_t j = 0; j < m; j++) dot += d[j] * T[j * nt + t];
        for (size_t j = 0; j < m; j++) { d[j] -= dot * T[j * nt + t]; nd += d[j] * d[j]; }
        double th = 2.0 * PI / 180.0, len = (0.5 + tu_uniform(&r)) * (tu_uniform(&r) < 0.5 ? -1 : 1);
        for (size_t j = 0; j < m; j++)
            B[j * n + i] = len * (cos(th) * T[j * nt + t] + sin(th) * d[j] / sqrt(nd));
    }
    int fails = 0;
    double worst_all = 0.0;
    for (uint64_t seed = 0; seed < 20; seed++) {
        ck_assert_status(ovica_atoms_cluster(B, m, n, NULL, nt, 0, seed, merged, assign), OVICA_OK);
        ck_assert_status(ovica_atoms_match(merged, m, nt, T, nt, 0, NULL, ang), OVICA_OK);
        double worst = 0.0;
        for (size_t t = 0; t < nt; t++) worst = fmax(worst, ang[t]);
        worst_all = fmax(worst_all, worst);
        if (!(worst < 3.0)) fails++;
    }
    ck_assert_msg(fails == 0, "%d of 20 seeds missed; worst angle %g", fails, worst_all);
}
END_TEST

/* use_sign: a and -a are one direction without signs, two with them. */
START_TEST(test_signs)
{
    /* atoms: (1,0), (-1,0.02), (0,1), (0.01,-1) */
    double B[8] = {1, -1, 0, 0.01, 0, 0.02, 1, -1}, merged[8], m1[2];
    size_t assign[4];
    ck_assert_status(ovica_atoms_cluster(B, 2, 4, NULL, 2, 0, 1, merged, assign), OVICA_OK);
    ck_assert_uint_eq(assign[0], assign[1]);
    ck_assert_uint_eq(assign[2], assign[3]);
    ck_assert_uint_ne(assign[0], assign[2]);
    /* oriented: largest component positive */
    for (int q = 0; q < 2; q++) {
        double a = merged[q], b = merged[2 + q];
        ck_assert_double_gt(fabs(a) > fabs(b) ? a : b, 0.0);
    }
    ck_assert_status(ovica_atoms_cluster(B, 2, 4, NULL, 4, 1, 1, merged, assign), OVICA_OK);
    for (int i = 0; i < 4; i++)
        for (int j = i + 1; j < 4; j++) ck_assert_uint_ne(assign[i], assign[j]);
    /* signed, k = 1 of (1,0) and (-1,0.02): the centroid is their
     * (near-zero) signed sum's direction, not (1,0) */
    double P[4] = {1, -1, 0, 0.02};
    ck_assert_status(ovica_atoms_cluster(P, 2, 2, NULL, 1, 1, 1, m1, assign), OVICA_OK);
    ck_assert_double_gt(fabs(m1[1]), 0.99);
    ck_assert_status(ovica_atoms_cluster(P, 2, 2, NULL, 1, 0, 1, m1, assign), OVICA_OK);
    ck_assert_double_gt(fabs(m1[0]), 0.99);
}
END_TEST

/* Weights pull the centroid; clusters are ordered by total weight; equal
 * seeds give equal results; zero atoms are left out. */
START_TEST(test_weights_order_zero)
{
    /* cluster around 0 degrees: atoms at 0 and 10 degrees; around 90: 90 */
    double c10 = cos(10 * PI / 180), s10 = sin(10 * PI / 180);
    double B[8] = {1, c10, 0, 0, 0, s10, 1, 0};
    double w[4] = {3.0, 1.0, 1.0, 5.0}, merged[4], again[4];
    size_t assign[4], assign2[4];
    ck_assert_status(ovica_atoms_cluster(B, 2, 4, w, 2, 0, 9, merged, assign), OVICA_OK);
    ck_assert_uint_eq(assign[3], SIZE_MAX); /* zero atom */
    ck_assert_uint_eq(assign[0], 0);        /* total weight 4 > 1 */
    ck_assert_uint_eq(assign[1], 0);
    ck_assert_uint_eq(assign[2], 1);
    /* the centroid is the normalised weighted sum: 3 (1,0) + (c10, s10) */
    double want = atan2(s10, 3.0 + c10) * 180.0 / PI;
    ck_assert_double_eq_tol(atan2(merged[2], merged[0]) * 180.0 / PI, want, 1e-9);
    ck_assert_status(ovica_atoms_cluster(B, 2, 4, w, 2, 0, 9, again, assign2), OVICA_OK);
    ck_assert_mem_eq(merged, again, sizeof merged);
    ck_assert_mem_eq(assign, assign2, sizeof assign);
    /* rescaling: weighted mean of member norms */
    double C[4];
    memcpy(C, merged, sizeof C);
    B[1] *= 2.0;
    B[5] *= 2.0; /* atom 1 now has length 2 */
    ck_assert_status(ovica_atoms_rescale(B, 2, 4, w, assign, 2, C), OVICA_OK);
    ck_assert_double_eq_tol(hypot(C[0], C[2]), (3.0 * 1.0 + 1.0 * 2.0) / 4.0, 1e-12);
    ck_assert_double_eq_tol(hypot(C[1], C[3]), 1.0, 1e-12);
    ck_assert_double_eq_tol(atan2(C[2], C[0]), atan2(merged[2], merged[0]), 1e-12);
}
END_TEST

/* The choice of k: an over-provisioned 6-atom basis (noisy pairs of the
 * article's 3 atoms, near unit length) scored on held-out data from the
 * true 3-atom model picks k = 3. */
START_TEST(test_choose_k)
{
    const int kind = _i; /* Laplace, exponential */
    const size_t N = 1000, n = 6;
    const double sigma = 0.1, b = 1.0;
    tu_rng r;
    tu_seed(&r, 500 + (uint64_t)_i);
    double A[6], B[12], w[6], merged[12], ll[6];
    size_t assign[6], kb = 0;
    ck_assert_status(ovica_synth_basis_2d(OVICA_SYNTH_REGULAR3, A, 2, 3), OVICA_OK);
    for (size_t i = 0; i < n; i++) {
        size_t t = i % 3;
        double ang = atan2(A[3 + t], A[t]) + (2.0 * tu_uniform(&r) - 1.0) * 2.0 * PI / 180.0;
        double len = 0.9 + 0.2 * tu_uniform(&r);
        B[i] = len * cos(ang);
        B[n + i] = len * sin(ang);
        w[i] = 0.5 + tu_uniform(&r);
    }
    ovica_rng *rng = NULL;
    ck_assert_status(ovica_rng_new(&rng, 8 + (uint64_t)_i), OVICA_OK);
    double *S = malloc(N * 3 * sizeof *S), *X = malloc(N * 2 * sizeof *X);
    ck_assert_status(ovica_synth_sources(rng, kind, b, 1.0, S, N, 3), OVICA_OK);
    ck_assert_status(ovica_synth_mix(rng, A, 2, 3, S, N, sigma, X), OVICA_OK);
    ovica_prior *p = NULL;
    if (kind == 0) ck_assert_status(ovica_prior_laplace_new(&p, b), OVICA_OK);
    else ck_assert_status(ovica_prior_exponential_new(&p, b), OVICA_OK);
    ovica_model *md = NULL;
    ck_assert_status(ovica_model_new(&md, 2, n, p, sigma), OVICA_OK);
    ck_assert_status(ovica_model_set_basis(md, B, 2, n), OVICA_OK);
    const double beta = ovica_loglik_beta_default(p);
    ck_assert_status(ovica_atoms_choose_k(md, w, X, N, 2, 1, 6, beta, 3, &kb, ll, merged, assign),
                     OVICA_OK);
    if (getenv("OVICA_TEST_VERBOSE")) {
        printf("choose_k %s: k =", kind ? "exponential" : "laplace");
        for (int k = 0; k < 6; k++) printf(" %d:%.4f", k + 1, ll[k]);
        printf(" -> %zu\n", kb);
    }
    ck_assert_uint_eq(kb, 3);
    double ang[3];
    ck_assert_status(ovica_atoms_match(merged, 2, 3, A, 3, kind == 1, NULL, ang), OVICA_OK);
    ck_assert_double_lt(fmax(ang[0], fmax(ang[1], ang[2])), 3.0);
    ovica_model_free(md);
    ovica_prior_free(p);
    ovica_rng_free(rng);
    free(S);
    free(X);
}
END_TEST

/* ovica_model_merge: an over-provisioned model (each true atom twice, 6
 * degrees apart) merged to 3 on sparse data and refitted: the assignment is
 * the one ovica_atoms_cluster gives with the usages as weights, and the
 * refitted atoms end on the sources (closer than the merged atoms). */
START_TEST(test_merge)
{
    const size_t N = 2000, n = 6;
    double A[6], B[12];
    ck_assert_status(ovica_synth_basis_2d(OVICA_SYNTH_REGULAR3, A, 2, 3), OVICA_OK);
    for (size_t i = 0; i < n; i++) {
        size_t t = i % 3;
        double ang = atan2(A[3 + t], A[t]) + (i < 3 ? 3.0 : -3.0) * PI / 180.0;
        B[i] = cos(ang);
        B[n + i] = sin(ang);
    }
    ovica_rng *rng = NULL;
    ck_assert_status(ovica_rng_new(&rng, 31), OVICA_OK);
    double *S = malloc(N * 3 * sizeof *S), *X = malloc(N * 2 * sizeof *X);
    ck_assert_ptr_nonnull(S);
    ck_assert_ptr_nonnull(X);
    ck_assert_status(ovica_synth_sources(rng, OVICA_PRIOR_LAPLACE, 1.0, 0.3, S, N, 3), OVICA_OK);
    ck_assert_status(ovica_synth_mix(rng, A, 2, 3, S, N, 0.05, X), OVICA_OK);
    ovica_prior *p = NULL;
    ck_assert_status(ovica_prior_laplace_new(&p, 1.0), OVICA_OK);
    ovica_model *md = NULL, *mm = NULL;
    ck_assert_status(ovica_model_new(&md, 2, n, p, 0.05), OVICA_OK);
    ck_assert_status(ovica_model_set_basis(md, B, 2, n), OVICA_OK);
    double w[6], merged[6], ang[3];
    size_t assign[6], assign2[6];
    ck_assert_status(ovica_atoms_usage(md, X, N, 2, w, n), OVICA_OK);
    ck_assert_status(ovica_atoms_cluster(B, 2, n, w, 3, 0, 4, merged, assign), OVICA_OK);
    ck_assert_status(ovica_model_merge(&mm, md, X, N, 2, 3, 4, assign2), OVICA_OK);
    ck_assert_int_eq(memcmp(assign, assign2, sizeof assign), 0);
    for (size_t i = 0; i < 3; i++) ck_assert_uint_eq(assign[i], assign[i + 3]);
    ck_assert_uint_eq(ovica_model_atoms(mm), 3);
    ck_assert_uint_eq(ovica_model_dim(mm), 2);
    ck_assert_status(ovica_atoms_match(ovica_model_basis(mm), 2, 3, A, 3, 0, NULL, ang), OVICA_OK);
    ck_assert_double_lt(fmax(ang[0], fmax(ang[1], ang[2])), 1.0);
    ovica_model_free(mm);
    /* also without the optional assignment */
    mm = NULL;
    ck_assert_status(ovica_model_merge(&mm, md, X, N, 2, 3, 4, NULL), OVICA_OK);
    ovica_model_free(mm);
    /* bad input: the output stays untouched, the model stays usable */
    mm = NULL;
    ck_assert_error(ovica_model_merge(NULL, md, X, N, 2, 3, 4, NULL), OVICA_EINVAL);
    ck_assert_error(ovica_model_merge(&mm, NULL, X, N, 2, 3, 4, NULL), OVICA_EINVAL);
    ck_assert_error(ovica_model_merge(&mm, md, NULL, N, 2, 3, 4, NULL), OVICA_EINVAL);
    ck_assert_error(ovica_model_merge(&mm, md, X, 0, 2, 3, 4, NULL), OVICA_EINVAL);
    ck_assert_error(ovica_model_merge(&mm, md, X, N, 3, 3, 4, NULL), OVICA_ESIZE);
    ck_assert_error(ovica_model_merge(&mm, md, X, N, 2, 0, 4, NULL), OVICA_EINVAL);
    ck_assert_error(ovica_model_merge(&mm, md, X, N, 2, 7, 4, NULL), OVICA_EINVAL);
    X[5] = NAN;
    ck_assert_error(ovica_model_merge(&mm, md, X, N, 2, 3, 4, NULL), OVICA_ENONFINITE);
    ck_assert_ptr_null(mm);
    X[5] = 0.0;
    ovica_model *zero = NULL;
    ck_assert_status(ovica_model_new(&zero, 2, n, p, 0.05), OVICA_OK);
    ck_assert_error(ovica_model_merge(&mm, zero, X, N, 2, 3, 4, NULL), OVICA_EINVAL);
    ck_assert_ptr_null(mm);
    ck_assert_status(ovica_atoms_usage(md, X, N, 2, w, n), OVICA_OK);
    ovica_model_free(zero);
    ovica_model_free(md);
    ovica_prior_free(p);
    ovica_rng_free(rng);
    free(S);
    free(X);
}
END_TEST

START_TEST(test_bad_input)
{
    double B[6] = {1, 0, 0.5, 0, 1, 0.5}, w[3] = {1, 1, 1}, merged[6];
    size_t assign[3];
    ck_assert_error(ovica_atoms_cluster(NULL, 2, 3, w, 2, 0, 1, merged, assign), OVICA_EINVAL);
    ck_assert_error(ovica_atoms_cluster(B, 0, 3, w, 2, 0, 1, merged, assign), OVICA_EINVAL);
    ck_assert_error(ovica_atoms_cluster(B, 2, 0, w, 2, 0, 1, merged, assign), OVICA_EINVAL);
    ck_assert_error(ovica_atoms_cluster(B, 2, 3, w, 0, 0, 1, merged, assign), OVICA_EINVAL);
    ck_assert_error(ovica_atoms_cluster(B, 2, 3, w, 4, 0, 1, merged, assign), OVICA_EINVAL);
    ck_assert_error(ovica_atoms_cluster(B, 2, 3, w, 2, 0, 1, NULL, assign), OVICA_EINVAL);
    ck_assert_error(ovica_atoms_cluster(B, 2, 3, w, 2, 0, 1, merged, NULL), OVICA_EINVAL);
    w[1] = -1.0;
    ck_assert_error(ovica_atoms_cluster(B, 2, 3, w, 2, 0, 1, merged, assign), OVICA_EINVAL);
    w[1] = NAN;
    ck_assert_error(ovica_atoms_cluster(B, 2, 3, w, 2, 0, 1, merged, assign), OVICA_ENONFINITE);
    w[0] = w[1] = w[2] = 0.0;
    ck_assert_error(ovica_atoms_cluster(B, 2, 3, w, 2, 0, 1, merged, assign), OVICA_EINVAL);
    w[0] = w[1] = w[2] = 1.0;
    B[2] = INFINITY;
    ck_assert_error(ovica_atoms_cluster(B, 2, 3, w, 2, 0, 1, merged, assign), OVICA_ENONFINITE);
    B[2] = 0.0;
    B[5] = 0.0; /* atom 2 is now zero: only 2 non-zero atoms */
    ck_assert_error(ovica_atoms_cluster(B, 2, 3, w, 3, 0, 1, merged, assign), OVICA_EINVAL);
    ck_assert_status(ovica_atoms_cluster(B, 2, 3, w, 2, 0, 1, merged, assign), OVICA_OK);
    size_t bad[3] = {0, 5, 1};
    ck_assert_error(ovica_atoms_rescale(B, 2, 3, w, bad, 2, merged), OVICA_EINVAL);
    ck_assert_error(ovica_atoms_rescale(B, 2, 3, w, NULL, 2, merged), OVICA_EINVAL);

    /* choose_k */
    B[5] = 0.5;
    ovica_prior *p = NULL;
    ck_assert_status(ovica_prior_laplace_new(&p, 1.0), OVICA_OK);
    ovica_model *md = NULL;
    ck_assert_status(ovica_model_new(&md, 2, 3, p, 0.1), OVICA_OK);
    ck_assert_status(ovica_model_set_basis(md, B, 2, 3), OVICA_OK);
    double X[4] = {0.1, 0.2, -0.3, 0.4}, ll[3];
    size_t kb;
    ck_assert_error(ovica_atoms_choose_k(NULL, w, X, 2, 2, 1, 3, 2.0, 1, &kb, ll, merged, assign),
                    OVICA_EINVAL);
    ck_assert_error(ovica_atoms_choose_k(md, w, NULL, 2, 2, 1, 3, 2.0, 1, &kb, ll, merged, assign),
                    OVICA_EINVAL);
    ck_assert_error(ovica_atoms_choose_k(md, w, X, 2, 3, 1, 3, 2.0, 1, &kb, ll, merged, assign),
                    OVICA_ESIZE);
    ck_assert_error(ovica_atoms_choose_k(md, w, X, 2, 2, 0, 3, 2.0, 1, &kb, ll, merged, assign),
                    OVICA_EINVAL);
    ck_assert_error(ovica_atoms_choose_k(md, w, X, 2, 2, 2, 1, 2.0, 1, &kb, ll, merged, assign),
                    OVICA_EINVAL);
    ck_assert_error(ovica_atoms_choose_k(md, w, X, 2, 2, 1, 4, 2.0, 1, &kb, ll, merged, assign),
                    OVICA_EINVAL);
    ck_assert_error(ovica_atoms_choose_k(md, w, X, 2, 2, 1, 3, 0.0, 1, &kb, ll, merged, assign),
                    OVICA_EINVAL);
    ck_assert_error(ovica_atoms_choose_k(md, w, X, 2, 2, 1, 3, 2.0, 1, NULL, ll, merged, assign),
                    OVICA_EINVAL);
    ck_assert_status(ovica_atoms_choose_k(md, NULL, X, 2, 2, 1, 3, 2.0, 1, &kb, NULL, merged,
                                          assign),
                     OVICA_OK);
    ck_assert_uint_ge(kb, 1);
    ck_assert_uint_le(kb, 3);
    ovica_model_free(md);
    ovica_prior_free(p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cluster");
    TCase *tc = tcase_create("cluster");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_overprovisioned_2d, 0, 4);
    tcase_add_test(tc, test_overprovisioned_8d);
    tcase_add_test(tc, test_signs);
    tcase_add_test(tc, test_weights_order_zero);
    tcase_add_loop_test(tc, test_choose_k, 0, 2);
    tcase_add_test(tc, test_merge);
    tcase_add_test(tc, test_bad_input);
    suite_add_tcase(s, tc);
    return tu_run(s);
}

/* Model: construction, basis get/set, cached Lipschitz constant, objective. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <lapacke.h>

#include "testutil.h"

static double largest_sv2(const double *A, size_t m, size_t n)
{
    double *a = malloc(m * n * sizeof *a), *sv = malloc((m < n ? m : n) * sizeof *sv);
    double *sup = malloc((m < n ? m : n) * sizeof *sup);
    memcpy(a, A, m * n * sizeof *a);
    ck_assert_int_eq(LAPACKE_dgesvd(LAPACK_ROW_MAJOR, 'N', 'N', (lapack_int)m, (lapack_int)n, a,
                                    (lapack_int)n, sv, NULL, 1, NULL, 1, sup), 0);
    double r = sv[0] * sv[0];
    free(a); free(sv); free(sup);
    return r;
}

static ovica_model *new_model(size_t m, size_t n, double sigma)
{
    ovica_prior *p = NULL;
    ovica_model *md = NULL;
    ck_assert_status(ovica_prior_laplace_new(&p, 1.0), OVICA_OK);
    ck_assert_status(ovica_model_new(&md, m, n, p, sigma), OVICA_OK);
    ovica_prior_free(p); /* the model keeps its own copy */
    return md;
}

START_TEST(test_lipschitz)
{
    const size_t shapes[3][2] = {{4, 9}, {9, 4}, {6, 6}};
    tu_rng r;
    tu_seed(&r, 21);
    for (int k = 0; k < 3; k++) {
        size_t m = shapes[k][0], n = shapes[k][1];
        double *A = malloc(m * n * sizeof *A);
        tu_fill_normal(&r, A, m * n, 1.0);
        ovica_model *md = new_model(m, n, 0.5);
        double L = -1;
        ck_assert_status(ovica_model_lipschitz(md, &L), OVICA_OK);
        ck_assert_double_eq(L, 0.0);
        ck_assert_status(ovica_model_set_basis(md, A, m, n), OVICA_OK);
        ck_assert_status(ovica_model_lipschitz(md, &L), OVICA_OK);
        double want = largest_sv2(A, m, n) / 0.25;
        ck_assert_double_eq_tol(L, want, 1e-10 * want);
        /* kept correct when sigma and A change */
        ck_assert_status(ovica_model_set_sigma(md, 2.0), OVICA_OK);
        ck_assert_status(ovica_model_lipschitz(md, &L), OVICA_OK);
        ck_assert_double_eq_tol(L, want * 0.25 / 4.0, 1e-10 * want);
        for (size_t i = 0; i < m * n; i++) A[i] *= 3.0;
        ck_assert_status(ovica_model_set_basis(md, A, m, n), OVICA_OK);
        ck_assert_status(ovica_model_lipschitz(md, &L), OVICA_OK);
        ck_assert_double_eq_tol(L, 9.0 * want / 16.0, 1e-10 * want);
        ovica_model_free(md);
        free(A);
    }
}
END_TEST

START_TEST(test_accessors_and_clone)
{
    const size_t m = 3, n = 5;
    double A[15], B[15];
    tu_rng r;
    tu_seed(&r, 22);
    tu_fill_normal(&r, A, 15, 1.0);
    ovica_model *md = new_model(m, n, 0.3);
    ck_assert_uint_eq(ovica_model_dim(md), 3);
    ck_assert_uint_eq(ovica_model_atoms(md), 5);
    ck_assert_double_eq(ovica_model_sigma(md), 0.3);
    ck_assert_str_eq(ovica_prior_name(ovica_model_prior(md)), "laplace");
    ck_assert_status(ovica_model_set_basis(md, A, m, n), OVICA_OK);
    ck_assert_double_eq(tu_max_abs_diff(ovica_model_basis(md), A, 15), 0.0);
    ovica_model *c = NULL;
    ck_assert_status(ovica_model_clone(&c, md), OVICA_OK);
    A[0] += 1.0;
    ck_assert_status(ovica_model_set_basis(md, A, m, n), OVICA_OK);
    ck_assert_status(ovica_model_get_basis(c, B, m, n), OVICA_OK);
    ck_assert_double_eq(B[0], A[0] - 1.0); /* deep copy */
    double L1, L2;
    ck_assert_status(ovica_model_lipschitz(c, &L1), OVICA_OK);
    ck_assert_double_eq_tol(L1, largest_sv2(B, m, n) / 0.09, 1e-9 * L1);
    ovica_prior *e = NULL;
    ck_assert_status(ovica_prior_exponential_new(&e, 2.0), OVICA_OK);
    ck_assert_status(ovica_model_set_prior(c, e), OVICA_OK);
    ovica_prior_free(e);
    ck_assert_int_eq(ovica_prior_kind(ovica_model_prior(c)), OVICA_PRIOR_EXPONENTIAL);
    ck_assert_int_eq(ovica_prior_kind(ovica_model_prior(md)), OVICA_PRIOR_LAPLACE);
    ck_assert_status(ovica_model_lipschitz(md, &L2), OVICA_OK);
    ck_assert_double_ne(L1, L2);
    ovica_model_free(c);
    ovica_model_free(md);
    ovica_model_free(NULL);
    ck_assert_uint_eq(ovica_model_dim(NULL), 0);
    ck_assert(isnan(ovica_model_sigma(NULL)));
    ck_assert_ptr_null(ovica_model_basis(NULL));
}
END_TEST

START_TEST(test_objective)
{
    const size_t m = 2, n = 3, N = 2;
    const double A[6] = {1, 0, 1, 0, 1, 1};
    const double X[4] = {1, 2, -1, 0.5};
    const double S[6] = {0.5, 1, 0, 0, 0, -1};
    ovica_model *md = new_model(m, n, 0.5);
    ck_assert_status(ovica_model_set_basis(md, A, m, n), OVICA_OK);
    double per[2], mean;
    ck_assert_status(ovica_model_objective(md, X, N, m, S, n, per, &mean), OVICA_OK);
    /* sample 0: As = (0.5, 1); r = (0.5, 1); ||r||^2 = 1.25; 2 * 1.25 + 1.5 + 3 log 2 */
    ck_assert_double_eq_tol(per[0], 2.0 * 1.25 + 1.5 + 3.0 * log(2.0), 1e-13);
    /* sample 1: As = (-1, -1); r = (0, 1.5); 2 * 2.25 + 1 + 3 log 2 */
    ck_assert_double_eq_tol(per[1], 2.0 * 2.25 + 1.0 + 3.0 * log(2.0), 1e-13);
    ck_assert_double_eq_tol(mean, 0.5 * (per[0] + per[1]), 1e-13);
    /* optimality: g = A^T r / sigma^2; at S = 0 for a single sample it is |A^T x|/s^2 - 1/b */
    double z[3] = {0, 0, 0}, worst;
    ck_assert_status(ovica_model_optimality(md, X, 1, m, z, n, &worst), OVICA_OK);
    ck_assert_double_eq_tol(worst, 3.0 * 4.0 - 1.0, 1e-12); /* atom 2: (1+2) * 4 - 1 */
    ck_assert_error(ovica_model_objective(md, X, N, m + 1, S, n, per, &mean), OVICA_ESIZE);
    ck_assert_error(ovica_model_optimality(md, X, N, m, S, n, NULL), OVICA_EINVAL);
    ovica_model_free(md);
}
END_TEST

START_TEST(test_bad_input)
{
    ovica_prior *p = NULL;
    ovica_model *md = NULL;
    ck_assert_status(ovica_prior_laplace_new(&p, 1.0), OVICA_OK);
    ck_assert_error(ovica_model_new(NULL, 2, 3, p, 1.0), OVICA_EINVAL);
    ck_assert_error(ovica_model_new(&md, 0, 3, p, 1.0), OVICA_EINVAL);
    ck_assert_error(ovica_model_new(&md, 2, 0, p, 1.0), OVICA_EINVAL);
    ck_assert_error(ovica_model_new(&md, 2, 3, NULL, 1.0), OVICA_EINVAL);
    ck_assert_error(ovica_model_new(&md, 2, 3, p, 0.0), OVICA_EINVAL);
    ck_assert_error(ovica_model_new(&md, 2, 3, p, -1.0), OVICA_EINVAL);
    ck_assert_error(ovica_model_new(&md, 2, 3, p, NAN), OVICA_ENONFINITE);
    ck_assert_error(ovica_model_new(&md, 2, 3, p, 1e-151), OVICA_EINVAL); /* 1/sigma^2 overflows */
    ck_assert_error(ovica_model_new(&md, 2, 3, p, 1e151), OVICA_EINVAL);  /* ... or underflows */
    ck_assert_ptr_null(md);
    ck_assert_status(ovica_model_new(&md, 2, 3, p, 1.0), OVICA_OK);
    double A[6] = {1, 2, 3, 4, 5, 6};
    ck_assert_error(ovica_model_set_basis(md, A, 3, 2), OVICA_ESIZE);
    ck_assert_error(ovica_model_set_basis(md, NULL, 2, 3), OVICA_EINVAL);
    ck_assert_error(ovica_model_get_basis(md, A, 2, 2), OVICA_ESIZE);
    A[5] = INFINITY;
    ck_assert_error(ovica_model_set_basis(md, A, 2, 3), OVICA_ENONFINITE);
    ck_assert_error(ovica_model_set_sigma(md, -2.0), OVICA_EINVAL);
    ck_assert_error(ovica_model_set_sigma(md, INFINITY), OVICA_ENONFINITE);
    ck_assert_error(ovica_model_set_sigma(md, 1e-300), OVICA_EINVAL);
    {
        const double huge[6] = {1e200, 0, 0, 0, 1e200, 0};
        ck_assert_error(ovica_model_set_basis(md, huge, 2, 3), OVICA_ENUMERIC);
        ck_assert_ptr_nonnull(strstr(ovica_error_message(), "too large"));
    }
    ck_assert_error(ovica_model_set_prior(md, NULL), OVICA_EINVAL);
    ck_assert_error(ovica_model_lipschitz(md, NULL), OVICA_EINVAL);
    ck_assert_double_eq(ovica_model_sigma(md), 1.0);
    double B[6];
    ck_assert_status(ovica_model_get_basis(md, B, 2, 3), OVICA_OK);
    for (int i = 0; i < 6; i++) ck_assert_double_eq(B[i], 0.0); /* unchanged */
    A[5] = 6;
    ck_assert_status(ovica_model_set_basis(md, A, 2, 3), OVICA_OK);
    ovica_model_free(md);
    ovica_prior_free(p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("model");
    TCase *tc = tcase_create("model");
    tcase_add_test(tc, test_lipschitz);
    tcase_add_test(tc, test_accessors_and_clone);
    tcase_add_test(tc, test_objective);
    tcase_add_test(tc, test_bad_input);
    suite_add_tcase(s, tc);
    return tu_run(s);
}

/* Priors: values, gradients, prox, domains, user callbacks, bad input. */
#include <math.h>
#include <string.h>

#include "testutil.h"

START_TEST(test_laplace_values)
{
    ovica_prior *p = NULL;
    ck_assert_status(ovica_prior_laplace_new(&p, 2.0), OVICA_OK);
    ck_assert_int_eq(ovica_prior_kind(p), OVICA_PRIOR_LAPLACE);
    ck_assert_int_eq(ovica_prior_domain(p), OVICA_DOMAIN_REAL);
    ck_assert_str_eq(ovica_prior_name(p), "laplace");
    double b = 0.0;
    ck_assert_status(ovica_prior_scale(p, &b), OVICA_OK);
    ck_assert_double_eq(b, 2.0);
    const double s[4] = {-3.0, 0.0, 0.5, 4.0};
    double v = 0.0, g[4], out[4], c[4];
    ck_assert_status(ovica_prior_neglogp(p, s, 4, &v), OVICA_OK);
    ck_assert_double_eq_tol(v, (3.0 + 0.0 + 0.5 + 4.0) / 2.0 + 4.0 * log(4.0), 1e-14);
    ck_assert_status(ovica_prior_grad(p, s, 4, g), OVICA_OK);
    ck_assert_double_eq(g[0], -0.5);
    ck_assert_double_eq(g[1], 0.0);
    ck_assert_double_eq(g[2], 0.5);
    ck_assert_double_eq(g[3], 0.5);
    /* prox of t|s|/b at t = 1: soft threshold at 0.5 */
    ck_assert_status(ovica_prior_prox(p, s, 4, 1.0, out), OVICA_OK);
    ck_assert_double_eq(out[0], -2.5);
    ck_assert_double_eq(out[1], 0.0);
    ck_assert_double_eq(out[2], 0.0);
    ck_assert_double_eq(out[3], 3.5);
    ck_assert_status(ovica_prior_curvature(p, s, 4, c), OVICA_OK);
    for (int i = 0; i < 4; i++) ck_assert_double_eq(c[i], 0.0);
    ck_assert_int_eq(ovica_prior_has_prox(p), 1);
    ovica_prior_free(p);
}
END_TEST

START_TEST(test_exponential_values)
{
    ovica_prior *p = NULL;
    ck_assert_status(ovica_prior_exponential_new(&p, 0.5), OVICA_OK);
    ck_assert_int_eq(ovica_prior_domain(p), OVICA_DOMAIN_NONNEG);
    const double s[3] = {0.0, 1.0, 2.5};
    double v, g[3], out[3];
    ck_assert_status(ovica_prior_neglogp(p, s, 3, &v), OVICA_OK);
    ck_assert_double_eq_tol(v, 3.5 / 0.5 + 3.0 * log(0.5), 1e-14);
    ck_assert_status(ovica_prior_grad(p, s, 3, g), OVICA_OK);
    ck_assert_double_eq(g[0], 0.0);
    ck_assert_double_eq(g[1], 2.0);
    const double w[3] = {-1.0, 0.1, 3.0};
    ck_assert_status(ovica_prior_prox(p, w, 3, 0.25, out), OVICA_OK); /* threshold 0.5 */
    ck_assert_double_eq(out[0], 0.0);
    ck_assert_double_eq(out[1], 0.0);
    ck_assert_double_eq(out[2], 2.5);
    /* the prox may work in place */
    double inplace[3] = {-1.0, 0.1, 3.0};
    ck_assert_status(ovica_prior_prox(p, inplace, 3, 0.25, inplace), OVICA_OK);
    ck_assert_double_eq(inplace[2], 2.5);
    /* outside the domain */
    const double neg[2] = {1.0, -0.1};
    ck_assert_error(ovica_prior_neglogp(p, neg, 2, &v), OVICA_EDOMAIN);
    ck_assert_error(ovica_prior_grad(p, neg, 2, g), OVICA_EDOMAIN);
    ovica_prior_free(p);
}
END_TEST

START_TEST(test_prox_is_minimiser)
{
    /* prox_t(v) minimises t(-log p(u)) + (u - v)^2/2: compare with a fine grid. */
    for (int kind = 0; kind < 2; kind++) {
        ovica_prior *p = NULL;
        if (kind == 0) ck_assert_status(ovica_prior_laplace_new(&p, 0.7), OVICA_OK);
        else ck_assert_status(ovica_prior_exponential_new(&p, 0.7), OVICA_OK);
        for (double v = -3.0; v <= 3.0; v += 0.37) {
            double u, best = 0.0, bestf = INFINITY, t = 0.9;
            ck_assert_status(ovica_prior_prox(p, &v, 1, t, &u), OVICA_OK);
            for (double x = (kind ? 0.0 : -4.0); x <= 4.0; x += 2e-4) {
                double nl;
                ck_assert_status(ovica_prior_neglogp(p, &x, 1, &nl), OVICA_OK);
                double f = t * nl + 0.5 * (x - v) * (x - v);
                if (f < bestf) { bestf = f; best = x; }
            }
            ck_assert_double_eq_tol(u, best, 4e-4);
        }
        ovica_prior_free(p);
    }
}
END_TEST

static int cb_neglogp(const double *s, size_t k, double *out, void *user)
{
    (void)user;
    double a = 0.0;
    for (size_t i = 0; i < k; i++) a += 0.5 * s[i] * s[i];
    *out = a;
    return 0;
}
static int cb_grad(const double *s, size_t k, double *g, void *user)
{
    int *calls = user;
    ++*calls;
    for (size_t i = 0; i < k; i++) g[i] = s[i];
    return 0;
}
static int cb_curv(const double *s, size_t k, double *c, void *user)
{
    (void)s; (void)user;
    for (size_t i = 0; i < k; i++) c[i] = 1.0;
    return 0;
}
static int cb_fail(const double *s, size_t k, double *g, void *user)
{
    (void)s; (void)k; (void)g; (void)user;
    return -5;
}

START_TEST(test_user_prior)
{
    int calls = 0;
    ovica_prior_callbacks cb = OVICA_PRIOR_CALLBACKS_INIT;
    cb.neglogp = cb_neglogp;
    cb.grad = cb_grad;
    cb.curvature = cb_curv;
    ovica_prior *p = NULL, *q = NULL;
    ck_assert_status(ovica_prior_user_new(&p, &cb, &calls), OVICA_OK);
    ck_assert_int_eq(ovica_prior_kind(p), OVICA_PRIOR_USER);
    ck_assert_str_eq(ovica_prior_name(p), "user");
    double s[2] = {1.0, -2.0}, g[2], c[2], v, b;
    ck_assert_status(ovica_prior_grad(p, s, 2, g), OVICA_OK);
    ck_assert_int_eq(calls, 1);
    ck_assert_double_eq(g[1], -2.0);
    ck_assert_status(ovica_prior_curvature(p, s, 2, c), OVICA_OK);
    ck_assert_double_eq(c[0], 1.0);
    ck_assert_status(ovica_prior_neglogp(p, s, 2, &v), OVICA_OK);
    ck_assert_double_eq(v, 2.5);
    ck_assert_error(ovica_prior_prox(p, s, 2, 1.0, g), OVICA_ENOTSUP);
    ck_assert_error(ovica_prior_scale(p, &b), OVICA_ENOTSUP);
    /* a clone shares the user pointer */
    ck_assert_status(ovica_prior_clone(&q, p), OVICA_OK);
    ck_assert_status(ovica_prior_grad(q, s, 2, g), OVICA_OK);
    ck_assert_int_eq(calls, 2);
    ovica_prior_free(q);
    /* a failing callback */
    cb.grad = cb_fail;
    ck_assert_status(ovica_prior_user_new(&q, &cb, NULL), OVICA_OK);
    ck_assert_error(ovica_prior_grad(q, s, 2, g), OVICA_EUSER);
    ck_assert_ptr_nonnull(strstr(ovica_error_message(), "-5"));
    ovica_prior_free(q);
    ovica_prior_free(p);
}
END_TEST

START_TEST(test_bad_input)
{
    ovica_prior *p = NULL;
    ck_assert_error(ovica_prior_laplace_new(NULL, 1.0), OVICA_EINVAL);
    ck_assert_error(ovica_prior_laplace_new(&p, 0.0), OVICA_EINVAL);
    ck_assert_error(ovica_prior_laplace_new(&p, -1.0), OVICA_EINVAL);
    ck_assert_error(ovica_prior_exponential_new(&p, NAN), OVICA_ENONFINITE);
    ck_assert_error(ovica_prior_exponential_new(&p, INFINITY), OVICA_ENONFINITE);
    ck_assert_ptr_null(p);
    ovica_prior_callbacks cb = OVICA_PRIOR_CALLBACKS_INIT;
    ck_assert_error(ovica_prior_user_new(&p, &cb, NULL), OVICA_EINVAL); /* no callbacks */
    cb.neglogp = cb_neglogp;
    cb.grad = cb_grad;
    cb.domain = 7;
    ck_assert_error(ovica_prior_user_new(&p, &cb, NULL), OVICA_EINVAL);
    cb.domain = OVICA_DOMAIN_REAL;
    cb.version = 99;
    ck_assert_error(ovica_prior_user_new(&p, &cb, NULL), OVICA_EVERSION);
    ck_assert_error(ovica_prior_user_new(&p, NULL, NULL), OVICA_EINVAL);
    ck_assert_ptr_null(p);
    ck_assert_status(ovica_prior_laplace_new(&p, 1.0), OVICA_OK);
    double s[2] = {1.0, NAN}, g[2], v;
    ck_assert_error(ovica_prior_neglogp(p, s, 2, &v), OVICA_ENONFINITE);
    ck_assert_error(ovica_prior_neglogp(NULL, s, 2, &v), OVICA_EINVAL);
    ck_assert_error(ovica_prior_grad(p, NULL, 2, g), OVICA_EINVAL);
    s[1] = 0.0;
    ck_assert_error(ovica_prior_prox(p, s, 2, 0.0, g), OVICA_EINVAL);
    ck_assert_error(ovica_prior_prox(p, s, 2, NAN, g), OVICA_ENONFINITE);
    ck_assert_error(ovica_prior_clone(NULL, p), OVICA_EINVAL);
    ck_assert_int_eq(ovica_prior_kind(NULL), -1);
    ck_assert_int_eq(ovica_prior_domain(NULL), -1);
    ck_assert_int_eq(ovica_prior_has_prox(NULL), -1);
    ck_assert_str_eq(ovica_prior_name(NULL), "");
    /* still usable */
    ck_assert_status(ovica_prior_neglogp(p, s, 2, &v), OVICA_OK);
    ck_assert_double_eq_tol(v, 1.0 + 2.0 * log(2.0), 1e-14);
    ovica_prior_free(p);
    ovica_prior_free(NULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("prior");
    TCase *tc = tcase_create("prior");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_laplace_values);
    tcase_add_test(tc, test_exponential_values);
    tcase_add_test(tc, test_prox_is_minimiser);
    tcase_add_test(tc, test_user_prior);
    tcase_add_test(tc, test_bad_input);
    suite_add_tcase(s, tc);
    return tu_run(s);
}

/* MAP inference: closed forms, optimality, agreement between solvers,
 * user priors, warm starts, parameters and bad input; the exact active-set
 * solver against FISTA (shapes, both priors, zero samples, duplicate atoms,
 * supports of rank m, warm starts, auto selection, threads); the
 * single-precision entry point. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static const ovica_solver_type *solver_types[4];
static void init_types(void)
{
    solver_types[0] = ovica_solver_pg;
    solver_types[1] = ovica_solver_ista;
    solver_types[2] = ovica_solver_fista;
    solver_types[3] = ovica_solver_active;
}

static ovica_prior *make_prior(int kind, double b)
{
    ovica_prior *p = NULL;
    if (kind == OVICA_PRIOR_LAPLACE) ck_assert_status(ovica_prior_laplace_new(&p, b), OVICA_OK);
    else ck_assert_status(ovica_prior_exponential_new(&p, b), OVICA_OK);
    return p;
}

static ovica_model *make_model(size_t m, size_t n, const double *A, int kind, double b,
                               double sigma)
{
    ovica_prior *p = make_prior(kind, b);
    ovica_model *md = NULL;
    ck_assert_status(ovica_model_new(&md, m, n, p, sigma), OVICA_OK);
    ovica_prior_free(p);
    if (A) ck_assert_status(ovica_model_set_basis(md, A, m, n), OVICA_OK);
    return md;
}

static ovica_solver *make_solver(const ovica_solver_type *t, double tol, double max_iter)
{
    ovica_solver *s = NULL;
    ck_assert_status(ovica_solver_new(&s, t), OVICA_OK);
    ck_assert_status(ovica_solver_set_param(s, OVICA_SOLVER_TOL, tol), OVICA_OK);
    ck_assert_status(ovica_solver_set_param(s, OVICA_SOLVER_MAX_ITER, max_iter), OVICA_OK);
    return s;
}

/* A: m x n with orthonormal columns (n <= m) taken from a random orthogonal
 * matrix; the MAP code is then the closed-form threshold of A^T x. */
static void closed_form_case(int ti, int kind, size_t m, size_t n, int form)
{
    init_types();
    tu_rng r;
    tu_seed(&r, 100 + (uint64_t)ti * 7 + (uint64_t)kind * 3 + m);
    const size_t N = 64;
    const double sigma = 0.5, b = 0.8, thr = sigma * sigma / b;
    double *Q = malloc(m * m * sizeof *Q), *A = malloc(m * n * sizeof *A);
    tu_orthogonal(&r, Q, m);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) A[i * n + j] = Q[i * m + j];
    double *X = malloc(N * m * sizeof *X), *S = malloc(N * n * sizeof *S),
           *want = malloc(N * n * sizeof *want);
    tu_fill_normal(&r, X, N * m, 1.0);
    for (size_t k = 0; k < N; k++)
        for (size_t j = 0; j < n; j++) {
            double c = 0.0;
            for (size_t i = 0; i < m; i++) c += A[i * n + j] * X[k * m + i];
            double v = kind == OVICA_PRIOR_LAPLACE
                           ? (c > thr ? c - thr : (c < -thr ? c + thr : 0.0))
                           : (c > thr ? c - thr : 0.0);
            want[k * n + j] = v;
        }
    ovica_model *md = make_model(m, n, A, kind, b, sigma);
    ovica_solver *s = make_solver(solver_types[ti], 1e-14, 10000);
    ck_assert_status(ovica_solver_set_param(s, OVICA_SOLVER_FORM, form), OVICA_OK);
    ovica_infer_stats stats = OVICA_INFER_STATS_INIT;
    ck_assert_status(ovica_solver_infer(s, md, X, N, m, S, n, &stats), OVICA_OK);
    double err = tu_max_abs_diff(S, want, N * n);
    ck_assert_msg(err < 1e-8, "%s/%s m=%zu n=%zu form=%d: max error %g vs closed form",
                  ovica_solver_type_name(solver_types[ti]),
                  kind == OVICA_PRIOR_LAPLACE ? "laplace" : "exponential", m, n, form, err);
    ck_assert_double_le(stats.violation, 1e-8);
    ck_assert_uint_eq(stats.converged, N);
    ovica_solver_free(s);
    ovica_model_free(md);
    free(Q); free(A); free(X); free(S); free(want);
}

/* _i encodes solver (3) x prior (2) x form (3: auto, direct, Gram) */
START_TEST(test_closed_form_square)
{
    closed_form_case(_i % 3, (_i / 3) % 2, 8, 8, _i / 6);
}
END_TEST

START_TEST(test_closed_form_tall)
{
    closed_form_case(_i % 3, (_i / 3) % 2, 12, 5, _i / 6);
}
END_TEST

/* Random 2x overcomplete basis: every solver satisfies the optimality
 * condition and all reach the same objective. */
START_TEST(test_overcomplete_agreement)
{
    init_types();
    const int kind = _i; /* 0 laplace, 1 exponential */
    const size_t m = 16, n = 32, N = 100;
    const double sigma = 0.3, b = 1.0;
    tu_rng r;
    tu_seed(&r, 7 + (uint64_t)kind);
    double *A = malloc(m * n * sizeof *A), *X = malloc(N * m * sizeof *X);
    tu_fill_normal(&r, A, m * n, 1.0 / sqrt((double)m));
    tu_fill_normal(&r, X, N * m, 1.0);
    ovica_model *md = make_model(m, n, A, kind, b, sigma);
    double obj[3];
    double *S[3];
    for (int t = 0; t < 3; t++) {
        S[t] = malloc(N * n * sizeof(double));
        ovica_solver *s = make_solver(solver_types[t], 1e-12, 200000);
        ovica_infer_stats st = OVICA_INFER_STATS_INIT;
        ck_assert_status(ovica_solver_infer(s, md, X, N, m, S[t], n, &st), OVICA_OK);
        double worst = -1.0, mean = 0.0;
        ck_assert_status(ovica_model_optimality(md, X, N, m, S[t], n, &worst), OVICA_OK);
        ck_assert_status(ovica_model_objective(md, X, N, m, S[t], n, NULL, &mean), OVICA_OK);
        ck_assert_msg(worst < 1e-6 * (1.0 / b), "%s: optimality violation %g",
                      ovica_solver_type_name(solver_types[t]), worst);
        ck_assert_msg(fabs(worst - st.violation) <= 1e-9 + 1e-6 * worst,
                      "stats violation %g vs model %g", st.violation, worst);
        ck_assert_double_eq_tol(mean, st.objective, 1e-9 * fabs(mean));
        obj[t] = mean;
        if (kind == OVICA_PRIOR_EXPONENTIAL)
            for (size_t i = 0; i < N * n; i++) ck_assert_double_ge(S[t][i], 0.0);
        ovica_solver_free(s);
    }
    for (int t = 1; t < 3; t++) {
        ck_assert_msg(fabs(obj[t] - obj[0]) <= 1e-9 * fabs(obj[0]), "objectives %.15g vs %.15g",
                      obj[t], obj[0]);
        /* the LASSO minimiser is unique for a random A */
        ck_assert_double_le(tu_max_abs_diff(S[t], S[0], N * n), 1e-5);
    }
    /* sparse and non-trivial: some zeros, some non-zeros */
    size_t nz = 0;
    for (size_t i = 0; i < N * n; i++) nz += S[2][i] != 0.0;
    ck_assert_uint_gt(nz, N);
    ck_assert_uint_lt(nz, N * n / 2);
    for (int t = 0; t < 3; t++) free(S[t]);
    ovica_model_free(md);
    free(A); free(X);
}
END_TEST

/* ---- a user prior that re-implements Laplace(b) through callbacks ---- */
typedef struct { double b; int calls; int fail_at; } lap_user;

static int u_neglogp(const double *s, size_t k, double *out, void *user)
{
    lap_user *u = user;
    double acc = 0.0;
    for (size_t i = 0; i < k; i++) acc += fabs(s[i]) / u->b + log(2.0 * u->b);
    *out = acc;
    return 0;
}
static int u_grad(const double *s, size_t k, double *g, void *user)
{
    lap_user *u = user;
    for (size_t i = 0; i < k; i++) g[i] = s[i] > 0 ? 1.0 / u->b : (s[i] < 0 ? -1.0 / u->b : 0.0);
    return 0;
}
static int u_prox(const double *v, size_t k, double t, double *out, void *user)
{
    lap_user *u = user;
    if (u->fail_at > 0 && ++u->calls >= u->fail_at) return 42;
    double th = t / u->b;
    for (size_t i = 0; i < k; i++)
        out[i] = v[i] > th ? v[i] - th : (v[i] < -th ? v[i] + th : 0.0);
    return 0;
}

START_TEST(test_user_prior_matches_builtin)
{
    init_types();
    const size_t m = 10, n = 20, N = 50;
    const double sigma = 0.4, b = 0.7;
    tu_rng r;
    tu_seed(&r, 99);
    double *A = malloc(m * n * sizeof *A), *X = malloc(N * m * sizeof *X);
    double *S1 = malloc(N * n * sizeof *S1), *S2 = malloc(N * n * sizeof *S2);
    tu_fill_normal(&r, A, m * n, 0.3);
    tu_fill_normal(&r, X, N * m, 1.0);
    ovica_model *builtin = make_model(m, n, A, OVICA_PRIOR_LAPLACE, b, sigma);
    lap_user u = {b, 0, 0};
    ovica_prior_callbacks cb = OVICA_PRIOR_CALLBACKS_INIT;
    cb.name = "my-laplace";
    cb.neglogp = u_neglogp;
    cb.grad = u_grad;
    cb.prox = u_prox;
    ovica_prior *up = NULL;
    ck_assert_status(ovica_prior_user_new(&up, &cb, &u), OVICA_OK);
    ck_assert_str_eq(ovica_prior_name(up), "my-laplace");
    ovica_model *user = NULL;
    ck_assert_status(ovica_model_new(&user, m, n, up, sigma), OVICA_OK);
    ovica_prior_free(up);
    ck_assert_status(ovica_model_set_basis(user, A, m, n), OVICA_OK);
    for (int t = 1; t < 3; t++) {
        ovica_solver *s = make_solver(solver_types[t], 1e-13, 100000);
        ovica_infer_stats st1 = OVICA_INFER_STATS_INIT, st2 = OVICA_INFER_STATS_INIT;
        ck_assert_status(ovica_solver_infer(s, builtin, X, N, m, S1, n, &st1), OVICA_OK);
        ck_assert_status(ovica_solver_infer(s, user, X, N, m, S2, n, &st2), OVICA_OK);
        ck_assert_double_le(tu_max_abs_diff(S1, S2, N * n), 1e-10);
        ck_assert_double_eq_tol(st1.objective, st2.objective, 1e-10);
        ck_assert_double_le(st2.violation, 1e-7);
        ovica_solver_free(s);
    }
    /* A failing callback stops the run with OVICA_EUSER; the solver stays usable. */
    ovica_solver *s = make_solver(ovica_solver_fista, 1e-10, 1000);
    u.fail_at = 3;
    ck_assert_error(ovica_solver_infer(s, user, X, N, m, S2, n, NULL), OVICA_EUSER);
    u.fail_at = 0;
    ck_assert_status(ovica_solver_infer(s, user, X, N, m, S2, n, NULL), OVICA_OK);
    ovica_solver_free(s);
    ovica_model_free(builtin);
    ovica_model_free(user);
    free(A); free(X); free(S1); free(S2);
}
END_TEST

/* ---- the exponential prior through callbacks ---- */
static int e_neglogp(const double *s, size_t k, double *out, void *user)
{
    const lap_user *u = user;
    double acc = 0.0;
    for (size_t i = 0; i < k; i++) acc += s[i] / u->b + log(u->b);
    *out = acc;
    return 0;
}
static int e_grad(const double *s, size_t k, double *g, void *user)
{
    const lap_user *u = user;
    for (size_t i = 0; i < k; i++) g[i] = s[i] > 0 ? 1.0 / u->b : 0.0;
    return 0;
}
static int e_prox(const double *v, size_t k, double t, double *out, void *user)
{
    const lap_user *u = user;
    double th = t / u->b;
    for (size_t i = 0; i < k; i++) out[i] = v[i] > th ? v[i] - th : 0.0;
    return 0;
}

/* ISTA and FISTA (restart on and off) run a fused step, prox and sums pass
 * for the built-in priors, and separate passes for a user prior: the same
 * arithmetic but for the order of the sums. After a fixed number of
 * iterations (tol 0) the iterates must agree; n = 23 leaves a tail after
 * the groups of four, and the restart test is exercised (restarts change
 * the iterates, so a wrong sum would show). _i: prior (2) x restart (2). */
START_TEST(test_fused_step_matches_user_prior)
{
    init_types();
    const int kind = _i / 2, restart = _i % 2;
    const size_t m = 9, n = 23, N = 40;
    const double sigma = 0.3, b = 0.6;
    tu_rng r;
    tu_seed(&r, 4242 + (uint64_t)_i);
    double *A = malloc(m * n * sizeof *A), *X = malloc(N * m * sizeof *X);
    double *S1 = malloc(N * n * sizeof *S1), *S2 = malloc(N * n * sizeof *S2);
    tu_fill_normal(&r, A, m * n, 1.0 / sqrt((double)m));
    tu_fill_normal(&r, X, N * m, 1.0);
    ovica_model *builtin = make_model(m, n, A, kind, b, sigma);
    lap_user u = {b, 0, 0};
    ovica_prior_callbacks cb = OVICA_PRIOR_CALLBACKS_INIT;
    cb.name = "callbacks";
    cb.neglogp = kind == OVICA_PRIOR_LAPLACE ? u_neglogp : e_neglogp;
    cb.grad = kind == OVICA_PRIOR_LAPLACE ? u_grad : e_grad;
    cb.prox = kind == OVICA_PRIOR_LAPLACE ? u_prox : e_prox;
    if (kind == OVICA_PRIOR_EXPONENTIAL) cb.domain = OVICA_DOMAIN_NONNEG;
    ovica_prior *up = NULL;
    ck_assert_status(ovica_prior_user_new(&up, &cb, &u), OVICA_OK);
    ovica_model *user = NULL;
    ck_assert_status(ovica_model_new(&user, m, n, up, sigma), OVICA_OK);
    ovica_prior_free(up);
    ck_assert_status(ovica_model_set_basis(user, A, m, n), OVICA_OK);
    for (int t = 1; t < 3; t++) {
        for (int iters = 1; iters <= 60; iters += 59) {
            ovica_solver *s = make_solver(solver_types[t], 0.0, iters);
            ck_assert_status(ovica_solver_set_param(s, OVICA_SOLVER_RESTART, restart), OVICA_OK);
            ck_assert_status(ovica_solver_infer(s, builtin, X, N, m, S1, n, NULL),
                             OVICA_NOT_CONVERGED);
            ck_assert_status(ovica_solver_infer(s, user, X, N, m, S2, n, NULL),
                             OVICA_NOT_CONVERGED);
            ck_assert_msg(tu_max_abs_diff(S1, S2, N * n) <= 1e-12,
                          "%s kind %d restart %d, %d iterations: fused and unfused differ by %g",
                          ovica_solver_type_name(solver_types[t]), kind, restart, iters,
                          tu_max_abs_diff(S1, S2, N * n));
            size_t nz = 0, neg = 0;
            for (size_t i = 0; i < N * n; i++) {
                nz += S1[i] != 0.0;
                neg += S1[i] < 0.0;
            }
            ck_assert_uint_gt(nz, 0);
            ck_assert_uint_lt(nz, N * n);
            if (kind == OVICA_PRIOR_EXPONENTIAL) ck_assert_uint_eq(neg, 0);
            else ck_assert_uint_gt(neg, 0);
            ovica_solver_free(s);
        }
    }
    ovica_model_free(builtin);
    ovica_model_free(user);
    free(A); free(X); free(S1); free(S2);
}
END_TEST

START_TEST(test_user_prior_without_prox)
{
    const size_t m = 4, n = 6, N = 5;
    lap_user u = {1.0, 0, 0};
    ovica_prior_callbacks cb = OVICA_PRIOR_CALLBACKS_INIT;
    cb.neglogp = u_neglogp;
    cb.grad = u_grad;
    ovica_prior *up = NULL;
    ck_assert_status(ovica_prior_user_new(&up, &cb, &u), OVICA_OK);
    ck_assert_int_eq(ovica_prior_has_prox(up), 0);
    ovica_model *md = NULL;
    ck_assert_status(ovica_model_new(&md, m, n, up, 1.0), OVICA_OK);
    ovica_prior_free(up);
    double A[24], X[20], S[30];
    tu_rng r;
    tu_seed(&r, 5);
    tu_fill_normal(&r, A, 24, 1.0);
    tu_fill_normal(&r, X, 20, 1.0);
    ck_assert_status(ovica_model_set_basis(md, A, m, n), OVICA_OK);
    ovica_solver *s = make_solver(ovica_solver_fista, 1e-6, 100);
    ck_assert_error(ovica_solver_infer(s, md, X, N, m, S, n, NULL), OVICA_ENOTSUP);
    ovica_solver_free(s);
    /* the projected gradient works with the user's gradient alone */
    s = make_solver(ovica_solver_pg, 0.0, 50);
    int st = ovica_solver_infer(s, md, X, N, m, S, n, NULL);
    ck_assert_int_eq(st, OVICA_NOT_CONVERGED);
    for (size_t i = 0; i < N * n; i++) ck_assert(isfinite(S[i]));
    ovica_solver_free(s);
    ovica_model_free(md);
}
END_TEST

START_TEST(test_warm_start)
{
    const size_t m = 8, n = 16, N = 40;
    tu_rng r;
    tu_seed(&r, 11);
    double *A = malloc(m * n * sizeof *A), *X = malloc(N * m * sizeof *X);
    double *S = malloc(N * n * sizeof *S);
    tu_fill_normal(&r, A, m * n, 0.4);
    tu_fill_normal(&r, X, N * m, 1.0);
    ovica_model *md = make_model(m, n, A, OVICA_PRIOR_EXPONENTIAL, 1.0, 0.3);
    ovica_solver *s = make_solver(ovica_solver_fista, 1e-10, 100000);
    ovica_infer_stats cold = OVICA_INFER_STATS_INIT, warm = OVICA_INFER_STATS_INIT;
    ck_assert_status(ovica_solver_infer(s, md, X, N, m, S, n, &cold), OVICA_OK);
    ck_assert_status(ovica_solver_set_param(s, OVICA_SOLVER_WARM_START, 1), OVICA_OK);
    ck_assert_status(ovica_solver_infer(s, md, X, N, m, S, n, &warm), OVICA_OK);
    ck_assert_uint_lt(warm.iterations, cold.iterations / 4 + 2);
    ck_assert_double_eq_tol(warm.objective, cold.objective, 1e-9);
    /* a NaN in the warm start is refused */
    S[3] = NAN;
    ck_assert_error(ovica_solver_infer(s, md, X, N, m, S, n, NULL), OVICA_ENONFINITE);
    ovica_solver_free(s);
    ovica_model_free(md);
    free(A); free(X); free(S);
}
END_TEST

START_TEST(test_not_converged_and_restart)
{
    const size_t m = 8, n = 24, N = 30;
    tu_rng r;
    tu_seed(&r, 12);
    double *A = malloc(m * n * sizeof *A), *X = malloc(N * m * sizeof *X);
    double *S = malloc(N * n * sizeof *S);
    tu_fill_normal(&r, A, m * n, 0.4);
    tu_fill_normal(&r, X, N * m, 1.0);
    ovica_model *md = make_model(m, n, A, OVICA_PRIOR_LAPLACE, 1.0, 0.2);
    ovica_solver *s = make_solver(ovica_solver_fista, 1e-10, 3);
    ovica_infer_stats st = OVICA_INFER_STATS_INIT;
    ck_assert_status(ovica_solver_infer(s, md, X, N, m, S, n, &st), OVICA_NOT_CONVERGED);
    ck_assert_uint_eq(st.iterations, 3);
    ck_assert_uint_lt(st.converged, N);
    /* with and without adaptive restart FISTA reaches the same optimum;
     * restart should not need more iterations here */
    size_t iters[2];
    double objs[2];
    for (int rs = 0; rs < 2; rs++) {
        ck_assert_status(ovica_solver_set_param(s, OVICA_SOLVER_MAX_ITER, 100000), OVICA_OK);
        ck_assert_status(ovica_solver_set_param(s, OVICA_SOLVER_RESTART, rs), OVICA_OK);
        ovica_infer_stats s2 = OVICA_INFER_STATS_INIT;
        ck_assert_status(ovica_solver_infer(s, md, X, N, m, S, n, &s2), OVICA_OK);
        iters[rs] = s2.iterations;
        objs[rs] = s2.objective;
    }
    ck_assert_double_eq_tol(objs[0], objs[1], 1e-8);
    ck_assert_uint_le(iters[1], iters[0]);
    ovica_solver_free(s);
    ovica_model_free(md);
    free(A); free(X); free(S);
}
END_TEST

START_TEST(test_params)
{
    ovica_solver *s = NULL;
    ck_assert_status(ovica_solver_new(&s, ovica_solver_type_find("fista")), OVICA_OK);
    ck_assert_ptr_eq(ovica_solver_get_type(s), ovica_solver_fista);
    ck_assert_str_eq(ovica_solver_type_name(ovica_solver_type_find("pg")), "pg");
    ck_assert_ptr_eq(ovica_solver_type_find("ista"), ovica_solver_ista);
    ck_assert_ptr_null(ovica_solver_type_find("lars"));
    ck_assert_ptr_nonnull(strstr(ovica_error_message(), "lars"));
    double v = 0.0, lo, hi;
    ck_assert_status(ovica_solver_get_param(s, OVICA_SOLVER_MAX_ITER, &v), OVICA_OK);
    ck_assert_double_eq(v, 1000.0);
    ck_assert_status(ovica_solver_get_param(s, OVICA_SOLVER_TOL, &v), OVICA_OK);
    ck_assert_double_eq(v, 1e-6);
    ck_assert_status(ovica_solver_param_bounds(OVICA_SOLVER_STEP, &lo, &hi), OVICA_OK);
    ck_assert(lo > 0.0 && hi == 1.0);
    ck_assert_status(ovica_solver_get_param(s, OVICA_SOLVER_THREADS, &v), OVICA_OK);
    ck_assert_double_eq(v, 1.0);
    ck_assert_status(ovica_solver_param_bounds(OVICA_SOLVER_THREADS, &lo, &hi), OVICA_OK);
    ck_assert(lo == 1.0 && hi == 256.0);
    ck_assert_error(ovica_solver_set_param(s, OVICA_SOLVER_THREADS, 0.0), OVICA_EINVAL);
    ck_assert_error(ovica_solver_set_param(s, OVICA_SOLVER_THREADS, 257.0), OVICA_EINVAL);
    ck_assert_status(ovica_solver_set_param(s, OVICA_SOLVER_THREADS, 2.4), OVICA_OK);
    ck_assert_status(ovica_solver_get_param(s, OVICA_SOLVER_THREADS, &v), OVICA_OK);
    ck_assert_double_eq(v, 2.0);
    ck_assert_error(ovica_solver_set_param(s, OVICA_SOLVER_MAX_ITER, 0), OVICA_EINVAL);
    ck_assert_error(ovica_solver_set_param(s, OVICA_SOLVER_TOL, -1), OVICA_EINVAL);
    ck_assert_error(ovica_solver_set_param(s, OVICA_SOLVER_TOL, NAN), OVICA_ENONFINITE);
    ck_assert_error(ovica_solver_set_param(s, OVICA_SOLVER_STEP, 2.0), OVICA_EINVAL);
    ck_assert_error(ovica_solver_set_param(s, 99, 1.0), OVICA_EINVAL);
    ck_assert_error(ovica_solver_set_param(s, -1, 1.0), OVICA_EINVAL);
    ck_assert_error(ovica_solver_get_param(s, 99, &v), OVICA_EINVAL);
    ck_assert_error(ovica_solver_param_bounds(99, &lo, &hi), OVICA_EINVAL);
    ck_assert_status(ovica_solver_get_param(s, OVICA_SOLVER_MAX_ITER, &v), OVICA_OK);
    ck_assert_double_eq(v, 1000.0); /* unchanged by the failed calls */
    ck_assert_status(ovica_solver_set_param(s, OVICA_SOLVER_MAX_ITER, 41.6), OVICA_OK);
    ck_assert_status(ovica_solver_get_param(s, OVICA_SOLVER_MAX_ITER, &v), OVICA_OK);
    ck_assert_double_eq(v, 42.0);
    ck_assert_error(ovica_solver_new(NULL, ovica_solver_fista), OVICA_EINVAL);
    ovica_solver *t = NULL;
    ck_assert_error(ovica_solver_new(&t, NULL), OVICA_EINVAL);
    ck_assert_ptr_null(t);
    ovica_solver_free(NULL);
    ovica_solver_free(s);
}
END_TEST

START_TEST(test_bad_input)
{
    const size_t m = 3, n = 5, N = 4;
    double A[15], X[12], S[20];
    tu_rng r;
    tu_seed(&r, 3);
    tu_fill_normal(&r, A, 15, 1.0);
    tu_fill_normal(&r, X, 12, 1.0);
    ovica_model *md = make_model(m, n, NULL, OVICA_PRIOR_LAPLACE, 1.0, 0.5);
    ovica_solver *s = make_solver(ovica_solver_fista, 1e-8, 1000);
    /* basis still zero */
    ck_assert_error(ovica_solver_infer(s, md, X, N, m, S, n, NULL), OVICA_EINVAL);
    ck_assert_status(ovica_model_set_basis(md, A, m, n), OVICA_OK);
    ck_assert_error(ovica_solver_infer(NULL, md, X, N, m, S, n, NULL), OVICA_EINVAL);
    ck_assert_error(ovica_solver_infer(s, NULL, X, N, m, S, n, NULL), OVICA_EINVAL);
    ck_assert_error(ovica_solver_infer(s, md, NULL, N, m, S, n, NULL), OVICA_EINVAL);
    ck_assert_error(ovica_solver_infer(s, md, X, N, m, NULL, n, NULL), OVICA_EINVAL);
    ck_assert_error(ovica_solver_infer(s, md, X, 0, m, S, n, NULL), OVICA_EINVAL);
    ck_assert_error(ovica_solver_infer(s, md, X, N, m + 1, S, n, NULL), OVICA_ESIZE);
    ck_assert_error(ovica_solver_infer(s, md, X, N, m, S, n - 1, NULL), OVICA_ESIZE);
    ovica_infer_stats bad = OVICA_INFER_STATS_INIT;
    bad.version = 77;
    ck_assert_error(ovica_solver_infer(s, md, X, N, m, S, n, &bad), OVICA_EVERSION);
    X[7] = NAN;
    ck_assert_error(ovica_solver_infer(s, md, X, N, m, S, n, NULL), OVICA_ENONFINITE);
    ck_assert_ptr_nonnull(strstr(ovica_error_message(), "row 2"));
    X[7] = INFINITY;
    ck_assert_error(ovica_solver_infer(s, md, X, N, m, S, n, NULL), OVICA_ENONFINITE);
    X[7] = 0.25;
    /* still usable after all of that */
    ovica_infer_stats st = OVICA_INFER_STATS_INIT;
    ck_assert_status(ovica_solver_infer(s, md, X, N, m, S, n, &st), OVICA_OK);
    ck_assert_double_le(st.violation, 1e-5);
    /* the model refuses a NaN basis and keeps its own */
    double B[15];
    memcpy(B, A, sizeof B);
    B[4] = NAN;
    ck_assert_error(ovica_model_set_basis(md, B, m, n), OVICA_ENONFINITE);
    ck_assert_status(ovica_model_get_basis(md, B, m, n), OVICA_OK);
    ck_assert_double_le(tu_max_abs_diff(A, B, 15), 0.0);
    ovica_solver_free(s);
    ovica_model_free(md);
}
END_TEST

/* ---- the active-set solver ---- */

/* Reference codes: FISTA run to a tight tolerance. */
static void fista_reference(const ovica_model *md, const double *X, size_t N, double *S)
{
    ovica_solver *f = make_solver(ovica_solver_fista, 1e-13, 2000000);
    ck_assert_status(ovica_solver_infer(f, md, X, N, ovica_model_dim(md), S,
                                        ovica_model_atoms(md), NULL), OVICA_OK);
    ovica_solver_free(f);
}

/* Runs the active-set solver (tol 1e-11) and checks it against FISTA: the
 * mean objective to 1e-9 relative, the optimality condition to 1e-10 / b,
 * the domain, and the stats. Returns the rounds it took. */
static size_t active_vs_fista(const ovica_model *md, const double *X, size_t N, double b,
                              double *S_io, int warm)
{
    const size_t m = ovica_model_dim(md), n = ovica_model_atoms(md);
    double *Sf = malloc(N * n * sizeof *Sf);
    fista_reference(md, X, N, Sf);
    ovica_solver *a = make_solver(ovica_solver_active, 1e-11, 1000);
    ck_assert_status(ovica_solver_set_param(a, OVICA_SOLVER_WARM_START, warm), OVICA_OK);
    ovica_infer_stats st = OVICA_INFER_STATS_INIT;
    ck_assert_status(ovica_solver_infer(a, md, X, N, m, S_io, n, &st), OVICA_OK);
    ck_assert_uint_eq(st.converged, N);
    double oa = 0.0, of = 0.0, worst = -1.0;
    ck_assert_status(ovica_model_objective(md, X, N, m, S_io, n, NULL, &oa), OVICA_OK);
    ck_assert_status(ovica_model_objective(md, X, N, m, Sf, n, NULL, &of), OVICA_OK);
    ck_assert_status(ovica_model_optimality(md, X, N, m, S_io, n, &worst), OVICA_OK);
    ck_assert_msg(fabs(oa - of) <= 1e-9 * fabs(of) + 1e-12,
                  "m=%zu n=%zu: active objective %.15g, fista %.15g", m, n, oa, of);
    /* the exact solver is never worse than FISTA beyond rounding */
    ck_assert_msg(oa <= of + 1e-12 * fabs(of), "active %.17g above fista %.17g", oa, of);
    ck_assert_msg(worst <= 1e-10 / b, "m=%zu n=%zu: optimality violation %g", m, n, worst);
    ck_assert_double_eq_tol(st.objective, oa, 1e-12 * fabs(oa) + 1e-12);
    ck_assert_double_le(st.violation, 1e-10 / b);
    if (ovica_prior_domain(ovica_model_prior(md)) == OVICA_DOMAIN_NONNEG)
        for (size_t i = 0; i < N * n; i++) ck_assert_double_ge(S_io[i], 0.0);
    ovica_solver_free(a);
    free(Sf);
    return st.iterations;
}

/* Shapes (m, n): overcomplete, complete, m > n; sigma and b chosen so that
 * codes are sparse but not trivial. _i = shape * 2 + prior. */
START_TEST(test_active_matches_fista)
{
    static const size_t shapes[][2] = {{8, 16}, {16, 32}, {12, 48}, {10, 10}, {12, 5}, {24, 64}};
    const size_t m = shapes[_i / 2][0], n = shapes[_i / 2][1], N = 60;
    const int kind = _i % 2;
    const double sigma = 0.3, b = 0.5;
    tu_rng r;
    tu_seed(&r, 500 + (uint64_t)_i);
    double *A = malloc(m * n * sizeof *A), *X = malloc(N * m * sizeof *X),
           *S = malloc(N * n * sizeof *S);
    tu_fill_normal(&r, A, m * n, 1.0 / sqrt((double)m));
    tu_fill_normal(&r, X, N * m, 1.0);
    ovica_model *md = make_model(m, n, A, kind, b, sigma);
    active_vs_fista(md, X, N, b, S, 0);
    size_t nz = 0;
    for (size_t i = 0; i < N * n; i++) nz += S[i] != 0.0;
    ck_assert_uint_gt(nz, 0);
    ovica_model_free(md);
    free(A); free(X); free(S);
}
END_TEST

/* Small noise: supports reach rank m (n > m), so columns become dependent
 * and the null-space pivot is needed. */
START_TEST(test_active_full_rank_supports)
{
    const int kind = _i;
    const size_t m = 6, n = 24, N = 40;
    const double sigma = 0.03, b = 1.0;
    tu_rng r;
    tu_seed(&r, 77 + (uint64_t)kind);
    double *A = malloc(m * n * sizeof *A), *X = malloc(N * m * sizeof *X),
           *S = malloc(N * n * sizeof *S);
    tu_fill_normal(&r, A, m * n, 1.0 / sqrt((double)m));
    tu_fill_normal(&r, X, N * m, 1.0);
    ovica_model *md = make_model(m, n, A, kind, b, sigma);
    active_vs_fista(md, X, N, b, S, 0);
    size_t full = 0;
    for (size_t k = 0; k < N; k++) {
        size_t nz = 0;
        for (size_t j = 0; j < n; j++) nz += S[k * n + j] != 0.0;
        ck_assert_uint_le(nz, m);
        full += nz == m;
    }
    if (kind == OVICA_PRIOR_LAPLACE) ck_assert_uint_gt(full, 0);
    ovica_model_free(md);
    free(A); free(X); free(S);
}
END_TEST

/* Zero samples, duplicate and opposite atoms, a zero atom. */
START_TEST(test_active_degenerate)
{
    const int kind = _i;
    const size_t m = 8, n = 20, N = 30;
    const double sigma = 0.2, b = 0.5;
    tu_rng r;
    tu_seed(&r, 31 + (uint64_t)kind);
    double *A = malloc(m * n * sizeof *A), *X = malloc(N * m * sizeof *X),
           *S = malloc(N * n * sizeof *S);
    tu_fill_normal(&r, A, m * n, 1.0 / sqrt((double)m));
    for (size_t i = 0; i < m; i++) {
        A[i * n + 5] = A[i * n + 2];   /* duplicate */
        A[i * n + 9] = A[i * n + 2];   /* and a third copy */
        A[i * n + 7] = -A[i * n + 4];  /* opposite */
        A[i * n + 11] = 0.0;           /* zero atom */
    }
    tu_fill_normal(&r, X, N * m, 1.0);
    /* make samples that are (almost) one of the duplicated atoms */
    for (size_t k = 0; k < 5; k++)
        for (size_t i = 0; i < m; i++) X[k * m + i] = 2.0 * A[i * n + 2] + 0.01 * X[k * m + i];
    for (size_t i = 0; i < m; i++) {
        X[10 * m + i] = 0.0; /* all-zero samples */
        X[20 * m + i] = 0.0;
    }
    ovica_model *md = make_model(m, n, A, kind, b, sigma);
    active_vs_fista(md, X, N, b, S, 0);
    for (size_t j = 0; j < n; j++) {
        ck_assert_double_eq(S[10 * n + j], 0.0);
        ck_assert_double_eq(S[20 * n + j], 0.0);
    }
    for (size_t k = 0; k < N; k++) ck_assert_double_eq(S[k * n + 11], 0.0);
    /* a warm start that uses all three copies and the zero atom: the
     * solver still reaches the optimum */
    for (size_t k = 0; k < N; k++) {
        S[k * n + 2] = S[k * n + 5] = S[k * n + 9] = 0.3;
        S[k * n + 11] = 0.7;
    }
    active_vs_fista(md, X, N, b, S, 1);
    ovica_model_free(md);
    free(A); free(X); free(S);
}
END_TEST

START_TEST(test_active_warm_start)
{
    const int kind = _i;
    const size_t m = 16, n = 48, N = 80;
    const double sigma = 0.25, b = 0.5;
    tu_rng r;
    tu_seed(&r, 900 + (uint64_t)kind);
    double *A = malloc(m * n * sizeof *A), *X = malloc(N * m * sizeof *X),
           *S = malloc(N * n * sizeof *S), *S2 = malloc(N * n * sizeof *S2);
    tu_fill_normal(&r, A, m * n, 1.0 / sqrt((double)m));
    tu_fill_normal(&r, X, N * m, 1.0);
    ovica_model *md = make_model(m, n, A, kind, b, sigma);
    size_t cold = active_vs_fista(md, X, N, b, S, 0);
    /* from the solution itself: one round, unchanged */
    memcpy(S2, S, N * n * sizeof *S);
    ovica_solver *a = make_solver(ovica_solver_active, 1e-11, 1000);
    ck_assert_status(ovica_solver_set_param(a, OVICA_SOLVER_WARM_START, 1), OVICA_OK);
    ovica_infer_stats st = OVICA_INFER_STATS_INIT;
    ck_assert_status(ovica_solver_infer(a, md, X, N, m, S2, n, &st), OVICA_OK);
    ck_assert_uint_eq(st.iterations, 1);
    ck_assert_double_le(tu_max_abs_diff(S, S2, N * n), 0.0);
    /* from a perturbed solution (some wrong signs, some extra atoms) and
     * from a random point (negative values are projected for exponential) */
    for (size_t i = 0; i < N * n; i++) S2[i] = S[i] + (i % 7 == 0 ? 0.3 * tu_normal(&r) : 0.0);
    size_t warm = active_vs_fista(md, X, N, b, S2, 1);
    ck_assert_uint_le(warm, cold + 2);
    tu_fill_normal(&r, S2, N * n, 1.0);
    active_vs_fista(md, X, N, b, S2, 1);
    /* a NaN in the warm start is refused */
    S2[5] = NAN;
    ck_assert_error(ovica_solver_infer(a, md, X, N, m, S2, n, NULL), OVICA_ENONFINITE);
    ovica_solver_free(a);
    ovica_model_free(md);
    free(A); free(X); free(S); free(S2);
}
END_TEST

/* Round limit: NOT_CONVERGED with a usable, finite S; auto = active for
 * the built-in priors (identical codes). */
START_TEST(test_active_limits_and_auto)
{
    const size_t m = 16, n = 64, N = 50;
    tu_rng r;
    tu_seed(&r, 4242);
    double *A = malloc(m * n * sizeof *A), *X = malloc(N * m * sizeof *X),
           *S = malloc(N * n * sizeof *S), *S2 = malloc(N * n * sizeof *S2);
    tu_fill_normal(&r, A, m * n, 1.0 / sqrt((double)m));
    tu_fill_normal(&r, X, N * m, 1.0);
    ovica_model *md = make_model(m, n, A, OVICA_PRIOR_LAPLACE, 1.0, 0.1);
    ovica_solver *a = make_solver(ovica_solver_active, 1e-10, 1);
    ovica_infer_stats st = OVICA_INFER_STATS_INIT;
    ck_assert_status(ovica_solver_infer(a, md, X, N, m, S, n, &st), OVICA_NOT_CONVERGED);
    ck_assert_uint_eq(st.iterations, 1);
    ck_assert_uint_lt(st.converged, N);
    for (size_t i = 0; i < N * n; i++) ck_assert(isfinite(S[i]));
    ck_assert_status(ovica_solver_set_param(a, OVICA_SOLVER_MAX_ITER, 1000), OVICA_OK);
    ck_assert_status(ovica_solver_infer(a, md, X, N, m, S, n, &st), OVICA_OK);
    ovica_solver *au = make_solver(ovica_solver_auto, 1e-10, 1000);
    ck_assert_ptr_eq(ovica_solver_get_type(au), ovica_solver_auto);
    ovica_infer_stats st2 = OVICA_INFER_STATS_INIT;
    ck_assert_status(ovica_solver_infer(au, md, X, N, m, S2, n, &st2), OVICA_OK);
    ck_assert_double_le(tu_max_abs_diff(S, S2, N * n), 0.0);
    ck_assert_uint_eq(st.iterations, st2.iterations);
    ovica_solver_free(a);
    ovica_solver_free(au);
    ovica_model_free(md);
    free(A); free(X); free(S); free(S2);
}
END_TEST

/* User priors: active refuses (ENOTSUP), auto falls back to FISTA (prox) or
 * the projected gradient (no prox); names and lookup. */
START_TEST(test_active_user_prior_and_names)
{
    const size_t m = 10, n = 20, N = 30;
    const double sigma = 0.4, b = 0.7;
    tu_rng r;
    tu_seed(&r, 1234);
    double *A = malloc(m * n * sizeof *A), *X = malloc(N * m * sizeof *X);
    double *S1 = malloc(N * n * sizeof *S1), *S2 = malloc(N * n * sizeof *S2);
    tu_fill_normal(&r, A, m * n, 0.3);
    tu_fill_normal(&r, X, N * m, 1.0);
    lap_user u = {b, 0, 0};
    ovica_prior_callbacks cb = OVICA_PRIOR_CALLBACKS_INIT;
    cb.neglogp = u_neglogp;
    cb.grad = u_grad;
    cb.prox = u_prox;
    ovica_prior *up = NULL;
    ck_assert_status(ovica_prior_user_new(&up, &cb, &u), OVICA_OK);
    ovica_model *user = NULL;
    ck_assert_status(ovica_model_new(&user, m, n, up, sigma), OVICA_OK);
    ck_assert_status(ovica_model_set_basis(user, A, m, n), OVICA_OK);
    ovica_solver *a = make_solver(ovica_solver_active, 1e-10, 100);
    ck_assert_error(ovica_solver_infer(a, user, X, N, m, S1, n, NULL), OVICA_ENOTSUP);
    ck_assert_ptr_nonnull(strstr(ovica_error_message(), "built-in"));
    /* auto with a prox: FISTA's answer, and it agrees with the exact
     * solver on the equivalent built-in model */
    ovica_solver *au = make_solver(ovica_solver_auto, 1e-12, 200000);
    ck_assert_status(ovica_solver_infer(au, user, X, N, m, S1, n, NULL), OVICA_OK);
    ovica_model *builtin = make_model(m, n, A, OVICA_PRIOR_LAPLACE, b, sigma);
    ck_assert_status(ovica_solver_infer(a, builtin, X, N, m, S2, n, NULL), OVICA_OK);
    double o1 = 0.0, o2 = 0.0;
    ck_assert_status(ovica_model_objective(builtin, X, N, m, S1, n, NULL, &o1), OVICA_OK);
    ck_assert_status(ovica_model_objective(builtin, X, N, m, S2, n, NULL, &o2), OVICA_OK);
    ck_assert_double_eq_tol(o1, o2, 1e-9 * fabs(o2));
    /* auto without a prox: the projected gradient (runs, no ENOTSUP) */
    cb.prox = NULL;
    ovica_prior *np = NULL;
    ck_assert_status(ovica_prior_user_new(&np, &cb, &u), OVICA_OK);
    ovica_model *noprox = NULL;
    ck_assert_status(ovica_model_new(&noprox, m, n, np, sigma), OVICA_OK);
    ck_assert_status(ovica_model_set_basis(noprox, A, m, n), OVICA_OK);
    ck_assert_status(ovica_solver_set_param(au, OVICA_SOLVER_MAX_ITER, 20), OVICA_OK);
    int st = ovica_solver_infer(au, noprox, X, N, m, S1, n, NULL);
    ck_assert(st == OVICA_OK || st == OVICA_NOT_CONVERGED);
    ck_assert_ptr_eq(ovica_solver_type_find("active"), ovica_solver_active);
    ck_assert_ptr_eq(ovica_solver_type_find("auto"), ovica_solver_auto);
    ck_assert_str_eq(ovica_solver_type_name(ovica_solver_active), "active");
    ck_assert_str_eq(ovica_solver_type_name(ovica_solver_auto), "auto");
    /* bad input through the active path */
    ck_assert_error(ovica_solver_infer(a, builtin, X, N, m + 1, S2, n, NULL), OVICA_ESIZE);
    X[3] = NAN;
    ck_assert_error(ovica_solver_infer(a, builtin, X, N, m, S2, n, NULL), OVICA_ENONFINITE);
    X[3] = 0.5;
    ovica_infer_stats bad = OVICA_INFER_STATS_INIT;
    bad.version = 9;
    ck_assert_error(ovica_solver_infer(a, builtin, X, N, m, S2, n, &bad), OVICA_EVERSION);
    ck_assert_status(ovica_solver_infer(a, builtin, X, N, m, S2, n, NULL), OVICA_OK);
    ovica_solver_free(a);
    ovica_solver_free(au);
    ovica_model_free(user);
    ovica_model_free(noprox);
    ovica_model_free(builtin);
    ovica_prior_free(up);
    ovica_prior_free(np);
    free(A); free(X); free(S1); free(S2);
}
END_TEST

/* Threads: the per-sample work spread over 2, 3 and 8 threads gives the
 * same codes, bit for bit, and the same stats as one thread (cold and warm
 * starts; a batch of several row blocks, with n large enough that a block
 * is smaller than the batch; fewer samples than threads' chunks), and the
 * threaded result passes the check against FISTA. _i = prior. */
START_TEST(test_active_threads)
{
    const int kind = _i;
    static const size_t shapes[][3] = {{16, 48, 300}, {12, 600, 480}, {8, 20, 5}};
    for (size_t sh = 0; sh < 3; sh++) {
        const size_t m = shapes[sh][0], n = shapes[sh][1], N = shapes[sh][2];
        const double sigma = 0.3, b = 0.5;
        tu_rng r;
        tu_seed(&r, 7000 + (uint64_t)kind * 10 + sh);
        double *A = malloc(m * n * sizeof *A), *X = malloc(N * m * sizeof *X);
        double *S1 = malloc(N * n * sizeof *S1), *S2 = malloc(N * n * sizeof *S2);
        tu_fill_normal(&r, A, m * n, 1.0 / sqrt((double)m));
        tu_fill_normal(&r, X, N * m, 1.0);
        ovica_model *md = make_model(m, n, A, kind, b, sigma);
        for (int warm = 0; warm < 2; warm++) {
            ovica_infer_stats st1 = OVICA_INFER_STATS_INIT;
            ovica_solver *a1 = make_solver(ovica_solver_active, 1e-11, 1000);
            if (warm) {
                /* start from the cold solution, perturbed */
                for (size_t i = 0; i < N * n; i++)
                    S1[i] += i % 5 == 0 ? 0.2 * tu_normal(&r) : 0.0;
                ck_assert_status(ovica_solver_set_param(a1, OVICA_SOLVER_WARM_START, 1), OVICA_OK);
            }
            memcpy(S2, S1, N * n * sizeof *S1);
            double *S0 = malloc(N * n * sizeof *S0);
            memcpy(S0, S1, N * n * sizeof *S0);
            ck_assert_status(ovica_solver_infer(a1, md, X, N, m, S1, n, &st1), OVICA_OK);
            static const double nth[] = {2.0, 3.0, 8.0};
            for (size_t t = 0; t < 3; t++) {
                ovica_solver *a2 = make_solver(ovica_solver_active, 1e-11, 1000);
                ck_assert_status(ovica_solver_set_param(a2, OVICA_SOLVER_THREADS, nth[t]), OVICA_OK);
                ck_assert_status(ovica_solver_set_param(a2, OVICA_SOLVER_WARM_START, warm), OVICA_OK);
                memcpy(S2, S0, N * n * sizeof *S0);
                ovica_infer_stats st2 = OVICA_INFER_STATS_INIT;
                ck_assert_status(ovica_solver_infer(a2, md, X, N, m, S2, n, &st2), OVICA_OK);
                ck_assert_msg(memcmp(S1, S2, N * n * sizeof *S1) == 0,
                              "m=%zu n=%zu N=%zu warm=%d: %g threads give other codes "
                              "(max diff %g)", m, n, N, warm, nth[t],
                              tu_max_abs_diff(S1, S2, N * n));
                ck_assert_uint_eq(st1.iterations, st2.iterations);
                ck_assert_uint_eq(st1.converged, st2.converged);
                ck_assert(st1.objective == st2.objective);
                /* the handle is reused: a second call gives the same again */
                memcpy(S2, S0, N * n * sizeof *S0);
                ck_assert_status(ovica_solver_infer(a2, md, X, N, m, S2, n, NULL), OVICA_OK);
                ck_assert(memcmp(S1, S2, N * n * sizeof *S1) == 0);
                ovica_solver_free(a2);
            }
            free(S0);
            ovica_solver_free(a1);
        }
        double worst = -1.0;
        ck_assert_status(ovica_model_optimality(md, X, N, m, S1, n, &worst), OVICA_OK);
        ck_assert_double_le(worst, 1e-10 / b);
        ovica_model_free(md);
        free(A); free(X); free(S1); free(S2);
    }
}
END_TEST

START_TEST(test_closed_form_active)
{
    closed_form_case(3, _i % 2, _i < 2 ? 8 : 12, _i < 2 ? 8 : 5, 0);
}
END_TEST

/* ---- single precision (ovica_solver_infer_f32) ---- */

static float *to_float(const double *x, size_t len)
{
    float *f = malloc(len * sizeof *f);
    ck_assert_ptr_nonnull(f);
    for (size_t i = 0; i < len; i++) f[i] = (float)x[i];
    return f;
}

static double max_diff_f(const float *a, const double *b, size_t len)
{
    double w = 0.0;
    for (size_t i = 0; i < len; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (d > w) w = d;
    }
    return w;
}

/* The single-precision ISTA/FISTA (loop: prior x form x type) against the
 * same type in double with the same settings, on a sparse problem: the
 * float codes' objective is as close to the exact one (the active-set
 * solver's) as the double codes' (within 2x, or 1e-6 relative), and so is
 * their optimality violation. The active-set solver in single precision
 * reaches the exact objective to 1e-7 relative and the exact codes to float
 * rounding. The projected
 * gradient goes through double: its float codes are the double codes
 * rounded, bit for bit. _i: bit 0 prior, bit 1 Gram form, bit 2 ISTA. */
START_TEST(test_f32_matches_double)
{
    const int kind = (_i & 1) ? OVICA_PRIOR_LAPLACE : OVICA_PRIOR_EXPONENTIAL;
    tu_sparse p;
    tu_sparse_make(&p, 4000 + (uint64_t)_i, 32, 96, 200, 0.05, 0.01);
    ovica_model *md = make_model(p.m, p.n, p.A, kind, 1.0, 0.05);
    const size_t N = p.N, m = p.m, n = p.n, Nn = N * n;
    double *Sd = malloc(Nn * sizeof *Sd), *Sa = malloc(Nn * sizeof *Sa);
    float *Sf = malloc(Nn * sizeof *Sf), *Xf = to_float(p.X, N * m);
    double *Xr = malloc(N * m * sizeof *Xr);
    ck_assert(Sd && Sa && Sf && Xr);
    for (size_t i = 0; i < N * m; i++) Xr[i] = (double)Xf[i];
    ovica_infer_stats se = OVICA_INFER_STATS_INIT, sd = OVICA_INFER_STATS_INIT,
                      sf = OVICA_INFER_STATS_INIT;
    ovica_solver *ex = make_solver(ovica_solver_active, 1e-8, 300);
    ck_assert_status(ovica_solver_infer(ex, md, Xr, N, m, Sa, n, &se), OVICA_OK);

    /* the float floor of the tolerance (16 epsilons), for both */
    ovica_solver *s = make_solver((_i & 4) ? ovica_solver_ista : ovica_solver_fista, 2e-6, 1000);
    ck_assert_status(ovica_solver_set_param(s, OVICA_SOLVER_FORM, (_i & 2) ? 2 : 1), OVICA_OK);
    int rd = ovica_solver_infer(s, md, Xr, N, m, Sd, n, &sd);
    int rf = ovica_solver_infer_f32(s, md, Xf, N, m, Sf, n, &sf);
    ck_assert(rd == OVICA_OK || rd == OVICA_NOT_CONVERGED);
    ck_assert(rf == OVICA_OK || rf == OVICA_NOT_CONVERGED);
    ck_assert_uint_gt(sf.iterations, 1);
    ck_assert_uint_ge(sf.converged + N / 20, sd.converged);
    const double gap_d = (sd.objective - se.objective) / se.objective;
    const double gap_f = (sf.objective - se.objective) / se.objective;
    ck_assert_msg(gap_f >= -1e-7 && gap_f <= fmax(2.0 * gap_d, 1e-6),
                  "float objective gap %g, double %g", gap_f, gap_d);
    ck_assert_msg(sf.violation <= 2.0 * sd.violation + 1e-3, "violation %g against %g",
                  sf.violation, sd.violation);
    if (kind == OVICA_PRIOR_EXPONENTIAL)
        for (size_t i = 0; i < Nn; i++) ck_assert(Sf[i] >= 0.0f);

    /* the active-set solver in single precision */
    ovica_solver *a = make_solver(ovica_solver_active, 1e-8, 300);
    ovica_infer_stats sa = OVICA_INFER_STATS_INIT;
    int ra = ovica_solver_infer_f32(a, md, Xf, N, m, Sf, n, &sa);
    ck_assert(ra == OVICA_OK || ra == OVICA_NOT_CONVERGED);
    ck_assert_uint_ge(sa.converged, N - N / 50);
    const double gap_a = (sa.objective - se.objective) / se.objective;
    ck_assert_msg(fabs(gap_a) <= 1e-7, "active float objective gap %g", gap_a);
    /* (the code differences are float rounding times the conditioning of
     * the supports' Gram matrices: 2e-5 to 8e-4 here) */
    ck_assert_msg(max_diff_f(Sf, Sa, Nn) <= 5e-3, "active float codes differ by %g",
                  max_diff_f(Sf, Sa, Nn));
    ovica_solver_free(a);

    /* the projected gradient has no float iteration: the double codes, rounded */
    ovica_solver *c = make_solver(ovica_solver_pg, 1e-8, 300);
    int want = ovica_solver_infer(c, md, Xr, N, m, Sd, n, NULL);
    ck_assert_int_eq(ovica_solver_infer_f32(c, md, Xf, N, m, Sf, n, NULL), want);
    for (size_t i = 0; i < Nn; i++) ck_assert(Sf[i] == (float)Sd[i]);
    ovica_solver_free(c);
    ovica_solver_free(s);
    ovica_solver_free(ex);
    ovica_model_free(md);
    free(Sd);
    free(Sa);
    free(Sf);
    free(Xf);
    free(Xr);
    tu_sparse_free(&p);
}
END_TEST

/* A batch of more rows than one block of the float path (8192), with a
 * warm start: the active-set solver's float codes are the exact ones to
 * float rounding, every sample converges, and the statistics cover the
 * whole batch. */
START_TEST(test_f32_blocks_and_warm_start)
{
    tu_sparse p;
    tu_sparse_make(&p, 4100, 6, 12, 9000, 0.2, 0.01);
    ck_assert_status(ovica_model_set_basis(p.model, p.A, p.m, p.n), OVICA_OK);
    const size_t N = p.N, m = p.m, n = p.n;
    float *Xf = to_float(p.X, N * m), *Sf = calloc(N * n, sizeof *Sf);
    double *Xr = malloc(N * m * sizeof *Xr), *Sd = malloc(N * n * sizeof *Sd);
    ck_assert(Sf && Xr && Sd);
    for (size_t i = 0; i < N * m; i++) Xr[i] = (double)Xf[i];
    ovica_solver *a = make_solver(ovica_solver_active, 1e-8, 300);
    ovica_infer_stats st = OVICA_INFER_STATS_INIT, sd = OVICA_INFER_STATS_INIT;
    ck_assert_status(ovica_solver_infer_f32(a, p.model, Xf, N, m, Sf, n, &st), OVICA_OK);
    ck_assert_status(ovica_solver_infer(a, p.model, Xr, N, m, Sd, n, &sd), OVICA_OK);
    ck_assert_uint_eq(st.converged, N);
    ck_assert_double_le(max_diff_f(Sf, Sd, N * n), 2e-2); /* (m = 6: 3e-3) */
    ck_assert_double_le(fabs(st.objective - sd.objective), 1e-6 * fabs(sd.objective));
    /* the float floor, 1e-6 (mu + max|a_j| ||x||), times 1 / sigma^2 */
    ck_assert_double_le(st.violation, 5e-3);
    /* FISTA warm-started at the exact codes stops at once and stays there */
    ovica_solver *f = make_solver(ovica_solver_fista, 1e-6, 1000);
    ck_assert_status(ovica_solver_set_param(f, OVICA_SOLVER_WARM_START, 1), OVICA_OK);
    ovica_infer_stats sw = OVICA_INFER_STATS_INIT;
    ck_assert_status(ovica_solver_infer_f32(f, p.model, Xf, N, m, Sf, n, &sw), OVICA_OK);
    ck_assert_uint_eq(sw.converged, N);
    ck_assert_uint_le(sw.iterations, 50);
    ck_assert_double_le(max_diff_f(Sf, Sd, N * n), 2e-2);
    ovica_solver_free(a);
    ovica_solver_free(f);
    free(Xf);
    free(Sf);
    free(Xr);
    free(Sd);
    tu_sparse_free(&p);
}
END_TEST

START_TEST(test_f32_bad_input)
{
    const size_t m = 3, n = 5, N = 4;
    double A[15], Xd[12];
    float X[12], S[20];
    tu_rng r;
    tu_seed(&r, 3);
    tu_fill_normal(&r, A, 15, 1.0);
    tu_fill_normal(&r, Xd, 12, 1.0);
    for (int i = 0; i < 12; i++) X[i] = (float)Xd[i];
    ovica_model *md = make_model(m, n, NULL, OVICA_PRIOR_LAPLACE, 1.0, 0.5);
    ovica_solver *s = make_solver(ovica_solver_fista, 1e-6, 1000);
    ck_assert_error(ovica_solver_infer_f32(s, md, X, N, m, S, n, NULL), OVICA_EINVAL);
    ck_assert_status(ovica_model_set_basis(md, A, m, n), OVICA_OK);
    ck_assert_error(ovica_solver_infer_f32(NULL, md, X, N, m, S, n, NULL), OVICA_EINVAL);
    ck_assert_error(ovica_solver_infer_f32(s, NULL, X, N, m, S, n, NULL), OVICA_EINVAL);
    ck_assert_error(ovica_solver_infer_f32(s, md, NULL, N, m, S, n, NULL), OVICA_EINVAL);
    ck_assert_error(ovica_solver_infer_f32(s, md, X, N, m, NULL, n, NULL), OVICA_EINVAL);
    ck_assert_error(ovica_solver_infer_f32(s, md, X, 0, m, S, n, NULL), OVICA_EINVAL);
    ck_assert_error(ovica_solver_infer_f32(s, md, X, N, m + 1, S, n, NULL), OVICA_ESIZE);
    ck_assert_error(ovica_solver_infer_f32(s, md, X, N, m, S, n + 1, NULL), OVICA_ESIZE);
    ovica_infer_stats bad = OVICA_INFER_STATS_INIT;
    bad.version = 77;
    ck_assert_error(ovica_solver_infer_f32(s, md, X, N, m, S, n, &bad), OVICA_EVERSION);
    X[7] = NAN;
    ck_assert_error(ovica_solver_infer_f32(s, md, X, N, m, S, n, NULL), OVICA_ENONFINITE);
    ck_assert_ptr_nonnull(strstr(ovica_error_message(), "row 2"));
    X[7] = -INFINITY;
    ck_assert_error(ovica_solver_infer_f32(s, md, X, N, m, S, n, NULL), OVICA_ENONFINITE);
    X[7] = 0.25f;
    for (int i = 0; i < 20; i++) S[i] = 0.0f;
    S[3] = NAN;
    ck_assert_status(ovica_solver_set_param(s, OVICA_SOLVER_WARM_START, 1), OVICA_OK);
    ck_assert_error(ovica_solver_infer_f32(s, md, X, N, m, S, n, NULL), OVICA_ENONFINITE);
    ck_assert_ptr_nonnull(strstr(ovica_error_message(), "warm start"));
    ck_assert_status(ovica_solver_set_param(s, OVICA_SOLVER_WARM_START, 0), OVICA_OK);
    /* still usable */
    ovica_infer_stats st = OVICA_INFER_STATS_INIT;
    ck_assert_status(ovica_solver_infer_f32(s, md, X, N, m, S, n, &st), OVICA_OK);
    ck_assert_double_le(st.violation, 1e-4);
    ovica_solver_free(s);
    ovica_model_free(md);
}
END_TEST


/* ISTA and FISTA spread their fused pass over OVICA_SOLVER_THREADS: the
 * codes, the counts and the objective are those of one thread, bit for
 * bit, in double and in single precision (shapes: one block, several
 * blocks, fewer samples than a chunk). _i = prior. */
START_TEST(test_first_order_threads)
{
    const int kind = _i;
    static const size_t shapes[][3] = {{16, 48, 300}, {12, 600, 480}, {8, 20, 5}};
    for (size_t sh = 0; sh < 3; sh++) {
        const size_t m = shapes[sh][0], n = shapes[sh][1], N = shapes[sh][2];
        tu_rng r;
        tu_seed(&r, 7100 + (uint64_t)kind * 10 + sh);
        double *A = malloc(m * n * sizeof *A), *X = malloc(N * m * sizeof *X);
        double *S1 = malloc(N * n * sizeof *S1), *S2 = malloc(N * n * sizeof *S2);
        float *F1 = malloc(N * n * sizeof *F1), *F2 = malloc(N * n * sizeof *F2);
        tu_fill_normal(&r, A, m * n, 1.0 / sqrt((double)m));
        tu_fill_normal(&r, X, N * m, 1.0);
        float *Xf = to_float(X, N * m);
        ovica_model *md = make_model(m, n, A, kind, 0.5, 0.3);
        for (int t = 0; t < 2; t++) {
            const ovica_solver_type *type = t ? ovica_solver_fista : ovica_solver_ista;
            ovica_solver *s1 = make_solver(type, 1e-9, 400), *s2 = make_solver(type, 1e-9, 400);
            ck_assert_status(ovica_solver_set_param(s2, OVICA_SOLVER_THREADS, 3.0), OVICA_OK);
            ovica_infer_stats a = OVICA_INFER_STATS_INIT, b = OVICA_INFER_STATS_INIT;
            int r1 = ovica_solver_infer(s1, md, X, N, m, S1, n, &a);
            ck_assert_int_eq(ovica_solver_infer(s2, md, X, N, m, S2, n, &b), r1);
            ck_assert_msg(memcmp(S1, S2, N * n * sizeof *S1) == 0,
                          "%s m=%zu n=%zu N=%zu: 3 threads give other codes (max diff %g)",
                          ovica_solver_type_name(type), m, n, N, tu_max_abs_diff(S1, S2, N * n));
            ck_assert_uint_eq(a.iterations, b.iterations);
            ck_assert_uint_eq(a.converged, b.converged);
            ck_assert(a.objective == b.objective);
            r1 = ovica_solver_infer_f32(s1, md, Xf, N, m, F1, n, NULL);
            ck_assert_int_eq(ovica_solver_infer_f32(s2, md, Xf, N, m, F2, n, NULL), r1);
            ck_assert(memcmp(F1, F2, N * n * sizeof *F1) == 0);
            ovica_solver_free(s1);
            ovica_solver_free(s2);
        }
        ovica_model_free(md);
        free(A);
        free(X);
        free(Xf);
        free(S1);
        free(S2);
        free(F1);
        free(F2);
    }
}
END_TEST


int main(void)
{
    Suite *s = suite_create("solver");
    TCase *tc = tcase_create("solver");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_closed_form_square, 0, 18);
    tcase_add_loop_test(tc, test_closed_form_tall, 0, 18);
    tcase_add_loop_test(tc, test_overcomplete_agreement, 0, 2);
    tcase_add_test(tc, test_user_prior_matches_builtin);
    tcase_add_test(tc, test_user_prior_without_prox);
    tcase_add_loop_test(tc, test_fused_step_matches_user_prior, 0, 4);
    tcase_add_test(tc, test_warm_start);
    tcase_add_test(tc, test_not_converged_and_restart);
    tcase_add_test(tc, test_params);
    tcase_add_test(tc, test_bad_input);
    tcase_add_loop_test(tc, test_active_matches_fista, 0, 12);
    tcase_add_loop_test(tc, test_active_full_rank_supports, 0, 2);
    tcase_add_loop_test(tc, test_active_degenerate, 0, 2);
    tcase_add_loop_test(tc, test_active_warm_start, 0, 2);
    tcase_add_test(tc, test_active_limits_and_auto);
    tcase_add_test(tc, test_active_user_prior_and_names);
    tcase_add_loop_test(tc, test_closed_form_active, 0, 4);
    tcase_add_loop_test(tc, test_active_threads, 0, 2);
    tcase_add_loop_test(tc, test_f32_matches_double, 0, 8);
    tcase_add_test(tc, test_f32_blocks_and_warm_start);
    tcase_add_test(tc, test_f32_bad_input);
    tcase_add_loop_test(tc, test_first_order_threads, 0, 2);
    suite_add_tcase(s, tc);
    return tu_run(s);
}

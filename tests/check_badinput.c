/* The bad-input matrix: every public entry point called with NULL
 * pointers, zero sizes, mismatched sizes, negative or NaN parameters and
 * NaN/Inf data. Each row states the documented status; the call must
 * return it with a non-empty message, and afterwards every handle of the
 * fixture must still work exactly as before (same parameters, same
 * results, same random stream). Then the numerical faults: all-zero data,
 * duplicate atoms, a zero-norm atom, a rank-deficient basis, sigma tiny
 * (1e-150) and huge (1e150): each works or fails with a clear status, and
 * no output is ever NaN. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "ovica/modelio.h"

enum { M = 3, NA = 5, NS = 6 };

/* ------------------------------------------------------------------------ */
/* Fixture                                                                  */

static struct {
    ovica_prior *lap, *expo, *user, *user_noprox;
    ovica_model *model, *model_expo, *model_user, *model_zero;
    ovica_solver *solver, *ista;
    ovica_sampler *sampler, *sampler_shadow;
    ovica_rng *rng, *rng_shadow;
    double A[M * NA], X[NS * M], Xnan[NS * M], Xinf[NS * M], Snan[NS * NA], Sneg[NS * NA];
    double S[NS * NA], S_ref[NS * NA], D[NS * NA], D2[NS * NA];
    double out[NS * NA];
    char dir[256], npy[300], garbage[300], model_file[300], missing[300];
    unsigned char npy_bytes[512];
    size_t npy_len;
} F;


static int sq_prox(const double *v, size_t n, double t, double *out, void *u)
{
    (void)u;
    for (size_t i = 0; i < n; i++) out[i] = v[i] / (1.0 + t);
    return 0;
}

static void fixture_up(void)
{
    memset(&F, 0, sizeof F);
    tu_rng r;
    tu_seed(&r, 2024);
    tu_fill_normal(&r, F.A, M * NA, 1.0);
    tu_fill_normal(&r, F.X, NS * M, 1.0);
    memcpy(F.Xnan, F.X, sizeof F.X);
    F.Xnan[4] = NAN;
    memcpy(F.Xinf, F.X, sizeof F.X);
    F.Xinf[NS * M - 1] = -INFINITY;
    for (size_t i = 0; i < NS * NA; i++) F.Snan[i] = 0.1;
    F.Snan[3] = NAN;
    for (size_t i = 0; i < NS * NA; i++) F.Sneg[i] = -0.5;
    ck_assert_status(ovica_prior_laplace_new(&F.lap, 0.5), OVICA_OK);
    ck_assert_status(ovica_prior_exponential_new(&F.expo, 0.5), OVICA_OK);
    ovica_prior_callbacks cb = OVICA_PRIOR_CALLBACKS_INIT;
    cb.neglogp = tu_sq_neglogp;
    cb.grad = tu_sq_grad;
    cb.name = "gauss-noprox";
    ck_assert_status(ovica_prior_user_new(&F.user_noprox, &cb, NULL), OVICA_OK);
    cb.prox = sq_prox;
    cb.name = "gauss";
    ck_assert_status(ovica_prior_user_new(&F.user, &cb, NULL), OVICA_OK);
    ck_assert_status(ovica_model_new(&F.model, M, NA, F.lap, 0.2), OVICA_OK);
    ck_assert_status(ovica_model_set_basis(F.model, F.A, M, NA), OVICA_OK);
    ck_assert_status(ovica_model_new(&F.model_expo, M, NA, F.expo, 0.2), OVICA_OK);
    ck_assert_status(ovica_model_set_basis(F.model_expo, F.A, M, NA), OVICA_OK);
    ck_assert_status(ovica_model_new(&F.model_user, M, NA, F.user_noprox, 0.2), OVICA_OK);
    ck_assert_status(ovica_model_set_basis(F.model_user, F.A, M, NA), OVICA_OK);
    ck_assert_status(ovica_model_new(&F.model_zero, M, NA, F.lap, 0.2), OVICA_OK);
    ck_assert_status(ovica_solver_new(&F.solver, ovica_solver_fista), OVICA_OK);
    ck_assert_status(ovica_solver_set_param(F.solver, OVICA_SOLVER_MAX_ITER, 300), OVICA_OK);
    ck_assert_status(ovica_solver_set_param(F.solver, OVICA_SOLVER_TOL, 1e-9), OVICA_OK);
    ck_assert_status(ovica_solver_new(&F.ista, ovica_solver_ista), OVICA_OK);
    int st = ovica_solver_infer(F.solver, F.model, F.X, NS, M, F.S_ref, NA, NULL);
    ck_assert(st == OVICA_OK || st == OVICA_NOT_CONVERGED);
    ck_assert_status(ovica_sampler_new(&F.sampler, 9), OVICA_OK);
    ck_assert_status(ovica_sampler_new(&F.sampler_shadow, 9), OVICA_OK);
    ck_assert_status(ovica_sampler_set_param(F.sampler, OVICA_SAMPLER_NULL_MOVES, 2), OVICA_OK);
    ck_assert_status(ovica_sampler_set_param(F.sampler_shadow, OVICA_SAMPLER_NULL_MOVES, 2),
                     OVICA_OK);
    ck_assert_status(ovica_rng_new(&F.rng, 5), OVICA_OK);
    ck_assert_status(ovica_rng_new(&F.rng_shadow, 5), OVICA_OK);
    snprintf(F.dir, sizeof F.dir, "%s/ovica-bad-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(F.dir));
    snprintf(F.npy, sizeof F.npy, "%s/x.npy", F.dir);
    snprintf(F.garbage, sizeof F.garbage, "%s/garbage.npy", F.dir);
    snprintf(F.model_file, sizeof F.model_file, "%s/m.ovm", F.dir);
    snprintf(F.missing, sizeof F.missing, "%s/no/such/dir/x.npy", F.dir);
    ck_assert_status(ovica_npy_write(F.npy, F.X, NS, M), OVICA_OK);
    ck_assert_status(ovica_model_save(F.model, F.model_file), OVICA_OK);
    FILE *fp = fopen(F.npy, "rb");
    ck_assert_ptr_nonnull(fp);
    F.npy_len = fread(F.npy_bytes, 1, sizeof F.npy_bytes, fp);
    fclose(fp);
    fp = fopen(F.garbage, "wb");
    ck_assert_ptr_nonnull(fp);
    fputs("this is not a .npy file\n", fp);
    fclose(fp);
}

static void fixture_down(void)
{
    ovica_prior_free(F.lap);
    ovica_prior_free(F.expo);
    ovica_prior_free(F.user);
    ovica_prior_free(F.user_noprox);
    ovica_model_free(F.model);
    ovica_model_free(F.model_expo);
    ovica_model_free(F.model_user);
    ovica_model_free(F.model_zero);
    ovica_solver_free(F.solver);
    ovica_solver_free(F.ista);
    ovica_sampler_free(F.sampler);
    ovica_sampler_free(F.sampler_shadow);
    ovica_rng_free(F.rng);
    ovica_rng_free(F.rng_shadow);
    unlink(F.npy);
    unlink(F.garbage);
    unlink(F.model_file);
    rmdir(F.dir);
}

/* After every row: the handles must be as they were and still work. Returns
 * NULL or what is wrong. */
static const char *fixture_intact(void)
{
    static char why[256];
    double b = 0.0, v = 0.0;
    if (memcmp(ovica_model_basis(F.model), F.A, sizeof F.A) != 0) return "the model's basis changed";
    if (ovica_model_sigma(F.model) != 0.2) return "the model's sigma changed";
    if (ovica_prior_kind(ovica_model_prior(F.model)) != OVICA_PRIOR_LAPLACE ||
        ovica_prior_scale(ovica_model_prior(F.model), &b) != OVICA_OK || b != 0.5)
        return "the model's prior changed";
    if (ovica_prior_scale(F.lap, &b) != OVICA_OK || b != 0.5) return "a prior changed";
    const double *zero = ovica_model_basis(F.model_zero);
    for (size_t i = 0; i < M * NA; i++)
        if (zero[i] != 0.0) return "the zero model's basis changed";
    if (ovica_solver_get_param(F.solver, OVICA_SOLVER_MAX_ITER, &v) != OVICA_OK || v != 300)
        return "the solver's MAX_ITER changed";
    if (ovica_solver_get_param(F.solver, OVICA_SOLVER_TOL, &v) != OVICA_OK || v != 1e-9)
        return "the solver's TOL changed";
    if (ovica_solver_get_param(F.solver, OVICA_SOLVER_STEP, &v) != OVICA_OK || v != 1.0)
        return "the solver's STEP changed";
    if (ovica_solver_get_param(F.solver, OVICA_SOLVER_FORM, &v) != OVICA_OK || v != 0.0)
        return "the solver's FORM changed";
    int st = ovica_solver_infer(F.solver, F.model, F.X, NS, M, F.S, NA, NULL);
    if ((st != OVICA_OK && st != OVICA_NOT_CONVERGED) || memcmp(F.S, F.S_ref, sizeof F.S) != 0) {
        snprintf(why, sizeof why, "the solver no longer gives the reference (%d %s)", st,
                 ovica_error_message());
        return why;
    }
    if (ovica_sampler_get_param(F.sampler, OVICA_SAMPLER_NULL_MOVES, &v) != OVICA_OK || v != 2)
        return "the sampler's NULL_MOVES changed";
    if (ovica_sampler_get_param(F.sampler, OVICA_SAMPLER_REFRESH, &v) != OVICA_OK || v != 1)
        return "the sampler's REFRESH changed";
    memcpy(F.D, F.S_ref, sizeof F.D);
    memcpy(F.D2, F.S_ref, sizeof F.D2);
    if (ovica_sampler_run(F.sampler, F.model, 0.2, F.X, NS, M, F.D, NA, 1, NULL) != OVICA_OK ||
        ovica_sampler_run(F.sampler_shadow, F.model, 0.2, F.X, NS, M, F.D2, NA, 1, NULL) !=
            OVICA_OK ||
        memcmp(F.D, F.D2, sizeof F.D) != 0)
        return "the sampler's stream moved (or it failed)";
    if (ovica_rng_u64(F.rng) != ovica_rng_u64(F.rng_shadow))
        return "the generator's stream moved";
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* The rows                                                                  */

typedef struct {
    const char *name;
    int want;
    int (*call)(void);
} row;

/* Statuses of functions that return something else. */
#define ST_NAN_OK 1000     /* a variate function returned NaN as documented */
#define ST_TOUCHED 1001    /* an out-parameter was written on error */

#define R(name, want, ...) static int name(void) { __VA_ARGS__ }

/* prior */
R(p_lap_null, OVICA_EINVAL, return ovica_prior_laplace_new(NULL, 1.0);)
R(p_lap_zero, OVICA_EINVAL, ovica_prior *p = (ovica_prior *)&F; int st = ovica_prior_laplace_new(&p, 0.0); return p == (ovica_prior *)&F ? st : ST_TOUCHED;)
R(p_lap_neg, OVICA_EINVAL, ovica_prior *p = NULL; return ovica_prior_laplace_new(&p, -2.0);)
R(p_lap_nan, OVICA_ENONFINITE, ovica_prior *p = NULL; return ovica_prior_laplace_new(&p, NAN);)
R(p_lap_inf, OVICA_ENONFINITE, ovica_prior *p = NULL; return ovica_prior_laplace_new(&p, INFINITY);)
R(p_exp_null, OVICA_EINVAL, return ovica_prior_exponential_new(NULL, 1.0);)
R(p_exp_zero, OVICA_EINVAL, ovica_prior *p = NULL; return ovica_prior_exponential_new(&p, 0.0);)
R(p_exp_nan, OVICA_ENONFINITE, ovica_prior *p = NULL; return ovica_prior_exponential_new(&p, NAN);)
R(p_user_null_cb, OVICA_EINVAL, ovica_prior *p = NULL; return ovica_prior_user_new(&p, NULL, NULL);)
R(p_user_null_out, OVICA_EINVAL, ovica_prior_callbacks cb = OVICA_PRIOR_CALLBACKS_INIT; cb.neglogp = tu_sq_neglogp; cb.grad = tu_sq_grad; return ovica_prior_user_new(NULL, &cb, NULL);)
R(p_user_no_nlp, OVICA_EINVAL, ovica_prior *p = NULL; ovica_prior_callbacks cb = OVICA_PRIOR_CALLBACKS_INIT; cb.grad = tu_sq_grad; return ovica_prior_user_new(&p, &cb, NULL);)
R(p_user_no_grad, OVICA_EINVAL, ovica_prior *p = NULL; ovica_prior_callbacks cb = OVICA_PRIOR_CALLBACKS_INIT; cb.neglogp = tu_sq_neglogp; return ovica_prior_user_new(&p, &cb, NULL);)
R(p_user_version, OVICA_EVERSION, ovica_prior *p = NULL; ovica_prior_callbacks cb = OVICA_PRIOR_CALLBACKS_INIT; cb.version = 99; cb.neglogp = tu_sq_neglogp; cb.grad = tu_sq_grad; return ovica_prior_user_new(&p, &cb, NULL);)
R(p_user_domain, OVICA_EINVAL, ovica_prior *p = NULL; ovica_prior_callbacks cb = OVICA_PRIOR_CALLBACKS_INIT; cb.domain = 7; cb.neglogp = tu_sq_neglogp; cb.grad = tu_sq_grad; return ovica_prior_user_new(&p, &cb, NULL);)
R(p_clone_null_out, OVICA_EINVAL, return ovica_prior_clone(NULL, F.lap);)
R(p_clone_null, OVICA_EINVAL, ovica_prior *p = NULL; return ovica_prior_clone(&p, NULL);)
R(p_scale_null, OVICA_EINVAL, double b; return ovica_prior_scale(NULL, &b);)
R(p_scale_user, OVICA_ENOTSUP, double b; return ovica_prior_scale(F.user, &b);)
R(p_nlp_null, OVICA_EINVAL, double o; double s[2] = {1, 2}; return ovica_prior_neglogp(NULL, s, 2, &o);)
R(p_nlp_null_s, OVICA_EINVAL, double o; return ovica_prior_neglogp(F.lap, NULL, 2, &o);)
R(p_nlp_domain, OVICA_EDOMAIN, double o; double s[2] = {1, -2}; return ovica_prior_neglogp(F.expo, s, 2, &o);)
R(p_grad_null, OVICA_EINVAL, double s[2] = {1, 2}; return ovica_prior_grad(F.lap, s, 2, NULL);)
R(p_grad_domain, OVICA_EDOMAIN, double s[2] = {1, -2}, g[2]; return ovica_prior_grad(F.expo, s, 2, g);)
R(p_prox_t0, OVICA_EINVAL, double s[2] = {1, 2}, o[2]; return ovica_prior_prox(F.lap, s, 2, 0.0, o);)
R(p_prox_tneg, OVICA_EINVAL, double s[2] = {1, 2}, o[2]; return ovica_prior_prox(F.lap, s, 2, -1.0, o);)
R(p_prox_nan_t, OVICA_ENONFINITE, /* header says EINVAL for t <= 0; NaN follows the ENONFINITE convention */ double s[2] = {1, 2}, o[2]; return ovica_prior_prox(F.lap, s, 2, NAN, o);)
R(p_prox_user, OVICA_ENOTSUP, double s[2] = {1, 2}, o[2]; return ovica_prior_prox(F.user_noprox, s, 2, 1.0, o);)
R(p_curv_null, OVICA_EINVAL, double s[2] = {1, 2}; return ovica_prior_curvature(F.lap, s, 2, NULL);)
R(p_curv_user, OVICA_ENOTSUP, double s[2] = {1, 2}, c[2]; return ovica_prior_curvature(F.user, s, 2, c);)

/* model */
R(m_new_null, OVICA_EINVAL, return ovica_model_new(NULL, M, NA, F.lap, 1.0);)
R(m_new_m0, OVICA_EINVAL, ovica_model *m = (ovica_model *)&F; int st = ovica_model_new(&m, 0, NA, F.lap, 1.0); return m == (ovica_model *)&F ? st : ST_TOUCHED;)
R(m_new_n0, OVICA_EINVAL, ovica_model *m = NULL; return ovica_model_new(&m, M, 0, F.lap, 1.0);)
R(m_new_prior, OVICA_EINVAL, ovica_model *m = NULL; return ovica_model_new(&m, M, NA, NULL, 1.0);)
R(m_new_sigma0, OVICA_EINVAL, ovica_model *m = NULL; return ovica_model_new(&m, M, NA, F.lap, 0.0);)
R(m_new_sigmaneg, OVICA_EINVAL, ovica_model *m = NULL; return ovica_model_new(&m, M, NA, F.lap, -1.0);)
R(m_new_sigmanan, OVICA_ENONFINITE, ovica_model *m = NULL; return ovica_model_new(&m, M, NA, F.lap, NAN);)
R(m_new_sigmainf, OVICA_ENONFINITE, ovica_model *m = NULL; return ovica_model_new(&m, M, NA, F.lap, INFINITY);)
R(m_clone_null_out, OVICA_EINVAL, return ovica_model_clone(NULL, F.model);)
R(m_clone_null, OVICA_EINVAL, ovica_model *m = NULL; return ovica_model_clone(&m, NULL);)
R(m_set_basis_null, OVICA_EINVAL, return ovica_model_set_basis(NULL, F.A, M, NA);)
R(m_set_basis_nullA, OVICA_EINVAL, return ovica_model_set_basis(F.model, NULL, M, NA);)
R(m_set_basis_rows, OVICA_ESIZE, return ovica_model_set_basis(F.model, F.A, M + 1, NA);)
R(m_set_basis_cols, OVICA_ESIZE, return ovica_model_set_basis(F.model, F.A, M, NA - 1);)
R(m_set_basis_swap, OVICA_ESIZE, return ovica_model_set_basis(F.model, F.A, NA, M);)
R(m_set_basis_nan, OVICA_ENONFINITE, double A[M * NA]; memcpy(A, F.A, sizeof A); A[7] = NAN; return ovica_model_set_basis(F.model, A, M, NA);)
R(m_set_basis_inf, OVICA_ENONFINITE, double A[M * NA]; memcpy(A, F.A, sizeof A); A[0] = INFINITY; return ovica_model_set_basis(F.model, A, M, NA);)
R(m_get_basis_null, OVICA_EINVAL, return ovica_model_get_basis(F.model, NULL, M, NA);)
R(m_get_basis_size, OVICA_ESIZE, return ovica_model_get_basis(F.model, F.out, M, NA + 1);)
R(m_set_sigma_null, OVICA_EINVAL, return ovica_model_set_sigma(NULL, 1.0);)
R(m_set_sigma0, OVICA_EINVAL, return ovica_model_set_sigma(F.model, 0.0);)
R(m_set_sigmaneg, OVICA_EINVAL, return ovica_model_set_sigma(F.model, -0.2);)
R(m_set_sigmanan, OVICA_ENONFINITE, return ovica_model_set_sigma(F.model, NAN);)
R(m_set_sigmainf, OVICA_ENONFINITE, return ovica_model_set_sigma(F.model, INFINITY);)
R(m_set_prior_null, OVICA_EINVAL, return ovica_model_set_prior(F.model, NULL);)
R(m_lip_null, OVICA_EINVAL, return ovica_model_lipschitz(F.model, NULL);)
R(m_obj_null, OVICA_EINVAL, double mean; return ovica_model_objective(NULL, F.X, NS, M, F.S_ref, NA, NULL, &mean);)
R(m_obj_nullX, OVICA_EINVAL, double mean; return ovica_model_objective(F.model, NULL, NS, M, F.S_ref, NA, NULL, &mean);)
R(m_obj_nullS, OVICA_EINVAL, double mean; return ovica_model_objective(F.model, F.X, NS, M, NULL, NA, NULL, &mean);)
R(m_obj_N0, OVICA_EINVAL, double mean; return ovica_model_objective(F.model, F.X, 0, M, F.S_ref, NA, NULL, &mean);)
R(m_obj_xdim, OVICA_ESIZE, double mean; return ovica_model_objective(F.model, F.X, NS, M + 1, F.S_ref, NA, NULL, &mean);)
R(m_obj_sdim, OVICA_ESIZE, double mean; return ovica_model_objective(F.model, F.X, NS, M, F.S_ref, NA - 1, NULL, &mean);)
R(m_obj_Xnan, OVICA_ENONFINITE, double mean; return ovica_model_objective(F.model, F.Xnan, NS, M, F.S_ref, NA, NULL, &mean);)
R(m_obj_Snan, OVICA_ENONFINITE, double mean; return ovica_model_objective(F.model, F.X, NS, M, F.Snan, NA, NULL, &mean);)
R(m_obj_domain, OVICA_EDOMAIN, double mean; return ovica_model_objective(F.model_expo, F.X, NS, M, F.Sneg, NA, NULL, &mean);)
R(m_opt_null_out, OVICA_EINVAL, return ovica_model_optimality(F.model, F.X, NS, M, F.S_ref, NA, NULL);)
R(m_opt_Xinf, OVICA_ENONFINITE, double w; return ovica_model_optimality(F.model, F.Xinf, NS, M, F.S_ref, NA, &w);)
R(m_opt_sdim, OVICA_ESIZE, double w; return ovica_model_optimality(F.model, F.X, NS, M, F.S_ref, NA + 1, &w);)

/* solver */
R(s_find_null, OVICA_EINVAL, return ovica_solver_type_find(NULL) == NULL ? ovica_error_last() : 0;)
R(s_find_unknown, OVICA_EINVAL, return ovica_solver_type_find("newton") == NULL ? ovica_error_last() : 0;)
R(s_new_null, OVICA_EINVAL, return ovica_solver_new(NULL, ovica_solver_pg);)
R(s_new_type, OVICA_EINVAL, ovica_solver *s = NULL; return ovica_solver_new(&s, NULL);)
R(s_set_null, OVICA_EINVAL, return ovica_solver_set_param(NULL, OVICA_SOLVER_TOL, 0.1);)
R(s_set_unknown, OVICA_EINVAL, return ovica_solver_set_param(F.solver, 99, 0.1);)
R(s_set_negparam, OVICA_EINVAL, return ovica_solver_set_param(F.solver, -1, 0.1);)
R(s_set_nan, OVICA_ENONFINITE, return ovica_solver_set_param(F.solver, OVICA_SOLVER_TOL, NAN);)
R(s_set_inf, OVICA_ENONFINITE, return ovica_solver_set_param(F.solver, OVICA_SOLVER_MAX_ITER, INFINITY);)
R(s_set_iter0, OVICA_EINVAL, return ovica_solver_set_param(F.solver, OVICA_SOLVER_MAX_ITER, 0);)
R(s_set_tolneg, OVICA_EINVAL, return ovica_solver_set_param(F.solver, OVICA_SOLVER_TOL, -1e-3);)
R(s_set_tolbig, OVICA_EINVAL, return ovica_solver_set_param(F.solver, OVICA_SOLVER_TOL, 2.0);)
R(s_set_step0, OVICA_EINVAL, return ovica_solver_set_param(F.solver, OVICA_SOLVER_STEP, 0.0);)
R(s_set_stepbig, OVICA_EINVAL, return ovica_solver_set_param(F.solver, OVICA_SOLVER_STEP, 1.5);)
R(s_set_form, OVICA_EINVAL, return ovica_solver_set_param(F.solver, OVICA_SOLVER_FORM, 3);)
R(s_get_null_out, OVICA_EINVAL, return ovica_solver_get_param(F.solver, OVICA_SOLVER_TOL, NULL);)
R(s_get_unknown, OVICA_EINVAL, double v; return ovica_solver_get_param(F.solver, 42, &v);)
R(s_bounds_unknown, OVICA_EINVAL, double lo, hi; return ovica_solver_param_bounds(OVICA_SOLVER_THREADS + 1, &lo, &hi);)
R(s_bounds_null, OVICA_EINVAL, double hi; return ovica_solver_param_bounds(0, NULL, &hi);)
R(s_infer_null, OVICA_EINVAL, return ovica_solver_infer(NULL, F.model, F.X, NS, M, F.out, NA, NULL);)
R(s_infer_model, OVICA_EINVAL, return ovica_solver_infer(F.solver, NULL, F.X, NS, M, F.out, NA, NULL);)
R(s_infer_X, OVICA_EINVAL, return ovica_solver_infer(F.solver, F.model, NULL, NS, M, F.out, NA, NULL);)
R(s_infer_S, OVICA_EINVAL, return ovica_solver_infer(F.solver, F.model, F.X, NS, M, NULL, NA, NULL);)
R(s_infer_N0, OVICA_EINVAL, return ovica_solver_infer(F.solver, F.model, F.X, 0, M, F.out, NA, NULL);)
R(s_infer_xdim, OVICA_ESIZE, return ovica_solver_infer(F.solver, F.model, F.X, NS, M - 1, F.out, NA, NULL);)
R(s_infer_sdim, OVICA_ESIZE, return ovica_solver_infer(F.solver, F.model, F.X, NS, M, F.out, NA + 1, NULL);)
R(s_infer_Xnan, OVICA_ENONFINITE, return ovica_solver_infer(F.solver, F.model, F.Xnan, NS, M, F.out, NA, NULL);)
R(s_infer_Xinf, OVICA_ENONFINITE, return ovica_solver_infer(F.solver, F.model, F.Xinf, NS, M, F.out, NA, NULL);)
R(s_infer_version, OVICA_EVERSION, ovica_infer_stats st = OVICA_INFER_STATS_INIT; st.version = 77; return ovica_solver_infer(F.solver, F.model, F.X, NS, M, F.out, NA, &st);)
R(s_infer_noprox, OVICA_ENOTSUP, return ovica_solver_infer(F.ista, F.model_user, F.X, NS, M, F.out, NA, NULL);)
R(s_infer_zero_basis, OVICA_EINVAL, return ovica_solver_infer(F.solver, F.model_zero, F.X, NS, M, F.out, NA, NULL);)
R(s_infer_warm_nan, OVICA_ENONFINITE, ovica_solver *s = NULL; int st = ovica_solver_new(&s, ovica_solver_pg); if (st == 0) st = ovica_solver_set_param(s, OVICA_SOLVER_WARM_START, 1); memcpy(F.out, F.Snan, sizeof F.out); if (st == 0) st = ovica_solver_infer(s, F.model, F.X, NS, M, F.out, NA, NULL); ovica_solver_free(s); return st;)

/* sampler */
R(sp_new_null, OVICA_EINVAL, return ovica_sampler_new(NULL, 1);)
R(sp_set_null, OVICA_EINVAL, return ovica_sampler_set_param(NULL, OVICA_SAMPLER_NULL_MOVES, 1);)
R(sp_set_unknown, OVICA_EINVAL, return ovica_sampler_set_param(F.sampler, 2, 1);)
R(sp_set_nan, OVICA_ENONFINITE, return ovica_sampler_set_param(F.sampler, OVICA_SAMPLER_NULL_MOVES, NAN);)
R(sp_set_moves_neg, OVICA_EINVAL, return ovica_sampler_set_param(F.sampler, OVICA_SAMPLER_NULL_MOVES, -1);)
R(sp_set_moves_big, OVICA_EINVAL, return ovica_sampler_set_param(F.sampler, OVICA_SAMPLER_NULL_MOVES, 1001);)
R(sp_set_refresh0, OVICA_EINVAL, return ovica_sampler_set_param(F.sampler, OVICA_SAMPLER_REFRESH, 0);)
R(sp_get_null, OVICA_EINVAL, return ovica_sampler_get_param(F.sampler, OVICA_SAMPLER_REFRESH, NULL);)
R(sp_get_unknown, OVICA_EINVAL, double v; return ovica_sampler_get_param(F.sampler, -3, &v);)
#define RUN(model, sig, X, N, xd, S, sd, acc) ovica_sampler_run(F.sampler, model, sig, X, N, xd, S, sd, 2, acc)
R(sp_run_null, OVICA_EINVAL, memcpy(F.out, F.S_ref, sizeof F.out); return ovica_sampler_run(NULL, F.model, 0.2, F.X, NS, M, F.out, NA, 1, NULL);)
R(sp_run_model, OVICA_EINVAL, memcpy(F.out, F.S_ref, sizeof F.out); return RUN(NULL, 0.2, F.X, NS, M, F.out, NA, NULL);)
R(sp_run_X, OVICA_EINVAL, memcpy(F.out, F.S_ref, sizeof F.out); return RUN(F.model, 0.2, NULL, NS, M, F.out, NA, NULL);)
R(sp_run_S, OVICA_EINVAL, return RUN(F.model, 0.2, F.X, NS, M, NULL, NA, NULL);)
R(sp_run_N0, OVICA_EINVAL, memcpy(F.out, F.S_ref, sizeof F.out); return RUN(F.model, 0.2, F.X, 0, M, F.out, NA, NULL);)
R(sp_run_xdim, OVICA_ESIZE, memcpy(F.out, F.S_ref, sizeof F.out); return RUN(F.model, 0.2, F.X, NS, M + 2, F.out, NA, NULL);)
R(sp_run_sdim, OVICA_ESIZE, memcpy(F.out, F.S_ref, sizeof F.out); return RUN(F.model, 0.2, F.X, NS, M, F.out, 1, NULL);)
R(sp_run_sigma0, OVICA_EINVAL, memcpy(F.out, F.S_ref, sizeof F.out); return RUN(F.model, 0.0, F.X, NS, M, F.out, NA, NULL);)
R(sp_run_sigmaneg, OVICA_EINVAL, memcpy(F.out, F.S_ref, sizeof F.out); return RUN(F.model, -0.2, F.X, NS, M, F.out, NA, NULL);)
R(sp_run_sigmatiny, OVICA_EINVAL, memcpy(F.out, F.S_ref, sizeof F.out); return RUN(F.model, 1e-200, F.X, NS, M, F.out, NA, NULL);)
R(sp_run_sigmahuge, OVICA_EINVAL, memcpy(F.out, F.S_ref, sizeof F.out); return RUN(F.model, 1e200, F.X, NS, M, F.out, NA, NULL);)
R(sp_run_sigmanan, OVICA_ENONFINITE, memcpy(F.out, F.S_ref, sizeof F.out); return RUN(F.model, NAN, F.X, NS, M, F.out, NA, NULL);)
R(sp_run_sigmainf, OVICA_ENONFINITE, memcpy(F.out, F.S_ref, sizeof F.out); return RUN(F.model, INFINITY, F.X, NS, M, F.out, NA, NULL);)
R(sp_run_Xnan, OVICA_ENONFINITE, memcpy(F.out, F.S_ref, sizeof F.out); return RUN(F.model, 0.2, F.Xnan, NS, M, F.out, NA, NULL);)
R(sp_run_Snan, OVICA_ENONFINITE, memcpy(F.out, F.Snan, sizeof F.out); int st = RUN(F.model, 0.2, F.X, NS, M, F.out, NA, NULL); return memcmp(F.out, F.Snan, sizeof F.out) == 0 || st == 0 ? st : ST_TOUCHED;)
R(sp_run_version, OVICA_EVERSION, ovica_posterior_accum acc = OVICA_POSTERIOR_ACCUM_INIT; acc.version = 0; memcpy(F.out, F.S_ref, sizeof F.out); int st = RUN(F.model, 0.2, F.X, NS, M, F.out, NA, &acc); return memcmp(F.out, F.S_ref, sizeof F.out) == 0 || st == 0 ? st : ST_TOUCHED;)
R(sp_run_user, OVICA_ENOTSUP, memcpy(F.out, F.S_ref, sizeof F.out); return RUN(F.model_user, 0.2, F.X, NS, M, F.out, NA, NULL);)

/* rng */
R(r_new_null, OVICA_EINVAL, return ovica_rng_new(NULL, 1);)
R(r_clone_null_out, OVICA_EINVAL, return ovica_rng_clone(NULL, F.rng);)
R(r_clone_null, OVICA_EINVAL, ovica_rng *r = NULL; return ovica_rng_clone(&r, NULL);)
R(r_seed_null, OVICA_EINVAL, return ovica_rng_seed(NULL, 3);)
R(r_jump_null, OVICA_EINVAL, return ovica_rng_jump(NULL);)
R(r_fill_null_r, OVICA_EINVAL, double x[2]; return ovica_rng_fill_normal(NULL, x, 2);)
R(r_fill_null_x, OVICA_EINVAL, return ovica_rng_fill_normal(F.rng, NULL, 2);)
R(r_expo_zero, ST_NAN_OK, return isnan(ovica_rng_exponential(F.rng, 0.0)) ? ST_NAN_OK : 0;)
R(r_expo_nan, ST_NAN_OK, return isnan(ovica_rng_exponential(F.rng, NAN)) ? ST_NAN_OK : 0;)
R(r_lap_neg, ST_NAN_OK, return isnan(ovica_rng_laplace(F.rng, -1.0)) ? ST_NAN_OK : 0;)
R(r_lap_inf, ST_NAN_OK, return isnan(ovica_rng_laplace(F.rng, INFINITY)) ? ST_NAN_OK : 0;)
R(r_tn_nan, ST_NAN_OK, return isnan(ovica_rng_truncated_normal(F.rng, NAN, 1.0)) ? ST_NAN_OK : 0;)
R(r_tn_order, ST_NAN_OK, return isnan(ovica_rng_truncated_normal(F.rng, 2.0, 1.0)) ? ST_NAN_OK : 0;)
R(r_tn_infinf, ST_NAN_OK, return isnan(ovica_rng_truncated_normal(F.rng, INFINITY, INFINITY)) ? ST_NAN_OK : 0;)

/* synth: outputs untouched on error */
static int untouched(int st, const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (x[i] != 123.0) return ST_TOUCHED;
    return st;
}
static void mark(double *x, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] = 123.0;
}
R(y_2d_null, OVICA_EINVAL, return ovica_synth_basis_2d(OVICA_SYNTH_REGULAR3, NULL, 2, 3);)
R(y_2d_set, OVICA_EINVAL, mark(F.out, 12); return untouched(ovica_synth_basis_2d(9, F.out, 2, 3), F.out, 12);)
R(y_2d_rows, OVICA_ESIZE, mark(F.out, 12); return untouched(ovica_synth_basis_2d(OVICA_SYNTH_REGULAR3, F.out, 3, 3), F.out, 12);)
R(y_2d_cols, OVICA_ESIZE, mark(F.out, 12); return untouched(ovica_synth_basis_2d(OVICA_SYNTH_IRREGULAR4, F.out, 2, 3), F.out, 12);)
R(y_rb_null_r, OVICA_EINVAL, return ovica_synth_random_basis(NULL, F.out, M, NA);)
R(y_rb_null_A, OVICA_EINVAL, return ovica_synth_random_basis(F.rng, NULL, M, NA);)
R(y_rb_m0, OVICA_EINVAL, return ovica_synth_random_basis(F.rng, F.out, 0, NA);)
R(y_rb_n0, OVICA_EINVAL, return ovica_synth_random_basis(F.rng, F.out, M, 0);)
R(y_src_kind, OVICA_EINVAL, mark(F.out, NS * NA); return untouched(ovica_synth_sources(F.rng, OVICA_PRIOR_USER, 1.0, 0.5, F.out, NS, NA), F.out, NS * NA);)
R(y_src_b0, OVICA_EINVAL, return ovica_synth_sources(F.rng, OVICA_PRIOR_LAPLACE, 0.0, 0.5, F.out, NS, NA);)
R(y_src_bnan, OVICA_ENONFINITE, return ovica_synth_sources(F.rng, OVICA_PRIOR_LAPLACE, NAN, 0.5, F.out, NS, NA);)
R(y_src_act0, OVICA_EINVAL, return ovica_synth_sources(F.rng, OVICA_PRIOR_LAPLACE, 1.0, 0.0, F.out, NS, NA);)
R(y_src_act2, OVICA_EINVAL, return ovica_synth_sources(F.rng, OVICA_PRIOR_EXPONENTIAL, 1.0, 2.0, F.out, NS, NA);)
R(y_src_actnan, OVICA_ENONFINITE, return ovica_synth_sources(F.rng, OVICA_PRIOR_LAPLACE, 1.0, NAN, F.out, NS, NA);)
R(y_src_N0, OVICA_EINVAL, return ovica_synth_sources(F.rng, OVICA_PRIOR_LAPLACE, 1.0, 0.5, F.out, 0, NA);)
R(y_mix_r_null, OVICA_EINVAL, return ovica_synth_mix(NULL, F.A, M, NA, F.S_ref, NS, 0.1, F.out);)
R(y_mix_noise_neg, OVICA_EINVAL, return ovica_synth_mix(F.rng, F.A, M, NA, F.S_ref, NS, -0.1, F.out);)
R(y_mix_noise_nan, OVICA_ENONFINITE, return ovica_synth_mix(F.rng, F.A, M, NA, F.S_ref, NS, NAN, F.out);)
R(y_mix_S_nan, OVICA_ENONFINITE, mark(F.out, NS * M); return untouched(ovica_synth_mix(F.rng, F.A, M, NA, F.Snan, NS, 0.1, F.out), F.out, NS * M);)
R(y_mix_m0, OVICA_EINVAL, return ovica_synth_mix(F.rng, F.A, 0, NA, F.S_ref, NS, 0.1, F.out);)
R(y_mix_X_null, OVICA_EINVAL, return ovica_synth_mix(F.rng, F.A, M, NA, F.S_ref, NS, 0.1, NULL);)

/* metrics */
R(x_match_null, OVICA_EINVAL, size_t a[NA]; return ovica_atoms_match(NULL, M, NA, F.A, NA, 0, a, NULL);)
R(x_match_m0, OVICA_EINVAL, size_t a[NA]; return ovica_atoms_match(F.A, 0, NA, F.A, NA, 0, a, NULL);)
R(x_match_n0, OVICA_EINVAL, size_t a[NA]; return ovica_atoms_match(F.A, M, 0, F.A, NA, 0, a, NULL);)
R(x_match_nan, OVICA_ENONFINITE, double A[M * NA]; memcpy(A, F.A, sizeof A); A[2] = NAN; size_t a[NA]; return ovica_atoms_match(A, M, NA, F.A, NA, 0, a, NULL);)
R(x_rec_null, OVICA_EINVAL, return ovica_recovery_eval(F.A, M, NA, F.A, NA, 0, 5.0, NULL, 0, NULL);)
R(x_rec_version, OVICA_EVERSION, ovica_recovery r = OVICA_RECOVERY_INIT; r.version = 5; return ovica_recovery_eval(F.A, M, NA, F.A, NA, 0, 5.0, NULL, 0, &r);)
R(x_rec_thr_neg, OVICA_EINVAL, ovica_recovery r = OVICA_RECOVERY_INIT; return ovica_recovery_eval(F.A, M, NA, F.A, NA, 0, -1.0, NULL, 0, &r);)
R(x_rec_thr_nan, OVICA_ENONFINITE, ovica_recovery r = OVICA_RECOVERY_INIT; return ovica_recovery_eval(F.A, M, NA, F.A, NA, 0, NAN, NULL, 0, &r);)
R(x_rec_N0, OVICA_EINVAL, ovica_recovery r = OVICA_RECOVERY_INIT; return ovica_recovery_eval(F.A, M, NA, F.A, NA, 0, 5.0, F.S_ref, 0, &r);)

/* npy */
R(n_info_null, OVICA_EINVAL, size_t r, c; return ovica_npy_info(NULL, &r, &c);)
R(n_info_null_rows, OVICA_EINVAL, size_t c; return ovica_npy_info(F.npy, NULL, &c);)
R(n_info_missing, OVICA_EIO, size_t r, c; return ovica_npy_info(F.missing, &r, &c);)
R(n_info_garbage, OVICA_EFORMAT, size_t r, c; return ovica_npy_info(F.garbage, &r, &c);)
R(n_into_shape, OVICA_ESIZE, return ovica_npy_read_into(F.npy, F.out, M, NS);)
R(n_into_null, OVICA_EINVAL, return ovica_npy_read_into(F.npy, NULL, NS, M);)
R(n_read_null_path, OVICA_EINVAL, double *a; size_t r, c; return ovica_npy_read(NULL, &a, &r, &c);)
R(n_read_null_out, OVICA_EINVAL, size_t r, c; return ovica_npy_read(F.npy, NULL, &r, &c);)
R(n_read_garbage, OVICA_EFORMAT, double *a = (double *)&F; size_t r = 9, c = 9; int st = ovica_npy_read(F.garbage, &a, &r, &c); return a == NULL && r == 0 && c == 0 ? st : ST_TOUCHED;)
R(n_buf_null, OVICA_EINVAL, double *a; size_t r, c; return ovica_npy_read_buffer(NULL, 10, &a, &r, &c);)
R(n_buf_empty, OVICA_EFORMAT, double *a; size_t r, c; return ovica_npy_read_buffer("", 0, &a, &r, &c);)
R(n_buf_truncated, OVICA_EFORMAT, double *a; size_t r, c; return ovica_npy_read_buffer(F.npy_bytes, F.npy_len - 1, &a, &r, &c);)
R(n_buf_version, OVICA_EVERSION, unsigned char b[512]; memcpy(b, F.npy_bytes, F.npy_len); b[6] = 9; double *a; size_t r, c; return ovica_npy_read_buffer(b, F.npy_len, &a, &r, &c);)
R(n_write_null_path, OVICA_EINVAL, return ovica_npy_write(NULL, F.X, NS, M);)
R(n_write_empty_path, OVICA_EINVAL, return ovica_npy_write("", F.X, NS, M);)
R(n_write_null_data, OVICA_EINVAL, return ovica_npy_write(F.npy, NULL, NS, M);)
R(n_write_rows0, OVICA_EINVAL, return ovica_npy_write(F.npy, F.X, 0, M);)
R(n_write_cols0, OVICA_EINVAL, return ovica_npy_write(F.npy, F.X, NS, 0);)
R(n_write_missing_dir, OVICA_EIO, return ovica_npy_write(F.missing, F.X, NS, M);)
R(n_write32_range, OVICA_EDOMAIN, double x[2] = {1.0, 1e300}; return ovica_npy_write_float32(F.npy, x, 1, 2);)

/* model files */
R(f_save_null, OVICA_EINVAL, return ovica_model_save(NULL, F.model_file);)
R(f_save_path, OVICA_EINVAL, return ovica_model_save(F.model, NULL);)
R(f_save_empty, OVICA_EINVAL, return ovica_model_save(F.model, "");)
R(f_save_user, OVICA_ENOTSUP, return ovica_model_save(F.model_user, F.model_file);)
R(f_save_missing_dir, OVICA_EIO, return ovica_model_save(F.model, F.missing);)
R(f_savebuf_null, OVICA_EINVAL, size_t n; return ovica_model_save_buffer(F.model, NULL, &n);)
R(f_load_null, OVICA_EINVAL, return ovica_model_load(NULL, F.model_file);)
R(f_load_path, OVICA_EINVAL, ovica_model *m = NULL; return ovica_model_load(&m, NULL);)
R(f_load_missing, OVICA_EIO, ovica_model *m = (ovica_model *)&F; int st = ovica_model_load(&m, F.missing); return m == (ovica_model *)&F ? st : ST_TOUCHED;)
R(f_load_garbage, OVICA_EFORMAT, ovica_model *m = NULL; return ovica_model_load(&m, F.garbage);)
R(f_loadbuf_null, OVICA_EINVAL, ovica_model *m = NULL; return ovica_model_load_buffer(&m, NULL, 4);)
R(f_loadbuf_npy, OVICA_EFORMAT, ovica_model *m = NULL; return ovica_model_load_buffer(&m, F.npy_bytes, F.npy_len);)

#define ROW(fn, want) {#fn, want, fn}

static const row rows[] = {
    ROW(p_lap_null, OVICA_EINVAL), ROW(p_lap_zero, OVICA_EINVAL), ROW(p_lap_neg, OVICA_EINVAL),
    ROW(p_lap_nan, OVICA_ENONFINITE), ROW(p_lap_inf, OVICA_ENONFINITE),
    ROW(p_exp_null, OVICA_EINVAL), ROW(p_exp_zero, OVICA_EINVAL), ROW(p_exp_nan, OVICA_ENONFINITE),
    ROW(p_user_null_cb, OVICA_EINVAL), ROW(p_user_null_out, OVICA_EINVAL),
    ROW(p_user_no_nlp, OVICA_EINVAL), ROW(p_user_no_grad, OVICA_EINVAL),
    ROW(p_user_version, OVICA_EVERSION), ROW(p_user_domain, OVICA_EINVAL),
    ROW(p_clone_null_out, OVICA_EINVAL), ROW(p_clone_null, OVICA_EINVAL),
    ROW(p_scale_null, OVICA_EINVAL), ROW(p_scale_user, OVICA_ENOTSUP),
    ROW(p_nlp_null, OVICA_EINVAL), ROW(p_nlp_null_s, OVICA_EINVAL), ROW(p_nlp_domain, OVICA_EDOMAIN),
    ROW(p_grad_null, OVICA_EINVAL), ROW(p_grad_domain, OVICA_EDOMAIN),
    ROW(p_prox_t0, OVICA_EINVAL), ROW(p_prox_tneg, OVICA_EINVAL), ROW(p_prox_nan_t, OVICA_ENONFINITE),
    ROW(p_prox_user, OVICA_ENOTSUP), ROW(p_curv_null, OVICA_EINVAL), ROW(p_curv_user, OVICA_ENOTSUP),

    ROW(m_new_null, OVICA_EINVAL), ROW(m_new_m0, OVICA_EINVAL), ROW(m_new_n0, OVICA_EINVAL),
    ROW(m_new_prior, OVICA_EINVAL), ROW(m_new_sigma0, OVICA_EINVAL),
    ROW(m_new_sigmaneg, OVICA_EINVAL), ROW(m_new_sigmanan, OVICA_ENONFINITE),
    ROW(m_new_sigmainf, OVICA_ENONFINITE), ROW(m_clone_null_out, OVICA_EINVAL),
    ROW(m_clone_null, OVICA_EINVAL), ROW(m_set_basis_null, OVICA_EINVAL),
    ROW(m_set_basis_nullA, OVICA_EINVAL), ROW(m_set_basis_rows, OVICA_ESIZE),
    ROW(m_set_basis_cols, OVICA_ESIZE), ROW(m_set_basis_swap, OVICA_ESIZE),
    ROW(m_set_basis_nan, OVICA_ENONFINITE), ROW(m_set_basis_inf, OVICA_ENONFINITE),
    ROW(m_get_basis_null, OVICA_EINVAL), ROW(m_get_basis_size, OVICA_ESIZE),
    ROW(m_set_sigma_null, OVICA_EINVAL), ROW(m_set_sigma0, OVICA_EINVAL),
    ROW(m_set_sigmaneg, OVICA_EINVAL), ROW(m_set_sigmanan, OVICA_ENONFINITE),
    ROW(m_set_sigmainf, OVICA_ENONFINITE), ROW(m_set_prior_null, OVICA_EINVAL),
    ROW(m_lip_null, OVICA_EINVAL), ROW(m_obj_null, OVICA_EINVAL), ROW(m_obj_nullX, OVICA_EINVAL),
    ROW(m_obj_nullS, OVICA_EINVAL), ROW(m_obj_N0, OVICA_EINVAL), ROW(m_obj_xdim, OVICA_ESIZE),
    ROW(m_obj_sdim, OVICA_ESIZE), ROW(m_obj_Xnan, OVICA_ENONFINITE),
    ROW(m_obj_Snan, OVICA_ENONFINITE), ROW(m_obj_domain, OVICA_EDOMAIN),
    ROW(m_opt_null_out, OVICA_EINVAL), ROW(m_opt_Xinf, OVICA_ENONFINITE),
    ROW(m_opt_sdim, OVICA_ESIZE),

    ROW(s_find_null, OVICA_EINVAL), ROW(s_find_unknown, OVICA_EINVAL),
    ROW(s_new_null, OVICA_EINVAL), ROW(s_new_type, OVICA_EINVAL), ROW(s_set_null, OVICA_EINVAL),
    ROW(s_set_unknown, OVICA_EINVAL), ROW(s_set_negparam, OVICA_EINVAL),
    ROW(s_set_nan, OVICA_ENONFINITE), ROW(s_set_inf, OVICA_ENONFINITE),
    ROW(s_set_iter0, OVICA_EINVAL), ROW(s_set_tolneg, OVICA_EINVAL), ROW(s_set_tolbig, OVICA_EINVAL),
    ROW(s_set_step0, OVICA_EINVAL), ROW(s_set_stepbig, OVICA_EINVAL), ROW(s_set_form, OVICA_EINVAL),
    ROW(s_get_null_out, OVICA_EINVAL), ROW(s_get_unknown, OVICA_EINVAL),
    ROW(s_bounds_unknown, OVICA_EINVAL), ROW(s_bounds_null, OVICA_EINVAL),
    ROW(s_infer_null, OVICA_EINVAL), ROW(s_infer_model, OVICA_EINVAL), ROW(s_infer_X, OVICA_EINVAL),
    ROW(s_infer_S, OVICA_EINVAL), ROW(s_infer_N0, OVICA_EINVAL), ROW(s_infer_xdim, OVICA_ESIZE),
    ROW(s_infer_sdim, OVICA_ESIZE), ROW(s_infer_Xnan, OVICA_ENONFINITE),
    ROW(s_infer_Xinf, OVICA_ENONFINITE), ROW(s_infer_version, OVICA_EVERSION),
    ROW(s_infer_noprox, OVICA_ENOTSUP), ROW(s_infer_zero_basis, OVICA_EINVAL),
    ROW(s_infer_warm_nan, OVICA_ENONFINITE),

    ROW(sp_new_null, OVICA_EINVAL), ROW(sp_set_null, OVICA_EINVAL),
    ROW(sp_set_unknown, OVICA_EINVAL), ROW(sp_set_nan, OVICA_ENONFINITE),
    ROW(sp_set_moves_neg, OVICA_EINVAL), ROW(sp_set_moves_big, OVICA_EINVAL),
    ROW(sp_set_refresh0, OVICA_EINVAL), ROW(sp_get_null, OVICA_EINVAL),
    ROW(sp_get_unknown, OVICA_EINVAL), ROW(sp_run_null, OVICA_EINVAL),
    ROW(sp_run_model, OVICA_EINVAL), ROW(sp_run_X, OVICA_EINVAL), ROW(sp_run_S, OVICA_EINVAL),
    ROW(sp_run_N0, OVICA_EINVAL), ROW(sp_run_xdim, OVICA_ESIZE), ROW(sp_run_sdim, OVICA_ESIZE),
    ROW(sp_run_sigma0, OVICA_EINVAL), ROW(sp_run_sigmaneg, OVICA_EINVAL),
    ROW(sp_run_sigmatiny, OVICA_EINVAL), ROW(sp_run_sigmahuge, OVICA_EINVAL),
    ROW(sp_run_sigmanan, OVICA_ENONFINITE), ROW(sp_run_sigmainf, OVICA_ENONFINITE),
    ROW(sp_run_Xnan, OVICA_ENONFINITE), ROW(sp_run_Snan, OVICA_ENONFINITE),
    ROW(sp_run_version, OVICA_EVERSION), ROW(sp_run_user, OVICA_ENOTSUP),

    ROW(r_new_null, OVICA_EINVAL), ROW(r_clone_null_out, OVICA_EINVAL),
    ROW(r_clone_null, OVICA_EINVAL), ROW(r_seed_null, OVICA_EINVAL), ROW(r_jump_null, OVICA_EINVAL),
    ROW(r_fill_null_r, OVICA_EINVAL), ROW(r_fill_null_x, OVICA_EINVAL),
    ROW(r_expo_zero, ST_NAN_OK), ROW(r_expo_nan, ST_NAN_OK), ROW(r_lap_neg, ST_NAN_OK),
    ROW(r_lap_inf, ST_NAN_OK), ROW(r_tn_nan, ST_NAN_OK), ROW(r_tn_order, ST_NAN_OK),
    ROW(r_tn_infinf, ST_NAN_OK),

    ROW(y_2d_null, OVICA_EINVAL), ROW(y_2d_set, OVICA_EINVAL), ROW(y_2d_rows, OVICA_ESIZE),
    ROW(y_2d_cols, OVICA_ESIZE), ROW(y_rb_null_r, OVICA_EINVAL), ROW(y_rb_null_A, OVICA_EINVAL),
    ROW(y_rb_m0, OVICA_EINVAL), ROW(y_rb_n0, OVICA_EINVAL), ROW(y_src_kind, OVICA_EINVAL),
    ROW(y_src_b0, OVICA_EINVAL), ROW(y_src_bnan, OVICA_ENONFINITE), ROW(y_src_act0, OVICA_EINVAL),
    ROW(y_src_act2, OVICA_EINVAL), ROW(y_src_actnan, OVICA_ENONFINITE),
    ROW(y_src_N0, OVICA_EINVAL), ROW(y_mix_r_null, OVICA_EINVAL),
    ROW(y_mix_noise_neg, OVICA_EINVAL), ROW(y_mix_noise_nan, OVICA_ENONFINITE),
    ROW(y_mix_S_nan, OVICA_ENONFINITE), ROW(y_mix_m0, OVICA_EINVAL), ROW(y_mix_X_null, OVICA_EINVAL),

    ROW(x_match_null, OVICA_EINVAL), ROW(x_match_m0, OVICA_EINVAL), ROW(x_match_n0, OVICA_EINVAL),
    ROW(x_match_nan, OVICA_ENONFINITE), ROW(x_rec_null, OVICA_EINVAL),
    ROW(x_rec_version, OVICA_EVERSION), ROW(x_rec_thr_neg, OVICA_EINVAL),
    ROW(x_rec_thr_nan, OVICA_ENONFINITE), ROW(x_rec_N0, OVICA_EINVAL),

    ROW(n_info_null, OVICA_EINVAL), ROW(n_info_null_rows, OVICA_EINVAL),
    ROW(n_info_missing, OVICA_EIO), ROW(n_info_garbage, OVICA_EFORMAT),
    ROW(n_into_shape, OVICA_ESIZE), ROW(n_into_null, OVICA_EINVAL),
    ROW(n_read_null_path, OVICA_EINVAL), ROW(n_read_null_out, OVICA_EINVAL),
    ROW(n_read_garbage, OVICA_EFORMAT), ROW(n_buf_null, OVICA_EINVAL),
    ROW(n_buf_empty, OVICA_EFORMAT), ROW(n_buf_truncated, OVICA_EFORMAT),
    ROW(n_buf_version, OVICA_EVERSION), ROW(n_write_null_path, OVICA_EINVAL),
    ROW(n_write_empty_path, OVICA_EINVAL), ROW(n_write_null_data, OVICA_EINVAL),
    ROW(n_write_rows0, OVICA_EINVAL), ROW(n_write_cols0, OVICA_EINVAL),
    ROW(n_write_missing_dir, OVICA_EIO), ROW(n_write32_range, OVICA_EDOMAIN),

    ROW(f_save_null, OVICA_EINVAL), ROW(f_save_path, OVICA_EINVAL), ROW(f_save_empty, OVICA_EINVAL),
    ROW(f_save_user, OVICA_ENOTSUP), ROW(f_save_missing_dir, OVICA_EIO),
    ROW(f_savebuf_null, OVICA_EINVAL), ROW(f_load_null, OVICA_EINVAL),
    ROW(f_load_path, OVICA_EINVAL), ROW(f_load_missing, OVICA_EIO),
    ROW(f_load_garbage, OVICA_EFORMAT), ROW(f_loadbuf_null, OVICA_EINVAL),
    ROW(f_loadbuf_npy, OVICA_EFORMAT),
};

START_TEST(test_bad_input_matrix)
{
    fixture_up();
    const size_t nrows = sizeof rows / sizeof rows[0];
    int bad = 0;
    char first[640] = "";
    for (size_t i = 0; i < nrows; i++) {
        ovica_error_clear();
        int st = rows[i].call();
        char why[400] = "";
        if (st != rows[i].want)
            snprintf(why, sizeof why, "returned %d (%s), wanted %d (%s); message: '%s'", st,
                     ovica_strerror(st), rows[i].want, ovica_strerror(rows[i].want),
                     ovica_error_message());
        else if (st < 0 && ovica_error_message()[0] == '\0')
            snprintf(why, sizeof why, "status %d with an empty message", st);
        else if (st < 0 && ovica_error_last() != st)
            snprintf(why, sizeof why, "ovica_error_last() is %d, the call returned %d",
                     ovica_error_last(), st);
        if (why[0] == '\0') {
            const char *broken = fixture_intact();
            if (broken != NULL) snprintf(why, sizeof why, "afterwards: %s", broken);
        }
        if (why[0] != '\0') {
            fprintf(stderr, "bad input row %s: %s\n", rows[i].name, why);
            if (bad++ == 0) snprintf(first, sizeof first, "%s: %s", rows[i].name, why);
        }
    }
    fixture_down();
    ck_assert_msg(bad == 0, "%d of %zu rows failed; first: %s", bad, nrows, first);
}
END_TEST

/* Freeing NULL and the NULL-tolerant accessors. */
START_TEST(test_null_handles)
{
    ovica_prior_free(NULL);
    ovica_model_free(NULL);
    ovica_solver_free(NULL);
    ovica_sampler_free(NULL);
    ovica_rng_free(NULL);
    ovica_free(NULL);
    ck_assert_int_eq(ovica_prior_kind(NULL), -1);
    ck_assert_int_eq(ovica_prior_domain(NULL), -1);
    ck_assert_int_eq(ovica_prior_has_prox(NULL), -1);
    ck_assert_ptr_nonnull(ovica_prior_name(NULL));
    ck_assert_uint_eq(ovica_model_dim(NULL), 0);
    ck_assert_uint_eq(ovica_model_atoms(NULL), 0);
    ck_assert_ptr_null(ovica_model_basis(NULL));
    ck_assert(isnan(ovica_model_sigma(NULL)));
    ck_assert_ptr_null(ovica_model_prior(NULL));
    ck_assert_ptr_null(ovica_solver_get_type(NULL));
    ck_assert_str_eq(ovica_solver_type_name(NULL), "");
    ck_assert_ptr_nonnull(ovica_strerror(-999));
    ck_assert_ptr_nonnull(ovica_error_message());
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Numerical faults                                                          */

typedef struct {
    const char *name;
    size_t m;
    double A[3 * 4];
    double sigma;
    int zero_data;
} fault;

static int all_finite(const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

START_TEST(test_numerical_faults)
{
    /* bases are m x 4 row-major */
    static const fault faults[] = {
        {"all-zero data", 2, {1, 0, -0.6, 0.3, 0, 1, 0.8, -0.9}, 0.1, 1},
        {"duplicate atoms", 2, {1, 1, -0.6, 0.3, 0, 0, 0.8, -0.9}, 0.1, 0},
        {"opposite atoms", 2, {1, -1, -0.6, 0.3, 0, 0, 0.8, -0.9}, 0.1, 0},
        {"zero-norm atom", 2, {1, 0, -0.6, 0, 0, 0, 0.8, 0}, 0.1, 0},
        {"rank-deficient", 3, {1, 2, -1, 0.5, 2, 4, -2, 1, 0, 0, 0, 0}, 0.1, 0},
        {"sigma 1e-150", 2, {1, 0, -0.6, 0.3, 0, 1, 0.8, -0.9}, 1e-150, 0},
        {"sigma 1e150", 2, {1, 0, -0.6, 0.3, 0, 1, 0.8, -0.9}, 1e150, 0},
        {"sigma 1e-150, zero data", 2, {1, 0, -0.6, 0.3, 0, 1, 0.8, -0.9}, 1e-150, 1},
    };
    const size_t n = 4, N = 16;
    const ovica_solver_type *types[3] = {ovica_solver_pg, ovica_solver_ista, ovica_solver_fista};
    int bad = 0;
    char first[400] = "";
#define FAULT(...)                                                                   \
    do {                                                                             \
        char w_[300];                                                                \
        snprintf(w_, sizeof w_, __VA_ARGS__);                                        \
        fprintf(stderr, "numerical fault: %s\n", w_);                                \
        if (bad++ == 0) snprintf(first, sizeof first, "%s", w_);                     \
    } while (0)
    tu_rng r;
    tu_seed(&r, 77);
    for (size_t f = 0; f < sizeof faults / sizeof faults[0]; f++) {
        const fault *ft = &faults[f];
        const size_t m = ft->m;
        double X[16 * 3], S[16 * 4], D[16 * 4], per[16];
        if (ft->zero_data) memset(X, 0, sizeof X);
        else tu_fill_normal(&r, X, N * m, 1.0);
        for (int kind = 0; kind < 2; kind++) {
            ovica_prior *p = NULL;
            ovica_model *md = NULL;
            if (kind) ck_assert_status(ovica_prior_exponential_new(&p, 1.0), OVICA_OK);
            else ck_assert_status(ovica_prior_laplace_new(&p, 1.0), OVICA_OK);
            int st = ovica_model_new(&md, m, n, p, ft->sigma);
            ovica_prior_free(p);
            if (st != OVICA_OK) {
                FAULT("%s: model_new failed: %d %s", ft->name, st, ovica_error_message());
                continue;
            }
            st = ovica_model_set_basis(md, ft->A, m, n);
            if (st != OVICA_OK) {
                FAULT("%s: set_basis failed: %d %s", ft->name, st, ovica_error_message());
                ovica_model_free(md);
                continue;
            }
            for (int t = 0; t < 3; t++) {
                ovica_solver *sv = NULL;
                ck_assert_status(ovica_solver_new(&sv, types[t]), OVICA_OK);
                ovica_infer_stats stats = OVICA_INFER_STATS_INIT;
                ovica_error_clear();
                st = ovica_solver_infer(sv, md, X, N, m, S, n, &stats);
                if (st == OVICA_OK || st == OVICA_NOT_CONVERGED) {
                    if (!all_finite(S, N * n) || isnan(stats.objective) || isnan(stats.violation))
                        FAULT("%s, %s, prior %d: NaN/Inf in the output", ft->name,
                              ovica_solver_type_name(types[t]), kind);
                    if (ft->zero_data)
                        for (size_t i = 0; i < N * n; i++)
                            if (S[i] != 0.0) {
                                FAULT("%s, %s: s_hat not 0 for zero data", ft->name,
                                      ovica_solver_type_name(types[t]));
                                break;
                            }
                    if (strcmp(ft->name, "zero-norm atom") == 0)
                        for (size_t k = 0; k < N; k++)
                            if (S[k * n + 1] != 0.0 || S[k * n + 3] != 0.0) {
                                FAULT("%s, %s: a zero atom got a code", ft->name,
                                      ovica_solver_type_name(types[t]));
                                break;
                            }
                    double mean = 0.0, worst = 0.0;
                    int so = ovica_model_objective(md, X, N, m, S, n, per, &mean);
                    if (so != OVICA_OK || isnan(mean))
                        FAULT("%s: objective %d mean %g", ft->name, so, mean);
                    so = ovica_model_optimality(md, X, N, m, S, n, &worst);
                    if (so != OVICA_OK || isnan(worst))
                        FAULT("%s: optimality %d worst %g", ft->name, so, worst);
                } else if (ovica_error_message()[0] == '\0') {
                    FAULT("%s, %s: status %d without a message", ft->name,
                          ovica_solver_type_name(types[t]), st);
                } else if (!ft->zero_data && ft->sigma >= 1e-150 && ft->sigma <= 1e150) {
                    /* all the listed faults are within the documented range:
                     * they must work */
                    FAULT("%s, %s: failed with %d %s", ft->name, ovica_solver_type_name(types[t]),
                          st, ovica_error_message());
                }
                ovica_solver_free(sv);
            }
            /* posterior draws at the model's sigma */
            ovica_sampler *sp = NULL;
            ck_assert_status(ovica_sampler_new(&sp, 3), OVICA_OK);
            double ss[16], zs[16], xs[12], bnd[16];
            memset(ss, 0, sizeof ss);
            memset(zs, 0, sizeof zs);
            memset(xs, 0, sizeof xs);
            memset(bnd, 0, sizeof bnd);
            ovica_posterior_accum acc = OVICA_POSTERIOR_ACCUM_INIT;
            acc.ss = ss;
            acc.zs = zs;
            acc.xs = xs;
            acc.bnd = bnd;
            memset(D, 0, sizeof D);
            st = ovica_sampler_run(sp, md, ft->sigma, X, N, m, D, n, 3, &acc);
            if (st != OVICA_OK)
                FAULT("%s, prior %d: sampler failed: %d %s", ft->name, kind, st,
                      ovica_error_message());
            else if (!all_finite(D, N * n) || !all_finite(ss, 16) || !all_finite(zs, 16) ||
                     !all_finite(xs, m * n) || !all_finite(bnd, 16))
                FAULT("%s, prior %d: NaN/Inf in the draws or sums", ft->name, kind);
            ovica_sampler_free(sp);
            /* metrics on the faulty basis against itself */
            double ang[4];
            size_t as[4];
            st = ovica_atoms_match(ft->A, m, n, ft->A, n, kind, as, ang);
            if (st != OVICA_OK || !all_finite(ang, 4))
                FAULT("%s: atoms_match %d or a NaN angle", ft->name, st);
            ovica_model_free(md);
        }
    }
    ck_assert_msg(bad == 0, "%d numerical faults; first: %s", bad, first);
#undef FAULT
}
END_TEST

int main(void)
{
    Suite *s = suite_create("badinput");
    TCase *tc = tcase_create("badinput");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_bad_input_matrix);
    tcase_add_test(tc, test_null_handles);
    tcase_add_test(tc, test_numerical_faults);
    suite_add_tcase(s, tc);
    return tu_run(s);
}

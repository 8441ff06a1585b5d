/* The solver front end: the registry (ovica_solver_type_*), handles,
 * parameters, the checks every ovica_solver_infer() call makes, and the
 * dispatch through the type's table (src/solver_internal.h). The
 * algorithms are type objects under src/solver/. */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "param.h"
#include "solver_internal.h"


static const ovica__param param_info[] = {
    [OVICA_SOLVER_MAX_ITER] = {"max_iter", 1.0, 1e9, 1000.0, OVICA__PARAM_INT, 0},
    [OVICA_SOLVER_TOL] = {"tol", 0.0, 1.0, 1e-6, OVICA__PARAM_DOUBLE, 0},
    [OVICA_SOLVER_WARM_START] = {"warm_start", 0.0, 1.0, 0.0, OVICA__PARAM_BOOL, 0},
    [OVICA_SOLVER_RESTART] = {"restart", 0.0, 1.0, 1.0, OVICA__PARAM_BOOL, 0},
    [OVICA_SOLVER_FORM] = {"form", 0.0, 2.0, 0.0, OVICA__PARAM_INT, 0},
    [OVICA_SOLVER_STEP] = {"step", 1e-6, 1.0, 1.0, OVICA__PARAM_DOUBLE, 0},
    [OVICA_SOLVER_THREADS] = {"threads", 1.0, 256.0, 1.0, OVICA__PARAM_INT, 0},
};
_Static_assert(sizeof param_info / sizeof param_info[0] == OVICA__SOLVER_N_PARAMS,
               "one entry of param_info per solver parameter");
static const ovica__param_table params = {"solver", param_info, OVICA__SOLVER_N_PARAMS};

size_t ovica_solver_type_count(void)
{
    size_t count;
    ovica__solver_types(&count);
    return count;
}

const ovica_solver_type *ovica_solver_type_at(size_t i)
{
    size_t count;
    const ovica_solver_type *const *types = ovica__solver_types(&count);
    if (i >= count) {
        ovica__error(OVICA_EINVAL, "%s: index %zu out of range (%zu solver types)", __func__, i,
                     count);
        return NULL;
    }
    return types[i];
}

static int type_valid(const ovica_solver_type *type)
{
    size_t count;
    const ovica_solver_type *const *types = ovica__solver_types(&count);
    for (size_t i = 0; i < count; i++)
        if (type == types[i]) return 1;
    return 0;
}

const ovica_solver_type *ovica_solver_type_find(const char *name)
{
    if (name == NULL) {
        ovica__error(OVICA_EINVAL, "%s: name is NULL", __func__);
        return NULL;
    }
    size_t count;
    const ovica_solver_type *const *types = ovica__solver_types(&count);
    for (size_t i = 0; i < count; i++)
        if (strcmp(types[i]->name, name) == 0) return types[i];
    char known[256] = "";
    for (size_t i = 0; i < count; i++) ovica__append_name(known, sizeof known, types[i]->name);
    ovica__error(OVICA_EINVAL, "unknown solver '%s' (known: %s)", name, known);
    return NULL;
}

const char *ovica_solver_type_name(const ovica_solver_type *type)
{
    return type ? type->name : "";
}

int ovica_solver_new(ovica_solver **out, const ovica_solver_type *type)
{
    OVICA__CHECK_NULL(out, "out");
    OVICA__CHECK_NULL(type, "type");
    if (!type_valid(type))
        return ovica__error(OVICA_EINVAL, "%s: not a solver type of this library", __func__);
    if (type->version != OVICA__SOLVER_TYPE_VERSION)
        return ovica__error(OVICA_EVERSION, "%s: solver type '%s' has layout version %u, this "
                            "library %u", __func__, type->name, type->version,
                            (unsigned)OVICA__SOLVER_TYPE_VERSION);
    ovica_solver *s = ovica__calloc(1, sizeof *s);
    if (s == NULL) return ovica__error(OVICA_ENOMEM, "cannot allocate a solver");
    s->type = type;
    ovica__param_defaults(&params, s->param);
    if (type->state_size > 0) {
        s->state = ovica__calloc(1, type->state_size);
        if (s->state == NULL) {
            ovica__free(s);
            return ovica__error(OVICA_ENOMEM, "cannot allocate the state of a '%s' solver",
                                type->name);
        }
    }
    if (type->init != NULL) {
        int st = type->init(s, s->state);
        if (st) {
            ovica__free(s->state);
            ovica__free(s);
            return st;
        }
    }
    *out = s;
    return OVICA_OK;
}

void ovica_solver_free(ovica_solver *solver)
{
    if (solver == NULL) return;
    if (solver->type->free != NULL) solver->type->free(solver, solver->state);
    ovica__free(solver->state);
    ovica__free(solver->work);
    ovica__free(solver->conv);
    ovica__free(solver);
}

const ovica_solver_type *ovica_solver_get_type(const ovica_solver *solver)
{
    return solver ? solver->type : NULL;
}

int ovica_solver_param_bounds(int param, double *lo, double *hi)
{
    OVICA__CHECK_NULL(lo, "lo");
    OVICA__CHECK_NULL(hi, "hi");
    return ovica__param_bounds(&params, param, lo, hi);
}

int ovica_solver_set_param(ovica_solver *solver, int param, double value)
{
    OVICA__CHECK_NULL(solver, "solver");
    return ovica__param_set(&params, solver->param, param, value);
}

int ovica_solver_get_param(const ovica_solver *solver, int param, double *out)
{
    OVICA__CHECK_NULL(solver, "solver");
    OVICA__CHECK_NULL(out, "out");
    return ovica__param_get(&params, solver->param, param, out);
}

int ovica_solver_param_count(void) { return params.count; }

const char *ovica_solver_param_name(int param) { return ovica__param_name(&params, param); }

int ovica_solver_param_find(const char *name, int *out)
{
    return ovica__param_find(&params, name, out);
}

/* What both entry points check and derive once the batch is valid: the
 * type that codes it (auto picks one) and its prior check, and the
 * Lipschitz constant L = ||A||_2^2 / sigma^2 (finite and > 0). */
static int prepare(const char *fn, const ovica_solver *solver, const ovica_model *model,
                   ovica_infer_stats *stats, const ovica_solver_type **run, double *L)
{
    if (stats != NULL) {
        int vst = ovica__check_version(fn, "stats", stats->version, OVICA_INFER_STATS_VERSION);
        if (vst != OVICA_OK) return vst;
    }
    const ovica_prior *prior = model->prior;
    *run = solver->type;
    if ((*run)->resolve != NULL) *run = (*run)->resolve(prior);
    if ((*run)->check != NULL) {
        int st = (*run)->check(solver, prior);
        if (st) return st;
    }
    *L = model->norm2 / (model->sigma * model->sigma);
    if (!(*L > 0.0))
        return ovica__error(OVICA_EINVAL, "%s: the basis is all zero; set it first", fn);
    if (!isfinite(*L))
        return ovica__error(OVICA_ENUMERIC, "%s: Lipschitz constant overflows (sigma %g too small)",
                            fn, model->sigma);
    return OVICA_OK;
}

int ovica_solver_infer(ovica_solver *solver, const ovica_model *model, const double *X,
                       size_t N, size_t x_dim, double *S, size_t s_dim,
                       ovica_infer_stats *stats)
{
    double t0 = ovica__now_seconds();
    OVICA__CHECK_NULL(solver, "solver");
    int st = ovica__check_batch(__func__, model, X, N, x_dim, S, s_dim);
    if (st) return st;
    const ovica_solver_type *run;
    double L;
    st = prepare(__func__, solver, model, stats, &run, &L);
    if (st) return st;
    const int warm = solver->param[OVICA_SOLVER_WARM_START] != 0.0;
    if (warm) {
        st = ovica__check_finite(S, N * model->n, model->n, "the warm start S");
        if (st) return st;
    }
    const ovica__solve_args args = {model, X, N, S, warm, L, stats, t0};
    solver->gram = NULL; /* (the active-set type sets it again) */
    solver->gram_f32 = NULL;
    return run->solve(solver, &args);
}

/* Rows per block of ovica_solver_infer_f32: its double copies (and the
 * single-precision iteration's arrays) stay bounded whatever N. */
#define F32_BLOCK 8192

static void to_double(const float *x, size_t len, double *out)
{
    for (size_t i = 0; i < len; i++) out[i] = (double)x[i];
}

int ovica_solver_infer_f32(ovica_solver *solver, const ovica_model *model, const float *X,
                           size_t N, size_t x_dim, float *S, size_t s_dim,
                           ovica_infer_stats *stats)
{
    double t0 = ovica__now_seconds();
    OVICA__CHECK_NULL(solver, "solver");
    int st = ovica__check_batch_shape(__func__, model, X, N, x_dim, S, s_dim);
    if (st == OVICA_OK) st = ovica__check_finite_f32(X, N * x_dim, x_dim, "X");
    if (st) return st;
    const ovica_solver_type *run;
    double L;
    st = prepare(__func__, solver, model, stats, &run, &L);
    if (st) return st;
    const size_t m = model->m, n = model->n;
    const int warm = solver->param[OVICA_SOLVER_WARM_START] != 0.0;
    if (warm) {
        st = ovica__check_finite_f32(S, N * n, n, "the warm start S");
        if (st) return st;
    }
    /* (a block through the active-set type sets one of them again) */
    solver->gram = NULL;
    solver->gram_f32 = NULL;
    /* single precision where the type has it and the prior is built in;
     * otherwise each block is solved in double and rounded */
    const int single = run->solve_f32 != NULL && model->prior->kind != OVICA_PRIOR_USER;
    const size_t Bc = N < F32_BLOCK ? N : F32_BLOCK, Bs = ovica__block_rows(Bc, n);
    const size_t need = single && stats == NULL ? 0 : Bc * (m + n) + Bs * (m + 2 * n);
    if (need > solver->conv_len) {
        double *w = ovica__alloc_doubles(need, "the solver's conversion memory");
        if (w == NULL) return OVICA_ENOMEM;
        ovica__free(solver->conv);
        solver->conv = w;
        solver->conv_len = need;
    }
    /* the double copies (none needed, and maybe none allocated yet, for a
     * single-precision solve without stats) */
    double *Xd = need ? solver->conv : NULL, *Sd = need ? Xd + Bc * m : NULL;
    double *R = need ? Sd + Bc * n : NULL, *G = need ? R + Bs * m : NULL;
    double *scratch = need ? G + Bs * n : NULL;
    size_t iters = 0, n_conv = 0;
    double obj = 0.0, worst = 0.0;
    int not_conv = 0;
    for (size_t r0 = 0; r0 < N; r0 += Bc) {
        const size_t nb = N - r0 < Bc ? N - r0 : Bc;
        const float *Xb = X + r0 * m;
        float *Sb = S + r0 * n;
        size_t it = 0, nc = 0;
        if (!single || stats != NULL) to_double(Xb, nb * m, Xd);
        if (single) {
            const ovica__solve_args_f32 a = {model, Xb, nb, Sb, warm, L, &it, &nc};
            st = run->solve_f32(solver, &a);
        } else {
            ovica_infer_stats bs = OVICA_INFER_STATS_INIT;
            if (warm) to_double(Sb, nb * n, Sd);
            const ovica__solve_args a = {model, Xd, nb, Sd, warm, L, stats ? &bs : NULL, t0};
            st = run->solve(solver, &a);
            if (st == OVICA_OK || st == OVICA_NOT_CONVERGED)
                for (size_t i = 0; i < nb * n; i++) Sb[i] = (float)Sd[i];
            it = bs.iterations;
            nc = bs.converged;
        }
        if (st != OVICA_OK && st != OVICA_NOT_CONVERGED) return st;
        not_conv |= st == OVICA_NOT_CONVERGED;
        if (it > iters) iters = it;
        n_conv += nc;
        if (stats != NULL) { /* of the codes returned, in double */
            ovica_infer_stats bs = OVICA_INFER_STATS_INIT;
            to_double(Sb, nb * n, Sd);
            st = ovica__fill_stats(model, Xd, nb, Sd, Bs, R, G, scratch, L, &bs);
            if (st) return st;
            obj += bs.objective * (double)nb;
            if (bs.violation > worst) worst = bs.violation;
        }
    }
    if (stats != NULL) {
        stats->iterations = iters;
        stats->converged = n_conv;
        stats->objective = obj / (double)N;
        stats->violation = worst;
        stats->seconds = ovica__now_seconds() - t0;
    }
    return not_conv ? OVICA_NOT_CONVERGED : OVICA_OK;
}

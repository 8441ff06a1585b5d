/* ovica_solver_active: the exact active-set (feature-sign) solver for the
 * built-in priors; the algorithm is in src/solver/active_set.c, this file is
 * its type object (work memory, statistics). */
#include <stdint.h>

#include "solver_internal.h"

static int active_check(const ovica_solver *s, const ovica_prior *prior)
{
    (void)s;
    if (prior->kind == OVICA_PRIOR_USER)
        return ovica__error(OVICA_ENOTSUP,
                            "%s: the active-set solver needs a built-in prior (got '%s'); "
                            "use fista, pg or auto",
                            "ovica_solver_infer", prior->name);
    return OVICA_OK;
}

static int active_solve(ovica_solver *solver, const ovica__solve_args *a)
{
    const ovica_model *model = a->model;
    const double *X = a->X;
    double *S = a->S;
    const size_t N = a->N;
    const int warm = a->warm;
    const double L = a->L;
    ovica_infer_stats *stats = a->stats;
    const size_t m = model->m, n = model->n;
    const size_t Bk = ovica__block_rows(N, n);
    const size_t threads = (size_t)solver->param[OVICA_SOLVER_THREADS];
    size_t len = ovica__active_work_len(N, m, n, Bk, threads), extra = Bk * (m + 2 * n);
    if (len == 0 || len > SIZE_MAX - extra)
        return ovica__error(OVICA_ENOMEM, "%s: the batch is too large", "ovica_solver_infer");
    int st = ovica__solver_work(solver, len + extra);
    if (st) return st;
    size_t rounds = 0, n_conv = 0;
    st = ovica__active_solve(model, X, N, S, warm, solver->param[OVICA_SOLVER_TOL],
                             (size_t)solver->param[OVICA_SOLVER_MAX_ITER], Bk, threads,
                             solver->work, &rounds, &n_conv);
    if (st) return st;
    solver->gram = ovica__active_gram(solver->work, N, m, n);
    solver->gram_f32 = NULL;
    solver->gram_model = model;
    if (stats != NULL) {
        double *R = solver->work + len, *G = R + Bk * m, *scratch = G + Bk * n;
        st = ovica__fill_stats(model, X, N, S, Bk, R, G, scratch, L, stats);
        if (st) return st;
        stats->iterations = rounds;
        stats->converged = n_conv;
        stats->seconds = ovica__now_seconds() - a->t0;
    }
    return n_conv == N ? OVICA_OK : OVICA_NOT_CONVERGED;
}

/* A single-precision batch (ovica_solver_infer_f32), solved in float; the
 * front end hands over blocks of at most 8192 rows and computes the
 * statistics. */
static int active_solve_f32(ovica_solver *solver, const ovica__solve_args_f32 *a)
{
    const ovica_model *model = a->model;
    const size_t N = a->N, m = model->m, n = model->n;
    const size_t Bk = ovica__block_rows(N, n);
    const size_t threads = (size_t)solver->param[OVICA_SOLVER_THREADS];
    size_t len = ovica__active_work_len_f32(N, m, n, Bk, threads);
    if (len == 0)
        return ovica__error(OVICA_ENOMEM, "%s: the batch is too large", "ovica_solver_infer_f32");
    int st = ovica__solver_work(solver, len);
    if (st) return st;
    size_t rounds = 0, n_conv = 0;
    st = ovica__active_solve_f32(model, a->X, N, a->S, a->warm, solver->param[OVICA_SOLVER_TOL],
                                 (size_t)solver->param[OVICA_SOLVER_MAX_ITER], Bk, threads,
                                 solver->work, &rounds, &n_conv);
    if (st) return st;
    solver->gram = NULL;
    solver->gram_f32 = ovica__active_gram_f32(solver->work, N, m, n);
    solver->gram_model = model;
    *a->iters = rounds;
    *a->n_conv = n_conv;
    return n_conv == N ? OVICA_OK : OVICA_NOT_CONVERGED;
}

const ovica_solver_type ovica__solver_active = {
    .name = "active",
    .version = OVICA__SOLVER_TYPE_VERSION,
    .state_size = 0,
    .check = active_check,
    .solve = active_solve,
    .solve_f32 = active_solve_f32,
};

const ovica_solver_type *const ovica_solver_active = &ovica__solver_active;

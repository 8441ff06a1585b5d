/* A toy solver type, the whole of what adding a solver takes besides one
 * line in src/solver/registry.c (docs/ARCHITECTURE.md, "Adding a solver or
 * a rule"). tests/check_extend.c is linked with it and with a registry
 * compiled with -D'OVICA_EXTRA_SOLVERS(X)=X(toy)'.
 *
 * "toy" codes a batch with one proximal-gradient step from zero,
 * S = prox(eta lambda X A) with eta = 1/L, and counts its calls in its
 * per-handle state. */
#include <string.h>

#include <cblas.h>

#include "solver_internal.h"

typedef struct {
    size_t calls;
} toy_state;

static int toy_init(ovica_solver *s, void *state)
{
    (void)s;
    ((toy_state *)state)->calls = 0;
    return OVICA_OK;
}

static int toy_solve(ovica_solver *s, const ovica__solve_args *a)
{
    const ovica_model *md = a->model;
    const size_t m = md->m, n = md->n, N = a->N, Bk = ovica__block_rows(N, n);
    int st = ovica__solver_work(s, Bk * (m + 2 * n)); /* before any work: no allocation later */
    if (st) return st;
    const double eta = 1.0 / a->L, lam = 1.0 / (md->sigma * md->sigma);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)N, (int)n, (int)m, eta * lam,
                a->X, (int)m, md->A, (int)n, 0.0, a->S, (int)n);
    st = ovica__prior_prox(md->prior, a->S, N * n, eta, a->S);
    if (st) return st;
    ((toy_state *)s->state)->calls++;
    if (a->stats != NULL) {
        double *R = s->work, *G = R + Bk * m, *scratch = G + Bk * n;
        st = ovica__fill_stats(md, a->X, N, a->S, Bk, R, G, scratch, a->L, a->stats);
        if (st) return st;
        a->stats->iterations = 1;
        a->stats->converged = N;
        a->stats->seconds = ovica__now_seconds() - a->t0;
    }
    return OVICA_OK;
}

const ovica_solver_type ovica__solver_toy = {
    .name = "toy",
    .version = OVICA__SOLVER_TYPE_VERSION,
    .state_size = sizeof(toy_state),
    .init = toy_init,
    .check = ovica__solver_check_prox,
    .solve = toy_solve,
};

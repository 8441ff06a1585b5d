/* ovica_rule_em: Monte Carlo EM from posterior draws,
 * A_new = <x s^T> <s s^T>^{-1} (Cholesky solve), applied as
 * A + rate (A_new - A) at the schedule's relative rate (peak 1). */
#include <lapacke.h>

#include "rule_internal.h"

static int em_propose(ovica_trainer *t, double *D, int *guard)
{
    (void)guard;
    const size_t m = t->m, n = t->n;
    const double draws = t->stats[ST_DRAWS];
    double *W = t->W1, *W2 = t->W2;
    /* A_new = <x s^T> <s s^T>^{-1}: solve <s s^T> A_new^T = <x s^T>^T */
    for (size_t i = 0; i < n * n; i++) W[i] = t->ss[i] / draws;
    int st = ovica__chol_ridge(W, W2, n);
    if (st) return st;
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) W2[j * m + i] = t->xs[i * n + j] / draws;
    if (LAPACKE_dpotrs(LAPACK_ROW_MAJOR, 'U', (lapack_int)n, (lapack_int)m, W, (lapack_int)n,
                       W2, (lapack_int)m) != 0)
        return ovica__error(OVICA_ENUMERIC, "Cholesky solve failed");
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) D[i * n + j] = W2[j * m + i];
    return OVICA_OK;
}

static int em_update(ovica_trainer *t, const ovica_rule_type *self, double lr, double anorm,
                     double *A1, int *guard)
{
    (void)self;
    (void)anorm;
    (void)guard;
    const size_t mn = t->m * t->n;
    const double *A = t->model->A;
    /* EM mixes in the new basis at the schedule's relative rate (peak 1) */
    double rate = ovica__rule_relative_rate(t, lr);
    if (rate > 1.0) rate = 1.0;
    for (size_t i = 0; i < mn; i++) A1[i] = A[i] + rate * (A1[i] - A[i]);
    return OVICA_OK;
}

const ovica_rule_type ovica__rule_em = {
    .name = "em",
    .version = OVICA__RULE_TYPE_VERSION,
    .state_size = 0,
    .draws = 1,
    .flags = OVICA__RULE_SPLIT | OVICA__RULE_MONITOR,
    .regime = OVICA_REGIME_DENSE,
    .propose = em_propose,
    .update = em_update,
};

const ovica_rule_type *const ovica_rule_em = &ovica__rule_em;

/* ovica_rule_plain: the plain gradient (A A^T)^{-1} dA of the natural
 * gradient's dA, by a Cholesky solve (never an explicit inverse). */
#include <cblas.h>
#include <lapacke.h>

#include "rule_internal.h"

static int plain_propose(ovica_trainer *t, double *D, int *guard)
{
    (void)guard;
    const size_t m = t->m, n = t->n;
    const double *A = t->model->A;
    double *W = t->W1, *W2 = t->W2;
    ovica__rule_score_direction(t, D);
    /* plain gradient: (A A^T)^{-1} dA by a Cholesky solve */
    if (m > n)
        return ovica__error(OVICA_ENOTSUP, "the plain rule needs m <= n (A A^T is singular)");
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)m, (int)n, 1.0, A, (int)n, 0.0,
                W2, (int)m);
    int st = ovica__chol_ridge(W2, W, m);
    if (st) return st;
    if (LAPACKE_dpotrs(LAPACK_ROW_MAJOR, 'U', (lapack_int)m, (lapack_int)n, W2, (lapack_int)m,
                       D, (lapack_int)n) != 0)
        return ovica__error(OVICA_ENUMERIC, "Cholesky solve failed");
    return OVICA_OK;
}

static int plain_update(ovica_trainer *t, const ovica_rule_type *self, double lr, double anorm,
                        double *A1, int *guard)
{
    ovica__rule_gradient_step(t, self, lr, anorm, A1, guard);
    return OVICA_OK;
}

const ovica_rule_type ovica__rule_plain = {
    .name = "plain",
    .version = OVICA__RULE_TYPE_VERSION,
    .state_size = 0,
    .draws = 0,
    .flags = OVICA__RULE_SCORES | OVICA__RULE_SPLIT | OVICA__RULE_MONITOR,
    .regime = OVICA_REGIME_MAP,
    .propose = plain_propose,
    .update = plain_update,
};

const ovica_rule_type *const ovica_rule_plain = &ovica__rule_plain;

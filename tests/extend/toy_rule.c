/* A toy rule type, the whole of what adding a rule takes besides one line
 * in src/rule/registry.c (docs/ARCHITECTURE.md, "Adding a solver or a
 * rule"). tests/check_extend.c is linked with it and with a registry
 * compiled with -D'OVICA_EXTRA_RULES(X)=X(toy)'.
 *
 * "toy" is the reconstruction rule without the renormalisation: from the
 * MAP codes' statistics, dA = (<x s^T> - A <s s^T>) / samples, applied as
 * A + lr dA. It counts its updates in its per-trainer state. */
#include <string.h>

#include <cblas.h>

#include "rule_internal.h"

typedef struct {
    size_t updates;
} toy_state;

static int toy_propose(ovica_trainer *t, double *D, int *guard)
{
    (void)guard;
    const size_t m = t->m, n = t->n;
    memcpy(D, t->xs, m * n * sizeof(double));
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)n, -1.0,
                t->model->A, (int)n, t->ss, (int)n, 1.0, D, (int)n);
    for (size_t i = 0; i < m * n; i++) D[i] /= t->stats[ST_SAMPLES];
    return OVICA_OK;
}

static int toy_update(ovica_trainer *t, const ovica_rule_type *self, double lr, double anorm,
                      double *A1, int *guard)
{
    (void)self;
    (void)anorm;
    (void)guard;
    const double *A = t->model->A;
    for (size_t i = 0; i < t->m * t->n; i++) A1[i] = A[i] + lr * A1[i];
    ((toy_state *)t->rule_state)->updates++;
    return OVICA_OK;
}

const ovica_rule_type ovica__rule_toy = {
    .name = "toy",
    .version = OVICA__RULE_TYPE_VERSION,
    .state_size = sizeof(toy_state),
    .draws = 0,
    .flags = OVICA__RULE_MONITOR,
    .regime = OVICA_REGIME_MAP,
    .propose = toy_propose,
    .update = toy_update,
};

/* ovica_rule_reconstruction: Olshausen & Field's rule
 * dA = lambda <(x - A s_hat) s_hat^T>, then unit columns. */
#include <string.h>

#include <cblas.h>

#include "rule_internal.h"

static int recon_propose(ovica_trainer *t, double *D, int *guard)
{
    (void)guard;
    const size_t m = t->m, n = t->n;
    const double *A = t->model->A;
    const double samples = t->stats[ST_SAMPLES];
    /* dA = lambda (<x s^T> - A <s s^T>) */
    double lam = 1.0 / (t->model->sigma * t->model->sigma);
    memcpy(D, t->xs, m * n * sizeof(double));
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)n, -1.0, A,
                (int)n, t->ss, (int)n, 1.0, D, (int)n);
    for (size_t i = 0; i < m * n; i++) D[i] *= lam / samples;
    return OVICA_OK;
}

static int recon_update(ovica_trainer *t, const ovica_rule_type *self, double lr, double anorm,
                        double *A1, int *guard)
{
    ovica__rule_gradient_step(t, self, lr, anorm, A1, guard);
    normalise_columns(A1, t->m, t->n);
    return OVICA_OK;
}

const ovica_rule_type ovica__rule_reconstruction = {
    .name = "reconstruction",
    .version = OVICA__RULE_TYPE_VERSION,
    .state_size = 0,
    .draws = 0,
    .flags = OVICA__RULE_SCORES | OVICA__RULE_SPLIT | OVICA__RULE_MONITOR,
    .regime = OVICA_REGIME_MAP,
    .propose = recon_propose,
    .update = recon_update,
};

const ovica_rule_type *const ovica_rule_reconstruction = &ovica__rule_reconstruction;

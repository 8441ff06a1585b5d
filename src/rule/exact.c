/* ovica_rule_exact: the exact natural gradient of the likelihood from
 * posterior draws, dA = -A(<z s^T> + I + B) (the boundary term B is
 * already in <z s^T>), optionally Adam-normalised (OVICA_TRAIN_ADAM). */
#include <math.h>
#include <string.h>

#include "rule_internal.h"

static int exact_propose(ovica_trainer *t, double *D, int *guard)
{
    (void)guard;
    ovica__rule_score_direction(t, D);
    return OVICA_OK;
}

/* Adam: the update's moving average over the root of its squares' moving
 * average, entry by entry, so that a step moves every entry by about ADAM
 * times the RMS entry of A (times the schedule's factor) whatever the scale
 * of the gradient: the flat likelihood of Laplace lines and the steep one
 * of the exponential prior get the same steps. Returns the step's scale. */
static double adam_direction(ovica_trainer *t, const ovica_rule_type *self, double lr,
                             double anorm, double *A1)
{
    const size_t mn = t->m * t->n;
    const double b1 = t->param[OVICA_TRAIN_MOMENTUM], b2 = 0.99;
    if (t->adam_n == 0.0 || t->last_rule != self) {
        memset(t->mom, 0, mn * sizeof(double));
        memset(t->var, 0, mn * sizeof(double));
        t->adam_n = 0.0;
    }
    t->adam_n += 1.0;
    const double c1 = 1.0 - pow(b1, t->adam_n), c2 = 1.0 - pow(b2, t->adam_n);
    const double rms = anorm / sqrt((double)mn);
    double vmax = 0.0;
    for (size_t i = 0; i < mn; i++) {
        t->mom[i] = b1 * t->mom[i] + (1.0 - b1) * A1[i];
        t->var[i] = b2 * t->var[i] + (1.0 - b2) * A1[i] * A1[i];
        if (t->var[i] > vmax) vmax = t->var[i];
    }
    const double eps = 1e-12 * sqrt(vmax / c2) + 1e-300;
    for (size_t i = 0; i < mn; i++)
        A1[i] = rms * (t->mom[i] / c1) / (sqrt(t->var[i] / c2) + eps);
    return t->param[OVICA_TRAIN_ADAM] * ovica__rule_relative_rate(t, lr);
}

static int exact_update(ovica_trainer *t, const ovica_rule_type *self, double lr, double anorm,
                        double *A1, int *guard)
{
    double scale = lr;
    if (t->param[OVICA_TRAIN_ADAM] > 0.0) scale = adam_direction(t, self, lr, anorm, A1);
    ovica__rule_gradient_step(t, self, scale, anorm, A1, guard);
    return OVICA_OK;
}

const ovica_rule_type ovica__rule_exact = {
    .name = "exact",
    .version = OVICA__RULE_TYPE_VERSION,
    .state_size = 0,
    .draws = 1,
    .flags = OVICA__RULE_SPLIT | OVICA__RULE_MONITOR,
    .regime = OVICA_REGIME_DENSE,
    .propose = exact_propose,
    .update = exact_update,
};

const ovica_rule_type *const ovica_rule_exact = &ovica__rule_exact;

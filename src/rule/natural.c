/* ovica_rule_natural: Lewicki & Sejnowski's natural gradient from the MAP
 * codes, dA = -A(<z s_hat^T> + I). */
#include "rule_internal.h"

static int natural_propose(ovica_trainer *t, double *D, int *guard)
{
    (void)guard;
    ovica__rule_score_direction(t, D);
    return OVICA_OK;
}

static int natural_update(ovica_trainer *t, const ovica_rule_type *self, double lr, double anorm,
                          double *A1, int *guard)
{
    ovica__rule_gradient_step(t, self, lr, anorm, A1, guard);
    return OVICA_OK;
}

const ovica_rule_type ovica__rule_natural = {
    .name = "natural",
    .version = OVICA__RULE_TYPE_VERSION,
    .state_size = 0,
    .draws = 0,
    .flags = OVICA__RULE_SCORES | OVICA__RULE_SPLIT | OVICA__RULE_MONITOR,
    .regime = OVICA_REGIME_MAP,
    .propose = natural_propose,
    .update = natural_update,
};

const ovica_rule_type *const ovica_rule_natural = &ovica__rule_natural;

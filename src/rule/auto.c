/* ovica_rule_auto: the default. The probe and the sparse route run the
 * dictionary rule; when the probe finds the sources dense
 * (ovica__auto_decide, src/trainer_sparse.c), the dense route runs Monte
 * Carlo EM for the first OVICA_TRAIN_EM_FRACTION of its steps, then the
 * exact gradient. auto never updates the basis itself: resolve() names the
 * type that runs each step. */
#include "rule_internal.h"

extern const ovica_rule_type ovica__rule_dictionary, ovica__rule_em, ovica__rule_exact;

static const ovica_rule_type *auto_resolve(const ovica_trainer *t, size_t k)
{
    if (t->regime != OVICA_REGIME_DENSE) return &ovica__rule_dictionary; /* probe, or sparse */
    size_t kk, TT;
    ovica__schedule_clock(t, k, &kk, &TT);
    double T = (double)TT * t->param[OVICA_TRAIN_EM_FRACTION];
    return (double)kk < T ? &ovica__rule_em : &ovica__rule_exact;
}

const ovica_rule_type ovica__rule_auto = {
    .name = "auto",
    .version = OVICA__RULE_TYPE_VERSION,
    .state_size = 0,
    .draws = 1,
    .flags = OVICA__RULE_BUILTIN | OVICA__RULE_DRAW_ROWS | OVICA__RULE_CHOOSES,
    .regime = OVICA_REGIME_UNDECIDED,
    .resolve = auto_resolve,
};

const ovica_rule_type *const ovica_rule_auto = &ovica__rule_auto;

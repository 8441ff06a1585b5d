/* ovica_rule_dictionary: the sparse route (docs/LEARNING.md). The
 * arithmetic lives in src/trainer_sparse.c: before a batch's codes the
 * model's sigma and prior scale follow the running noise estimate
 * (ovica__dict_prepare); the update computes the new basis itself
 * (ovica__dict_apply), so the type has no update(). */
#include "rule_internal.h"

const ovica_rule_type ovica__rule_dictionary = {
    .name = "dictionary",
    .version = OVICA__RULE_TYPE_VERSION,
    .state_size = 0,
    .draws = 0,
    .flags = OVICA__RULE_BUILTIN | OVICA__RULE_INIT_DATA | OVICA__RULE_DRAW_ROWS,
    .regime = OVICA_REGIME_SPARSE,
    .prepare = ovica__dict_prepare,
    .propose = ovica__dict_apply,
};

const ovica_rule_type *const ovica_rule_dictionary = &ovica__rule_dictionary;

/* Update-rule type objects (the arithmetic lives in trainer.c) and their
 * registry: ovica_rule_type_count/_at/_find enumerate the table below, so a
 * new rule is listed everywhere (CLI, binding, docs) from this one place. */
#include <string.h>

#include "internal.h"

static const ovica_rule_type rules[] = {
    {"natural", OVICA__RULE_NATURAL, 0},
    {"plain", OVICA__RULE_PLAIN, 0},
    {"reconstruction", OVICA__RULE_RECON, 0},
    {"exact", OVICA__RULE_EXACT, 1},
    {"em", OVICA__RULE_EM, 1},
    {"auto", OVICA__RULE_AUTO, 1},
    {"dictionary", OVICA__RULE_DICT, 0},
};

#define N_RULES (sizeof rules / sizeof rules[0])

const ovica_rule_type *const ovica_rule_natural = &rules[0];
const ovica_rule_type *const ovica_rule_plain = &rules[1];
const ovica_rule_type *const ovica_rule_reconstruction = &rules[2];
const ovica_rule_type *const ovica_rule_exact = &rules[3];
const ovica_rule_type *const ovica_rule_em = &rules[4];
const ovica_rule_type *const ovica_rule_auto = &rules[5];
const ovica_rule_type *const ovica_rule_dictionary = &rules[6];

size_t ovica_rule_type_count(void) { return N_RULES; }

const ovica_rule_type *ovica_rule_type_at(size_t i)
{
    if (i >= N_RULES) {
        ovica__error(OVICA_EINVAL, "%s: index %zu out of range (%zu rule types)", __func__, i,
                     (size_t)N_RULES);
        return NULL;
    }
    return &rules[i];
}

const ovica_rule_type *ovica_rule_type_find(const char *name)
{
    if (name == NULL) {
        ovica__error(OVICA_EINVAL, "%s: name is NULL", __func__);
        return NULL;
    }
    for (size_t i = 0; i < N_RULES; i++)
        if (strcmp(rules[i].name, name) == 0) return &rules[i];
    char known[256] = "";
    for (size_t i = 0; i < N_RULES; i++) ovica__append_name(known, sizeof known, rules[i].name);
    ovica__error(OVICA_EINVAL, "unknown rule '%s' (known: %s)", name, known);
    return NULL;
}

const char *ovica_rule_type_name(const ovica_rule_type *type) { return type ? type->name : ""; }

int ovica_rule_type_uses_draws(const ovica_rule_type *type) { return type ? type->draws : -1; }

int ovica__rule_valid(const ovica_rule_type *type)
{
    for (size_t i = 0; i < N_RULES; i++)
        if (type == &rules[i]) return 1;
    return 0;
}

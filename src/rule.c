/* The rule front end: the registry's enumeration (ovica_rule_type_count/
 * _at/_find), so that a new rule is listed everywhere (CLI, binding, docs)
 * from src/rule/registry.c. The rule types themselves are tables of
 * functions under src/rule/ (layout: src/rule_internal.h); the trainer
 * calls through them. */
#include <string.h>

#include "rule_internal.h"

size_t ovica_rule_type_count(void)
{
    size_t count;
    ovica__rule_types(&count);
    return count;
}

const ovica_rule_type *ovica_rule_type_at(size_t i)
{
    size_t count;
    const ovica_rule_type *const *types = ovica__rule_types(&count);
    if (i >= count) {
        ovica__error(OVICA_EINVAL, "%s: index %zu out of range (%zu rule types)", __func__, i,
                     count);
        return NULL;
    }
    return types[i];
}

const ovica_rule_type *ovica_rule_type_find(const char *name)
{
    if (name == NULL) {
        ovica__error(OVICA_EINVAL, "%s: name is NULL", __func__);
        return NULL;
    }
    size_t count;
    const ovica_rule_type *const *types = ovica__rule_types(&count);
    for (size_t i = 0; i < count; i++)
        if (strcmp(types[i]->name, name) == 0) return types[i];
    char known[256] = "";
    for (size_t i = 0; i < count; i++) ovica__append_name(known, sizeof known, types[i]->name);
    ovica__error(OVICA_EINVAL, "unknown rule '%s' (known: %s)", name, known);
    return NULL;
}

const char *ovica_rule_type_name(const ovica_rule_type *type) { return type ? type->name : ""; }

int ovica_rule_type_uses_draws(const ovica_rule_type *type) { return type ? type->draws : -1; }

int ovica__rule_valid(const ovica_rule_type *type)
{
    size_t count;
    const ovica_rule_type *const *types = ovica__rule_types(&count);
    for (size_t i = 0; i < count; i++)
        if (type == types[i]) return 1;
    return 0;
}

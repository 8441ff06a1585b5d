/* The rule registry: every rule type, in the order the enumeration
 * (ovica_rule_type_count/_at) lists them. A new rule is one file under
 * src/rule/ defining `const ovica_rule_type ovica__rule_NAME` and one entry
 * X(NAME) below. OVICA_EXTRA_RULES(X), when defined on the compiler's
 * command line, appends more (tests/check_extend.c is built so:
 * -D'OVICA_EXTRA_RULES(X)=X(toy)'). */
#include "rule_internal.h"

#ifndef OVICA_EXTRA_RULES
#define OVICA_EXTRA_RULES(X)
#endif

#define RULE_TYPES(X)   \
    X(natural)          \
    X(plain)            \
    X(reconstruction)   \
    X(exact)            \
    X(em)               \
    X(auto)             \
    X(dictionary)       \
    OVICA_EXTRA_RULES(X)

#define DECLARE(name) extern const ovica_rule_type ovica__rule_##name;
RULE_TYPES(DECLARE)

#define ENTRY(name) &ovica__rule_##name,
static const ovica_rule_type *const registry[] = {RULE_TYPES(ENTRY)};

const ovica_rule_type *const *ovica__rule_types(size_t *count)
{
    *count = sizeof registry / sizeof registry[0];
    return registry;
}

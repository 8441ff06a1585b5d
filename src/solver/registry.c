/* The solver registry: every solver type, in the order the enumeration
 * (ovica_solver_type_count/_at) lists them. A new solver is one file under
 * src/solver/ defining `const ovica_solver_type ovica__solver_NAME` and one
 * entry X(NAME) below. OVICA_EXTRA_SOLVERS(X), when defined on the
 * compiler's command line, appends more (tests/check_extend.c is built so:
 * -D'OVICA_EXTRA_SOLVERS(X)=X(toy)'). */
#include "solver_internal.h"

#ifndef OVICA_EXTRA_SOLVERS
#define OVICA_EXTRA_SOLVERS(X)
#endif

#define SOLVER_TYPES(X) \
    X(pg)               \
    X(ista)             \
    X(fista)            \
    X(active)           \
    X(auto)             \
    OVICA_EXTRA_SOLVERS(X)

#define DECLARE(name) extern const ovica_solver_type ovica__solver_##name;
SOLVER_TYPES(DECLARE)

#define ENTRY(name) &ovica__solver_##name,
static const ovica_solver_type *const registry[] = {SOLVER_TYPES(ENTRY)};

const ovica_solver_type *const *ovica__solver_types(size_t *count)
{
    *count = sizeof registry / sizeof registry[0];
    return registry;
}

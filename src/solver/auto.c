/* ovica_solver_auto: the exact active-set solver for the built-in priors,
 * FISTA for a user prior with a prox, projected gradient otherwise. It
 * never codes a batch itself: resolve() names the type that does. */
#include "solver_internal.h"

extern const ovica_solver_type ovica__solver_pg, ovica__solver_fista, ovica__solver_active;

static const ovica_solver_type *auto_resolve(const ovica_prior *prior)
{
    if (prior->kind != OVICA_PRIOR_USER) return &ovica__solver_active;
    return ovica_prior_has_prox(prior) ? &ovica__solver_fista : &ovica__solver_pg;
}

const ovica_solver_type ovica__solver_auto = {
    .name = "auto",
    .version = OVICA__SOLVER_TYPE_VERSION,
    .state_size = 0,
    .resolve = auto_resolve,
};

const ovica_solver_type *const ovica_solver_auto = &ovica__solver_auto;

/* ovica_solver_pg: projected (sub)gradient with step 1/L (the shared
 * first-order iteration without prox or momentum). */
#include "solver_internal.h"

static int pg_solve(ovica_solver *s, const ovica__solve_args *a)
{
    return ovica__first_order_solve(s, a, 0, 0);
}

const ovica_solver_type ovica__solver_pg = {
    .name = "pg",
    .version = OVICA__SOLVER_TYPE_VERSION,
    .state_size = 0,
    .solve = pg_solve,
};

const ovica_solver_type *const ovica_solver_pg = &ovica__solver_pg;

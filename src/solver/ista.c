/* ovica_solver_ista: proximal gradient with step 1/L (needs a prox). */
#include "solver_internal.h"

static int ista_solve(ovica_solver *s, const ovica__solve_args *a)
{
    return ovica__first_order_solve(s, a, 1, 0);
}

static int ista_solve_f32(ovica_solver *s, const ovica__solve_args_f32 *a)
{
    return ovica__first_order_solve_f32(s, a, 0);
}

const ovica_solver_type ovica__solver_ista = {
    .name = "ista",
    .version = OVICA__SOLVER_TYPE_VERSION,
    .state_size = 0,
    .check = ovica__solver_check_prox,
    .solve = ista_solve,
    .solve_f32 = ista_solve_f32,
};

const ovica_solver_type *const ovica_solver_ista = &ovica__solver_ista;

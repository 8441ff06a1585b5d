/* ovica_solver_fista: ISTA with Nesterov momentum (Beck & Teboulle) and,
 * with OVICA_SOLVER_RESTART, per-sample adaptive restart (O'Donoghue &
 * Candes). Needs a prox. */
#include "solver_internal.h"

static int fista_solve(ovica_solver *s, const ovica__solve_args *a)
{
    return ovica__first_order_solve(s, a, 1, 1);
}

static int fista_solve_f32(ovica_solver *s, const ovica__solve_args_f32 *a)
{
    return ovica__first_order_solve_f32(s, a, 1);
}

const ovica_solver_type ovica__solver_fista = {
    .name = "fista",
    .version = OVICA__SOLVER_TYPE_VERSION,
    .state_size = 0,
    .check = ovica__solver_check_prox,
    .solve = fista_solve,
    .solve_f32 = fista_solve_f32,
};

const ovica_solver_type *const ovica_solver_fista = &ovica__solver_fista;

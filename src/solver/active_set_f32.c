/* The active-set solver in single precision (ovica__active_solve_f32 and
 * its work-memory helpers): active_set.c compiled a second time with the
 * codes, data, Gram matrix and gradients in float. */
#define OVICA_ACTIVE_F32 1
#include "active_set.c"

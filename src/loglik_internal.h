/* Helpers shared by the evaluation sources (loglik.c, importance.c,
 * cluster.c, scan.c). Not exported. */
#ifndef OVICA_LOGLIK_INTERNAL_H
#define OVICA_LOGLIK_INTERNAL_H

/* Include "internal.h" (which has no complete include guard) before this. */
#include <lapacke.h>

/* OVICA_ENONFINITE / OVICA_EINVAL unless beta is finite and > 0. */
int ovica__check_beta(const char *fn, double beta);

/* c[i] = the (smoothed) curvature of -log p at s[i] used in the Hessian:
 * (beta/b^2) sech^2(beta s/b) for the built-ins, the curvature callback for a
 * user prior (which must have one). */
int ovica__hessian_diag(const ovica_prior *prior, const double *s, size_t n, double beta,
                        double *c);

/* Cholesky of the full symmetric n x n H in place (lower factor, valid in
 * either layout's reading of the lower triangle); *logdet = log det H.
 * Returns the LAPACK info. */
lapack_int ovica__logdet_spd(double *H, size_t n, double *logdet);

/* s_hat by FISTA (pg if the prior has no prox), tol 1e-9, 20000 iterations.
 * *not_converged receives the number of samples that missed the tolerance.
 * Arguments are validated by the caller. */
int ovica__map_codes(const ovica_model *model, const double *X, size_t N, size_t x_dim,
                     double *S, size_t *not_converged);

#endif

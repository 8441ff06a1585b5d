/* Helpers shared by the evaluation sources (loglik.c, importance.c,
 * cluster.c, scan.c). Not exported. */
#ifndef OVICA_LOGLIK_INTERNAL_H
#define OVICA_LOGLIK_INTERNAL_H

/* Include "internal.h" (which has no complete include guard) before this. */
#include <lapacke.h>

/* OVICA_ENONFINITE / OVICA_EINVAL unless beta is finite and > 0. */
int ovica__check_beta(const char *fn, double beta);

/* Floor of the smoothed curvature of the built-in priors, in units of 1/b^2
 * (the curvature of a Gaussian of standard deviation 3.2 b). Measured
 * against importance sampling: it moves the mean log-likelihood by at most
 * 0.07 nats per sample on models without duplicate atoms, and bounds the
 * error where near-duplicate atoms are active together (without it the
 * Hessian there is numerically singular). */
#define OVICA__CURV_FLOOR 0.1

/* c[i] = the (smoothed) curvature of -log p at s[i] used in the Hessian:
 * max((beta/b^2) sech^2(beta s/b), OVICA__CURV_FLOOR/b^2) for the built-ins,
 * the curvature callback for a user prior (which must have one). */
int ovica__hessian_diag(const ovica_prior *prior, const double *s, size_t n, double beta,
                        double *c);

/* Cholesky of the full symmetric n x n H in place (lower factor, valid in
 * either layout's reading of the lower triangle); *logdet = log det H.
 * Returns the LAPACK info. */
lapack_int ovica__logdet_spd(double *H, size_t n, double *logdet);

/* Settings of the MAP solve inside ovica_loglik_laplace() and friends:
 * measured on m = 16, n = 32, N = 10^4 sparse Laplace data, 3000 iterations
 * leave the mean log-likelihood within 1e-4 nats of its converged value
 * (1000: 2e-3); a tighter tolerance only costs time there (the batch runs
 * until its slowest sample converges). */
#define OVICA__MAP_TOL 1e-7
#define OVICA__MAP_ITER 3000

/* s_hat by FISTA (pg if the prior has no prox), OVICA__MAP_TOL, OVICA__MAP_ITER.
 * *not_converged receives the number of samples that missed the tolerance.
 * Arguments are validated by the caller. */
int ovica__map_codes(const ovica_model *model, const double *X, size_t N, size_t x_dim,
                     double *S, size_t *not_converged);

#endif

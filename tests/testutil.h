/* Helpers shared by the Check suites. */
#ifndef OVICA_TESTUTIL_H
#define OVICA_TESTUTIL_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "ovica.h"

/* Asserts that `expr` returns status `want`; on mismatch prints both codes
 * and the library's last message. */
#define ck_assert_status(expr, want)                                            \
    do {                                                                        \
        int st__ = (expr);                                                      \
        ck_assert_msg(st__ == (want), "%s returned %d (%s), wanted %d; message: %s", \
                      #expr, st__, ovica_strerror(st__), (int)(want),           \
                      ovica_error_message());                                   \
    } while (0)

/* Asserts an error status `want` with a non-empty message. */
#define ck_assert_error(expr, want)                                             \
    do {                                                                        \
        ovica_error_clear();                                                    \
        ck_assert_status(expr, want);                                           \
        ck_assert_msg(ovica_error_message()[0] != '\0', "%s: empty message", #expr); \
    } while (0)

/* Small deterministic generator for test data (independent of the library's
 * own RNG so that tests do not trust what they test). */
typedef struct { uint64_t s; } tu_rng;
void tu_seed(tu_rng *r, uint64_t seed);
double tu_uniform(tu_rng *r);          /* [0, 1) */
double tu_normal(tu_rng *r);           /* N(0, 1) */
void tu_fill_normal(tu_rng *r, double *x, size_t len, double scale);

/* Random m x m orthogonal matrix (row-major) from a QR of a Gaussian matrix. */
void tu_orthogonal(tu_rng *r, double *Q, size_t m);

/* max |a - b| over len values */
double tu_max_abs_diff(const double *a, const double *b, size_t len);

/* A Gaussian user prior's callbacks (-log p = s^2 / 2, gradient s), for
 * tests that need a valid ovica_prior_callbacks table. */
int tu_sq_neglogp(const double *s, size_t n, double *out, void *u);
int tu_sq_grad(const double *s, size_t n, double *g, void *u);

/* A sparse synthetic problem from the library's generator (seeded by
 * `seed`): a random unit basis A (m x n), Bernoulli(activity) times
 * exponential(1) sources, Gaussian noise of that level, the rows X (N x m),
 * and a model for them (exponential prior of scale 1, sigma 0.05, basis
 * unset). tu_sparse_free releases it all. */
typedef struct {
    size_t m, n, N;
    double *A, *X;
    ovica_prior *prior;
    ovica_model *model;
} tu_sparse;
void tu_sparse_make(tu_sparse *p, uint64_t seed, size_t m, size_t n, size_t N, double activity,
                    double noise);
void tu_sparse_free(tu_sparse *p);

/* Runs a suite (CK_NORMAL output), frees the runner, returns the exit code. */
int tu_run(Suite *s);

#endif

/* Internal interface between src/solver.c (the public entry points, the
 * first-order solvers) and src/solver_active.c (the exact active-set
 * solver for the built-in priors). Not exported. */
#ifndef OVICA_SOLVER_INTERNAL_H
#define OVICA_SOLVER_INTERNAL_H

#include <stddef.h>

#include "internal.h"

/* Hot loops compiled twice where the toolchain can pick a version at load
 * time (GNU ifunc): AVX2 and the baseline. Not under the sanitizers (their
 * run-time may not be up when ifunc resolvers run) or with OVICA_NO_CLONES. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define OVICA_NO_CLONES 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define OVICA_NO_CLONES 1
#endif
#if defined(__x86_64__) && defined(__linux__) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(OVICA_NO_CLONES)
#define OVICA_SIMD __attribute__((target_clones("avx2", "default")))
#else
#define OVICA_SIMD
#endif

/* Number of doubles of work memory ovica__active_solve needs for a batch of
 * N samples (rows processed in blocks of Bk) with `threads` threads; 0 if
 * the size overflows. */
size_t ovica__active_work_len(size_t N, size_t m, size_t n, size_t Bk, size_t threads);

/* Exact MAP codes for a built-in prior (Laplace: LASSO; exponential:
 * non-negative LASSO) by a batched active-set method; see solver_active.c.
 *   S:        N x n; on entry the starting point (zeros for a cold start,
 *             already projected onto the prior's domain), on exit the codes.
 *   tol:      a sample stops when its optimality violation (in the units of
 *             ovica_model_optimality) is at most tol / b (floored near the
 *             rounding level of its gradient).
 *   max_rounds: limit on verification rounds (one GEMM each).
 *   threads:  threads for the per-sample work (the caller and threads - 1
 *             workers started for the call; fewer if the system refuses).
 *   work:     ovica__active_work_len(N, m, n, Bk, threads) doubles.
 * Returns OVICA_OK (counts in *rounds and *n_conv) or an error status. */
int ovica__active_solve(const ovica_model *md, const double *X, size_t N, double *S,
                        double tol, size_t max_rounds, size_t Bk, size_t threads,
                        double *work, size_t *rounds, size_t *n_conv);

#endif /* OVICA_SOLVER_INTERNAL_H */

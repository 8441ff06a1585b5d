/**
 * @file ovica/synth.h
 * @brief Synthetic data: the article's 2-D bases, random bases, sparse
 * sources and their noisy mixtures.
 *
 * Layout (as everywhere in libovica): a basis A is m x n row-major with atom
 * i in column i; sources S are N x n row-major; data X are N x m row-major.
 *
 * Reproducibility: every random generator takes an ovica_rng handle and draws
 * from it in a fixed order, so equal seeds give equal data (bit-identical
 * on a given platform; see ovica/rng.h for what may differ across libms).
 *
 * Errors: all functions check their arguments and return a status
 * (ovica/status.h) with a message from ovica_error_message(); on error the
 * output arrays may have been partly written only where stated.
 *
 * Threads: the functions keep no state; calls on distinct rng handles and
 * output arrays may run concurrently.
 */
#ifndef OVICA_SYNTH_H
#define OVICA_SYNTH_H

#include "common.h"
#include "prior.h"
#include "rng.h"

OVICA_BEGIN_DECLS

/** The article's fixed 2-D bases. */
enum ovica_synth_set {
    /** 3 unit atoms at 90, 210 and 330 degrees (120 degrees apart). */
    OVICA_SYNTH_REGULAR3 = 0,
    /** 4 unit atoms at 15, 38, 140 and 250 degrees (15 and 38: a close pair). */
    OVICA_SYNTH_IRREGULAR4 = 1
};

/**
 * @brief Writes one of the article's 2-D bases.
 *
 * Atom i is (cos theta_i, sin theta_i), stored in column i:
 * A[0*cols + i] = cos theta_i, A[1*cols + i] = sin theta_i.
 * @param set  enum ovica_synth_set.
 * @param A    output, rows x cols doubles, row-major.
 * @param rows must be 2.
 * @param cols must be 3 for OVICA_SYNTH_REGULAR3, 4 for OVICA_SYNTH_IRREGULAR4.
 * @return OVICA_OK; OVICA_EINVAL (A NULL, unknown set); OVICA_ESIZE (rows or
 *         cols do not match the set). A is untouched on error.
 */
OVICA_API int ovica_synth_basis_2d(int set, double *A, size_t rows, size_t cols);

/**
 * @brief Random basis: i.i.d. N(0,1) entries, each column scaled to unit
 * Euclidean length (directions uniform on the sphere).
 *
 * Draws column by column (column 0's m entries first). A column of exact
 * zeros (probability 0) is redrawn.
 * @param r rng handle (advanced).
 * @param A output, m x n doubles, row-major.
 * @param m rows (dimension), > 0.
 * @param n columns (atoms), > 0.
 * @return OVICA_OK; OVICA_EINVAL (NULL, zero size); OVICA_ESIZE (m*n overflows).
 */
OVICA_API int ovica_synth_random_basis(ovica_rng *r, double *A, size_t m, size_t n);

/**
 * @brief Sparse i.i.d. sources.
 *
 * Each entry, in row-major order, is active with probability `activity`
 * (one ovica_rng_uniform() draw u; active iff u < activity); an active
 * entry is then drawn from the prior with scale b (ovica_rng_laplace or
 * ovica_rng_exponential), an inactive one is 0. With activity = 1 every
 * entry is drawn from the prior.
 * @param r          rng handle (advanced).
 * @param prior_kind OVICA_PRIOR_LAPLACE or OVICA_PRIOR_EXPONENTIAL.
 * @param b          scale, finite and > 0 (E|s| = b for active entries).
 * @param activity   probability of being active, in (0, 1].
 * @param S          output, N x n doubles, row-major.
 * @param N          samples (rows), > 0.
 * @param n          sources (columns), > 0.
 * @return OVICA_OK; OVICA_EINVAL (NULL, zero size, unknown or user prior
 *         kind, b <= 0, activity outside (0, 1]); OVICA_ENONFINITE (b or
 *         activity NaN or infinite); OVICA_ESIZE (N*n overflows). S is
 *         untouched on error.
 */
OVICA_API int ovica_synth_sources(ovica_rng *r, int prior_kind, double b, double activity,
                                  double *S, size_t N, size_t n);

/**
 * @brief Noisy mixture X = S A^T + E, E i.i.d. N(0, noise_sigma^2).
 *
 * Row k of X is A s_k + e_k for row s_k of S. The product is one
 * cblas_dgemm; the noise is then added in row-major order. With
 * noise_sigma = 0 no random numbers are drawn and r may be NULL.
 * @param r           rng handle (advanced when noise_sigma > 0).
 * @param A           basis, m x n row-major (only read).
 * @param m           dimension, > 0.
 * @param n           atoms, > 0.
 * @param S           sources, N x n row-major (only read).
 * @param N           samples, > 0.
 * @param noise_sigma noise standard deviation, finite and >= 0.
 * @param X           output, N x m row-major; must not overlap A or S.
 * @return OVICA_OK; OVICA_EINVAL (NULL, zero size, noise_sigma < 0, r NULL
 *         with noise_sigma > 0); OVICA_ENONFINITE (NaN/Inf in noise_sigma, A
 *         or S); OVICA_ESIZE (a size exceeds the BLAS integer range). X is
 *         untouched on error.
 */
OVICA_API int ovica_synth_mix(ovica_rng *r, const double *A, size_t m, size_t n,
                              const double *S, size_t N, double noise_sigma, double *X);

OVICA_END_DECLS

#endif /* OVICA_SYNTH_H */

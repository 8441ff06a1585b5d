/**
 * @file ovica/metrics.h
 * @brief Recovery metrics for a learned basis when the true basis is known.
 *
 * Both bases are m x n row-major with atom i in column i (A_learned is
 * m x n_learned, A_true is m x n_true); they need not have unit columns:
 * columns are normalised internally (inputs are only read).
 *
 * Similarity of a learned atom a and a true atom t is cos = <a, t>/(|a| |t|),
 * taken as |cos| when use_sign is 0 (a sign flip of an atom is a symmetry of
 * symmetric priors such as Laplace) and as cos itself when use_sign is
 * non-zero (for non-negative priors, where -a is a different atom). A
 * column of zeros has similarity 0 with everything (no NaN).
 *
 * Learned atoms are matched one-to-one to true atoms by the assignment that
 * maximises the total similarity (Hungarian method, O(k^2 K) time for a
 * k x K problem, k = min(n_learned, n_true), K = max).
 *
 * Angles are in degrees, computed as 2 atan2(|u - v|, |u + v|) for the unit
 * vectors u, v (v sign-flipped when use_sign is 0 and cos < 0): the angle
 * whose cosine is the similarity, but accurate also for tiny angles, where
 * acos(cos) loses half the digits. Range: [0, 90] when use_sign is 0,
 * [0, 180] otherwise.
 *
 * Threads: the functions keep no state and may be called concurrently.
 */
#ifndef OVICA_METRICS_H
#define OVICA_METRICS_H

#include "common.h"

OVICA_BEGIN_DECLS

/**
 * @brief Optimal one-to-one matching of learned atoms to true atoms.
 *
 * @param A_learned learned basis, m x n_learned row-major (only read).
 * @param m         dimension, > 0.
 * @param n_learned number of learned atoms, > 0.
 * @param A_true    true basis, m x n_true row-major (only read).
 * @param n_true    number of true atoms, > 0.
 * @param use_sign  0: similarity |cos|; non-zero: cos (see the file comment).
 * @param assign    output, n_true entries or NULL: assign[j] is the index of
 *                  the learned atom matched to true atom j, or SIZE_MAX when
 *                  n_learned < n_true and true atom j is left unmatched.
 * @param angle_deg output, n_true entries or NULL: angle in degrees between
 *                  true atom j and its match; for an unmatched true atom the
 *                  largest possible angle (90 when use_sign is 0, else 180).
 * @return OVICA_OK; OVICA_EINVAL (NULL basis, zero size); OVICA_ESIZE (a
 *         size exceeds the BLAS integer range or overflows);
 *         OVICA_ENONFINITE (NaN/Inf in a basis); OVICA_ENOMEM. The outputs
 *         are untouched on error.
 */
OVICA_API int ovica_atoms_match(const double *A_learned, size_t m, size_t n_learned,
                                const double *A_true, size_t n_true, int use_sign,
                                size_t *assign, double *angle_deg);

/** Version of struct ovica_recovery understood by this library. */
#define OVICA_RECOVERY_VERSION 1

/**
 * @brief Summary of how well a learned basis recovers the true one.
 * Initialise with OVICA_RECOVERY_INIT (sets the version).
 */
typedef struct ovica_recovery {
    unsigned int version;  /**< OVICA_RECOVERY_VERSION; set by the caller */
    size_t n_true;         /**< number of true atoms */
    size_t n_learned;      /**< number of learned atoms */
    double max_angle_deg;  /**< largest matched angle over true atoms (degrees) */
    double mean_angle_deg; /**< mean matched angle over true atoms (degrees) */
    double mmcs;           /**< mean over true atoms of the best similarity
                                with ANY learned atom (not only the matched one) */
    size_t recovered;      /**< true atoms matched within threshold_deg */
    size_t dead;           /**< learned atoms whose code column is all zeros */
} ovica_recovery;

/** Static initialiser for struct ovica_recovery. */
#define OVICA_RECOVERY_INIT { OVICA_RECOVERY_VERSION, 0, 0, 0, 0, 0, 0, 0 }

/**
 * @brief Evaluates the recovery of a true basis by a learned one.
 *
 * Matches atoms as ovica_atoms_match() and fills *out: max and mean of the
 * per-true-atom angles (unmatched true atoms count with the largest possible
 * angle), MMCS, the number of true atoms matched within threshold_deg
 * (angle <= threshold_deg), and the number of dead learned atoms, i.e. those
 * whose column of S is exactly zero in every row (never active on the data).
 *
 * @param A_learned     learned basis, m x n_learned row-major (only read).
 * @param m             dimension, > 0.
 * @param n_learned     number of learned atoms, > 0.
 * @param A_true        true basis, m x n_true row-major (only read).
 * @param n_true        number of true atoms, > 0.
 * @param use_sign      0: similarity |cos|; non-zero: cos.
 * @param threshold_deg angle in degrees within which an atom counts as
 *                      recovered; finite and >= 0.
 * @param S             codes of the data under A_learned, N x n_learned
 *                      row-major (only read, tested for exact zeros only),
 *                      or NULL: then dead = 0 and N is ignored.
 * @param N             rows of S, > 0 when S is given.
 * @param out           result, last as every output; out->version set by
 *                      OVICA_RECOVERY_INIT (any version from 1 to
 *                      OVICA_RECOVERY_VERSION). Written only on success.
 * @return OVICA_OK; OVICA_EINVAL (NULL out or basis, zero size, negative
 *         threshold, N = 0 with S given); OVICA_EVERSION (out->version 0 or
 *         above OVICA_RECOVERY_VERSION); OVICA_ENONFINITE (NaN/Inf in a basis or
 *         threshold); OVICA_ESIZE; OVICA_ENOMEM.
 */
OVICA_API int ovica_recovery_eval(const double *A_learned, size_t m, size_t n_learned,
                                  const double *A_true, size_t n_true, int use_sign,
                                  double threshold_deg, const double *S, size_t N,
                                  ovica_recovery *out);

OVICA_END_DECLS

#endif /* OVICA_METRICS_H */

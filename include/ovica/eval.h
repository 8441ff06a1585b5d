/**
 * @file ovica/eval.h
 * @brief Model comparison: log-likelihood log P(x|A) (Laplace approximation
 *        and an importance-sampling check) and bits per dimension.
 *
 * Units: natural logarithms (nats) throughout, except the bits of
 * ovica_loglik_bits(). Layout as everywhere in libovica: X is N x m
 * row-major, S is N x n row-major, A is m x n with atom i in column i.
 *
 * The Laplace approximation (Lewicki & Sejnowski eq. 4; MATH.md):
 *
 *     log P(x|A) ~= log p(s_hat) - (lambda/2) ||x - A s_hat||^2
 *                   + (m/2) log(lambda / (2 pi)) + (n/2) log(2 pi)
 *                   - (1/2) log det H,
 *     H = lambda A^T A + diag(c_i),   lambda = 1/sigma^2,
 *
 * where s_hat is the MAP code. Both built-in priors are piecewise linear in
 * -log p, so their true curvature is 0 away from the kink at 0 and H is
 * singular when n > m. As Lewicki & Sejnowski do, the prior's score is
 * replaced, for the Hessian only, by -(1/b) tanh(beta s / b), which gives
 *
 *     c_i = max((beta / b^2) * (1 - tanh^2(beta s_hat_i / b)), 0.1 / b^2).
 *
 * (The floor 0.1/b^2, the curvature of a Gaussian 3.2 b wide, keeps H
 * positive definite when near-duplicate atoms are active together, where
 * the tanh term underflows; elsewhere it moves the result by at most 0.07
 * nats per sample in the cases measured.)
 *
 * `beta` is therefore dimensionless, in units of 1/b: the actual slope of
 * the tanh is beta/b, and an inactive coordinate (s_hat_i = 0) gets
 * curvature beta/b^2. The same smoothing is used for the exponential prior,
 * whose kink is at 0 too. For a user prior, c_i is its curvature callback
 * -d^2 log p/ds^2 at s_hat_i, unsmoothed (beta is then validated but not
 * used); a user prior without one gives OVICA_ENOTSUP.
 *
 * How good is the approximation? See docs/MODEL-COMPARISON.md for the
 * figures measured against ovica_loglik_importance() and against quadrature.
 *
 * Threads: the functions keep no state; the model is only read, so several
 * threads may evaluate one model at once.
 */
#ifndef OVICA_EVAL_H
#define OVICA_EVAL_H

#include "common.h"
#include "model.h"

OVICA_BEGIN_DECLS

/** Recommended beta for the Laplace prior (units of 1/b); measured, see below. */
#define OVICA_LOGLIK_BETA_LAPLACE 2.0
/** Recommended beta for the exponential prior (units of 1/b). */
#define OVICA_LOGLIK_BETA_EXPONENTIAL 20.0

/**
 * @brief The recommended `beta` for a prior: OVICA_LOGLIK_BETA_LAPLACE,
 * OVICA_LOGLIK_BETA_EXPONENTIAL, or 1 for a user prior (for which beta is
 * not used); NaN for NULL.
 *
 * Why these values: the error of the smoothed approximation, measured
 * against ovica_loglik_importance() on data drawn from the model (random
 * unit bases 2x3, 3x6, 4x8, 8x12, sigma 0.05 and 0.2, b = 1), is a bias that
 * grows with n - m and changes sign with beta. The mean per-sample bias is
 * smallest near beta = 1.5-2 for the Laplace prior (|bias| <= 0.25 nats at
 * beta 2; about -0.6 nats per null-space dimension at beta 10) and near
 * beta = 20 for the exponential prior (|bias| <= 0.5 nats). Lewicki &
 * Sejnowski left beta open; docs/MODEL-COMPARISON.md has the tables.
 */
OVICA_API double ovica_loglik_beta_default(const ovica_prior *prior);

/**
 * @brief Laplace approximation of log P(x|A) given the MAP codes.
 *
 * Cost: one n x n Gram matrix A^T A per call, then per sample an n x n
 * Cholesky factorisation (LAPACK dpotrf), i.e. about N n^3 / 3 flops. All
 * work memory (about n^2 + N m + 2n doubles) is allocated once per call.
 *
 * @param model      the model (only read); its basis must be set.
 * @param X          N x m row-major data (finite).
 * @param N          number of samples, >= 1.
 * @param x_dim      row length of X; must equal the model's m.
 * @param S          N x n row-major MAP codes s_hat of the rows of X, as
 *                   computed by the caller (e.g. ovica_solver_infer); finite
 *                   and inside the prior's domain. The formula is evaluated
 *                   at S whatever it is: codes that are not the MAP give a
 *                   meaningless value.
 * @param s_dim      row length of S; must equal the model's n.
 * @param beta       tanh smoothing of the kink in units of 1/b, finite and
 *                   > 0 (see the file comment; ovica_loglik_beta_default()).
 * @param per_sample optional (NULL): N values log P(x_k|A), in nats.
 * @param mean       optional (NULL): their mean over the batch, in nats.
 * @return OVICA_OK; OVICA_EINVAL (NULL model/X/S, N = 0, beta <= 0);
 *         OVICA_ESIZE (x_dim or s_dim wrong); OVICA_ENONFINITE (NaN/Inf in
 *         X, S or beta); OVICA_EDOMAIN (S outside the prior's domain);
 *         OVICA_ENOTSUP (user prior without curvature); OVICA_EUSER (a
 *         prior callback stopped); OVICA_ENUMERIC (H not positive definite
 *         at some sample: the message names it; e.g. a user prior with zero
 *         curvature and n > m); OVICA_ENOMEM. Outputs are unspecified on
 *         error (per_sample may be partly written; mean is untouched).
 */
OVICA_API int ovica_loglik_codes(const ovica_model *model, const double *X, size_t N,
                                 size_t x_dim, const double *S, size_t s_dim, double beta,
                                 double *per_sample, double *mean);

/**
 * @brief Laplace approximation of log P(x|A), computing s_hat itself.
 *
 * s_hat comes from a FISTA solver (with adaptive restart; projected
 * gradient for a user prior without prox) run to a relative tolerance of
 * 1e-7 or 3000 iterations, then ovica_loglik_codes() is applied. Memory:
 * N n doubles for the codes plus the solver's and ovica_loglik_codes()'s.
 * The MAP solve dominates the time (the Laplace part of m = 16, n = 32,
 * N = 10^4 takes 0.03 s, the MAP solve seconds); a host that already has
 * the codes, or wants other solver settings, calls ovica_loglik_codes().
 *
 * @param model, X, N, x_dim, beta, per_sample, mean as ovica_loglik_codes().
 * @return as ovica_loglik_codes(), and OVICA_NOT_CONVERGED (> 0: the
 *         outputs are written, but some sample's MAP code had not met the
 *         tolerance within the iteration limit, so its value is slightly
 *         off; the message says how many).
 */
OVICA_API int ovica_loglik_laplace(const ovica_model *model, const double *X, size_t N,
                                   size_t x_dim, double beta, double *per_sample, double *mean);

/** Largest number of atoms n that ovica_loglik_importance() accepts. */
#define OVICA_IMPORTANCE_MAX_ATOMS 16

/**
 * @brief Importance-sampling estimate of log P(x|A), to validate the
 *        Laplace approximation (for small n).
 *
 * P(x|A) = E_q[ p(s) N(x; A s, sigma^2 I) / q(s) ] is estimated per sample
 * from `draws` draws of a proposal q centred on the MAP code s_hat
 * (computed as in ovica_loglik_laplace()): a defensive mixture of the prior
 * (weight 0.1, which bounds the weights) and four multivariate Student-t
 * components (5 degrees of freedom) with covariances
 * (lambda A^T A + diag(c(beta)))^{-1},
 * beta = 0.5, 2, 8, 32 in units of 1/b, from wider to narrower than the
 * posterior along the directions the data leave free. For the exponential
 * prior the coordinates with s_hat_i = 0 (up to six of them) are folded onto
 * s_i >= 0. Weights are summed in the log domain. The estimator of P(x|A)
 * is unbiased; its logarithm is biased low by about var/2 (the squared
 * standard error), negligible when the standard error is small.
 *
 * Cost: about N * draws * (4 n^2 + m n) flops (times 2^k when k coordinates
 * are folded); intended for validation on small problems, not for training.
 *
 * @param model       the model (only read); a built-in prior; n <=
 *                    OVICA_IMPORTANCE_MAX_ATOMS; its basis must be set.
 * @param X           N x m row-major data (finite).
 * @param N           number of samples, >= 1.
 * @param x_dim       row length of X; must equal the model's m.
 * @param draws       draws per sample, >= 16 (10^4 - 10^5 gives standard
 *                    errors of 10^-3 - 10^-2 nats on 2-D data).
 * @param seed        seeds the generator: equal seeds give equal results.
 * @param per_sample  optional (NULL): N estimates of log P(x_k|A), nats.
 * @param mean        optional (NULL): their mean, nats.
 * @param stderr_mean optional (NULL): standard error of `mean` from the
 *                    sampling (delta method on each sample's weights), nats.
 * @return OVICA_OK; OVICA_NOT_CONVERGED (> 0, outputs written: some MAP code
 *         missed its tolerance; the estimate stays valid, only its proposal
 *         is slightly off-centre); OVICA_EINVAL (NULL model/X, N = 0,
 *         draws < 16, basis all zero); OVICA_ESIZE; OVICA_ENONFINITE (NaN/Inf
 *         in X); OVICA_ENOTSUP (user prior, n too large); OVICA_ENUMERIC;
 *         OVICA_ENOMEM. Outputs unspecified on error.
 */
OVICA_API int ovica_loglik_importance(const ovica_model *model, const double *X, size_t N,
                                      size_t x_dim, size_t draws, uint64_t seed,
                                      double *per_sample, double *mean, double *stderr_mean);

/**
 * @brief Clusters the atoms of a basis by direction: weighted spherical
 *        k-means.
 *
 * Meant for an over-provisioned basis (more atoms than the data have
 * sources), where several learned atoms point along one true direction.
 * Each non-zero atom a_i is normalised to u_i = a_i / |a_i| and carries a
 * weight w_i >= 0 (e.g. how much it is used on data, ovica_atoms_usage();
 * NULL: all 1). The similarity of u and a centroid c is cos(u, c), or
 * |cos(u, c)| when use_sign is 0 (a and -a then count as one direction, as
 * they do under a symmetric prior; members are sign-aligned to their
 * centroid). The clustering maximises the weighted cohesion
 * sum_i w_i sim(u_i, c_assign(i)), with centroids c_q = the normalised
 * weighted (sign-aligned) sum of their members; 10 runs from k-means++
 * seedings (first centre drawn by weight, the next by weight times
 * 1 - similarity to the nearest centre) of up to 100 iterations each, the
 * best run kept. Atoms of weight 0 are assigned but do not move centroids.
 * Clusters are numbered by decreasing total weight; with use_sign 0 each
 * merged atom is oriented so that its largest-magnitude entry is positive.
 *
 * @param A        basis, m x n row-major, atom i in column i (only read);
 *                 finite. Zero columns take no part.
 * @param m        dimension, >= 1.
 * @param n        number of atoms, >= 1.
 * @param weights  optional (NULL): n finite weights >= 0 whose sum over the
 *                 non-zero atoms is > 0.
 * @param k        number of clusters, 1 <= k <= number of non-zero atoms.
 * @param use_sign 0: directions up to sign; non-zero: signed directions
 *                 (use for the exponential prior).
 * @param seed     seeds the k-means++ draws; equal seeds give equal output.
 * @param merged   output, m x k row-major: the unit centroids (merged
 *                 atoms) in column q. Rescale with ovica_atoms_rescale().
 * @param assign   output, n entries: the cluster of atom i, or SIZE_MAX for
 *                 a zero atom.
 * @return OVICA_OK; OVICA_EINVAL (NULL, zero size, k out of range, negative
 *         weight, weights summing to 0); OVICA_ENONFINITE (NaN/Inf in A or
 *         weights); OVICA_ESIZE (size overflow); OVICA_ENOMEM. Outputs are
 *         untouched on error.
 */
OVICA_API int ovica_atoms_cluster(const double *A, size_t m, size_t n, const double *weights,
                                  size_t k, int use_sign, uint64_t seed, double *merged,
                                  size_t *assign);

/**
 * @brief Gives merged atoms a length: the weighted mean of their members'
 *        norms.
 *
 * Column q of `merged` is rescaled to length sum_{i in q} w_i |a_i| /
 * sum_{i in q} w_i (the plain mean if the cluster's weights are all 0; it
 * keeps length 1 if the cluster is empty). Its direction is kept.
 *
 * @param A, m, n, weights as ovica_atoms_cluster().
 * @param assign  n entries from ovica_atoms_cluster() (values < k or
 *                SIZE_MAX).
 * @param k       number of clusters, 1 <= k <= n.
 * @param merged  in/out, m x k row-major; every column non-zero and finite.
 * @return OVICA_OK; OVICA_EINVAL; OVICA_ENONFINITE; OVICA_ESIZE.
 */
OVICA_API int ovica_atoms_rescale(const double *A, size_t m, size_t n, const double *weights,
                                  const size_t *assign, size_t k, double *merged);

/**
 * @brief Chooses the number of merged atoms k by held-out log-likelihood.
 *
 * For every k in [k_min, k_max] the model's atoms are clustered
 * (ovica_atoms_cluster(), signed when the model's prior is non-negative,
 * unsigned otherwise), rescaled (ovica_atoms_rescale()), and the m x k
 * merged basis, with the model's prior and sigma, is scored by the mean
 * Laplace-approximation log-likelihood (ovica_loglik_laplace(), this beta)
 * of the held-out data X. The k with the highest score wins (the smallest k
 * on a tie). The merged atoms are not refitted to the data: the score measures
 * the merge itself; train a model with k atoms started from `merged` for a
 * refit.
 *
 * @param model   the over-provisioned model (only read); built-in or user
 *                prior as ovica_loglik_laplace() allows.
 * @param weights optional (NULL) atom weights as in ovica_atoms_cluster().
 * @param X       held-out data, N x m row-major (finite), N >= 1; x_dim = m.
 * @param k_min, k_max  the range, 1 <= k_min <= k_max <= n.
 * @param beta    as ovica_loglik_laplace() (see ovica_loglik_beta_default()).
 * @param seed    as ovica_atoms_cluster() (the same seed for every k).
 * @param k_best  out: the chosen k.
 * @param loglik  optional (NULL): k_max - k_min + 1 scores in nats per
 *                sample, loglik[k - k_min].
 * @param merged  out: room for m * k_max doubles; receives the chosen
 *                basis, m x k_best row-major (row length k_best).
 * @param assign  out, n entries: the chosen clustering.
 * @return OVICA_OK; the errors of ovica_atoms_cluster() and
 *         ovica_loglik_laplace(); OVICA_EINVAL for a bad range. Outputs unspecified on error.
 */
OVICA_API int ovica_atoms_choose_k(const ovica_model *model, const double *weights, const double *X,
                                   size_t N, size_t x_dim, size_t k_min, size_t k_max, double beta,
                                   uint64_t seed, size_t *k_best, double *loglik, double *merged,
                                   size_t *assign);

/**
 * @brief How much each atom is used on data: the weights for clustering.
 *
 * usage_i = mean over the samples of |s_hat_i| * |a_i|, the mean amplitude
 * that atom i contributes to the reconstruction A s_hat (in the data's
 * units), with s_hat the MAP codes computed as in ovica_loglik_laplace().
 * Unlike a count of non-zero codes, it tells a strong atom from one that is
 * often active with tiny coefficients, and it is defined for models trained
 * from posterior draws.
 *
 * @param model  the model (only read); its basis must be set.
 * @param X      N x m row-major data (finite), N >= 1; x_dim = m.
 * @param usage  out, n values >= 0.
 * @param n      entries of usage; must equal the model's n.
 * @return OVICA_OK; OVICA_EINVAL; OVICA_ESIZE; OVICA_ENONFINITE;
 *         OVICA_ENOTSUP, OVICA_EUSER (prior); OVICA_ENOMEM.
 */
OVICA_API int ovica_atoms_usage(const ovica_model *model, const double *X, size_t N, size_t x_dim,
                                double *usage, size_t n);

/**
 * @brief Merges an over-provisioned model to k atoms and refits them on the
 *        data: the experiment with too many atoms, in one call.
 *
 * Three steps: the usage of each atom on X (ovica_atoms_usage()); the atoms
 * clustered to k by direction with those weights (ovica_atoms_cluster(),
 * signed when the prior is non-negative, up to sign otherwise) and rescaled
 * (ovica_atoms_rescale()); then a model of k atoms with the model's prior
 * and sigma, trained on X with the trainer's defaults (ovica_rule_auto for
 * its default number of steps, the whole of X passed at every step)
 * starting from the merged atoms. The refit is what makes the merge exact:
 * spare atoms of an over-provisioned basis settle on directions that are
 * sums of two sources, and the usage-weighted centroids are pulled a few
 * degrees towards them; from the merged start the k-atom training ends on
 * the sources (docs/LEARNING.md has the measurements).
 *
 * @param out    out: the merged, refitted model (m x k); free it with
 *               ovica_model_free(). Its sigma and prior scale are the ones
 *               the trainer ended with. Untouched on error.
 * @param model  the over-provisioned model (only read); built-in prior or
 *               a user prior the trainer and ovica_atoms_usage() accept.
 * @param X      N x m row-major data (finite), N >= 1; x_dim = m.
 * @param k      number of merged atoms, 1 <= k <= n (and at most the
 *               number of atoms in use).
 * @param seed   seeds the clustering and the trainer.
 * @param assign optional (NULL): n entries, the cluster of each atom (as
 *               ovica_atoms_cluster()).
 * @return OVICA_OK; OVICA_EINVAL (NULL, k out of range, a zero basis);
 *         OVICA_ESIZE; OVICA_ENONFINITE; OVICA_ENOMEM; the errors of the
 *         trainer.
 */
OVICA_API int ovica_model_merge(ovica_model **out, const ovica_model *model, const double *X,
                                size_t N, size_t x_dim, size_t k, uint64_t seed,
                                size_t *assign);

/**
 * @brief Callback of ovica_atoms_scan(): receives each trained model
 * (borrowed, valid during the call; clone it to keep it). A non-zero return
 * stops the scan with OVICA_EUSER.
 */
typedef int (*ovica_atoms_scan_fn)(size_t index, const ovica_model *model, void *user);

/**
 * @brief The number-of-atoms scan: trains a model for each candidate number
 *        of atoms and scores it on held-out data.
 *
 * For each atoms[i]: a model with m = proto's dimension, atoms[i] atoms,
 * proto's prior and sigma is trained by an ovica_trainer with the trainer's
 * defaults (ovica_rule_auto, OVICA_TRAIN_STEPS = steps, OVICA_INIT_SPREAD
 * from X_train, the trainer seeded with `seed`) for `steps` steps on
 * consecutive batches of `batch` rows of X_train (cycling; 0 means the whole
 * set each step), then its best basis is restored (when the monitor ran)
 * and it is scored by the mean Laplace log-likelihood
 * (ovica_loglik_laplace(), this beta) of X_test. Nothing from X_test is used in training.
 *
 * @param proto    supplies m, the prior and sigma (its basis and n are not
 *                 used); only read.
 * @param X_train  N_train x m training data; @param X_test N_test x m
 *                 held-out data (finite; N_train, N_test >= 1).
 * @param x_dim    row length of both; must equal proto's m.
 * @param atoms    count candidate numbers of atoms, each >= 1.
 * @param count    number of candidates, >= 1.
 * @param steps    training steps per candidate, >= 1.
 * @param batch    rows per step (0: all of X_train).
 * @param seed     trainer seed (the same for every candidate).
 * @param beta     as ovica_loglik_laplace() (see ovica_loglik_beta_default()).
 * @param quantum  quantisation step for `bits` (> 0; ignored if bits is NULL).
 * @param loglik   out, count values: held-out mean log-likelihood, nats/sample.
 * @param bits     optional (NULL) out, count values: bits per dimension at
 *                 `quantum` (ovica_loglik_bits()).
 * @param best     optional (NULL) out: the index i of the highest loglik
 *                 (the smallest number of atoms on a tie).
 * @param on_model optional (NULL) callback for each trained model; @param
 *                 user passed to it.
 * @return OVICA_OK; OVICA_EINVAL, OVICA_ESIZE, OVICA_ENONFINITE (arguments);
 *         the trainer's and ovica_loglik_laplace()'s errors; OVICA_EUSER
 *         (callback). Outputs for the candidates done so far are written on error.
 */
OVICA_API int ovica_atoms_scan(const ovica_model *proto, const double *X_train, size_t N_train,
                               const double *X_test, size_t N_test, size_t x_dim,
                               const size_t *atoms, size_t count, size_t steps, size_t batch,
                               uint64_t seed, double beta, double quantum, double *loglik,
                               double *bits, size_t *best, ovica_atoms_scan_fn on_model,
                               void *user);

/**
 * @brief Bits per dimension of data quantised to steps of `quantum`.
 *
 * If every coordinate of x is quantised to a grid of step `quantum`, the
 * probability of a quantised vector is P(x) ~= p(x) quantum^m, so its code
 * length per dimension is
 *
 *     bits = (-mean_loglik / ln 2) / m - log2(quantum).
 *
 * Lower is better. Only differences between models on the same data and
 * quantum are meaningful.
 *
 * @param mean_loglik mean log-likelihood per sample in nats (e.g. from
 *                    ovica_loglik_laplace()), finite.
 * @param m           data dimension, >= 1.
 * @param quantum     quantisation step in the data's units, finite and > 0.
 * @param out         receives the bits per dimension.
 * @return OVICA_OK; OVICA_EINVAL (out NULL, m = 0, quantum <= 0);
 *         OVICA_ENONFINITE (NaN/Inf argument). *out untouched on error.
 */
OVICA_API int ovica_loglik_bits(double mean_loglik, size_t m, double quantum, double *out);

OVICA_END_DECLS

#endif /* OVICA_EVAL_H */

/**
 * @file ovica/sampler.h
 * @brief Exact posterior draws of the sources s given x, for a batch.
 *
 * For the model x = A s + e, e ~ N(0, sigma_t^2 I), with a built-in factorial
 * prior (Laplace or exponential), the sampler runs one Markov chain per
 * sample of a batch. Each sweep is
 *   1. a Gibbs pass: every coordinate i of every chain is redrawn from its
 *      exact conditional p(s_i | s_-i, x). With r = x - sum_{j != i} a_j s_j,
 *      c = ||a_i||^2, mu0 = a_i^T r / c, tau^2 = sigma_t^2 / c:
 *        - exponential(b): N(mu0 - tau^2/b, tau^2) truncated to [0, inf);
 *        - Laplace(b): a two-piece mixture, N(mu0 - tau^2/b, tau^2) on
 *          [0, inf) and N(mu0 + tau^2/b, tau^2) on (-inf, 0), the side chosen
 *          by its exact mass (computed in the log domain);
 *        - an atom with a_i = 0 (c = 0): the prior itself.
 *      The truncated normals use the tail-safe ovica_rng_truncated_normal().
 *   2. OVICA_SAMPLER_NULL_MOVES hit-and-run moves per chain along random
 *      directions d of the null space of A (A d = 0), where the Gaussian
 *      term is constant and the conditional of the step t is
 *      prod_i p(s_i + t d_i): a truncated exponential (exponential prior) or
 *      a piecewise-exponential density cut at the breakpoints -s_i/d_i
 *      (Laplace); both are drawn exactly. These moves are what makes the
 *      chains mix when sigma_t is small next to the sources' scale
 *      (single-coordinate Gibbs then moves only about sigma_t per sweep along
 *      the affine set {s : A s = x}). The null space comes from an SVD of A
 *      made once per call (O(m n^2 + n^3)), with numerical rank tolerance
 *      max(m, n) * DBL_EPSILON * sigma_max(A); when it is trivial (rank n)
 *      no moves are made. The directions of all chains come from one GEMM.
 * Both steps leave the posterior invariant, so the chains' states are exact
 * posterior draws once the chains have forgotten their starting point.
 *
 * Batched implementation: the residual R = X - S A^T (N x m) is kept for the
 * whole batch; per coordinate one matrix-vector product over a block of
 * chains (sized to stay in cache) gives every chain's mu0 and one rank-1
 * update corrects R. R is recomputed with a
 * GEMM at the start of each call and every OVICA_SAMPLER_REFRESH sweeps
 * (against rounding drift). Work memory lives in the handle and grows with
 * the largest batch seen; nothing is allocated inside the sweeps.
 *
 * Annealing: the noise level sigma_t is an argument of every run; the
 * model's own sigma is not used, so a trainer can sample at a larger noise
 * level that it lowers over training.
 *
 * Ownership: a sampler made by ovica_sampler_new() belongs to the caller and
 * is released with ovica_sampler_free(). The sampler owns its random number
 * generator; the chains' states (S) and the accumulators belong to the
 * caller, who keeps the chains between runs (persistent chains).
 *
 * Threads: a sampler handle is used by one thread at a time; the model is
 * only read, so one model may serve several samplers in several threads.
 * Separate samplers with different seeds give independent streams.
 */
#ifndef OVICA_SAMPLER_H
#define OVICA_SAMPLER_H

#include "common.h"
#include "model.h"

OVICA_BEGIN_DECLS

/** Opaque sampler handle (holds its RNG, parameters and work memory). */
typedef struct ovica_sampler ovica_sampler;

/**
 * @brief Creates a sampler with default parameters and its own generator.
 * @param out  receives the sampler (caller-owned); untouched on error.
 * @param seed seed of the sampler's generator (xoshiro256**, ovica/rng.h);
 *             equal seeds and equal inputs give bit-identical draws.
 * @return OVICA_OK; OVICA_EINVAL (out NULL); OVICA_ENOMEM.
 */
OVICA_API int ovica_sampler_new(ovica_sampler **out, uint64_t seed);

/** @brief Frees a sampler and its work memory; NULL is a no-op. */
OVICA_API void ovica_sampler_free(ovica_sampler *s);

/** Sampler parameters (values frozen). All are doubles; both are integers
 *  and are rounded to the nearest integer when set. */
enum ovica_sampler_param {
    /** Null-space hit-and-run moves per chain and sweep, [0, 1000]; default
     *  1. 0 gives single-coordinate Gibbs only. */
    OVICA_SAMPLER_NULL_MOVES = 0,
    /** Recompute the residual X - S A^T by GEMM every this many sweeps,
     *  [1, 1e6]; default 1. */
    OVICA_SAMPLER_REFRESH = 1
};

/**
 * @brief Sets a parameter (sticky until changed).
 * @param s     the sampler.
 * @param param an enum ovica_sampler_param value.
 * @param value the new value, rounded to an integer, within the bounds above.
 * @return OVICA_OK; OVICA_EINVAL (s NULL, unknown param, value out of bounds:
 *         the previous value is kept); OVICA_ENONFINITE (value NaN or Inf).
 */
OVICA_API int ovica_sampler_set_param(ovica_sampler *s, int param, double value);

/**
 * @brief Reads a parameter.
 * @param s     the sampler (only read).
 * @param param an enum ovica_sampler_param value.
 * @param out   receives the value.
 * @return OVICA_OK; OVICA_EINVAL (NULL argument, unknown param).
 */
OVICA_API int ovica_sampler_get_param(const ovica_sampler *s, int param, double *out);

/**
 * @brief Number of sampler parameters: the ids 0 .. count-1 are the values of
 * enum ovica_sampler_param. With ovica_sampler_param_name() it enumerates them, so that
 * hosts (the CLI, the Python binding, checkpoints) list the parameters
 * instead of copying their names (added in 0.3).
 * @return the count (2 in 0.3); it only grows between releases.
 */
OVICA_API int ovica_sampler_param_count(void);

/**
 * @brief The name of a sampler parameter ("null_moves", "refresh").
 * @param param an enum ovica_sampler_param value, 0 <= param < ovica_sampler_param_count().
 * @return a static string; NULL (message set, OVICA_EINVAL) when param is
 *         out of range (added in 0.3).
 */
OVICA_API const char *ovica_sampler_param_name(int param);

/**
 * @brief Looks a sampler parameter up by name (ovica_sampler_param_name() of one
 * of its ids), for hosts that take settings as text.
 * @param name the parameter's name.
 * @param out  receives the parameter's id; untouched on error.
 * @return OVICA_OK; OVICA_EINVAL (name or out NULL; unknown name: the
 *         message lists the known names) (added in 0.3).
 */
OVICA_API int ovica_sampler_param_find(const char *name, int *out);

/** Version of struct ovica_posterior_accum understood by this library. */
#define OVICA_POSTERIOR_ACCUM_VERSION 1

/**
 * @brief Sums over posterior draws, the statistics of the update rules.
 *
 * Every array is optional (NULL: not accumulated), row-major, owned by the
 * caller, and added to (never cleared) by ovica_sampler_run(): zero them to
 * start a sum, or keep adding over several runs and batches (the sums of
 * several processes may be added together). Dividing by `draws` gives
 * posterior means, e.g. the exact natural gradient of MATH.md
 *     A A^T grad_A log P(X|A) = -A ((zs + bnd) / draws + I)
 * (bnd only for the exponential prior), or the Monte Carlo EM update
 * A = xs ss^{-1}. One draw is one (sample, sweep) pair.
 * Initialise with OVICA_POSTERIOR_ACCUM_INIT.
 */
typedef struct ovica_posterior_accum {
    unsigned int version; /**< OVICA_POSTERIOR_ACCUM_VERSION */
    /** n x n: += sum over draws of z s^T, z = d log p/ds at the draw
     *  (Laplace: -sign(s)/b; exponential: -1/b). */
    double *zs;
    /** n x n: += sum over draws of s s^T. */
    double *ss;
    /** m x n: += sum over draws of x s^T. */
    double *xs;
    /** n x n, exponential prior only: += sum over draws of p_i(0 | s_-i, x) s_j
     *  for i != j, the Rao-Blackwellised boundary term B of MATH.md, where
     *  p_i(0 | s_-i, x) is the density at 0 of coordinate i's conditional,
     *  evaluated when coordinate i is redrawn, with s_j the chain's state at
     *  that moment. The diagonal is left untouched; for the Laplace prior
     *  (B = 0) the whole array is left unchanged. */
    double *bnd;
    /** += number of (sample, sweep) draws accumulated (N per sweep). */
    double draws;
} ovica_posterior_accum;

/** Static initialiser for struct ovica_posterior_accum (no arrays, 0 draws). */
#define OVICA_POSTERIOR_ACCUM_INIT { OVICA_POSTERIOR_ACCUM_VERSION, NULL, NULL, NULL, NULL, 0.0 }

/**
 * @brief Runs `sweeps` sweeps of the chains S at noise level sigma_t.
 *
 * Each sweep is one Gibbs pass over all n coordinates of every chain, then
 * OVICA_SAMPLER_NULL_MOVES null-space moves per chain (see the file's
 * description). After every sweep the draws are added to acc.
 *
 * @param s       the sampler (its RNG advances; work memory is reused).
 * @param model   the model (only read): its basis A and prior; its sigma is
 *                NOT used. The prior must be a built-in one.
 * @param sigma_t noise standard deviation to sample at, finite and > 0 (and
 *                within [1e-150, 1e150], so that sigma_t^2 is a normal double).
 * @param X       N x m row-major data (finite values), one sample per row.
 * @param N       number of samples (chains), >= 1.
 * @param x_dim   row length of X; must equal the model's m.
 * @param S       N x n row-major chain states. In: the current states (e.g.
 *                s_hat from ovica_solver_infer(), or the previous run's
 *                output), finite; for the exponential prior negative values
 *                are first projected to 0. Out: the last draw of every chain.
 * @param s_dim   row length of S; must equal the model's n.
 * @param sweeps  number of sweeps; 0 only projects S onto the domain.
 * @param acc     optional (NULL): accumulators, added to after every sweep;
 *                its arrays must have the sizes stated at
 *                struct ovica_posterior_accum.
 * @return OVICA_OK; OVICA_EINVAL (s, model, X or S NULL, N = 0, sigma_t <= 0
 *         or outside the range above); OVICA_ESIZE (x_dim or s_dim disagree
 *         with the model); OVICA_ENONFINITE (NaN or Inf in X, S or sigma_t);
 *         OVICA_EVERSION (acc->version unknown); OVICA_ENOTSUP (user prior:
 *         no conditional sampler); OVICA_ENUMERIC (the SVD of A failed);
 *         OVICA_ENOMEM. On these errors S and acc are unchanged and the
 *         sampler stays usable. OVICA_ENUMERIC is also returned, after the
 *         sweeps (S and acc then hold their results), if a draw came out
 *         non-finite, which the guards make unreachable in practice, or if
 *         an entry of acc overflowed to Inf or NaN (extreme scales, e.g.
 *         b near 1e308): acc is then not to be used.
 */
OVICA_API int ovica_sampler_run(ovica_sampler *s, const ovica_model *model, double sigma_t,
                                const double *X, size_t N, size_t x_dim, double *S,
                                size_t s_dim, size_t sweeps, ovica_posterior_accum *acc);

OVICA_END_DECLS

#endif /* OVICA_SAMPLER_H */

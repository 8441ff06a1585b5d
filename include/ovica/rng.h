/**
 * @file ovica/rng.h
 * @brief Seeded, reproducible random number generator handle.
 *
 * The generator is xoshiro256** (Blackman & Vigna 2018) with its 256-bit
 * state filled from the 64-bit seed by splitmix64, as the authors of
 * xoshiro recommend. There is no global generator: every function that
 * draws random numbers takes a handle, so runs are reproducible and separate
 * handles can be used from separate threads.
 *
 * Reproducibility: ovica_rng_u64() and ovica_rng_uniform() give bit-identical
 * streams on every platform for a given seed. The other variates are
 * computed from these with log, sqrt and exp from the C library's libm, so
 * on another libm they may differ in the last bits (never in the sequence of
 * uniforms consumed, except where a rejection test compares a value that
 * close to its threshold).
 *
 * The variate functions (ovica_rng_u64 ... ovica_rng_truncated_normal) are
 * hot-loop functions: they do not check the handle, and passing NULL is
 * undefined behaviour. Invalid real parameters (a scale b that is not finite
 * and > 0, a NaN bound, lo > hi) make them return NaN without drawing. The
 * int-returning functions check all arguments and report errors through
 * the status codes of ovica/status.h.
 *
 * Ownership: a handle made by ovica_rng_new() or ovica_rng_clone() belongs to
 * the caller and is released with ovica_rng_free().
 *
 * Threads: a handle is used by one thread at a time; distinct handles may be
 * used concurrently. For parallel streams, clone a handle and call
 * ovica_rng_jump() on each clone a different number of times (or seed each
 * handle differently).
 */
#ifndef OVICA_RNG_H
#define OVICA_RNG_H

#include "common.h"

OVICA_BEGIN_DECLS

/** Opaque generator handle. */
typedef struct ovica_rng ovica_rng;

/**
 * @brief Creates a generator seeded with `seed` (any value, including 0).
 * @param out  receives the new handle (caller-owned); untouched on error.
 * @param seed the seed; equal seeds give equal streams.
 * @return OVICA_OK; OVICA_EINVAL (out NULL); OVICA_ENOMEM.
 */
OVICA_API int ovica_rng_new(ovica_rng **out, uint64_t seed);

/**
 * @brief Creates an independent copy of a generator, in the same state: both
 * handles then produce the same stream.
 * @param out receives the copy (caller-owned); untouched on error.
 * @param r   the generator to copy (only read).
 * @return OVICA_OK; OVICA_EINVAL (NULL argument); OVICA_ENOMEM.
 */
OVICA_API int ovica_rng_clone(ovica_rng **out, const ovica_rng *r);

/** @brief Frees a generator; NULL is a no-op. */
OVICA_API void ovica_rng_free(ovica_rng *r);

/**
 * @brief Re-seeds a generator: afterwards it produces exactly the stream of a
 * handle freshly made by ovica_rng_new(&h, seed).
 * @return OVICA_OK; OVICA_EINVAL (r NULL).
 */
OVICA_API int ovica_rng_seed(ovica_rng *r, uint64_t seed);

/**
 * @brief Advances the generator by 2^128 draws of ovica_rng_u64() (the
 * xoshiro256** jump function), giving a stream that does not overlap the
 * next 2^128 values of the original. Clears any cached normal variate.
 * @return OVICA_OK; OVICA_EINVAL (r NULL).
 */
OVICA_API int ovica_rng_jump(ovica_rng *r);

/**
 * @brief Next 64-bit output of xoshiro256**.
 * @param r a valid handle (NULL is undefined behaviour).
 */
OVICA_API uint64_t ovica_rng_u64(ovica_rng *r);

/**
 * @brief Uniform double in [0, 1) with 53 random bits: (u64 >> 11) * 2^-53.
 * @param r a valid handle (NULL is undefined behaviour).
 */
OVICA_API double ovica_rng_uniform(ovica_rng *r);

/**
 * @brief Standard normal variate N(0, 1) (Marsaglia's polar method; the second
 * variate of each pair is cached in the handle and returned by the next call).
 * @param r a valid handle (NULL is undefined behaviour).
 */
OVICA_API double ovica_rng_normal(ovica_rng *r);

/**
 * @brief Exponential variate with mean b (density exp(-s/b)/b on s >= 0).
 * @param r a valid handle (NULL is undefined behaviour).
 * @param b scale (the mean), finite and > 0.
 * @return a value >= 0; NaN (nothing drawn) if b is not finite and > 0.
 */
OVICA_API double ovica_rng_exponential(ovica_rng *r, double b);

/**
 * @brief Laplace variate with scale b (density exp(-|s|/b)/(2b); E|s| = b).
 * @param r a valid handle (NULL is undefined behaviour).
 * @param b scale, finite and > 0.
 * @return a real value; NaN (nothing drawn) if b is not finite and > 0.
 */
OVICA_API double ovica_rng_laplace(ovica_rng *r, double b);

/**
 * @brief Standard normal variate truncated to [lo, hi].
 *
 * Either bound may be infinite (lo = -INFINITY and/or hi = INFINITY). The
 * sampler is exact and tail-safe: it uses Robert's (1995) exponential
 * rejection for intervals far out in a tail (e.g. lo = 30 or hi = -40),
 * uniform rejection for narrow intervals, and normal or half-normal
 * rejection otherwise; it never inverts the normal CDF. Every branch accepts
 * with probability above about 0.3 per trial, and the number of trials is
 * capped (at a level that is never reached in practice) so the call always
 * returns. The result always lies in [lo, hi].
 *
 * @param r  a valid handle (NULL is undefined behaviour).
 * @param lo lower bound, may be -INFINITY.
 * @param hi upper bound, may be +INFINITY; lo < hi (lo == hi returns lo).
 * @return the draw; NaN (nothing drawn) if a bound is NaN, lo > hi, or
 *         lo == hi == +-INFINITY.
 */
OVICA_API double ovica_rng_truncated_normal(ovica_rng *r, double lo, double hi);

/**
 * @brief Fills x[0..len) with standard normal variates; the same values, in
 * the same order, as len calls of ovica_rng_normal().
 * @param r   the generator.
 * @param x   output array of len doubles; may be NULL only if len is 0.
 * @param len number of values.
 * @return OVICA_OK; OVICA_EINVAL (r NULL, or x NULL with len > 0).
 */
OVICA_API int ovica_rng_fill_normal(ovica_rng *r, double *x, size_t len);

OVICA_END_DECLS

#endif /* OVICA_RNG_H */

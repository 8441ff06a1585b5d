/**
 * @file ovica/prior.h
 * @brief Priors on the sources: Laplace, exponential, and user priors.
 *
 * A prior p(s) = prod_i p(s_i) is factorial; a prior handle describes one
 * coordinate's density. Sign conventions (MATH.md):
 *   - neglogp: -log p(s), including the normalising constant;
 *   - grad:    d(-log p)/ds, a subgradient at kinks (the score is z = -grad);
 *   - prox:    prox_{t(-log p)}(v) = argmin_u t(-log p(u)) + (u - v)^2 / 2;
 *   - curvature: -d^2 log p / ds^2 (0 where -log p is linear).
 *
 * Built-in priors, scale b > 0 (both have E|s| = b):
 *   - Laplace(b):     -log p(s) = |s|/b + log(2b), s real;
 *   - exponential(b): -log p(s) = s/b + log b, s >= 0.
 *
 * Ownership: a prior handle is owned by its creator and freed with
 * ovica_prior_free(). A model copies the prior it is given (ovica_model_new),
 * so the caller may free its own handle at once. A user prior's `user`
 * pointer is never owned: it must outlive every copy of the prior.
 *
 * Threads: the evaluation functions only read the handle; a prior may be
 * evaluated from several threads at once if its user callbacks allow it.
 */
#ifndef OVICA_PRIOR_H
#define OVICA_PRIOR_H

#include "common.h"

OVICA_BEGIN_DECLS

/** Opaque prior handle. */
typedef struct ovica_prior ovica_prior;

/** Support of a prior. */
enum ovica_domain {
    OVICA_DOMAIN_REAL = 0,   /**< s may take any real value */
    OVICA_DOMAIN_NONNEG = 1  /**< s >= 0 (non-negative features) */
};

/** Which family a prior belongs to. */
enum ovica_prior_kind {
    OVICA_PRIOR_LAPLACE = 0,
    OVICA_PRIOR_EXPONENTIAL = 1,
    OVICA_PRIOR_USER = 2
};

/**
 * @brief Creates a Laplace(b) prior: -log p(s) = |s|/b + log(2b).
 * @param out receives the new prior (caller-owned); untouched on error.
 * @param b   scale, finite and > 0.
 * @return OVICA_OK, OVICA_EINVAL (out NULL or b <= 0), OVICA_ENONFINITE, OVICA_ENOMEM.
 */
OVICA_API int ovica_prior_laplace_new(ovica_prior **out, double b);

/**
 * @brief Creates an exponential(b) prior on s >= 0: -log p(s) = s/b + log b.
 * @param out receives the new prior (caller-owned); untouched on error.
 * @param b   scale (mean), finite and > 0.
 * @return OVICA_OK, OVICA_EINVAL, OVICA_ENONFINITE, OVICA_ENOMEM.
 */
OVICA_API int ovica_prior_exponential_new(ovica_prior **out, double b);

/** Version of struct ovica_prior_callbacks understood by this library. */
#define OVICA_PRIOR_CALLBACKS_VERSION 1

/**
 * @brief Table of callbacks defining a user prior (one coordinate's density).
 *
 * Every function works elementwise on an array of `count` values, returns 0
 * on success and non-zero to stop the computation (the library call then
 * returns OVICA_EUSER), and takes the table's `user` pointer last. Values
 * passed are inside the declared domain. Initialise with
 * OVICA_PRIOR_CALLBACKS_INIT so that fields added in later versions get
 * their defaults.
 */
typedef struct ovica_prior_callbacks {
    unsigned int version;  /**< OVICA_PRIOR_CALLBACKS_VERSION */
    int domain;            /**< enum ovica_domain */
    const char *name;      /**< short name (copied); may be NULL */
    /** Required: *out = sum_i -log p(s[i]). */
    int (*neglogp)(const double *s, size_t count, double *out, void *user);
    /** Required: g[i] = d(-log p)/ds at s[i] (a subgradient at kinks). */
    int (*grad)(const double *s, size_t count, double *g, void *user);
    /** Optional (needed by ISTA/FISTA): out[i] = prox_{t(-log p)}(v[i]). */
    int (*prox)(const double *v, size_t count, double t, double *out, void *user);
    /** Optional (needed by likelihood estimates): c[i] = -d^2 log p/ds^2 at s[i]. */
    int (*curvature)(const double *s, size_t count, double *c, void *user);
} ovica_prior_callbacks;

/** Static initialiser for struct ovica_prior_callbacks. */
#define OVICA_PRIOR_CALLBACKS_INIT \
    { OVICA_PRIOR_CALLBACKS_VERSION, OVICA_DOMAIN_REAL, NULL, NULL, NULL, NULL, NULL }

/**
 * @brief Creates a user prior from a table of callbacks.
 * @param out  receives the new prior; untouched on error.
 * @param cb   the callbacks; the table is copied, so it may be temporary.
 * @param user passed unchanged to every callback; not owned.
 * @return OVICA_OK; OVICA_EINVAL (NULL out/cb, missing neglogp or grad, bad
 *         domain); OVICA_EVERSION (unknown cb->version); OVICA_ENOMEM.
 */
OVICA_API int ovica_prior_user_new(ovica_prior **out, const ovica_prior_callbacks *cb,
                                   void *user);

/** @brief Copies a prior (a user prior's `user` pointer is shared, not copied). */
OVICA_API int ovica_prior_clone(ovica_prior **out, const ovica_prior *prior);

/** @brief Frees a prior; NULL is a no-op. */
OVICA_API void ovica_prior_free(ovica_prior *prior);

/** @brief The prior's family (enum ovica_prior_kind), or -1 if prior is NULL. */
OVICA_API int ovica_prior_kind(const ovica_prior *prior);

/** @brief The prior's domain (enum ovica_domain), or -1 if prior is NULL. */
OVICA_API int ovica_prior_domain(const ovica_prior *prior);

/** @brief "laplace", "exponential", or the user prior's name ("user" if none). */
OVICA_API const char *ovica_prior_name(const ovica_prior *prior);

/**
 * @brief The scale b of a built-in prior.
 * @return OVICA_OK, OVICA_EINVAL (NULL), OVICA_ENOTSUP (user prior).
 */
OVICA_API int ovica_prior_scale(const ovica_prior *prior, double *out);

/**
 * @brief Whether the prior has a prox (1) or not (0); -1 for NULL.
 */
OVICA_API int ovica_prior_has_prox(const ovica_prior *prior);

/**
 * @brief Sum of -log p over an array: *out = sum_i -log p(s[i]).
 * @return OVICA_OK; OVICA_EINVAL (NULL); OVICA_EDOMAIN (a negative value under
 *         a non-negative prior); OVICA_EUSER (callback stopped).
 */
OVICA_API int ovica_prior_neglogp(const ovica_prior *prior, const double *s, size_t count,
                                  double *out);

/**
 * @brief Elementwise (sub)gradient of -log p: g[i] = d(-log p)/ds at s[i].
 *
 * For the built-ins at s = 0 the subgradient 0 is returned (the centre of
 * the subdifferential [-1/b, 1/b] or (-inf, 1/b]). g may alias s.
 * @return as ovica_prior_neglogp.
 */
OVICA_API int ovica_prior_grad(const ovica_prior *prior, const double *s, size_t count,
                               double *g);

/**
 * @brief Elementwise prox: out[i] = argmin_u t(-log p(u)) + (u - v[i])^2 / 2.
 *
 * Laplace: soft threshold at t/b; exponential: max(v - t/b, 0). out may
 * alias v.
 * @return OVICA_OK; OVICA_EINVAL (NULL, t <= 0); OVICA_ENONFINITE (t or a v[i]
 *         NaN or Inf); OVICA_ENOTSUP (user prior
 *         without prox); OVICA_EUSER.
 */
OVICA_API int ovica_prior_prox(const ovica_prior *prior, const double *v, size_t count,
                               double t, double *out);

/**
 * @brief Elementwise curvature c[i] = -d^2 log p/ds^2 at s[i].
 *
 * Both built-ins are piecewise linear in -log p, so this is 0 away from 0
 * (the likelihood estimate smooths the kink separately).
 * @return OVICA_OK; OVICA_EINVAL; OVICA_ENOTSUP (user prior without curvature).
 */
OVICA_API int ovica_prior_curvature(const ovica_prior *prior, const double *s, size_t count,
                                    double *c);

OVICA_END_DECLS

#endif /* OVICA_PRIOR_H */

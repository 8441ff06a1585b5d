/**
 * @file ovica/model.h
 * @brief The model: basis A (m x n), noise level sigma, and the prior.
 *
 * Generative model x = A s + e, e ~ N(0, sigma^2 I), p(s) = prod_i p(s_i);
 * lambda = 1/sigma^2 is the noise precision. A is stored row-major, m x n,
 * atom i is column i.
 *
 * The model caches values derived from A (the Lipschitz constant
 * L = lambda ||A||_2^2 of the smooth part of the MAP objective); every
 * setter keeps them correct, eagerly, so that a model no thread modifies can
 * be shared read-only by several threads running inference.
 *
 * Ownership: ovica_model_new() copies the prior; accessors returning const
 * pointers lend memory owned by the model, valid until the next call that
 * modifies the model or frees it.
 */
#ifndef OVICA_MODEL_H
#define OVICA_MODEL_H

#include "common.h"
#include "prior.h"

OVICA_BEGIN_DECLS

/** Opaque model handle. */
typedef struct ovica_model ovica_model;

/**
 * @brief Creates a model with basis A = 0 (set it with ovica_model_set_basis).
 * @param out   receives the model (caller-owned); untouched on error.
 * @param m     data dimension, >= 1.
 * @param n     number of atoms, >= 1 (n > m is the overcomplete case).
 * @param prior the prior; copied.
 * @param sigma noise standard deviation, in [1e-150, 1e150] (so that
 *              1/sigma^2 is a normal double).
 * @return OVICA_OK, OVICA_EINVAL, OVICA_ENONFINITE, OVICA_ENOMEM.
 */
OVICA_API int ovica_model_new(ovica_model **out, size_t m, size_t n, const ovica_prior *prior,
                              double sigma);

/** @brief Deep copy of a model (its prior copied as by ovica_prior_clone). */
OVICA_API int ovica_model_clone(ovica_model **out, const ovica_model *model);

/** @brief Frees a model; NULL is a no-op. */
OVICA_API void ovica_model_free(ovica_model *model);

/** @brief Data dimension m (0 if model is NULL). */
OVICA_API size_t ovica_model_dim(const ovica_model *model);

/** @brief Number of atoms n (0 if model is NULL). */
OVICA_API size_t ovica_model_atoms(const ovica_model *model);

/**
 * @brief Replaces the basis.
 * @param A    m x n row-major values, copied.
 * @param rows must equal m; @param cols must equal n (else OVICA_ESIZE).
 * @return OVICA_OK; OVICA_EINVAL (NULL); OVICA_ESIZE; OVICA_ENONFINITE (NaN or
 *         Inf in A: the model keeps its previous basis); OVICA_ENUMERIC (the
 *         eigenvalue computation for the Lipschitz constant failed).
 */
OVICA_API int ovica_model_set_basis(ovica_model *model, const double *A, size_t rows,
                                    size_t cols);

/**
 * @brief Copies the basis into out (m x n row-major); rows/cols must be m, n.
 * @return OVICA_OK, OVICA_EINVAL, OVICA_ESIZE.
 */
OVICA_API int ovica_model_get_basis(const ovica_model *model, double *out, size_t rows,
                                    size_t cols);

/**
 * @brief Borrowed pointer to the basis (m x n row-major), or NULL if model is
 * NULL. Valid until the model is modified or freed.
 */
OVICA_API const double *ovica_model_basis(const ovica_model *model);

/** @brief Noise standard deviation sigma (NaN if model is NULL). */
OVICA_API double ovica_model_sigma(const ovica_model *model);

/**
 * @brief Sets sigma (in [1e-150, 1e150]) and updates the cached Lipschitz constant.
 * @return OVICA_OK, OVICA_EINVAL, OVICA_ENONFINITE.
 */
OVICA_API int ovica_model_set_sigma(ovica_model *model, double sigma);

/** @brief Borrowed pointer to the model's prior (NULL if model is NULL). */
OVICA_API const ovica_prior *ovica_model_prior(const ovica_model *model);

/**
 * @brief Replaces the prior (copied).
 * @return OVICA_OK, OVICA_EINVAL, OVICA_ENOMEM (the old prior is kept).
 */
OVICA_API int ovica_model_set_prior(ovica_model *model, const ovica_prior *prior);

/**
 * @brief Lipschitz constant L = ||A||_2^2 / sigma^2 of the gradient of the
 * smooth part of the MAP objective (cached; 0 when A = 0).
 * @return OVICA_OK, OVICA_EINVAL.
 */
OVICA_API int ovica_model_lipschitz(const ovica_model *model, double *out);

/**
 * @brief MAP objective E(s) = ||x - A s||^2 / (2 sigma^2) - log p(s) for a batch.
 * @param per_sample optional (may be NULL): N values E(s_k).
 * @param mean       optional (may be NULL): mean over the batch.
 * @param X N x m row-major data; @param S N x n row-major codes.
 * @param x_dim must equal m; @param s_dim must equal n.
 * @return OVICA_OK, OVICA_EINVAL, OVICA_ESIZE, OVICA_ENONFINITE, OVICA_EDOMAIN
 *         (S outside the prior's domain), OVICA_ENOMEM, OVICA_EUSER.
 */
OVICA_API int ovica_model_objective(const ovica_model *model, const double *X, size_t N,
                                    size_t x_dim, const double *S, size_t s_dim,
                                    double *per_sample, double *mean);

/**
 * @brief Worst violation of the optimality condition of s_hat over a batch.
 *
 * With g = A^T (x - A s) / sigma^2, s is optimal iff g lies in the
 * subdifferential of -log p at s. For the built-in priors this returns
 * max over samples and atoms of the distance from g_i to that set (exactly;
 * in units of the gradient, compare with 1/b); for a user prior with a prox
 * the fixed-point residual |s - prox_{1/L}(s + g/L)| * L, otherwise
 * |g - grad(-log p)(s)|.
 * @return as ovica_model_objective.
 */
OVICA_API int ovica_model_optimality(const ovica_model *model, const double *X, size_t N,
                                     size_t x_dim, const double *S, size_t s_dim,
                                     double *worst);

OVICA_END_DECLS

#endif /* OVICA_MODEL_H */

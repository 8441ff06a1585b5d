/*
 * Internal helpers shared by the library's sources. Nothing here is exported
 * (the library is built with -fvisibility=hidden); names use the `ovica__`
 * prefix.
 */
#ifndef OVICA_INTERNAL_H
#define OVICA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* The library implements the experimental surface too (ovica/debug.h, the
 * statistics layout of ovica/trainer.h), so it sees its declarations. */
#ifndef OVICA_EXPERIMENTAL
#  define OVICA_EXPERIMENTAL 1
#endif
#include "ovica.h"

#define OVICA__PI 3.14159265358979323846
#define OVICA__SQRT2 1.41421356237309504880
#define OVICA__SQRT2PI 2.50662827463100050242

#if defined(__GNUC__)
#  define OVICA__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#  define OVICA__PRINTF(a, b)
#endif

/* Records `status` and a printf-style message as the calling thread's last
 * error and returns `status`, so that callers can write
 *     return ovica__error(OVICA_EINVAL, "sigma must be > 0 (got %g)", s);  */
int ovica__error(int status, const char *fmt, ...) OVICA__PRINTF(2, 3);

/* Allocation: every allocation of the library goes through these, so that an
 * allocator hook or failure injection can be added in one place. */
void *ovica__malloc(size_t size);
void *ovica__calloc(size_t count, size_t size);
void *ovica__realloc(void *p, size_t size);
void ovica__free(void *p);

/* a*b without overflow: returns 0 and stores the product, or -1. */
static inline int ovica__mul_size(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a) return -1;
    *out = a * b;
    return 0;
}

/* Allocates count doubles (uninitialised); NULL with an OVICA_ENOMEM error
 * recorded (naming `what`) on failure or overflow. */
double *ovica__alloc_doubles(size_t count, const char *what);

/* Returns OVICA_OK if all len values are finite; else OVICA_ENONFINITE with a
 * message naming `what` and the (row, col) of the first bad value, where
 * `cols` is the row length used to compute it (pass 1 for a vector). */
int ovica__check_finite(const double *x, size_t len, size_t cols, const char *what);
/* The same for single-precision values. */
int ovica__check_finite_f32(const float *x, size_t len, size_t cols, const char *what);

/* Checks that p is not NULL; OVICA_EINVAL naming `what` otherwise. */
#define OVICA__CHECK_NULL(p, what)                                           \
    do {                                                                     \
        if ((p) == NULL)                                                     \
            return ovica__error(OVICA_EINVAL, "%s: %s is NULL", __func__, what); \
    } while (0)

/* Versioned structs (a first member `unsigned int version`): a caller built
 * against any version from 1 up to the library's `current` is accepted (the
 * library reads only the members that version has); 0 and versions newer
 * than the library's are refused with OVICA_EVERSION, naming `fn` and
 * `what`. Returns OVICA_OK or OVICA_EVERSION. */
int ovica__check_version(const char *fn, const char *what, unsigned int version,
                         unsigned int current);

/* Appends `name` to the NUL-terminated list in buf (len bytes), separated
 * by ", " from what is already there; truncates (with "...") rather than
 * overflow. For the "known: ..." part of messages built from a registry. */
void ovica__append_name(char *buf, size_t len, const char *name);

/* Standard normal CDF tail helpers used by samplers and likelihoods. */
double ovica__log_ndtr(double x); /* log Phi(x), accurate in both tails */


/* ---- priors (src/prior.c) ---- */
struct ovica_prior {
    int kind;                   /* enum ovica_prior_kind */
    int domain;                 /* enum ovica_domain */
    double b;                   /* scale of the built-ins */
    ovica_prior_callbacks cb;   /* user prior */
    void *user;
    char name[64];
};

/* Unchecked kernels used by the solvers (arguments already validated). */
int ovica__prior_prox(const ovica_prior *p, const double *v, size_t count, double t,
                      double *out);
int ovica__prior_grad(const ovica_prior *p, const double *s, size_t count, double *g);
int ovica__prior_neglogp(const ovica_prior *p, const double *s, size_t count, double *out);
/* Worst distance of g[i] (= A^T(x - A s)/sigma^2) from the subdifferential of
 * -log p at s[i] (built-ins), over count values; user priors: see model.h. */
int ovica__prior_violation(const ovica_prior *p, const double *s, const double *g,
                           size_t count, double L, double *scratch, double *worst);
/* Returns OVICA_EDOMAIN if some s[i] lies outside the prior's domain. */
int ovica__prior_check_domain(const ovica_prior *p, const double *s, size_t count,
                              size_t cols, const char *what);

/* ---- model (src/model.c) ---- */
struct ovica_model {
    size_t m, n;
    double *A;          /* m x n row-major */
    double sigma;
    double norm2;       /* ||A||_2^2, kept in step with A */
    ovica_prior *prior;
};

/* ||A||_2^2 of an m x n row-major matrix via the smaller Gram matrix. */
int ovica__spectral_norm2(const double *A, size_t m, size_t n, double *out);

/* Validates the (model, X, N, x_dim, S, s_dim) arguments shared by batch
 * entry points; `fn` names the caller in messages. */
int ovica__check_batch(const char *fn, const ovica_model *model, const double *X, size_t N,
                       size_t x_dim, const void *S, size_t s_dim);
/* The same checks without the one of X's values (NULL, sizes). */
int ovica__check_batch_shape(const char *fn, const ovica_model *model, const void *X, size_t N,
                             size_t x_dim, const void *S, size_t s_dim);

/* ---- rules: the type objects' layout is in src/rule_internal.h ---- */

#endif /* OVICA_INTERNAL_H */

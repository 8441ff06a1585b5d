#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static int prior_alloc(ovica_prior **out, int kind, int domain, double b, const char *name)
{
    ovica_prior *p = ovica__calloc(1, sizeof *p);
    if (p == NULL) return ovica__error(OVICA_ENOMEM, "cannot allocate a prior");
    p->kind = kind;
    p->domain = domain;
    p->b = b;
    snprintf(p->name, sizeof p->name, "%s", name);
    *out = p;
    return OVICA_OK;
}

static int check_scale(const char *fn, ovica_prior **out, double b)
{
    if (out == NULL) return ovica__error(OVICA_EINVAL, "%s: out is NULL", fn);
    if (isnan(b) || isinf(b))
        return ovica__error(OVICA_ENONFINITE, "%s: scale b is %g", fn, b);
    if (!(b > 0.0)) return ovica__error(OVICA_EINVAL, "%s: scale b must be > 0 (got %g)", fn, b);
    return OVICA_OK;
}

int ovica_prior_laplace_new(ovica_prior **out, double b)
{
    int st = check_scale(__func__, out, b);
    if (st) return st;
    return prior_alloc(out, OVICA_PRIOR_LAPLACE, OVICA_DOMAIN_REAL, b, "laplace");
}

int ovica_prior_exponential_new(ovica_prior **out, double b)
{
    int st = check_scale(__func__, out, b);
    if (st) return st;
    return prior_alloc(out, OVICA_PRIOR_EXPONENTIAL, OVICA_DOMAIN_NONNEG, b, "exponential");
}

int ovica_prior_user_new(ovica_prior **out, const ovica_prior_callbacks *cb, void *user)
{
    OVICA__CHECK_NULL(out, "out");
    OVICA__CHECK_NULL(cb, "cb");
    int vst = ovica__check_version(__func__, "callbacks", cb->version,
                                   OVICA_PRIOR_CALLBACKS_VERSION);
    if (vst != OVICA_OK) return vst;
    if (cb->neglogp == NULL || cb->grad == NULL)
        return ovica__error(OVICA_EINVAL, "%s: neglogp and grad callbacks are required",
                            __func__);
    if (cb->domain != OVICA_DOMAIN_REAL && cb->domain != OVICA_DOMAIN_NONNEG)
        return ovica__error(OVICA_EINVAL, "%s: unknown domain %d", __func__, cb->domain);
    int st = prior_alloc(out, OVICA_PRIOR_USER, cb->domain, 0.0,
                         cb->name != NULL ? cb->name : "user");
    if (st) return st;
    (*out)->cb = *cb;
    (*out)->cb.name = NULL; /* the name lives in p->name */
    (*out)->user = user;
    return OVICA_OK;
}

int ovica_prior_clone(ovica_prior **out, const ovica_prior *prior)
{
    OVICA__CHECK_NULL(out, "out");
    OVICA__CHECK_NULL(prior, "prior");
    ovica_prior *p = ovica__malloc(sizeof *p);
    if (p == NULL) return ovica__error(OVICA_ENOMEM, "cannot allocate a prior");
    *p = *prior;
    *out = p;
    return OVICA_OK;
}

void ovica_prior_free(ovica_prior *prior) { ovica__free(prior); }

int ovica_prior_kind(const ovica_prior *prior) { return prior ? prior->kind : -1; }
int ovica_prior_domain(const ovica_prior *prior) { return prior ? prior->domain : -1; }
const char *ovica_prior_name(const ovica_prior *prior) { return prior ? prior->name : ""; }

int ovica_prior_has_prox(const ovica_prior *prior)
{
    if (prior == NULL) return -1;
    return prior->kind != OVICA_PRIOR_USER || prior->cb.prox != NULL;
}

int ovica_prior_scale(const ovica_prior *prior, double *out)
{
    OVICA__CHECK_NULL(prior, "prior");
    OVICA__CHECK_NULL(out, "out");
    if (prior->kind == OVICA_PRIOR_USER)
        return ovica__error(OVICA_ENOTSUP, "%s: a user prior has no built-in scale", __func__);
    *out = prior->b;
    return OVICA_OK;
}

static int user_status(const char *which, int rc)
{
    return ovica__error(OVICA_EUSER, "user prior callback %s returned %d", which, rc);
}

int ovica__prior_check_domain(const ovica_prior *p, const double *s, size_t count,
                              size_t cols, const char *what)
{
    if (p->domain != OVICA_DOMAIN_NONNEG) return OVICA_OK;
    for (size_t i = 0; i < count; i++)
        if (s[i] < 0.0)
            return ovica__error(OVICA_EDOMAIN,
                                "%s holds %g at row %zu, column %zu: the %s prior needs s >= 0",
                                what, s[i], i / cols, i % cols, p->name);
    return OVICA_OK;
}

int ovica__prior_neglogp(const ovica_prior *p, const double *s, size_t count, double *out)
{
    double acc = 0.0;
    switch (p->kind) {
    case OVICA_PRIOR_LAPLACE:
        for (size_t i = 0; i < count; i++) acc += fabs(s[i]);
        *out = acc / p->b + (double)count * log(2.0 * p->b);
        return OVICA_OK;
    case OVICA_PRIOR_EXPONENTIAL:
        for (size_t i = 0; i < count; i++) acc += s[i];
        *out = acc / p->b + (double)count * log(p->b);
        return OVICA_OK;
    default: {
        int rc = p->cb.neglogp(s, count, out, p->user);
        return rc ? user_status("neglogp", rc) : OVICA_OK;
    }
    }
}

int ovica__prior_grad(const ovica_prior *p, const double *s, size_t count, double *g)
{
    double ib;
    switch (p->kind) {
    case OVICA_PRIOR_LAPLACE:
        ib = 1.0 / p->b;
        for (size_t i = 0; i < count; i++)
            g[i] = s[i] > 0.0 ? ib : (s[i] < 0.0 ? -ib : 0.0);
        return OVICA_OK;
    case OVICA_PRIOR_EXPONENTIAL:
        ib = 1.0 / p->b;
        for (size_t i = 0; i < count; i++) g[i] = s[i] > 0.0 ? ib : 0.0;
        return OVICA_OK;
    default: {
        int rc = p->cb.grad(s, count, g, p->user);
        return rc ? user_status("grad", rc) : OVICA_OK;
    }
    }
}

int ovica__prior_prox(const ovica_prior *p, const double *v, size_t count, double t,
                      double *out)
{
    double th = t / p->b;
    switch (p->kind) {
    case OVICA_PRIOR_LAPLACE:
        /* branchless soft threshold, so that the compiler vectorises it */
        for (size_t i = 0; i < count; i++) {
            double a = fabs(v[i]) - th;
            out[i] = copysign(a > 0.0 ? a : 0.0, v[i]);
        }
        return OVICA_OK;
    case OVICA_PRIOR_EXPONENTIAL:
        for (size_t i = 0; i < count; i++) {
            double a = v[i] - th;
            out[i] = a > 0.0 ? a : 0.0;
        }
        return OVICA_OK;
    default: {
        if (p->cb.prox == NULL)
            return ovica__error(OVICA_ENOTSUP,
                                "prior '%s' has no prox: use the projected gradient solver",
                                p->name);
        int rc = p->cb.prox(v, count, t, out, p->user);
        return rc ? user_status("prox", rc) : OVICA_OK;
    }
    }
}

int ovica__prior_violation(const ovica_prior *p, const double *s, const double *g,
                           size_t count, double L, double *scratch, double *worst)
{
    double w = 0.0, ib, d;
    int rc;
    switch (p->kind) {
    case OVICA_PRIOR_LAPLACE:
        ib = 1.0 / p->b;
        for (size_t i = 0; i < count; i++) {
            if (s[i] > 0.0) d = fabs(g[i] - ib);
            else if (s[i] < 0.0) d = fabs(g[i] + ib);
            else d = fabs(g[i]) - ib;
            if (d > w) w = d;
        }
        break;
    case OVICA_PRIOR_EXPONENTIAL:
        ib = 1.0 / p->b;
        for (size_t i = 0; i < count; i++) {
            d = s[i] > 0.0 ? fabs(g[i] - ib) : g[i] - ib;
            if (d > w) w = d;
        }
        break;
    default:
        if (p->cb.prox != NULL && L > 0.0) {
            for (size_t i = 0; i < count; i++) scratch[i] = s[i] + g[i] / L;
            rc = p->cb.prox(scratch, count, 1.0 / L, scratch, p->user);
            if (rc) return user_status("prox", rc);
            for (size_t i = 0; i < count; i++) {
                d = fabs(s[i] - scratch[i]) * L;
                if (d > w) w = d;
            }
        } else {
            rc = p->cb.grad(s, count, scratch, p->user);
            if (rc) return user_status("grad", rc);
            for (size_t i = 0; i < count; i++) {
                d = fabs(g[i] - scratch[i]);
                if (p->domain == OVICA_DOMAIN_NONNEG && s[i] == 0.0) d = g[i] - scratch[i];
                if (d > w) w = d;
            }
        }
        break;
    }
    *worst = w;
    return OVICA_OK;
}

/* ---- public, validated wrappers ---- */

static int check_array(const char *fn, const ovica_prior *p, const void *a, const void *b)
{
    if (p == NULL) return ovica__error(OVICA_EINVAL, "%s: prior is NULL", fn);
    if (a == NULL || b == NULL) return ovica__error(OVICA_EINVAL, "%s: array is NULL", fn);
    return OVICA_OK;
}

int ovica_prior_neglogp(const ovica_prior *prior, const double *s, size_t count, double *out)
{
    int st = check_array(__func__, prior, s, out);
    if (st == OVICA_OK) st = ovica__check_finite(s, count, 1, "s");
    if (st == OVICA_OK) st = ovica__prior_check_domain(prior, s, count, 1, "s");
    return st ? st : ovica__prior_neglogp(prior, s, count, out);
}

int ovica_prior_grad(const ovica_prior *prior, const double *s, size_t count, double *g)
{
    int st = check_array(__func__, prior, s, g);
    if (st == OVICA_OK) st = ovica__check_finite(s, count, 1, "s");
    if (st == OVICA_OK) st = ovica__prior_check_domain(prior, s, count, 1, "s");
    return st ? st : ovica__prior_grad(prior, s, count, g);
}

int ovica_prior_prox(const ovica_prior *prior, const double *v, size_t count, double t,
                     double *out)
{
    int st = check_array(__func__, prior, v, out);
    if (st) return st;
    if (!isfinite(t)) return ovica__error(OVICA_ENONFINITE, "%s: t is %g", __func__, t);
    if (!(t > 0.0)) return ovica__error(OVICA_EINVAL, "%s: t must be > 0 (got %g)", __func__, t);
    st = ovica__check_finite(v, count, 1, "v");
    return st ? st : ovica__prior_prox(prior, v, count, t, out);
}

int ovica_prior_curvature(const ovica_prior *prior, const double *s, size_t count, double *c)
{
    int st = check_array(__func__, prior, s, c);
    if (st == OVICA_OK) st = ovica__check_finite(s, count, 1, "s");
    if (st == OVICA_OK) st = ovica__prior_check_domain(prior, s, count, 1, "s");
    if (st) return st;
    if (prior->kind != OVICA_PRIOR_USER) {
        for (size_t i = 0; i < count; i++) c[i] = 0.0;
        return OVICA_OK;
    }
    if (prior->cb.curvature == NULL)
        return ovica__error(OVICA_ENOTSUP, "prior '%s' has no curvature callback", prior->name);
    int rc = prior->cb.curvature(s, count, c, prior->user);
    return rc ? user_status("curvature", rc) : OVICA_OK;
}

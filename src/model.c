#include <math.h>
#include <string.h>

#include <cblas.h>
#include <lapacke.h>

#include "internal.h"

int ovica__spectral_norm2(const double *A, size_t m, size_t n, double *out)
{
    size_t k = m < n ? m : n;
    size_t kk;
    if (ovica__mul_size(k, k, &kk)) return ovica__error(OVICA_ENOMEM, "basis too large");
    size_t len;
    if (kk > SIZE_MAX - k) return ovica__error(OVICA_ENOMEM, "basis too large");
    len = kk + k;
    double *G = ovica__alloc_doubles(len, "the Gram matrix");
    if (G == NULL) return OVICA_ENOMEM;
    double *w = G + kk; /* k eigenvalues */
    if (m <= n) /* G = A A^T, m x m */
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)m, (int)n, 1.0, A, (int)n,
                    0.0, G, (int)m);
    else        /* G = A^T A, n x n */
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)n, (int)m, 1.0, A, (int)n, 0.0,
                    G, (int)n);
    /* Every eigenvalue by the QR algorithm (dsyev), the largest last. Not
     * dsyevr's bisection for the largest alone: on a cluster of equal
     * eigenvalues (an orthonormal basis) OpenBLAS's dsyevr reported an
     * internal error (info 2) with the Prescott kernels this machine gets,
     * and crashed inside dstebz under ThreadSanitizer; the cost is the same
     * tridiagonal reduction either way. */
    lapack_int info = LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'N', 'U', (lapack_int)k, G, (lapack_int)k, w);
    const double top = w[k - 1];
    ovica__free(G);
    if (info == 0 && !isfinite(top))
        return ovica__error(OVICA_ENUMERIC, "the basis is too large: ||A||^2 overflows");
    if (info != 0)
        return ovica__error(OVICA_ENUMERIC, "eigenvalue computation failed (LAPACK info %d)",
                            (int)info);
    *out = top > 0.0 ? top : 0.0;
    return OVICA_OK;
}

static int check_sigma(const char *fn, double sigma)
{
    if (isnan(sigma) || isinf(sigma))
        return ovica__error(OVICA_ENONFINITE, "%s: sigma is %g", fn, sigma);
    if (!(sigma > 0.0)) return ovica__error(OVICA_EINVAL, "%s: sigma must be > 0 (got %g)", fn, sigma);
    if (!(sigma >= 1e-150 && sigma <= 1e150))
        return ovica__error(OVICA_EINVAL,
                            "%s: sigma must lie in [1e-150, 1e150] (got %g): 1/sigma^2 must be a "
                            "normal double", fn, sigma);
    return OVICA_OK;
}

int ovica_model_new(ovica_model **out, size_t m, size_t n, const ovica_prior *prior, double sigma)
{
    OVICA__CHECK_NULL(out, "out");
    OVICA__CHECK_NULL(prior, "prior");
    if (m == 0 || n == 0)
        return ovica__error(OVICA_EINVAL, "%s: sizes must be >= 1 (m = %zu, n = %zu)", __func__, m, n);
    if (m > INT32_MAX || n > INT32_MAX)
        return ovica__error(OVICA_EINVAL, "%s: sizes too large for BLAS (m = %zu, n = %zu)", __func__, m, n);
    int st = check_sigma(__func__, sigma);
    if (st) return st;
    size_t mn;
    if (ovica__mul_size(m, n, &mn)) return ovica__error(OVICA_ENOMEM, "basis too large");
    ovica_model *md = ovica__calloc(1, sizeof *md);
    if (md == NULL) return ovica__error(OVICA_ENOMEM, "cannot allocate a model");
    md->A = ovica__calloc(mn, sizeof(double));
    if (md->A == NULL) {
        ovica__free(md);
        return ovica__error(OVICA_ENOMEM, "cannot allocate a %zu x %zu basis", m, n);
    }
    st = ovica_prior_clone(&md->prior, prior);
    if (st) {
        ovica__free(md->A);
        ovica__free(md);
        return st;
    }
    md->m = m;
    md->n = n;
    md->sigma = sigma;
    md->norm2 = 0.0;
    *out = md;
    return OVICA_OK;
}

int ovica_model_clone(ovica_model **out, const ovica_model *model)
{
    OVICA__CHECK_NULL(out, "out");
    OVICA__CHECK_NULL(model, "model");
    ovica_model *c = NULL;
    int st = ovica_model_new(&c, model->m, model->n, model->prior, model->sigma);
    if (st) return st;
    memcpy(c->A, model->A, model->m * model->n * sizeof(double));
    c->norm2 = model->norm2;
    *out = c;
    return OVICA_OK;
}

void ovica_model_free(ovica_model *model)
{
    if (model == NULL) return;
    ovica_prior_free(model->prior);
    ovica__free(model->A);
    ovica__free(model);
}

size_t ovica_model_dim(const ovica_model *model) { return model ? model->m : 0; }
size_t ovica_model_atoms(const ovica_model *model) { return model ? model->n : 0; }
const double *ovica_model_basis(const ovica_model *model) { return model ? model->A : NULL; }
double ovica_model_sigma(const ovica_model *model) { return model ? model->sigma : NAN; }
const ovica_prior *ovica_model_prior(const ovica_model *model) { return model ? model->prior : NULL; }

static int check_shape(const char *fn, const ovica_model *model, size_t rows, size_t cols)
{
    if (rows != model->m || cols != model->n)
        return ovica__error(OVICA_ESIZE, "%s: basis is %zu x %zu, the model's is %zu x %zu", fn,
                            rows, cols, model->m, model->n);
    return OVICA_OK;
}

int ovica_model_set_basis(ovica_model *model, const double *A, size_t rows, size_t cols)
{
    OVICA__CHECK_NULL(model, "model");
    OVICA__CHECK_NULL(A, "A");
    int st = check_shape(__func__, model, rows, cols);
    if (st == OVICA_OK) st = ovica__check_finite(A, rows * cols, cols, "A");
    double norm2 = 0.0;
    if (st == OVICA_OK) st = ovica__spectral_norm2(A, rows, cols, &norm2);
    if (st) return st;
    if (A != model->A) memcpy(model->A, A, rows * cols * sizeof(double));
    model->norm2 = norm2;
    return OVICA_OK;
}

int ovica_model_get_basis(const ovica_model *model, double *out, size_t rows, size_t cols)
{
    OVICA__CHECK_NULL(model, "model");
    OVICA__CHECK_NULL(out, "out");
    int st = check_shape(__func__, model, rows, cols);
    if (st) return st;
    memcpy(out, model->A, rows * cols * sizeof(double));
    return OVICA_OK;
}

int ovica_model_set_sigma(ovica_model *model, double sigma)
{
    OVICA__CHECK_NULL(model, "model");
    int st = check_sigma(__func__, sigma);
    if (st) return st;
    model->sigma = sigma;
    return OVICA_OK;
}

int ovica_model_set_prior(ovica_model *model, const ovica_prior *prior)
{
    OVICA__CHECK_NULL(model, "model");
    OVICA__CHECK_NULL(prior, "prior");
    ovica_prior *copy = NULL;
    int st = ovica_prior_clone(&copy, prior);
    if (st) return st;
    ovica_prior_free(model->prior);
    model->prior = copy;
    return OVICA_OK;
}

int ovica_model_lipschitz(const ovica_model *model, double *out)
{
    OVICA__CHECK_NULL(model, "model");
    OVICA__CHECK_NULL(out, "out");
    *out = model->norm2 / (model->sigma * model->sigma);
    return OVICA_OK;
}

int ovica__check_batch_shape(const char *fn, const ovica_model *model, const void *X, size_t N,
                             size_t x_dim, const void *S, size_t s_dim)
{
    if (model == NULL) return ovica__error(OVICA_EINVAL, "%s: model is NULL", fn);
    if (X == NULL) return ovica__error(OVICA_EINVAL, "%s: X is NULL", fn);
    if (S == NULL) return ovica__error(OVICA_EINVAL, "%s: S is NULL", fn);
    if (N == 0) return ovica__error(OVICA_EINVAL, "%s: empty batch (N = 0)", fn);
    if (N > INT32_MAX) return ovica__error(OVICA_EINVAL, "%s: batch too large for BLAS (N = %zu)", fn, N);
    if (x_dim != model->m)
        return ovica__error(OVICA_ESIZE, "%s: X has %zu columns, the model's dimension is %zu",
                            fn, x_dim, model->m);
    if (s_dim != model->n)
        return ovica__error(OVICA_ESIZE, "%s: S has %zu columns, the model has %zu atoms", fn,
                            s_dim, model->n);
    return OVICA_OK;
}

int ovica__check_batch(const char *fn, const ovica_model *model, const double *X, size_t N,
                       size_t x_dim, const void *S, size_t s_dim)
{
    int st = ovica__check_batch_shape(fn, model, X, N, x_dim, S, s_dim);
    return st ? st : ovica__check_finite(X, N * x_dim, x_dim, "X");
}

/* R = X - S A^T (N x m) and optionally G = R A / sigma^2 (N x n). */
static void residual_and_gradient(const ovica_model *md, const double *X, size_t N,
                                  const double *S, double *R, double *G)
{
    int m = (int)md->m, n = (int)md->n;
    memcpy(R, X, N * md->m * sizeof(double));
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N, m, n, -1.0, S, n, md->A, n,
                1.0, R, m);
    if (G != NULL)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)N, n, m,
                    1.0 / (md->sigma * md->sigma), R, m, md->A, n, 0.0, G, n);
}

int ovica_model_objective(const ovica_model *model, const double *X, size_t N, size_t x_dim,
                          const double *S, size_t s_dim, double *per_sample, double *mean)
{
    int st = ovica__check_batch(__func__, model, X, N, x_dim, S, s_dim);
    if (st == OVICA_OK) st = ovica__check_finite(S, N * s_dim, s_dim, "S");
    if (st == OVICA_OK) st = ovica__prior_check_domain(model->prior, S, N * s_dim, s_dim, "S");
    if (st) return st;
    double *R = ovica__alloc_doubles(N * x_dim, "the residual");
    if (R == NULL) return OVICA_ENOMEM;
    residual_and_gradient(model, X, N, S, R, NULL);
    double half_lambda = 0.5 / (model->sigma * model->sigma), total = 0.0;
    for (size_t k = 0; k < N; k++) {
        const double *r = R + k * x_dim;
        double e = 0.0, nl = 0.0;
        for (size_t j = 0; j < x_dim; j++) e += r[j] * r[j];
        st = ovica__prior_neglogp(model->prior, S + k * s_dim, s_dim, &nl);
        if (st) break;
        e = half_lambda * e + nl;
        if (per_sample) per_sample[k] = e;
        total += e;
    }
    ovica__free(R);
    if (st) return st;
    if (mean) *mean = total / (double)N;
    return OVICA_OK;
}

int ovica_model_optimality(const ovica_model *model, const double *X, size_t N, size_t x_dim,
                           const double *S, size_t s_dim, double *worst)
{
    OVICA__CHECK_NULL(worst, "worst");
    int st = ovica__check_batch(__func__, model, X, N, x_dim, S, s_dim);
    if (st == OVICA_OK) st = ovica__check_finite(S, N * s_dim, s_dim, "S");
    if (st == OVICA_OK) st = ovica__prior_check_domain(model->prior, S, N * s_dim, s_dim, "S");
    if (st) return st;
    double *R = ovica__alloc_doubles(N * (x_dim + 2 * s_dim), "the residual and gradient");
    if (R == NULL) return OVICA_ENOMEM;
    double *G = R + N * x_dim, *scratch = G + N * s_dim;
    residual_and_gradient(model, X, N, S, R, G);
    double L = model->norm2 / (model->sigma * model->sigma);
    st = ovica__prior_violation(model->prior, S, G, N * s_dim, L, scratch, worst);
    ovica__free(R);
    return st;
}

/*
 * Synthetic data generators: the article's 2-D bases, random unit-atom
 * bases, sparse sources, and noisy mixtures X = S A^T + E.
 */
#include <limits.h>
#include <math.h>

#include <cblas.h>

#include "internal.h"
#include "ovica/synth.h"

int ovica_synth_basis_2d(int set, double *A, size_t rows, size_t cols)
{
    OVICA__CHECK_NULL(A, "A");
    size_t want;
    switch (set) {
    case OVICA_SYNTH_REGULAR3: want = 3; break;
    case OVICA_SYNTH_IRREGULAR4: want = 4; break;
    default:
        return ovica__error(OVICA_EINVAL, "%s: unknown set %d (expected OVICA_SYNTH_REGULAR3 "
                            "or OVICA_SYNTH_IRREGULAR4)", __func__, set);
    }
    if (rows != 2 || cols != want)
        return ovica__error(OVICA_ESIZE, "%s: set %d is a 2 x %zu basis, got %zu x %zu",
                            __func__, set, want, rows, cols);

    if (set == OVICA_SYNTH_REGULAR3) {
        /* 90, 210, 330 degrees, written exactly. */
        const double h = 0.5 * sqrt(3.0);
        const double c[3] = { 0.0, -h, h };
        const double s[3] = { 1.0, -0.5, -0.5 };
        for (size_t i = 0; i < 3; i++) {
            A[i] = c[i];
            A[cols + i] = s[i];
        }
    } else {
        const double deg[4] = { 15.0, 38.0, 140.0, 250.0 };
        for (size_t i = 0; i < 4; i++) {
            double t = deg[i] * (OVICA__PI / 180.0);
            A[i] = cos(t);
            A[cols + i] = sin(t);
        }
    }
    return OVICA_OK;
}

int ovica_synth_random_basis(ovica_rng *r, double *A, size_t m, size_t n)
{
    size_t len;
    OVICA__CHECK_NULL(r, "r");
    OVICA__CHECK_NULL(A, "A");
    if (m == 0 || n == 0)
        return ovica__error(OVICA_EINVAL, "%s: sizes must be > 0 (m = %zu, n = %zu)",
                            __func__, m, n);
    if (ovica__mul_size(m, n, &len) != 0)
        return ovica__error(OVICA_ESIZE, "%s: m * n overflows (m = %zu, n = %zu)", __func__, m, n);

    for (size_t i = 0; i < n; i++) {
        double ss;
        do {
            ss = 0.0;
            for (size_t k = 0; k < m; k++) {
                double v = ovica_rng_normal(r);
                A[k * n + i] = v;
                ss += v * v;
            }
        } while (!(ss > 0.0));
        double inv = 1.0 / sqrt(ss);
        for (size_t k = 0; k < m; k++) A[k * n + i] *= inv;
    }
    return OVICA_OK;
}

int ovica_synth_sources(ovica_rng *r, int prior_kind, double b, double activity, double *S,
                        size_t N, size_t n)
{
    size_t len;
    OVICA__CHECK_NULL(r, "r");
    OVICA__CHECK_NULL(S, "S");
    if (prior_kind != OVICA_PRIOR_LAPLACE && prior_kind != OVICA_PRIOR_EXPONENTIAL)
        return ovica__error(OVICA_EINVAL, "%s: prior_kind %d is not OVICA_PRIOR_LAPLACE or "
                            "OVICA_PRIOR_EXPONENTIAL", __func__, prior_kind);
    if (!isfinite(b))
        return ovica__error(OVICA_ENONFINITE, "%s: scale b is %g", __func__, b);
    if (!(b > 0.0))
        return ovica__error(OVICA_EINVAL, "%s: scale b must be > 0 (got %g)", __func__, b);
    if (isnan(activity))
        return ovica__error(OVICA_ENONFINITE, "%s: activity is NaN", __func__);
    if (!(activity > 0.0 && activity <= 1.0))
        return ovica__error(OVICA_EINVAL, "%s: activity must be in (0, 1] (got %g)",
                            __func__, activity);
    if (N == 0 || n == 0)
        return ovica__error(OVICA_EINVAL, "%s: sizes must be > 0 (N = %zu, n = %zu)",
                            __func__, N, n);
    if (ovica__mul_size(N, n, &len) != 0)
        return ovica__error(OVICA_ESIZE, "%s: N * n overflows (N = %zu, n = %zu)", __func__, N, n);

    if (prior_kind == OVICA_PRIOR_LAPLACE) {
        for (size_t i = 0; i < len; i++)
            S[i] = ovica_rng_uniform(r) < activity ? ovica_rng_laplace(r, b) : 0.0;
    } else {
        for (size_t i = 0; i < len; i++)
            S[i] = ovica_rng_uniform(r) < activity ? ovica_rng_exponential(r, b) : 0.0;
    }
    return OVICA_OK;
}

int ovica_synth_mix(ovica_rng *r, const double *A, size_t m, size_t n, const double *S,
                    size_t N, double noise_sigma, double *X)
{
    size_t lenA, lenS, lenX;
    OVICA__CHECK_NULL(A, "A");
    OVICA__CHECK_NULL(S, "S");
    OVICA__CHECK_NULL(X, "X");
    if (m == 0 || n == 0 || N == 0)
        return ovica__error(OVICA_EINVAL, "%s: sizes must be > 0 (m = %zu, n = %zu, N = %zu)",
                            __func__, m, n, N);
    if (m > INT_MAX || n > INT_MAX || N > INT_MAX)
        return ovica__error(OVICA_ESIZE, "%s: a size exceeds the BLAS integer range "
                            "(m = %zu, n = %zu, N = %zu)", __func__, m, n, N);
    if (ovica__mul_size(m, n, &lenA) != 0 || ovica__mul_size(N, n, &lenS) != 0 ||
        ovica__mul_size(N, m, &lenX) != 0)
        return ovica__error(OVICA_ESIZE, "%s: array size overflows (m = %zu, n = %zu, N = %zu)",
                            __func__, m, n, N);
    if (!isfinite(noise_sigma))
        return ovica__error(OVICA_ENONFINITE, "%s: noise_sigma is %g", __func__, noise_sigma);
    if (noise_sigma < 0.0)
        return ovica__error(OVICA_EINVAL, "%s: noise_sigma must be >= 0 (got %g)", __func__,
                            noise_sigma);
    if (noise_sigma > 0.0 && r == NULL)
        return ovica__error(OVICA_EINVAL, "%s: r is NULL but noise_sigma = %g > 0", __func__,
                            noise_sigma);
    int st = ovica__check_finite(A, lenA, n, "ovica_synth_mix: A");
    if (st != OVICA_OK) return st;
    st = ovica__check_finite(S, lenS, n, "ovica_synth_mix: S");
    if (st != OVICA_OK) return st;

    /* X (N x m) = S (N x n) * A^T (n x m). */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N, (int)m, (int)n, 1.0, S,
                (int)n, A, (int)n, 0.0, X, (int)m);
    if (noise_sigma > 0.0)
        for (size_t i = 0; i < lenX; i++) X[i] += noise_sigma * ovica_rng_normal(r);
    return OVICA_OK;
}

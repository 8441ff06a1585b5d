/* The trainer's first basis: random unit atoms, atoms spread apart on the
 * sphere (and, for a non-negative prior, covering every data direction),
 * or atoms drawn from the data (ovica_trainer_init_basis). */
#include <math.h>
#include <string.h>

#include <cblas.h>

#include "trainer_internal.h"

static void random_unit_columns(ovica_rng *r, double *A, size_t m, size_t n)
{
    for (size_t j = 0; j < n; j++) {
        double c;
        do {
            for (size_t i = 0; i < m; i++) A[i * n + j] = ovica_rng_normal(r);
            c = col_norm(A, m, n, j);
        } while (c < 1e-8);
        for (size_t i = 0; i < m; i++) A[i * n + j] /= c;
    }
}

/* Spreads unit atoms apart by gradient descent on a repulsion energy over
 * the sphere: sum |cos|^8 between lines (real prior: a and -a code the same
 * line) or sum exp(8 (cos - 1)) between rays (non-negative prior). The
 * gradient of all atoms at once is one GEMM, A (g'(A^T A)). */
static void spread_atoms(double *A, size_t m, size_t n, int rays, double *G, double *D)
{
    const int iters = n <= 64 ? 600 : (n <= 512 ? 200 : 60);
    for (int it = 0; it < iters; it++) {
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)n, (int)n, (int)m, 1.0, A,
                    (int)n, A, (int)n, 0.0, G, (int)n);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) {
                double c = G[i * n + j];
                G[i * n + j] = i == j ? 0.0 : (rays ? exp(8.0 * (c - 1.0)) : c * c * c * c * c * c * c);
            }
        /* D = A G': row-major D[r][i] = sum_j A[r][j] g'(c_ji) */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)n, 1.0, A,
                    (int)n, G, (int)n, 0.0, D, (int)n);
        double gmax = 0.0;
        for (size_t j = 0; j < n; j++) {
            double dot = 0.0;
            for (size_t r = 0; r < m; r++) dot += D[r * n + j] * A[r * n + j];
            for (size_t r = 0; r < m; r++) D[r * n + j] -= dot * A[r * n + j]; /* tangent part */
            double g = col_norm(D, m, n, j);
            if (g > gmax) gmax = g;
        }
        if (gmax < 1e-12) break;
        double eta = (0.2 - 0.19 * (double)it / iters) / gmax;
        for (size_t k = 0; k < m * n; k++) A[k] -= eta * D[k];
        normalise_columns(A, m, n);
    }
}

/* For a non-negative prior: every data direction must lie in some atom's
 * positive half-space, or those samples can never be coded. Replaces the
 * most crowded atom by the mean direction of the uncovered samples, a few
 * times. XA is N x n work. */
static void cover_data(double *A, size_t m, size_t n, const double *X, size_t N, double *XA,
                       double *G)
{
    for (size_t attempt = 0; attempt < n; attempt++) {
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)N, (int)n, (int)m, 1.0, X,
                    (int)m, A, (int)n, 0.0, XA, (int)n);
        double *dir = G; /* m entries */
        memset(dir, 0, m * sizeof(double));
        size_t uncovered = 0;
        for (size_t k = 0; k < N; k++) {
            double best = -INFINITY, nx = 0.0;
            for (size_t j = 0; j < n; j++)
                if (XA[k * n + j] > best) best = XA[k * n + j];
            for (size_t r = 0; r < m; r++) nx += X[k * m + r] * X[k * m + r];
            if (best <= 1e-12 * sqrt(nx) && nx > 0.0) {
                uncovered++;
                for (size_t r = 0; r < m; r++) dir[r] += X[k * m + r] / sqrt(nx);
            }
        }
        if (uncovered == 0) return;
        double dn = 0.0;
        for (size_t r = 0; r < m; r++) dn += dir[r] * dir[r];
        if (!(dn > 0.0)) return;
        /* the atom with the largest cosine to another atom */
        size_t worst = 0;
        double wc = -INFINITY;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) {
                if (i == j) continue;
                double c = 0.0;
                for (size_t r = 0; r < m; r++) c += A[r * n + i] * A[r * n + j];
                if (c > wc) { wc = c; worst = i; }
            }
        for (size_t r = 0; r < m; r++) A[r * n + worst] = dir[r] / sqrt(dn);
    }
}

int ovica_trainer_init_basis(ovica_trainer *t, int method, const double *X, size_t N,
                             size_t x_dim)
{
    OVICA__CHECK_NULL(t, "trainer");
    const size_t m = t->m, n = t->n;
    const int nonneg = t->model->prior->domain == OVICA_DOMAIN_NONNEG;
    if (method != OVICA_INIT_RANDOM && method != OVICA_INIT_SPREAD && method != OVICA_INIT_DATA)
        return ovica__error(OVICA_EINVAL, "%s: unknown method %d", __func__, method);
    int need_data = method == OVICA_INIT_DATA || (method == OVICA_INIT_SPREAD && nonneg);
    if (X != NULL || need_data) {
        int st = ovica__trainer_check_batch(__func__, t, X, N, x_dim);
        if (st) return st;
    }
    double *A = t->A1;
    if (method == OVICA_INIT_DATA) {
        size_t usable = 0;
        for (size_t k = 0; k < N; k++) {
            double s = 0.0;
            for (size_t r = 0; r < m; r++) s += X[k * m + r] * X[k * m + r];
            usable += s > 0.0;
        }
        if (usable == 0)
            return ovica__error(OVICA_EINVAL, "%s: every sample is zero; cannot draw atoms", __func__);
        for (size_t j = 0; j < n; j++) {
            double c = 0.0;
            const double *x;
            do {
                x = X + (ovica_rng_u64(t->rng) % N) * m;
                c = 0.0;
                for (size_t r = 0; r < m; r++) c += x[r] * x[r];
            } while (!(c > 0.0));
            c = sqrt(c);
            /* a little jitter so that repeated samples give distinct atoms */
            for (size_t r = 0; r < m; r++)
                A[r * n + j] = x[r] / c + (usable < n ? 0.01 * ovica_rng_normal(t->rng) : 0.0);
        }
        normalise_columns(A, m, n);
    } else {
        random_unit_columns(t->rng, A, m, n);
        if (method == OVICA_INIT_SPREAD) {
            /* G: n x n; D: m x n (best_A is free work space here) */
            spread_atoms(A, m, n, nonneg, t->W1, t->best_A);
            if (nonneg) {
                int st = ovica__trainer_ensure_rows(t, N);
                if (st) return st;
                cover_data(A, m, n, X, N, t->S, t->W2);
            }
        }
    }
    int st = ovica_model_set_basis(t->model, A, m, n);
    if (st) return st;
    t->best = NAN;
    t->mon_fresh = 1;
    t->last_N = 0;
    ovica__dict_reset(t);
    return OVICA_OK;
}


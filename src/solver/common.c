/* What the solver types share: the clock, the work memory, row blocks and
 * the statistics of a finished batch. */
#include <math.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

#include "solver_internal.h"

double ovica__now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int ovica__solver_work(ovica_solver *s, size_t len)
{
    if (s->work_len >= len) return OVICA_OK;
    double *w = ovica__alloc_doubles(len, "the solver's work memory");
    if (w == NULL) return OVICA_ENOMEM;
    ovica__free(s->work);
    s->work = w;
    s->work_len = len;
    s->gram = NULL;
    s->gram_f32 = NULL;
    return OVICA_OK;
}

const double *ovica__solver_gram(const ovica_solver *s, const ovica_model *model)
{
    return s != NULL && s->gram_model == model ? s->gram : NULL;
}

const float *ovica__solver_gram_f32(const ovica_solver *s, const ovica_model *model)
{
    return s != NULL && s->gram_model == model ? s->gram_f32 : NULL;
}

/* Objective and optimality at the final S, block by block (Bk rows):
 * residual R = X - S A^T, then g = lambda R A. R (Bk x m), G (Bk x n) and
 * scratch (Bk x n) are work memory. */
int ovica__fill_stats(const ovica_model *model, const double *X, size_t N, const double *S,
                      size_t Bk, double *R, double *G, double *scratch, double L,
                      ovica_infer_stats *stats)
{
    const size_t m = model->m, n = model->n;
    const double inv_s2 = 1.0 / (model->sigma * model->sigma);
    double obj = 0.0, worst = 0.0;
    int st;
    for (size_t b0 = 0; b0 < N; b0 += Bk) {
        size_t nb = N - b0 < Bk ? N - b0 : Bk;
        const double *Sb = S + b0 * n;
        memcpy(R, X + b0 * m, nb * m * sizeof(double));
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nb, (int)m, (int)n, -1.0, Sb,
                    (int)n, model->A, (int)n, 1.0, R, (int)m);
        for (size_t k = 0; k < nb; k++) {
            double r2 = 0.0, nl = 0.0;
            for (size_t j = 0; j < m; j++) r2 += R[k * m + j] * R[k * m + j];
            st = ovica__prior_neglogp(model->prior, Sb + k * n, n, &nl);
            if (st) return st;
            obj += 0.5 * inv_s2 * r2 + nl;
        }
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nb, (int)n, (int)m, inv_s2,
                    R, (int)m, model->A, (int)n, 0.0, G, (int)n);
        double w = 0.0;
        st = ovica__prior_violation(model->prior, Sb, G, nb * n, L, scratch, &w);
        if (st) return st;
        if (w > worst) worst = w;
    }
    stats->objective = obj / (double)N;
    stats->violation = worst;
    return OVICA_OK;
}

/* Cache-sized row blocks: a block's gradient (2 MiB) stays in cache
 * between the GEMM that makes it and the pass that reads it. */
size_t ovica__block_rows(size_t N, size_t n)
{
    size_t Bk = (size_t)262144 / n;
    if (Bk < 64) Bk = 64;
    if (Bk > N) Bk = N;
    return Bk;
}

int ovica__solver_check_prox(const ovica_solver *s, const ovica_prior *prior)
{
    if (!ovica_prior_has_prox(prior))
        return ovica__error(OVICA_ENOTSUP, "%s: prior '%s' has no prox, which %s needs; use pg",
                            "ovica_solver_infer", prior->name, s->type->name);
    return OVICA_OK;
}

/* Row swaps for double and float arrays (one body for both types). */
#define OVICA__SWAP_ROWS(name, T)                                                  \
    void name(T *a, size_t w, size_t i, size_t j)                                  \
    {                                                                              \
        T *p = a + i * w, *q = a + j * w;                                          \
        for (size_t k = 0; k < w; k++) {                                           \
            T t = p[k];                                                            \
            p[k] = q[k];                                                           \
            q[k] = t;                                                              \
        }                                                                          \
    }
OVICA__SWAP_ROWS(ovica__swap_rows, double)
OVICA__SWAP_ROWS(ovica__swap_rows_f, float)

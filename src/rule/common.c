/* What the rule types share: the natural-gradient direction from the
 * scores, the ridged Cholesky factorisation, and the gradient rules' step
 * with its cap and damping. */
#include <math.h>
#include <string.h>

#include <cblas.h>
#include <lapacke.h>

#include "rule_internal.h"

void ovica__rule_score_direction(ovica_trainer *t, double *D)
{
    const size_t m = t->m, n = t->n;
    const double *A = t->model->A;
    const double draws = t->stats[ST_DRAWS];
    double *W = t->W1;
    /* dA = -A (<z s^T> + I) */
    for (size_t i = 0; i < n * n; i++) W[i] = t->zs[i] / draws;
    for (size_t i = 0; i < n; i++) W[i * n + i] += 1.0;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)n, -1.0, A,
                (int)n, W, (int)n, 0.0, D, (int)n);
}

int ovica__chol_ridge(double *W, double *copy, size_t n)
{
    double tr = 0.0;
    for (size_t i = 0; i < n; i++) tr += W[i * n + i];
    double ridge = 1e-12 * (tr > 0.0 ? tr / (double)n : 1.0);
    memcpy(copy, W, n * n * sizeof(double));
    for (int attempt = 0; attempt < 8; attempt++) {
        lapack_int info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'U', (lapack_int)n, W, (lapack_int)n);
        if (info == 0) return OVICA_OK;
        memcpy(W, copy, n * n * sizeof(double));
        for (size_t i = 0; i < n; i++) W[i * n + i] += ridge;
        ridge *= 100.0;
    }
    return ovica__error(OVICA_ENUMERIC, "Cholesky factorisation failed (matrix not positive definite)");
}

double ovica__rule_relative_rate(const ovica_trainer *t, double lr)
{
    return t->lr_fn ? lr : lr / t->param[OVICA_TRAIN_LR];
}

void ovica__rule_gradient_step(ovica_trainer *t, const ovica_rule_type *self, double scale,
                               double anorm, double *A1, int *guard)
{
    const size_t mn = t->m * t->n;
    const double *A = t->model->A;
    double dn = scale * frob(A1, mn), cap = t->param[OVICA_TRAIN_STEP_CAP];
    if (cap > 0.0 && dn > cap * anorm) {
        scale *= cap * anorm / dn;
        *guard |= OVICA_GUARD_CAPPED;
    }
    /* Oscillation damping: a capped update pointing back against the
     * last one (cosine below -0.3) means the rate is too large for
     * the local curvature: the rate shrinks for good. (Small updates
     * that reverse are gradient noise near an optimum: left alone.) */
    if (t->have_last_dir && t->last_rule == self) {
        double dot = 0.0, nn = 0.0, np = 0.0;
        for (size_t i = 0; i < mn; i++) {
            dot += A1[i] * t->last_dir[i];
            nn += A1[i] * A1[i];
            np += t->last_dir[i] * t->last_dir[i];
        }
        if ((*guard & OVICA_GUARD_CAPPED) && nn > 0.0 && np > 0.0 &&
            dot < -0.3 * sqrt(nn * np)) {
            t->lr_scale *= t->param[OVICA_TRAIN_DAMPING];
            scale *= t->param[OVICA_TRAIN_DAMPING];
            *guard |= OVICA_GUARD_DAMPED;
        }
    }
    memcpy(t->last_dir, A1, mn * sizeof(double));
    t->have_last_dir = 1;
    t->last_rule = self;
    for (size_t i = 0; i < mn; i++) A1[i] = A[i] + scale * A1[i];
}

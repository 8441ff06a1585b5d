/* The number-of-atoms scan: train a model per candidate n with the
 * trainer's defaults, score each on held-out data. See include/ovica/eval.h. */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "loglik_internal.h"

/* Trains one model with n atoms; *out receives the trained model. */
static int train_one(const ovica_model *proto, size_t n, const double *X, size_t N, size_t m,
                     size_t steps, size_t batch, uint64_t seed, ovica_model **out)
{
    ovica_model *md = NULL;
    ovica_trainer *t = NULL;
    int st = ovica_model_new(&md, m, n, proto->prior, proto->sigma);
    if (st == OVICA_OK) st = ovica_trainer_new(&t, md, ovica_rule_auto, seed);
    if (st == OVICA_OK) st = ovica_trainer_set_param(t, OVICA_TRAIN_STEPS, (double)steps);
    if (st == OVICA_OK) st = ovica_trainer_init_basis(t, OVICA_INIT_SPREAD, X, N, m);
    size_t off = 0;
    for (size_t k = 0; k < steps && st == OVICA_OK; k++) {
        size_t B = (batch == 0 || batch >= N) ? N : batch;
        if (off + B > N) off = 0;
        st = ovica_trainer_step(t, X + off * m, B, m, NULL);
        off += B;
    }
    if (st == OVICA_OK) {
        int rb = ovica_trainer_restore_best(t);
        if (rb != OVICA_OK && rb != OVICA_ESTATE) st = rb;
    }
    ovica_model_free(md);
    md = NULL;
    if (st == OVICA_OK) st = ovica_model_clone(&md, ovica_trainer_model(t));
    ovica_trainer_free(t);
    if (st) {
        ovica_model_free(md);
        return st;
    }
    *out = md;
    return OVICA_OK;
}

int ovica_atoms_scan(const ovica_model *proto, const double *X_train, size_t N_train,
                     const double *X_test, size_t N_test, size_t x_dim, const size_t *atoms,
                     size_t count, size_t steps, size_t batch, uint64_t seed, double beta,
                     double quantum, double *loglik, double *bits, size_t *best,
                     ovica_atoms_scan_fn on_model, void *user)
{
    OVICA__CHECK_NULL(proto, "proto");
    OVICA__CHECK_NULL(atoms, "atoms");
    OVICA__CHECK_NULL(loglik, "loglik");
    int st = ovica__check_batch(__func__, proto, X_train, N_train, x_dim, X_train, proto->n);
    if (st == OVICA_OK) st = ovica__check_batch(__func__, proto, X_test, N_test, x_dim, X_test,
                                                proto->n);
    if (st == OVICA_OK) st = ovica__check_beta(__func__, beta);
    if (st) return st;
    if (count == 0) return ovica__error(OVICA_EINVAL, "%s: no candidates (count = 0)", __func__);
    if (steps == 0) return ovica__error(OVICA_EINVAL, "%s: steps must be >= 1", __func__);
    for (size_t i = 0; i < count; i++)
        if (atoms[i] == 0 || atoms[i] > INT32_MAX)
            return ovica__error(OVICA_EINVAL, "%s: atoms[%zu] = %zu is not a valid size",
                                __func__, i, atoms[i]);
    if (bits != NULL) {
        if (!isfinite(quantum))
            return ovica__error(OVICA_ENONFINITE, "%s: quantum is %g", __func__, quantum);
        if (!(quantum > 0.0))
            return ovica__error(OVICA_EINVAL, "%s: quantum must be > 0 (got %g)", __func__,
                                quantum);
    }
    const size_t m = proto->m;
    size_t ib = 0;
    double bl = -INFINITY;
    for (size_t i = 0; i < count; i++) {
        ovica_model *md = NULL;
        double ll = NAN;
        st = train_one(proto, atoms[i], X_train, N_train, m, steps, batch, seed, &md);
        if (st == OVICA_OK) {
            st = ovica_loglik_laplace(md, X_test, N_test, x_dim, beta, NULL, &ll);
            if (st == OVICA_NOT_CONVERGED) st = OVICA_OK;
        }
        if (st == OVICA_OK) {
            loglik[i] = ll;
            if (bits) st = ovica_loglik_bits(ll, m, quantum, bits + i);
        }
        if (st == OVICA_OK && on_model != NULL) {
            int rc = on_model(i, md, user);
            if (rc != 0)
                st = ovica__error(OVICA_EUSER, "%s: the callback returned %d for atoms[%zu]",
                                  __func__, rc, i);
        }
        ovica_model_free(md);
        if (st) return st;
        if (ll > bl || (ll == bl && atoms[i] < atoms[ib])) {
            bl = ll;
            ib = i;
        }
    }
    if (best) *best = ib;
    return OVICA_OK;
}

int ovica_atoms_usage(const ovica_model *model, const double *X, size_t N, size_t x_dim,
                      double *usage, size_t n)
{
    OVICA__CHECK_NULL(usage, "usage");
    int st = ovica__check_batch(__func__, model, X, N, x_dim, X, model ? model->n : 0);
    if (st) return st;
    if (n != model->n)
        return ovica__error(OVICA_ESIZE, "%s: usage has %zu entries, the model has %zu atoms",
                            __func__, n, model->n);
    if (model->norm2 <= 0.0)
        return ovica__error(OVICA_EINVAL, "%s: the basis is all zero; set it first", __func__);
    double *S = ovica__alloc_doubles(N * n, "the MAP codes");
    if (S == NULL) return OVICA_ENOMEM;
    size_t bad = 0;
    st = ovica__map_codes(model, X, N, x_dim, S, &bad);
    if (st == OVICA_OK) {
        for (size_t i = 0; i < n; i++) {
            double a = 0.0, len = 0.0;
            for (size_t k = 0; k < N; k++) a += fabs(S[k * n + i]);
            for (size_t j = 0; j < model->m; j++) len += model->A[j * n + i] * model->A[j * n + i];
            usage[i] = a / (double)N * sqrt(len);
        }
    }
    ovica__free(S);
    return st;
}

/* The merge of an over-provisioned basis as one call: usage-weighted
 * clustering of the atoms, then a refit of the merged atoms on the data with
 * the trainer's defaults. See ovica_model_merge() in include/ovica/eval.h. */
#include <string.h>

#include "internal.h"

/* Trains a copy of `mk` (k atoms, basis set to the merged atoms) on X for
 * the trainer's default number of steps with ovica_rule_auto; *out is the
 * trained model (basis, and the sigma and prior scale the trainer chose). */
static int refit(ovica_model **out, const ovica_model *mk, const double *X, size_t N,
                 size_t x_dim, uint64_t seed)
{
    ovica_trainer *t = NULL;
    int st = ovica_trainer_new(&t, mk, ovica_rule_auto, seed);
    if (st) return st;
    double steps = 0.0;
    st = ovica_trainer_get_param(t, OVICA_TRAIN_STEPS, &steps);
    if (st == OVICA_OK) st = ovica_trainer_set_basis(t, mk->A, mk->m, mk->n);
    for (size_t k = 0; st == OVICA_OK && k < (size_t)steps && !ovica_trainer_converged(t); k++)
        st = ovica_trainer_step(t, X, N, x_dim, NULL);
    if (st == OVICA_OK) st = ovica_model_clone(out, ovica_trainer_model(t));
    ovica_trainer_free(t);
    return st;
}

int ovica_model_merge(ovica_model **out, const ovica_model *model, const double *X, size_t N,
                      size_t x_dim, size_t k, uint64_t seed, size_t *assign)
{
    OVICA__CHECK_NULL(out, "out");
    int st = ovica__check_batch(__func__, model, X, N, x_dim, X, model ? model->n : 0);
    if (st) return st;
    const size_t m = model->m, n = model->n;
    if (k == 0 || k > n)
        return ovica__error(OVICA_EINVAL, "%s: need 1 <= k <= n = %zu (got %zu)", __func__, n, k);
    double *w = ovica__alloc_doubles(n + m * k, "the usages and the merged atoms");
    size_t *asg = ovica__malloc(n * sizeof(size_t));
    ovica_model *mk = NULL;
    if (w == NULL || asg == NULL) {
        st = ovica__error(OVICA_ENOMEM, "%s: cannot allocate work memory", __func__);
        goto done;
    }
    double *merged = w + n;
    const int use_sign = model->prior->domain == OVICA_DOMAIN_NONNEG;
    st = ovica_atoms_usage(model, X, N, x_dim, w, n);
    if (st == OVICA_OK) st = ovica_atoms_cluster(model->A, m, n, w, k, use_sign, seed, merged, asg);
    if (st == OVICA_OK) st = ovica_atoms_rescale(model->A, m, n, w, asg, k, merged);
    if (st == OVICA_OK) st = ovica_model_new(&mk, m, k, model->prior, model->sigma);
    if (st == OVICA_OK) st = ovica_model_set_basis(mk, merged, m, k);
    ovica_model *fit = NULL;
    if (st == OVICA_OK) st = refit(&fit, mk, X, N, x_dim, seed);
    if (st == OVICA_OK) {
        if (assign) memcpy(assign, asg, n * sizeof(size_t));
        *out = fit;
    }
done:
    ovica_model_free(mk);
    ovica__free(w);
    ovica__free(asg);
    return st;
}

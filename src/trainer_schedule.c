/* The trainer's schedules: the learning rate (warm-up and cosine decay,
 * or the host's function), the noise level of the posterior draws
 * (annealed), the clock they read (auto's dense route restarts it), and
 * which rule type runs a step (the trainer's rule, or the type auto
 * resolves to). */
#include <math.h>

#include "rule_internal.h"

/* Step k and the planned steps as the schedules see them: auto's dense
 * route starts its schedules where the probe ended. */
void ovica__schedule_clock(const ovica_trainer *t, size_t k, size_t *kk, size_t *TT)
{
    size_t T = (size_t)t->param[OVICA_TRAIN_STEPS], p = 0;
    if ((t->rule->flags & OVICA__RULE_CHOOSES) && t->regime == OVICA_REGIME_DENSE) p = t->phase0;
    *kk = k >= p ? k - p : 0;
    *TT = T > p + 1 ? T - p : 1;
}

static double builtin_lr(const ovica_trainer *t, size_t k)
{
    double base = t->param[OVICA_TRAIN_LR];
    if (t->param[OVICA_TRAIN_SCHEDULE] == 0.0) return base;
    size_t kk, TT;
    ovica__schedule_clock(t, k, &kk, &TT);
    double T = (double)TT, x = (double)kk + 0.5;
    /* ovica_rule_auto: the gradient phase has its own warm-up and decay */
    if ((t->rule->flags & OVICA__RULE_CHOOSES) && t->param[OVICA_TRAIN_ADAM] > 0.0) {
        double T0 = floor(T * t->param[OVICA_TRAIN_EM_FRACTION]);
        if (x >= T0) {
            x -= T0;
            T -= T0;
        }
    }
    double w = t->param[OVICA_TRAIN_WARMUP] * T;
    if (x >= T) return 0.0;
    if (x < w) return base * x / w;
    return base * 0.5 * (1.0 + cos(OVICA__PI * (x - w) / (T - w)));
}

/* sigma_t for step k: geometric decrease from ANNEAL * sigma to sigma over
 * the first ANNEAL_FRACTION of the steps (only for the rules from draws). */
static double builtin_sigma(const ovica_trainer *t, size_t k)
{
    double sigma = t->model->sigma, f = t->param[OVICA_TRAIN_ANNEAL];
    size_t kk, TT;
    ovica__schedule_clock(t, k, &kk, &TT);
    double T = (double)TT * t->param[OVICA_TRAIN_ANNEAL_FRACTION];
    if (f <= 1.0 || (double)kk >= T) return sigma;
    return sigma * pow(f, 1.0 - (double)kk / T);
}

int ovica__current_lr(const ovica_trainer *t, size_t k, double *lr)
{
    size_t kk, TT;
    ovica__schedule_clock(t, k, &kk, &TT);
    double v = t->lr_fn ? t->lr_fn(kk, TT, t->lr_user) : builtin_lr(t, k);
    if (t->lr_fn && !(isfinite(v) && v >= 0.0))
        return ovica__error(OVICA_EUSER, "learning-rate schedule returned %g at step %zu", v, k);
    *lr = v * t->lr_scale;
    return OVICA_OK;
}

int ovica__current_sigma(const ovica_trainer *t, size_t k, double *sigma)
{
    size_t kk, TT;
    ovica__schedule_clock(t, k, &kk, &TT);
    double v = t->sigma_fn ? t->sigma_fn(kk, TT, t->sigma_user) : builtin_sigma(t, k);
    if (!(isfinite(v) && v > 0.0))
        return ovica__error(OVICA_EUSER, "noise schedule returned %g at step %zu", v, k);
    *sigma = v;
    return OVICA_OK;
}

/* The rule type step k runs (ovica_rule_auto resolves to another). */
const ovica_rule_type *ovica__rule_at(const ovica_trainer *t, size_t k)
{
    return t->rule->resolve != NULL ? t->rule->resolve(t, k) : t->rule;
}


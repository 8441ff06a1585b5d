/* One update of the basis from the accumulated statistics
 * (ovica_trainer_apply), in named parts: the rule's update (or a rollback
 * when it fails), the dead-atom guard, the duplicate split, the monitor,
 * the step's statistics; and ovica_trainer_step = accumulate + apply. */
#include <math.h>
#include <string.h>

#include "rule_internal.h"

/* The rule's update of the basis: propose (a direction, or the new basis
 * itself), update (the direction at learning rate lr -> the new basis),
 * then the new basis into the model. A numerical failure of the rule, a
 * non-finite update or a basis the model refuses rolls back instead
 * (OVICA_GUARD_ROLLBACK). *anorm gets ||A||_F before the update, *unorm
 * ||A_new - A||_F (0 after a rollback). The basis before the update stays
 * in t->prev (a rollback target before any best basis exists). */
static int update_basis(ovica_trainer *t, const ovica_rule_type *rule, double lr, int *guard,
                        double *anorm_out, double *unorm_out)
{
    const size_t m = t->m, n = t->n, mn = m * n;
    double *A = t->model->A, *A1 = t->A1, *prev = t->prev;
    memcpy(prev, A, mn * sizeof(double)); /* for a rollback before any best exists */

    double anorm = frob(A, mn), unorm = 0.0;
    int bad = 0;
    /* the rule's direction (or, without an update, the new basis itself) */
    int st = rule->propose(t, A1, guard);
    if (st == OVICA_ENUMERIC) {
        bad = 1;
        st = OVICA_OK;
    }
    if (st) return st;
    if (!bad) {
        if (rule->update != NULL) {
            st = rule->update(t, rule, lr, anorm, A1, guard);
            if (st) return st;
        }
        for (size_t i = 0; i < mn; i++) unorm += (A1[i] - A[i]) * (A1[i] - A[i]);
        unorm = sqrt(unorm);
        bad = !isfinite(unorm);
    }
    if (!bad) {
        st = ovica_model_set_basis(t->model, A1, m, n);
        if (st == OVICA_ENUMERIC || st == OVICA_ENONFINITE) {
            bad = 1;
            st = OVICA_OK;
        }
        if (st) return st;
    }
    if (bad) {
        st = ovica__rollback(t, prev);
        if (st) return st;
        *guard |= OVICA_GUARD_ROLLBACK;
        unorm = 0.0;
    }
    *anorm_out = anorm;
    *unorm_out = unorm;
    return OVICA_OK;
}

/* What the host sees of step k (struct ovica_step_stats). */
static void fill_step_stats(const ovica_trainer *t, const ovica_rule_type *rule, size_t k,
                            double lr, double sigma_t, double anorm, double unorm, size_t dead,
                            double mon, int guard, ovica_step_stats *stats)
{
    const double samples = t->stats[ST_SAMPLES];
    stats->step = k;
    stats->samples = samples;
    stats->objective = t->stats[ST_OBJ] / samples;
    stats->mse = t->stats[ST_SQ] / (samples * (double)t->m);
    stats->active = t->stats[ST_ACTIVE] / samples;
    stats->dead = dead;
    stats->lr = lr;
    stats->sigma_t = sigma_t;
    stats->update = anorm > 0.0 ? unorm / anorm : 0.0;
    stats->monitor = mon;
    stats->best = t->best;
    stats->guard = guard;
    stats->rule = rule->draws;
}

int ovica_trainer_apply(ovica_trainer *t, ovica_step_stats *stats)
{
    OVICA__CHECK_NULL(t, "trainer");
    if (stats != NULL) {
        int vst = ovica__check_version(__func__, "stats", stats->version,
                                       OVICA_STEP_STATS_VERSION);
        if (vst != OVICA_OK) return vst;
    }
    if (!t->have_stats)
        return ovica__error(OVICA_ESTATE, "%s: no statistics accumulated", __func__);
    const size_t k = t->step;
    const ovica_rule_type *rule = ovica__rule_at(t, k);
    double lr = 0.0, sigma_t = t->model->sigma;
    int st = ovica__current_lr(t, k, &lr);
    if (st == OVICA_OK && rule->draws) st = ovica__current_sigma(t, k, &sigma_t);
    if (st) return st;

    int guard = 0;
    double anorm = 0.0, unorm = 0.0, mon = NAN;
    size_t dead = 0;
    st = update_basis(t, rule, lr, &guard, &anorm, &unorm);
    if (st == OVICA_OK) st = ovica__guard_dead_atoms(t, k, &guard, &dead);
    if (st == OVICA_OK) st = ovica__guard_split(t, rule, sigma_t, &guard);
    if (st == OVICA_OK) st = ovica__guard_monitor(t, rule, k, &guard, &mon);
    if (st) return st;

    if (stats != NULL)
        fill_step_stats(t, rule, k, lr, sigma_t, anorm, unorm, dead, mon, guard, stats);
    ovica_trainer_clear_stats(t);
    t->step = k + 1;
    /* (auto's probe is on the sparse route too: its steps count) */
    if (t->regime == OVICA_REGIME_SPARSE || t->regime == OVICA_REGIME_UNDECIDED)
        ovica__conv_update(t);
    const double probe = t->param[OVICA_TRAIN_PROBE];
    if (t->regime == OVICA_REGIME_UNDECIDED && (double)t->step >= probe + (double)t->probe_ext)
        return ovica__auto_decide(t);
    if (t->regime == OVICA_REGIME_UNDECIDED) return ovica__probe_check(t);
    /* (the sparse rule: its noise estimate is checked at the probe's length) */
    if (!(t->rule->flags & OVICA__RULE_CHOOSES) && t->regime == OVICA_REGIME_SPARSE &&
        !t->noise_refit && (double)t->step == probe)
        ovica__noise_check(t);
    return OVICA_OK;
}

/* A step on doubles (X) or on floats (Xf). */
static int step(ovica_trainer *t, const double *X, const float *Xf, size_t N, size_t x_dim,
                ovica_step_stats *stats, const char *fn)
{
    if (t == NULL) return ovica__error(OVICA_EINVAL, "%s: trainer is NULL", fn);
    if (X == NULL && Xf == NULL) return ovica__error(OVICA_EINVAL, "%s: X is NULL", fn);
    if (stats != NULL) {
        int vst = ovica__check_version(fn, "stats", stats->version, OVICA_STEP_STATS_VERSION);
        if (vst != OVICA_OK) return vst;
    }
    ovica_trainer_clear_stats(t);
    int st = Xf != NULL ? ovica_trainer_accumulate_f32(t, Xf, N, x_dim)
                        : ovica_trainer_accumulate(t, X, N, x_dim);
    if (st == OVICA_OK) st = ovica_trainer_apply(t, stats);
    if (st) ovica_trainer_clear_stats(t);
    return st;
}

int ovica_trainer_step(ovica_trainer *t, const double *X, size_t N, size_t x_dim,
                       ovica_step_stats *stats)
{
    return step(t, X, NULL, N, x_dim, stats, __func__);
}

int ovica_trainer_step_f32(ovica_trainer *t, const float *X, size_t N, size_t x_dim,
                           ovica_step_stats *stats)
{
    return step(t, NULL, X, N, x_dim, stats, __func__);
}


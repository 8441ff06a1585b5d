/* The trainer's guards: the monitor batch and its objective (best basis,
 * divergence), rollback, dead atoms and their re-seeding, and the split
 * of duplicate atoms. ovica_trainer_apply (trainer_apply.c) calls them in
 * that order after an update. */
#include <math.h>
#include <string.h>

#include "rule_internal.h"

int ovica_trainer_set_monitor(ovica_trainer *t, const double *X, size_t N, size_t x_dim)
{
    int st = ovica__trainer_check_batch(__func__, t, X, N, x_dim);
    if (st) return st;
    double *mx = ovica__alloc_doubles(N * t->m, "the monitor batch");
    double *ms = ovica__alloc_doubles(N * t->n, "the monitor codes");
    if (!mx || !ms) {
        ovica__free(mx); ovica__free(ms);
        return OVICA_ENOMEM;
    }
    memcpy(mx, X, N * t->m * sizeof(double));
    ovica__free(t->mon_X); ovica__free(t->mon_S);
    t->mon_X = mx;
    t->mon_S = ms;
    t->mon_N = N;
    t->mon_fresh = 1;
    t->best = NAN;
    return OVICA_OK;
}

/* Negative mean log-likelihood per sample of the monitor batch. */
int ovica__monitor_objective(ovica_trainer *t, double *obj)
{
    /* Cold start: codes warm-started from another basis that stop short of
     * the MAP keep coordinates active that the MAP would set to 0, which
     * takes their curvature out of the Hessian and makes the Laplace value
     * absurdly high (a bogus "best" that then triggers rollbacks). */
    int st = ovica_solver_set_param(t->mon_solver, OVICA_SOLVER_WARM_START, 0);
    if (st) return st;
    st = ovica_solver_infer(t->mon_solver, t->model, t->mon_X, t->mon_N, t->m, t->mon_S, t->n,
                            NULL);
    if (st < 0) return st;
    t->mon_fresh = 0;
    if (st == OVICA_NOT_CONVERGED) {
        *obj = NAN; /* codes short of the MAP: no verdict */
        return OVICA_DONE;
    }
    double mean = NAN;
    st = ovica_loglik_codes(t->model, t->mon_X, t->mon_N, t->m, t->mon_S, t->n,
                            t->param[OVICA_TRAIN_BETA], NULL, &mean);
    if (st == OVICA_ENUMERIC) {
        /* the Laplace approximation itself failed (Hessian not positive
         * definite): no verdict on this basis */
        *obj = NAN;
        return OVICA_DONE;
    }
    if (st) return st;
    *obj = -mean;
    return OVICA_OK;
}

/* Finds a pair of atoms closer than OVICA_TRAIN_SPLIT degrees (as lines for
 * a real prior, as rays for a non-negative one). */
static int find_duplicate(const ovica_trainer *t, size_t *pi, size_t *pj)
{
    const size_t m = t->m, n = t->n;
    const double *A = t->model->A;
    const int rays = t->model->prior->domain == OVICA_DOMAIN_NONNEG;
    const double lim = cos(t->param[OVICA_TRAIN_SPLIT] * OVICA__PI / 180.0);
    double best = lim;
    int found = 0;
    for (size_t i = 0; i < n; i++) {
        double ni = col_norm(A, m, n, i);
        for (size_t j = i + 1; j < n; j++) {
            double nj = col_norm(A, m, n, j), d = 0.0;
            if (!(ni > 0.0 && nj > 0.0)) continue;
            for (size_t r = 0; r < m; r++) d += A[r * n + i] * A[r * n + j];
            double c = d / (ni * nj);
            if (!rays) c = fabs(c);
            if (c > best) {
                best = c;
                *pi = i;
                *pj = j;
                found = 1;
            }
        }
    }
    return found;
}

/* Writes into t->A1 the basis with atoms i and j rotated apart. */
static void split_pair(ovica_trainer *t, size_t i, size_t j)
{
    const size_t m = t->m, n = t->n;
    const double *A = t->model->A;
    double *A1 = t->A1, *u = t->W2, *v = t->W2 + m;
    memcpy(A1, A, m * n * sizeof(double));
    double ni = col_norm(A, m, n, i), nj = col_norm(A, m, n, j), d = 0.0, uu = 0.0, vv = 0.0;
    for (size_t r = 0; r < m; r++) d += A[r * n + i] * A[r * n + j];
    double sgn = d < 0.0 ? -1.0 : 1.0;
    for (size_t r = 0; r < m; r++) {
        u[r] = A[r * n + i] / ni + sgn * A[r * n + j] / nj; /* mean direction */
        uu += u[r] * u[r];
    }
    uu = sqrt(uu);
    for (size_t r = 0; r < m; r++) u[r] /= uu;
    do { /* a random unit direction orthogonal to u */
        double du = 0.0;
        for (size_t r = 0; r < m; r++) v[r] = ovica_rng_normal(t->rng);
        for (size_t r = 0; r < m; r++) du += v[r] * u[r];
        vv = 0.0;
        for (size_t r = 0; r < m; r++) {
            v[r] -= du * u[r];
            vv += v[r] * v[r];
        }
    } while (vv < 1e-12 && m > 1);
    vv = sqrt(vv);
    double th = t->param[OVICA_TRAIN_SPLIT_APART] * OVICA__PI / 180.0;
    for (size_t r = 0; r < m; r++) {
        double e = vv > 0.0 ? v[r] / vv : 0.0;
        A1[r * n + i] = ni * (cos(th) * u[r] + sin(th) * e);
        A1[r * n + j] = sgn * nj * (cos(th) * u[r] - sin(th) * e);
    }
}

int ovica__rollback(ovica_trainer *t, const double *fallback)
{
    const double *to = isnan(t->best) ? fallback : t->best_A;
    int st = ovica_model_set_basis(t->model, to, t->m, t->n);
    if (st) return st;
    t->lr_scale *= t->param[OVICA_TRAIN_BACKOFF];
    t->have_last_dir = 0;
    t->adam_n = 0.0;
    t->mon_fresh = 1;
    t->last_N = 0;
    return OVICA_OK;
}


/* Usage, dead atoms, and re-seeding (one atom per step, from the residual
 * of the worst-reconstructed sample) after the update of step k; counts
 * the atoms left dead in *dead. */
int ovica__guard_dead_atoms(ovica_trainer *t, size_t k, int *guard, size_t *dead_out)
{
    const size_t m = t->m, n = t->n, mn = m * n;
    double *A1 = t->A1;
    int st;
    const double samples = t->stats[ST_SAMPLES];
    const double window = t->param[OVICA_TRAIN_DEAD_WINDOW];
    const double a = 2.0 / ((window > 0.0 ? window : 40.0) + 1.0);
    size_t dead = 0, reseed = n;
    /* An atom counts as alive in this step if some code used it and its
     * norm has not collapsed below COLLAPSE times the mean atom norm: the
     * rules from draws use every atom (draws are never exactly 0), so for
     * them a collapsed norm is what marks an atom the data no longer want. */
    const double *Acur = t->model->A;
    const double mean_norm = mean_col_norm(Acur, m, n); /* also the re-seeded atom's length */
    const double collapse = t->param[OVICA_TRAIN_COLLAPSE] * mean_norm;
    for (size_t j = 0; j < n; j++) {
        double frac = t->act[j] / samples;
        t->usage[j] = k == 0 ? frac : (1.0 - a) * t->usage[j] + a * frac;
        if (t->act[j] > 0.0 && !(collapse > 0.0 && col_norm(Acur, m, n, j) < collapse))
            t->last_active[j] = k + 1;
        if (window > 0.0 && (double)(k + 1 - t->last_active[j]) >= window) {
            if (reseed == n && t->param[OVICA_TRAIN_RESEED] != 0.0 && t->have_worst)
                reseed = j;
            else
                dead++;
        }
    }
    double wn = frob(t->worst, m);
    if (reseed < n && wn > 0.0) {
        memcpy(A1, t->model->A, mn * sizeof(double));
        for (size_t r = 0; r < m; r++) A1[r * n + reseed] = t->worst[r] / wn * mean_norm;
        st = ovica_model_set_basis(t->model, A1, m, n);
        if (st) return st;
        t->last_active[reseed] = k + 1;
        t->usage[reseed] = 0.0;
        ovica__dict_forget_atom(t, reseed);
        t->mon_fresh = 1;
        t->last_N = 0;
        t->adam_n = 0.0;
        *guard |= OVICA_GUARD_RESEED;
    } else if (reseed < n) {
        dead++;
    }
    *dead_out = dead;
    return OVICA_OK;
}

/* Duplicate atoms: two atoms within SPLIT degrees of each other code one
 * feature twice (a saddle that annealed EM leaves when a close pair of
 * true atoms merged at high noise, and from which neither EM nor the
 * gradient escapes quickly). Once the noise is annealed down (sigma_t is
 * the step's noise level), the pair is split apart symmetrically, along a
 * random direction orthogonal to their mean, by SPLIT_APART degrees each;
 * one pair per step; for the rules with OVICA__RULE_SPLIT. */
int ovica__guard_split(ovica_trainer *t, const ovica_rule_type *rule, double sigma_t, int *guard)
{
    const size_t m = t->m, n = t->n;
    double *A1 = t->A1;
    int st;
    if ((rule->flags & OVICA__RULE_SPLIT) && t->param[OVICA_TRAIN_SPLIT] > 0.0 &&
        sigma_t <= t->model->sigma * (1.0 + 1e-12)) {
        size_t pi = n, pj = n;
        if (find_duplicate(t, &pi, &pj)) {
            split_pair(t, pi, pj);
            st = ovica_model_set_basis(t->model, A1, m, n);
            if (st) return st;
            t->mon_fresh = 1;
            t->have_last_dir = 0;
            t->adam_n = 0.0;
            *guard |= OVICA_GUARD_SPLIT;
        }
    }
    return OVICA_OK;
}

/* The monitor after the update of step k, every OVICA_TRAIN_MONITOR_EVERY
 * steps (for the rules with OVICA__RULE_MONITOR): a new best basis is kept,
 * a divergence (non-finite, or a rise seen twice running) rolls back to
 * the best basis (or to t->prev, the basis before the update). *mon gets
 * the objective, NaN when not evaluated. */
int ovica__guard_monitor(ovica_trainer *t, const ovica_rule_type *rule, size_t k, int *guard,
                         double *mon_out)
{
    const size_t mn = t->m * t->n;
    int st;
    double mon = NAN;
    /* (not on the sparse route: its sigma and prior scale move every step,
     * so the objective of one step is not comparable with another's) */
    double every =
        (rule->flags & OVICA__RULE_MONITOR) ? t->param[OVICA_TRAIN_MONITOR_EVERY] : 0.0;
    if (every > 0.0 && t->mon_N > 0 && (k + 1) % (size_t)every == 0) {
        st = ovica__monitor_objective(t, &mon);
        if (st < 0) return st;
        double best = t->best;
        if (st == OVICA_DONE) {
            /* no verdict */
        } else if (!isfinite(mon) ||
                   (!isnan(best) &&
                    mon > best + t->param[OVICA_TRAIN_DIVERGE] * fmax(1.0, fabs(best)) &&
                    ++t->strikes >= 2)) {
            /* (a finite rise must be seen twice running: one odd value of
             * the approximation does not undo the progress since the best) */
            st = ovica__rollback(t, t->prev);
            if (st) return st;
            t->strikes = 0;
            *guard |= OVICA_GUARD_ROLLBACK;
        } else if (!(mon > best + t->param[OVICA_TRAIN_DIVERGE] * fmax(1.0, fabs(best)))) {
            t->strikes = 0;
            if (isnan(best) || mon < best) {
                t->best = mon;
                memcpy(t->best_A, t->model->A, mn * sizeof(double));
                *guard |= OVICA_GUARD_BEST;
            }
        }
    }
    *mon_out = mon;
    return OVICA_OK;
}

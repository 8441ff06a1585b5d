/* The private layout of a rule type (ovica/rule.h keeps it opaque) and the
 * helpers the rule types under src/rule/ share. A rule type is a table in
 * the manner of GSL's gsl_multimin_fminimizer_type: a name, the version of
 * this layout, the size of the per-trainer state, flags the trainer's
 * shared machinery reads (which statistics, which guards), and the
 * functions the trainer calls: resolve (which type runs step k), prepare
 * (before a batch's codes), propose (the statistics -> a direction or a new
 * basis) and update (the direction -> the new basis). A new rule is one
 * file under src/rule/ defining `const ovica_rule_type ovica__rule_NAME`
 * plus one entry in src/rule/registry.c (docs/ARCHITECTURE.md, "Adding a
 * solver or a rule"). Not exported. */
#ifndef OVICA_RULE_INTERNAL_H
#define OVICA_RULE_INTERNAL_H

#include "trainer_internal.h"

#define OVICA__RULE_TYPE_VERSION 1

/* flags */
enum {
    OVICA__RULE_SCORES = 1,     /* MAP statistics gather <z s^T> (the gradient rules) */
    OVICA__RULE_SPLIT = 2,      /* the duplicate-atom split guard applies after its updates */
    OVICA__RULE_MONITOR = 4,    /* the monitor batch's objective is tracked (best basis,
                                   divergence) */
    OVICA__RULE_BUILTIN = 8,    /* needs a built-in prior (it tunes the prior's scale) */
    OVICA__RULE_INIT_DATA = 16, /* a trainer without a basis starts from atoms drawn from the data
                                   (else spread atoms) */
    OVICA__RULE_DRAW_ROWS = 32, /* a batch larger than the route's step size: rows drawn at random
                                   (the sparse route; else the host's batch as it is) */
    OVICA__RULE_CHOOSES = 64    /* chooses its regime (auto): the schedules restart where the dense
                                   route starts; ovica_trainer_set_regime applies */
};

struct ovica_rule_type {
    const char *name;        /* unique among the registered types */
    unsigned int version;    /* OVICA__RULE_TYPE_VERSION */
    size_t state_size;       /* bytes of per-trainer state ovica_trainer_new allocates (zeroed) in
                                t->rule_state; 0: none (the built-ins keep theirs in the trainer) */
    int draws;               /* works from posterior draws (ovica_rule_type_uses_draws) */
    int flags;               /* OVICA__RULE_* */
    int regime;              /* the trainer's regime at the start (enum ovica_regime) */
    /* Optional: prepares a new trainer's state (after the allocation). */
    int (*init)(ovica_trainer *t, void *state);
    /* Optional: releases what init acquired (the library frees the block). */
    void (*free)(ovica_trainer *t, void *state);
    /* Optional: the type that runs step k (auto: dictionary, em or exact);
     * NULL: the type itself. A resolved type must not resolve again. */
    const ovica_rule_type *(*resolve)(const ovica_trainer *t, size_t k);
    /* Optional: called before a batch's codes are computed (the sparse route
     * sets the model's sigma and the prior's scale). */
    int (*prepare)(ovica_trainer *t, const double *X, size_t N);
    /* From the statistics (t->stats, t->zs, t->xs, t->ss): a direction dA,
     * or the new basis itself when update is NULL, into A1 (m x n); may set
     * OVICA_GUARD_* bits. OVICA_ENUMERIC: the trainer rolls back. */
    int (*propose)(ovica_trainer *t, double *A1, int *guard);
    /* Optional: turns the direction in A1 into the new basis at learning
     * rate lr (anorm = ||A||_F); `self` is the type that proposed. */
    int (*update)(ovica_trainer *t, const ovica_rule_type *self, double lr, double anorm,
                  double *A1, int *guard);
};

/* The registry (src/rule/registry.c): the types in enumeration order. */
const ovica_rule_type *const *ovica__rule_types(size_t *count);
int ovica__rule_valid(const ovica_rule_type *type);

/* ---- shared by the rule types (src/rule/common.c) ---- */
/* D = -A (<z s^T> / draws + I): the natural gradient from the scores. */
void ovica__rule_score_direction(ovica_trainer *t, double *D);
/* Cholesky factor of the symmetric n x n matrix W in place (copy: n x n
 * work), adding a ridge when it is not positive definite. */
int ovica__chol_ridge(double *W, double *copy, size_t n);
/* The gradient rules' step: A1 = A + scale * A1 (A1 a direction), with the
 * step cap and the oscillation damping (guard bits); remembers the
 * direction as the last one of `self`. */
void ovica__rule_gradient_step(ovica_trainer *t, const ovica_rule_type *self, double scale,
                               double anorm, double *A1, int *guard);
/* The learning rate relative to the schedule's peak (1 at the peak). */
double ovica__rule_relative_rate(const ovica_trainer *t, double lr);

#endif /* OVICA_RULE_INTERNAL_H */

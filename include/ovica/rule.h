/**
 * @file ovica/rule.h
 * @brief Update rules for the basis A (MATH.md, "Learning the basis").
 *
 * A rule turns a batch's sufficient statistics into a change of A. Rules are
 * type objects chosen when a trainer is made (ovica/trainer.h):
 *   - ovica_rule_natural: Lewicki & Sejnowski's natural gradient from the
 *     MAP codes, dA = -A(<z s_hat^T> + I); z on inactive coordinates is the
 *     prior's score (0) or the optimality subgradient -lambda A^T(x - A s_hat)
 *     (trainer parameter OVICA_TRAIN_Z).
 *   - ovica_rule_plain: the plain gradient (A A^T)^{-1} dA, solved with a
 *     Cholesky factorisation of A A^T (LAPACK), never an explicit inverse.
 *   - ovica_rule_reconstruction: Olshausen & Field's rule
 *     dA = lambda <(x - A s_hat) s_hat^T>, then every column renormalised
 *     to unit length (the scale is otherwise unconstrained).
 *   - ovica_rule_exact: the exact natural gradient of the likelihood from
 *     posterior draws (ovica/sampler.h): dA = -A(<z s^T> + I + B), B the
 *     exponential prior's boundary term (0 for Laplace).
 *   - ovica_rule_em: Monte Carlo EM from posterior draws: A_new = <x s^T>
 *     <s s^T>^{-1} (Cholesky solve), applied as A + rate (A_new - A).
 *   - ovica_rule_dictionary: the sparse route (docs/LEARNING.md): exact MAP
 *     codes of the batch at a sparsity threshold that tunes itself (the
 *     model's sigma follows the residual, the prior's scale is set so that
 *     the codes threshold at OVICA_TRAIN_THRESHOLD times sigma), unit atoms
 *     updated by a Newton-scaled block step on running statistics
 *     <x s^T>, <s s^T> (online dictionary learning), unused atoms
 *     re-seeded and the least useful atom swapped for a direction the
 *     codes leave unexplained. Right when few sources are active per
 *     sample; biased when many are (the MAP codes then misrepresent the
 *     posterior). Needs a built-in prior. (added in 0.3)
 *   - ovica_rule_auto: the default. It starts on the sparse route (the
 *     probe, OVICA_TRAIN_PROBE steps from atoms drawn from the data), then
 *     measures the fraction of the data's dimensions the sparse codes
 *     occupy plus the fraction of the data's energy they leave
 *     unexplained: at most OVICA_TRAIN_REGIME_AT, it stays on the sparse
 *     route; above, the sources are dense (many active per sample) and it
 *     starts again from spread atoms with the exact gradient from posterior
 *     draws, Adam-normalised steps (OVICA_TRAIN_ADAM), the noise of the
 *     draws annealed from 30 sigma down to sigma over the first 60% of the
 *     remaining steps (to reach the right basin from a random start);
 *     optionally Monte Carlo EM for the first OVICA_TRAIN_EM_FRACTION of
 *     them (default 0: EM's rate tends to 1 at low noise, and the annealed
 *     gradient reaches the basin as well; docs/LEARNING.md,
 *     docs/ABLATION.md). ovica_trainer_regime() tells which route it took.
 *     A measurement above the line can also come from a pinned threshold
 *     (many active atoms a sample: the noise estimate then holds the
 *     sources the threshold leaves out); auto then first runs a second
 *     probe of at most the first's length, with the noise estimated from
 *     the codes refitted on their supports, and decides on its measurement
 *     (early, every 10 steps, where it is clear).
 *     ovica_rule_dictionary turns to that estimate on the same measurement
 *     at step OVICA_TRAIN_PROBE.
 *     Needs a built-in prior.
 * The rules from draws need a built-in prior (ovica_trainer_new refuses
 * them with a user prior: OVICA_ENOTSUP).
 */
#ifndef OVICA_RULE_H
#define OVICA_RULE_H

#include "common.h"

OVICA_BEGIN_DECLS

/** Opaque rule descriptor (a type object). */
typedef struct ovica_rule_type ovica_rule_type;

OVICA_API extern const ovica_rule_type *const ovica_rule_natural;
OVICA_API extern const ovica_rule_type *const ovica_rule_plain;
OVICA_API extern const ovica_rule_type *const ovica_rule_reconstruction;
OVICA_API extern const ovica_rule_type *const ovica_rule_exact;
OVICA_API extern const ovica_rule_type *const ovica_rule_em;
OVICA_API extern const ovica_rule_type *const ovica_rule_auto;
OVICA_API extern const ovica_rule_type *const ovica_rule_dictionary;

/**
 * @brief Number of rule types this library provides (7 in 0.3: natural,
 * plain, reconstruction, exact, em, auto, dictionary). With ovica_rule_type_at() it
 * enumerates them, so that hosts list the rules instead of copying their
 * names; the order is fixed within a release.
 */
OVICA_API size_t ovica_rule_type_count(void);

/**
 * @brief The i-th rule type, 0 <= i < ovica_rule_type_count().
 * @return the type, or NULL (message set, OVICA_EINVAL) when i is out of
 *         range.
 */
OVICA_API const ovica_rule_type *ovica_rule_type_at(size_t i);

/**
 * @brief Looks a rule up by name (ovica_rule_type_name() of one of the
 * enumerated types: "natural", "plain", "reconstruction", "exact", "em",
 * "auto", "dictionary").
 * @return the type, or NULL (message set, OVICA_EINVAL, listing the known
 *         names) for NULL or an unknown name.
 */
OVICA_API const ovica_rule_type *ovica_rule_type_find(const char *name);

/** @brief The rule's name; "" for NULL. Names are unique among the
 *  enumerated types. */
OVICA_API const char *ovica_rule_type_name(const ovica_rule_type *type);

/** @brief 1 if the rule works from posterior draws (exact, em, auto: auto may
 * also stay on MAP codes, see ovica_trainer_regime), 0 if from MAP codes
 * (natural, plain, reconstruction, dictionary), -1 for NULL. */
OVICA_API int ovica_rule_type_uses_draws(const ovica_rule_type *type);

/** Choice of z on inactive coordinates (s_hat_i = 0) for the MAP rules. */
enum ovica_z_choice {
    OVICA_Z_PRIOR = 0,      /**< the prior's score, 0 at the kink (the article's) */
    OVICA_Z_SUBGRADIENT = 1 /**< the optimality subgradient -lambda a_i^T (x - A s_hat) */
};

OVICA_END_DECLS

#endif /* OVICA_RULE_H */

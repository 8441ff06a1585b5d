/**
 * @file ovica/trainer.h
 * @brief Learning the basis, one step at a time, driven by the host.
 *
 * A trainer owns a copy of a model and updates its basis A. The host loops:
 *
 *     ovica_trainer_new(&t, model, ovica_rule_auto, seed);
 *     ovica_trainer_set_param(t, OVICA_TRAIN_STEPS, 300);   // for the schedules
 *     ovica_trainer_init_basis(t, OVICA_INIT_SPREAD, X, N, m);
 *     for (k = 0; k < 300 && !ovica_trainer_converged(t); k++)
 *         ovica_trainer_step(t, X_batch, B, m, &stats);      // or accumulate + apply
 *     ovica_model_get_basis(ovica_trainer_model(t), A, m, n);
 *
 * One step = infer s_hat for the batch (MAP rules) or draw s from the
 * posterior (rules from draws, at the annealed noise level sigma_t; chains
 * start at s_hat for a new batch and continue from their last state when the
 * same batch, recognised by size and a hash of its content, comes back),
 * accumulate the rule's sufficient statistics, and apply the
 * update with the learning rate of the schedule. The two halves are public:
 * ovica_trainer_accumulate() adds a batch's statistics; the statistics can be
 * exported as a flat array of doubles, summed across processes (e.g. by
 * MPI_Allreduce) and imported back; ovica_trainer_apply() then updates A.
 * The statistics are sums, so the order of summation is the only source of
 * rounding differences between processes.
 *
 * Guards (all on by default):
 *   - step cap: an update larger than OVICA_TRAIN_STEP_CAP * ||A||_F (Frobenius)
 *     is scaled down to that size;
 *   - damping: a gradient update that points back against the previous one
 *     (the rate is too large for the local curvature, or the gradient is
 *     down to noise) multiplies the rate by OVICA_TRAIN_DAMPING for good;
 *   - best basis: every OVICA_TRAIN_MONITOR_EVERY steps the monitor objective
 *     (the negative mean log-likelihood per sample by the Laplace
 *     approximation of MATH.md, on the monitor batch: ovica_trainer_set_monitor,
 *     else the first batch seen) is evaluated and the best basis kept;
 *     ovica_trainer_restore_best() puts it back;
 *   - divergence: a non-finite basis or statistic, or a monitor objective
 *     above best + OVICA_TRAIN_DIVERGE * max(1, |best|) at two evaluations
 *     running, rolls the basis back to the best one and multiplies the
 *     learning rate by OVICA_TRAIN_BACKOFF; the model never holds NaN or Inf
 *     (the monitor's MAP codes start cold, and a solve that misses its
 *     tolerance gives no verdict: codes short of the MAP make the Laplace
 *     value absurdly good);
 *   - duplicates: two atoms closer than OVICA_TRAIN_SPLIT degrees code one
 *     feature twice (annealed EM merges a close pair of true atoms at high
 *     noise); once sigma_t is down to sigma they are split apart
 *     symmetrically by OVICA_TRAIN_SPLIT_APART degrees each;
 *   - dead atoms: an atom never active for OVICA_TRAIN_DEAD_WINDOW steps is
 *     dead; with OVICA_TRAIN_RESEED it is re-seeded from the worst
 *     reconstructed sample of the last accumulated batch (at the mean atom
 *     norm). Active means used by some code of the step's batch and, with
 *     OVICA_TRAIN_COLLAPSE > 0, a norm of at least that fraction of the mean
 *     atom norm: posterior draws are never exactly 0, so for the rules from
 *     draws an atom the data no longer want shows as a collapsed norm.
 *
 * Ownership: the trainer copies the model given to ovica_trainer_new();
 * ovica_trainer_model() lends the trainer's current model (valid until the
 * next call that modifies the trainer). Batches passed in are only read
 * during the call (the monitor batch is copied).
 * Threads: one thread per trainer at a time; separate trainers in parallel.
 */
#ifndef OVICA_TRAINER_H
#define OVICA_TRAINER_H

#include "common.h"
#include "model.h"
#include "rule.h"
#include "solver.h"

OVICA_BEGIN_DECLS

/** Opaque trainer handle. */
typedef struct ovica_trainer ovica_trainer;

/** Trainer parameters (values frozen). Set with ovica_trainer_set_param(). */
enum ovica_train_param {
    OVICA_TRAIN_LR = 0,              /**< base learning rate, (0, 100]; default 0.3 (EM: the mixing rate, clipped to 1) */
    OVICA_TRAIN_STEPS = 1,           /**< planned number of steps, for the schedules, [1, 1e12]; default 650 (ovica_rule_auto: a probe of 50, then 600 on the route it chose) */
    OVICA_TRAIN_SCHEDULE = 2,        /**< 0 constant, 1 linear warm-up then cosine decay to 0; default 1 */
    OVICA_TRAIN_WARMUP = 3,          /**< warm-up fraction of the steps, [0, 1]; default 0.1 */
    OVICA_TRAIN_Z = 4,               /**< enum ovica_z_choice for the MAP rules; default OVICA_Z_PRIOR */
    OVICA_TRAIN_ANNEAL = 5,          /**< starting noise level sigma_0 / sigma for the rules from draws, [1, 1e6] (1: no annealing); default 30 */
    OVICA_TRAIN_ANNEAL_FRACTION = 6, /**< fraction of the steps over which sigma_t decreases geometrically to sigma, [0, 1]; default 0.6 */
    OVICA_TRAIN_EM_FRACTION = 7,     /**< ovica_rule_auto: fraction of the steps done by EM before the exact gradient, [0, 1]; default 0 (no EM phase) */
    OVICA_TRAIN_SWEEPS = 8,          /**< posterior sweeps accumulated per step, [1, 1e4]; default 1 (more, shorter steps beat fewer, longer ones: docs/LEARNING.md) */
    OVICA_TRAIN_BURNIN = 9,          /**< posterior sweeps discarded when chains start afresh (new batch), [0, 1e4]; default 2 */
    OVICA_TRAIN_STEP_CAP = 10,       /**< largest ||dA||_F / ||A||_F per step, [0, 100] (0: no cap); default 0.1 */
    OVICA_TRAIN_DEAD_WINDOW = 11,    /**< steps without activity before an atom is dead, [0, 1e12] (0: never); default 50 */
    OVICA_TRAIN_RESEED = 12,         /**< re-seed dead atoms, 0 or 1; default 1 */
    OVICA_TRAIN_MONITOR_EVERY = 13,  /**< steps between monitor evaluations, [0, 1e12] (0: never); default 25 */
    OVICA_TRAIN_MONITOR_SIZE = 14,   /**< samples kept from the first batch as monitor when none was set, [1, 1e9]; default 2048 */
    OVICA_TRAIN_DIVERGE = 15,        /**< divergence threshold (relative rise of the monitor objective), (0, 1e6]; default 1 */
    OVICA_TRAIN_BACKOFF = 16,        /**< learning-rate factor after a rollback, (0, 1]; default 0.5 */
    OVICA_TRAIN_SOLVER_ITER = 17,    /**< MAP iterations per step, [1, 1e9]; default 300 */
    OVICA_TRAIN_SOLVER_TOL = 18,     /**< MAP tolerance, [0, 1]; default 1e-5 */
    OVICA_TRAIN_BETA = 19,           /**< tanh smoothing of the prior's kink in the monitor's Hessian, times 1/b, (0, 1e6]; default 10 */
    OVICA_TRAIN_DAMPING = 20,        /**< rate factor when a capped gradient update points back against the previous one (cosine < -0.3), (0, 1] (1: off); default 0.7 */
    OVICA_TRAIN_SPLIT = 21,          /**< atoms closer than this many degrees are split apart once sigma_t is down to sigma, [0, 90] (0: off); default 3 */
    OVICA_TRAIN_SPLIT_APART = 22,    /**< degrees by which each atom of a split pair is turned away from their mean, (0, 45]; default 10 */
    OVICA_TRAIN_ADAM = 23,           /**< exact rule (and auto's gradient phase): Adam-normalised steps; the largest move of an entry of A per step, as a fraction of the RMS entry of A, times the schedule's factor lr_t / LR, [0, 1] (0: the plain update lr_t * dA); default 0.03 */
    OVICA_TRAIN_MOMENTUM = 24,       /**< Adam's first-moment factor (its second moment uses 0.99), [0, 0.999]; default 0.9 */
    OVICA_TRAIN_MIN_DRAWS = 25,      /**< rules from draws: the sweeps of a step are raised until it accumulates at least this many draws (sweeps x batch size), [0, 1e9]; default 5000 */
    OVICA_TRAIN_COLLAPSE = 26,       /**< an atom whose norm is below this fraction of the mean atom norm counts as inactive for the dead-atom guard, [0, 1] (0: off); default 0 (off: over-provisioned bases need their spare atoms to shrink; docs/LEARNING.md) (added in 0.2) */
    OVICA_TRAIN_BATCH = 27,          /**< rows a step uses when the host passes more: on the sparse route the trainer draws that many rows of the batch at random (with replacement) at every step; the rules from draws take consecutive blocks of the batch in turn, one per step (blocks of this many rows, or of 5000 rows by default when the batch has more than 20000), [0, 1e9]; default 0: automatic, clamp(8 n, 1024, 8192) rows on the sparse route, the whole batch up to 20000 rows for the rules from draws, the host's batch as it is for the other MAP rules (added in 0.3) */
    OVICA_TRAIN_PROBE = 28,          /**< ovica_rule_auto: steps on the sparse route before the regime is decided (up to twice as many when a second probe runs, see OVICA_TRAIN_REGIME_AT); ovica_rule_dictionary: the step at which its noise estimate is checked, [1, 1e12]; default 50 (added in 0.3) */
    OVICA_TRAIN_REGIME_AT = 29,      /**< ovica_rule_auto: the sources count as dense when, at the end of the probe, the fraction of the data's dimensions the sparse codes occupy (active codes per sample / m) plus the fraction of the data's energy they leave unexplained is above this, [0, 2]; default 0.6. Above it after a probe with the noise estimated from the codes' own residuals, a second probe of at most the same length runs with the noise estimated from the codes refitted on their supports (a pinned threshold, docs/LEARNING.md), and its measurement decides (every 10 steps: below the line, sparse; fallen by less than 0.03 since the first probe, dense); the sparse route keeps that estimate. ovica_rule_dictionary turns to it at step OVICA_TRAIN_PROBE on the same measurement (added in 0.3) */
    OVICA_TRAIN_THRESHOLD = 30,      /**< sparse route: the codes' threshold mu = sigma^2 / b in units of the estimated noise sigma, [0, 100] (0: sqrt(2 ln n), the largest of n Gaussian noise projections); default 0 (added in 0.3) */
    OVICA_TRAIN_WINDOW = 31,         /**< sparse route: steps over which the running statistics and the noise estimate average (forgetting factor 1 - 1/window), [1, 1e6]; default 10 (added in 0.3) */
    OVICA_TRAIN_SWAP = 32,           /**< sparse route: the least used atom is replaced by the direction the codes leave most unexplained when that direction carries more than this factor times the atom's energy, [0, 1e6] (0: off); default 1 (added in 0.3) */
    OVICA_TRAIN_STOP = 33,           /**< sparse route: the convergence test of ovica_trainer_converged(): the change 1 - |cos| of an atom's direction over OVICA_TRAIN_STOP_LAG steps above which it counts as still moving, [0, 1] (0: off, the run takes all its planned steps); default 2e-3 (about 3.6 degrees) (added in 0.3) */
    OVICA_TRAIN_THREADS = 34,        /**< threads for the per-sample work of the trainer's exact active-set codes (its solver's OVICA_SOLVER_THREADS; the GEMMs use OpenBLAS's threads); the codes and so the whole run do not depend on it, [1, 256]; default 1 (set it to the number of cores on an otherwise idle machine) (added in 0.3) */
    OVICA_TRAIN_PRECISION = 35       /**< enum ovica_precision: the arithmetic of a step's codes (the solver's work, GEMMs included); the statistics and the update stay in double; default OVICA_PRECISION_INPUT (single precision for ovica_trainer_step_f32 and ovica_trainer_accumulate_f32, double for the others) (added in 0.3) */
};

/** Values of OVICA_TRAIN_PRECISION (added in 0.3). */
enum ovica_precision {
    OVICA_PRECISION_INPUT = 0,  /**< as the batch: float batches coded in single precision, double batches in double */
    OVICA_PRECISION_SINGLE = 1, /**< single precision always (a double batch's rows are rounded to float for the codes only) */
    OVICA_PRECISION_DOUBLE = 2  /**< double always: a float batch's step is the step on its rows widened, bit for bit (the reference) */
};

/** Steps between two evaluations of the convergence test
 *  (ovica_trainer_converged()) (added in 0.3). */
#define OVICA_TRAIN_STOP_LAG 25

/** Initialisation methods of ovica_trainer_init_basis(). */
enum ovica_init_method {
    OVICA_INIT_RANDOM = 0, /**< Gaussian atoms normalised to unit length */
    OVICA_INIT_SPREAD = 1, /**< unit atoms spread as far apart as possible (largest smallest angle); for a non-negative prior also every data direction in some atom's positive half-space */
    OVICA_INIT_DATA = 2    /**< normalised samples drawn from the data */
};

/** Flags of ovica_step_stats.guard. */
enum ovica_guard_flag {
    OVICA_GUARD_CAPPED = 1,   /**< the update was scaled down to the step cap */
    OVICA_GUARD_ROLLBACK = 2, /**< divergence: basis rolled back to the best, rate reduced */
    OVICA_GUARD_RESEED = 4,   /**< dead atoms were re-seeded */
    OVICA_GUARD_BEST = 8,     /**< the monitor objective reached a new best */
    OVICA_GUARD_DAMPED = 16,  /**< the update reversed the previous one: the rate was reduced (OVICA_TRAIN_DAMPING) */
    OVICA_GUARD_SPLIT = 32,   /**< two duplicate atoms were split apart (OVICA_TRAIN_SPLIT) */
    OVICA_GUARD_SWAP = 64     /**< sparse route: the least used atom was swapped for an unexplained direction (OVICA_TRAIN_SWAP) (added in 0.3) */
};

/** Which route a trainer takes (ovica_trainer_regime()). */
enum ovica_regime {
    OVICA_REGIME_UNDECIDED = 0, /**< ovica_rule_auto during its probe (on the sparse route) */
    OVICA_REGIME_SPARSE = 1,    /**< MAP codes, self-tuned threshold, dictionary update (ovica_rule_dictionary) */
    OVICA_REGIME_DENSE = 2,     /**< posterior draws (the rules from draws) */
    OVICA_REGIME_MAP = 3        /**< one of the article's MAP rules (natural, plain, reconstruction) */
};

/** Version of struct ovica_step_stats understood by this library. */
#define OVICA_STEP_STATS_VERSION 1

/** What one step did. */
typedef struct ovica_step_stats {
    unsigned int version; /**< OVICA_STEP_STATS_VERSION, set by the caller */
    size_t step;          /**< index of the step just applied (0-based) */
    double samples;       /**< samples whose statistics the step used */
    double objective;     /**< mean MAP objective E(s) of the batch at the basis before the update, s = s_hat (for a continued chain: its last draw) */
    double mse;           /**< mean squared reconstruction error per coordinate at the same s */
    double active;        /**< mean number of non-zero coefficients of the same s per sample */
    size_t dead;          /**< atoms currently dead */
    double lr;            /**< learning rate used */
    double sigma_t;       /**< noise level of the posterior draws (sigma for MAP rules) */
    double update;        /**< ||dA||_F / ||A||_F of the applied update */
    double monitor;       /**< monitor objective after the update (NaN if not evaluated) */
    double best;          /**< best monitor objective so far (NaN if none) */
    int guard;            /**< OR of enum ovica_guard_flag */
    int rule;             /**< 1 if the step used posterior draws, 0 if MAP codes */
} ovica_step_stats;

/** Static initialiser for struct ovica_step_stats. */
#define OVICA_STEP_STATS_INIT \
    { OVICA_STEP_STATS_VERSION, 0, 0.0, 0.0, 0.0, 0.0, 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0, 0 }

/**
 * @brief Creates a trainer for a copy of `model`.
 * @param rule the update rule (ovica_rule_auto is the recommended default).
 * @param seed seeds the trainer's generator (initialisation, sampling,
 *             re-seeding): equal seeds and inputs give identical runs.
 * @return OVICA_OK; OVICA_EINVAL (NULL); OVICA_ENOTSUP (a rule from draws
 *         with a user prior); OVICA_ENOMEM.
 */
OVICA_API int ovica_trainer_new(ovica_trainer **out, const ovica_model *model,
                                const ovica_rule_type *rule, uint64_t seed);

/** @brief Frees a trainer; NULL is a no-op. */
OVICA_API void ovica_trainer_free(ovica_trainer *t);

/** @brief Sets a parameter (sticky). @return OVICA_OK, OVICA_EINVAL (unknown
 *  or out of bounds: value kept), OVICA_ENONFINITE. */
OVICA_API int ovica_trainer_set_param(ovica_trainer *t, int param, double value);

/** @brief Reads a parameter. @return OVICA_OK, OVICA_EINVAL. */
OVICA_API int ovica_trainer_get_param(const ovica_trainer *t, int param, double *out);

/** @brief Bounds of a parameter. @return OVICA_OK, OVICA_EINVAL. */
OVICA_API int ovica_trainer_param_bounds(int param, double *lo, double *hi);

/**
 * @brief Number of trainer parameters: the ids 0 .. count-1 are the values of
 * enum ovica_train_param. With ovica_trainer_param_name() it enumerates them, so that
 * hosts (the CLI, the Python binding, checkpoints) list the parameters
 * instead of copying their names (added in 0.3).
 * @return the count (35 in 0.3); it only grows between releases.
 */
OVICA_API int ovica_trainer_param_count(void);

/**
 * @brief The name of a trainer parameter ("lr", "steps", ..., "swap": the enum's names in lower case without OVICA_TRAIN_).
 * @param param an enum ovica_train_param value, 0 <= param < ovica_trainer_param_count().
 * @return a static string; NULL (message set, OVICA_EINVAL) when param is
 *         out of range (added in 0.3).
 */
OVICA_API const char *ovica_trainer_param_name(int param);

/**
 * @brief Looks a trainer parameter up by name (ovica_trainer_param_name() of one
 * of its ids), for hosts that take settings as text.
 * @param name the parameter's name.
 * @param out  receives the parameter's id; untouched on error.
 * @return OVICA_OK; OVICA_EINVAL (name or out NULL; unknown name: the
 *         message lists the known names) (added in 0.3).
 */
OVICA_API int ovica_trainer_param_find(const char *name, int *out);

/** @brief The trainer's rule. */
OVICA_API const ovica_rule_type *ovica_trainer_rule(const ovica_trainer *t);

/** @brief The solver type used for s_hat (default ovica_solver_auto: the
 *  exact active-set solver for the built-in priors, FISTA for a user prior). */
OVICA_API int ovica_trainer_set_solver(ovica_trainer *t, const ovica_solver_type *type);

/**
 * @brief A schedule callback: returns the value for step `step` of `total`
 * (the learning rate, or the noise level sigma_t). A non-finite or
 * non-positive return stops the step with OVICA_EUSER.
 */
typedef double (*ovica_schedule_fn)(size_t step, size_t total, void *user);

/** @brief Replaces the learning-rate schedule by a callback (NULL restores
 *  the built-in one). */
OVICA_API int ovica_trainer_set_lr_schedule(ovica_trainer *t, ovica_schedule_fn fn, void *user);

/** @brief Replaces the noise-annealing schedule by a callback returning
 *  sigma_t (NULL restores the built-in one). */
OVICA_API int ovica_trainer_set_sigma_schedule(ovica_trainer *t, ovica_schedule_fn fn,
                                               void *user);

/**
 * @brief Initialises the basis (enum ovica_init_method).
 * @param X optional for OVICA_INIT_RANDOM and OVICA_INIT_SPREAD with a real
 *          prior; required (N >= 1 samples) for OVICA_INIT_DATA and for
 *          OVICA_INIT_SPREAD with a non-negative prior.
 * @return OVICA_OK, OVICA_EINVAL, OVICA_ESIZE, OVICA_ENONFINITE, OVICA_ENOMEM.
 */
OVICA_API int ovica_trainer_init_basis(ovica_trainer *t, int method, const double *X, size_t N,
                                       size_t x_dim);

/** @brief Sets the monitor batch (copied) used for best-basis tracking and
 *  divergence detection. */
OVICA_API int ovica_trainer_set_monitor(ovica_trainer *t, const double *X, size_t N,
                                        size_t x_dim);

/**
 * @brief One training step on a batch: accumulate, then apply.
 * @param stats optional; filled on success.
 * @return OVICA_OK; OVICA_EINVAL; OVICA_ESIZE; OVICA_ENONFINITE (NaN/Inf in
 *         the batch: refused, the model unchanged; a batch passed for the
 *         first time, i.e. another pointer or size than the last one
 *         checked, is checked whole; when the same batch comes back and the
 *         step reads only some of its rows, drawn or a block, only those
 *         are checked, so no step reads a non-finite value and a host that
 *         passes its whole data set at every step does not pay a pass over
 *         it per step); OVICA_EUSER (a schedule
 *         callback failed); OVICA_ENUMERIC (a factorisation failed and no
 *         finite basis could be kept); OVICA_ENOMEM.
 */
OVICA_API int ovica_trainer_step(ovica_trainer *t, const double *X, size_t N, size_t x_dim,
                                 ovica_step_stats *stats);

/** @brief Adds a batch's sufficient statistics (the first half of a step). */
OVICA_API int ovica_trainer_accumulate(ovica_trainer *t, const double *X, size_t N,
                                       size_t x_dim);

/**
 * @brief ovica_trainer_step for single-precision data (float32, row-major
 * N x x_dim), e.g. a memory-mapped float32 file.
 *
 * The host keeps its data at half the memory. The rows the step reads
 * (drawn at random on the sparse route, a block for the rules from draws,
 * otherwise the whole batch) are widened to double, exactly, into the
 * trainer's work memory for the statistics and the update. With the
 * default OVICA_TRAIN_PRECISION (OVICA_PRECISION_INPUT) the codes are
 * computed from the float rows in single precision, by
 * ovica_solver_infer_f32() (SGEMM; the active-set coder's Gram matrix,
 * gradients and codes in float, its small factorisations in double), and
 * widened; the rest of the step is the double step. The codes then
 * differ from the double ones by float rounding (optimal to about 1e-6
 * relative instead of 1e-13), and so does the run: docs/PERFORMANCE.md
 * gives the speed and the recovery of both. With OVICA_PRECISION_DOUBLE
 * the step is the one ovica_trainer_step makes on the widened rows: the
 * same model and statistics, bit for bit. The monitor is widened once,
 * from the first batch's first rows, and coded in double. Statuses as
 * ovica_trainer_step; OVICA_ENONFINITE names the first NaN or Inf.
 * (added in 0.3)
 */
OVICA_API int ovica_trainer_step_f32(ovica_trainer *t, const float *X, size_t N, size_t x_dim,
                                     ovica_step_stats *stats);

/** @brief ovica_trainer_accumulate for single-precision data (see
 *  ovica_trainer_step_f32). (added in 0.3) */
OVICA_API int ovica_trainer_accumulate_f32(ovica_trainer *t, const float *X, size_t N,
                                           size_t x_dim);

/** @brief Applies the accumulated statistics (the second half of a step),
 *  clears them and advances the step counter. OVICA_ESTATE if nothing was
 *  accumulated. */
OVICA_API int ovica_trainer_apply(ovica_trainer *t, ovica_step_stats *stats);

/** @brief Discards the accumulated statistics. */
OVICA_API int ovica_trainer_clear_stats(ovica_trainer *t);

/** @brief Number of doubles in the exported statistics (0 for NULL).
 *
 *  What is promised (stable): the statistics are sums over samples, so the
 *  elementwise sum of the exports of trainers made for models of the same
 *  shape with the same rule is a valid import, and the size depends only on
 *  the model's m and n. Which entry holds what is not promised: the layout
 *  is declared only under OVICA_EXPERIMENTAL (OVICA_STATS_* below) and may
 *  change in any release. */
OVICA_API size_t ovica_trainer_stats_size(const ovica_trainer *t);

/** @brief Copies the accumulated statistics into buf (len must equal
 *  ovica_trainer_stats_size()). */
OVICA_API int ovica_trainer_stats_export(const ovica_trainer *t, double *buf, size_t len);

/** @brief Replaces the accumulated statistics by buf (e.g. the sum over
 *  processes). OVICA_ENONFINITE / OVICA_EFORMAT for a corrupt buffer.
 *  The trainer forgets the worst-reconstructed sample of its own batch, so
 *  the next apply re-seeds no dead atom from it: processes that apply the
 *  same sum make the same update. */
OVICA_API int ovica_trainer_stats_import(ovica_trainer *t, const double *buf, size_t len);

/**
 * @brief Reseeds the generator of the trainer's posterior sampler, and only
 * that one.
 *
 * A trainer draws random numbers from two generators, both seeded by
 * ovica_trainer_new(): the sampler's, for the posterior draws of the rules
 * from draws (ovica_trainer_accumulate()), and the trainer's own, for
 * ovica_trainer_init_basis() and for the direction in which a duplicate pair
 * of atoms is split apart inside ovica_trainer_apply(). This function
 * replaces the first and leaves the second alone; after it, the sampler is
 * in the state it has in a trainer made by ovica_trainer_new() with this
 * seed. The sampler's parameters and the chains (the codes of the last
 * batch) are kept.
 *
 * Data-parallel training (several processes, each with a share of every
 * batch, their statistics summed before ovica_trainer_apply()): every
 * process makes its trainer with the same seed, so that the random choices
 * of ovica_trainer_apply() are the same everywhere and the bases stay
 * bit-identical, then gives its sampler a seed of its own (e.g. derived
 * from its rank) so that the processes' draws are independent.
 *
 * @return OVICA_OK; OVICA_EINVAL (t NULL); OVICA_ENOMEM (the sampler is
 *         left as it was).
 */
OVICA_API int ovica_trainer_set_sampler_seed(ovica_trainer *t, uint64_t seed);

/** @brief The trainer's current model (borrowed). */
OVICA_API const ovica_model *ovica_trainer_model(const ovica_trainer *t);

/** @brief Replaces the basis of the trainer's model (e.g. when resuming). */
OVICA_API int ovica_trainer_set_basis(ovica_trainer *t, const double *A, size_t rows,
                                      size_t cols);

/** @brief The best basis seen by the monitor into out (m x n);
 *  OVICA_ESTATE if the monitor has not run yet. */
OVICA_API int ovica_trainer_best_basis(const ovica_trainer *t, double *out, size_t rows,
                                       size_t cols, double *best_objective);

/**
 * @brief Sets the best basis and its monitor objective (e.g. when resuming
 * from a checkpoint); later steps replace it only with a better one.
 * @return OVICA_OK; OVICA_EINVAL (NULL); OVICA_ESIZE; OVICA_ENONFINITE (NaN
 *         or Inf in A or the objective).
 */
OVICA_API int ovica_trainer_set_best(ovica_trainer *t, const double *A, size_t rows, size_t cols,
                                     double objective);

/** @brief Puts the best basis back into the model. OVICA_ESTATE if none. */
OVICA_API int ovica_trainer_restore_best(ovica_trainer *t);

/** @brief Index of the next step (number of steps applied so far). */
OVICA_API size_t ovica_trainer_step_index(const ovica_trainer *t);

/** @brief Sets the step index (to resume a schedule). */
OVICA_API int ovica_trainer_set_step_index(ovica_trainer *t, size_t step);

/** @brief Per-atom activity: the fraction of samples in which each atom was
 *  active, averaged over the steps so far (exponential moving average over
 *  about DEAD_WINDOW steps). out has n entries. */
OVICA_API int ovica_trainer_atom_usage(const ovica_trainer *t, double *out, size_t n);

/**
 * @brief The route the trainer is on (enum ovica_regime): for
 * ovica_rule_auto OVICA_REGIME_UNDECIDED during its probe, then
 * OVICA_REGIME_SPARSE or OVICA_REGIME_DENSE; fixed for the other rules
 * (dictionary: sparse; exact, em: dense; natural, plain, reconstruction:
 * OVICA_REGIME_MAP). -1 for NULL. (added in 0.3)
 */
OVICA_API int ovica_trainer_regime(const ovica_trainer *t);

/**
 * @brief Decides the regime of ovica_rule_auto now, as at the end of its
 * probe, or forces it (to resume a run from a checkpoint of a decided
 * trainer, or to skip the probe when the host knows its data).
 * @param regime OVICA_REGIME_SPARSE or OVICA_REGIME_DENSE; the dense route
 *        starts its schedules (annealing, learning rate) at the current step
 *        and starts again from the basis the host had set before the first
 *        step (ovica_trainer_set_basis, ovica_trainer_init_basis), else
 *        from spread atoms drawn at the next batch; with `keep_basis`
 *        non-zero it continues from the current basis instead.
 * @return OVICA_OK; OVICA_EINVAL (NULL, another regime); OVICA_ESTATE (the
 *         trainer's rule is not ovica_rule_auto). (added in 0.3)
 */
OVICA_API int ovica_trainer_set_regime(ovica_trainer *t, int regime, int keep_basis);

/**
 * @brief Whether the run has settled, so that the host can stop before its
 * planned steps (added in 0.3).
 *
 * On the sparse route (OVICA_REGIME_SPARSE) the trainer compares, every
 * OVICA_TRAIN_STOP_LAG steps, the basis with the one of the previous
 * evaluation. The run counts as settled when (1) no more than n / 20 of the
 * n atoms turned by more than OVICA_TRAIN_STOP (1 - |cos|) over the lag
 * (the swap move keeps trying unexplained directions with a few spare
 * atoms on large bases, to no gain), (2) the mean move
 * of the atoms is no longer shrinking (at least 0.7 times the previous
 * lag's: what is left is the jitter of the minibatch statistics, not a
 * drift), and (3) the noise estimate changed by less than 5%. The first two
 * evaluations after the sparse route starts, after ovica_trainer_set_basis()
 * or after a resume cannot pass (there is no previous lag to compare). A
 * host loops
 *
 *     for (k = 0; k < steps && !ovica_trainer_converged(t); k++)
 *         ovica_trainer_step(t, X, N, m, &stats);
 *
 * On the dense route and for the article's MAP rules the answer is always
 * 0: their schedules (annealing, learning-rate decay) define the run's
 * length. The test is repeated at every lag, so a run that moves again
 * after settling answers 0 again. The state of the test is not saved in
 * checkpoints: a resumed run evaluates afresh.
 *
 * @return 1 settled, 0 not (or the test is off: OVICA_TRAIN_STOP = 0), -1
 *         for NULL.
 */
OVICA_API int ovica_trainer_converged(const ovica_trainer *t);

#ifdef OVICA_EXPERIMENTAL
/**
 * @name The layout of the exported statistics (EXPERIMENTAL)
 * No ABI promise: visible only when OVICA_EXPERIMENTAL is defined, and may
 * change in any release. ovica_trainer_stats_export() writes, for a model
 * with m-dimensional data and n atoms, OVICA_STATS_SIZE(m, n) doubles:
 * six sums (enum ovica_stats_slot), then per-atom activity counts (n),
 * sum z s^T (+ the boundary term B of the rules from draws; n x n), sum
 * x s^T (m x n) and sum s s^T (n x n), the matrices row-major, each at the
 * offset its macro gives.
 * @{
 */
enum ovica_stats_slot {
    OVICA_STATS_SAMPLES = 0,   /**< samples accumulated */
    OVICA_STATS_DRAWS = 1,     /**< codes accumulated (samples x sweeps for the rules from draws) */
    OVICA_STATS_OBJECTIVE = 2, /**< sum of the MAP objective E(s) over the samples */
    OVICA_STATS_SQERR = 3,     /**< sum of squared residuals ||x - A s||^2 */
    OVICA_STATS_ACTIVE = 4,    /**< sum over samples of the number of non-zero codes */
    OVICA_STATS_DATA = 5,      /**< sum of squared data entries ||x||^2 (added in 0.3) */
    OVICA_STATS_SQERR_REFIT = 6, /**< sum of squared residuals of the codes refitted by least
                                      squares on their supports: sparse MAP codes of a built-in
                                      prior; otherwise the same sum as OVICA_STATS_SQERR (added
                                      in 0.3) */
    OVICA_STATS_HEAD = 7       /**< number of scalar sums before the per-atom entries */
};
/** Offset of the per-atom activity counts (n entries). */
#define OVICA_STATS_ACTIVITY(m, n) ((size_t)OVICA_STATS_HEAD)
/** Offset of sum z s^T (n x n). */
#define OVICA_STATS_ZS(m, n) (OVICA_STATS_ACTIVITY(m, n) + (size_t)(n))
/** Offset of sum x s^T (m x n). */
#define OVICA_STATS_XS(m, n) (OVICA_STATS_ZS(m, n) + (size_t)(n) * (size_t)(n))
/** Offset of sum s s^T (n x n). */
#define OVICA_STATS_SS(m, n) (OVICA_STATS_XS(m, n) + (size_t)(m) * (size_t)(n))
/** Total length: ovica_trainer_stats_size() of a trainer for an m x n basis. */
#define OVICA_STATS_SIZE(m, n) (OVICA_STATS_SS(m, n) + (size_t)(n) * (size_t)(n))
/** @} */
#endif /* OVICA_EXPERIMENTAL */

OVICA_END_DECLS

#endif /* OVICA_TRAINER_H */

/**
 * @file ovica/solver.h
 * @brief MAP inference of the sparse codes s_hat for a batch of samples.
 *
 * s_hat = argmin_s E(s), E(s) = ||x - A s||^2 / (2 sigma^2) - log p(s):
 * a LASSO (non-negative for the exponential prior). Built-in algorithms are
 * published as type objects:
 *   - ovica_solver_pg: projected (sub)gradient with step 1/L. For the
 *     built-in priors it steps along the minimum-norm subgradient and
 *     projects onto the current orthant (a coordinate that would cross zero
 *     stops at zero; for the exponential prior this is the ReLU projection
 *     the article used), so it converges to the exact minimiser. For a user
 *     prior it steps along the user's gradient and projects onto the domain.
 *   - ovica_solver_ista: proximal gradient, step 1/L (needs a prox).
 *   - ovica_solver_fista: ISTA with Nesterov momentum (Beck & Teboulle); with
 *     OVICA_SOLVER_RESTART on, momentum is reset per sample when it points
 *     uphill (O'Donoghue & Candes' gradient scheme).
 *   - ovica_solver_active: exact active-set (feature-sign) solver for the
 *     built-in priors (Laplace: LASSO; exponential: non-negative LASSO).
 *     Rounds: one GEMM gives the gradient of every active sample, samples
 *     that satisfy the optimality condition leave, the others change their
 *     support (violating coordinates enter, the largest first; coordinates
 *     that reach zero leave) and solve the least-squares problem on it
 *     exactly (Cholesky factor of the Gram submatrix; exact line search;
 *     dependent columns, e.g. duplicate atoms, by a null-space pivot). Fast
 *     when codes are sparse (work per sample ~ k^3 for k non-zeros); the
 *     result satisfies the optimality condition to rounding level. A user
 *     prior: OVICA_ENOTSUP.
 *   - ovica_solver_auto: ovica_solver_active for the built-in priors, FISTA
 *     for a user prior with a prox, projected gradient otherwise.
 * Each iteration treats the whole batch with GEMMs: either the direct form
 * (residual S A^T - X, then times A: 4 N m n flops) or the Gram form
 * (S (A^T A) - X A: 2 N n^2 flops), chosen by cost unless forced. All work
 * memory is allocated before the iterations (and kept between calls while
 * the batch does not grow).
 *
 * Convergence: a sample has converged when its step ||s_new - s_old||_2 is at
 * most tol * max(||s_new||_2, 1); the batch stops when every sample has.
 * The active-set solver instead stops a sample when its optimality violation
 * (as ovica_model_optimality measures it) is at most tol / b, or 1e-13
 * times the size of its gradient if that is larger (rounding); its
 * MAX_ITER counts rounds (GEMMs), and FORM and STEP do not apply. A sample
 * that cannot move any more before meeting the tolerance (rounding) stops
 * too and is counted as not converged.
 *
 * BLAS threads: the GEMMs run on OpenBLAS's threads; the library never
 * changes their number. OpenBLAS takes it from OPENBLAS_NUM_THREADS (or
 * OMP_NUM_THREADS), else the number of cores, when it is loaded; a host
 * changes it with openblas_set_num_threads(). The per-sample work (the
 * active-set solver's, and the elementwise pass of ISTA and FISTA with a
 * built-in prior) runs in the calling thread unless OVICA_SOLVER_THREADS
 * is above 1: then the call starts that many threads less one (POSIX
 * threads, joined before it returns; the calling thread is one of them)
 * and hands the samples of each row block out among them. The codes do not
 * depend on the number of threads (each sample is coded by one thread, the
 * same way). The default, 1, suits a host that already runs several
 * solvers in parallel; on an otherwise idle machine set it to the number
 * of cores. Projected gradient and user priors (callbacks) ignore it.
 *
 * Threads: a solver handle is used by one thread at a time; the model is
 * only read, so one model may serve several solvers in several threads.
 */
#ifndef OVICA_SOLVER_H
#define OVICA_SOLVER_H

#include "common.h"
#include "model.h"

OVICA_BEGIN_DECLS

/** Opaque algorithm descriptor (a "type object", GSL style). */
typedef struct ovica_solver_type ovica_solver_type;

/** Projected (sub)gradient. */
OVICA_API extern const ovica_solver_type *const ovica_solver_pg;
/** ISTA (proximal gradient). */
OVICA_API extern const ovica_solver_type *const ovica_solver_ista;
/** FISTA (accelerated proximal gradient, optional adaptive restart). */
OVICA_API extern const ovica_solver_type *const ovica_solver_fista;
/** Exact active-set solver for the built-in priors (added in 0.2). */
OVICA_API extern const ovica_solver_type *const ovica_solver_active;
/** Picks active, FISTA or projected gradient by the prior (added in 0.2). */
OVICA_API extern const ovica_solver_type *const ovica_solver_auto;

/**
 * @brief Number of solver types this library provides (5 in 0.2: pg, ista,
 * fista, active, auto). With ovica_solver_type_at() it enumerates them, so
 * that hosts (the CLI, the Python binding) list the solvers instead of
 * copying their names; the order is fixed within a release.
 */
OVICA_API size_t ovica_solver_type_count(void);

/**
 * @brief The i-th solver type, 0 <= i < ovica_solver_type_count().
 * @return the type, or NULL (message set, OVICA_EINVAL) when i is out of
 *         range.
 */
OVICA_API const ovica_solver_type *ovica_solver_type_at(size_t i);

/**
 * @brief Looks a solver type up by name (ovica_solver_type_name() of one of
 * the enumerated types), for hosts that cannot reach exported data (FFI).
 * @return the type, or NULL (message set, OVICA_EINVAL, listing the known
 *         names) for NULL or an unknown name.
 */
OVICA_API const ovica_solver_type *ovica_solver_type_find(const char *name);

/** @brief The type's name ("pg", "ista", "fista", "active", "auto"); "" for
 *  NULL. Names are unique among the enumerated types. */
OVICA_API const char *ovica_solver_type_name(const ovica_solver_type *type);

/** Opaque solver handle. */
typedef struct ovica_solver ovica_solver;

/** Solver parameters (values frozen). All are doubles; integer ones are rounded. */
enum ovica_solver_param {
    OVICA_SOLVER_MAX_ITER = 0,   /**< iteration limit, [1, 1e9]; default 1000 */
    OVICA_SOLVER_TOL = 1,        /**< relative step tolerance, [0, 1]; default 1e-6 (0: run to MAX_ITER) */
    OVICA_SOLVER_WARM_START = 2, /**< 0 or 1; default 0. When 1, S passed to infer is the starting point */
    OVICA_SOLVER_RESTART = 3,    /**< FISTA adaptive restart, 0 or 1; default 1 */
    OVICA_SOLVER_FORM = 4,       /**< 0 auto (by cost), 1 direct, 2 Gram; default 0 */
    OVICA_SOLVER_STEP = 5,       /**< step as a multiple of 1/L, (0, 1]; default 1 */
    OVICA_SOLVER_THREADS = 6     /**< threads for the per-sample work: the active-set solver's
                                      and ISTA/FISTA's elementwise pass with a built-in prior
                                      (the GEMMs use OpenBLAS's threads), [1, 256]; default 1
                                      (the calling thread only; added in 0.2; ISTA/FISTA in 0.3).
                                      The codes do not depend on it. */
};

/**
 * @brief Creates a solver of the given type with default parameters.
 * @return OVICA_OK, OVICA_EINVAL (NULL), OVICA_ENOMEM.
 */
OVICA_API int ovica_solver_new(ovica_solver **out, const ovica_solver_type *type);

/** @brief Frees a solver; NULL is a no-op. */
OVICA_API void ovica_solver_free(ovica_solver *solver);

/** @brief The solver's type (NULL if solver is NULL). */
OVICA_API const ovica_solver_type *ovica_solver_get_type(const ovica_solver *solver);

/**
 * @brief Sets a parameter (sticky until changed).
 * @return OVICA_OK; OVICA_EINVAL (NULL, unknown param, value out of bounds:
 *         the previous value is kept); OVICA_ENONFINITE.
 */
OVICA_API int ovica_solver_set_param(ovica_solver *solver, int param, double value);

/** @brief Reads a parameter. @return OVICA_OK, OVICA_EINVAL. */
OVICA_API int ovica_solver_get_param(const ovica_solver *solver, int param, double *out);

/** @brief Bounds of a parameter's values. @return OVICA_OK, OVICA_EINVAL. */
OVICA_API int ovica_solver_param_bounds(int param, double *lo, double *hi);

/**
 * @brief Number of solver parameters: the ids 0 .. count-1 are the values of
 * enum ovica_solver_param. With ovica_solver_param_name() it enumerates them, so that
 * hosts (the CLI, the Python binding, checkpoints) list the parameters
 * instead of copying their names (added in 0.3).
 * @return the count (7 in 0.3); it only grows between releases.
 */
OVICA_API int ovica_solver_param_count(void);

/**
 * @brief The name of a solver parameter ("max_iter", "tol", "warm_start", "restart", "form", "step", "threads").
 * @param param an enum ovica_solver_param value, 0 <= param < ovica_solver_param_count().
 * @return a static string; NULL (message set, OVICA_EINVAL) when param is
 *         out of range (added in 0.3).
 */
OVICA_API const char *ovica_solver_param_name(int param);

/**
 * @brief Looks a solver parameter up by name (ovica_solver_param_name() of one
 * of its ids), for hosts that take settings as text.
 * @param name the parameter's name.
 * @param out  receives the parameter's id; untouched on error.
 * @return OVICA_OK; OVICA_EINVAL (name or out NULL; unknown name: the
 *         message lists the known names) (added in 0.3).
 */
OVICA_API int ovica_solver_param_find(const char *name, int *out);

/** Version of struct ovica_infer_stats understood by this library. */
#define OVICA_INFER_STATS_VERSION 1

/** Statistics of one ovica_solver_infer() call over the whole batch. */
typedef struct ovica_infer_stats {
    unsigned int version;  /**< set to OVICA_INFER_STATS_VERSION by the caller */
    size_t iterations;     /**< iterations run */
    size_t converged;      /**< samples that met the tolerance */
    double objective;      /**< mean E(s_hat) over the batch */
    double violation;      /**< worst optimality violation (see ovica_model_optimality) */
    double seconds;        /**< wall-clock time of the call */
} ovica_infer_stats;

/** Static initialiser for struct ovica_infer_stats. */
#define OVICA_INFER_STATS_INIT { OVICA_INFER_STATS_VERSION, 0, 0, 0.0, 0.0, 0.0 }

/**
 * @brief Infers s_hat for a batch.
 * @param solver the solver (its work memory is reused between calls).
 * @param model  the model (only read).
 * @param X      N x m row-major data (finite values).
 * @param N      number of samples, >= 1.
 * @param x_dim  row length of X; must equal the model's m.
 * @param S      N x n row-major output; with OVICA_SOLVER_WARM_START it is
 *               also the starting point (finite; projected onto the domain).
 * @param s_dim  row length of S; must equal the model's n.
 * @param stats  optional (NULL): filled on OVICA_OK and OVICA_NOT_CONVERGED.
 * @return OVICA_OK (all samples converged); OVICA_NOT_CONVERGED (iteration
 *         limit reached; S holds the last iterate, which is usable);
 *         OVICA_EINVAL (NULL, N = 0, basis all zero); OVICA_ESIZE;
 *         OVICA_ENONFINITE (X or a warm start holds NaN/Inf); OVICA_EVERSION
 *         (stats->version); OVICA_ENOTSUP (ISTA/FISTA with a prior without
 *         prox; the active-set solver with a user prior); OVICA_EUSER (a
 *         prior callback stopped); OVICA_ENOMEM.
 *         On an error S is unspecified, the solver and model stay usable.
 */
OVICA_API int ovica_solver_infer(ovica_solver *solver, const ovica_model *model,
                                 const double *X, size_t N, size_t x_dim, double *S,
                                 size_t s_dim, ovica_infer_stats *stats);

/**
 * @brief Infers s_hat for a batch of single-precision data (added in 0.3).
 *
 * The same contract as ovica_solver_infer() with float arrays: X is N x m,
 * S is N x n (the warm start with OVICA_SOLVER_WARM_START, the codes on
 * exit), the same parameters and the same statuses. How the codes are
 * computed depends on the type that codes the batch:
 * - ISTA and FISTA with a built-in prior run in single precision: the
 *   basis rounded to float once per call, SGEMM for the gradient and a
 *   float elementwise pass (about twice the speed of double where the
 *   GEMMs dominate, m and n in the hundreds). The tolerance is floored at
 *   16 float epsilons (about 1.9e-6), below which a float step is rounding.
 * - The active-set solver runs in single precision too: the codes, the
 *   data, the Gram matrix of the rounded basis, the residuals and the
 *   gradients in float, SGEMM for the verification, while each sample's
 *   support factorisation, solves and line search stay in double. A
 *   sample stops at the tolerance or at its float gradient's rounding
 *   level, 1e-6 (mu + max_j ||a_j|| ||x||), whichever is larger: the
 *   objective matches the double solver's to about 1e-9 relative, the codes
 *   to float rounding times the conditioning of their support (1e-5 to
 *   1e-3 on the suites' cases) (added in 0.3).
 * - Every other case (projected gradient, user priors) solves blocks of
 *   rows in double exactly as ovica_solver_infer() and rounds the codes to
 *   float.
 * Rows are processed in blocks of at most 8192, so the extra memory does
 * not grow with N. stats, when given, are computed in double from the
 * float codes that are returned (so `violation` includes their rounding,
 * about 1e-7 relative); `iterations` is the most any block ran.
 *
 * @return as ovica_solver_infer(); X and the warm start are checked for
 *         NaN/Inf (OVICA_ENONFINITE) and the sizes as there.
 */
OVICA_API int ovica_solver_infer_f32(ovica_solver *solver, const ovica_model *model,
                                     const float *X, size_t N, size_t x_dim, float *S,
                                     size_t s_dim, ovica_infer_stats *stats);

OVICA_END_DECLS

#endif /* OVICA_SOLVER_H */

/* The private layout of a solver type and a solver handle, and the
 * interface between src/solver.c (the front end: registry, handles,
 * parameters, argument checks, dispatch through the type's table), the
 * type objects under src/solver/ (one file per algorithm: pg.c, ista.c,
 * fista.c, active.c, auto.c; the iteration they share in first_order.c and
 * common.c; the list of types in registry.c) and src/solver/active_set.c (the
 * exact active-set algorithm for the built-in priors). Not exported. */
#ifndef OVICA_SOLVER_INTERNAL_H
#define OVICA_SOLVER_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "internal.h"

/* Hot loops compiled twice where the toolchain can pick a version at load
 * time (GNU ifunc): AVX2 and the baseline. Not under the sanitizers (their
 * run-time may not be up when ifunc resolvers run) or with OVICA_NO_CLONES. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define OVICA_NO_CLONES 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define OVICA_NO_CLONES 1
#endif
#if defined(__x86_64__) && defined(__linux__) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(OVICA_NO_CLONES)
#define OVICA_SIMD __attribute__((target_clones("avx2", "default")))
#else
#define OVICA_SIMD
#endif

/* ---- type objects ----
 * A solver type is a table of functions in the manner of GSL's
 * gsl_multimin_fminimizer_type: a name, the version of this layout, the
 * size of the per-handle state, and what the front end calls. The public
 * type (ovica/solver.h) stays opaque; a new algorithm is one file under
 * src/solver/ that defines `const ovica_solver_type ovica__solver_NAME`
 * plus one entry in src/solver/registry.c (docs/ARCHITECTURE.md, "Adding
 * a solver or a rule"). */
#define OVICA__SOLVER_TYPE_VERSION 1

/* What the front end has validated and hands to a type's solve(). */
typedef struct {
    const ovica_model *model;
    const double *X;         /* N x m, finite */
    size_t N;
    double *S;               /* N x n: the warm start when warm, the codes on exit */
    int warm;                /* OVICA_SOLVER_WARM_START set (S finite) */
    double L;                /* Lipschitz constant ||A||_2^2 / sigma^2, finite and > 0 */
    ovica_infer_stats *stats; /* optional; version checked */
    double t0;               /* start time of the call (now_seconds()) */
} ovica__solve_args;

/* The same for a single-precision batch (ovica_solver_infer_f32); the
 * statistics are the front end's, the counts come back here. */
typedef struct {
    const ovica_model *model;
    const float *X;          /* N x m, finite */
    size_t N;
    float *S;                /* N x n */
    int warm;
    double L;
    size_t *iters, *n_conv;  /* out: iterations run, samples converged */
} ovica__solve_args_f32;

struct ovica_solver_type {
    const char *name;        /* unique among the registered types */
    unsigned int version;    /* OVICA__SOLVER_TYPE_VERSION */
    size_t state_size;       /* bytes of per-handle state ovica_solver_new allocates
                                (zeroed, in s->state); 0: none */
    /* Optional: prepares a new handle's state (after the allocation). */
    int (*init)(ovica_solver *s, void *state);
    /* Optional: releases what init acquired (the library frees the block). */
    void (*free)(ovica_solver *s, void *state);
    /* Optional: the type that codes a batch with this prior (ovica_solver_auto
     * picks one); NULL: the type itself. */
    const ovica_solver_type *(*resolve)(const ovica_prior *prior);
    /* Optional: refuses a prior the algorithm cannot treat (OVICA_ENOTSUP with
     * a message naming the handle's type s->type); NULL: every prior. */
    int (*check)(const ovica_solver *s, const ovica_prior *prior);
    /* Codes the batch; returns OVICA_OK, OVICA_NOT_CONVERGED or an error.
     * Work memory comes from ovica__solver_work() before any iteration. */
    int (*solve)(ovica_solver *s, const ovica__solve_args *a);
    /* Optional: codes a single-precision batch in single precision, for the
     * built-in priors (the front end calls it for no other prior); NULL:
     * ovica_solver_infer_f32 converts blocks of rows to double for solve(). */
    int (*solve_f32)(ovica_solver *s, const ovica__solve_args_f32 *a);
};

#define OVICA__SOLVER_N_PARAMS (OVICA_SOLVER_THREADS + 1)

struct ovica_solver {
    const ovica_solver_type *type;
    double param[OVICA__SOLVER_N_PARAMS];
    void *state;         /* type->state_size bytes, or NULL */
    double *work;        /* one block holding every array of a call */
    size_t work_len;
    double *conv;        /* ovica_solver_infer_f32's double copies of a block */
    size_t conv_len;
    /* The Gram matrix A^T A (n x n, in work) that the last call computed,
     * and the model it is for; NULL when that call made none
     * (ovica__solver_gram). */
    const double *gram;
    const float *gram_f32;   /* the same from a single-precision call */
    const ovica_model *gram_model;
};

/* The registry (src/solver/registry.c): the types in enumeration order. */
const ovica_solver_type *const *ovica__solver_types(size_t *count);

/* ---- shared by the types (src/solver/common.c, first_order.c) ---- */
double ovica__now_seconds(void);
/* At least len doubles of work memory in s->work (kept between calls). */
int ovica__solver_work(ovica_solver *s, size_t len);
/* Swaps rows i and j of a row-major array with w columns (the solvers
 * move converged rows to the end of their block). */
void ovica__swap_rows(double *a, size_t w, size_t i, size_t j);
/* The same for float rows. */
void ovica__swap_rows_f(float *a, size_t w, size_t i, size_t j);
/* The Gram matrix A^T A of model's basis, n x n row-major, when the last
 * ovica_solver_infer call on s coded with that model by the active-set
 * method (which forms it); NULL otherwise. Valid until the next call on s
 * or a change of the basis. */
const double *ovica__solver_gram(const ovica_solver *s, const ovica_model *model);
/* The same after an ovica_solver_infer_f32 call that coded in single
 * precision by the active-set method (one block: N <= 8192): the Gram
 * matrix of the basis rounded to float, in float. */
const float *ovica__solver_gram_f32(const ovica_solver *s, const ovica_model *model);
/* Cache-sized row blocks for a batch of N samples of n codes. */
size_t ovica__block_rows(size_t N, size_t n);
/* Objective and optimality at the final S, block by block (Bk rows); R
 * (Bk x m), G (Bk x n) and scratch (Bk x n) are work memory. */
int ovica__fill_stats(const ovica_model *model, const double *X, size_t N, const double *S,
                      size_t Bk, double *R, double *G, double *scratch, double L,
                      ovica_infer_stats *stats);
/* The first-order iteration over the batch: proximal (ISTA/FISTA: a prox
 * step; else the projected subgradient step) and momentum (FISTA). */
int ovica__first_order_solve(ovica_solver *s, const ovica__solve_args *a, int proximal,
                             int momentum);
/* The same in single precision, proximal (ISTA, FISTA with momentum), for
 * a built-in prior. */
int ovica__first_order_solve_f32(ovica_solver *s, const ovica__solve_args_f32 *a, int momentum);
/* check() of the proximal types: the prior must have a prox. */
int ovica__solver_check_prox(const ovica_solver *s, const ovica_prior *prior);

/* ---- worker threads (src/solver/pool.c) ----
 * A pool lives for one solver call (no global state): ovica__pool_start
 * starts threads - 1 workers (fewer if the system refuses some; none for
 * threads <= 1, and then ovica__pool_run does all the work in the caller),
 * ovica__pool_run hands rows [0, count) out in chunks to the caller
 * (worker 0) and the workers (1 .. nw) and returns when all are done,
 * ovica__pool_stop joins the workers. fn must touch only its rows and
 * the scratch of its worker index. */
#define OVICA__POOL_MAX 256
typedef void (*ovica__pool_fn)(void *task, size_t worker, size_t r0, size_t r1);
struct ovica__pool;
typedef struct {
    struct ovica__pool *pool;
    size_t index;        /* the worker's number, 1 .. nw */
} ovica__pool_arg;
typedef struct ovica__pool {
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    unsigned long gen;   /* task number */
    size_t busy;         /* workers still on the current task */
    int quit, have;
    ovica__pool_fn fn;
    void *task;
    size_t count, chunk;
    atomic_size_t next;  /* first row of the next chunk */
    size_t nw;           /* workers running */
    pthread_t tid[OVICA__POOL_MAX - 1];
    ovica__pool_arg args[OVICA__POOL_MAX - 1];
} ovica__pool;
void ovica__pool_start(ovica__pool *p, size_t threads);
void ovica__pool_run(ovica__pool *p, ovica__pool_fn fn, void *task, size_t count, size_t chunk);
void ovica__pool_stop(ovica__pool *p);

/* Number of doubles of work memory ovica__active_solve needs for a batch of
 * N samples (rows processed in blocks of Bk) with `threads` threads; 0 if
 * the size overflows. */
size_t ovica__active_work_len(size_t N, size_t m, size_t n, size_t Bk, size_t threads);

/* Exact MAP codes for a built-in prior (Laplace: LASSO; exponential:
 * non-negative LASSO) by a batched active-set method; see active_set.c.
 *   S:        N x n; on exit the codes. With warm, on entry the starting
 *             point (projected here onto the prior's domain); else it is
 *             zeroed first.
 *   tol:      a sample stops when its optimality violation (in the units of
 *             ovica_model_optimality) is at most tol / b (floored near the
 *             rounding level of its gradient).
 *   max_rounds: limit on verification rounds (one GEMM each).
 *   threads:  threads for the per-sample work (the caller and threads - 1
 *             workers started for the call; fewer if the system refuses).
 *   work:     ovica__active_work_len(N, m, n, Bk, threads) doubles.
 * Returns OVICA_OK (counts in *rounds and *n_conv), OVICA_ENUMERIC (a
 * non-finite code: a singular support) or another error status. */
int ovica__active_solve(const ovica_model *md, const double *X, size_t N, double *S, int warm,
                        double tol, size_t max_rounds, size_t Bk, size_t threads,
                        double *work, size_t *rounds, size_t *n_conv);
/* Where in that work memory ovica__active_solve leaves the Gram matrix
 * A^T A (n x n) of the basis it coded with. */
double *ovica__active_gram(double *work, size_t N, size_t m, size_t n);
/* The same three in single precision (active_set_f32.c): X, S, the Gram
 * matrix, residuals and gradients in float, SGEMM, the support's factor
 * and line search in double; a sample stops at tol / b or at the rounding
 * level of its float gradient (1e-6 relative), whichever is larger. */
size_t ovica__active_work_len_f32(size_t N, size_t m, size_t n, size_t Bk, size_t threads);
int ovica__active_solve_f32(const ovica_model *md, const float *X, size_t N, float *S, int warm,
                            double tol, size_t max_rounds, size_t Bk, size_t threads,
                            double *work, size_t *rounds, size_t *n_conv);
float *ovica__active_gram_f32(double *work, size_t N, size_t m, size_t n);

#endif /* OVICA_SOLVER_INTERNAL_H */

/* The trainer's statistics: one batch's codes (MAP codes by the solver,
 * or posterior draws by the sampler) and its sufficient statistics added
 * into the flat array (ovica_trainer_accumulate), and the array's
 * clearing, export and import (distributed training). */
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include <cblas.h>

#include "rule_internal.h"
#include "solver_internal.h"

/* FNV-1a over the 64-bit words of a batch: recognises a batch seen before
 * (a word at a time: the hash runs at every step over the whole batch). */
static uint64_t batch_hash(const double *X, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) {
        uint64_t w;
        memcpy(&w, X + i, sizeof w);
        h = (h ^ w) * 0x100000001b3ULL;
        h ^= h >> 32;
    }
    return h;
}

/* The finiteness of the rows a step reads. A batch is checked whole when
 * the host passes it for the first time (another pointer or size): bad
 * data are reported at once. When the same batch comes back and the step
 * reads only some of its rows (drawn rows, a block), only those are
 * checked: no non-finite value enters a step either way, and a host that
 * passes its whole data set at every step does not pay a pass over it per
 * step. */
/* A batch as the host passed it: doubles (X) or floats (Xf, the _f32
 * entry points; the rows a step reads are widened into t->Xsub). */
typedef struct {
    const double *X;
    const float *Xf;
} batch_src;

static int check_rows(ovica_trainer *t, batch_src b, size_t N, const double *rows,
                      size_t n_rows)
{
    const size_t m = t->m;
    const void *p = b.X != NULL ? (const void *)b.X : (const void *)b.Xf;
    if (n_rows < N && p == t->seen_X && N == t->seen_N)
        return ovica__check_finite(rows, n_rows * m, m, "X"); /* (widening keeps NaN, Inf) */
    int st = b.X != NULL ? ovica__check_finite(b.X, N * m, m, "X")
                         : ovica__check_finite_f32(b.Xf, N * m, m, "X");
    t->seen_X = st == OVICA_OK ? p : NULL;
    t->seen_N = st == OVICA_OK ? N : 0;
    return st;
}

/* The step's rows (N x m, double) rounded to float into t->Xf, and their
 * codes computed in single precision into t->Sf (warm: t->Sf holds the
 * last batch's codes), then widened into t->S. */
static int code_single(ovica_trainer *t, const double *X, size_t N, int warm)
{
    const size_t m = t->m, n = t->n;
    if (N > t->cap_f) {
        /* (floats in blocks of doubles: half as many, rounded up) */
        float *xf = (float *)ovica__alloc_doubles((N * m + 1) / 2, "the step's float rows");
        float *sf = (float *)ovica__alloc_doubles((N * n + 1) / 2, "the step's float codes");
        if (!xf || !sf) {
            ovica__free(xf);
            ovica__free(sf);
            return OVICA_ENOMEM;
        }
        ovica__free(t->Xf);
        ovica__free(t->Sf);
        t->Xf = xf;
        t->Sf = sf;
        t->cap_f = N;
        warm = 0;
    }
    for (size_t i = 0; i < N * m; i++) t->Xf[i] = (float)X[i];
    int st = ovica_solver_set_param(t->solver, OVICA_SOLVER_WARM_START, warm);
    if (st) return st;
    st = ovica_solver_infer_f32(t->solver, t->model, t->Xf, N, m, t->Sf, n, NULL);
    if (st < 0) return st;
    for (size_t i = 0; i < N * n; i++) t->S[i] = (double)t->Sf[i];
    return st;
}

/* Rows [first, first + count) of Xf widened into t->Xsub. */
static int widen_rows(ovica_trainer *t, const float *Xf, size_t first, size_t count)
{
    int st = ovica__sub_rows(t, count);
    if (st) return st;
    const size_t m = t->m;
    for (size_t i = 0; i < count * m; i++) t->Xsub[i] = (double)Xf[first * m + i];
    return OVICA_OK;
}

int ovica_trainer_clear_stats(ovica_trainer *t)
{
    OVICA__CHECK_NULL(t, "trainer");
    memset(t->stats, 0, t->stats_len * sizeof(double));
    t->have_stats = 0;
    t->have_worst = 0;
    return OVICA_OK;
}

size_t ovica_trainer_stats_size(const ovica_trainer *t) { return t ? t->stats_len : 0; }

int ovica_trainer_stats_export(const ovica_trainer *t, double *buf, size_t len)
{
    OVICA__CHECK_NULL(t, "trainer");
    OVICA__CHECK_NULL(buf, "buf");
    if (len != t->stats_len)
        return ovica__error(OVICA_ESIZE, "%s: buffer holds %zu doubles, the statistics %zu",
                            __func__, len, t->stats_len);
    memcpy(buf, t->stats, len * sizeof(double));
    return OVICA_OK;
}

int ovica_trainer_stats_import(ovica_trainer *t, const double *buf, size_t len)
{
    OVICA__CHECK_NULL(t, "trainer");
    OVICA__CHECK_NULL(buf, "buf");
    if (len != t->stats_len)
        return ovica__error(OVICA_ESIZE, "%s: buffer holds %zu doubles, the statistics %zu",
                            __func__, len, t->stats_len);
    int st = ovica__check_finite(buf, len, 1, "the statistics");
    if (st) return st;
    if (!(buf[ST_SAMPLES] >= 1.0) || !(buf[ST_DRAWS] >= 1.0) || buf[ST_ACTIVE] < 0.0)
        return ovica__error(OVICA_EFORMAT,
                            "%s: corrupt statistics (samples %g, draws %g, active %g)", __func__,
                            buf[ST_SAMPLES], buf[ST_DRAWS], buf[ST_ACTIVE]);
    /* (a refit leaves at most the residual it starts from) */
    if (buf[ST_SQ] < 0.0 || buf[ST_SQ_REFIT] < 0.0 || buf[ST_SQ_REFIT] > buf[ST_SQ] * (1.0 + 1e-9))
        return ovica__error(OVICA_EFORMAT,
                            "%s: corrupt statistics (squared residuals %g, refitted %g)", __func__,
                            buf[ST_SQ], buf[ST_SQ_REFIT]);
    memcpy(t->stats, buf, len * sizeof(double));
    t->have_stats = 1;
    /* The statistics now describe samples this process has not seen: its
     * own worst-reconstructed sample is no longer the batch's, and processes
     * applying the same sum must make the same update (no re-seeding from a
     * local sample). */
    t->have_worst = 0;
    return OVICA_OK;
}

/* z = d log p/ds at the MAP codes, OVICA_Z_PRIOR: the prior's score (0 at a
 * kink); OVICA_Z_SUBGRADIENT: -lambda A^T (x - A s) (needs R). */
static int map_scores(ovica_trainer *t, size_t N, int choice)
{
    const ovica_prior *p = t->model->prior;
    const size_t Nn = N * t->n;
    if (choice == OVICA_Z_SUBGRADIENT) {
        double lam = 1.0 / (t->model->sigma * t->model->sigma);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)N, (int)t->n, (int)t->m,
                    -lam, t->R, (int)t->m, t->model->A, (int)t->n, 0.0, t->Z, (int)t->n);
        return OVICA_OK;
    }
    int st = ovica__prior_grad(p, t->S, Nn, t->Z);
    if (st) return st;
    for (size_t i = 0; i < Nn; i++) t->Z[i] = -t->Z[i];
    return OVICA_OK;
}

static int accumulate(ovica_trainer *t, batch_src src, size_t N, size_t x_dim);

static int accumulate_src(ovica_trainer *t, batch_src src, size_t N, size_t x_dim,
                          const char *fn)
{
    int st = ovica__trainer_check_shape(fn, t, src.X != NULL ? (const void *)src.X
                                                             : (const void *)src.Xf,
                                        N, x_dim);
    if (st) return st;
    /* the sparse route sets the model's sigma and prior scale before its
     * codes: a step that fails leaves them as they were */
    const double sigma = t->model->sigma, b = t->model->prior->b;
    st = accumulate(t, src, N, x_dim);
    if (st) {
        t->model->sigma = sigma;
        t->model->prior->b = b;
    }
    return st;
}

int ovica_trainer_accumulate(ovica_trainer *t, const double *X, size_t N, size_t x_dim)
{
    batch_src src = {X, NULL};
    return accumulate_src(t, src, N, x_dim, __func__);
}

int ovica_trainer_accumulate_f32(ovica_trainer *t, const float *X, size_t N, size_t x_dim)
{
    batch_src src = {NULL, X};
    return accumulate_src(t, src, N, x_dim, __func__);
}

/* Codes with at most this fraction of non-zero entries take the sparse
 * path below: a sample with k active atoms costs O(k m + k^2) there against
 * O(n m + n^2) in the GEMMs. */
#define SPARSE_STATS 0.1
/* Rows per chunk of the per-sample passes handed to a thread. */
#define STAT_CHUNK 64

/* Per-thread scratch of the statistics (t->wk, one block per worker): a
 * sample's support (n indices) and its Cholesky factor with its solve
 * (m x m + m doubles). */
_Static_assert(sizeof(size_t) <= sizeof(double), "an index fits in a double's place");

static size_t wk_len(const ovica_trainer *t) { return t->n + t->m * t->m + t->m; }

static size_t *wk_supp(const ovica_trainer *t, size_t w)
{
    return (size_t *)(void *)(t->wk + w * wk_len(t));
}

static double *wk_chol(const ovica_trainer *t, size_t w) { return t->wk + w * wk_len(t) + t->n; }

/* The support of code row s (n entries): its indices into supp; returns
 * their number. */
static size_t support(const ovica_trainer *t, const double *s, size_t *supp)
{
    size_t k = 0;
    for (size_t j = 0; j < t->n; j++)
        if (s[j] != 0.0) supp[k++] = j;
    return k;
}

/* The coder's Gram matrix: G in double, or Gf in single precision, and
 * the relative pivot below which a support counts as singular (its
 * entries' rounding level: 1e-10 in double, 1e-5 with the float matrix). */
typedef struct {
    const double *G;
    const float *Gf;
    double tiny;
} gram_src;

/* The squared residual of the least-squares refit of a MAP code on its
 * support S (its k indices in sp): at a solution of the LASSO,
 * A_S^T r = mu z with z = sign(s_S), so that
 *     ||x - A_S s_ls||^2 = ||r||^2 - mu^2 z^T (A_S^T A_S)^{-1} z,
 * which needs only the Gram matrix of the support's atoms and its Cholesky
 * factor (chol). The entries come from the active-set coder's Gram
 * matrix A^T A when it formed one for this batch (G; free), else from dot
 * products of the rows of A^T that the residuals' pass left in t->W2 (k^2 m / 2
 * per sample: a third of a step at 256 x 2048 with 45 active codes a
 * sample). It takes the shrinkage of the threshold out of the residual r
 * (r2 = ||r||^2). A support larger than m, or whose Gram
 * matrix is singular to working precision (duplicate atoms; a pivot below
 * G.tiny of its diagonal entry), keeps the unrefitted residual. */

static double gram_entry(const ovica_trainer *t, gram_src g, size_t i, size_t j)
{
    if (g.G != NULL) return g.G[i * t->n + j];
    if (g.Gf != NULL) return (double)g.Gf[i * t->n + j];
    const double *a = t->W2 + i * t->m, *b = t->W2 + j * t->m;
    double v = 0.0;
    for (size_t r = 0; r < t->m; r++) v += a[r] * b[r];
    return v;
}

static double refit_sq(const ovica_trainer *t, gram_src G, const double *s, const size_t *sp,
                       double *chol, size_t k, double r2, double mu)
{
    if (k == 0 || k > t->m) return r2;
    double *L = chol, *y = chol + k * k;
    double q = 0.0;
    for (size_t a = 0; a < k; a++) {
        double *La = L + a * k;
        for (size_t b = 0; b <= a; b++) {
            const double *Lb = L + b * k, g = gram_entry(t, G, sp[a], sp[b]);
            double v = g;
            for (size_t p = 0; p < b; p++) v -= La[p] * Lb[p];
            if (b < a) {
                La[b] = v / Lb[b];
            } else {
                if (!(v > G.tiny * g)) return r2;
                La[a] = sqrt(v);
            }
        }
        double v = s[sp[a]] > 0.0 ? 1.0 : -1.0;
        for (size_t p = 0; p < a; p++) v -= La[p] * y[p];
        y[a] = v / La[a];
        q += y[a] * y[a];
    }
    const double ls = r2 - mu * mu * q;
    return ls > 0.0 ? ls : 0.0;
}

/* The per-sample statistics, spread over OVICA_TRAIN_THREADS threads in
 * three passes; every value is computed by the same operations in the
 * same order whatever the number of threads, so the step does not depend
 * on it (and each thread writes only its rows or atoms). The per-sample
 * sums are made afterwards, in row order, by the calling thread. */
typedef struct {
    ovica_trainer *t;
    const double *X;           /* the step's rows, N x m */
    size_t N, parts;           /* rows; atom ranges of the third pass */
    int sparse, refit;         /* statistics from the supports; refitted residuals */
    gram_src G;                /* the coder's Gram matrix for the refit, if any */
    double mu;                 /* the codes' threshold */
    atomic_int st;             /* the first error (a user prior's callback) */
} stat_task;

/* Rows of the per-sample arrays t->rowst (4 x cap): squared residual,
 * -log p(s), refitted squared residual, non-zero codes. */
enum { ROW_R2 = 0, ROW_NL = 1, ROW_REFIT = 2, ROW_NNZ = 3 };

static double *rowst(const ovica_trainer *t, int which) { return t->rowst + which * t->cap; }

/* First pass: the non-zero codes of each row. */
static void rows_count(void *task, size_t worker, size_t r0, size_t r1)
{
    (void)worker;
    const ovica_trainer *t = ((stat_task *)task)->t;
    double *nnz = rowst(t, ROW_NNZ);
    for (size_t i = r0; i < r1; i++) {
        const double *s = t->S + i * t->n;
        size_t c = 0;
        for (size_t j = 0; j < t->n; j++) c += s[j] != 0.0;
        nnz[i] = (double)c;
    }
}

/* Second pass: per row, the residual R = x - A s from the support of s
 * (sparse codes; A^T copied to t->W2 before; otherwise R came from a
 * GEMM), its squared norm, -log p(s) and the refitted squared residual. */
static void rows_stats(void *task, size_t worker, size_t r0, size_t r1)
{
    stat_task *k = task;
    const ovica_trainer *t = k->t;
    const size_t m = t->m, n = t->n;
    const double *At = t->W2; /* n x m */
    size_t *supp = wk_supp(t, worker);
    double *chol = wk_chol(t, worker);
    for (size_t i = r0; i < r1; i++) {
        const double *s = t->S + i * n;
        double *R = t->R + i * m;
        size_t kk = 0;
        if (k->sparse) {
            memcpy(R, k->X + i * m, m * sizeof(double));
            kk = support(t, s, supp);
            for (size_t a = 0; a < kk; a++) {
                const double v = s[supp[a]], *col = At + supp[a] * m;
                for (size_t r = 0; r < m; r++) R[r] -= v * col[r];
            }
        }
        double r2 = 0.0, nl = 0.0;
        for (size_t r = 0; r < m; r++) r2 += R[r] * R[r];
        int st = ovica__prior_neglogp(t->model->prior, s, n, &nl);
        if (st) {
            int none = 0;
            atomic_compare_exchange_strong(&k->st, &none, st);
        }
        rowst(t, ROW_R2)[i] = r2;
        rowst(t, ROW_NL)[i] = nl;
        rowst(t, ROW_REFIT)[i] = k->refit ? refit_sq(t, k->G, s, supp, chol, kk, r2, k->mu) : r2;
    }
}

/* Third pass (sparse codes), over ranges of atoms: each range's activity
 * counts (t->W1), rows of X^T S (t->W2, transposed: n x m) and of S^T S
 * (added into t->ss), from the supports of all rows in row order. */
static void atoms_stats(void *task, size_t worker, size_t q0, size_t q1)
{
    stat_task *k = task;
    ovica_trainer *t = k->t;
    const size_t m = t->m, n = t->n;
    const size_t j0 = q0 * n / k->parts, j1 = q1 * n / k->parts;
    size_t *supp = wk_supp(t, worker);
    double *act = t->W1, *xsT = t->W2;
    memset(act + j0, 0, (j1 - j0) * sizeof(double));
    memset(xsT + j0 * m, 0, (j1 - j0) * m * sizeof(double));
    for (size_t i = 0; i < k->N; i++) {
        const double *s = t->S + i * n, *x = k->X + i * m;
        const size_t kk = support(t, s, supp);
        for (size_t a = 0; a < kk; a++) {
            const size_t ja = supp[a];
            if (ja < j0) continue;
            if (ja >= j1) break;
            const double va = s[ja];
            double *row = xsT + ja * m, *ssr = t->ss + ja * n;
            act[ja] += 1.0;
            for (size_t r = 0; r < m; r++) row[r] += va * x[r];
            for (size_t b = 0; b < kk; b++) ssr[supp[b]] += va * s[supp[b]];
        }
    }
}

/* Scratch for `workers` threads of the passes (grown when the thread
 * count grows; the first step allocates it). */
static int ensure_workers(ovica_trainer *t, size_t workers)
{
    if (workers <= t->wk_n) return OVICA_OK;
    double *w = ovica__alloc_doubles(workers * wk_len(t), "the statistics' per-thread scratch");
    if (w == NULL) return OVICA_ENOMEM;
    ovica__free(t->wk);
    t->wk = w;
    t->wk_n = workers;
    return OVICA_OK;
}

static int accumulate(ovica_trainer *t, batch_src src, size_t N, size_t x_dim)
{
    int st = OVICA_OK;
    const size_t m = t->m, n = t->n, k = t->step;
    const size_t N_host = N;
    const ovica_rule_type *rule = ovica__rule_at(t, k);
    const int draws = rule->draws;
    /* A batch larger than the route's step size: rows drawn at random. */
    const size_t rows = ovica__step_rows(t, draws);
    const double *X = src.X;
    size_t first = 0;
    int drawn = 0;
    if (N > rows && draws) {
        /* the rules from draws: consecutive blocks of the batch in turn (as
         * a host that batches would pass them), one per step */
        const size_t B = t->param[OVICA_TRAIN_BATCH] > 0.0 ? rows : 5000, nb = N / B;
        first = (k % nb) * B;
        N = B;
    } else if (N > rows) {
        st = ovica__draw_rows(t, src.X, src.Xf, N, rows);
        if (st) return st;
        X = t->Xsub;
        N = rows;
        drawn = 1;
    }
    if (!drawn) {
        if (src.X != NULL) X = src.X + first * m;
        else if ((st = widen_rows(t, src.Xf, first, N)) != OVICA_OK) return st;
        else X = t->Xsub;
    }
    st = check_rows(t, src, N_host, X, N);
    if (st) return st;
    if (t->mon_N == 0) {
        /* the monitor: the batch's first rows (widened once, at the first
         * batch, for single-precision data) */
        const size_t keep = (size_t)t->param[OVICA_TRAIN_MONITOR_SIZE];
        const size_t nm = N_host < keep ? N_host : keep;
        if (src.X != NULL) {
            st = ovica_trainer_set_monitor(t, src.X, nm, x_dim);
        } else {
            double *w = ovica__alloc_doubles(nm * m, "the monitor rows");
            if (w == NULL) return OVICA_ENOMEM;
            for (size_t i = 0; i < nm * m; i++) w[i] = (double)src.Xf[i];
            st = ovica_trainer_set_monitor(t, w, nm, x_dim);
            ovica__free(w);
        }
        if (st) return st;
    }
    st = ovica__trainer_ensure_rows(t, N);
    if (st) return st;
    if (t->regime == OVICA_REGIME_UNDECIDED && !t->probe_started) ovica__auto_start(t);
    if (t->reinit || !(t->model->norm2 > 0.0)) {
        /* no basis yet, or auto turned dense: the default initialisation
         * (atoms drawn from the data on the sparse route, spread otherwise) */
        st = ovica_trainer_init_basis(t, (rule->flags & OVICA__RULE_INIT_DATA) ? OVICA_INIT_DATA
                                                                               : OVICA_INIT_SPREAD,
                                      X, N, x_dim);
        if (st) return st;
        t->reinit = 0;
    }
    if (rule->prepare != NULL) {
        st = rule->prepare(t, X, N);
        if (st) return st;
    }
    double sigma_t = t->model->sigma;
    if (draws) {
        st = ovica__current_sigma(t, k, &sigma_t);
        if (st) return st;
    }

    /* The codes of the last batch are kept: when the same batch comes back
     * (same size and content hash), they warm-start the MAP solver, and the
     * posterior chains simply continue (persistent chains), so the MAP codes
     * are not needed at all. */
    /* (rows drawn at random are never the same batch again) */
    const int prec = (int)t->param[OVICA_TRAIN_PRECISION];
    const int single = prec == OVICA_PRECISION_SINGLE ||
                       (prec == OVICA_PRECISION_INPUT && src.Xf != NULL);
    const uint64_t hash = drawn ? 0 : batch_hash(X, N * m);
    const int same = !drawn && N == t->last_N && hash == t->last_hash;
    if (!(draws && same)) {
        st = ovica_solver_set_param(t->solver, OVICA_SOLVER_WARM_START, same ? 1 : 0);
        if (st == OVICA_OK)
            st = ovica_solver_set_param(t->solver, OVICA_SOLVER_MAX_ITER,
                                        draws ? 50.0 : t->param[OVICA_TRAIN_SOLVER_ITER]);
        if (st) return st;
        /* (t->S is a warm start for either; t->Sf only after a single one) */
        if (single) st = code_single(t, X, N, same && t->last_single);
        else st = ovica_solver_infer(t->solver, t->model, X, N, m, t->S, n, NULL);
        if (st < 0) return st;
    }
    t->last_single = single;

    double sum_obj = 0.0, sum_sq = 0.0, sum_act = 0.0, sum_xx = 0.0;
    /* The per-sample work on OVICA_TRAIN_THREADS threads (a user prior's
     * callbacks only in this thread). */
    const int user_prior = t->model->prior->kind == OVICA_PRIOR_USER;
    size_t threads = user_prior ? 1 : (size_t)t->param[OVICA_TRAIN_THREADS];
    if (threads < 1) threads = 1;
    if (threads > OVICA__POOL_MAX) threads = OVICA__POOL_MAX;
    st = ensure_workers(t, threads);
    if (st) return st;
    stat_task task = {.t = t, .X = X, .N = N, .parts = threads};
    atomic_init(&task.st, OVICA_OK);
    ovica__pool pool;
    ovica__pool_start(&pool, threads);
    task.parts = pool.nw + 1;
    /* The activity of each atom; sparse MAP codes (the dictionary rule: few
     * active per sample) get their residuals and statistics from their
     * supports, denser ones from GEMMs. */
    ovica__pool_run(&pool, rows_count, &task, N, STAT_CHUNK);
    for (size_t i = 0; i < N; i++) sum_act += rowst(t, ROW_NNZ)[i];
    const int sparse = !draws && !(rule->flags & OVICA__RULE_SCORES) &&
                       sum_act <= SPARSE_STATS * (double)N * (double)n;
    double *act = t->W1; /* n counts for this batch */
    if (!sparse) {
        memset(act, 0, n * sizeof(double));
        for (size_t i = 0; i < N; i++)
            for (size_t j = 0; j < n; j++)
                if (t->S[i * n + j] != 0.0) act[j] += 1.0;
    }

    /* Residuals, objective, the worst-reconstructed sample. */
    if (sparse) {
        const double *A = t->model->A;
        double *At = t->W2; /* n x m */
        for (size_t r = 0; r < m; r++)
            for (size_t j = 0; j < n; j++) At[j * m + r] = A[r * n + j];
    } else {
        memcpy(t->R, X, N * m * sizeof(double));
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N, (int)m, (int)n, -1.0, t->S,
                    (int)n, t->model->A, (int)n, 1.0, t->R, (int)m);
    }
    const double half_lam = 0.5 / (t->model->sigma * t->model->sigma);
    /* (MAP codes of a built-in prior: their threshold is mu = sigma^2 / b) */
    const int refit = sparse && t->model->prior->kind != OVICA_PRIOR_USER;
    const double mu = t->model->sigma * t->model->sigma / t->model->prior->b;
    /* the Gram matrix of the basis, when the coder formed one for this
     * batch (the active-set solver does; refit implies MAP codes, which
     * were just computed); else dot products of A^T's rows */
    gram_src G = {NULL, NULL, 1e-10};
    if (refit) {
        G.G = ovica__solver_gram(t->solver, t->model);
        G.Gf = ovica__solver_gram_f32(t->solver, t->model);
        if (G.Gf != NULL) G.tiny = 1e-5;
    }
    task.sparse = sparse;
    task.refit = refit;
    task.G = G;
    task.mu = mu;
    ovica__pool_run(&pool, rows_stats, &task, N, STAT_CHUNK);
    if (sparse) ovica__pool_run(&pool, atoms_stats, &task, task.parts, 1);
    ovica__pool_stop(&pool);
    st = atomic_load(&task.st);
    if (st) return st;
    size_t worst_k = 0;
    double worst = -1.0, sum_refit = 0.0;
    const double *r2s = rowst(t, ROW_R2), *nls = rowst(t, ROW_NL), *rfs = rowst(t, ROW_REFIT);
    for (size_t i = 0; i < N; i++) {
        const double r2 = r2s[i];
        for (size_t r = 0; r < m; r++) sum_xx += X[i * m + r] * X[i * m + r];
        sum_obj += half_lam * r2 + nls[i];
        sum_sq += r2;
        sum_refit += rfs[i];
        if (r2 > worst) { worst = r2; worst_k = i; }
    }
    double ndraws = (double)N;
    if (draws) {
        ovica_posterior_accum acc = OVICA_POSTERIOR_ACCUM_INIT;
        size_t burn = same ? 0 : (size_t)t->param[OVICA_TRAIN_BURNIN]; /* fresh chains only */
        if (burn > 0) {
            st = ovica_sampler_run(t->sampler, t->model, sigma_t, X, N, m, t->S, n, burn, NULL);
            if (st) return st;
        }
        memset(t->bnd, 0, n * n * sizeof(double));
        acc.zs = t->zs;
        acc.xs = t->xs;
        acc.ss = t->ss;
        acc.bnd = t->bnd;
        /* at least MIN_DRAWS draws per step: a small batch gets more sweeps */
        size_t sweeps = (size_t)t->param[OVICA_TRAIN_SWEEPS];
        const size_t min_draws = (size_t)t->param[OVICA_TRAIN_MIN_DRAWS];
        if (sweeps * N < min_draws) sweeps = (min_draws + N - 1) / N;
        st = ovica_sampler_run(t->sampler, t->model, sigma_t, X, N, m, t->S, n, sweeps, &acc);
        if (st) return st;
        for (size_t i = 0; i < n * n; i++) t->zs[i] += t->bnd[i];
        ndraws = acc.draws;
    } else {
        if (rule->flags & OVICA__RULE_SCORES) { /* (the dictionary update needs none) */
            st = map_scores(t, N, (int)t->param[OVICA_TRAIN_Z]);
            if (st) return st;
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)n, (int)n, (int)N, 1.0,
                        t->Z, (int)n, t->S, (int)n, 1.0, t->zs, (int)n);
        }
        if (sparse) { /* (ss, act and X^T S transposed: the third pass) */
            const double *xsT = t->W2;
            for (size_t r = 0; r < m; r++)
                for (size_t j = 0; j < n; j++) t->xs[r * n + j] += xsT[j * m + r];
        } else {
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)m, (int)n, (int)N, 1.0, X,
                        (int)m, t->S, (int)n, 1.0, t->xs, (int)n);
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)n, (int)n, (int)N, 1.0,
                        t->S, (int)n, t->S, (int)n, 1.0, t->ss, (int)n);
        }
    }
    for (size_t j = 0; j < n; j++) t->act[j] += act[j];
    t->stats[ST_SAMPLES] += (double)N;
    t->stats[ST_DRAWS] += ndraws;
    t->stats[ST_OBJ] += sum_obj;
    t->stats[ST_SQ] += sum_sq;
    t->stats[ST_ACTIVE] += sum_act;
    t->stats[ST_XX] += sum_xx;
    t->stats[ST_SQ_REFIT] += sum_refit;
    if (worst > 0.0) {
        memcpy(t->worst, t->R + worst_k * m, m * sizeof(double));
        t->worst_row = worst_k;
        t->have_worst = 1;
    }
    t->have_stats = 1;
    t->last_N = drawn ? 0 : N;
    t->last_hash = hash;
    t->sub_N = N;
    return OVICA_OK;
}


/* The exact active-set solver for the built-in priors (ovica_solver_active).
 *
 * Scaled by sigma^2, the MAP problem of one sample is a LASSO
 *     f(s) = 1/2 ||x - A s||^2 + mu sum_j |s_j|,   mu = sigma^2 / b
 * (exponential prior: s >= 0 and mu sum_j s_j). With g = A^T (x - A s), s is
 * optimal iff g_j = mu sign(s_j) where s_j != 0 and |g_j| <= mu (g_j <= mu)
 * where s_j = 0.
 *
 * The batch is solved in rounds. A round is one pass over the samples still
 * active, in row blocks sized for the cache:
 *   1. residuals R = X - S A^T of the block from the non-zeros of S (sparse:
 *      2 k m flops a sample for k non-zeros, contiguous rows of A^T), then
 *      one GEMM G_blk = R A for the gradients of the whole block;
 *   2. per sample: the optimality test; a sample that passes has converged
 *      and leaves the active set (rows are compacted by swaps, as in FISTA).
 *      Otherwise the sample takes a feature-sign step (Lee, Battle, Raina &
 *      Ng, "Efficient sparse coding algorithms", NIPS 2006) in the space of
 *      its support only: the coordinates violating the condition enter (the
 *      largest first, up to the support's size, at least Q_MIN), the
 *      sign-constrained least-squares problem on the support is solved with
 *      a Cholesky factor of the Gram submatrix (built column by column, so
 *      a column that is a combination of the others is detected and set
 *      aside), and an exact line search along the segment to its solution
 *      stops where f is least; a coordinate that reaches zero leaves. This
 *      repeats within the sample, without touching the other n - k
 *      coordinates, until the support's problem is solved with consistent
 *      signs. A set-aside (dependent) coordinate is then moved along the
 *      null-space direction it defines, which lowers f linearly, until some
 *      coordinate reaches zero (a simplex-like pivot): duplicate atoms and
 *      supports of rank m are handled exactly.
 * The next round's GEMM verifies every sample at once; its gradient is
 * computed from the residual, so a round also refines the solution on the
 * support (iterative refinement). f decreases at every step, and the
 * solution on a support is exact, so once the support and the signs are
 * right a sample converges to rounding level.
 *
 * Step 2 may run on several threads (OVICA_SOLVER_THREADS): each has its
 * own scratch, and samples are handed out in chunks; the GEMMs and the
 * bookkeeping stay in the calling thread.
 *
 * Costs per sample, where the time went (callgrind, m=64, n=256): the
 * gradient of the zero coordinates is brought up to date through the Gram
 * matrix after each batch of additions (k n flops for k changed
 * coordinates, four rows of G per pass over the gradient), the largest
 * violators are kept in a short sorted list during that pass, and the
 * small dense kernels (Gram update, triangular solves, the scan) are
 * compiled for AVX2 too where the toolchain supports function clones
 * (chosen at load time).
 *
 * Work memory is allocated by the caller before the rounds; nothing is
 * allocated inside them (the worker threads are started once per call). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <cblas.h>

#include "solver_internal.h"

/* This file is compiled twice: as itself, in double precision, and from
 * active_set_f32.c with OVICA_ACTIVE_F32 defined, in single precision
 * (ovica__active_solve_f32): the codes, the data, the Gram matrix, the
 * residuals and the gradients are then floats and the GEMMs are SGEMMs,
 * while the support's Cholesky factor, its solves and the line search stay
 * in double (k x k, cheap, and where rounding would hurt). `real` is the
 * type of the former. */
#ifdef OVICA_ACTIVE_F32
typedef float real;
#define GEMM cblas_sgemm
#define SWAP_ROWS ovica__swap_rows_f
#define SFX(name) name##_f32
#define API_NAME "ovica_solver_infer_f32"
/* the gradient's rounding level, relative to mu + max|a_j| ||x|| (about 17
 * float epsilons: the sums of m products in float) */
#define ROUND_FLOOR 1e-6
#else
typedef double real;
#define GEMM cblas_dgemm
#define SWAP_ROWS ovica__swap_rows
#define SFX(name) name
#define API_NAME "ovica_solver_infer"
#define ROUND_FLOOR 1e-13
#endif

/* Doubles that `count` values of type real take (arrays of the work memory
 * start at a double boundary). */
static size_t dbl(size_t count)
{
    return (count * sizeof(real) + sizeof(double) - 1) / sizeof(double);
}

/* Fewest violating coordinates that enter in one round (more enter when the
 * support is larger: as many as it has). */
#define Q_MIN 4
/* A column whose squared distance from the span of the support's columns is
 * below DEP_EPS times its squared norm is treated as dependent (well above
 * the rounding level of the Gram matrix's entries). */
#ifdef OVICA_ACTIVE_F32
#define DEP_EPS 1e-5
#else
#define DEP_EPS 1e-10
#endif
/* Times per round that a sample, once optimal on its support, updates the
 * rest of its gradient through the Gram matrix and lets violators enter
 * without waiting for the next round's GEMM. */
#define IN_ROUND_ADDS 32

typedef struct {
    double v;
    size_t j;
} viol_t;

typedef struct {
    size_t m, n, kcap;
    const real *G;    /* n x n Gram matrix A^T A */
    double mu;
    int nonneg;
    /* per-sample scratch */
    double *L;        /* kcap x kcap, row-major lower Cholesky factor of G on F */
    double *y, *rhs, *d, *gF, *th, *lcol;  /* kcap each */
    double *dinv;     /* 1 / L[i][i] (kcap): the solves multiply, not divide */
    size_t *F;        /* the factored support, in factor order (kcap) */
    size_t *dep;      /* dependent coordinates set aside (n) */
    viol_t *vl;       /* violators (n) */
    real *s0;         /* the sample's code at the round's start (n) */
    real *gcur;       /* its gradient brought up to date (n) */
    size_t *chi;      /* coordinates changed since the round's start (n) */
    size_t *tl;       /* coordinates that have been in F or set aside (n) */
    size_t nt;        /* their number */
    unsigned char *mark; /* mark[j]: j is in tl (n; all zero between samples) */
    real *chv;        /* and by how much (n) */
} act_ctx;

static double sgn(double v) { return v > 0.0 ? 1.0 : (v < 0.0 ? -1.0 : 0.0); }

/* a . b over k values with four independent sums (the compiler may not
 * reorder one sum, so a single accumulator runs at the adder's latency;
 * four lanes also fit one AVX2 register). */
static inline double dot(const double *a, const double *b, size_t k)
{
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    size_t q = 0;
    for (; q + 4 <= k; q += 4) {
        s0 += a[q] * b[q];
        s1 += a[q + 1] * b[q + 1];
        s2 += a[q + 2] * b[q + 2];
        s3 += a[q + 3] * b[q + 3];
    }
    for (; q < k; q++) s0 += a[q] * b[q];
    return (s0 + s1) + (s2 + s3);
}

/* Forward solve of L[0..k) l = G[F[0..k), j] into out (k values); returns
 * ||l||^2. */
OVICA_SIMD
static double forward_col(const act_ctx *c, size_t k, size_t j, double *out)
{
    const real *Gj = c->G + j * c->n;
    double s2 = 0.0;
    for (size_t i = 0; i < k; i++) {
        const double *Li = c->L + i * c->kcap;
        double acc = (Gj[c->F[i]] - dot(Li, out, i)) * c->dinv[i];
        out[i] = acc;
        s2 += acc * acc;
    }
    return s2;
}

/* Records that coordinate j may change in this round (the Gram update
 * then looks at the recorded coordinates only, not at all n). */
static inline void touch(act_ctx *c, size_t j)
{
    if (!c->mark[j]) {
        c->mark[j] = 1;
        c->tl[c->nt++] = j;
    }
}

/* Appends coordinate j as row k of the factor. Returns 1, or 0 if j's
 * column depends on the support's columns (or the factor is full). */
static int factor_append(act_ctx *c, size_t k, size_t j)
{
    if (k >= c->kcap) return 0;
    double *Lk = c->L + k * c->kcap;
    double s2 = forward_col(c, k, j, Lk);
    double gjj = c->G[j * c->n + j];
    double piv = gjj - s2;
    if (!(piv > DEP_EPS * gjj)) return 0;
    Lk[k] = sqrt(piv);
    c->dinv[k] = 1.0 / Lk[k];
    c->F[k] = j;
    touch(c, j);
    return 1;
}

/* Solves G_FF d = gF - mu th through the factor: y = L^-1 rhs, d = L^-T y.
 * Returns y^T y (= d^T G_FF d). */
OVICA_SIMD
static double solve_support(act_ctx *c, size_t k)
{
    double yy = 0.0;
    for (size_t i = 0; i < k; i++) c->rhs[i] = c->gF[i] - c->mu * c->th[i];
    /* After a full step the old part of the support is optimal (its rhs is
     * exactly zero, see the step) and only the new rows have a right-hand
     * side: y is zero up to the first non-zero of rhs. */
    size_t i0 = 0;
    while (i0 < k && c->rhs[i0] == 0.0) c->y[i0++] = 0.0;
    for (size_t i = i0; i < k; i++) {
        const double *Li = c->L + i * c->kcap;
        c->y[i] = (c->rhs[i] - dot(Li + i0, c->y + i0, i - i0)) * c->dinv[i];
        yy += c->y[i] * c->y[i];
    }
    memcpy(c->d, c->y, k * sizeof(double));
    for (size_t i = k; i-- > 0;) {
        const double *Li = c->L + i * c->kcap;
        double di = c->d[i] * c->dinv[i];
        c->d[i] = di;
        for (size_t q = 0; q < i; q++) c->d[q] -= Li[q] * di;
    }
    return yy;
}

/* Deletes position p from the support of size k: the rows below p are
 * moved up and made triangular again by Givens rotations of their columns
 * (O((k - p)^2), instead of re-factoring them). */
static void factor_delete(act_ctx *c, size_t k, size_t p)
{
    const size_t ld = c->kcap;
    double *L = c->L;
    /* rows p+1..k-1, columns p..k-1: zero the entry (row p+1+t, col p+1+t)
     * into column p+t, for t = 0.. */
    for (size_t t = 0; p + 1 + t < k; t++) {
        size_t r0 = p + 1 + t, c0 = p + t, c1 = p + t + 1;
        double a = L[r0 * ld + c0], b = L[r0 * ld + c1];
        double rho = hypot(a, b);
        if (rho == 0.0) continue;
        double cs = a / rho, sn = b / rho;
        L[r0 * ld + c0] = rho;
        L[r0 * ld + c1] = 0.0;
        for (size_t r = r0 + 1; r < k; r++) {
            double x = L[r * ld + c0], y = L[r * ld + c1];
            L[r * ld + c0] = cs * x + sn * y;
            L[r * ld + c1] = -sn * x + cs * y;
        }
    }
    for (size_t r = p + 1; r < k; r++) {
        memmove(L + (r - 1) * ld, L + r * ld, r * sizeof(double));
        c->dinv[r - 1] = 1.0 / L[(r - 1) * ld + (r - 1)];
        c->F[r - 1] = c->F[r];
        c->gF[r - 1] = c->gF[r];
        c->th[r - 1] = c->th[r];
    }
}

/* Removes the support positions flagged in `drop` (non-zero entries of a
 * k-array). Returns the new support size. */
static size_t support_remove(act_ctx *c, size_t k, const double *drop, size_t *nd)
{
    (void)nd;
    for (size_t i = k; i-- > 0;)
        if (drop[i] != 0.0) {
            factor_delete(c, k, i);
            k--;
        }
    return k;
}

/* Current gradient of coordinate j: g_j at the round's start minus the
 * change caused by the code's change since (O(n), used for pivots only). */
static double current_grad(const act_ctx *c, const real *s, double gj0, size_t j)
{
    const real *Gj = c->G + j * c->n;
    double acc = gj0;
    for (size_t i = 0; i < c->n; i++) {
        double ds = s[i] - c->s0[i];
        if (ds != 0.0) acc -= Gj[i] * ds;
    }
    return acc;
}

/* gc -= sum_t v[t] G[idx[t], :] (n values): the gradient's change for a
 * code change v on the coordinates idx (G is symmetric), four rows at a
 * time so that gc is loaded and stored once per four rows. */
OVICA_SIMD
static void gram_update(real *restrict gc, const real *restrict G, size_t n,
                        const size_t *restrict idx, const real *restrict v, size_t cnt)
{
    size_t t = 0;
    for (; t + 4 <= cnt; t += 4) {
        const real *restrict g0 = G + idx[t] * n, *restrict g1 = G + idx[t + 1] * n;
        const real *restrict g2 = G + idx[t + 2] * n, *restrict g3 = G + idx[t + 3] * n;
        const real a0 = v[t], a1 = v[t + 1], a2 = v[t + 2], a3 = v[t + 3];
        for (size_t j = 0; j < n; j++)
            gc[j] -= (a0 * g0[j] + a1 * g1[j]) + (a2 * g2[j] + a3 * g3[j]);
    }
    /* the last one to three rows in one pass */
    if (cnt - t == 3) {
        const real *restrict g0 = G + idx[t] * n, *restrict g1 = G + idx[t + 1] * n;
        const real *restrict g2 = G + idx[t + 2] * n;
        const real a0 = v[t], a1 = v[t + 1], a2 = v[t + 2];
        for (size_t j = 0; j < n; j++) gc[j] -= (a0 * g0[j] + a1 * g1[j]) + a2 * g2[j];
    } else if (cnt - t == 2) {
        const real *restrict g0 = G + idx[t] * n, *restrict g1 = G + idx[t + 1] * n;
        const real a0 = v[t], a1 = v[t + 1];
        for (size_t j = 0; j < n; j++) gc[j] -= a0 * g0[j] + a1 * g1[j];
    } else if (cnt - t == 1) {
        const real *restrict g0 = G + idx[t] * n;
        const real a0 = v[t];
        for (size_t j = 0; j < n; j++) gc[j] -= a0 * g0[j];
    }
}

/* r = x - sum_i s_i A[:, i] over the non-zeros of s (At = A^T, n x m). */
OVICA_SIMD
static void residual(real *restrict r, const real *restrict x, const real *restrict s,
                     const real *restrict At, size_t m, size_t n)
{
    memcpy(r, x, m * sizeof(real));
    /* codes are sparse: skip four zeros with one branch */
    for (size_t i0 = 0; i0 < n; i0 += 4) {
        size_t i1 = i0 + 4 < n ? i0 + 4 : n;
        if (i1 - i0 == 4 && ((s[i0] == 0.0) & (s[i0 + 1] == 0.0) & (s[i0 + 2] == 0.0) &
                             (s[i0 + 3] == 0.0)))
            continue;
        for (size_t i = i0; i < i1; i++) {
            const real si = s[i];
            if (si == 0.0) continue;
            const real *restrict ai = At + i * m;
            for (size_t q = 0; q < m; q++) r[q] -= si * ai[q];
        }
    }
}

/* The q largest violations among the zero coordinates of s (gradient gc,
 * above thr) into c->vl[0..), in decreasing order; returns how many. One
 * pass with a short sorted list (q is at most a quarter of the support or
 * Q_MIN). */
OVICA_SIMD
static size_t scan_top(act_ctx *c, const real *s, const real *gc, double thr, size_t q)
{
    viol_t *vl = c->vl;
    const size_t n = c->n;
    const double mu = c->mu;
    const int nonneg = c->nonneg;
    size_t cnt = 0;
#define SCAN_ONE(j)                                                        \
    do {                                                                   \
        double a = nonneg ? gc[j] : fabs(gc[j]);                           \
        if (!(a > lo) || s[j] != 0.0) break;                               \
        double v = a - mu;                                                 \
        size_t p = cnt < q ? cnt++ : q - 1;                                \
        while (p > 0 && vl[p - 1].v < v) {                                 \
            vl[p] = vl[p - 1];                                             \
            p--;                                                           \
        }                                                                  \
        vl[p].v = v;                                                       \
        vl[p].j = j;                                                       \
        if (cnt == q) lo = (vl[q - 1].v > thr ? vl[q - 1].v : thr) + mu;   \
    } while (0)
    double lo = thr + mu; /* |g_j| (g_j) must exceed this to enter */
    /* Most coordinates do not exceed lo: test four at a time without a
     * branch each, and look closer only at a group with a candidate. */
    size_t j0 = 0;
    for (; j0 + 4 <= n; j0 += 4) {
        const real *gg = gc + j0;
        double a0 = nonneg ? gg[0] : fabs(gg[0]), a1 = nonneg ? gg[1] : fabs(gg[1]);
        double a2 = nonneg ? gg[2] : fabs(gg[2]), a3 = nonneg ? gg[3] : fabs(gg[3]);
        if (!((a0 > lo) | (a1 > lo) | (a2 > lo) | (a3 > lo))) continue;
        for (size_t j = j0; j < j0 + 4; j++) SCAN_ONE(j);
    }
    for (size_t j = j0; j < n; j++) SCAN_ONE(j);
#undef SCAN_ONE
    return cnt;
}

/* The sample's worst optimality violation (coord_violation over its n
 * coordinates), branch-free so that it vectorises: most samples of a
 * verification round only need this. */
OVICA_SIMD
static double worst_violation(const act_ctx *c, const real *restrict s,
                              const real *restrict g)
{
    const double mu = c->mu;
    double w[4] = {0.0, 0.0, 0.0, 0.0};
    size_t j = 0;
    const size_t n = c->n;
    if (c->nonneg) {
        for (; j + 4 <= n; j += 4)
            for (size_t l = 0; l < 4; l++) {
                double gj = g[j + l] - mu;
                double v = s[j + l] != 0.0 ? fabs(gj) : gj;
                w[l] = v > w[l] ? v : w[l];
            }
        for (; j < n; j++) {
            double gj = g[j] - mu;
            double v = s[j] != 0.0 ? fabs(gj) : gj;
            w[0] = v > w[0] ? v : w[0];
        }
    } else {
        for (; j + 4 <= n; j += 4)
            for (size_t l = 0; l < 4; l++) {
                double sj = s[j + l], gj = g[j + l];
                double v = sj != 0.0 ? fabs(gj - copysign(mu, sj)) : fabs(gj) - mu;
                w[l] = v > w[l] ? v : w[l];
            }
        for (; j < n; j++) {
            double sj = s[j], gj = g[j];
            double v = sj != 0.0 ? fabs(gj - copysign(mu, sj)) : fabs(gj) - mu;
            w[0] = v > w[0] ? v : w[0];
        }
    }
    double a = w[0] > w[1] ? w[0] : w[1], b = w[2] > w[3] ? w[2] : w[3];
    return a > b ? a : b;
}

/* One round for one sample: s (n) is its code, g (n) the gradient
 * A^T (x - A s) at s, thr its tolerance. Returns 1 if s is optimal (then
 * unchanged), 0 if it took steps, 2 if it could not move (stalled). */
static int active_sample(act_ctx *c, real *s, const real *g, double thr)
{
    const size_t n = c->n;
    const double mu = c->mu;
    if (worst_violation(c, s, g) <= thr) return 1;
    memcpy(c->s0, s, n * sizeof(real));
    c->nt = 0;

    /* The support in index order, then the largest violators (one pass
     * with a short sorted list, as within the round). */
    size_t k = 0, nd = 0;
    for (size_t j = 0; j < n; j++) {
        if (s[j] == 0.0) continue;
        if (factor_append(c, k, j)) {
            c->gF[k] = g[j];
            c->th[k] = sgn(s[j]);
            k++;
        } else {
            c->dep[nd++] = j;
        }
    }
    size_t q = k / 4 > Q_MIN ? k / 4 : Q_MIN;
    size_t nv = scan_top(c, s, g, thr, q);
    for (size_t i = 0; i < nv; i++) {
        size_t j = c->vl[i].j;
        if (factor_append(c, k, j)) {
            c->gF[k] = g[j];
            c->th[k] = c->nonneg ? 1.0 : sgn(g[j]);
            k++;
        } else {
            c->dep[nd++] = j;
        }
    }

    int moved = 0;
    size_t adds = IN_ROUND_ADDS;
    const size_t max_inner = 20 + 4 * (c->kcap + n);
    for (size_t it = 0; it < max_inner; it++) {
        double *drop = c->lcol;
        if (k > 0) {
            double yy = solve_support(c, k);
            /* A new coordinate (still zero) that the solution moves against
             * its sign leaves again. */
            int any = 0;
            for (size_t i = 0; i < k; i++) {
                drop[i] = (s[c->F[i]] == 0.0 && c->d[i] * c->th[i] <= 0.0) ? 1.0 : 0.0;
                any |= drop[i] != 0.0;
            }
            if (any) {
                k = support_remove(c, k, drop, &nd);
                continue;
            }
            /* Exact line search on [0, 1] for phi(t) = f(s + t d): convex,
             * piecewise quadratic with phi'(t) = a + yy t on each piece. */
            double tstar = 1.0;
            size_t hit = (size_t)-1;
            if (yy > 0.0) {
                double a = -yy, tprev = 0.0;
                for (;;) {
                    /* next breakpoint after tprev */
                    double tb = 1.0;
                    size_t ib = (size_t)-1;
                    for (size_t i = 0; i < k; i++) {
                        double si = s[c->F[i]], di = c->d[i];
                        if (si == 0.0 || si * di >= 0.0 || c->th[i] != sgn(si)) continue;
                        double ti = -si / di;
                        if (ti < tb && ti >= tprev) {
                            tb = ti;
                            ib = i;
                        }
                    }
                    if (ib == (size_t)-1 || -a / yy <= tb) {
                        tstar = -a / yy;
                        if (tstar > 1.0) tstar = 1.0;
                        break;
                    }
                    if (c->nonneg) { /* a wall: s_i >= 0 */
                        tstar = tb;
                        hit = ib;
                        break;
                    }
                    double a2 = a + 2.0 * mu * fabs(c->d[ib]);
                    if (a2 + yy * tb >= 0.0) { /* the kink at tb is the minimum */
                        tstar = tb;
                        hit = ib;
                        break;
                    }
                    a = a2;
                    tprev = tb;
                    /* mark it crossed: its sign is flipped below; for the
                     * scan, th no longer equals sign(s) */
                    c->th[ib] = -c->th[ib];
                }
            }
            /* Apply the step. th of crossed coordinates was flipped during
             * the scan; the gradient on F moves as gF - t (gF - mu th_old). */
            int crossed = 0;
            for (size_t i = 0; i < k; i++) {
                size_t j = c->F[i];
                double old = s[j];
                double th_old = c->th[i];
                if (old != 0.0 && th_old != sgn(old)) {
                    th_old = -th_old; /* flipped in the scan */
                    crossed = 1;
                }
                /* a full step solves the support's problem: g_F = mu th */
                c->gF[i] = tstar == 1.0 ? mu * th_old : c->gF[i] - tstar * (c->gF[i] - mu * th_old);
                s[j] = i == hit ? (real)0 : (real)(old + tstar * c->d[i]);
                if (s[j] != old) moved = 1;
                if (c->nonneg && s[j] < 0.0) s[j] = 0.0;
            }
            if (hit != (size_t)-1 || tstar < 1.0 || crossed) {
                /* Coordinates at zero leave; crossed ones keep their new
                 * sign (th already flipped). */
                int anyz = 0;
                for (size_t i = 0; i < k; i++) {
                    drop[i] = s[c->F[i]] == 0.0 ? 1.0 : 0.0;
                    anyz |= drop[i] != 0.0;
                }
                if (anyz) k = support_remove(c, k, drop, &nd);
                for (size_t i = 0; i < k; i++) {
                    double sg = sgn(s[c->F[i]]);
                    if (sg != 0.0) c->th[i] = sg;
                }
                continue;
            }
        }
        /* s is optimal on F. With nothing set aside, the gradient of the
         * other coordinates is brought up to date through the Gram matrix
         * (one row of G per changed coordinate) and the new violators
         * enter, keeping the factor; the next round's GEMM verifies. */
        if (nd == 0) {
            if (adds == 0) break;
            adds--;
            real *gc = c->gcur;
            memcpy(gc, g, n * sizeof(real));
            /* s changes only where a coordinate has been in F or set aside */
            size_t nch = 0;
            for (size_t t = 0; t < c->nt; t++) {
                size_t i = c->tl[t];
                double ds = s[i] - c->s0[i];
                if (ds == 0.0) continue;
                c->chi[nch] = i;
                c->chv[nch] = (real)ds;
                nch++;
            }
            gram_update(gc, c->G, n, c->chi, c->chv, nch);
            q = k / 4 > Q_MIN ? k / 4 : Q_MIN;
            nv = scan_top(c, s, gc, thr, q);
            if (nv == 0) break;
            size_t k0 = k;
            for (size_t i = 0; i < nv; i++) {
                size_t jj = c->vl[i].j;
                if (factor_append(c, k, jj)) {
                    c->gF[k] = gc[jj];
                    c->th[k] = c->nonneg ? 1.0 : sgn(gc[jj]);
                    k++;
                }
            }
            if (k == k0) break; /* only dependent ones: left to the next round */
            continue;
        }
        /* A set-aside coordinate: pivot along the null-space direction it
         * defines. */
        size_t j = c->dep[--nd];
        double gj = current_grad(c, s, g[j], j);
        double s2 = forward_col(c, k, j, c->y);
        double gjj = c->G[j * n + j];
        double sj = s[j];
        double e = sj != 0.0 ? gj - mu * (c->nonneg ? 1.0 : sgn(sj))
                             : (c->nonneg ? gj - mu : fabs(gj) - mu);
        if (sj == 0.0 && e <= thr) continue; /* no longer violates */
        if (sj != 0.0 && fabs(e) <= thr) continue;
        if (gjj - s2 > DEP_EPS * gjj && k < c->kcap) {
            /* independent by now: it joins the support */
            double *Lk = c->L + k * c->kcap;
            memcpy(Lk, c->y, k * sizeof(double));
            Lk[k] = sqrt(gjj - s2);
            c->dinv[k] = 1.0 / Lk[k];
            c->F[k] = j;
            touch(c, j);
            c->gF[k] = gj;
            c->th[k] = sj != 0.0 ? sgn(sj) : (c->nonneg ? 1.0 : sgn(gj));
            k++;
            continue;
        }
        /* w = G_FF^-1 G_Fj; direction v_j = sigma, v_F = -sigma w */
        memcpy(c->d, c->y, k * sizeof(double));
        for (size_t i = k; i-- > 0;) {
            const double *Li = c->L + i * c->kcap;
            double di = c->d[i] * c->dinv[i];
            c->d[i] = di;
            for (size_t qq = 0; qq < i; qq++) c->d[qq] -= Li[qq] * di;
        }
        double sigma = sj != 0.0 ? sgn(e) : (c->nonneg ? 1.0 : sgn(gj));
        double tmax = INFINITY;
        size_t blk = (size_t)-1; /* k means j itself */
        if (sj != 0.0 && sj * sigma < 0.0) {
            tmax = fabs(sj);
            blk = k;
        }
        for (size_t i = 0; i < k; i++) {
            double si = s[c->F[i]], vi = -sigma * c->d[i];
            if (si * vi < 0.0) {
                double ti = -si / vi;
                if (ti < tmax) {
                    tmax = ti;
                    blk = i;
                }
            }
        }
        if (blk == (size_t)-1) continue; /* f cannot fall along it: drop */
        for (size_t i = 0; i < k; i++) s[c->F[i]] = (real)(s[c->F[i]] + tmax * (-sigma * c->d[i]));
        s[j] = blk == k ? (real)0 : (real)(sj + tmax * sigma);
        touch(c, j);
        moved = 1;
        if (blk < k) {
            s[c->F[blk]] = 0.0;
            for (size_t i = 0; i < k; i++) drop[i] = i == blk ? 1.0 : 0.0;
            k = support_remove(c, k, drop, &nd);
            if (factor_append(c, k, j)) {
                c->gF[k] = gj - tmax * sigma * (gjj - s2);
                c->th[k] = c->nonneg ? 1.0 : sgn(s[j]);
                k++;
            } else {
                c->dep[nd++] = j;
            }
        }
    }
    for (size_t t = 0; t < c->nt; t++) c->mark[c->tl[t]] = 0;
    return moved ? 0 : 2;
}

/* Doubles of per-thread scratch (see ctx_layout). */
static size_t ctx_len(size_t n, size_t kcap)
{
    /* factor, 7 kcap vectors (y, rhs, d, gF, th, lcol, dinv), F (kcap), dep (n), violators
     * (2 n), s0 (n), gcur (n), changed coordinates and values (2 n),
     * touched list (n), marks (n bytes) */
    return kcap * kcap + 7 * kcap + kcap + n + 2 * n + 2 * n + 2 * n + n + n / 8 + 1;
}

/* Points a context's scratch into w (ctx_len doubles). */
static void ctx_layout(act_ctx *c, double *w)
{
    const size_t n = c->n, kcap = c->kcap;
    c->L = w;
    c->y = c->L + kcap * kcap;
    c->rhs = c->y + kcap;
    c->d = c->rhs + kcap;
    c->gF = c->d + kcap;
    c->th = c->gF + kcap;
    c->lcol = c->th + kcap;
    c->dinv = c->lcol + kcap;
    double *tail = c->dinv + kcap;
    c->F = (size_t *)tail;
    c->dep = (size_t *)(tail + kcap);
    c->vl = (viol_t *)(tail + kcap + n);
    /* (n doubles each, whatever the size of real) */
    c->s0 = (real *)(tail + kcap + 3 * n);
    c->gcur = (real *)(tail + kcap + 4 * n);
    c->chi = (size_t *)(tail + kcap + 5 * n);
    c->chv = (real *)(tail + kcap + 6 * n);
    c->tl = (size_t *)(tail + kcap + 7 * n);
    c->mark = (unsigned char *)(tail + kcap + 8 * n);
    memset(c->mark, 0, n);
    c->nt = 0;
}

size_t SFX(ovica__active_work_len)(size_t N, size_t m, size_t n, size_t Bk, size_t threads)
{
    size_t kcap = m < n ? m : n;
    size_t Nn, Nm, len, per = ctx_len(n, kcap), all;
    if (threads == 0) threads = 1;
    if (ovica__mul_size(N, n, &Nn) || ovica__mul_size(N, m, &Nm) ||
        ovica__mul_size(per, threads, &all) || Nn > SIZE_MAX / sizeof(double) - 1)
        return 0;
    /* codes, data, per-sample scale and state, row indices */
    len = dbl(Nn) + dbl(Nm) + 3 * N;
    /* Gram, A^T, A (its own copy in single precision), block residual and
     * gradient */
    len += dbl(n * n) + dbl(n * m) + (sizeof(real) < sizeof(double) ? dbl(m * n) : 0) +
           dbl(Bk * m) + dbl(Bk * n);
    /* per-thread scratch */
    if (len > SIZE_MAX - all) return 0;
    return len + all;
}


/* ---- the per-sample work of a block, spread over threads ----
 * The calling thread does the GEMMs (OpenBLAS threads) and the
 * bookkeeping; between two GEMMs the samples of the block are handed out
 * in chunks of CHUNK rows to the caller and the pool's workers. A sample's
 * result does not depend on the thread that codes it (its scratch is
 * rewritten before it is read), so the codes do not depend on the number
 * of threads. The pool lives for one call: no global state. */
#define CHUNK 8

/* The task of ovica__pool_run: rows [0, nb) of the block at row b0. */
typedef struct {
    act_ctx *ctx; /* one per worker: [0] is the caller's */
    real *Sw;
    double *state;
    const real *Gb;
    const double *xs;
    size_t b0, n;
} act_task;

static void active_rows(void *task, size_t worker, size_t r0, size_t r1)
{
    act_task *t = task;
    act_ctx *c = &t->ctx[worker];
    for (size_t r = r0; r < r1; r++) {
        const size_t k = t->b0 + r;
        t->state[k] = (double)active_sample(c, t->Sw + k * t->n, t->Gb + r * t->n, t->xs[k]);
    }
}

real *SFX(ovica__active_gram)(double *work, size_t N, size_t m, size_t n)
{
    /* Sw (N x n), Xc (N x m), xs (N), state (N), perm (N size_t), then it */
    return (real *)((size_t *)(work + dbl(N * n) + dbl(N * m) + 2 * N) + N);
}


int SFX(ovica__active_solve)(const ovica_model *md, const real *X, size_t N, real *S, int warm,
                             double tol, size_t max_rounds, size_t Bk, size_t threads,
                             double *work, size_t *rounds, size_t *n_conv)
{
    const size_t m = md->m, n = md->n, kcap = m < n ? m : n;
    const ovica_prior *prior = md->prior;
    if (threads == 0) threads = 1;
    if (threads > OVICA__POOL_MAX) threads = OVICA__POOL_MAX;
    act_ctx c;
    c.m = m;
    c.n = n;
    c.kcap = kcap;
    c.mu = md->sigma * md->sigma / prior->b;
    c.nonneg = prior->kind == OVICA_PRIOR_EXPONENTIAL;
    /* the starting point: zeros, or the warm start projected onto the
     * prior's domain */
    if (!warm) memset(S, 0, N * n * sizeof(real));
    else if (prior->domain == OVICA_DOMAIN_NONNEG)
        for (size_t i = 0; i < N * n; i++) S[i] = S[i] > 0 ? S[i] : 0;

    real *Sw = (real *)work, *Xc = (real *)(work + dbl(N * n));
    double *xs = work + dbl(N * n) + dbl(N * m), *state = xs + N;
    size_t *perm = (size_t *)(state + N);
    real *Gram = SFX(ovica__active_gram)(work, N, m, n);
    real *At = (real *)((double *)Gram + dbl(n * n));
    double *next = (double *)At + dbl(n * m);
    /* the basis as the GEMMs read it: A itself in double, a rounded copy
     * in single precision */
    const real *Ar;
    if (sizeof(real) < sizeof(double)) {
        real *copy = (real *)next;
        for (size_t i = 0; i < m * n; i++) copy[i] = (real)md->A[i];
        Ar = copy;
        next += dbl(m * n);
    } else {
        Ar = (const real *)(const void *)md->A;
    }
    real *R = (real *)next, *Gb = (real *)(next + dbl(Bk * m));
    double *scratch = next + dbl(Bk * m) + dbl(Bk * n);
    const size_t per = ctx_len(n, kcap);
    c.G = Gram;
    ctx_layout(&c, scratch);

    GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, (int)n, (int)n, (int)m, 1, Ar, (int)n, Ar,
         (int)n, 0, Gram, (int)n);
    double amax = 0.0;
    for (size_t j = 0; j < n; j++)
        if (Gram[j * n + j] > amax) amax = Gram[j * n + j];
    amax = sqrt(amax);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) At[j * m + i] = Ar[i * n + j];

    memcpy(Sw, S, N * n * sizeof(real));
    memcpy(Xc, X, N * m * sizeof(real));
    for (size_t k = 0; k < N; k++) {
        double x2 = 0.0;
        for (size_t i = 0; i < m; i++) x2 += (double)X[k * m + i] * (double)X[k * m + i];
        /* tolerance: tol mu, but not below the rounding level of g */
        double floor_ = ROUND_FLOOR * (c.mu + amax * sqrt(x2));
        xs[k] = tol * c.mu > floor_ ? tol * c.mu : floor_;
        perm[k] = k;
        state[k] = 0.0;
    }

    /* the pool: threads - 1 workers (fewer if the system refuses some),
     * each with its own scratch */
    ovica__pool pool;
    act_ctx ctx[OVICA__POOL_MAX];
    ovica__pool_start(&pool, threads > 1 && N > CHUNK ? threads : 1);
    ctx[0] = c;
    for (size_t w = 1; w <= pool.nw; w++) {
        ctx[w] = c;
        ctx_layout(&ctx[w], scratch + w * per);
    }
    act_task task = {ctx, Sw, state, Gb, xs, 0, n};

    size_t na = N, round = 0, conv = 0;
    while (na > 0 && round < max_rounds) {
        round++;
        for (size_t b0 = 0; b0 < na; b0 += Bk) {
            size_t nb = na - b0 < Bk ? na - b0 : Bk;
            /* residuals R = X - S A^T from the non-zeros of S, then the
             * gradients R A of the block: one GEMM */
            for (size_t r = 0; r < nb; r++)
                residual(R + r * m, Xc + (b0 + r) * m, Sw + (b0 + r) * n, At, m, n);
            GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nb, (int)n, (int)m, 1, R, (int)m,
                 Ar, (int)n, 0, Gb, (int)n);
            task.b0 = b0;
            ovica__pool_run(&pool, active_rows, &task, nb, CHUNK);
        }
        /* converged (1) and stalled (2) samples leave the active set */
        for (size_t k = 0; k < na;) {
            if (state[k] == 0.0) {
                k++;
                continue;
            }
            if (state[k] == 1.0) conv++;
            memcpy(S + perm[k] * n, Sw + k * n, n * sizeof(real));
            size_t last = --na;
            if (k != last) {
                memcpy(Sw + k * n, Sw + last * n, n * sizeof(real));
                SWAP_ROWS(Xc, m, k, last);
                xs[k] = xs[last];
                state[k] = state[last];
                perm[k] = perm[last];
            }
        }
    }
    ovica__pool_stop(&pool);
    for (size_t k = 0; k < na; k++) memcpy(S + perm[k] * n, Sw + k * n, n * sizeof(real));
    for (size_t i = 0; i < N * n; i++)
        if (!isfinite(S[i]))
            return ovica__error(OVICA_ENUMERIC, "%s: non-finite code (singular support)",
                                API_NAME);
    *rounds = round;
    *n_conv = conv;
    return OVICA_OK;
}

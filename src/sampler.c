/* Exact posterior draws of s given x for a batch: coordinate Gibbs on the
 * kept residual, plus hit-and-run moves in the null space of A. */
#include <float.h>
#include <math.h>
#include <string.h>

#include <cblas.h>
#include <lapacke.h>

#include "internal.h"
#include "param.h"
#include "ovica/rng.h"
#include "ovica/sampler.h"

#define N_PARAMS (OVICA_SAMPLER_REFRESH + 1) /* the length of enum ovica_sampler_param */

static const ovica__param param_info[] = {
    [OVICA_SAMPLER_NULL_MOVES] = {"null_moves", 0.0, 1000.0, 1.0, OVICA__PARAM_INT, 0},
    [OVICA_SAMPLER_REFRESH] = {"refresh", 1.0, 1e6, 1.0, OVICA__PARAM_INT, 0},
};
_Static_assert(sizeof param_info / sizeof param_info[0] == N_PARAMS,
               "one entry of param_info per sampler parameter");
static const ovica__param_table params = {"sampler", param_info, N_PARAMS};

/* A breakpoint of the Laplace line density: where s_i + t d_i = 0, and the
 * slope |d_i|/b that coordinate adds on either side. */
typedef struct {
    double t, w;
} breakpoint;

struct ovica_sampler {
    ovica_rng *rng;
    double param[N_PARAMS];
    double *work;        /* one block holding every double array of a run */
    size_t work_len;
    breakpoint *bp;      /* n breakpoints (Laplace null moves) */
    size_t bp_len;
};

int ovica_sampler_new(ovica_sampler **out, uint64_t seed)
{
    OVICA__CHECK_NULL(out, "out");
    ovica_sampler *s = ovica__calloc(1, sizeof *s);
    if (s == NULL) return ovica__error(OVICA_ENOMEM, "cannot allocate a sampler");
    int st = ovica_rng_new(&s->rng, seed);
    if (st) {
        ovica__free(s);
        return st;
    }
    ovica__param_defaults(&params, s->param);
    *out = s;
    return OVICA_OK;
}

void ovica_sampler_free(ovica_sampler *s)
{
    if (s == NULL) return;
    ovica_rng_free(s->rng);
    ovica__free(s->work);
    ovica__free(s->bp);
    ovica__free(s);
}

int ovica_sampler_set_param(ovica_sampler *s, int param, double value)
{
    OVICA__CHECK_NULL(s, "s");
    return ovica__param_set(&params, s->param, param, value);
}

int ovica_sampler_get_param(const ovica_sampler *s, int param, double *out)
{
    OVICA__CHECK_NULL(s, "s");
    OVICA__CHECK_NULL(out, "out");
    return ovica__param_get(&params, s->param, param, out);
}

int ovica_sampler_param_count(void) { return params.count; }

const char *ovica_sampler_param_name(int param) { return ovica__param_name(&params, param); }

int ovica_sampler_param_find(const char *name, int *out)
{
    return ovica__param_find(&params, name, out);
}

/* ---- work memory ---- */

static int ensure_work(ovica_sampler *s, size_t len, size_t n)
{
    if (s->work_len < len) {
        double *w = ovica__alloc_doubles(len, "the sampler's work memory");
        if (w == NULL) return OVICA_ENOMEM;
        ovica__free(s->work);
        s->work = w;
        s->work_len = len;
    }
    if (s->bp_len < n) {
        size_t bytes;
        if (ovica__mul_size(n, sizeof(breakpoint), &bytes))
            return ovica__error(OVICA_ENOMEM, "too many atoms (%zu)", n);
        breakpoint *b = ovica__malloc(bytes);
        if (b == NULL)
            return ovica__error(OVICA_ENOMEM, "cannot allocate %zu breakpoints", n);
        ovica__free(s->bp);
        s->bp = b;
        s->bp_len = n;
    }
    return OVICA_OK;
}

/* Adds up sizes without overflow; returns -1 on overflow. */
static int add_sizes(size_t *acc, size_t a, size_t b)
{
    size_t p;
    if (ovica__mul_size(a, b, &p) || *acc > SIZE_MAX - p) return -1;
    *acc += p;
    return 0;
}

/* ---- one-dimensional exact draws ---- */

#define LOG_SQRT2PI 0.91893853320467274178 /* log(sqrt(2 pi)) */

/* A draw E in [0, width] from the density proportional to exp(-rate E),
 * rate > 0, width > 0 (possibly infinite), by inverting the CDF stably. */
static double trunc_exp(ovica_rng *r, double rate, double width)
{
    double u = ovica_rng_uniform(r); /* [0, 1) */
    double e;
    if (isinf(width)) {
        e = -log1p(-u) / rate;
    } else {
        double mass = -expm1(-rate * width); /* 1 - exp(-rate width), in (0, 1] */
        e = -log1p(-u * mass) / rate;
        if (e > width) e = width;
    }
    return e;
}

/* log of the integral of exp(f) over a segment of length len on which f is
 * linear with slope g, f = fa at the left end and fb at the right end. */
static double segment_log_mass(double fa, double fb, double g, double len)
{
    if (!(len > 0.0)) return -INFINITY;
    double top = fa > fb ? fa : fb;
    double ag = fabs(g), x = ag * len;
    if (ag == 0.0 || x == 0.0) return top + log(len);
    return top + log(-expm1(-x)) - log(ag);
}

/* Sorts breakpoints by t in place: insertion sort for a few, heapsort
 * otherwise. Not qsort: glibc's qsort may call malloc for arrays over 1 KiB,
 * and nothing may be allocated inside the sweeps. */
static void sift_down(breakpoint *bp, size_t root, size_t end)
{
    breakpoint x = bp[root];
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= end) break;
        if (child + 1 < end && bp[child + 1].t > bp[child].t) child++;
        if (!(bp[child].t > x.t)) break;
        bp[root] = bp[child];
        root = child;
    }
    bp[root] = x;
}

static void sort_breakpoints(breakpoint *bp, size_t K)
{
    if (K <= 16) {
        for (size_t j = 1; j < K; j++) {
            breakpoint x = bp[j];
            size_t l = j;
            while (l > 0 && bp[l - 1].t > x.t) {
                bp[l] = bp[l - 1];
                l--;
            }
            bp[l] = x;
        }
        return;
    }
    for (size_t r = K / 2; r-- > 0;) sift_down(bp, r, K);
    for (size_t end = K - 1; end > 0; end--) {
        breakpoint x = bp[0];
        bp[0] = bp[end];
        bp[end] = x;
        sift_down(bp, 0, end);
    }
}

/* Hit-and-run step along d for the exponential prior: t has density
 * proportional to exp(-t sum(d)/b) on the interval keeping s + t d >= 0. */
static void null_move_exponential(ovica_rng *r, double *s, const double *d, size_t n,
                                  double inv_b)
{
    double lo = -INFINITY, hi = INFINITY, g = 0.0;
    for (size_t i = 0; i < n; i++) {
        double di = d[i];
        g += di;
        if (di > 0.0) {
            double t = -s[i] / di;
            if (t > lo) lo = t;
        } else if (di < 0.0) {
            double t = -s[i] / di;
            if (t < hi) hi = t;
        }
    }
    g *= inv_b;
    if (!(lo <= hi)) return; /* rounding only; stay put */
    double width = hi - lo, t;
    if (g > 0.0) {
        if (isinf(lo)) return; /* improper: cannot happen for a proper prior */
        t = lo + trunc_exp(r, g, width);
    } else if (g < 0.0) {
        if (isinf(hi)) return; /* improper, as above */
        t = hi - trunc_exp(r, -g, width);
    } else {
        if (!isfinite(width)) return;
        t = lo + ovica_rng_uniform(r) * width;
    }
    if (t < lo) t = lo;
    if (t > hi) t = hi;
    for (size_t i = 0; i < n; i++) {
        double v = s[i] + t * d[i];
        s[i] = v > 0.0 ? v : 0.0;
    }
}

/* Hit-and-run step along d for the Laplace prior: log p(t) =
 * -sum_i w_i |t - t_i| + const with t_i = -s_i/d_i, w_i = |d_i|/b; piecewise
 * linear between the sorted breakpoints. f (n) and lm (n + 1) are scratch. */
static void null_move_laplace(ovica_rng *r, double *s, const double *d, size_t n,
                              double inv_b, breakpoint *bp, double *f, double *lm)
{
    size_t K = 0;
    double G = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (d[i] == 0.0) continue;
        double t = -s[i] / d[i];
        if (!isfinite(t)) continue; /* |d_i| negligible: constant over any finite t */
        bp[K].t = t;
        bp[K].w = fabs(d[i]) * inv_b;
        G += bp[K].w;
        K++;
    }
    if (K == 0 || !(G > 0.0)) return;
    sort_breakpoints(bp, K);

    /* f at the breakpoints, and the log-mass of each of the K + 1 segments:
     * segment 0 = (-inf, t_0] (slope G), segment j = [t_{j-1}, t_j] (slope
     * g_j = G - 2 sum_{l<j} w_l), segment K = [t_{K-1}, inf) (slope -G). */
    double f0 = 0.0;
    for (size_t l = 0; l < K; l++) f0 -= bp[l].w * fabs(bp[0].t - bp[l].t);
    f[0] = f0;
    double logG = log(G), g = G;
    lm[0] = f0 - logG;
    for (size_t j = 1; j < K; j++) {
        g -= 2.0 * bp[j - 1].w;
        double len = bp[j].t - bp[j - 1].t;
        f[j] = f[j - 1] + g * len;
        lm[j] = segment_log_mass(f[j - 1], f[j], g, len);
    }
    lm[K] = f[K - 1] - logG;

    double top = -INFINITY;
    for (size_t j = 0; j <= K; j++)
        if (lm[j] > top) top = lm[j];
    double total = 0.0;
    for (size_t j = 0; j <= K; j++) {
        lm[j] = exp(lm[j] - top); /* now the segment's relative mass */
        total += lm[j];
    }
    double u = ovica_rng_uniform(r) * total, cum = 0.0;
    size_t seg = K;
    for (size_t j = 0; j <= K; j++) {
        cum += lm[j];
        if (u < cum && lm[j] > 0.0) {
            seg = j;
            break;
        }
    }

    double t;
    if (seg == 0) {
        t = bp[0].t - trunc_exp(r, G, INFINITY);
    } else if (seg == K) {
        t = bp[K - 1].t + trunc_exp(r, G, INFINITY);
    } else {
        double a = bp[seg - 1].t, b = bp[seg].t, len = b - a;
        double gs = G;
        for (size_t l = 0; l < seg; l++) gs -= 2.0 * bp[l].w;
        if (gs > 0.0) t = b - trunc_exp(r, gs, len);
        else if (gs < 0.0) t = a + trunc_exp(r, -gs, len);
        else t = a + ovica_rng_uniform(r) * len;
        if (t < a) t = a;
        if (t > b) t = b;
    }
    for (size_t i = 0; i < n; i++) s[i] += t * d[i];
}

/* ---- the run ---- */

typedef struct {
    size_t N, m, n;
    const double *A, *X;
    double *S;
    double *R;     /* N x m residual X - S A^T */
} batch;

static void refresh_residual(const batch *bt)
{
    memcpy(bt->R, bt->X, bt->N * bt->m * sizeof(double));
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)bt->N, (int)bt->m, (int)bt->n,
                -1.0, bt->S, (int)bt->n, bt->A, (int)bt->n, 1.0, bt->R, (int)bt->m);
}

/* Constants of a Gibbs pass shared by all blocks of chains. */
typedef struct {
    size_t m, n;
    int expo;
    double b, inv_b;
    const double *At, *cn, *tau2, *tau; /* per atom: a_i, ||a_i||^2, tau^2, tau */
    double *q, *delta, *p0;             /* per chain of a block */
    ovica_rng *rng;
} gibbs_ctx;

/* One Gibbs pass over all n coordinates for the nb chains whose residual
 * rows are R (nb x m) and states S (nb x n): per coordinate one dgemv for
 * every chain's a_i^T r, the draws, one rank-1 update of R, and (when bnd is
 * not NULL) the boundary term's row i. */
static void gibbs_block(const gibbs_ctx *g, double *R, double *S, size_t nb, double *bnd)
{
    const size_t m = g->m, n = g->n;
    const double b = g->b, inv_b = g->inv_b;
    double *q = g->q, *delta = g->delta, *p0 = g->p0;
    ovica_rng *rng = g->rng;
    for (size_t i = 0; i < n; i++) {
        const double *ai = g->At + i * m;
        double *Si = S + i;
        const double ti = g->tau[i], t2 = g->tau2[i];
        const double ic = g->cn[i] > 0.0 ? 1.0 / g->cn[i] : 0.0;
        const int flat = isinf(t2);
        if (!flat)
            cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)nb, (int)m, 1.0, R, (int)m, ai, 1,
                        0.0, q, 1);
        for (size_t kk = 0; kk < nb; kk++) {
            double so = Si[kk * n], sn, mu0 = flat ? 0.0 : so + q[kk] * ic;
            if (flat || !isfinite(mu0)) {
                sn = g->expo ? ovica_rng_exponential(rng, b) : ovica_rng_laplace(rng, b);
                p0[kk] = inv_b;
            } else if (g->expo) {
                double mu = mu0 - t2 * inv_b, a = mu / ti;
                double z = ovica_rng_truncated_normal(rng, -a, INFINITY);
                sn = mu + ti * z;
                if (sn < 0.0) sn = 0.0;
                if (bnd != NULL) /* phi(a) / (tau Phi(a)), in the log domain */
                    p0[kk] = exp(-0.5 * a * a - LOG_SQRT2PI - ovica__log_ndtr(a)) / ti;
            } else {
                /* log(w+/w-) = -2 mu0/b + log Phi(mu+/tau) - log Phi(-mu-/tau):
                 * the quadratic terms cancel exactly. */
                double mp = mu0 - t2 * inv_b, mm = mu0 + t2 * inv_b;
                double lodds = -2.0 * mu0 * inv_b + ovica__log_ndtr(mp / ti) -
                               ovica__log_ndtr(-mm / ti);
                double u = ovica_rng_uniform(rng);
                int plus = lodds >= 0.0 ? !(u < 1.0 / (1.0 + exp(lodds)))
                                        : (u < 1.0 / (1.0 + exp(-lodds)));
                if (plus) {
                    double z = ovica_rng_truncated_normal(rng, -mp / ti, INFINITY);
                    sn = mp + ti * z;
                    if (sn < 0.0) sn = 0.0;
                } else {
                    double z = ovica_rng_truncated_normal(rng, -INFINITY, -mm / ti);
                    sn = mm + ti * z;
                    if (sn > 0.0) sn = 0.0;
                }
            }
            delta[kk] = sn - so;
            Si[kk * n] = sn;
        }
        if (g->cn[i] > 0.0)
            cblas_dger(CblasRowMajor, (int)nb, (int)m, -1.0, delta, 1, ai, 1, R, (int)m);
        if (bnd != NULL) {
            /* bnd[i][j] += sum_k p_i(0 | s_-i, x_k) s_kj, j != i */
            double keep = bnd[i * n + i];
            cblas_dgemv(CblasRowMajor, CblasTrans, (int)nb, (int)n, 1.0, S, (int)n, p0, 1, 1.0,
                        bnd + i * n, 1);
            bnd[i * n + i] = keep;
        }
    }
}

/* Orthonormal basis of the numerical null space of A, as the rows of
 * V2t (k x n, k returned in *k_out), via the SVD of a copy of A. */
static int null_space(const double *A, size_t m, size_t n, double *Acp, double *sv,
                      double *superb, double *Vt, size_t *k_out)
{
    size_t mn = m < n ? m : n;
    memcpy(Acp, A, m * n * sizeof(double));
    lapack_int info = LAPACKE_dgesvd(LAPACK_ROW_MAJOR, 'N', 'A', (lapack_int)m, (lapack_int)n,
                                     Acp, (lapack_int)n, sv, NULL, 1, Vt, (lapack_int)n, superb);
    if (info == LAPACK_WORK_MEMORY_ERROR || info == LAPACK_TRANSPOSE_MEMORY_ERROR)
        return ovica__error(OVICA_ENOMEM, "ovica_sampler_run: the SVD of A ran out of memory");
    if (info != 0)
        return ovica__error(OVICA_ENUMERIC, "ovica_sampler_run: the SVD of A failed (LAPACK info %d)",
                            (int)info);
    double tol = (double)(m > n ? m : n) * DBL_EPSILON * sv[0];
    size_t rank = 0;
    while (rank < mn && sv[rank] > tol) rank++;
    *k_out = n - rank; /* rows rank..n-1 of Vt span the null space */
    return OVICA_OK;
}

int ovica_sampler_run(ovica_sampler *s, const ovica_model *model, double sigma_t,
                      const double *X, size_t N, size_t x_dim, double *S, size_t s_dim,
                      size_t sweeps, ovica_posterior_accum *acc)
{
    static const char fn[] = "ovica_sampler_run";
    OVICA__CHECK_NULL(s, "s");
    int st = ovica__check_batch(fn, model, X, N, x_dim, S, s_dim);
    if (st) return st;
    if (isnan(sigma_t) || isinf(sigma_t))
        return ovica__error(OVICA_ENONFINITE, "%s: sigma_t is %g", fn, sigma_t);
    if (!(sigma_t >= 1e-150 && sigma_t <= 1e150))
        return ovica__error(OVICA_EINVAL, "%s: sigma_t must lie in [1e-150, 1e150] (got %g)", fn,
                            sigma_t);
    if (acc != NULL && ovica__check_version(fn, "acc", acc->version,
                                            OVICA_POSTERIOR_ACCUM_VERSION) != OVICA_OK)
        return OVICA_EVERSION;
    const ovica_prior *prior = model->prior;
    if (prior->kind != OVICA_PRIOR_LAPLACE && prior->kind != OVICA_PRIOR_EXPONENTIAL)
        return ovica__error(OVICA_ENOTSUP, "%s: prior '%s' has no conditional sampler "
                            "(only the built-in Laplace and exponential priors do)", fn,
                            prior->name);
    const size_t m = model->m, n = model->n, Nn = N * n;
    st = ovica__check_finite(S, Nn, n, "S");
    if (st) return st;
    const int expo = prior->kind == OVICA_PRIOR_EXPONENTIAL;
    const double b = prior->b, inv_b = 1.0 / b, sigma2 = sigma_t * sigma_t;
    const size_t moves = (size_t)s->param[OVICA_SAMPLER_NULL_MOVES];
    const size_t refresh = (size_t)s->param[OVICA_SAMPLER_REFRESH];

    /* Work memory: At (n m), c, tau2, tau (3n), R (N m), q, delta, p (3N),
     * Vt (n n), Acp (m n), sv, superb (2n), W, D (2 N n), f, lm (2n + 1),
     * sym (n n). */
    size_t len = 0;
    if (add_sizes(&len, n, m) || add_sizes(&len, 3, n) || add_sizes(&len, N, m) ||
        add_sizes(&len, 3, N) || add_sizes(&len, n, n) || add_sizes(&len, m, n) ||
        add_sizes(&len, 2, n) || add_sizes(&len, 2, Nn) || add_sizes(&len, 2, n) ||
        add_sizes(&len, 1, 1) || add_sizes(&len, n, n))
        return ovica__error(OVICA_ENOMEM, "%s: batch too large (N = %zu, n = %zu)", fn, N, n);
    st = ensure_work(s, len, n);
    if (st) return st;
    double *At = s->work, *cn = At + n * m, *tau2 = cn + n, *tau = tau2 + n;
    double *R = tau + n, *q = R + N * m, *delta = q + N, *p0 = delta + N;
    double *Vt = p0 + N, *Acp = Vt + n * n, *sv = Acp + m * n, *superb = sv + n;
    double *W = superb + n, *D = W + Nn, *fv = D + Nn, *lm = fv + n, *sym = lm + n + 1;

    /* Per-atom constants; an atom whose squared norm is 0 (or so small that
     * tau^2 overflows) has a flat likelihood: its conditional is the prior. */
    for (size_t i = 0; i < n; i++) {
        double c = 0.0;
        for (size_t r = 0; r < m; r++) {
            double a = model->A[r * n + i];
            At[i * m + r] = a;
            c += a * a;
        }
        if (!isfinite(c))
            return ovica__error(OVICA_EINVAL, "%s: atom %zu's squared norm overflows", fn, i);
        cn[i] = c;
        tau2[i] = c > 0.0 ? sigma2 / c : INFINITY;
        if (tau2[i] == 0.0)
            return ovica__error(OVICA_EINVAL, "%s: sigma_t = %g is too small for atom %zu "
                                "(norm^2 %g): tau^2 underflows", fn, sigma_t, i, c);
        tau[i] = sqrt(tau2[i]);
    }

    size_t k = 0;
    if (moves > 0 && sweeps > 0) {
        st = null_space(model->A, m, n, Acp, sv, superb, Vt, &k);
        if (st) return st;
    }
    const double *V2t = Vt + (n - k) * n; /* k x n */

    /* From here on nothing fails: project the start onto the domain. */
    if (expo)
        for (size_t j = 0; j < Nn; j++)
            if (S[j] < 0.0) S[j] = 0.0;
    batch bt = {N, m, n, model->A, X, S, R};
    ovica_rng *rng = s->rng;
    double *bnd = (acc != NULL && expo) ? acc->bnd : NULL;
    gibbs_ctx gc = {m, n, expo, b, inv_b, At, cn, tau2, tau, q, delta, p0, rng};
    /* Chains per block of the Gibbs pass: about 256 KiB of R and S rows. */
    size_t blk = 32768 / (m + n);
    if (blk < 64) blk = 64;

    for (size_t sw = 0; sw < sweeps; sw++) {
        if (sw % refresh == 0) refresh_residual(&bt);

        /* Gibbs pass over the coordinates, a block of chains at a time (the
         * block's rows of R and S stay in cache across the n coordinates). */
        for (size_t k0 = 0; k0 < N; k0 += blk) {
            size_t nb = N - k0 < blk ? N - k0 : blk;
            gibbs_block(&gc, R + k0 * m, S + k0 * n, nb, bnd);
        }

        /* Hit-and-run moves in the null space: D = W V2^T for all chains. */
        if (k > 0) {
            for (size_t mv = 0; mv < moves; mv++) {
                ovica_rng_fill_normal(rng, W, N * k);
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)N, (int)n, (int)k,
                            1.0, W, (int)k, V2t, (int)n, 0.0, D, (int)n);
                for (size_t kk = 0; kk < N; kk++) {
                    if (expo)
                        null_move_exponential(rng, S + kk * n, D + kk * n, n, inv_b);
                    else
                        null_move_laplace(rng, S + kk * n, D + kk * n, n, inv_b, s->bp, fv, lm);
                }
            }
        }

        /* Accumulate this sweep's draws. */
        if (acc != NULL) {
            if (acc->ss != NULL) {
                cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)n, (int)N, 1.0, S,
                            (int)n, 0.0, sym, (int)n);
                for (size_t i = 0; i < n; i++)
                    for (size_t j = 0; j < n; j++)
                        acc->ss[i * n + j] += i <= j ? sym[i * n + j] : sym[j * n + i];
            }
            if (acc->xs != NULL)
                cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)m, (int)n, (int)N, 1.0,
                            X, (int)m, S, (int)n, 1.0, acc->xs, (int)n);
            if (acc->zs != NULL) {
                if (expo) {
                    /* z = -1/b everywhere: zs[i][j] -= sum_k s_kj / b */
                    for (size_t j = 0; j < n; j++) sym[j] = 0.0;
                    for (size_t kk = 0; kk < N; kk++)
                        for (size_t j = 0; j < n; j++) sym[j] += S[kk * n + j];
                    for (size_t i = 0; i < n; i++)
                        for (size_t j = 0; j < n; j++) acc->zs[i * n + j] -= sym[j] * inv_b;
                } else {
                    for (size_t j = 0; j < Nn; j++)
                        D[j] = S[j] > 0.0 ? -inv_b : (S[j] < 0.0 ? inv_b : 0.0);
                    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)n, (int)n, (int)N,
                                1.0, D, (int)n, S, (int)n, 1.0, acc->zs, (int)n);
                }
            }
            acc->draws += (double)N;
        }
    }

    for (size_t j = 0; j < Nn; j++)
        if (!isfinite(S[j]))
            return ovica__error(OVICA_ENUMERIC, "%s: a draw is not finite (row %zu, column %zu)",
                                fn, j / n, j % n);
    if (acc != NULL) {
        /* draws can be finite and their products still overflow (extreme
         * scales): never hand back accumulators that silently hold Inf/NaN */
        const double *arrs[4] = {acc->zs, acc->ss, acc->xs, acc->bnd};
        const size_t lens[4] = {n * n, n * n, m * n, n * n};
        static const char *const names[4] = {"zs", "ss", "xs", "bnd"};
        for (int q = 0; q < 4; q++)
            if (arrs[q] != NULL)
                for (size_t j = 0; j < lens[q]; j++)
                    if (!isfinite(arrs[q][j]))
                        return ovica__error(OVICA_ENUMERIC,
                                            "%s: accumulator %s overflowed (entry %zu is %g); "
                                            "the data or the prior's scale are too extreme",
                                            fn, names[q], j, arrs[q][j]);
    }
    return OVICA_OK;
}

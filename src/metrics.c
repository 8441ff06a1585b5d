/*
 * Recovery metrics: optimal matching of learned to true atoms (Hungarian
 * method on the similarity matrix), per-atom angles, MMCS, recovered and
 * dead atoms.
 */
#include <limits.h>
#include <math.h>
#include <string.h>

#include <cblas.h>

#include "internal.h"
#include "ovica/metrics.h"

#define RAD2DEG (180.0 / OVICA__PI)

/* Everything one evaluation needs, carved out of two allocations. */
typedef struct {
    size_t m, nt, nl;     /* dimension, true atoms, learned atoms */
    size_t rows, cols;    /* assignment problem, rows <= cols */
    int transposed;       /* 0: rows are true atoms; 1: rows are learned atoms */
    int use_sign;
    double *ut;           /* m x nt, unit columns of A_true (zero columns stay zero) */
    double *ul;           /* m x nl, unit columns of A_learned */
    double *nzt, *nzl;    /* 1.0 where the column is non-zero, else 0.0 */
    double *sim;          /* nt x nl, cosines clamped to [-1, 1] */
    double *u, *v, *minv; /* Hungarian potentials (rows+1, cols+1) and slack (cols+1) */
    double *angle;        /* nt */
    size_t *p, *way;      /* Hungarian column -> row (1-based, 0 = free), path (cols+1) */
    size_t *used;         /* cols+1 flags */
    size_t *row_to_col;   /* rows */
    size_t *assign;       /* nt */
    double *dblock;
    size_t *zblock;
} work;

/* a + b without overflow, accumulated into *acc; returns -1 on overflow. */
static int acc_add(size_t *acc, size_t a)
{
    if (*acc > SIZE_MAX - a) return -1;
    *acc += a;
    return 0;
}

static int acc_mul_add(size_t *acc, size_t a, size_t b)
{
    size_t p;
    if (ovica__mul_size(a, b, &p) != 0) return -1;
    return acc_add(acc, p);
}

static int check_bases(const char *fn, const double *A_learned, size_t m, size_t n_learned,
                       const double *A_true, size_t n_true)
{
    size_t len;
    if (A_learned == NULL) return ovica__error(OVICA_EINVAL, "%s: A_learned is NULL", fn);
    if (A_true == NULL) return ovica__error(OVICA_EINVAL, "%s: A_true is NULL", fn);
    if (m == 0 || n_learned == 0 || n_true == 0)
        return ovica__error(OVICA_EINVAL, "%s: sizes must be > 0 (m = %zu, n_learned = %zu, "
                            "n_true = %zu)", fn, m, n_learned, n_true);
    if (m > INT_MAX || n_learned > INT_MAX || n_true > INT_MAX)
        return ovica__error(OVICA_ESIZE, "%s: a size exceeds the BLAS integer range (m = %zu, "
                            "n_learned = %zu, n_true = %zu)", fn, m, n_learned, n_true);
    if (ovica__mul_size(m, n_learned, &len) != 0)
        return ovica__error(OVICA_ESIZE, "%s: m * n_learned overflows", fn);
    int st = ovica__check_finite(A_learned, len, n_learned, "A_learned");
    if (st != OVICA_OK) return st;
    if (ovica__mul_size(m, n_true, &len) != 0)
        return ovica__error(OVICA_ESIZE, "%s: m * n_true overflows", fn);
    return ovica__check_finite(A_true, len, n_true, "A_true");
}

static void work_free(work *w)
{
    ovica__free(w->dblock);
    ovica__free(w->zblock);
}

static int work_alloc(work *w, const char *fn, size_t m, size_t nl, size_t nt, int use_sign)
{
    memset(w, 0, sizeof *w);
    w->m = m;
    w->nt = nt;
    w->nl = nl;
    w->use_sign = use_sign;
    w->transposed = nt > nl;
    w->rows = w->transposed ? nl : nt;
    w->cols = w->transposed ? nt : nl;

    size_t nd = 0, nz = 0, bytes;
    if (acc_mul_add(&nd, m, nt) || acc_mul_add(&nd, m, nl) || acc_mul_add(&nd, nt, nl) ||
        acc_add(&nd, nt) || acc_add(&nd, nl) || acc_add(&nd, w->rows + 1) ||
        acc_mul_add(&nd, 2, w->cols + 1) || acc_add(&nd, nt) ||
        acc_mul_add(&nz, 3, w->cols + 1) || acc_add(&nz, w->rows) || acc_add(&nz, nt) ||
        ovica__mul_size(nd, sizeof(double), &bytes) != 0 ||
        ovica__mul_size(nz, sizeof(size_t), &bytes) != 0)
        return ovica__error(OVICA_ESIZE, "%s: workspace size overflows", fn);

    w->dblock = ovica__alloc_doubles(nd, "the matching workspace");
    if (w->dblock == NULL) return OVICA_ENOMEM;
    w->zblock = ovica__malloc(nz * sizeof(size_t));
    if (w->zblock == NULL) {
        ovica__free(w->dblock);
        w->dblock = NULL;
        return ovica__error(OVICA_ENOMEM, "%s: cannot allocate %zu indices", fn, nz);
    }
    double *d = w->dblock;
    w->ut = d; d += m * nt;
    w->ul = d; d += m * nl;
    w->sim = d; d += nt * nl;
    w->nzt = d; d += nt;
    w->nzl = d; d += nl;
    w->u = d; d += w->rows + 1;
    w->v = d; d += w->cols + 1;
    w->minv = d; d += w->cols + 1;
    w->angle = d;
    size_t *z = w->zblock;
    w->p = z; z += w->cols + 1;
    w->way = z; z += w->cols + 1;
    w->used = z; z += w->cols + 1;
    w->row_to_col = z; z += w->rows;
    w->assign = z;
    return OVICA_OK;
}

/* Copies the columns of A (m x n) to U scaled to unit length; a zero column
 * stays zero and gets nz[i] = 0. Scaling by the largest entry first keeps
 * the sum of squares from overflowing or underflowing. */
static void normalise_columns(const double *A, size_t m, size_t n, double *U, double *nz)
{
    for (size_t i = 0; i < n; i++) {
        double scale = 0.0;
        for (size_t k = 0; k < m; k++) {
            double a = fabs(A[k * n + i]);
            if (a > scale) scale = a;
        }
        if (scale == 0.0) {
            for (size_t k = 0; k < m; k++) U[k * n + i] = 0.0;
            nz[i] = 0.0;
            continue;
        }
        double ss = 0.0;
        for (size_t k = 0; k < m; k++) {
            double a = A[k * n + i] / scale;
            U[k * n + i] = a;
            ss += a * a;
        }
        double inv = 1.0 / sqrt(ss);
        for (size_t k = 0; k < m; k++) U[k * n + i] *= inv;
        nz[i] = 1.0;
    }
}

/* Similarity of true atom j and learned atom i. */
static inline double simval(const work *w, size_t j, size_t i)
{
    double c = w->sim[j * w->nl + i];
    return w->use_sign ? c : fabs(c);
}

/* Cost of assigning row r to column c (0-based): minus the similarity. */
static inline double cost(const work *w, size_t r, size_t c)
{
    return w->transposed ? -simval(w, c, r) : -simval(w, r, c);
}

/* Minimum-cost assignment of every row to a distinct column (rows <= cols):
 * the shortest-augmenting-path form of the Hungarian method with row and
 * column potentials (Kuhn-Munkres as refined by Jonker & Volgenant), one
 * row added per phase, O(rows^2 cols) in all. Arrays are 1-based with index 0
 * as the virtual source column. */
static int hungarian(work *w)
{
    const size_t R = w->rows, C = w->cols;
    double *u = w->u, *v = w->v, *minv = w->minv;
    size_t *p = w->p, *way = w->way, *used = w->used;

    for (size_t i = 0; i <= R; i++) u[i] = 0.0;
    for (size_t j = 0; j <= C; j++) {
        v[j] = 0.0;
        p[j] = 0;
        way[j] = 0;
    }
    for (size_t i = 1; i <= R; i++) {
        p[0] = i;
        size_t j0 = 0;
        for (size_t j = 0; j <= C; j++) {
            minv[j] = INFINITY;
            used[j] = 0;
        }
        do {
            used[j0] = 1;
            size_t i0 = p[j0], j1 = 0;
            double delta = INFINITY;
            for (size_t j = 1; j <= C; j++) {
                if (used[j]) continue;
                double cur = cost(w, i0 - 1, j - 1) - u[i0] - v[j];
                if (cur < minv[j]) {
                    minv[j] = cur;
                    way[j] = j0;
                }
                if (minv[j] < delta) {
                    delta = minv[j];
                    j1 = j;
                }
            }
            if (j1 == 0) /* cannot happen with finite costs and rows <= cols */
                return ovica__error(OVICA_ENUMERIC, "atom matching: assignment failed");
            for (size_t j = 0; j <= C; j++) {
                if (used[j]) {
                    u[p[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
        } while (p[j0] != 0);
        do { /* augment along the path back to the source */
            size_t j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
        } while (j0 != 0);
    }
    for (size_t j = 1; j <= C; j++)
        if (p[j] != 0) w->row_to_col[p[j] - 1] = j - 1;
    return OVICA_OK;
}

/* Angle (degrees) between unit true atom j and unit learned atom i, with the
 * learned atom's sign flipped when signs are ignored and cos < 0. */
static double pair_angle(const work *w, size_t j, size_t i)
{
    if (w->nzt[j] == 0.0 || w->nzl[i] == 0.0) return 90.0;
    double f = (!w->use_sign && w->sim[j * w->nl + i] < 0.0) ? -1.0 : 1.0;
    double d2 = 0.0, s2 = 0.0;
    for (size_t k = 0; k < w->m; k++) {
        double t = w->ut[k * w->nt + j], l = f * w->ul[k * w->nl + i];
        d2 += (t - l) * (t - l);
        s2 += (t + l) * (t + l);
    }
    double a = 2.0 * atan2(sqrt(d2), sqrt(s2)) * RAD2DEG;
    if (!w->use_sign && a > 90.0) a = 90.0;
    return a;
}

/* Normalise, form similarities, assign, and fill w->assign / w->angle. */
static int match(work *w, const double *A_learned, const double *A_true)
{
    const size_t m = w->m, nt = w->nt, nl = w->nl;
    normalise_columns(A_true, m, nt, w->ut, w->nzt);
    normalise_columns(A_learned, m, nl, w->ul, w->nzl);
    /* sim (nt x nl) = Ut^T (nt x m) * Ul (m x nl) */
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)nt, (int)nl, (int)m, 1.0, w->ut,
                (int)nt, w->ul, (int)nl, 0.0, w->sim, (int)nl);
    for (size_t k = 0; k < nt * nl; k++) {
        double c = w->sim[k];
        w->sim[k] = c > 1.0 ? 1.0 : (c < -1.0 ? -1.0 : c);
    }
    int st = hungarian(w);
    if (st != OVICA_OK) return st;

    if (!w->transposed) {
        for (size_t j = 0; j < nt; j++) w->assign[j] = w->row_to_col[j];
    } else {
        for (size_t j = 0; j < nt; j++) w->assign[j] = SIZE_MAX;
        for (size_t i = 0; i < nl; i++) w->assign[w->row_to_col[i]] = i;
    }
    const double worst = w->use_sign ? 180.0 : 90.0;
    for (size_t j = 0; j < nt; j++)
        w->angle[j] = w->assign[j] == SIZE_MAX ? worst : pair_angle(w, j, w->assign[j]);
    return OVICA_OK;
}

int ovica_atoms_match(const double *A_learned, size_t m, size_t n_learned, const double *A_true,
                      size_t n_true, int use_sign, size_t *assign, double *angle_deg)
{
    int st = check_bases(__func__, A_learned, m, n_learned, A_true, n_true);
    if (st != OVICA_OK) return st;
    work w;
    st = work_alloc(&w, __func__, m, n_learned, n_true, use_sign != 0);
    if (st != OVICA_OK) return st;
    st = match(&w, A_learned, A_true);
    if (st == OVICA_OK) {
        if (assign != NULL) memcpy(assign, w.assign, n_true * sizeof *assign);
        if (angle_deg != NULL) memcpy(angle_deg, w.angle, n_true * sizeof *angle_deg);
    }
    work_free(&w);
    return st;
}

int ovica_recovery_eval(const double *A_learned, size_t m, size_t n_learned,
                        const double *A_true, size_t n_true, int use_sign, double threshold_deg,
                        const double *S, size_t N, ovica_recovery *out)
{
    OVICA__CHECK_NULL(out, "out");
    int st = ovica__check_version(__func__, "out (initialise with OVICA_RECOVERY_INIT)",
                                  out->version, OVICA_RECOVERY_VERSION);
    if (st != OVICA_OK) return st;
    st = check_bases(__func__, A_learned, m, n_learned, A_true, n_true);
    if (st != OVICA_OK) return st;
    if (isnan(threshold_deg) || isinf(threshold_deg))
        return ovica__error(OVICA_ENONFINITE, "%s: threshold_deg is %g", __func__, threshold_deg);
    if (threshold_deg < 0.0)
        return ovica__error(OVICA_EINVAL, "%s: threshold_deg must be >= 0 (got %g)", __func__,
                            threshold_deg);
    if (S != NULL) {
        size_t len;
        if (N == 0)
            return ovica__error(OVICA_EINVAL, "%s: N must be > 0 when S is given", __func__);
        if (ovica__mul_size(N, n_learned, &len) != 0)
            return ovica__error(OVICA_ESIZE, "%s: N * n_learned overflows", __func__);
    }

    work w;
    st = work_alloc(&w, __func__, m, n_learned, n_true, use_sign != 0);
    if (st != OVICA_OK) return st;
    st = match(&w, A_learned, A_true);
    if (st != OVICA_OK) {
        work_free(&w);
        return st;
    }

    ovica_recovery res = *out;
    res.n_true = n_true;
    res.n_learned = n_learned;
    res.max_angle_deg = 0.0;
    res.recovered = 0;
    double sum_angle = 0.0, sum_best = 0.0;
    for (size_t j = 0; j < n_true; j++) {
        double a = w.angle[j];
        if (a > res.max_angle_deg) res.max_angle_deg = a;
        sum_angle += a;
        if (w.assign[j] != SIZE_MAX && a <= threshold_deg) res.recovered++;
        double best = -INFINITY;
        for (size_t i = 0; i < n_learned; i++) {
            double s = simval(&w, j, i);
            if (s > best) best = s;
        }
        sum_best += best;
    }
    res.mean_angle_deg = sum_angle / (double)n_true;
    res.mmcs = sum_best / (double)n_true;

    res.dead = 0;
    if (S != NULL) {
        /* Columns are strided in S; scan rows once and mark active columns. */
        size_t *active = w.used; /* cols + 1 >= n_learned entries, free now */
        for (size_t i = 0; i < n_learned; i++) active[i] = 0;
        for (size_t k = 0; k < N; k++) {
            const double *row = S + k * n_learned;
            for (size_t i = 0; i < n_learned; i++)
                if (row[i] != 0.0) active[i] = 1;
        }
        for (size_t i = 0; i < n_learned; i++)
            if (!active[i]) res.dead++;
    }
    work_free(&w);
    *out = res;
    return OVICA_OK;
}

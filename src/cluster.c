/* Clustering the atoms of an over-provisioned basis: weighted spherical
 * k-means with k-means++ seeding and restarts, and the choice of k by the
 * held-out log-likelihood of the merged basis. See include/ovica/eval.h. */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "loglik_internal.h"

enum { RESTARTS = 10, MAX_ITER = 100 };

typedef struct {
    size_t m, n, k;
    int use_sign;
    const double *U;   /* n x m: unit atoms as rows (zero rows for zero atoms) */
    const double *w;   /* n weights (0 for zero atoms) */
    const int *valid;  /* n: 1 if the atom is non-zero */
} km_ctx;

/* similarity of unit vectors u, c: cos, or |cos| when signs are ignored */
static double sim(const km_ctx *c, const double *u, const double *v)
{
    double d = 0.0;
    for (size_t j = 0; j < c->m; j++) d += u[j] * v[j];
    return c->use_sign ? d : fabs(d);
}

/* Picks an index with probability proportional to p[i] (sum > 0). */
static size_t pick(ovica_rng *rng, const double *p, size_t n, double sum)
{
    double u = ovica_rng_uniform(rng) * sum, acc = 0.0;
    size_t last = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(p[i] > 0.0)) continue;
        acc += p[i];
        last = i;
        if (u < acc) return i;
    }
    return last;
}

/* Centroids C (k x m, unit rows) from the assignment; an empty cluster
 * keeps C's previous row. Returns the number of empty clusters. */
static size_t centroids(const km_ctx *c, const size_t *asg, double *C, double *acc)
{
    const size_t m = c->m;
    memset(acc, 0, c->k * m * sizeof(double));
    for (size_t i = 0; i < c->n; i++) {
        if (!c->valid[i]) continue;
        const double *u = c->U + i * m;
        double *a = acc + asg[i] * m, sg = 1.0;
        if (!c->use_sign) {
            double d = 0.0;
            for (size_t j = 0; j < m; j++) d += u[j] * C[asg[i] * m + j];
            sg = d < 0.0 ? -1.0 : 1.0;
        }
        for (size_t j = 0; j < m; j++) a[j] += c->w[i] * sg * u[j];
    }
    size_t empty = 0;
    for (size_t q = 0; q < c->k; q++) {
        double *a = acc + q * m, nrm = 0.0;
        for (size_t j = 0; j < m; j++) nrm += a[j] * a[j];
        nrm = sqrt(nrm);
        if (!(nrm > 1e-300)) {
            empty++;
            continue;
        }
        for (size_t j = 0; j < m; j++) C[q * m + j] = a[j] / nrm;
    }
    return empty;
}

/* Assigns each atom to its most similar centroid; returns the weighted
 * cohesion sum_i w_i sim(u_i, c_asg(i)) and whether anything changed. */
static double assign_all(const km_ctx *c, const double *C, size_t *asg, int *changed)
{
    double total = 0.0;
    *changed = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (!c->valid[i]) continue;
        size_t best = 0;
        double bs = -INFINITY;
        for (size_t q = 0; q < c->k; q++) {
            double s = sim(c, c->U + i * c->m, C + q * c->m);
            if (s > bs) {
                bs = s;
                best = q;
            }
        }
        if (asg[i] != best) *changed = 1;
        asg[i] = best;
        total += c->w[i] * bs;
    }
    return total;
}

/* One k-means run from a k-means++ seeding; result in C, asg. */
static double kmeans_run(const km_ctx *c, ovica_rng *rng, double *C, size_t *asg, double *dist,
                         double *acc)
{
    const size_t m = c->m, n = c->n, k = c->k;
    double wsum = 0.0;
    for (size_t i = 0; i < n; i++) wsum += c->w[i];
    /* seeding: first centre by weight, then by weight * (1 - sim to the
     * nearest centre); atoms with zero weight are never chosen unless all
     * candidates with weight are used up, then any valid atom */
    size_t first = pick(rng, c->w, n, wsum);
    memcpy(C, c->U + first * m, m * sizeof(double));
    for (size_t i = 0; i < n; i++)
        dist[i] = c->valid[i] ? c->w[i] * (1.0 - sim(c, c->U + i * m, C)) : 0.0;
    for (size_t q = 1; q < k; q++) {
        double sum = 0.0;
        for (size_t i = 0; i < n; i++) sum += dist[i] > 0.0 ? dist[i] : 0.0;
        size_t idx = 0;
        if (sum > 0.0) {
            idx = pick(rng, dist, n, sum);
        } else { /* every weighted atom coincides with a centre: any valid atom */
            size_t cnt = 0;
            for (size_t i = 0; i < n; i++) cnt += (size_t)c->valid[i];
            size_t r = (size_t)(ovica_rng_uniform(rng) * (double)cnt);
            for (size_t i = 0; i < n; i++)
                if (c->valid[i] && r-- == 0) {
                    idx = i;
                    break;
                }
        }
        memcpy(C + q * m, c->U + idx * m, m * sizeof(double));
        for (size_t i = 0; i < n; i++) {
            if (!c->valid[i]) continue;
            double d = c->w[i] * (1.0 - sim(c, c->U + i * m, C + q * m));
            if (d < dist[i]) dist[i] = d;
        }
    }
    for (size_t i = 0; i < n; i++) asg[i] = SIZE_MAX;
    double obj = 0.0;
    int changed = 1;
    for (int it = 0; it < MAX_ITER && changed; it++) {
        obj = assign_all(c, C, asg, &changed);
        if (!changed && it > 0) break;
        size_t empty = centroids(c, asg, C, acc);
        if (empty > 0) {
            /* re-seed each empty cluster with the worst-fitting weighted atom */
            for (size_t q = 0; q < k; q++) {
                int used = 0;
                for (size_t i = 0; i < n && !used; i++) used = c->valid[i] && asg[i] == q;
                if (used) continue;
                size_t worst = SIZE_MAX;
                double wv = -1.0;
                for (size_t i = 0; i < n; i++) {
                    if (!c->valid[i]) continue;
                    double v = c->w[i] * (1.0 - sim(c, c->U + i * m, C + asg[i] * m));
                    if (v > wv) {
                        wv = v;
                        worst = i;
                    }
                }
                if (worst != SIZE_MAX) {
                    memcpy(C + q * m, c->U + worst * m, m * sizeof(double));
                    asg[worst] = q;
                }
            }
            changed = 1;
        }
    }
    return obj;
}

/* Validation shared by the public entry points. */
static int check_basis(const char *fn, const double *A, size_t m, size_t n,
                       const double *weights)
{
    if (A == NULL) return ovica__error(OVICA_EINVAL, "%s: A is NULL", fn);
    if (m == 0 || n == 0)
        return ovica__error(OVICA_EINVAL, "%s: sizes must be >= 1 (m = %zu, n = %zu)", fn, m, n);
    size_t mn;
    if (ovica__mul_size(m, n, &mn) || mn > SIZE_MAX / (4 * sizeof(double)))
        return ovica__error(OVICA_ESIZE, "%s: basis too large (%zu x %zu)", fn, m, n);
    int st = ovica__check_finite(A, mn, n, "A");
    if (st) return st;
    if (weights != NULL) {
        st = ovica__check_finite(weights, n, 1, "weights");
        if (st) return st;
        for (size_t i = 0; i < n; i++)
            if (weights[i] < 0.0)
                return ovica__error(OVICA_EINVAL, "%s: weights[%zu] = %g is negative", fn, i,
                                    weights[i]);
    }
    return OVICA_OK;
}

int ovica_atoms_cluster(const double *A, size_t m, size_t n, const double *weights, size_t k,
                        int use_sign, uint64_t seed, double *merged, size_t *assign)
{
    int st = check_basis(__func__, A, m, n, weights);
    if (st) return st;
    OVICA__CHECK_NULL(merged, "merged");
    OVICA__CHECK_NULL(assign, "assign");
    if (k == 0 || k > n)
        return ovica__error(OVICA_EINVAL, "%s: k must lie in [1, n = %zu] (got %zu)", __func__,
                            n, k);

    /* work: U (n m), w (n), C and best C (k m each), acc (k m), dist (n),
     * asg and best asg (n each) plus order and rank (k each), as size_t;
     * valid (n, as int) */
    size_t len = n * m + 2 * n + 3 * k * m;
    double *work = ovica__alloc_doubles(len, "the clustering's work memory");
    size_t *asg = ovica__malloc((2 * n + 2 * k) * sizeof(size_t));
    int *valid = ovica__malloc(n * sizeof(int));
    ovica_rng *rng = NULL;
    if (work == NULL || asg == NULL || valid == NULL) {
        st = ovica__error(OVICA_ENOMEM, "%s: cannot allocate work memory", __func__);
        goto out;
    }
    st = ovica_rng_new(&rng, seed);
    if (st) goto out;
    double *U = work, *w = U + n * m, *C = w + n, *Cbest = C + k * m, *acc = Cbest + k * m;
    double *dist = acc + k * m;
    size_t *best_asg = asg + n;

    size_t n_valid = 0;
    double wsum = 0.0;
    for (size_t i = 0; i < n; i++) {
        double nrm = 0.0;
        for (size_t j = 0; j < m; j++) nrm += A[j * n + i] * A[j * n + i];
        nrm = sqrt(nrm);
        valid[i] = nrm > 0.0;
        for (size_t j = 0; j < m; j++) U[i * m + j] = valid[i] ? A[j * n + i] / nrm : 0.0;
        w[i] = valid[i] ? (weights ? weights[i] : 1.0) : 0.0;
        n_valid += (size_t)valid[i];
        wsum += w[i];
    }
    if (n_valid < k) {
        st = ovica__error(OVICA_EINVAL, "%s: only %zu non-zero atoms for k = %zu clusters",
                          __func__, n_valid, k);
        goto out;
    }
    if (!(wsum > 0.0) || !isfinite(wsum)) {
        st = ovica__error(OVICA_EINVAL, "%s: the weights of the non-zero atoms sum to %g",
                          __func__, wsum);
        goto out;
    }
    km_ctx c = {m, n, k, use_sign != 0, U, w, valid};
    double best = -INFINITY;
    for (int r = 0; r < RESTARTS; r++) {
        double obj = kmeans_run(&c, rng, C, asg, dist, acc);
        if (obj > best) {
            best = obj;
            memcpy(Cbest, C, k * m * sizeof(double));
            memcpy(best_asg, asg, n * sizeof(size_t));
        }
    }
    /* order clusters by total weight (descending; ties by lowest member) and
     * orient unsigned centroids so that their largest component is > 0 */
    double *cw = acc; /* k weights */
    size_t *order = asg + 2 * n, *rank = order + k; /* rank[old] = new */
    for (size_t q = 0; q < k; q++) cw[q] = 0.0;
    for (size_t i = 0; i < n; i++)
        if (valid[i]) cw[best_asg[i]] += w[i];
    for (size_t q = 0; q < k; q++) order[q] = q;
    for (size_t a = 1; a < k; a++) /* insertion sort, stable */
        for (size_t b = a; b > 0 && cw[order[b]] > cw[order[b - 1]]; b--) {
            size_t t = order[b];
            order[b] = order[b - 1];
            order[b - 1] = t;
        }
    for (size_t q = 0; q < k; q++) rank[order[q]] = q;
    for (size_t q = 0; q < k; q++) {
        const double *cq = Cbest + order[q] * m;
        double big = 0.0;
        for (size_t j = 0; j < m; j++)
            if (fabs(cq[j]) > fabs(big)) big = cq[j];
        double sg = (!use_sign && big < 0.0) ? -1.0 : 1.0;
        for (size_t j = 0; j < m; j++) merged[j * k + q] = sg * cq[j];
    }
    for (size_t i = 0; i < n; i++) assign[i] = valid[i] ? rank[best_asg[i]] : SIZE_MAX;
    st = OVICA_OK;
out:
    ovica_rng_free(rng);
    ovica__free(work);
    ovica__free(asg);
    ovica__free(valid);
    return st;
}

int ovica_atoms_rescale(const double *A, size_t m, size_t n, const double *weights,
                        const size_t *assign, size_t k, double *merged)
{
    int st = check_basis(__func__, A, m, n, weights);
    if (st) return st;
    OVICA__CHECK_NULL(assign, "assign");
    OVICA__CHECK_NULL(merged, "merged");
    if (k == 0 || k > n)
        return ovica__error(OVICA_EINVAL, "%s: k must lie in [1, n = %zu] (got %zu)", __func__,
                            n, k);
    st = ovica__check_finite(merged, m * k, k, "merged");
    if (st) return st;
    for (size_t i = 0; i < n; i++)
        if (assign[i] != SIZE_MAX && assign[i] >= k)
            return ovica__error(OVICA_EINVAL, "%s: assign[%zu] = %zu is not below k = %zu",
                                __func__, i, assign[i], k);
    for (size_t q = 0; q < k; q++) {
        double num = 0.0, den = 0.0, cn = 0.0;
        for (size_t j = 0; j < m; j++) cn += merged[j * k + q] * merged[j * k + q];
        cn = sqrt(cn);
        if (!(cn > 0.0))
            return ovica__error(OVICA_EINVAL, "%s: merged atom %zu is zero", __func__, q);
        for (size_t i = 0; i < n; i++) {
            if (assign[i] != q) continue;
            double an = 0.0, wi = weights ? weights[i] : 1.0;
            for (size_t j = 0; j < m; j++) an += A[j * n + i] * A[j * n + i];
            num += wi * sqrt(an);
            den += wi;
        }
        /* a cluster without weight keeps the plain mean of its members'
         * norms, or unit length if it has none */
        if (!(den > 0.0)) {
            num = 0.0;
            for (size_t i = 0; i < n; i++) {
                if (assign[i] != q) continue;
                double an = 0.0;
                for (size_t j = 0; j < m; j++) an += A[j * n + i] * A[j * n + i];
                num += sqrt(an);
                den += 1.0;
            }
        }
        double scale = den > 0.0 ? num / den : 1.0;
        for (size_t j = 0; j < m; j++) merged[j * k + q] *= scale / cn;
    }
    return OVICA_OK;
}

int ovica_atoms_choose_k(const ovica_model *model, const double *weights, const double *X, size_t N,
                         size_t x_dim, size_t k_min, size_t k_max, double beta, uint64_t seed,
                         size_t *k_best, double *loglik, double *merged, size_t *assign)
{
    OVICA__CHECK_NULL(model, "model");
    OVICA__CHECK_NULL(k_best, "k_best");
    OVICA__CHECK_NULL(merged, "merged");
    OVICA__CHECK_NULL(assign, "assign");
    int st = ovica__check_batch(__func__, model, X, N, x_dim, X, model->n);
    if (st == OVICA_OK) st = ovica__check_beta(__func__, beta);
    if (st == OVICA_OK) st = check_basis(__func__, model->A, model->m, model->n, weights);
    if (st) return st;
    const size_t m = model->m, n = model->n;
    if (k_min == 0 || k_min > k_max || k_max > n)
        return ovica__error(OVICA_EINVAL, "%s: need 1 <= k_min <= k_max <= n = %zu (got %zu, %zu)",
                            __func__, n, k_min, k_max);
    const int use_sign = model->prior->domain == OVICA_DOMAIN_NONNEG;
    double *cand = ovica__alloc_doubles(m * k_max, "the candidate merged basis");
    size_t *casg = ovica__malloc(n * sizeof(size_t));
    ovica_model *mk = NULL;
    if (cand == NULL || casg == NULL) {
        st = ovica__error(OVICA_ENOMEM, "%s: cannot allocate work memory", __func__);
        goto out;
    }
    double best = -INFINITY;
    size_t kb = 0;
    for (size_t k = k_min; k <= k_max; k++) {
        double ll = NAN;
        st = ovica_atoms_cluster(model->A, m, n, weights, k, use_sign, seed, cand, casg);
        if (st == OVICA_OK) st = ovica_atoms_rescale(model->A, m, n, weights, casg, k, cand);
        if (st == OVICA_OK) st = ovica_model_new(&mk, m, k, model->prior, model->sigma);
        if (st == OVICA_OK) st = ovica_model_set_basis(mk, cand, m, k);
        if (st == OVICA_OK) {
            st = ovica_loglik_laplace(mk, X, N, x_dim, beta, NULL, &ll);
            if (st == OVICA_NOT_CONVERGED) st = OVICA_OK;
        }
        ovica_model_free(mk);
        mk = NULL;
        if (st) goto out;
        if (loglik) loglik[k - k_min] = ll;
        if (ll > best) {
            best = ll;
            kb = k;
            memcpy(merged, cand, m * k * sizeof(double));
            memcpy(assign, casg, n * sizeof(size_t));
        }
    }
    *k_best = kb;
    st = OVICA_OK;
out:
    ovica_model_free(mk);
    ovica__free(cand);
    ovica__free(casg);
    return st;
}

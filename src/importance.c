/* An independent estimate of log P(x|A) by importance sampling, to validate
 * the Laplace approximation (src/loglik.c). See include/ovica/eval.h.
 *
 * Proposal for sample x (s_hat its MAP code), a defensive mixture
 * (Hesterberg 1995):
 *   q(s) = w0 p(s) + sum_j (1 - w0)/J  t_nu(s; s_hat, H_j^{-1}),
 *   H_j = lambda A^T A + diag(c(beta_j)),  beta_j in {0.5, 2, 8, 32} / b,
 * multivariate Student-t components (nu = 5) whose covariances range from
 * wider than to narrower than the posterior along the directions the data do
 * not fix (the null space of A, and inactive coordinates), so that one of
 * them fits whatever the posterior's width is; the prior component bounds
 * the weights: p(s) P(x|s) / q(s) <= max_s P(x|s) / w0.
 * For the non-negative prior, coordinates with s_hat_i = 0 are folded
 * (s_i -> |s_i|: the t component's density becomes the sum over the sign
 * patterns of those coordinates), so that the proposal does not waste half
 * its draws per such coordinate outside the domain; at most FOLD_MAX
 * coordinates are folded (draws outside the domain of the others get weight
 * 0, which is valid, only less efficient).
 * Weights are accumulated in the log domain (running maximum). */
#include <math.h>
#include <string.h>

#include <cblas.h>
#include <lapacke.h>

#include "internal.h"
#include "loglik_internal.h"

#define LOG_2PI 1.83787706640934548356
#define LOG_PI 1.14472988584940017414

enum { N_COMP = 4, FOLD_MAX = 6, BLOCK = 256 };
static const double comp_beta[N_COMP] = {0.5, 2.0, 8.0, 32.0};
static const double W_PRIOR = 0.1;
static const double NU = 5.0;

/* log Gamma(k/2) for an integer k >= 1 (no lgamma: it is not thread-safe). */
static double log_gamma_half(size_t k)
{
    double acc = (k % 2) ? 0.5 * LOG_PI : 0.0; /* Gamma(1/2) or Gamma(1) */
    for (size_t j = (k % 2) ? 1 : 2; j + 2 <= k; j += 2) acc += log(0.5 * (double)j);
    return acc;
}

/* log(exp(a) + exp(b)) */
static double log_add(double a, double b)
{
    if (a == -INFINITY) return b;
    if (b == -INFINITY) return a;
    return a > b ? a + log1p(exp(b - a)) : b + log1p(exp(a - b));
}

/* -log p(s) of the built-in prior for one code (INFINITY outside the domain). */
static double prior_nlp(const ovica_prior *p, const double *s, size_t n)
{
    double acc = 0.0;
    if (p->kind == OVICA_PRIOR_LAPLACE) {
        for (size_t i = 0; i < n; i++) acc += fabs(s[i]);
        return acc / p->b + (double)n * log(2.0 * p->b);
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] < 0.0) return INFINITY;
        acc += s[i];
    }
    return acc / p->b + (double)n * log(p->b);
}

typedef struct {
    size_t m, n;
    double lambda;
    const ovica_prior *prior;
    const double *A;
    const double *Gram;   /* lambda A^T A */
    double *L;            /* N_COMP factors, n x n each (lower, in col-major reading) */
    double t_const[N_COMP]; /* log normaliser of each t component incl. log weight */
    double log_w_prior;
    size_t fold[FOLD_MAX];
    size_t n_fold;
    double *Sd, *R, *Z;   /* BLOCK x n, BLOCK x m, BLOCK x n */
} is_ctx;

/* (s - mu)^T H (s - mu) with H = L L^T (L lower, stored so that
 * L[i + j n] is L(i, j)): ||L^T u||^2. */
static double quad_form(const double *Lj, const double *u, size_t n)
{
    double acc = 0.0;
    for (size_t j = 0; j < n; j++) { /* (L^T u)_j = sum_{i >= j} L(i, j) u_i */
        double v = 0.0;
        for (size_t i = j; i < n; i++) v += Lj[i + j * n] * u[i];
        acc += v * v;
    }
    return acc;
}

/* log q(s) for one draw s (u = s - s_hat scratch of n). */
static double log_proposal(const is_ctx *c, const double *s, const double *shat, double *u)
{
    const size_t n = c->n;
    double lq = -INFINITY;
    double nlp = prior_nlp(c->prior, s, n);
    if (nlp < INFINITY) lq = c->log_w_prior - nlp;
    for (size_t i = 0; i < n; i++) u[i] = s[i] - shat[i];
    const size_t patterns = (size_t)1 << c->n_fold;
    const double e = -0.5 * (NU + (double)n);
    for (int j = 0; j < N_COMP; j++) {
        const double *Lj = c->L + (size_t)j * n * n;
        double lt = -INFINITY;
        for (size_t pat = 0; pat < patterns; pat++) {
            /* folded coordinates have s_hat = 0, so flipping s_i flips u_i */
            for (size_t f = 0; f < c->n_fold; f++) {
                double a = fabs(u[c->fold[f]]);
                u[c->fold[f]] = ((pat >> f) & 1) ? -a : a;
            }
            double d = quad_form(Lj, u, n);
            lt = log_add(lt, e * log1p(d / NU));
        }
        lq = log_add(lq, c->t_const[j] + lt);
    }
    return lq;
}

/* Draws one block of `count` codes into c->Sd. */
static void draw_block(is_ctx *c, ovica_rng *rng, const double *shat, size_t count)
{
    const size_t n = c->n;
    const double cum_t = 1.0 - W_PRIOR;
    for (size_t d = 0; d < count; d++) {
        double *s = c->Sd + d * n;
        double u = ovica_rng_uniform(rng);
        if (u >= cum_t) { /* prior component */
            for (size_t i = 0; i < n; i++)
                s[i] = c->prior->kind == OVICA_PRIOR_LAPLACE
                           ? ovica_rng_laplace(rng, c->prior->b)
                           : ovica_rng_exponential(rng, c->prior->b);
            continue;
        }
        size_t j = (size_t)(u / cum_t * N_COMP);
        if (j >= N_COMP) j = N_COMP - 1;
        const double *Lj = c->L + j * n * n;
        double *z = c->Z + d * n;
        for (size_t i = 0; i < n; i++) z[i] = ovica_rng_normal(rng);
        /* y = L^{-T} z: back substitution with L^T (upper) */
        for (size_t ii = n; ii-- > 0;) {
            double v = z[ii];
            for (size_t k = ii + 1; k < n; k++) v -= Lj[k + ii * n] * z[k];
            z[ii] = v / Lj[ii + ii * n];
        }
        /* chi^2_5 / 5 = (-2 log(u1 u2) + g^2) / 5 */
        double u1 = 1.0 - ovica_rng_uniform(rng), u2 = 1.0 - ovica_rng_uniform(rng);
        double g = ovica_rng_normal(rng);
        double w = (-2.0 * log(u1 * u2) + g * g) / NU;
        double sc = 1.0 / sqrt(w > 1e-300 ? w : 1e-300);
        for (size_t i = 0; i < n; i++) s[i] = shat[i] + sc * z[i];
        for (size_t f = 0; f < c->n_fold; f++) s[c->fold[f]] = fabs(s[c->fold[f]]);
    }
}

int ovica_loglik_importance(const ovica_model *model, const double *X, size_t N, size_t x_dim,
                            size_t draws, uint64_t seed, double *per_sample, double *mean,
                            double *stderr_mean)
{
    int st = ovica__check_batch(__func__, model, X, N, x_dim, X, model ? model->n : 0);
    if (st) return st;
    const ovica_prior *prior = model->prior;
    const size_t m = model->m, n = model->n;
    if (prior->kind == OVICA_PRIOR_USER)
        return ovica__error(OVICA_ENOTSUP,
                            "%s: importance sampling needs a built-in prior (it draws from "
                            "the prior); '%s' is a user prior",
                            __func__, prior->name);
    if (n > OVICA_IMPORTANCE_MAX_ATOMS)
        return ovica__error(OVICA_ENOTSUP, "%s: importance sampling is limited to n <= %d atoms "
                            "(the model has %zu)", __func__, OVICA_IMPORTANCE_MAX_ATOMS, n);
    if (draws < 16)
        return ovica__error(OVICA_EINVAL, "%s: draws must be >= 16 (got %zu)", __func__, draws);
    if (model->norm2 <= 0.0)
        return ovica__error(OVICA_EINVAL, "%s: the basis is all zero; set it first", __func__);

    /* work: S_hat (N n), Gram (n n), factors (N_COMP n n), c (n), u (n),
     * Sd, Z (BLOCK n each), R (BLOCK m) */
    size_t len = N * n + (1 + N_COMP) * n * n + 2 * n + 2 * (size_t)BLOCK * n + (size_t)BLOCK * m;
    double *work = ovica__alloc_doubles(len, "the importance sampler's work memory");
    if (work == NULL) return OVICA_ENOMEM;
    ovica_rng *rng = NULL;
    st = ovica_rng_new(&rng, seed);
    if (st) {
        ovica__free(work);
        return st;
    }
    double *Shat = work, *Gram = Shat + N * n, *L = Gram + n * n, *cdiag = L + N_COMP * n * n;
    double *u = cdiag + n;
    is_ctx c = {m, n, 1.0 / (model->sigma * model->sigma), prior, model->A, Gram, L, {0}, 0.0,
                {0}, 0, u + n, NULL, NULL};
    c.Z = c.Sd + (size_t)BLOCK * n;
    c.R = c.Z + (size_t)BLOCK * n;
    c.log_w_prior = log(W_PRIOR);

    size_t bad = 0;
    st = ovica__map_codes(model, X, N, x_dim, Shat, &bad);
    if (st) goto done;
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)n, (int)n, (int)m, c.lambda,
                model->A, (int)n, model->A, (int)n, 0.0, Gram, (int)n);

    const double t_norm = log_gamma_half((size_t)NU + n) - log_gamma_half((size_t)NU) -
                          0.5 * (double)n * log(NU * 3.14159265358979323846);
    const double log_w_t = log((1.0 - W_PRIOR) / N_COMP);
    const double log_lik_const = 0.5 * (double)m * (log(c.lambda) - LOG_2PI);
    double total = 0.0, var_total = 0.0;
    for (size_t k = 0; k < N && st == OVICA_OK; k++) {
        const double *x = X + k * m, *shat = Shat + k * n;
        /* components for this sample */
        for (int j = 0; j < N_COMP && st == OVICA_OK; j++) {
            double *Lj = L + (size_t)j * n * n, logdet = 0.0;
            st = ovica__hessian_diag(prior, shat, n, comp_beta[j], cdiag);
            if (st) break;
            memcpy(Lj, Gram, n * n * sizeof(double));
            for (size_t i = 0; i < n; i++) Lj[i * n + i] += cdiag[i];
            if (ovica__logdet_spd(Lj, n, &logdet) != 0)
                st = ovica__error(OVICA_ENUMERIC, "%s: proposal covariance not positive "
                                  "definite at sample %zu", __func__, k);
            c.t_const[j] = log_w_t + t_norm + 0.5 * logdet;
        }
        if (st) break;
        c.n_fold = 0;
        if (prior->domain == OVICA_DOMAIN_NONNEG)
            for (size_t i = 0; i < n && c.n_fold < FOLD_MAX; i++)
                if (shat[i] == 0.0) c.fold[c.n_fold++] = i;

        /* log-sum-exp of the log weights with a running maximum: sum1 and
         * sum2 hold sum w and sum w^2 scaled by exp(-mx) and exp(-2 mx). */
        double mx = -INFINITY, sum1 = 0.0, sum2 = 0.0;
        for (size_t done_d = 0; done_d < draws; done_d += BLOCK) {
            size_t cnt = draws - done_d < BLOCK ? draws - done_d : BLOCK;
            draw_block(&c, rng, shat, cnt);
            /* R = x - Sd A^T for the block */
            for (size_t d = 0; d < cnt; d++) memcpy(c.R + d * m, x, m * sizeof(double));
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)cnt, (int)m, (int)n, -1.0,
                        c.Sd, (int)n, model->A, (int)n, 1.0, c.R, (int)m);
            for (size_t d = 0; d < cnt; d++) {
                const double *s = c.Sd + d * n, *r = c.R + d * m;
                double nlp = prior_nlp(prior, s, n);
                if (!(nlp < INFINITY)) continue; /* weight 0 */
                double r2 = 0.0;
                for (size_t i = 0; i < m; i++) r2 += r[i] * r[i];
                double lw = -nlp - 0.5 * c.lambda * r2 + log_lik_const -
                            log_proposal(&c, s, shat, u);
                if (!(lw > -INFINITY)) continue;
                if (lw > mx) {
                    double f = exp(mx - lw);
                    sum1 *= f;
                    sum2 *= f * f;
                    mx = lw;
                }
                double w = exp(lw - mx);
                sum1 += w;
                sum2 += w * w;
            }
        }
        if (!(sum1 > 0.0) || !isfinite(mx)) {
            st = ovica__error(OVICA_ENUMERIC, "%s: every importance weight of sample %zu is 0",
                              __func__, k);
            break;
        }
        double D = (double)draws, wbar = sum1 / D;
        double var = sum2 / D - wbar * wbar;
        if (var < 0.0) var = 0.0;
        double ll = mx + log(wbar);
        /* delta method: var(log wbar) ~= var(w) / (D wbar^2) */
        double v_ll = var / (D * wbar * wbar);
        if (per_sample) per_sample[k] = ll;
        total += ll;
        var_total += v_ll;
    }
done:
    ovica_rng_free(rng);
    ovica__free(work);
    if (st) return st;
    if (mean) *mean = total / (double)N;
    if (stderr_mean) *stderr_mean = sqrt(var_total) / (double)N;
    if (bad > 0) {
        ovica__error(OVICA_NOT_CONVERGED,
                     "%s: the MAP codes (proposal centres) of %zu of %zu samples did not reach "
                     "the tolerance",
                     __func__, bad, N);
        return OVICA_NOT_CONVERGED;
    }
    return OVICA_OK;
}

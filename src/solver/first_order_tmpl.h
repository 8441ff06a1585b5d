/* The first-order iteration in one floating-point type: included twice by
 * src/solver/first_order.c, once with FO_T double (the reference, every
 * prior and both step kinds) and once with FO_T float (the single-precision
 * path of ovica_solver_infer_f32: ISTA and FISTA with a built-in prior).
 * Before each inclusion the includer defines
 *   FO_T        the type (double or float),
 *   FO_NAME(x)  x with the type's suffix (x##_d, x##_f),
 *   FO_GEMM     cblas_dgemm or cblas_sgemm,
 *   FO_FABS, FO_COPYSIGN  fabs/copysign in the type,
 *   FO_SWAP_ROWS  swaps two rows of an array of the type,
 *   FO_LANES    partial sums in the fused pass (one SIMD register: 4, 8),
 *   FO_GENERAL  1 when the non-fused steps (projected gradient, user
 *               priors: double only) are compiled in.
 * Everything here is static; the macros are undefined at the end, so
 * that the next inclusion defines them afresh. */

/* What the iteration reads and writes, set up by the includer. */
typedef struct {
    const ovica_prior *prior;
    size_t N, m, n, Bk;
    int gram;              /* gradient through the Gram matrix */
    int proximal, momentum;
    const FO_T *A;         /* m x n basis */
    FO_T inv_s2;           /* lambda = 1 / sigma^2 */
    FO_T *cur, *nxt, *Y;   /* N x n: iterate, next iterate, momentum point */
    FO_T *Xc;              /* N x m: the active rows' data (moved with them) */
    FO_T *G, *R;           /* Bk x n gradient, Bk x m residual (direct form) */
    FO_T *Gram, *XA;       /* n x n A^T A, N x n X A (Gram form) */
    double *tk;            /* N: FISTA's t per sample; < 0 once converged */
    size_t *perm;          /* N: the sample each active row holds */
    FO_T *S;               /* N x n output, in the caller's order */
    fo_params p;
    ovica__pool *pool;     /* the fused pass's threads (OVICA_SOLVER_THREADS) */
} FO_NAME(fo_loop);

/* One block's pass: what every row of it reads. */
typedef struct {
    FO_NAME(fo_loop) *c;
    FO_T *cur, *nxt, *y;
    size_t b0;
    FO_T eta, th;
    double tol2;
    int nonneg;
} FO_NAME(fo_pass);

/* G = lambda (Y A^T - X) A, the gradient of the smooth part at Y, for the
 * rows [r0, r0 + nb) of the batch; G and (direct form) R hold nb rows. */
static void FO_NAME(smooth_gradient)(const FO_NAME(fo_loop) *c, size_t r0, size_t nb,
                                     const FO_T *Y, FO_T *G)
{
    int N = (int)nb, m = (int)c->m, n = (int)c->n;
    if (c->gram) {
        memcpy(G, c->XA + r0 * c->n, nb * c->n * sizeof(FO_T));
        FO_GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, n, n, c->inv_s2, Y, n, c->Gram, n,
                -c->inv_s2, G, n);
    } else {
        memcpy(c->R, c->Xc + r0 * c->m, nb * c->m * sizeof(FO_T));
        FO_GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, N, m, n, 1, Y, n, c->A, n, -1, c->R, m);
        FO_GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, n, m, c->inv_s2, c->R, m, c->A, n,
                0, G, n);
    }
}

/* The built-in priors' prox at v with threshold th: max(v - th, 0) for the
 * exponential prior, the soft threshold for Laplace. */
static inline FO_T FO_NAME(prox)(int nonneg, FO_T v, FO_T th)
{
    if (nonneg) {
        const FO_T u = v - th;
        return u > 0 ? u : 0;
    }
    const FO_T u = FO_FABS(v) - th;
    return FO_COPYSIGN(u > 0 ? u : 0, v);
}

/* The FISTA/ISTA update of one sample for a built-in prior, fused into one
 * pass over its n coordinates: the step sn = prox(y - eta g) (soft
 * threshold, resp. its non-negative part, at th = eta / b) together with
 * the sums the convergence test and the restart test need,
 *   out[0] = ||sn - so||^2, out[1] = ||sn||^2, out[2] = (y - sn).(sn - so),
 * each in FO_LANES interleaved partial sums (a fixed order, so the result
 * does not depend on the machine; the lanes fill one AVX2 register). The
 * momentum, which needs these sums first, is a second pass. */
OVICA_SIMD
static void FO_NAME(fused_step)(int nonneg, const FO_T *restrict so, const FO_T *restrict yk,
                                const FO_T *restrict gk, size_t n, FO_T eta, FO_T th,
                                FO_T *restrict sn, double out[3])
{
    FO_T d2[FO_LANES] = {0}, s2[FO_LANES] = {0}, up[FO_LANES] = {0};
    size_t j = 0;
    for (; j + FO_LANES <= n; j += FO_LANES)
        for (size_t l = 0; l < FO_LANES; l++) {
            const FO_T u = FO_NAME(prox)(nonneg, yk[j + l] - eta * gk[j + l], th);
            sn[j + l] = u;
            const FO_T d = u - so[j + l];
            d2[l] += d * d;
            s2[l] += u * u;
            up[l] += (yk[j + l] - u) * d;
        }
    for (; j < n; j++) {
        const FO_T u = FO_NAME(prox)(nonneg, yk[j] - eta * gk[j], th);
        sn[j] = u;
        const FO_T d = u - so[j];
        d2[0] += d * d;
        s2[0] += u * u;
        up[0] += (yk[j] - u) * d;
    }
    /* pairwise: ((l0 + l1) + (l2 + l3)) + ... */
    for (size_t w = 1; w < FO_LANES; w *= 2)
        for (size_t l = 0; l + w < FO_LANES; l += 2 * w) {
            d2[l] += d2[l + w];
            s2[l] += s2[l + w];
            up[l] += up[l + w];
        }
    out[0] = (double)d2[0];
    out[1] = (double)s2[0];
    out[2] = (double)up[0];
}

/* y = sn + beta (sn - so): FISTA's momentum point. */
OVICA_SIMD
static void FO_NAME(momentum_point)(const FO_T *restrict sn, const FO_T *restrict so, size_t n,
                                    FO_T beta, FO_T *restrict yk)
{
    for (size_t j = 0; j < n; j++) yk[j] = sn[j] + beta * (sn[j] - so[j]);
}

/* After a sample's step (sums as fused_step gives them): the convergence
 * test (a converged sample is marked by t < 0) and FISTA's momentum, with
 * adaptive restart. Row k of the batch, its gradient row g. */
static void FO_NAME(row_update)(const FO_NAME(fo_pass) *b, size_t k, const double sums[3])
{
    FO_NAME(fo_loop) *c = b->c;
    const size_t n = c->n, off = k * n;
    FO_T *sn = b->nxt + off, *so = b->cur + off, *yk = b->y + off;
    const int conv = sums[0] <= b->tol2 * (sums[1] > 1.0 ? sums[1] : 1.0);
    if (c->momentum && !conv) {
        if (c->p.restart && sums[2] > 0.0) {
            c->tk[k] = 1.0;
            memcpy(yk, sn, n * sizeof(FO_T));
        } else {
            double t1 = 0.5 * (1.0 + sqrt(1.0 + 4.0 * c->tk[k] * c->tk[k]));
            double beta = (c->tk[k] - 1.0) / t1;
            c->tk[k] = t1;
            FO_NAME(momentum_point)(sn, so, n, (FO_T)beta, yk);
        }
    }
    if (conv) c->tk[k] = -1.0;
}

/* The fused pass over rows [r0, r1) of a block (built-in priors), as
 * ovica__pool_run calls it: each row reads and writes only its own rows of
 * the iterates and its t, so the threads do not change the result. */
static void FO_NAME(fused_rows)(void *task, size_t worker, size_t r0, size_t r1)
{
    (void)worker;
    const FO_NAME(fo_pass) *b = task;
    const FO_NAME(fo_loop) *c = b->c;
    const size_t n = c->n;
    for (size_t r = r0; r < r1; r++) {
        const size_t k = b->b0 + r, off = k * n;
        double sums[3];
        FO_NAME(fused_step)(b->nonneg, b->cur + off, b->y + off, c->G + r * n, n, b->eta, b->th,
                            b->nxt + off, sums);
        FO_NAME(row_update)(b, k, sums);
    }
}

/* The iteration: every active sample moves at once, the gradient by GEMMs
 * on blocks of Bk rows, then one pass per sample while its rows are in
 * cache (the step, the prox or projection, the convergence test and the
 * momentum). Converged samples leave the active set: their code goes to S
 * and the last active row takes their place, so that the GEMMs keep working
 * on one contiguous block. Returns OVICA_OK or a prior callback's error;
 * *iters and *n_conv receive the counts; rows still active at the end are
 * written to S as well. */
static int FO_NAME(fo_iterate)(FO_NAME(fo_loop) *c, size_t *iters, size_t *n_conv)
{
    const size_t N = c->N, m = c->m, n = c->n, Bk = c->Bk;
    const int momentum = c->momentum;
    const int nonneg = c->prior->kind == OVICA_PRIOR_EXPONENTIAL;
#if FO_GENERAL
    const int fused = c->proximal && c->prior->kind != OVICA_PRIOR_USER;
    const int restart = c->p.restart;
#endif
    const FO_T eta = (FO_T)c->p.eta, th = (FO_T)(c->p.eta / c->prior->b);
    const double tol2 = c->p.tol * c->p.tol;
    FO_T *cur = c->cur, *nxt = c->nxt;
    FO_T *y = momentum ? c->Y : cur;
    size_t na = N; /* rows [0, na) are still active */
    int st = OVICA_OK;
    *iters = 0;

    for (size_t it = 1; it <= c->p.max_iter && na > 0; it++) {
        *iters = it;
        for (size_t b0 = 0; b0 < na && st == OVICA_OK; b0 += Bk) {
            size_t nb = na - b0 < Bk ? na - b0 : Bk;
            FO_NAME(smooth_gradient)(c, b0, nb, y + b0 * n, c->G);
            FO_NAME(fo_pass) b = {c, cur, nxt, y, b0, eta, th, tol2, nonneg};
#if FO_GENERAL
            if (!fused) { /* in the calling thread: user callbacks */
                for (size_t k = b0; k < b0 + nb; k++) {
                    const size_t off = k * n;
                    FO_T *sn = nxt + off, *so = cur + off, *yk = y + off;
                    double sums[3] = {0.0, 0.0, 0.0};
                    st = step_row(c->prior, c->proximal, so, yk, c->G + (k - b0) * n, n, eta, sn);
                    if (st) break;
                    for (size_t j = 0; j < n; j++) {
                        double d = sn[j] - so[j];
                        sums[0] += d * d;
                        sums[1] += sn[j] * sn[j];
                    }
                    if (momentum && restart)
                        for (size_t j = 0; j < n; j++)
                            sums[2] += (yk[j] - sn[j]) * (sn[j] - so[j]);
                    FO_NAME(row_update)(&b, k, sums);
                }
                continue;
            }
#endif
            ovica__pool_run(c->pool, FO_NAME(fused_rows), &b, nb, FO_ROW_CHUNK);
        }
        if (st) break;
        FO_T *tmp = cur;
        cur = nxt;
        nxt = tmp;
        if (!momentum) y = cur;
        for (size_t k = 0; k < na;) {
            if (c->tk[k] >= 0.0) {
                k++;
                continue;
            }
            memcpy(c->S + c->perm[k] * n, cur + k * n, n * sizeof(FO_T));
            size_t last = --na;
            if (k != last) {
                memcpy(cur + k * n, cur + last * n, n * sizeof(FO_T));
                if (momentum) memcpy(c->Y + k * n, c->Y + last * n, n * sizeof(FO_T));
                FO_SWAP_ROWS(c->Xc, m, k, last);
                if (c->gram) FO_SWAP_ROWS(c->XA, n, k, last);
                c->tk[k] = c->tk[last];
                c->perm[k] = c->perm[last];
            }
        }
    }
    c->cur = cur;
    c->nxt = nxt;
    if (st) return st;
    *n_conv = N - na;
    for (size_t k = 0; k < na; k++) memcpy(c->S + c->perm[k] * n, cur + k * n, n * sizeof(FO_T));
    return OVICA_OK;
}

/* A whole call on a prepared loop: the data copied into the loop's rows
 * (and X A, A^T A for the Gram form), the starting point (zeros, or the
 * warm start in c->S projected onto the domain), the iteration, and the
 * check that every code is finite (`fn` names the entry point). */
static int FO_NAME(fo_run)(FO_NAME(fo_loop) *c, const FO_T *X, int warm, const char *fn,
                           size_t *iters, size_t *n_conv)
{
    const size_t N = c->N, m = c->m, n = c->n, Nn = N * n;
    memcpy(c->Xc, X, N * m * sizeof(FO_T));
    if (c->gram) {
        FO_GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, (int)n, (int)n, (int)m, 1, c->A, (int)n,
                c->A, (int)n, 0, c->Gram, (int)n);
        FO_GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)N, (int)n, (int)m, 1, X, (int)m,
                c->A, (int)n, 0, c->XA, (int)n);
    }
    FO_T *S0 = c->cur;
    if (!warm) memset(S0, 0, Nn * sizeof(FO_T));
    else if (c->prior->domain == OVICA_DOMAIN_NONNEG)
        for (size_t i = 0; i < Nn; i++) S0[i] = c->S[i] > 0 ? c->S[i] : 0;
    else memcpy(S0, c->S, Nn * sizeof(FO_T));
    for (size_t k = 0; k < N; k++) {
        c->tk[k] = 1.0;
        c->perm[k] = k;
    }
    if (c->momentum) memcpy(c->Y, S0, Nn * sizeof(FO_T));
    /* the fused pass (built-in priors) on OVICA_SOLVER_THREADS threads */
    ovica__pool pool;
    const int fused = c->proximal && c->prior->kind != OVICA_PRIOR_USER;
    ovica__pool_start(&pool, fused && N > FO_ROW_CHUNK ? c->p.threads : 1);
    c->pool = &pool;
    int st = FO_NAME(fo_iterate)(c, iters, n_conv);
    ovica__pool_stop(&pool);
    c->pool = NULL;
    if (st) return st;
    for (size_t i = 0; i < Nn; i++)
        if (!isfinite(c->S[i]))
            return ovica__error(OVICA_ENUMERIC, "%s: the iteration diverged (non-finite code)", fn);
    return OVICA_OK;
}

#undef FO_T
#undef FO_NAME
#undef FO_GEMM
#undef FO_FABS
#undef FO_COPYSIGN
#undef FO_SWAP_ROWS
#undef FO_LANES
#undef FO_GENERAL

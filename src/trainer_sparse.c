/* The sparse route (ovica_rule_dictionary, and ovica_rule_auto's probe) and
 * auto's choice of regime. See include/ovica/rule.h and docs/LEARNING.md.
 *
 * A step on the sparse route: exact MAP codes of the batch at the threshold
 * mu = kappa * sigma_hat (the model's sigma is the running noise estimate
 * sigma_hat, its prior's scale b = sigma_hat / kappa, so that sigma^2 / b =
 * mu); running statistics C = <s s^T>, B = <x s^T> with forgetting factor
 * 1 - 1/window; every atom moved to the least-squares optimum given the
 * others' current values, a_j += (B - A C)_j / C_jj (one GEMM for all atoms,
 * a Jacobi sweep of the block-coordinate method of online dictionary
 * learning), then normalised to unit length. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <cblas.h>

#include "rule_internal.h"

double ovica__dict_kappa(const ovica_trainer *t)
{
    double k = t->param[OVICA_TRAIN_THRESHOLD];
    if (k > 0.0) return k;
    double n = (double)t->n;
    return sqrt(2.0 * log(n > 2.0 ? n : 2.0));
}

size_t ovica__step_rows(const ovica_trainer *t, int draws)
{
    size_t b = (size_t)t->param[OVICA_TRAIN_BATCH];
    if (b > 0) return b;
    if (draws) return 20000;
    if (!(t->rule->flags & OVICA__RULE_DRAW_ROWS))
        return SIZE_MAX; /* the article's MAP rules: the host's batch as it is */
    size_t r = 8 * t->n;
    return r < 1024 ? 1024 : (r > 8192 ? 8192 : r);
}

int ovica__sub_rows(ovica_trainer *t, size_t rows)
{
    if (rows <= t->cap_sub) return OVICA_OK;
    double *p = ovica__alloc_doubles(rows * t->m, "the rows a step reads");
    if (p == NULL) return OVICA_ENOMEM;
    ovica__free(t->Xsub);
    t->Xsub = p;
    t->cap_sub = rows;
    return OVICA_OK;
}

int ovica__draw_rows(ovica_trainer *t, const double *X, const float *Xf, size_t N, size_t rows)
{
    const size_t m = t->m;
    int st = ovica__sub_rows(t, rows);
    if (st) return st;
    for (size_t i = 0; i < rows; i++) {
        size_t r = (size_t)(ovica_rng_u64(t->rng) % (uint64_t)N);
        double *out = t->Xsub + i * m;
        if (X != NULL) memcpy(out, X + r * m, m * sizeof(double));
        else
            for (size_t c = 0; c < m; c++) out[c] = (double)Xf[r * m + c];
    }
    return OVICA_OK;
}

void ovica__dict_reset(ovica_trainer *t)
{
    memset(t->dC, 0, t->n * t->n * sizeof(double));
    memset(t->dB, 0, t->m * t->n * sizeof(double));
    t->dict_steps = 0;
    t->conv_steps = 0;
    t->conv_have = 0;
    t->converged = 0;
}

/* The convergence test (include/ovica/trainer.h, ovica_trainer_converged):
 * every OVICA_TRAIN_STOP_LAG sparse steps, the move 1 - |cos| of each atom
 * since the last evaluation, their mean, and the relative change of the
 * noise estimate. Measured on held-out sparse sets (docs/LEARNING.md): the
 * mean move falls by a factor 0.4-0.7 per lag while the basis converges and
 * then stays at the level of the minibatch jitter (1e-5 to 2e-4 by noise
 * level and batch), so "no longer shrinking" finds the plateau whatever its
 * level. At 64 x 256 and 128 x 512 (3% active) the swap move keeps
 * replacing 3-5% of the atoms at every lag to the end of the run (spare
 * atoms trying unexplained directions; the MMCS moves by +-0.001 and does
 * not improve), so up to n / CONV_MOVERS atoms may still be moving. */
#define CONV_SLOWER 0.7
#define CONV_MOVERS 20
#define CONV_SIGMA 0.05

void ovica__conv_update(ovica_trainer *t)
{
    const size_t m = t->m, n = t->n;
    const double *A = t->model->A, sig = sqrt(t->sig2 > 0.0 ? t->sig2 : 0.0);
    if (++t->conv_steps % OVICA_TRAIN_STOP_LAG != 0) return;
    const double tol = t->param[OVICA_TRAIN_STOP];
    double mean = 0.0;
    size_t moved = 0;
    for (size_t j = 0; j < n; j++) {
        double d = 0.0, a = 0.0, b = 0.0;
        for (size_t r = 0; r < m; r++) {
            d += A[r * n + j] * t->conv_A[r * n + j];
            a += A[r * n + j] * A[r * n + j];
            b += t->conv_A[r * n + j] * t->conv_A[r * n + j];
        }
        const double c = a > 0.0 && b > 0.0 ? 1.0 - fabs(d) / sqrt(a * b) : 1.0;
        mean += c / (double)n;
        moved += !(c <= tol);
    }
    t->converged = tol > 0.0 && t->conv_have >= 2 && moved <= n / CONV_MOVERS &&
                   mean >= CONV_SLOWER * t->conv_move &&
                   fabs(sig - t->conv_sig) <= CONV_SIGMA * fmax(sig, 1e-300);
    if (t->conv_have >= 1) t->conv_move = mean;
    if (t->conv_have < 2) t->conv_have++;
    memcpy(t->conv_A, A, m * n * sizeof(double));
    t->conv_sig = sig;
}

int ovica_trainer_converged(const ovica_trainer *t)
{
    if (t == NULL) return -1;
    return t->converged && t->regime == OVICA_REGIME_SPARSE;
}

void ovica__dict_forget_atom(ovica_trainer *t, size_t j)
{
    const size_t m = t->m, n = t->n;
    for (size_t i = 0; i < n; i++) {
        t->dC[i * n + j] = 0.0;
        t->dC[j * n + i] = 0.0;
    }
    for (size_t r = 0; r < m; r++) t->dB[r * n + j] = 0.0;
}

/* The model's sigma and prior scale for a noise estimate sigma_hat. */
static int set_threshold(ovica_trainer *t, double sigma)
{
    if (!(sigma >= 1e-150)) sigma = 1e-150;
    if (sigma > 1e150) sigma = 1e150;
    int st = ovica_model_set_sigma(t->model, sigma);
    if (st) return st;
    double b = sigma / ovica__dict_kappa(t);
    t->model->prior->b = b > 1e-300 ? b : 1e-300; /* a built-in prior (checked at creation) */
    return OVICA_OK;
}

int ovica__dict_prepare(ovica_trainer *t, const double *X, size_t N)
{
    if (!(t->sig2 >= 0.0)) {
        /* the first batch: start at 0.3 times the RMS entry of the data, so
         * the first codes are very sparse (coarse to fine) */
        double ss = 0.0;
        for (size_t i = 0; i < N * t->m; i++) ss += X[i] * X[i];
        t->data_ms = ss / ((double)N * (double)t->m);
        t->sig2 = 0.09 * t->data_ms;
    }
    double sigma = sqrt(t->sig2), lo = 1e-3 * sqrt(t->data_ms);
    if (sigma < lo) sigma = lo; /* noise-free data: codes stay sparse */
    if (!(sigma > 0.0)) sigma = t->sigma0; /* all-zero data */
    return set_threshold(t, sigma);
}

/* The swap move: the atom carrying the least energy is replaced, in the new
 * basis A1, by the direction the last batch's codes leave most unexplained
 * (a few mean-shift steps from the worst-reconstructed sample's residual)
 * when that direction carries more than SWAP times its energy. */
static int dict_swap(ovica_trainer *t, double *A1, int *guard)
{
    const size_t m = t->m, n = t->n, N = t->sub_N;
    const double f = t->param[OVICA_TRAIN_SWAP];
    /* (not before the running statistics have filled their window: the
     * energies of a fresh start are one batch's noise) */
    if (!(f > 0.0) || !t->have_worst || N == 0 || n < 2 ||
        (double)t->dict_steps < t->param[OVICA_TRAIN_WINDOW])
        return OVICA_OK;
    const int rays = t->model->prior->domain == OVICA_DOMAIN_NONNEG;
    const double *R = t->R;     /* the last batch's residuals (at the basis before the update) */
    double *p = t->Z, *e = t->Z + N; /* N projections, N residual norms (Z is N x n, n >= 2) */
    double *v = t->W2, *u = t->W2 + m;

    for (size_t i = 0; i < N; i++) {
        double s = 0.0;
        for (size_t r = 0; r < m; r++) s += R[i * m + r] * R[i * m + r];
        e[i] = sqrt(s);
    }
    /* the data vector of the worst-reconstructed sample, x = r + A s (A:
     * the basis the codes were computed with), is the first guess: a sample
     * whose feature no atom has is often that feature alone, where its
     * residual is what the other atoms could not mimic */
    const double *A = t->model->A;
    const size_t w = t->worst_row < N ? t->worst_row : 0;
    memcpy(v, R + w * m, m * sizeof(double));
    cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)m, (int)n, 1.0, A, (int)n, t->S + w * n, 1, 1.0,
                v, 1);
    double wn = frob(v, m);
    if (!(wn > 0.0)) return OVICA_OK;
    for (size_t r = 0; r < m; r++) v[r] /= wn;
    /* a few mean-shift steps: the mean of the data vectors of the samples
     * whose residual points along v */
    for (int it = 0; it < 3; it++) {
        cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)N, (int)m, 1.0, R, (int)m, v, 1, 0.0, p, 1);
        memset(u, 0, m * sizeof(double));
        size_t sel = 0;
        for (size_t i = 0; i < N; i++) {
            double q = rays ? p[i] : fabs(p[i]);
            if (q > 0.8 * e[i] && e[i] > 0.0) {
                double sg = p[i] < 0.0 ? -1.0 : 1.0;
                for (size_t r = 0; r < m; r++) u[r] += sg * R[i * m + r];
                cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)m, (int)n, sg, A, (int)n,
                            t->S + i * n, 1, 1.0, u, 1);
                sel++;
            }
        }
        double un = frob(u, m);
        if (sel == 0 || !(un > 0.0)) break;
        for (size_t r = 0; r < m; r++) v[r] = u[r] / un;
    }
    cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)N, (int)m, 1.0, R, (int)m, v, 1, 0.0, p, 1);
    double gain = 0.0;
    for (size_t i = 0; i < N; i++) {
        double q = rays ? fmax(p[i], 0.0) : p[i];
        gain += q * q;
    }
    gain /= (double)N;
    /* the atom carrying the least energy per sample, sum s_j^2 / samples */
    const double samples = t->stats[ST_SAMPLES];
    size_t jmin = 0;
    double lmin = INFINITY;
    for (size_t j = 0; j < n; j++) {
        double l = t->ss[j * n + j] / samples;
        if (l < lmin) {
            lmin = l;
            jmin = j;
        }
    }
    if (!(gain > f * lmin)) return OVICA_OK;
    for (size_t r = 0; r < m; r++) A1[r * n + jmin] = v[r];
    ovica__dict_forget_atom(t, jmin);
    t->last_active[jmin] = t->step + 1;
    t->usage[jmin] = 0.0;
    *guard |= OVICA_GUARD_SWAP;
    return OVICA_OK;
}

/* The noise estimate mixes in at least this share of each step's residual
 * mean square, whatever the window. The threshold it sets feeds back into
 * the residual (a higher threshold shrinks the codes more and leaves more
 * residual), so the estimate is a fixed-point iteration that contracts by
 * only about 0.8 per step at full mixing; behind the window's averaging
 * (1/10 per step) it took ~300 steps to settle. Half mixing settles it in
 * ~100 steps with a step-to-step jitter of 1-3%; full mixing jitters by 5%. */
#define SIG_MIX 0.5

/* The step of the atoms' update. Moving every atom at once to its
 * least-squares optimum given the others, a_j += (B - A C)_j / C_jj, is one
 * Jacobi sweep, i.e. a gradient step preconditioned by D = diag(C) on the
 * quadratic tr(A C A^T) / 2 - tr(A B^T). It contracts only while the
 * largest eigenvalue lambda of D^-1/2 C D^-1/2 stays below 2; atoms that
 * are often active together push it above (2.0-2.3 at 32 x 64 with 5%
 * active, 3.5-4 at 128 x 512 with 3%), and the basis then oscillates along
 * that eigenvector (and the noise estimate with it). The step is scaled
 * to omega = JACOBI_REACH / lambda when lambda is above JACOBI_REACH: the
 * top direction then contracts by a factor 1 - JACOBI_REACH per step.
 * lambda by POWER_ITERS power iterations from a fixed start (a resumed run
 * computes the same omega). */
#define JACOBI_REACH 1.5
#define POWER_ITERS 30

static double jacobi_omega(ovica_trainer *t)
{
    const size_t n = t->n, big = t->m > n ? t->m : n;
    if (big * big < 3 * n) return 1.0; /* (n <= 2: no room in W2, and no need) */
    const double *C = t->dC;
    double *h = t->W2, *v = t->W2 + n, *w = t->W2 + 2 * n; /* W2 holds max(m,n)^2 >= 3n */
    double dmax = 0.0;
    for (size_t j = 0; j < n; j++) dmax = fmax(dmax, C[j * n + j]);
    for (size_t j = 0; j < n; j++) { /* D^-1/2, 0 for atoms that do not move */
        const double d = C[j * n + j];
        h[j] = d > 1e-12 * dmax && d > 0.0 ? 1.0 / sqrt(d) : 0.0;
        v[j] = h[j] > 0.0 ? 1.0 + (double)((j * 2654435761u) % 1000u) / 1000.0 : 0.0;
    }
    double lam = 0.0;
    for (int it = 0; it < POWER_ITERS; it++) {
        double vn = 0.0;
        for (size_t j = 0; j < n; j++) vn += v[j] * v[j];
        vn = sqrt(vn);
        if (!(vn > 0.0) || !isfinite(vn)) return 1.0;
        for (size_t j = 0; j < n; j++) v[j] *= h[j] / vn; /* D^-1/2 v / |v| */
        cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)n, (int)n, 1.0, C, (int)n, v, 1, 0.0, w, 1);
        double wn = 0.0;
        for (size_t j = 0; j < n; j++) {
            v[j] = h[j] * w[j];
            wn += v[j] * v[j];
        }
        lam = sqrt(wn);
    }
    return lam > JACOBI_REACH && isfinite(lam) ? JACOBI_REACH / lam : 1.0;
}

int ovica__dict_apply(ovica_trainer *t, double *A1, int *guard)
{
    (void)guard;
    const size_t m = t->m, n = t->n;
    const double samples = t->stats[ST_SAMPLES];
    const double *A = t->model->A;
    t->dict_steps++;
    const double w = t->param[OVICA_TRAIN_WINDOW];
    const double a = 1.0 / fmin((double)t->dict_steps, w), rho = 1.0 - a;

    /* running estimates: noise variance, unexplained energy, data energy.
     * The noise from the codes' residuals, or (t->noise_refit: the
     * threshold was found pinned, ovica__noise_check) from the residuals of
     * the codes refitted on their supports, per remaining degree of freedom */
    const double sq = t->stats[ST_SQ], xx = t->stats[ST_XX];
    const double dof = fmax(samples * (double)m - t->stats[ST_ACTIVE], samples);
    const double mse = t->noise_refit ? t->stats[ST_SQ_REFIT] / dof : sq / (samples * (double)m);
    const double as = fmax(a, SIG_MIX);
    t->sig2 = t->sig2 >= 0.0 ? (1.0 - as) * t->sig2 + as * mse : mse;
    const double un = xx > 0.0 ? sq / xx : 0.0;
    t->unexpl = isnan(t->unexpl) ? un : rho * t->unexpl + a * un;
    const double kf = t->stats[ST_ACTIVE] / (samples * (double)m);
    t->kfrac = t->dict_steps == 1 ? kf : rho * t->kfrac + a * kf;
    t->data_ms = rho * t->data_ms + a * xx / (samples * (double)m);

    /* running statistics C = <s s^T>, B = <x s^T> */
    for (size_t i = 0; i < n * n; i++) t->dC[i] = rho * t->dC[i] + a * t->ss[i] / samples;
    for (size_t i = 0; i < m * n; i++) t->dB[i] = rho * t->dB[i] + a * t->xs[i] / samples;

    /* A1 = A + omega (B - A C) diag(C)^{-1}, atoms no code uses left alone */
    const double omega = jacobi_omega(t);
    memcpy(A1, t->dB, m * n * sizeof(double));
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)n, -1.0, A,
                (int)n, t->dC, (int)n, 1.0, A1, (int)n);
    double dmax = 0.0;
    for (size_t j = 0; j < n; j++) dmax = fmax(dmax, t->dC[j * n + j]);
    for (size_t j = 0; j < n; j++) {
        const double d = t->dC[j * n + j];
        const int moves = d > 1e-12 * dmax && d > 0.0;
        for (size_t r = 0; r < m; r++)
            A1[r * n + j] = moves ? A[r * n + j] + omega * A1[r * n + j] / d : A[r * n + j];
        double c = col_norm(A1, m, n, j);
        if (!(c > 0.0) || !isfinite(c)) {
            if (!isfinite(c)) return OVICA_ENUMERIC;
            for (size_t r = 0; r < m; r++) A1[r * n + j] = A[r * n + j];
            c = col_norm(A1, m, n, j);
        }
        for (size_t r = 0; r < m; r++) A1[r * n + j] /= c;
    }
    return dict_swap(t, A1, guard);
}

void ovica__auto_start(ovica_trainer *t)
{
    t->probe_started = 1;
    t->host_basis = t->model->norm2 > 0.0;
    if (t->host_basis) memcpy(t->probe_A, t->model->A, t->m * t->n * sizeof(double));
}

void ovica__regime_get(const ovica_trainer *t, ovica__regime_state *rs)
{
    rs->regime = t->regime;
    rs->phase0 = (uint64_t)t->phase0;
    rs->sig2 = t->sig2;
    rs->unexpl = t->unexpl;
    rs->data_ms = t->data_ms;
    rs->sigma0 = t->sigma0;
    rs->b0 = t->b0;
    rs->noise_refit = t->noise_refit;
    rs->probe_ext = (uint64_t)t->probe_ext;
    rs->probe_d0 = t->probe_d0;
}

int ovica__regime_set(ovica_trainer *t, const ovica__regime_state *rs)
{
    const int auto_rule = (t->rule->flags & OVICA__RULE_CHOOSES) != 0;
    if (rs->regime != t->regime &&
        !(auto_rule && (rs->regime == OVICA_REGIME_SPARSE || rs->regime == OVICA_REGIME_DENSE ||
                        rs->regime == OVICA_REGIME_UNDECIDED)))
        return ovica__error(OVICA_EFORMAT, "regime %d does not fit rule '%s'", rs->regime,
                            t->rule->name);
    if (!(rs->sigma0 >= 1e-150 && rs->sigma0 <= 1e150) || !(rs->b0 > 0.0 && isfinite(rs->b0)) ||
        !(rs->data_ms >= 0.0 && isfinite(rs->data_ms)) || isinf(rs->sig2) || isinf(rs->unexpl) ||
        rs->phase0 > (uint64_t)1e12 || rs->probe_ext > (uint64_t)1e12 || isinf(rs->probe_d0) ||
        (rs->noise_refit != 0 && rs->noise_refit != 1))
        return ovica__error(OVICA_EFORMAT, "invalid regime state (sigma %g, scale %g)",
                            rs->sigma0, rs->b0);
    t->regime = rs->regime;
    t->phase0 = (size_t)rs->phase0;
    t->sig2 = rs->sig2 >= 0.0 ? rs->sig2 : -1.0;
    t->unexpl = rs->unexpl;
    t->data_ms = rs->data_ms;
    t->sigma0 = rs->sigma0;
    t->b0 = rs->b0;
    t->noise_refit = rs->noise_refit;
    t->probe_ext = (size_t)rs->probe_ext;
    t->probe_d0 = rs->probe_d0;
    t->probe_started = 1; /* a resumed probe does not know the host's first basis */
    return OVICA_OK;
}

/* D, the regime measurement: the fraction of the data's dimensions the
 * sparse codes occupy (active codes per sample / m) plus the fraction of
 * the data's energy they leave unexplained. Near 1 when every sample needs
 * all the dimensions and still leaves energy (dense sources: the MAP codes
 * misrepresent the posterior); small when samples lie near a few atoms.
 * docs/LEARNING.md gives the values measured on both kinds. */
static int above_line(const ovica_trainer *t)
{
    return t->kfrac + t->unexpl > t->param[OVICA_TRAIN_REGIME_AT];
}

/* D above the line can also mean a pinned threshold. The residual of the
 * codes holds their shrinkage, about k kappa^2 / m times the noise
 * variance with k active codes a sample, and the threshold kappa sigma_hat
 * follows the residual: where the data need k > m / kappa^2 (61 active of
 * 2048 atoms in 256 dimensions: k kappa^2 / m = 3.6) the estimate has no
 * fixed point near the noise and stays where the threshold codes only the
 * largest sources (sigma_hat 0.53 for a noise of 0.01, one active atom in
 * eight coded; docs/LEARNING.md). The residual of the codes refitted on
 * their supports has no shrinkage and comes down as the basis is learned,
 * so the noise estimate turns to it. Where D stays low the codes' own
 * residual is kept: its shrinkage is a deliberate bias to sparser codes,
 * which the small sparse sets need (they lose features without it). */
void ovica__noise_check(ovica_trainer *t)
{
    if (above_line(t)) t->noise_refit = 1;
}

/* The end of auto's probe. D above the line with the codes' own residual:
 * a second probe, at most as long as the first, with the refitted one (a
 * pinned threshold, above, is then freed and D falls; dense sources keep
 * D where it was, 0.68-0.76 on the 2-D sets). Then the decision. */
int ovica__auto_decide(ovica_trainer *t)
{
    const int dense = above_line(t);
    if (dense && !t->noise_refit) {
        ovica__noise_check(t);
        t->probe_ext = (size_t)t->param[OVICA_TRAIN_PROBE];
        t->probe_d0 = t->kfrac + t->unexpl;
        return OVICA_OK;
    }
    return ovica_trainer_set_regime(t, dense ? OVICA_REGIME_DENSE : OVICA_REGIME_SPARSE, 0);
}

/* Every PROBE_CHECK steps of the second probe: below the line, sparse at
 * once; D fallen by less than PROBE_FALL since the first probe, dense at
 * once (a pinned threshold, once freed, drops D by 0.08-0.2 in 10 steps:
 * 0.738 to 0.658 at 256 x 2048; on the dense 2-D sets D moved by -0.001
 * to +0.016 over those steps), so dense data do not lose the whole second
 * probe from their route's steps. */
#define PROBE_CHECK 10
#define PROBE_FALL 0.03

int ovica__probe_check(ovica_trainer *t)
{
    const size_t first = (size_t)t->param[OVICA_TRAIN_PROBE];
    if (!t->noise_refit || t->step <= first || (t->step - first) % PROBE_CHECK != 0)
        return OVICA_OK;
    const double D = t->kfrac + t->unexpl;
    if (!above_line(t)) return ovica_trainer_set_regime(t, OVICA_REGIME_SPARSE, 0);
    if (D > t->probe_d0 - PROBE_FALL) return ovica_trainer_set_regime(t, OVICA_REGIME_DENSE, 0);
    return OVICA_OK;
}

int ovica_trainer_regime(const ovica_trainer *t) { return t ? t->regime : -1; }

int ovica_trainer_set_regime(ovica_trainer *t, int regime, int keep_basis)
{
    OVICA__CHECK_NULL(t, "trainer");
    if (!(t->rule->flags & OVICA__RULE_CHOOSES))
        return ovica__error(OVICA_ESTATE, "%s: rule '%s' has a fixed regime (only auto chooses)",
                            __func__, t->rule->name);
    if (regime != OVICA_REGIME_SPARSE && regime != OVICA_REGIME_DENSE)
        return ovica__error(OVICA_EINVAL,
                            "%s: regime must be OVICA_REGIME_SPARSE (1) or OVICA_REGIME_DENSE (2), "
                            "got %d",
                            __func__, regime);
    if (regime == OVICA_REGIME_DENSE && t->regime != OVICA_REGIME_DENSE) {
        /* the rules from draws: the host's sigma and scale, schedules from
         * this step, spread atoms at the next batch, nothing carried over */
        int st = ovica_model_set_sigma(t->model, t->sigma0);
        if (st) return st;
        t->model->prior->b = t->b0;
        t->phase0 = t->step;
        t->reinit = 0;
        if (!keep_basis && t->host_basis) {
            /* the host's own start, not the probe's MAP-biased basis */
            st = ovica_model_set_basis(t->model, t->probe_A, t->m, t->n);
            if (st) return st;
        } else if (!keep_basis) {
            t->reinit = 1;
        }
        t->best = NAN;
        t->strikes = 0;
        t->adam_n = 0.0;
        t->have_last_dir = 0;
        t->lr_scale = 1.0;
        t->mon_fresh = 1;
        t->last_N = 0;
        for (size_t j = 0; j < t->n; j++) t->last_active[j] = t->step;
    }
    t->regime = regime;
    return OVICA_OK;
}

/* Data-parallel training without MPI: P trainers in one process stand for P
 * processes, each holding a share of every batch; their exported statistics
 * are summed in rank order, imported into every trainer and applied. The
 * contract that examples/mpi/ relies on (docs/SCALING.md):
 *   - the summed statistics give every trainer the same basis, bit for bit;
 *   - for a MAP rule the result equals one trainer holding the whole batch,
 *     to rounding;
 *   - ovica_trainer_set_sampler_seed() makes the processes' posterior draws
 *     differ while ovica_trainer_apply() stays identical everywhere. */
/* the statistics layout (OVICA_STATS_*) is experimental */
#define OVICA_EXPERIMENTAL 1
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <lapacke.h>

#include "testutil.h"

enum { M = 3, NA = 5, NROWS = 600 };

typedef struct {
    double X[NROWS * M];
    double A_true[M * NA];
    ovica_model *model;
} problem;

static void make_problem(problem *p, uint64_t seed)
{
    ovica_rng *r = NULL;
    double *S = malloc(NROWS * NA * sizeof(double));
    ck_assert_ptr_nonnull(S);
    ck_assert_status(ovica_rng_new(&r, seed), OVICA_OK);
    ck_assert_status(ovica_synth_random_basis(r, p->A_true, M, NA), OVICA_OK);
    ck_assert_status(ovica_synth_sources(r, OVICA_PRIOR_LAPLACE, 1.0, 0.4, S, NROWS, NA), OVICA_OK);
    ck_assert_status(ovica_synth_mix(r, p->A_true, M, NA, S, NROWS, 0.05, p->X), OVICA_OK);
    ovica_prior *pr = NULL;
    ck_assert_status(ovica_prior_laplace_new(&pr, 1.0), OVICA_OK);
    ck_assert_status(ovica_model_new(&p->model, M, NA, pr, 0.05), OVICA_OK);
    ovica_prior_free(pr);
    ovica_rng_free(r);
    free(S);
}

/* Trainer with the settings every "process" shares. */
static ovica_trainer *make_trainer(const problem *p, const ovica_rule_type *rule, size_t steps)
{
    ovica_trainer *t = NULL;
    ck_assert_status(ovica_trainer_new(&t, p->model, rule, 42), OVICA_OK);
    ck_assert_status(ovica_trainer_set_param(t, OVICA_TRAIN_STEPS, (double)steps), OVICA_OK);
    /* re-seeding uses the worst sample of the local batch: not shared */
    ck_assert_status(ovica_trainer_set_param(t, OVICA_TRAIN_RESEED, 0), OVICA_OK);
    ck_assert_status(ovica_trainer_set_monitor(t, p->X, 200, M), OVICA_OK);
    ck_assert_status(ovica_trainer_init_basis(t, OVICA_INIT_SPREAD, NULL, 0, M), OVICA_OK);
    return t;
}

/* One data-parallel step over P trainers: trainer r gets rows
 * [r*B/P, (r+1)*B/P) of the batch X (B rows). */
static void parallel_step(ovica_trainer **t, size_t P, const double *X, size_t B)
{
    const size_t len = ovica_trainer_stats_size(t[0]);
    double *sum = malloc(len * sizeof(double)), *part = malloc(len * sizeof(double));
    ck_assert_ptr_nonnull(sum);
    ck_assert_ptr_nonnull(part);
    for (size_t r = 0; r < P; r++) {
        size_t lo = r * B / P, hi = (r + 1) * B / P;
        ck_assert_status(ovica_trainer_accumulate(t[r], X + lo * M, hi - lo, M), OVICA_OK);
        ck_assert_status(ovica_trainer_stats_export(t[r], r == 0 ? sum : part, len), OVICA_OK);
        if (r > 0)
            for (size_t i = 0; i < len; i++) sum[i] += part[i];
    }
    for (size_t r = 0; r < P; r++) {
        ck_assert_status(ovica_trainer_clear_stats(t[r]), OVICA_OK);
        ck_assert_status(ovica_trainer_stats_import(t[r], sum, len), OVICA_OK);
        ck_assert_status(ovica_trainer_apply(t[r], NULL), OVICA_OK);
    }
    free(sum);
    free(part);
}

START_TEST(test_map_rule_matches_one_trainer)
{
    problem p;
    make_problem(&p, 11);
    const size_t P = 3, steps = 40, B = 300;
    ovica_trainer *t[3], *one = make_trainer(&p, ovica_rule_natural, steps);
    for (size_t r = 0; r < P; r++) t[r] = make_trainer(&p, ovica_rule_natural, steps);
    for (size_t k = 0; k < steps; k++) {
        const double *Xk = p.X + (k % 2) * B * M; /* two alternating batches */
        parallel_step(t, P, Xk, B);
        ck_assert_status(ovica_trainer_step(one, Xk, B, M, NULL), OVICA_OK);
    }
    const double *A0 = ovica_model_basis(ovica_trainer_model(t[0]));
    const double *A1 = ovica_model_basis(ovica_trainer_model(one));
    for (size_t r = 1; r < P; r++)
        ck_assert_msg(memcmp(A0, ovica_model_basis(ovica_trainer_model(t[r])),
                             M * NA * sizeof(double)) == 0,
                      "trainer %zu holds another basis", r);
    double d = tu_max_abs_diff(A0, A1, M * NA);
    ck_assert_msg(d < 1e-9, "P = 3 vs one trainer: max |dA| = %g", d);
    for (size_t r = 0; r < P; r++) ovica_trainer_free(t[r]);
    ovica_trainer_free(one);
    ovica_model_free(p.model);
}
END_TEST

START_TEST(test_sampler_seed)
{
    problem p;
    make_problem(&p, 12);
    ovica_trainer *a = make_trainer(&p, ovica_rule_em, 10);
    ovica_trainer *b = make_trainer(&p, ovica_rule_em, 10);
    const size_t len = ovica_trainer_stats_size(a);
    double *sa = malloc(len * sizeof(double)), *sb = malloc(len * sizeof(double));
    ck_assert_ptr_nonnull(sa);
    ck_assert_ptr_nonnull(sb);
    ck_assert_error(ovica_trainer_set_sampler_seed(NULL, 1), OVICA_EINVAL);

    /* the same seed as ovica_trainer_new() gives the same draws */
    ck_assert_status(ovica_trainer_set_sampler_seed(b, 42), OVICA_OK);
    ck_assert_status(ovica_trainer_accumulate(a, p.X, 100, M), OVICA_OK);
    ck_assert_status(ovica_trainer_accumulate(b, p.X, 100, M), OVICA_OK);
    ck_assert_status(ovica_trainer_stats_export(a, sa, len), OVICA_OK);
    ck_assert_status(ovica_trainer_stats_export(b, sb, len), OVICA_OK);
    ck_assert(memcmp(sa, sb, len * sizeof(double)) == 0);

    /* another seed, other draws */
    ck_assert_status(ovica_trainer_clear_stats(a), OVICA_OK);
    ck_assert_status(ovica_trainer_clear_stats(b), OVICA_OK);
    ck_assert_status(ovica_trainer_set_sampler_seed(b, 43), OVICA_OK);
    ck_assert_status(ovica_trainer_accumulate(a, p.X + 100 * M, 100, M), OVICA_OK);
    ck_assert_status(ovica_trainer_accumulate(b, p.X + 100 * M, 100, M), OVICA_OK);
    ck_assert_status(ovica_trainer_stats_export(a, sa, len), OVICA_OK);
    ck_assert_status(ovica_trainer_stats_export(b, sb, len), OVICA_OK);
    ck_assert(memcmp(sa, sb, len * sizeof(double)) != 0);
    free(sa);
    free(sb);
    ovica_trainer_free(a);
    ovica_trainer_free(b);
    ovica_model_free(p.model);
}
END_TEST

/* Rules from draws: every trainer has its own sampler seed, so the shares'
 * draws are independent, yet the applied updates stay identical. The split
 * of duplicate atoms draws from the trainer's generator: a basis with two
 * equal atoms forces one on the first step (no annealing: sigma_t = sigma). */
START_TEST(test_draws_rules_stay_identical)
{
    problem p;
    make_problem(&p, 13);
    const size_t P = 2, steps = 30, B = 400;
    ovica_trainer *t[2];
    double A[M * NA];
    for (size_t r = 0; r < P; r++) {
        t[r] = make_trainer(&p, ovica_rule_auto, steps);
        ck_assert_status(ovica_trainer_set_param(t[r], OVICA_TRAIN_ANNEAL, 1.0), OVICA_OK);
        ck_assert_status(ovica_trainer_set_sampler_seed(t[r], 1000 + r), OVICA_OK);
        ck_assert_status(ovica_model_get_basis(ovica_trainer_model(t[r]), A, M, NA), OVICA_OK);
        for (size_t i = 0; i < M; i++) A[i * NA + 1] = A[i * NA + 0]; /* duplicate atom */
        ck_assert_status(ovica_trainer_set_basis(t[r], A, M, NA), OVICA_OK);
    }
    int split = 0;
    for (size_t k = 0; k < steps; k++) {
        parallel_step(t, P, p.X, B); /* the same batch: chains continue */
        if (k == 0) {
            /* a split happened if atoms 0 and 1 are apart now */
            const double *Ak = ovica_model_basis(ovica_trainer_model(t[0]));
            for (size_t i = 0; i < M; i++) split |= Ak[i * NA] != Ak[i * NA + 1];
        }
    }
    ck_assert_msg(split, "no split on the first step");
    ck_assert(memcmp(ovica_model_basis(ovica_trainer_model(t[0])),
                     ovica_model_basis(ovica_trainer_model(t[1])), M * NA * sizeof(double)) == 0);
    for (size_t r = 0; r < P; r++) ovica_trainer_free(t[r]);
    ovica_model_free(p.model);
}
END_TEST

/* The experimental layout (OVICA_STATS_* in ovica/trainer.h) describes
 * what ovica_trainer_stats_export() writes: the size; the scalar sums
 * against what ovica_trainer_apply() reports from them; the activity counts
 * against the active total and the diagonal of sum s s^T; and sum z s^T,
 * sum x s^T and sum s s^T against each other through the MAP optimality
 * condition of exact (active-set) codes under the Laplace prior:
 * (A^T (x - A s))_j / sigma^2 = sign(s_j) / b where s_j != 0 and z_j =
 * -sign(s_j) / b, so summed over the samples
 * zs_jj + ((A^T XS)_jj - (A^T A SS)_jj) / sigma^2 = 0 for every atom j. */
START_TEST(test_stats_layout)
{
    problem p;
    make_problem(&p, 14);
    const size_t N = 250, m = M, n = NA;
    const double sigma = 0.05;
    ovica_trainer *t = make_trainer(&p, ovica_rule_natural, 10);
    ck_assert_status(ovica_trainer_set_solver(t, ovica_solver_active), OVICA_OK);
    ck_assert_status(ovica_trainer_set_param(t, OVICA_TRAIN_SOLVER_TOL, 1e-12), OVICA_OK);
    const size_t len = ovica_trainer_stats_size(t);
    ck_assert_uint_eq(len, OVICA_STATS_SIZE(m, n));
    ck_assert_uint_eq(len, 7 + n + 2 * n * n + m * n);
    double *buf = calloc(len, sizeof(double)), A[M * NA];
    ck_assert_ptr_nonnull(buf);
    ck_assert_status(ovica_model_get_basis(ovica_trainer_model(t), A, M, NA), OVICA_OK);
    ck_assert_status(ovica_trainer_accumulate(t, p.X, N, M), OVICA_OK);
    ck_assert_status(ovica_trainer_stats_export(t, buf, len), OVICA_OK);

    ck_assert(buf[OVICA_STATS_SAMPLES] == (double)N);
    ck_assert(buf[OVICA_STATS_DRAWS] == (double)N); /* MAP rule: one code per sample */
    double xx = 0.0;
    for (size_t i = 0; i < N * m; i++) xx += p.X[i] * p.X[i];
    ck_assert_msg(fabs(buf[OVICA_STATS_DATA] - xx) <= 1e-12 * xx, "data energy %g, want %g",
                  buf[OVICA_STATS_DATA], xx);
    /* dense codes (GEMM statistics): no refit, the residual itself */
    ck_assert(buf[OVICA_STATS_SQERR_REFIT] == buf[OVICA_STATS_SQERR]);
    const double *act = buf + OVICA_STATS_ACTIVITY(m, n), *zs = buf + OVICA_STATS_ZS(m, n);
    const double *xs = buf + OVICA_STATS_XS(m, n), *ss = buf + OVICA_STATS_SS(m, n);
    double act_sum = 0;
    for (size_t j = 0; j < n; j++) {
        act_sum += act[j];
        ck_assert_msg((act[j] > 0) == (ss[j * n + j] > 0), "atom %zu: activity %g, ss %g", j,
                      act[j], ss[j * n + j]);
        for (size_t k = 0; k < n; k++) /* symmetric (to the rounding of a GEMM) */
            ck_assert(fabs(ss[j * n + k] - ss[k * n + j]) <=
                      1e-12 * sqrt(ss[j * n + j] * ss[k * n + k]));
    }
    ck_assert_msg(act_sum > 0 && fabs(act_sum - buf[OVICA_STATS_ACTIVE]) < 1e-9,
                  "activity sums to %g, active total %g", act_sum, buf[OVICA_STATS_ACTIVE]);
    int checked = 0;
    for (size_t j = 0; j < n; j++) {
        if (ss[j * n + j] == 0) continue;
        double axs = 0, aass = 0;
        for (size_t i = 0; i < m; i++) axs += A[i * n + j] * xs[i * n + j];
        for (size_t k = 0; k < n; k++) {
            double g = 0; /* (A^T A)_jk */
            for (size_t i = 0; i < m; i++) g += A[i * n + j] * A[i * n + k];
            aass += g * ss[k * n + j];
        }
        double lhs = zs[j * n + j] + (axs - aass) / (sigma * sigma);
        ck_assert_msg(zs[j * n + j] < 0, "atom %zu: zs_jj = %g", j, zs[j * n + j]);
        ck_assert_msg(fabs(lhs) <= 1e-6 * fabs(zs[j * n + j]),
                      "atom %zu: zs_jj %g, optimality sum %g", j, zs[j * n + j], lhs);
        checked++;
    }
    ck_assert_int_gt(checked, 0);

    ovica_step_stats st = OVICA_STEP_STATS_INIT;
    ck_assert_status(ovica_trainer_apply(t, &st), OVICA_OK);
    ck_assert(st.samples == buf[OVICA_STATS_SAMPLES]);
    ck_assert(st.objective == buf[OVICA_STATS_OBJECTIVE] / (double)N);
    ck_assert(st.mse == buf[OVICA_STATS_SQERR] / ((double)N * (double)m));
    ck_assert(st.active == buf[OVICA_STATS_ACTIVE] / (double)N);
    free(buf);
    ovica_trainer_free(t);
    ovica_model_free(p.model);
}
END_TEST

/* The dense reference P^T S (P: N x p, S: N x n, both row-major) against
 * `got` (p x n): the largest difference and the largest reference entry
 * are folded into *worst and *scale. */
static void cross_check(const double *P, size_t p, const double *S, size_t n, size_t N,
                        const double *got, double *worst, double *scale)
{
    for (size_t q = 0; q < p; q++)
        for (size_t j = 0; j < n; j++) {
            double ref = 0.0;
            for (size_t i = 0; i < N; i++) ref += P[i * p + q] * S[i * n + j];
            *worst = fmax(*worst, fabs(got[q * n + j] - ref));
            *scale = fmax(*scale, fabs(ref));
        }
}

/* The dictionary rule's statistics of sparse codes come from the codes'
 * supports, not from GEMMs: they must equal sum x s^T, sum s s^T and the
 * residual energy computed densely from the same codes (the codes solved
 * again, exactly, with the model the trainer coded with). */
START_TEST(test_sparse_stats)
{
    const size_t m = 16, n = 48, N = 600;
    tu_sparse pb;
    tu_sparse_make(&pb, 77, m, n, N, 0.04, 0.01);
    const double *X = pb.X;
    double *S = malloc(N * n * sizeof *S);
    ck_assert_ptr_nonnull(S);
    ck_assert_status(ovica_model_set_basis(pb.model, pb.A, m, n), OVICA_OK);
    ovica_trainer *t = NULL;
    ck_assert_status(ovica_trainer_new(&t, pb.model, ovica_rule_dictionary, 3), OVICA_OK);
    ck_assert_status(ovica_trainer_set_param(t, OVICA_TRAIN_SOLVER_TOL, 1e-12), OVICA_OK);
    ck_assert_status(ovica_trainer_accumulate(t, X, N, m), OVICA_OK);
    const size_t len = ovica_trainer_stats_size(t);
    double *buf = malloc(len * sizeof *buf);
    ck_assert_ptr_nonnull(buf);
    ck_assert_status(ovica_trainer_stats_export(t, buf, len), OVICA_OK);
    /* the codes again, with the sigma and prior scale the trainer coded at */
    ovica_solver *sv = NULL;
    ck_assert_status(ovica_solver_new(&sv, ovica_solver_active), OVICA_OK);
    ck_assert_status(ovica_solver_set_param(sv, OVICA_SOLVER_TOL, 1e-12), OVICA_OK);
    int st = ovica_solver_infer(sv, ovica_trainer_model(t), X, N, m, S, n, NULL);
    ck_assert(st == OVICA_OK || st == OVICA_NOT_CONVERGED);
    double active = 0.0, sq = 0.0;
    for (size_t i = 0; i < N * n; i++) active += S[i] != 0.0;
    ck_assert_msg(active <= 0.1 * (double)(N * n), "%g active: not the sparse path", active);
    ck_assert_double_eq(buf[OVICA_STATS_ACTIVE], active);
    const double *Am = ovica_model_basis(ovica_trainer_model(t));
    for (size_t i = 0; i < N; i++)
        for (size_t q = 0; q < m; q++) {
            double e = X[i * m + q];
            for (size_t j = 0; j < n; j++) e -= Am[q * n + j] * S[i * n + j];
            sq += e * e;
        }
    ck_assert_msg(fabs(buf[OVICA_STATS_SQERR] - sq) <= 1e-9 * sq, "residual energy %.15g, want %.15g",
                  buf[OVICA_STATS_SQERR], sq);
    /* the residuals of the codes refitted on their supports, by LAPACK's
     * least squares on each support's columns */
    double sq_ls = 0.0, *As = malloc(m * n * sizeof *As), xb[16];
    ck_assert(As != NULL && m <= 16);
    for (size_t i = 0; i < N; i++) {
        size_t k = 0;
        for (size_t j = 0; j < n; j++)
            if (S[i * n + j] != 0.0) {
                for (size_t q = 0; q < m; q++) As[q * n + k] = Am[q * n + j];
                k++;
            }
        memcpy(xb, X + i * m, m * sizeof(double));
        if (k > 0)
            ck_assert_int_eq(LAPACKE_dgels(LAPACK_ROW_MAJOR, 'N', (int)m, (int)k, 1, As, (int)n,
                                           xb, 1),
                             0);
        for (size_t q = k; q < m; q++) sq_ls += xb[q] * xb[q]; /* (dgels's residual) */
    }
    free(As);
    ck_assert_msg(sq_ls < sq && fabs(buf[OVICA_STATS_SQERR_REFIT] - sq_ls) <= 1e-8 * sq_ls,
                  "refitted residual energy %.15g, want %.15g (unrefitted %.15g)",
                  buf[OVICA_STATS_SQERR_REFIT], sq_ls, sq);
    const double *xs = buf + OVICA_STATS_XS(m, n), *ss = buf + OVICA_STATS_SS(m, n);
    double worst = 0.0, scale = 0.0;
    cross_check(X, m, S, n, N, xs, &worst, &scale);
    cross_check(S, n, S, n, N, ss, &worst, &scale);
    ck_assert_msg(worst <= 1e-9 * scale, "statistics off by %g (scale %g)", worst, scale);
    ovica_solver_free(sv);
    ovica_trainer_free(t);
    tu_sparse_free(&pb);
    free(S);
    free(buf);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("distributed");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_map_rule_matches_one_trainer);
    tcase_add_test(tc, test_sampler_seed);
    tcase_add_test(tc, test_draws_rules_stay_identical);
    tcase_add_test(tc, test_stats_layout);
    tcase_add_test(tc, test_sparse_stats);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_run(suite()); }

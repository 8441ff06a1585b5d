/* Data-parallel training without MPI: P trainers in one process stand for P
 * processes, each holding a share of every batch; their exported statistics
 * are summed in rank order, imported into every trainer and applied. The
 * contract that examples/mpi/ relies on (docs/SCALING.md):
 *   - the summed statistics give every trainer the same basis, bit for bit;
 *   - for a MAP rule the result equals one trainer holding the whole batch,
 *     to rounding;
 *   - ovica_trainer_set_sampler_seed() makes the processes' posterior draws
 *     differ while ovica_trainer_apply() stays identical everywhere. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

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

static Suite *suite(void)
{
    Suite *s = suite_create("distributed");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_map_rule_matches_one_trainer);
    tcase_add_test(tc, test_sampler_seed);
    tcase_add_test(tc, test_draws_rules_stay_identical);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_run(suite()); }

/* Adding a solver and a rule (docs/ARCHITECTURE.md, "Adding a solver or a
 * rule"). This suite is linked against the library's objects with the two
 * registries compiled again with one more entry each
 * (-D'OVICA_EXTRA_SOLVERS(X)=X(toy)', -D'OVICA_EXTRA_RULES(X)=X(toy)') and
 * the two files that define the new types (tests/extend/toy_solver.c,
 * tests/extend/toy_rule.c); nothing else changes. Through the public API
 * only, it checks that:
 *   - each toy type is listed by the registry after the built-ins, found by
 *     name, and named "toy" (the built-ins keep their places);
 *   - the toy solver codes a batch (one proximal step: finite, sparse
 *     codes, statistics filled);
 *   - a trainer with the toy rule runs steps that move the basis, and the
 *     trainer still runs the built-in rules beside it. */
#include <math.h>
#include <string.h>

#include "testutil.h"

enum { M = 4, N_ATOMS = 6, N_SAMPLES = 300 };

static void make_data(double *A, double *X)
{
    tu_rng r;
    tu_seed(&r, 11);
    tu_fill_normal(&r, A, M * N_ATOMS, 1.0);
    for (size_t k = 0; k < N_SAMPLES; k++) {
        double s[N_ATOMS];
        for (size_t j = 0; j < N_ATOMS; j++)
            s[j] = tu_uniform(&r) < 0.3 ? tu_normal(&r) : 0.0;
        for (size_t i = 0; i < M; i++) {
            double v = 0.05 * tu_normal(&r);
            for (size_t j = 0; j < N_ATOMS; j++) v += A[i * N_ATOMS + j] * s[j];
            X[k * M + i] = v;
        }
    }
}

START_TEST(test_toy_solver)
{
    ck_assert_uint_eq(ovica_solver_type_count(), 6);
    ck_assert_ptr_eq(ovica_solver_type_at(0), ovica_solver_pg);
    ck_assert_ptr_eq(ovica_solver_type_at(4), ovica_solver_auto);
    const ovica_solver_type *toy = ovica_solver_type_at(5);
    ck_assert_ptr_nonnull(toy);
    ck_assert_str_eq(ovica_solver_type_name(toy), "toy");
    ck_assert_ptr_eq(ovica_solver_type_find("toy"), toy);
    ck_assert_ptr_eq(ovica_solver_type_find("fista"), ovica_solver_fista);
    /* an unknown name's message lists the new type too */
    ovica_error_clear();
    ck_assert_ptr_null(ovica_solver_type_find("no-such-type"));
    ck_assert_ptr_nonnull(strstr(ovica_error_message(), "toy"));

    static double A[M * N_ATOMS], X[N_SAMPLES * M], S[N_SAMPLES * N_ATOMS];
    make_data(A, X);
    ovica_prior *prior = NULL;
    ovica_model *model = NULL;
    ovica_solver *s = NULL;
    ck_assert_status(ovica_prior_laplace_new(&prior, 1.0), OVICA_OK);
    ck_assert_status(ovica_model_new(&model, M, N_ATOMS, prior, 0.1), OVICA_OK);
    ck_assert_status(ovica_model_set_basis(model, A, M, N_ATOMS), OVICA_OK);
    ck_assert_status(ovica_solver_new(&s, toy), OVICA_OK);
    ck_assert_ptr_eq(ovica_solver_get_type(s), toy);
    ovica_infer_stats st = OVICA_INFER_STATS_INIT;
    for (int call = 0; call < 2; call++) /* the work memory is reused */
        ck_assert_status(ovica_solver_infer(s, model, X, N_SAMPLES, M, S, N_ATOMS, &st),
                         OVICA_OK);
    ck_assert_uint_eq(st.iterations, 1);
    ck_assert_uint_eq(st.converged, N_SAMPLES);
    ck_assert(isfinite(st.objective) && st.objective > 0.0);
    size_t zeros = 0, nonzeros = 0;
    for (size_t i = 0; i < N_SAMPLES * N_ATOMS; i++) {
        ck_assert(isfinite(S[i]));
        if (S[i] == 0.0) zeros++; else nonzeros++;
    }
    ck_assert_uint_gt(zeros, 0);    /* the prox thresholds */
    ck_assert_uint_gt(nonzeros, 0);
    ovica_solver_free(s);
    ovica_model_free(model);
    ovica_prior_free(prior);
}
END_TEST

START_TEST(test_toy_rule)
{
    ck_assert_uint_eq(ovica_rule_type_count(), 8);
    ck_assert_ptr_eq(ovica_rule_type_at(0), ovica_rule_natural);
    ck_assert_ptr_eq(ovica_rule_type_at(6), ovica_rule_dictionary);
    const ovica_rule_type *toy = ovica_rule_type_at(7);
    ck_assert_ptr_nonnull(toy);
    ck_assert_str_eq(ovica_rule_type_name(toy), "toy");
    ck_assert_ptr_eq(ovica_rule_type_find("toy"), toy);
    ck_assert_int_eq(ovica_rule_type_uses_draws(toy), 0);

    static double A[M * N_ATOMS], X[N_SAMPLES * M], B0[M * N_ATOMS], B1[M * N_ATOMS];
    make_data(A, X);
    ovica_prior *prior = NULL;
    ovica_model *model = NULL;
    ck_assert_status(ovica_prior_laplace_new(&prior, 1.0), OVICA_OK);
    ck_assert_status(ovica_model_new(&model, M, N_ATOMS, prior, 0.1), OVICA_OK);
    const ovica_rule_type *rules[] = {toy, ovica_rule_natural};
    for (size_t r = 0; r < 2; r++) {
        ovica_trainer *t = NULL;
        ck_assert_status(ovica_trainer_new(&t, model, rules[r], 5), OVICA_OK);
        ck_assert_ptr_eq(ovica_trainer_rule(t), rules[r]);
        ck_assert_status(ovica_trainer_set_param(t, OVICA_TRAIN_STEPS, 10), OVICA_OK);
        ck_assert_status(ovica_trainer_init_basis(t, OVICA_INIT_SPREAD, NULL, 0, M), OVICA_OK);
        ck_assert_status(ovica_model_get_basis(ovica_trainer_model(t), B0, M, N_ATOMS),
                         OVICA_OK);
        for (int k = 0; k < 3; k++) {
            ovica_step_stats ss = OVICA_STEP_STATS_INIT;
            ck_assert_status(ovica_trainer_step(t, X, N_SAMPLES, M, &ss), OVICA_OK);
            ck_assert_uint_eq(ss.step, (size_t)k);
            ck_assert_int_eq(ss.rule, 0);
            ck_assert(isfinite(ss.objective));
            ck_assert(ss.update > 0.0);
        }
        ck_assert_status(ovica_model_get_basis(ovica_trainer_model(t), B1, M, N_ATOMS),
                         OVICA_OK);
        ck_assert(tu_max_abs_diff(B0, B1, M * N_ATOMS) > 0.0);
        ovica_trainer_free(t);
    }
    ovica_model_free(model);
    ovica_prior_free(prior);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("extend");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_toy_solver);
    tcase_add_test(tc, test_toy_rule);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_run(suite()); }

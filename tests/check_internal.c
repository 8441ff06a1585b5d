/* Internal helpers that the public API cannot reach in every case, linked
 * from the static library (lib/libovica.a keeps the hidden symbols):
 *   - ovica__check_version: a library whose struct is at version 3 accepts
 *     callers at versions 1, 2 and 3 and refuses 0 and 4 (the public
 *     structs are all at version 1 today, so check_types can only show
 *     that version 1 is accepted and 0 and 2 refused);
 *   - ovica__append_name: the "known: a, b, c" lists of the registries'
 *     messages, and their truncation;
 *   - the regime state a checkpoint carries through auto's second probe. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "solver_internal.h"
#include "trainer_internal.h"
#include "testutil.h"

START_TEST(test_check_version)
{
    for (unsigned int v = 1; v <= 3; v++) {
        ovica_error_clear();
        ck_assert_int_eq(ovica__check_version("f", "opts", v, 3), OVICA_OK);
        ck_assert_int_eq(ovica_error_last(), OVICA_OK); /* no message on success */
    }
    const unsigned int bad[] = {0u, 4u, 99u, ~0u};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ovica_error_clear();
        ck_assert_int_eq(ovica__check_version("f", "opts", bad[i], 3), OVICA_EVERSION);
        ck_assert_int_eq(ovica_error_last(), OVICA_EVERSION);
        ck_assert_msg(strstr(ovica_error_message(), "f: opts version") != NULL &&
                          strstr(ovica_error_message(), "1 to 3") != NULL,
                      "message '%s'", ovica_error_message());
    }
}
END_TEST

START_TEST(test_append_name)
{
    char buf[32] = "";
    ovica__append_name(buf, sizeof buf, "pg");
    ck_assert_str_eq(buf, "pg");
    ovica__append_name(buf, sizeof buf, "ista");
    ovica__append_name(buf, sizeof buf, "fista");
    ck_assert_str_eq(buf, "pg, ista, fista");
    /* a list that does not fit is cut and marked, never overflowed */
    char small[12] = "";
    const char *names[] = {"natural", "plain", "reconstruction", "em"};
    for (size_t i = 0; i < 4; i++) ovica__append_name(small, sizeof small, names[i]);
    ck_assert_uint_eq(strlen(small), sizeof small - 1);
    ck_assert_str_eq(small + sizeof small - 4, "...");
    ck_assert_str_eq(small, "natural,..."); /* "natural, pl" cut, then marked */
    ovica__append_name(small, 0, "x"); /* no room at all: nothing written */
}
END_TEST

/* auto's second probe (src/trainer_sparse.c, ovica__auto_decide): sparse
 * sources with about 15 active atoms a sample in 32 dimensions pin the
 * threshold of the codes' own noise estimate, D is above the line at the
 * end of the probe, and a second probe runs with the refitted estimate. A
 * checkpoint taken inside it carries that state (the sparse route's
 * running statistics start again on resume, so the runs are not the same
 * step for step; both decide at the same step). */
START_TEST(test_checkpoint_second_probe)
{
    const size_t m = 32, n = 256, N = 2048;
    tu_sparse d;
    tu_sparse_make(&d, 41, m, n, N, 0.06, 0.01);
    const double *X = d.X;
    ovica_trainer *t = NULL;
    ck_assert_status(ovica_trainer_new(&t, d.model, ovica_rule_auto, 5), OVICA_OK);
    ck_assert_status(ovica_trainer_set_param(t, OVICA_TRAIN_PROBE, 25), OVICA_OK);
    for (int k = 0; k < 30; k++) ck_assert_status(ovica_trainer_step(t, X, N, m, NULL), OVICA_OK);
    /* (no decision at the probe's end: the second probe runs) */
    ck_assert_int_eq(ovica_trainer_regime(t), OVICA_REGIME_UNDECIDED);
    void *buf = NULL;
    size_t len = 0;
    ck_assert_status(ovica_checkpoint_save_buffer(t, &buf, &len), OVICA_OK);
    ovica_trainer *u = NULL;
    ck_assert_status(ovica_checkpoint_load_buffer(&u, buf, len), OVICA_OK);
    ovica__regime_state a, b;
    ovica__regime_get(t, &a);
    ovica__regime_get(u, &b);
    ck_assert_int_eq(a.noise_refit, 1);
    ck_assert_uint_eq(a.probe_ext, 25);
    ck_assert_int_eq(b.noise_refit, 1);
    ck_assert_uint_eq(b.probe_ext, 25);
    ck_assert(a.sig2 == b.sig2 && a.unexpl == b.unexpl && a.probe_d0 == b.probe_d0);
    ck_assert(a.probe_d0 > 0.6);
    for (int k = 0; k < 20; k++) {
        ck_assert_status(ovica_trainer_step(t, X, N, m, NULL), OVICA_OK);
        ck_assert_status(ovica_trainer_step(u, X, N, m, NULL), OVICA_OK);
    }
    ck_assert_int_eq(ovica_trainer_regime(t), OVICA_REGIME_SPARSE);
    ck_assert_int_eq(ovica_trainer_regime(u), OVICA_REGIME_SPARSE);
    ovica_free(buf);
    ovica_trainer_free(t);
    ovica_trainer_free(u);
    tu_sparse_free(&d);
}
END_TEST

/* The active-set coder's Gram matrix, which the trainer's refitted noise
 * estimate reads (ovica__solver_gram): A^T A of the model it coded with,
 * and NULL for another model, a coder that forms none, or before any call. */
/* G (or Gf, in float) is A^T A to tol. */
static void expect_gram(const double *A, size_t m, size_t n, const double *G, const float *Gf,
                        double tol)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double g = 0.0;
            for (size_t k = 0; k < m; k++) g += A[k * n + i] * A[k * n + j];
            ck_assert_double_eq_tol(G != NULL ? G[i * n + j] : (double)Gf[i * n + j], g, tol);
        }
}

START_TEST(test_solver_gram)
{
    const size_t m = 8, n = 16, N = 40;
    tu_sparse d;
    tu_sparse_make(&d, 3, m, n, N, 0.2, 0.01);
    const double *A = d.A;
    double *X = d.X, S[40 * 16];
    ovica_model *md = d.model, *other = NULL;
    ck_assert_status(ovica_model_new(&other, m, n, d.prior, 0.05), OVICA_OK);
    ck_assert_status(ovica_model_set_basis(md, A, m, n), OVICA_OK);
    ck_assert_status(ovica_model_set_basis(other, A, m, n), OVICA_OK);
    ovica_solver *act = NULL, *fista = NULL;
    ck_assert_status(ovica_solver_new(&act, ovica_solver_active), OVICA_OK);
    ck_assert_status(ovica_solver_new(&fista, ovica_solver_fista), OVICA_OK);
    ck_assert_ptr_null(ovica__solver_gram(act, md));
    ck_assert_ptr_null(ovica__solver_gram(NULL, md));
    ck_assert_status(ovica_solver_infer(act, md, X, N, m, S, n, NULL), OVICA_OK);
    const double *G = ovica__solver_gram(act, md);
    ck_assert_ptr_nonnull(G);
    expect_gram(A, m, n, G, NULL, 1e-12);
    ck_assert_ptr_null(ovica__solver_gram(act, other));
    /* a rejected call leaves it; a first-order coder forms none */
    X[0] = NAN;
    ck_assert_status(ovica_solver_infer(act, md, X, N, m, S, n, NULL), OVICA_ENONFINITE);
    ck_assert_ptr_eq(ovica__solver_gram(act, md), G);
    X[0] = 0.5;
    ovica_solver_infer(fista, md, X, N, m, S, n, NULL);
    ck_assert_ptr_null(ovica__solver_gram(fista, md));
    /* a single-precision call leaves the Gram matrix of the rounded basis
     * in float, and no double one; a double call the other way round */
    float Xf[40 * 8], Sf[40 * 16];
    for (size_t i = 0; i < N * m; i++) Xf[i] = (float)X[i];
    ck_assert_ptr_null(ovica__solver_gram_f32(act, md));
    ck_assert_status(ovica_solver_infer_f32(act, md, Xf, N, m, Sf, n, NULL), OVICA_OK);
    ck_assert_ptr_null(ovica__solver_gram(act, md));
    ck_assert_ptr_null(ovica__solver_gram_f32(act, other));
    const float *Gf = ovica__solver_gram_f32(act, md);
    ck_assert_ptr_nonnull(Gf);
    expect_gram(A, m, n, NULL, Gf, 1e-5);
    ck_assert_status(ovica_solver_infer(act, md, X, N, m, S, n, NULL), OVICA_OK);
    ck_assert_ptr_null(ovica__solver_gram_f32(act, md));
    ck_assert_ptr_nonnull(ovica__solver_gram(act, md));
    ovica_solver_free(act);
    ovica_solver_free(fista);
    ovica_model_free(other);
    tu_sparse_free(&d);
}
END_TEST


static Suite *suite(void)
{
    Suite *s = suite_create("internal");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_check_version);
    tcase_add_test(tc, test_append_name);
    tcase_add_test(tc, test_checkpoint_second_probe);
    tcase_add_test(tc, test_solver_gram);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_run(suite()); }

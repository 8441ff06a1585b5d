/* Threads (ovica.h): separate handles used from several threads at once
 * give exactly the results of a serial run; a model shared read-only by
 * several threads for inference and sampling is safe and stays unchanged;
 * the error message and the allocation hook are per thread. `make tsan`
 * runs this suite (and the others) under ThreadSanitizer. */
/* the allocation hooks (ovica/debug.h) are experimental */
#define OVICA_EXPERIMENTAL 1
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "ovica/debug.h"

enum { T = 4, M = 5, NA = 8, NS = 40, ROUNDS = 3 };

/* Everything one worker makes, compared bit for bit with the serial run. */
typedef struct {
    int id;
    const ovica_model *shared;   /* read-only model for the shared test */
    double A[M * NA];
    double S_true[NS * NA];
    double X[NS * M];
    double S_hat[NS * NA];
    double draws[NS * NA];
    double zs[NA * NA];
    double X_back[NS * M];
    double angles[NA];
    size_t assign[NA];
    double objective;
    char npy_path[256];
    int status;      /* first failure: a line number, 0 if none */
    char msg[256];
} work;

#define W_CHECK(w, expr)                                                        \
    do {                                                                        \
        int st_ = (expr);                                                       \
        if (st_ != OVICA_OK && st_ != OVICA_NOT_CONVERGED && (w)->status == 0) { \
            (w)->status = __LINE__;                                             \
            snprintf((w)->msg, sizeof (w)->msg, "%s: %d %s", #expr, st_,          \
                     ovica_error_message());                                    \
        }                                                                       \
    } while (0)

/* A whole pipeline on private handles: synthetic data, MAP inference,
 * posterior draws, metrics, .npy round trip. */
static void pipeline(work *w)
{
    ovica_rng *r = NULL;
    ovica_prior *p = NULL;
    ovica_model *md = NULL;
    ovica_solver *sv = NULL;
    ovica_sampler *sp = NULL;
    const ovica_solver_type *types[3] = {ovica_solver_pg, ovica_solver_ista, ovica_solver_fista};
    W_CHECK(w, ovica_rng_new(&r, 1000 + (uint64_t)w->id));
    W_CHECK(w, ovica_synth_random_basis(r, w->A, M, NA));
    W_CHECK(w, ovica_synth_sources(r, w->id % 2 ? OVICA_PRIOR_EXPONENTIAL : OVICA_PRIOR_LAPLACE,
                                   1.0, 0.3, w->S_true, NS, NA));
    W_CHECK(w, ovica_synth_mix(r, w->A, M, NA, w->S_true, NS, 0.05, w->X));
    if (w->id % 2) W_CHECK(w, ovica_prior_exponential_new(&p, 1.0));
    else W_CHECK(w, ovica_prior_laplace_new(&p, 1.0));
    W_CHECK(w, ovica_model_new(&md, M, NA, p, 0.1));
    W_CHECK(w, ovica_model_set_basis(md, w->A, M, NA));
    W_CHECK(w, ovica_solver_new(&sv, types[w->id % 3]));
    W_CHECK(w, ovica_solver_set_param(sv, OVICA_SOLVER_MAX_ITER, 200));
    for (int round = 0; round < ROUNDS && w->status == 0; round++) {
        ovica_infer_stats stats = OVICA_INFER_STATS_INIT;
        W_CHECK(w, ovica_solver_infer(sv, md, w->X, NS, M, w->S_hat, NA, &stats));
        w->objective = stats.objective;
    }
    W_CHECK(w, ovica_sampler_new(&sp, 77 + (uint64_t)w->id));
    memcpy(w->draws, w->S_hat, sizeof w->draws);
    memset(w->zs, 0, sizeof w->zs);
    ovica_posterior_accum acc = OVICA_POSTERIOR_ACCUM_INIT;
    acc.zs = w->zs;
    W_CHECK(w, ovica_sampler_run(sp, md, 0.1, w->X, NS, M, w->draws, NA, 4, &acc));
    W_CHECK(w, ovica_atoms_match(w->A, M, NA, w->A, NA, 0, w->assign, w->angles));
    W_CHECK(w, ovica_npy_write(w->npy_path, w->X, NS, M));
    W_CHECK(w, ovica_npy_read_into(w->npy_path, w->X_back, NS, M));
    unlink(w->npy_path);
    ovica_sampler_free(sp);
    ovica_solver_free(sv);
    ovica_model_free(md);
    ovica_prior_free(p);
    ovica_rng_free(r);
}

static void *pipeline_thread(void *arg)
{
    pipeline(arg);
    return NULL;
}

static void work_init(work *w, int id)
{
    memset(w, 0, sizeof *w);
    w->id = id;
    snprintf(w->npy_path, sizeof w->npy_path, "%s/ovica-threads-%ld-%d.npy",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (long)getpid(), id);
}

/* Bitwise comparison of two workers' results; the name of the first
 * difference, or NULL. */
static const char *work_diff(const work *a, const work *b)
{
#define CMP(field) if (memcmp(a->field, b->field, sizeof a->field) != 0) return #field
    CMP(A);
    CMP(S_true);
    CMP(X);
    CMP(S_hat);
    CMP(draws);
    CMP(zs);
    CMP(X_back);
    CMP(angles);
    CMP(assign);
#undef CMP
    if (memcmp(&a->objective, &b->objective, sizeof a->objective) != 0) return "objective";
    return NULL;
}

START_TEST(test_separate_handles_match_serial)
{
    static work serial[T], parallel[T];
    for (int i = 0; i < T; i++) {
        work_init(&serial[i], i);
        pipeline(&serial[i]);
        ck_assert_msg(serial[i].status == 0, "serial %d: %s", i, serial[i].msg);
    }
    pthread_t th[T];
    for (int i = 0; i < T; i++) {
        work_init(&parallel[i], i);
        ck_assert_int_eq(pthread_create(&th[i], NULL, pipeline_thread, &parallel[i]), 0);
    }
    for (int i = 0; i < T; i++) ck_assert_int_eq(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < T; i++) {
        ck_assert_msg(parallel[i].status == 0, "thread %d: %s", i, parallel[i].msg);
        const char *d = work_diff(&serial[i], &parallel[i]);
        ck_assert_msg(d == NULL, "thread %d: %s differs from the serial run", i, d);
    }
}
END_TEST

/* One model, read by every thread at once: inference with private solvers
 * and posterior draws with private samplers. */
static void shared_infer(work *w)
{
    ovica_solver *sv = NULL;
    ovica_sampler *sp = NULL;
    const ovica_solver_type *types[3] = {ovica_solver_pg, ovica_solver_ista, ovica_solver_fista};
    W_CHECK(w, ovica_solver_new(&sv, types[w->id % 3]));
    W_CHECK(w, ovica_solver_set_param(sv, OVICA_SOLVER_MAX_ITER, 150));
    W_CHECK(w, ovica_sampler_new(&sp, 5 + (uint64_t)w->id));
    for (int round = 0; round < ROUNDS && w->status == 0; round++) {
        ovica_infer_stats stats = OVICA_INFER_STATS_INIT;
        W_CHECK(w, ovica_solver_infer(sv, w->shared, w->X, NS, M, w->S_hat, NA, &stats));
        w->objective = stats.objective;
        double mean = 0.0;
        W_CHECK(w, ovica_model_objective(w->shared, w->X, NS, M, w->S_hat, NA, NULL, &mean));
        memcpy(w->draws, w->S_hat, sizeof w->draws);
        W_CHECK(w, ovica_sampler_run(sp, w->shared, 0.2, w->X, NS, M, w->draws, NA, 2, NULL));
    }
    ovica_sampler_free(sp);
    ovica_solver_free(sv);
}

static void *shared_thread(void *arg)
{
    shared_infer(arg);
    return NULL;
}

START_TEST(test_shared_model_read_only)
{
    tu_rng r;
    tu_seed(&r, 42);
    double A[M * NA], before[M * NA], lip0 = 0.0, lip1 = 0.0;
    tu_fill_normal(&r, A, M * NA, 1.0);
    ovica_prior *p = NULL;
    ovica_model *md = NULL;
    ck_assert_status(ovica_prior_laplace_new(&p, 0.5), OVICA_OK);
    ck_assert_status(ovica_model_new(&md, M, NA, p, 0.2), OVICA_OK);
    ovica_prior_free(p);
    ck_assert_status(ovica_model_set_basis(md, A, M, NA), OVICA_OK);
    ck_assert_status(ovica_model_lipschitz(md, &lip0), OVICA_OK);
    memcpy(before, ovica_model_basis(md), sizeof before);
    static work serial[T], parallel[T];
    for (int i = 0; i < T; i++) {
        work_init(&serial[i], i);
        serial[i].shared = md;
        tu_fill_normal(&r, serial[i].X, NS * M, 1.0);
        parallel[i] = serial[i];
        shared_infer(&serial[i]);
        ck_assert_msg(serial[i].status == 0, "serial %d: %s", i, serial[i].msg);
    }
    pthread_t th[T];
    for (int i = 0; i < T; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, shared_thread, &parallel[i]), 0);
    for (int i = 0; i < T; i++) ck_assert_int_eq(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < T; i++) {
        ck_assert_msg(parallel[i].status == 0, "thread %d: %s", i, parallel[i].msg);
        ck_assert_msg(memcmp(serial[i].S_hat, parallel[i].S_hat, sizeof serial[i].S_hat) == 0,
                      "thread %d: s_hat differs from the serial run", i);
        ck_assert_msg(memcmp(serial[i].draws, parallel[i].draws, sizeof serial[i].draws) == 0,
                      "thread %d: draws differ from the serial run", i);
    }
    ck_assert_msg(memcmp(before, ovica_model_basis(md), sizeof before) == 0,
                  "the shared model changed");
    ck_assert_status(ovica_model_lipschitz(md, &lip1), OVICA_OK);
    ck_assert(lip0 == lip1);
    ovica_model_free(md);
}
END_TEST

/* Errors and the allocation hook belong to the thread that made them. */
typedef struct {
    int id, bad;
    char why[160];
} errw;

static void *error_thread(void *arg)
{
    errw *e = arg;
    char want[64];
    /* a different invalid scale per thread: -1 - id */
    snprintf(want, sizeof want, "got %g", -1.0 - e->id);
    for (int k = 0; k < 200 && !e->bad; k++) {
        ovica_prior *p = NULL;
        int st = ovica_prior_laplace_new(&p, -1.0 - e->id);
        if (st != OVICA_EINVAL || strstr(ovica_error_message(), want) == NULL ||
            ovica_error_last() != OVICA_EINVAL) {
            e->bad = 1;
            snprintf(e->why, sizeof e->why, "thread %d saw %d '%s'", e->id, st,
                     ovica_error_message());
        }
        /* odd threads make every allocation fail; even ones must not notice */
        ovica_debug_fail_alloc(e->id % 2 ? -1 : 0);
        st = ovica_prior_laplace_new(&p, 1.0);
        ovica_debug_fail_alloc(0);
        if (st != (e->id % 2 ? OVICA_ENOMEM : OVICA_OK)) {
            e->bad = 1;
            snprintf(e->why, sizeof e->why, "thread %d: allocation status %d", e->id, st);
        }
        ovica_prior_free(p);
    }
    return NULL;
}

/* OVICA_TRAIN_THREADS: the trainer's codes and per-sample statistics on
 * two and three threads (ranges of atoms of unequal size) make the same
 * run, bit for bit, as on one (sparse route, 60 steps on drawn rows). */
static void sparse_run(int threads, double *A_out, size_t m, size_t n)
{
    tu_sparse p;
    tu_sparse_make(&p, 77, m, n, 4000, 0.05, 0.01);
    ovica_trainer *t = NULL;
    ck_assert_status(ovica_trainer_new(&t, p.model, ovica_rule_auto, 3), OVICA_OK);
    ck_assert_status(ovica_trainer_set_param(t, OVICA_TRAIN_THREADS, threads), OVICA_OK);
    double got = 0.0;
    ck_assert_status(ovica_trainer_get_param(t, OVICA_TRAIN_THREADS, &got), OVICA_OK);
    ck_assert_double_eq(got, threads);
    for (int k = 0; k < 60; k++) ck_assert_status(ovica_trainer_step(t, p.X, p.N, m, NULL), OVICA_OK);
    memcpy(A_out, ovica_model_basis(ovica_trainer_model(t)), m * n * sizeof(double));
    ck_assert_error(ovica_trainer_set_param(t, OVICA_TRAIN_THREADS, 0.0), OVICA_EINVAL);
    ovica_trainer_free(t);
    tu_sparse_free(&p);
}

START_TEST(test_trainer_threads_same_run)
{
    const size_t m = 16, n = 32;
    double *one = malloc(m * n * sizeof *one), *two = malloc(m * n * sizeof *two);
    ck_assert(one && two);
    sparse_run(1, one, m, n);
    sparse_run(2, two, m, n);
    ck_assert_double_eq(tu_max_abs_diff(one, two, m * n), 0.0);
    sparse_run(3, two, m, n);
    ck_assert_double_eq(tu_max_abs_diff(one, two, m * n), 0.0);
    free(one);
    free(two);
}
END_TEST

START_TEST(test_errors_and_hook_per_thread)
{
    errw e[T];
    pthread_t th[T];
    ovica_error_clear();
    for (int i = 0; i < T; i++) {
        e[i].id = i;
        e[i].bad = 0;
        e[i].why[0] = '\0';
        ck_assert_int_eq(pthread_create(&th[i], NULL, error_thread, &e[i]), 0);
    }
    for (int i = 0; i < T; i++) ck_assert_int_eq(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < T; i++) ck_assert_msg(!e[i].bad, "%s", e[i].why);
    ck_assert_str_eq(ovica_error_message(), "");
    ck_assert_int_eq(ovica_error_last(), OVICA_OK);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("threads");
    TCase *tc = tcase_create("threads");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_separate_handles_match_serial);
    tcase_add_test(tc, test_shared_model_read_only);
    tcase_add_test(tc, test_errors_and_hook_per_thread);
    tcase_add_test(tc, test_trainer_threads_same_run);
    suite_add_tcase(s, tc);
    return tu_run(s);
}

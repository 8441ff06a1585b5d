/* Trainer: parameters, initialisation, the accumulate/apply split, guards,
 * schedules and bad input. (The article's experiments: check_experiments.c.) */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

typedef struct {
    size_t m, n, N;
    double *X, *A_true;
    ovica_model *model;
} problem;

/* Data from a 2-D regular 3-source exponential model. */
static problem make_problem(int kind, size_t N, uint64_t seed)
{
    problem p = {2, 3, N, NULL, NULL, NULL};
    ovica_rng *r = NULL;
    ck_assert_status(ovica_rng_new(&r, seed), OVICA_OK);
    p.A_true = malloc(6 * sizeof(double));
    p.X = malloc(N * 2 * sizeof(double));
    double *S = malloc(N * 3 * sizeof(double));
    ck_assert_status(ovica_synth_basis_2d(OVICA_SYNTH_REGULAR3, p.A_true, 2, 3), OVICA_OK);
    ck_assert_status(ovica_synth_sources(r, kind, 1.0, 1.0, S, N, 3), OVICA_OK);
    ck_assert_status(ovica_synth_mix(r, p.A_true, 2, 3, S, N, 0.05, p.X), OVICA_OK);
    ovica_prior *pr = NULL;
    if (kind == OVICA_PRIOR_LAPLACE) ck_assert_status(ovica_prior_laplace_new(&pr, 1.0), OVICA_OK);
    else ck_assert_status(ovica_prior_exponential_new(&pr, 1.0), OVICA_OK);
    ck_assert_status(ovica_model_new(&p.model, 2, 3, pr, 0.05), OVICA_OK);
    ovica_prior_free(pr);
    ovica_rng_free(r);
    free(S);
    return p;
}

static void free_problem(problem *p)
{
    free(p->X);
    free(p->A_true);
    ovica_model_free(p->model);
}

static int all_finite(const double *a, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!isfinite(a[i])) return 0;
    return 1;
}

START_TEST(test_params_and_rules)
{
    problem p = make_problem(OVICA_PRIOR_EXPONENTIAL, 200, 1);
    ovica_trainer *t = NULL;
    ck_assert_status(ovica_trainer_new(&t, p.model, ovica_rule_type_find("auto"), 1), OVICA_OK);
    ck_assert_ptr_eq(ovica_trainer_rule(t), ovica_rule_auto);
    ck_assert_str_eq(ovica_rule_type_name(ovica_rule_em), "em");
    ck_assert_int_eq(ovica_rule_type_uses_draws(ovica_rule_exact), 1);
    ck_assert_int_eq(ovica_rule_type_uses_draws(ovica_rule_natural), 0);
    ck_assert_int_eq(ovica_rule_type_uses_draws(NULL), -1);
    ck_assert_ptr_null(ovica_rule_type_find("sgd"));
    double v, lo, hi;
    for (int q = 0; q <= OVICA_TRAIN_PRECISION; q++) {
        ck_assert_status(ovica_trainer_get_param(t, q, &v), OVICA_OK);
        ck_assert_status(ovica_trainer_param_bounds(q, &lo, &hi), OVICA_OK);
        ck_assert_msg(v >= lo && v <= hi, "param %d default %g outside [%g, %g]", q, v, lo, hi);
        ck_assert_status(ovica_trainer_set_param(t, q, v), OVICA_OK); /* defaults are settable */
    }
    ck_assert_error(ovica_trainer_set_param(t, OVICA_TRAIN_LR, 0.0), OVICA_EINVAL);
    ck_assert_error(ovica_trainer_set_param(t, OVICA_TRAIN_LR, NAN), OVICA_ENONFINITE);
    ck_assert_error(ovica_trainer_set_param(t, 999, 1.0), OVICA_EINVAL);
    ck_assert_error(ovica_trainer_param_bounds(-1, &lo, &hi), OVICA_EINVAL);
    ck_assert_error(ovica_trainer_param_bounds(OVICA_TRAIN_PRECISION + 1, &lo, &hi), OVICA_EINVAL);
    ck_assert_status(ovica_trainer_get_param(t, OVICA_TRAIN_LR, &v), OVICA_OK);
    ck_assert_double_eq(v, 0.3);
    ovica_trainer_free(t);
    ovica_trainer_free(NULL);
    free_problem(&p);
}
END_TEST

static double min_line_angle(const double *A, size_t m, size_t n, int rays)
{
    double best = 180.0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            double d = 0.0, a = 0.0, b = 0.0;
            for (size_t r = 0; r < m; r++) {
                d += A[r * n + i] * A[r * n + j];
                a += A[r * n + i] * A[r * n + i];
                b += A[r * n + j] * A[r * n + j];
            }
            double c = d / sqrt(a * b);
            if (!rays) c = fabs(c);
            double ang = acos(fmin(1.0, fmax(-1.0, c))) * 180.0 / 3.141592653589793;
            if (ang < best) best = ang;
        }
    return best;
}

START_TEST(test_init_methods)
{
    problem p = make_problem(OVICA_PRIOR_EXPONENTIAL, 500, 2);
    ovica_trainer *t = NULL;
    ck_assert_status(ovica_trainer_new(&t, p.model, ovica_rule_natural, 3), OVICA_OK);
    const double *A;
    /* spread rays: 3 unit atoms in the plane end up ~120 degrees apart */
    ck_assert_status(ovica_trainer_init_basis(t, OVICA_INIT_SPREAD, p.X, p.N, 2), OVICA_OK);
    A = ovica_model_basis(ovica_trainer_model(t));
    ck_assert_double_ge(min_line_angle(A, 2, 3, 1), 115.0);
    /* every data point lies in some atom's positive half-space */
    size_t uncovered = 0;
    for (size_t k = 0; k < p.N; k++) {
        double best = -INFINITY;
        for (size_t j = 0; j < 3; j++) {
            double d = p.X[k * 2] * A[j] + p.X[k * 2 + 1] * A[3 + j];
            if (d > best) best = d;
        }
        uncovered += best <= 0.0;
    }
    ck_assert_uint_eq(uncovered, 0);
    ck_assert_status(ovica_trainer_init_basis(t, OVICA_INIT_DATA, p.X, p.N, 2), OVICA_OK);
    A = ovica_model_basis(ovica_trainer_model(t));
    for (size_t j = 0; j < 3; j++) ck_assert_double_eq_tol(hypot(A[j], A[3 + j]), 1.0, 1e-12);
    ck_assert_status(ovica_trainer_init_basis(t, OVICA_INIT_RANDOM, NULL, 0, 2), OVICA_OK);
    ck_assert_error(ovica_trainer_init_basis(t, OVICA_INIT_DATA, NULL, 0, 2), OVICA_EINVAL);
    ck_assert_error(ovica_trainer_init_basis(t, 7, p.X, p.N, 2), OVICA_EINVAL);
    ovica_trainer_free(t);
    free_problem(&p);

    /* spread lines in 8 dimensions, 16 atoms: far better than random */
    ovica_prior *lp = NULL;
    ovica_model *md = NULL;
    ck_assert_status(ovica_prior_laplace_new(&lp, 1.0), OVICA_OK);
    ck_assert_status(ovica_model_new(&md, 8, 16, lp, 0.1), OVICA_OK);
    ck_assert_status(ovica_trainer_new(&t, md, ovica_rule_natural, 4), OVICA_OK);
    ck_assert_status(ovica_trainer_init_basis(t, OVICA_INIT_RANDOM, NULL, 0, 8), OVICA_OK);
    double rnd = min_line_angle(ovica_model_basis(ovica_trainer_model(t)), 8, 16, 0);
    ck_assert_status(ovica_trainer_init_basis(t, OVICA_INIT_SPREAD, NULL, 0, 8), OVICA_OK);
    double spr = min_line_angle(ovica_model_basis(ovica_trainer_model(t)), 8, 16, 0);
    ck_assert_msg(spr > rnd + 10.0 && spr > 55.0, "spread %g vs random %g degrees", spr, rnd);
    ovica_trainer_free(t);
    ovica_model_free(md);
    ovica_prior_free(lp);
}
END_TEST

/* step == accumulate + export + import + apply, bit for bit. */
START_TEST(test_accumulate_apply_split)
{
    for (int r = 0; r < 2; r++) {
        const ovica_rule_type *rule = r == 0 ? ovica_rule_natural : ovica_rule_exact;
        problem p = make_problem(OVICA_PRIOR_EXPONENTIAL, 400, 5);
        ovica_trainer *a = NULL, *b = NULL;
        ck_assert_status(ovica_trainer_new(&a, p.model, rule, 9), OVICA_OK);
        ck_assert_status(ovica_trainer_new(&b, p.model, rule, 9), OVICA_OK);
        ck_assert_status(ovica_trainer_init_basis(a, OVICA_INIT_SPREAD, p.X, p.N, 2), OVICA_OK);
        ck_assert_status(ovica_trainer_init_basis(b, OVICA_INIT_SPREAD, p.X, p.N, 2), OVICA_OK);
        size_t len = ovica_trainer_stats_size(a);
        ck_assert_uint_eq(len, 7 + 3 + 2 * 9 + 6);
        double *buf = malloc(len * sizeof *buf), *half = malloc(len * sizeof *half);
        for (int k = 0; k < 5; k++) {
            ovica_step_stats sa = OVICA_STEP_STATS_INIT, sb = OVICA_STEP_STATS_INIT;
            ck_assert_status(ovica_trainer_step(a, p.X, p.N, 2, &sa), OVICA_OK);
            /* b: two halves accumulated separately, summed outside, imported */
            ck_assert_status(ovica_trainer_accumulate(b, p.X, p.N, 2), OVICA_OK);
            ck_assert_status(ovica_trainer_stats_export(b, buf, len), OVICA_OK);
            ck_assert_status(ovica_trainer_stats_import(b, buf, len), OVICA_OK);
            ck_assert_status(ovica_trainer_apply(b, &sb), OVICA_OK);
            ck_assert_double_eq(tu_max_abs_diff(ovica_model_basis(ovica_trainer_model(a)),
                                                ovica_model_basis(ovica_trainer_model(b)), 6), 0.0);
            ck_assert_uint_eq(sa.step, (size_t)k);
            ck_assert_double_eq(sa.objective, sb.objective);
            ck_assert_double_eq(sa.samples, 400.0);
        }
        ck_assert_uint_eq(ovica_trainer_step_index(a), 5);
        /* statistics of two half batches add up to those of the whole */
        ck_assert_status(ovica_trainer_clear_stats(b), OVICA_OK);
        ck_assert_error(ovica_trainer_apply(b, NULL), OVICA_ESTATE);
        ck_assert_error(ovica_trainer_stats_import(b, buf, len - 1), OVICA_ESIZE);
        buf[0] = NAN;
        ck_assert_error(ovica_trainer_stats_import(b, buf, len), OVICA_ENONFINITE);
        buf[0] = -4.0;
        ck_assert_error(ovica_trainer_stats_import(b, buf, len), OVICA_EFORMAT);
        free(buf);
        free(half);
        ovica_trainer_free(a);
        ovica_trainer_free(b);
        free_problem(&p);
    }
}
END_TEST

START_TEST(test_nan_batch_refused)
{
    problem p = make_problem(OVICA_PRIOR_EXPONENTIAL, 300, 6);
    ovica_trainer *t = NULL;
    ck_assert_status(ovica_trainer_new(&t, p.model, ovica_rule_auto, 1), OVICA_OK);
    ovica_step_stats st = OVICA_STEP_STATS_INIT;
    ck_assert_status(ovica_trainer_step(t, p.X, p.N, 2, &st), OVICA_OK);
    double before[6], after[6];
    ck_assert_status(ovica_model_get_basis(ovica_trainer_model(t), before, 2, 3), OVICA_OK);
    p.X[101] = NAN;
    ck_assert_error(ovica_trainer_step(t, p.X, p.N, 2, &st), OVICA_ENONFINITE);
    ck_assert_status(ovica_model_get_basis(ovica_trainer_model(t), after, 2, 3), OVICA_OK);
    ck_assert_double_eq(tu_max_abs_diff(before, after, 6), 0.0);
    ck_assert_uint_eq(ovica_trainer_step_index(t), 1);
    p.X[101] = 0.5;
    ck_assert_error(ovica_trainer_step(t, p.X, p.N, 3, &st), OVICA_ESIZE);
    ck_assert_error(ovica_trainer_step(t, p.X, 0, 2, &st), OVICA_EINVAL);
    ck_assert_error(ovica_trainer_step(t, NULL, p.N, 2, &st), OVICA_EINVAL);
    ck_assert_error(ovica_trainer_step(NULL, p.X, p.N, 2, &st), OVICA_EINVAL);
    st.version = 42;
    ck_assert_error(ovica_trainer_step(t, p.X, p.N, 2, &st), OVICA_EVERSION);
    st.version = OVICA_STEP_STATS_VERSION;
    ck_assert_status(ovica_trainer_step(t, p.X, p.N, 2, &st), OVICA_OK); /* still usable */
    ck_assert_uint_eq(ovica_trainer_step_index(t), 2);
    ovica_trainer_free(t);
    free_problem(&p);
}
END_TEST

/* ovica_trainer_step_f32 with OVICA_PRECISION_DOUBLE: the step on float32
 * data is the step on the same values widened to double, bit for bit,
 * whichever way the step reads its batch: rows drawn at random (auto's
 * sparse route, 3000 rows for a step of 1024), the whole batch (the
 * natural rule), consecutive blocks of 5000 (the exact rule on 20001
 * rows). With `single`, the same holds between the float data at the
 * default precision (single for float input) and the widened data at
 * OVICA_PRECISION_SINGLE: both code the same float rows in single
 * precision. */
static void same_as_double(const ovica_rule_type *rule, const double *X, size_t N, size_t m,
                           ovica_model *md, int steps, int single)
{
    const size_t n = ovica_model_atoms(md);
    float *Xf = malloc(N * m * sizeof *Xf);
    double *Xd = malloc(N * m * sizeof *Xd), *A = malloc(m * n * sizeof *A);
    double *B = malloc(m * n * sizeof *B);
    ck_assert(Xf && Xd && A && B);
    for (size_t i = 0; i < N * m; i++) {
        Xf[i] = (float)X[i];
        Xd[i] = (double)Xf[i];
    }
    ovica_trainer *a = NULL, *b = NULL;
    ck_assert_status(ovica_trainer_new(&a, md, rule, 3), OVICA_OK);
    ck_assert_status(ovica_trainer_new(&b, md, rule, 3), OVICA_OK);
    if (single)
        ck_assert_status(ovica_trainer_set_param(a, OVICA_TRAIN_PRECISION, OVICA_PRECISION_SINGLE),
                         OVICA_OK);
    else
        ck_assert_status(ovica_trainer_set_param(b, OVICA_TRAIN_PRECISION, OVICA_PRECISION_DOUBLE),
                         OVICA_OK);
    for (int k = 0; k < steps; k++) {
        ovica_step_stats sa = OVICA_STEP_STATS_INIT, sb = OVICA_STEP_STATS_INIT;
        ck_assert_status(ovica_trainer_step(a, Xd, N, m, &sa), OVICA_OK);
        ck_assert_status(ovica_trainer_step_f32(b, Xf, N, m, &sb), OVICA_OK);
        ck_assert(sa.objective == sb.objective && sa.samples == sb.samples);
    }
    ck_assert_status(ovica_model_get_basis(ovica_trainer_model(a), A, m, n), OVICA_OK);
    ck_assert_status(ovica_model_get_basis(ovica_trainer_model(b), B, m, n), OVICA_OK);
    ck_assert_msg(memcmp(A, B, m * n * sizeof *A) == 0, "rule %s: the bases differ by %g",
                  ovica_rule_type_name(rule), tu_max_abs_diff(A, B, m * n));
    ck_assert_int_eq(ovica_trainer_regime(a), ovica_trainer_regime(b));
    ovica_trainer_free(a);
    ovica_trainer_free(b);
    free(Xf);
    free(Xd);
    free(A);
    free(B);
}

START_TEST(test_step_f32_same_as_double)
{
    tu_sparse sp;
    tu_sparse_make(&sp, 12, 16, 32, 3000, 0.05, 0.01);
    for (int single = 0; single < 2; single++) {
        same_as_double(ovica_rule_auto, sp.X, sp.N, sp.m, sp.model, 12, single);
        problem p = make_problem(OVICA_PRIOR_EXPONENTIAL, 400, 8);
        same_as_double(ovica_rule_natural, p.X, p.N, 2, p.model, 4, single);
        free_problem(&p);
        p = make_problem(OVICA_PRIOR_EXPONENTIAL, 20001, 9);
        same_as_double(ovica_rule_exact, p.X, p.N, 2, p.model, 3, single);
        free_problem(&p);
    }
    tu_sparse_free(&sp);
}
END_TEST

/* The default precision codes float data in single precision: the run
 * differs from the double one (the path is taken) but recovers the same
 * basis. 32 x 64, 5% active: both runs' MMCS against the truth within
 * 0.003 of each other and above 0.99. A precision outside the enum is
 * refused and leaves the trainer usable. */
START_TEST(test_step_f32_single_recovers)
{
    tu_sparse sp;
    tu_sparse_make(&sp, 31, 32, 64, 20000, 0.05, 0.01);
    const size_t m = sp.m, n = sp.n, N = sp.N;
    float *Xf = malloc(N * m * sizeof *Xf);
    double *Xd = malloc(N * m * sizeof *Xd), *B = malloc(m * n * sizeof *B);
    ck_assert(Xf && Xd && B);
    for (size_t i = 0; i < N * m; i++) {
        Xf[i] = (float)sp.X[i];
        Xd[i] = (double)Xf[i];
    }
    double mmcs[2], obj[2] = {0.0, 0.0};
    for (int single = 0; single < 2; single++) {
        ovica_trainer *t = NULL;
        ck_assert_status(ovica_trainer_new(&t, sp.model, ovica_rule_auto, 5), OVICA_OK);
        ck_assert_status(ovica_trainer_set_param(t, OVICA_TRAIN_STEPS, 200), OVICA_OK);
        for (int k = 0; k < 200; k++) {
            ovica_step_stats st = OVICA_STEP_STATS_INIT;
            ck_assert_status(single ? ovica_trainer_step_f32(t, Xf, N, m, &st)
                                    : ovica_trainer_step(t, Xd, N, m, &st),
                             OVICA_OK);
            if (k == 60) obj[single] = st.objective;
        }
        if (single) {
            ck_assert_error(ovica_trainer_set_param(t, OVICA_TRAIN_PRECISION, 3.0), OVICA_EINVAL);
            ovica_step_stats st = OVICA_STEP_STATS_INIT;
            ck_assert_status(ovica_trainer_step_f32(t, Xf, N, m, &st), OVICA_OK);
        }
        ck_assert_status(ovica_model_get_basis(ovica_trainer_model(t), B, m, n), OVICA_OK);
        ovica_recovery rc = OVICA_RECOVERY_INIT;
        ck_assert_status(ovica_recovery_eval(B, m, n, sp.A, n, 1, 8.1, NULL, 0, &rc), OVICA_OK);
        mmcs[single] = rc.mmcs;
        ovica_trainer_free(t);
    }
    ck_assert(obj[0] != obj[1]);
    ck_assert_msg(mmcs[0] > 0.99 && mmcs[1] > 0.99 && fabs(mmcs[0] - mmcs[1]) < 0.003,
                  "MMCS double %.4f, single %.4f", mmcs[0], mmcs[1]);
    free(Xf);
    free(Xd);
    free(B);
    tu_sparse_free(&sp);
}
END_TEST

/* Bad input to the single-precision entry points: a clear status, the
 * model unchanged, the handle usable. */
START_TEST(test_step_f32_bad_input)
{
    problem p = make_problem(OVICA_PRIOR_EXPONENTIAL, 300, 6);
    float *Xf = malloc(p.N * 2 * sizeof *Xf);
    ck_assert(Xf != NULL);
    for (size_t i = 0; i < p.N * 2; i++) Xf[i] = (float)p.X[i];
    ovica_trainer *t = NULL;
    ck_assert_status(ovica_trainer_new(&t, p.model, ovica_rule_auto, 1), OVICA_OK);
    ovica_step_stats st = OVICA_STEP_STATS_INIT;
    ck_assert_status(ovica_trainer_step_f32(t, Xf, p.N, 2, &st), OVICA_OK);
    double before[6], after[6];
    ck_assert_status(ovica_model_get_basis(ovica_trainer_model(t), before, 2, 3), OVICA_OK);
    Xf[101] = NAN;
    ck_assert_error(ovica_trainer_step_f32(t, Xf, p.N, 2, &st), OVICA_ENONFINITE);
    Xf[101] = INFINITY;
    ck_assert_error(ovica_trainer_accumulate_f32(t, Xf, p.N, 2), OVICA_ENONFINITE);
    ck_assert_status(ovica_model_get_basis(ovica_trainer_model(t), after, 2, 3), OVICA_OK);
    ck_assert_double_eq(tu_max_abs_diff(before, after, 6), 0.0);
    Xf[101] = 0.5f;
    ck_assert_error(ovica_trainer_step_f32(t, Xf, p.N, 3, &st), OVICA_ESIZE);
    ck_assert_error(ovica_trainer_step_f32(t, Xf, 0, 2, &st), OVICA_EINVAL);
    ck_assert_error(ovica_trainer_step_f32(t, NULL, p.N, 2, &st), OVICA_EINVAL);
    ck_assert_error(ovica_trainer_step_f32(NULL, Xf, p.N, 2, &st), OVICA_EINVAL);
    ck_assert_error(ovica_trainer_accumulate_f32(NULL, Xf, p.N, 2), OVICA_EINVAL);
    ck_assert_error(ovica_trainer_accumulate_f32(t, NULL, p.N, 2), OVICA_EINVAL);
    st.version = 42;
    ck_assert_error(ovica_trainer_step_f32(t, Xf, p.N, 2, &st), OVICA_EVERSION);
    st.version = OVICA_STEP_STATS_VERSION;
    ck_assert_uint_eq(ovica_trainer_step_index(t), 1);
    ck_assert_status(ovica_trainer_step_f32(t, Xf, p.N, 2, &st), OVICA_OK); /* still usable */
    ck_assert_uint_eq(ovica_trainer_step_index(t), 2);
    ovica_trainer_free(t);
    free(Xf);
    free_problem(&p);
}
END_TEST

/* A learning rate large enough to diverge: the guards fire, the step says
 * so, and the basis stays finite and is the best one seen. */
/* A batch larger than a step (the sparse route draws 1024 of its 3000 rows):
 * a batch passed for the first time is checked whole, so a NaN in any row
 * is refused at once; when the same batch comes back only the drawn rows
 * are checked, and a NaN in every row is still refused (no step reads a
 * non-finite value). */
START_TEST(test_nan_in_large_batch)
{
    problem p = make_problem(OVICA_PRIOR_EXPONENTIAL, 3000, 7);
    ovica_trainer *t = NULL;
    ck_assert_status(ovica_trainer_new(&t, p.model, ovica_rule_dictionary, 1), OVICA_OK);
    p.X[2 * 2999 + 1] = NAN; /* the last row */
    ck_assert_error(ovica_trainer_step(t, p.X, p.N, 2, NULL), OVICA_ENONFINITE);
    ck_assert_uint_eq(ovica_trainer_step_index(t), 0);
    p.X[2 * 2999 + 1] = 0.25;
    for (int k = 0; k < 3; k++) ck_assert_status(ovica_trainer_step(t, p.X, p.N, 2, NULL), OVICA_OK);
    double before[6], after[6];
    ck_assert_status(ovica_model_get_basis(ovica_trainer_model(t), before, 2, 3), OVICA_OK);
    for (size_t i = 0; i < p.N; i++) p.X[2 * i] = INFINITY;
    ck_assert_error(ovica_trainer_step(t, p.X, p.N, 2, NULL), OVICA_ENONFINITE);
    ck_assert_status(ovica_model_get_basis(ovica_trainer_model(t), after, 2, 3), OVICA_OK);
    ck_assert_double_eq(tu_max_abs_diff(before, after, 6), 0.0);
    ck_assert_uint_eq(ovica_trainer_step_index(t), 3);
    ovica_trainer_free(t);
    free_problem(&p);
}
END_TEST

/* The sparse route's update settles: on 32 x 64 with 5% active sources
 * the Jacobi sweep's preconditioned matrix D^-1/2 C D^-1/2 has its largest
 * eigenvalue above 2, where an undamped sweep oscillates (relative updates
 * of 0.1-0.2 per step and MMCS moving between 0.993 and 0.9998 to the end);
 * the damped one converges: small updates at the end, MMCS >= 0.999. */
START_TEST(test_sparse_update_settles)
{
    const size_t m = 32, n = 64, N = 8000, steps = 300;
    tu_sparse pb;
    tu_sparse_make(&pb, 5001, m, n, N, 0.05, 0.01);
    const double *A = pb.A, *X = pb.X;
    ovica_trainer *t = NULL;
    ck_assert_status(ovica_trainer_new(&t, pb.model, ovica_rule_dictionary, 1), OVICA_OK);
    ck_assert_status(ovica_trainer_set_param(t, OVICA_TRAIN_STEPS, (double)steps), OVICA_OK);
    double late = 0.0;
    size_t settled = 0; /* the first step after which the convergence test passed */
    for (size_t k = 0; k < steps; k++) {
        ovica_step_stats st = OVICA_STEP_STATS_INIT;
        ck_assert_status(ovica_trainer_step(t, X, N, m, &st), OVICA_OK);
        if (k >= steps - 50) late = fmax(late, st.update);
        const int c = ovica_trainer_converged(t);
        ck_assert_int_ge(c, 0);
        /* evaluated only every OVICA_TRAIN_STOP_LAG steps, never before the third */
        if (c == 1 && settled == 0) settled = k + 1;
    }
    ck_assert_msg(settled >= 3 * OVICA_TRAIN_STOP_LAG && settled % OVICA_TRAIN_STOP_LAG == 0 &&
                      settled < steps,
                  "the convergence test passed first after step %zu of %zu", settled, steps);
    ck_assert_int_eq(ovica_trainer_converged(NULL), -1);
    ovica_recovery rc = OVICA_RECOVERY_INIT;
    ck_assert_status(ovica_recovery_eval(ovica_model_basis(ovica_trainer_model(t)), m, n, A, n, 1,
                                         8.0, NULL, 0, &rc),
                     OVICA_OK);
    ck_assert_msg(late < 0.02, "largest relative update over the last 50 steps: %g", late);
    ck_assert_msg(rc.mmcs >= 0.999, "MMCS %.4f", rc.mmcs);
    /* a new basis starts the test afresh; stop = 0 turns it off */
    ck_assert_status(ovica_trainer_set_basis(t, A, m, n), OVICA_OK);
    ck_assert_int_eq(ovica_trainer_converged(t), 0);
    ck_assert_status(ovica_trainer_set_param(t, OVICA_TRAIN_STOP, 0.0), OVICA_OK);
    for (size_t k = 0; k < 4 * OVICA_TRAIN_STOP_LAG; k++) {
        ck_assert_status(ovica_trainer_step(t, X, N, m, NULL), OVICA_OK);
        ck_assert_int_eq(ovica_trainer_converged(t), 0);
    }
    ovica_trainer_free(t);
    tu_sparse_free(&pb);
}
END_TEST

START_TEST(test_divergence_guard)
{
    problem p = make_problem(OVICA_PRIOR_LAPLACE, 2000, 7);
    ovica_trainer *t = NULL;
    ck_assert_status(ovica_trainer_new(&t, p.model, ovica_rule_natural, 2), OVICA_OK);
    ck_assert_status(ovica_trainer_set_param(t, OVICA_TRAIN_SCHEDULE, 0), OVICA_OK);
    ck_assert_status(ovica_trainer_set_param(t, OVICA_TRAIN_LR, 100.0), OVICA_OK);
    ck_assert_status(ovica_trainer_set_param(t, OVICA_TRAIN_STEP_CAP, 0.0), OVICA_OK); /* no cap */
    ck_assert_status(ovica_trainer_set_param(t, OVICA_TRAIN_MONITOR_EVERY, 1), OVICA_OK);
    int guards = 0;
    for (int k = 0; k < 30; k++) {
        ovica_step_stats st = OVICA_STEP_STATS_INIT;
        ck_assert_status(ovica_trainer_step(t, p.X, p.N, 2, &st), OVICA_OK);
        guards |= st.guard;
        ck_assert(all_finite(ovica_model_basis(ovica_trainer_model(t)), 6));
    }
    ck_assert_msg(guards & OVICA_GUARD_ROLLBACK, "no rollback with lr 100 (guards %d)", guards);
    ck_assert_int_eq(ovica_trainer_converged(t), 0); /* the MAP rules run their schedule */
    double best[6], obj;
    ck_assert_status(ovica_trainer_best_basis(t, best, 2, 3, &obj), OVICA_OK);
    ck_assert(all_finite(best, 6) && isfinite(obj));
    ck_assert_status(ovica_trainer_restore_best(t), OVICA_OK);
    ck_assert_double_eq(tu_max_abs_diff(best, ovica_model_basis(ovica_trainer_model(t)), 6), 0.0);
    double lr;
    ck_assert_status(ovica_trainer_get_param(t, OVICA_TRAIN_LR, &lr), OVICA_OK);
    ck_assert_double_eq(lr, 100.0); /* the parameter is kept; the back-off is internal */
    ovica_trainer_free(t);
    free_problem(&p);
}
END_TEST

static double bad_schedule(size_t step, size_t total, void *user)
{
    (void)total;
    int *calls = user;
    ++*calls;
    return step >= 2 ? NAN : 0.01;
}

static double half_sigma(size_t step, size_t total, void *user)
{
    (void)step; (void)total; (void)user;
    return 0.1;
}

START_TEST(test_schedules)
{
    problem p = make_problem(OVICA_PRIOR_EXPONENTIAL, 300, 8);
    ovica_trainer *t = NULL;
    ck_assert_status(ovica_trainer_new(&t, p.model, ovica_rule_exact, 1), OVICA_OK);
    ck_assert_status(ovica_trainer_set_param(t, OVICA_TRAIN_STEPS, 100), OVICA_OK);
    ck_assert_status(ovica_trainer_set_param(t, OVICA_TRAIN_ANNEAL, 10), OVICA_OK);
    /* built-in: warm-up then cosine, and sigma annealed from 10 sigma */
    ovica_step_stats st = OVICA_STEP_STATS_INIT;
    ck_assert_status(ovica_trainer_step(t, p.X, p.N, 2, &st), OVICA_OK);
    ck_assert_double_eq_tol(st.lr, 0.3 * 0.5 / 10.0, 1e-12);
    ck_assert_double_eq_tol(st.sigma_t, 0.5, 1e-12);
    ck_assert_status(ovica_trainer_set_step_index(t, 99), OVICA_OK);
    ck_assert_status(ovica_trainer_step(t, p.X, p.N, 2, &st), OVICA_OK);
    ck_assert_double_lt(st.lr, 1e-3);
    ck_assert_double_eq_tol(st.sigma_t, 0.05, 1e-12);
    /* callbacks */
    int calls = 0;
    ck_assert_status(ovica_trainer_set_lr_schedule(t, bad_schedule, &calls), OVICA_OK);
    ck_assert_status(ovica_trainer_set_sigma_schedule(t, half_sigma, NULL), OVICA_OK);
    ck_assert_status(ovica_trainer_set_step_index(t, 0), OVICA_OK);
    ck_assert_status(ovica_trainer_step(t, p.X, p.N, 2, &st), OVICA_OK);
    ck_assert_double_eq(st.lr, 0.01);
    ck_assert_double_eq(st.sigma_t, 0.1);
    ck_assert_status(ovica_trainer_step(t, p.X, p.N, 2, &st), OVICA_OK);
    ck_assert_error(ovica_trainer_step(t, p.X, p.N, 2, &st), OVICA_EUSER);
    ck_assert_int_ge(calls, 3);
    ck_assert_status(ovica_trainer_set_lr_schedule(t, NULL, NULL), OVICA_OK);
    ck_assert_status(ovica_trainer_step(t, p.X, p.N, 2, &st), OVICA_OK);
    ovica_trainer_free(t);
    free_problem(&p);
}
END_TEST

START_TEST(test_usage_and_dead_atoms)
{
    /* 3 atoms but data along one direction only: two atoms go unused and
     * are reported dead (re-seeding off) */
    const size_t N = 500;
    double *X = malloc(N * 2 * sizeof *X);
    tu_rng r;
    tu_seed(&r, 4);
    for (size_t k = 0; k < N; k++) {
        double s = -log(1.0 - tu_uniform(&r));
        X[2 * k] = s;
        X[2 * k + 1] = 0.001 * tu_normal(&r);
    }
    ovica_prior *pr = NULL;
    ovica_model *md = NULL;
    ck_assert_status(ovica_prior_exponential_new(&pr, 1.0), OVICA_OK);
    ck_assert_status(ovica_model_new(&md, 2, 3, pr, 0.05), OVICA_OK);
    const double A[6] = {1.0, -0.5, -0.5, 0.0, 0.8660254, -0.8660254};
    ck_assert_status(ovica_model_set_basis(md, A, 2, 3), OVICA_OK);
    ovica_trainer *t = NULL;
    ck_assert_status(ovica_trainer_new(&t, md, ovica_rule_natural, 1), OVICA_OK);
    ck_assert_status(ovica_trainer_set_param(t, OVICA_TRAIN_DEAD_WINDOW, 5), OVICA_OK);
    ck_assert_status(ovica_trainer_set_param(t, OVICA_TRAIN_RESEED, 0), OVICA_OK);
    ck_assert_status(ovica_trainer_set_param(t, OVICA_TRAIN_LR, 0.01), OVICA_OK);
    ovica_step_stats st = OVICA_STEP_STATS_INIT;
    for (int k = 0; k < 8; k++) ck_assert_status(ovica_trainer_step(t, X, N, 2, &st), OVICA_OK);
    ck_assert_uint_eq(st.dead, 2);
    double use[3];
    ck_assert_status(ovica_trainer_atom_usage(t, use, 3), OVICA_OK);
    ck_assert_double_gt(use[0], 0.9);
    ck_assert_double_eq(use[1], 0.0);
    ck_assert_error(ovica_trainer_atom_usage(t, use, 2), OVICA_ESIZE);
    /* re-seeding on, but statistics imported (a sum over processes): no
     * atom is re-seeded from this process's own worst sample */
    ck_assert_status(ovica_trainer_set_param(t, OVICA_TRAIN_RESEED, 1), OVICA_OK);
    const size_t len = ovica_trainer_stats_size(t);
    double *buf = malloc(len * sizeof *buf);
    ck_assert_ptr_nonnull(buf);
    ck_assert_status(ovica_trainer_accumulate(t, X, N, 2), OVICA_OK);
    ck_assert_status(ovica_trainer_stats_export(t, buf, len), OVICA_OK);
    ck_assert_status(ovica_trainer_stats_import(t, buf, len), OVICA_OK);
    ck_assert_status(ovica_trainer_apply(t, &st), OVICA_OK);
    ck_assert_int_eq(st.guard & OVICA_GUARD_RESEED, 0);
    ck_assert_uint_eq(st.dead, 2);
    free(buf);
    /* with re-seeding the dead atoms come back, one per step */
    ck_assert_status(ovica_trainer_step(t, X, N, 2, &st), OVICA_OK);
    ck_assert_int_ne(st.guard & OVICA_GUARD_RESEED, 0);
    ck_assert_uint_eq(st.dead, 1);
    ovica_trainer_free(t);
    ovica_model_free(md);
    ovica_prior_free(pr);
    free(X);
}
END_TEST

/* The rules from draws use every atom (draws are never exactly 0), so an
 * atom whose norm has collapsed is what the dead-atom guard looks for:
 * below OVICA_TRAIN_COLLAPSE times the mean norm for DEAD_WINDOW steps it
 * is dead, and re-seeded at the mean norm. With COLLAPSE 0 (the default)
 * it is not. */
static double atom_norm(const ovica_model *md, size_t j)
{
    const double *A = ovica_model_basis(md);
    const size_t n = ovica_model_atoms(md);
    return hypot(A[j], A[n + j]);
}

START_TEST(test_collapsed_atom_reseeded)
{
    problem p = make_problem(OVICA_PRIOR_EXPONENTIAL, 400, 7);
    /* the true basis with atom 2 shrunk to 2% of its length */
    double A[6];
    memcpy(A, p.A_true, sizeof A);
    A[2] *= 0.02;
    A[5] *= 0.02;
    for (int collapse_on = 0; collapse_on <= 1; collapse_on++) {
        ovica_trainer *t = NULL;
        ck_assert_status(ovica_trainer_new(&t, p.model, ovica_rule_exact, 3), OVICA_OK);
        ck_assert_status(ovica_trainer_set_basis(t, A, 2, 3), OVICA_OK);
        ck_assert_status(ovica_trainer_set_param(t, OVICA_TRAIN_ANNEAL, 1.0), OVICA_OK);
        ck_assert_status(ovica_trainer_set_param(t, OVICA_TRAIN_DEAD_WINDOW, 4), OVICA_OK);
        ck_assert_status(ovica_trainer_set_param(t, OVICA_TRAIN_LR, 1e-6), OVICA_OK);
        ck_assert_status(ovica_trainer_set_param(t, OVICA_TRAIN_ADAM, 0.0), OVICA_OK);
        double def = -1.0;
        ck_assert_status(ovica_trainer_get_param(t, OVICA_TRAIN_COLLAPSE, &def), OVICA_OK);
        ck_assert_double_eq(def, 0.0); /* off by default */
        if (collapse_on)
            ck_assert_status(ovica_trainer_set_param(t, OVICA_TRAIN_COLLAPSE, 0.5), OVICA_OK);
        int reseeded_at = -1;
        ovica_step_stats st = OVICA_STEP_STATS_INIT;
        for (int k = 0; k < 8; k++) {
            ck_assert_status(ovica_trainer_step(t, p.X, p.N, 2, &st), OVICA_OK);
            if ((st.guard & OVICA_GUARD_RESEED) && reseeded_at < 0) reseeded_at = k;
        }
        const ovica_model *tm = ovica_trainer_model(t);
        double mean = (atom_norm(tm, 0) + atom_norm(tm, 1)) / 2.0;
        if (collapse_on) {
            /* dead after 4 steps below the bar: re-seeded at step index 3 */
            ck_assert_int_eq(reseeded_at, 3);
            ck_assert_double_gt(atom_norm(tm, 2), 0.5 * mean);
        } else {
            ck_assert_int_eq(reseeded_at, -1);
            ck_assert_uint_eq(st.dead, 0);
            ck_assert_double_lt(atom_norm(tm, 2), 0.05 * mean);
        }
        ck_assert(all_finite(ovica_model_basis(tm), 6));
        ovica_trainer_free(t);
    }
    free_problem(&p);
}
END_TEST

static int u_neglogp(const double *s, size_t k, double *out, void *user)
{
    (void)user;
    double a = 0.0;
    for (size_t i = 0; i < k; i++) a += fabs(s[i]) + log(2.0);
    *out = a;
    return 0;
}
static int u_grad(const double *s, size_t k, double *g, void *user)
{
    (void)user;
    for (size_t i = 0; i < k; i++) g[i] = s[i] > 0 ? 1.0 : (s[i] < 0 ? -1.0 : 0.0);
    return 0;
}
static int u_prox(const double *v, size_t k, double t, double *out, void *user)
{
    (void)user;
    for (size_t i = 0; i < k; i++) out[i] = v[i] > t ? v[i] - t : (v[i] < -t ? v[i] + t : 0.0);
    return 0;
}

START_TEST(test_user_prior_rules)
{
    /* a user prior cannot be sampled: the rules from draws are refused, the
     * MAP rules work */
    problem p = make_problem(OVICA_PRIOR_LAPLACE, 300, 9);
    ovica_prior_callbacks cb = OVICA_PRIOR_CALLBACKS_INIT;
    cb.neglogp = u_neglogp;
    cb.grad = u_grad;
    cb.prox = u_prox;
    ovica_prior *up = NULL;
    ck_assert_status(ovica_prior_user_new(&up, &cb, NULL), OVICA_OK);
    ovica_model *md = NULL;
    ck_assert_status(ovica_model_new(&md, 2, 3, up, 0.05), OVICA_OK);
    ovica_trainer *t = NULL;
    ck_assert_error(ovica_trainer_new(&t, md, ovica_rule_exact, 1), OVICA_ENOTSUP);
    ck_assert_error(ovica_trainer_new(&t, md, ovica_rule_auto, 1), OVICA_ENOTSUP);
    ck_assert_error(ovica_trainer_new(&t, NULL, ovica_rule_natural, 1), OVICA_EINVAL);
    ck_assert_error(ovica_trainer_new(&t, md, NULL, 1), OVICA_EINVAL);
    ck_assert_ptr_null(t);
    const ovica_rule_type *map_rules[3] = {ovica_rule_natural, ovica_rule_plain,
                                           ovica_rule_reconstruction};
    for (int r = 0; r < 3; r++) {
        ck_assert_status(ovica_trainer_new(&t, md, map_rules[r], 1), OVICA_OK);
        ck_assert_status(ovica_trainer_set_param(t, OVICA_TRAIN_Z, OVICA_Z_SUBGRADIENT), OVICA_OK);
        ovica_step_stats st = OVICA_STEP_STATS_INIT;
        for (int k = 0; k < 3; k++)
            ck_assert_status(ovica_trainer_step(t, p.X, p.N, 2, &st), OVICA_OK);
        ck_assert(all_finite(ovica_model_basis(ovica_trainer_model(t)), 6));
        ck_assert_int_eq(st.rule, 0);
        ovica_trainer_free(t);
        t = NULL;
    }
    ovica_model_free(md);
    ovica_prior_free(up);
    free_problem(&p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("trainer");
    TCase *tc = tcase_create("trainer");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_params_and_rules);
    tcase_add_test(tc, test_init_methods);
    tcase_add_test(tc, test_accumulate_apply_split);
    tcase_add_test(tc, test_nan_batch_refused);
    tcase_add_test(tc, test_nan_in_large_batch);
    tcase_add_test(tc, test_step_f32_same_as_double);
    tcase_add_test(tc, test_step_f32_single_recovers);
    tcase_add_test(tc, test_step_f32_bad_input);
    tcase_add_test(tc, test_sparse_update_settles);
    tcase_add_test(tc, test_divergence_guard);
    tcase_add_test(tc, test_schedules);
    tcase_add_test(tc, test_usage_and_dead_atoms);
    tcase_add_test(tc, test_collapsed_atom_reseeded);
    tcase_add_test(tc, test_user_prior_rules);
    suite_add_tcase(s, tc);
    return tu_run(s);
}

/* The article's experiments (issue #4) as tests: fixed seeds, every run
 * starting from the library's default initialisation (the trainer draws and
 * spreads the atoms itself at its first step; nothing is known of the true
 * basis) and training with the library's DEFAULT settings (ovica_rule_auto,
 * every trainer parameter at its default, the default number of steps). The
 * host only chooses the data and how to batch them. docs/LEARNING.md
 * explains the defaults; docs/ABLATION.md compares the alternatives.
 *
 * Each test prints its figures (seeds within the bar, the max angle per
 * seed) so that a failure says how far off it was. The experiments take
 * minutes (run with OPENBLAS_NUM_THREADS=1: the matrices are tiny). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

#include "testutil.h"

#define SEEDS 20

typedef struct {
    const char *name;
    int set;        /* enum ovica_synth_set, or -1: random m x n basis */
    int prior;      /* OVICA_PRIOR_LAPLACE or OVICA_PRIOR_EXPONENTIAL */
    size_t m, n;
    double activity;
    size_t N;       /* samples */
    size_t batch;   /* samples per step (N: full batch) */
    double noise;   /* the data's noise (0: SIGMA); the model's sigma is always SIGMA, a hint */
} experiment;

typedef struct {
    double max_angle, mean_angle, mmcs;
    double seconds;
    size_t c99;     /* true atoms matched at cos >= 0.99 */
} outcome;

#define MAX_N 256
/* True atoms matched (Hungarian) by a learned one at cos >= 0.99. */
static size_t count_c99(const double *A, size_t m, size_t n, const double *A_true, size_t nt,
                        int use_sign)
{
    double ang[MAX_N];
    ck_assert_uint_le(nt, MAX_N);
    ck_assert_status(ovica_atoms_match(A, m, n, A_true, nt, use_sign, NULL, ang), OVICA_OK);
    size_t c = 0;
    for (size_t i = 0; i < nt; i++) c += cos(ang[i] * 3.14159265358979323846 / 180.0) >= 0.99;
    return c;
}

static const double SIGMA = 0.05;

static ovica_model *new_model(int prior, size_t m, size_t n)
{
    ovica_prior *p = NULL;
    if (prior == OVICA_PRIOR_LAPLACE) ck_assert_status(ovica_prior_laplace_new(&p, 1.0), OVICA_OK);
    else ck_assert_status(ovica_prior_exponential_new(&p, 1.0), OVICA_OK);
    ovica_model *md = NULL;
    ck_assert_status(ovica_model_new(&md, m, n, p, SIGMA), OVICA_OK);
    ovica_prior_free(p);
    return md;
}

/* Data of experiment e for seed `seed`: X (N x m) and the true basis. */
static void make_data(const experiment *e, uint64_t seed, double *X, double *A_true)
{
    ovica_rng *r = NULL;
    ck_assert_status(ovica_rng_new(&r, 1000 + seed), OVICA_OK);
    if (e->set >= 0) ck_assert_status(ovica_synth_basis_2d(e->set, A_true, e->m, e->n), OVICA_OK);
    else ck_assert_status(ovica_synth_random_basis(r, A_true, e->m, e->n), OVICA_OK);
    double *S = malloc(e->N * e->n * sizeof *S);
    ck_assert_ptr_nonnull(S);
    ck_assert_status(ovica_synth_sources(r, e->prior, 1.0, e->activity, S, e->N, e->n), OVICA_OK);
    ck_assert_status(ovica_synth_mix(r, A_true, e->m, e->n, S, e->N, e->noise > 0.0 ? e->noise : SIGMA,
                                     X),
                     OVICA_OK);
    free(S);
    ovica_rng_free(r);
}

/* Trains with `rule` and the default settings (start: A_start, or the
 * default initialisation when NULL) for the default number of steps, and
 * measures the learned basis against the truth. Returns the status of the
 * first failing call (0 if none), so that loops can count and assert once. */
static int train(const experiment *e, const ovica_rule_type *rule, int z_choice,
                 uint64_t seed, const double *X, const double *A_true, const double *A_start,
                 outcome *out)
{
    ovica_model *md = new_model(e->prior, e->m, e->n);
    ovica_trainer *t = NULL;
    int st = ovica_trainer_new(&t, md, rule, seed);
    if (st == OVICA_OK && z_choice >= 0) st = ovica_trainer_set_param(t, OVICA_TRAIN_Z, z_choice);
    if (st == OVICA_OK && A_start) {
        /* from the truth: no annealing (it serves to find the basin from a
         * random start) and half the steps */
        st = ovica_trainer_set_basis(t, A_start, e->m, e->n);
        if (st == OVICA_OK) st = ovica_trainer_set_param(t, OVICA_TRAIN_ANNEAL, 1.0);
        if (st == OVICA_OK) st = ovica_trainer_set_param(t, OVICA_TRAIN_STEPS, 300);
    }
    double steps = 0.0;
    if (st == OVICA_OK) st = ovica_trainer_get_param(t, OVICA_TRAIN_STEPS, &steps);
    const size_t nb = e->N / e->batch;
    for (size_t k = 0; st == OVICA_OK && k < (size_t)steps && !ovica_trainer_converged(t); k++)
        st = ovica_trainer_step(t, X + (k % nb) * e->batch * e->m, e->batch, e->m, NULL);
    if (st == OVICA_OK) {
        ovica_recovery rec = OVICA_RECOVERY_INIT;
        st = ovica_recovery_eval(ovica_model_basis(ovica_trainer_model(t)), e->m, e->n,
                                 A_true, e->n, e->prior == OVICA_PRIOR_EXPONENTIAL, 3.0, NULL, 0,
                                 &rec);
        out->max_angle = rec.max_angle_deg;
        out->mean_angle = rec.mean_angle_deg;
        out->mmcs = rec.mmcs;
        out->c99 = count_c99(ovica_model_basis(ovica_trainer_model(t)), e->m, e->n, A_true, e->n,
                             e->prior == OVICA_PRIOR_EXPONENTIAL);
    }
    ovica_trainer_free(t);
    ovica_model_free(md);
    return st;
}

static double now(void)
{
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Runs experiment e over SEEDS seeds; returns the number of seeds whose
 * every atom is within `bar` degrees, and prints the figures. */
static int run_seeds(const experiment *e, double bar)
{
    double *X = malloc(e->N * e->m * sizeof *X), *A_true = malloc(e->m * e->n * sizeof *A_true);
    ck_assert(X && A_true);
    int within = 0, failed = 0;
    double worst = 0.0, t0 = now();
    char line[SEEDS * 8 + 1] = "", *p = line;
    for (int seed = 1; seed <= SEEDS; seed++) {
        make_data(e, (uint64_t)seed, X, A_true);
        outcome o = {0};
        if (train(e, ovica_rule_auto, -1, (uint64_t)seed, X, A_true, NULL, &o) != OVICA_OK) {
            failed++;
            continue;
        }
        within += o.max_angle <= bar;
        if (o.max_angle > worst) worst = o.max_angle;
        p += snprintf(p, (size_t)(line + sizeof line - p), " %.2f", o.max_angle);
    }
    printf("%s: %d/%d seeds with every atom within %g degrees (worst %.2f; %.1f s per run)\n"
           "  max angle per seed:%s\n",
           e->name, within, SEEDS, bar, worst, (now() - t0) / SEEDS, line);
    fflush(stdout);
    ck_assert_msg(failed == 0, "%s: %d runs failed: %s", e->name, failed, ovica_error_message());
    free(X);
    free(A_true);
    return within;
}

/* The article's E6.1: 3 exponential sources at 120 degrees. */
START_TEST(test_regular3_exponential)
{
    const experiment e = {"2-D, 3 exponential sources", OVICA_SYNTH_REGULAR3,
                          OVICA_PRIOR_EXPONENTIAL, 2, 3, 1.0, 10000, 10000, 0.0};
    int within = run_seeds(&e, 2.0);
    ck_assert_msg(within >= 19, "%d/20 within 2 degrees (bar: 19)", within);
}
END_TEST

/* The article's E6.2 full data set, where it failed: 4 sources at 15, 38,
 * 140 and 250 degrees (a close pair). */
START_TEST(test_irregular4_exponential)
{
    const experiment e = {"2-D, 4 irregular exponential sources", OVICA_SYNTH_IRREGULAR4,
                          OVICA_PRIOR_EXPONENTIAL, 2, 4, 1.0, 20000, 20000, 0.0};
    int within = run_seeds(&e, 3.0);
    ck_assert_msg(within >= 18, "%d/20 within 3 degrees (bar: 18)", within);
}
END_TEST

/* E4.1: Laplace sources, whose likelihood is nearly flat in rotation (the
 * maximum-likelihood basis itself is 1-3.5 degrees off at N = 5000): more
 * data, in mini-batches of 5000. */
START_TEST(test_regular3_laplace)
{
    const experiment e = {"2-D, 3 Laplace sources", OVICA_SYNTH_REGULAR3, OVICA_PRIOR_LAPLACE,
                          2, 3, 1.0, 50000, 5000, 0.0};
    int within = run_seeds(&e, 3.0);
    ck_assert_msg(within >= 18, "%d/20 within 3 degrees (bar: 18)", within);
}
END_TEST

/* Sparse sources in many atoms (the sparse-autoencoder regime), each over
 * SPARSE_SEEDS seeds with the library's defaults: the host passes the whole
 * data set at every step and gives the model sigma 0.05 as its only hint
 * (the data's noise is 0.01 in two of the cases: the trainer estimates it).
 * Bar (issue #14): MMCS >= mmcs_bar and at least frac_bar of the true atoms
 * matched at cos >= 0.99, in every seed. */
#define SPARSE_SEEDS 5
static void run_sparse(const experiment *e, double mmcs_bar, double frac_bar)
{
    double *X = malloc(e->N * e->m * sizeof *X), *A_true = malloc(e->m * e->n * sizeof *A_true);
    ck_assert(X && A_true);
    int met = 0, failed = 0;
    double worst = 1.0, t0 = now();
    size_t worst_c = e->n;
    char line[SPARSE_SEEDS * 24 + 1] = "", *p = line;
    for (int seed = 1; seed <= SPARSE_SEEDS; seed++) {
        make_data(e, (uint64_t)(100 + seed), X, A_true);
        outcome o = {0};
        if (train(e, ovica_rule_auto, -1, (uint64_t)seed, X, A_true, NULL, &o) != OVICA_OK) {
            failed++;
            continue;
        }
        met += o.mmcs >= mmcs_bar && (double)o.c99 >= frac_bar * (double)e->n;
        if (o.mmcs < worst) worst = o.mmcs;
        if (o.c99 < worst_c) worst_c = o.c99;
        p += snprintf(p, (size_t)(line + sizeof line - p), " %.4f/%zu", o.mmcs, o.c99);
    }
    printf("%s: %d/%d seeds with MMCS >= %.2f and >= %.0f%% of the atoms at cos >= 0.99 "
           "(worst MMCS %.4f, worst %zu/%zu atoms; %.1f s per run)\n  MMCS/atoms per seed:%s\n",
           e->name, met, SPARSE_SEEDS, mmcs_bar, 100.0 * frac_bar, worst, worst_c, e->n,
           (now() - t0) / SPARSE_SEEDS, line);
    fflush(stdout);
    ck_assert_msg(failed == 0, "%s: %d runs failed: %s", e->name, failed, ovica_error_message());
    ck_assert_msg(met == SPARSE_SEEDS, "%s: %d/%d seeds met the bar", e->name, met, SPARSE_SEEDS);
    free(X);
    free(A_true);
}

START_TEST(test_sparse_exponential_32x64)
{
    const experiment e = {"32 x 64, 5% active exponential sources, noise 0.01", -1,
                          OVICA_PRIOR_EXPONENTIAL, 32, 64, 0.05, 20000, 20000, 0.01};
    run_sparse(&e, 0.99, 0.9);
}
END_TEST

START_TEST(test_sparse_laplace_32x96)
{
    const experiment e = {"32 x 96, 4% active Laplace sources, noise 0.01", -1,
                          OVICA_PRIOR_LAPLACE, 32, 96, 0.04, 30000, 30000, 0.01};
    run_sparse(&e, 0.99, 0.9);
}
END_TEST

/* Many active atoms a sample: about 10 of 256 in 32 dimensions. The codes'
 * own noise estimate pins the threshold here (it codes the largest sources
 * only and leaves the rest as noise, src/trainer_sparse.c), the probe's D
 * ends above the line, and auto's second probe, with the noise estimated
 * from the codes refitted on their supports, finds the data sparse.
 * Before the second probe the defaults turned dense here. */
START_TEST(test_sparse_many_active)
{
    const experiment e = {"32 x 256, 4% active exponential sources (10 a sample), noise 0.01", -1,
                          OVICA_PRIOR_EXPONENTIAL, 32, 256, 0.04, 20000, 20000, 0.01};
    run_sparse(&e, 0.99, 0.9);
}
END_TEST

/* 2x overcomplete in 16 dimensions, 5% active exponential sources, noise
 * 0.05, N = 10000: the bar issue #4 left open (the rules from draws reached
 * MMCS 0.94: the exponential prior has no mass at 0, docs/LEARNING.md). The
 * defaults now take the sparse route here. */
START_TEST(test_overcomplete_16x32)
{
    const experiment e = {"16 x 32, 5% active exponential sources, noise 0.05", -1,
                          OVICA_PRIOR_EXPONENTIAL, 16, 32, 0.05, 10000, 10000, 0.0};
    run_sparse(&e, 0.98, 0.0);
}
END_TEST

/* A toy model of superposition (Elhage et al. 2022) trained here: NF sparse
 * features (each active with probability P, uniform in [0, 1], importance
 * 0.9^i) squeezed into NH hidden units, h = W x, x_hat = ReLU(W^T h + b),
 * trained by Adam on the importance-weighted squared error. Fills W (NH x
 * NF row-major): the features' directions in the hidden space. */
enum { NH = 8, NF = 20, TOY_BATCH = 512, TOY_STEPS = 3000 };
#define TOY_P 0.05

static void toy_features(ovica_rng *r, double *x, size_t rows)
{
    for (size_t i = 0; i < rows * NF; i++) {
        double on = ovica_rng_uniform(r) < TOY_P;
        double u = ovica_rng_uniform(r);
        x[i] = on ? u : 0.0;
    }
}

static void train_toy_model(uint64_t seed, double *W)
{
    static double x[TOY_BATCH * NF], h[TOY_BATCH * NH], y[TOY_BATCH * NF];
    double b[NF] = {0}, gW[NH * NF], gb[NF], gh[TOY_BATCH * NH], imp[NF];
    double mW[NH * NF] = {0}, vW[NH * NF] = {0}, mb[NF] = {0}, vb[NF] = {0};
    ovica_rng *r = NULL;
    ck_assert_status(ovica_rng_new(&r, 7000 + seed), OVICA_OK);
    for (size_t i = 0; i < NH * NF; i++) W[i] = 0.3 * ovica_rng_normal(r);
    for (size_t j = 0; j < NF; j++) imp[j] = pow(0.9, (double)j);
    const double lr = 1e-2, b1 = 0.9, b2 = 0.999;
    for (int step = 1; step <= TOY_STEPS; step++) {
        toy_features(r, x, TOY_BATCH);
        /* h = x W^T, y = h W + b */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, TOY_BATCH, NH, NF, 1.0, x, NF, W, NF,
                    0.0, h, NH);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, TOY_BATCH, NF, NH, 1.0, h, NH, W,
                    NF, 0.0, y, NF);
        /* dL/dy for L = mean imp_j (ReLU(y) - x)^2, into y */
        memset(gb, 0, sizeof gb);
        for (size_t i = 0; i < TOY_BATCH; i++)
            for (size_t j = 0; j < NF; j++) {
                double v = y[i * NF + j] + b[j];
                double g = v > 0.0 ? 2.0 * imp[j] * (v - x[i * NF + j]) / (TOY_BATCH * NF) : 0.0;
                y[i * NF + j] = g;
                gb[j] += g;
            }
        /* dW = h^T G + (G W^T)^T x */
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, NH, NF, TOY_BATCH, 1.0, h, NH, y, NF,
                    0.0, gW, NF);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, TOY_BATCH, NH, NF, 1.0, y, NF, W, NF,
                    0.0, gh, NH);
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, NH, NF, TOY_BATCH, 1.0, gh, NH, x, NF,
                    1.0, gW, NF);
        const double c1 = 1.0 - pow(b1, step), c2 = 1.0 - pow(b2, step);
        for (size_t i = 0; i < NH * NF; i++) {
            mW[i] = b1 * mW[i] + (1.0 - b1) * gW[i];
            vW[i] = b2 * vW[i] + (1.0 - b2) * gW[i] * gW[i];
            W[i] -= lr * (mW[i] / c1) / (sqrt(vW[i] / c2) + 1e-8);
        }
        for (size_t j = 0; j < NF; j++) {
            mb[j] = b1 * mb[j] + (1.0 - b1) * gb[j];
            vb[j] = b2 * vb[j] + (1.0 - b2) * gb[j] * gb[j];
            b[j] -= lr * (mb[j] / c1) / (sqrt(vb[j] / c2) + 1e-8);
        }
    }
    ovica_rng_free(r);
}

/* The features the toy model represents (|w_j| >= 0.5) recovered at cos >=
 * 0.99 from its hidden activations h = W x (noise-free), NF atoms, the
 * exponential prior (features are non-negative), defaults otherwise. Bar:
 * >= 90% of the represented features in each of SPARSE_SEEDS toy models. */
START_TEST(test_superposition)
{
    enum { TOY_N = 20000 };
    double W[NH * NF], *x = malloc((size_t)TOY_N * NF * sizeof *x),
                      *H = malloc((size_t)TOY_N * NH * sizeof *H);
    ck_assert(x && H);
    int met = 0;
    char line[SPARSE_SEEDS * 16 + 1] = "", *p = line;
    double t0 = now();
    for (int seed = 1; seed <= SPARSE_SEEDS; seed++) {
        train_toy_model((uint64_t)seed, W);
        ovica_rng *r = NULL;
        ck_assert_status(ovica_rng_new(&r, 9000 + (uint64_t)seed), OVICA_OK);
        toy_features(r, x, TOY_N);
        ovica_rng_free(r);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, TOY_N, NH, NF, 1.0, x, NF, W, NF, 0.0,
                    H, NH);
        /* the represented features: the columns of W with length >= 0.5 */
        double Wr[NH * NF];
        size_t nr = 0;
        for (size_t j = 0; j < NF; j++) {
            double c = 0.0;
            for (size_t i = 0; i < NH; i++) c += W[i * NF + j] * W[i * NF + j];
            if (sqrt(c) < 0.5) continue;
            for (size_t i = 0; i < NH; i++) Wr[i * NF + nr] = W[i * NF + j];
            nr++;
        }
        /* Wr holds nr columns with row length NF: compact it to NH x nr */
        double Wc[NH * NF];
        for (size_t i = 0; i < NH; i++)
            for (size_t j = 0; j < nr; j++) Wc[i * nr + j] = Wr[i * NF + j];
        ovica_model *md = new_model(OVICA_PRIOR_EXPONENTIAL, NH, NF);
        ovica_trainer *t = NULL;
        ck_assert_status(ovica_trainer_new(&t, md, ovica_rule_auto, (uint64_t)seed), OVICA_OK);
        double steps = 0.0;
        ck_assert_status(ovica_trainer_get_param(t, OVICA_TRAIN_STEPS, &steps), OVICA_OK);
        for (size_t k = 0; k < (size_t)steps && !ovica_trainer_converged(t); k++)
            ck_assert_status(ovica_trainer_step(t, H, TOY_N, NH, NULL), OVICA_OK);
        size_t c = count_c99(ovica_model_basis(ovica_trainer_model(t)), NH, NF, Wc, nr, 1);
        met += nr > 0 && (double)c >= 0.9 * (double)nr;
        p += snprintf(p, (size_t)(line + sizeof line - p), " %zu/%zu", c, nr);
        ovica_trainer_free(t);
        ovica_model_free(md);
    }
    printf("toy model of superposition (%d features in %d hidden units, p = %.2f): %d/%d models "
           "with >= 90%% of the represented features at cos >= 0.99 (%.1f s per model)\n"
           "  recovered/represented per model:%s\n",
           NF, NH, TOY_P, met, SPARSE_SEEDS, (now() - t0) / SPARSE_SEEDS, line);
    fflush(stdout);
    ck_assert_msg(met == SPARSE_SEEDS, "superposition: %d/%d models met the bar", met,
                  SPARSE_SEEDS);
    free(x);
    free(H);
}
END_TEST

/* The article's E6.3 on sparse sources: the 3 regular atoms learned with 6
 * and 8 atoms (3 seeds each) from Laplace sources of activity 0.3, then
 * merged back to 3 by ovica_model_merge() (usage-weighted clustering and a
 * refit of the merged atoms with the trainer's defaults). The bar:
 * >= 5/6 runs within 3 degrees. The clustering alone reaches 1-3 of 6 (the
 * runs sit 2-7 degrees off): on the sparse route the spare atoms take the
 * directions of two-source samples and pull the centroids; the test prints
 * both. */
START_TEST(test_overprovisioned_sparse)
{
    const experiment e = {"2-D, 3 Laplace sources, activity 0.3", OVICA_SYNTH_REGULAR3,
                          OVICA_PRIOR_LAPLACE, 2, 3, 0.3, 20000, 20000, 0.0};
    double *X = malloc(e.N * 2 * sizeof *X), A_true[6];
    ck_assert_ptr_nonnull(X);
    make_data(&e, 11, X, A_true);
    static const size_t atoms[] = {6, 8};
    int within = 0, within_cluster = 0;
    char line[6 * 24 + 1] = "", *p = line;
    for (size_t a = 0; a < 2; a++)
        for (uint64_t seed = 1; seed <= 3; seed++) {
            const size_t n = atoms[a];
            ovica_model *md = new_model(OVICA_PRIOR_LAPLACE, 2, n);
            ovica_trainer *t = NULL;
            ck_assert_status(ovica_trainer_new(&t, md, ovica_rule_auto, seed), OVICA_OK);
            double steps = 0.0;
            ck_assert_status(ovica_trainer_get_param(t, OVICA_TRAIN_STEPS, &steps), OVICA_OK);
            for (size_t k = 0; k < (size_t)steps; k++)
                ck_assert_status(ovica_trainer_step(t, X, e.N, 2, NULL), OVICA_OK);
            double B[16], usage[8], merged[6], ang[3];
            size_t assign[8], assign2[8];
            const ovica_model *tm = ovica_trainer_model(t);
            /* the clustering alone */
            ck_assert_status(ovica_model_get_basis(tm, B, 2, n), OVICA_OK);
            ck_assert_status(ovica_atoms_usage(tm, X, e.N, 2, usage, n), OVICA_OK);
            ck_assert_status(ovica_atoms_cluster(B, 2, n, usage, 3, 0, seed, merged, assign),
                             OVICA_OK);
            ck_assert_status(ovica_atoms_match(merged, 2, 3, A_true, 3, 0, NULL, ang), OVICA_OK);
            const double worst_cluster = fmax(ang[0], fmax(ang[1], ang[2]));
            within_cluster += worst_cluster <= 3.0;
            /* the merge with its refit */
            ovica_model *mm = NULL;
            ck_assert_status(ovica_model_merge(&mm, tm, X, e.N, 2, 3, seed, assign2), OVICA_OK);
            ck_assert_int_eq(memcmp(assign, assign2, n * sizeof *assign), 0);
            ck_assert_status(ovica_atoms_match(ovica_model_basis(mm), 2, 3, A_true, 3, 0, NULL,
                                               ang),
                             OVICA_OK);
            const double worst = fmax(ang[0], fmax(ang[1], ang[2]));
            within += worst <= 3.0;
            p += snprintf(p, (size_t)(line + sizeof line - p), " %zu:%.2f/%.2f", n, worst_cluster,
                          worst);
            ovica_model_free(mm);
            ovica_trainer_free(t);
            ovica_model_free(md);
        }
    printf("over-provisioned, sparse Laplace sources: %d/6 runs merged to 3 within 3 degrees "
           "by ovica_model_merge (bar 5/6; the clustering alone: %d/6)\n"
           "  atoms:worst angle clustered/merged per run:%s\n",
           within, within_cluster, line);
    fflush(stdout);
    ck_assert_msg(within >= 5, "%d/6 runs within 3 degrees", within);
    free(X);
}
END_TEST

/* Drift from the truth: started AT the true basis, how far does each rule
 * move in 300 steps of its default settings (without annealing)? The MAP rules have their fixed point away from the
 * truth (s_hat is a biased summary of the posterior when more sources are
 * active than dimensions); the rules from posterior draws stay. */
START_TEST(test_drift_from_truth)
{
    static const struct {
        const char *label;
        const char *rule;
        int z;
    } rules[] = {
        {"natural z=prior", "natural", OVICA_Z_PRIOR},
        {"natural z=subgradient", "natural", OVICA_Z_SUBGRADIENT},
        {"plain", "plain", -1},
        {"reconstruction", "reconstruction", -1},
        {"exact", "exact", -1},
        {"em", "em", -1},
        {"auto", "auto", -1},
    };
    const experiment e = {"drift", OVICA_SYNTH_IRREGULAR4, OVICA_PRIOR_EXPONENTIAL, 2, 4, 1.0,
                          10000, 10000, 0.0};
    double *X = malloc(e.N * e.m * sizeof *X), A_true[8];
    ck_assert_ptr_nonnull(X);
    make_data(&e, 1, X, A_true);
    double drift[7];
    int failed = 0;
    printf("drift from the truth (2-D, 4 irregular exponential sources, N=10000, 300 steps, "
           "no annealing):\n");
    for (size_t r = 0; r < 7; r++) {
        outcome o = {0};
        double t0 = now();
        if (train(&e, ovica_rule_type_find(rules[r].rule), rules[r].z, 1, X, A_true, A_true,
                  &o) != OVICA_OK) {
            failed++;
            drift[r] = NAN;
            continue;
        }
        drift[r] = o.max_angle;
        printf("  %-22s max %6.2f  mean %6.2f degrees (%.1f s)\n", rules[r].label, o.max_angle,
               o.mean_angle, now() - t0);
    }
    fflush(stdout);
    ck_assert_msg(failed == 0, "%d rules failed: %s", failed, ovica_error_message());
    /* the rules from draws stay with the truth (auto within 2 degrees: its
     * probes take 60 of the 300 steps and the dense route restarts its
     * annealing from 30 sigma; 0.66 degrees with 250 steps left, 1.63
     * with 240, one seed of the draws) ... */
    for (size_t r = 4; r < 7; r++)
        ck_assert_msg(drift[r] <= (r == 6 ? 2.0 : 1.5), "%s drifted %.2f degrees",
                      rules[r].label, drift[r]);
    /* ... the article's rule (z = prior's score) does not */
    ck_assert_msg(drift[0] >= 5.0, "natural z=prior drifted only %.2f degrees", drift[0]);
    free(X);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("experiments");
    TCase *tc = tcase_create("experiments");
    tcase_set_timeout(tc, 1200);
    tcase_add_test(tc, test_regular3_exponential);
    tcase_add_test(tc, test_irregular4_exponential);
    tcase_add_test(tc, test_regular3_laplace);
    tcase_add_test(tc, test_overcomplete_16x32);
    tcase_add_test(tc, test_sparse_exponential_32x64);
    tcase_add_test(tc, test_sparse_laplace_32x96);
    tcase_add_test(tc, test_sparse_many_active);
    tcase_add_test(tc, test_superposition);
    tcase_add_test(tc, test_overprovisioned_sparse);
    tcase_add_test(tc, test_drift_from_truth);
    suite_add_tcase(s, tc);
    return tu_run(s);
}

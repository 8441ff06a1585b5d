/* Inference benchmark (issue: foundation).
 *   1. m=256, n=1024, N=4096: achieved GFLOP/s of FISTA (counting the two
 *      GEMMs of an iteration, 4 N m n flops) next to this machine's dgemm
 *      GFLOP/s on the same shapes, measured in the same run.
 *   2. m=64, n=256: time to code 10,000 samples, the exact active-set
 *      solver (1 and 2 threads) against FISTA, at three settings: data
 *      noise 0.05 with mu = sigma^2/b = 0.01 and 0.05 (dense codes), and
 *      noise 0.01 with mu = 0.05 (sparse codes, the learning benchmark's
 *      data).
 *      The same iterations in single precision (ovica_solver_infer_f32)
 *      next to sgemm, and their speed over double.
 * Prints figures and ratios; asserts nothing (targets live in the notes).
 * `bench_infer fista [T]` runs part 1 only, the elementwise pass on T
 * threads (OVICA_SOLVER_THREADS, default 1). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

#include "ovica.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#define CHECK(x)                                                                       \
    do {                                                                               \
        int st_ = (x);                                                                 \
        if (st_ < 0) {                                                                 \
            fprintf(stderr, "%s:%d: %s: %s (%s)\n", __FILE__, __LINE__, #x,             \
                    ovica_strerror(st_), ovica_error_message());                       \
            exit(1);                                                                   \
        }                                                                              \
    } while (0)

/* Data from the model: unit atoms, sparse Laplace sources, a little noise. */
static void make_problem(size_t m, size_t n, size_t N, double activity, double noise,
                         uint64_t seed, double **A_out, double **X_out)
{
    ovica_rng *r = NULL;
    CHECK(ovica_rng_new(&r, seed));
    double *A = malloc(m * n * sizeof *A), *S = malloc(N * n * sizeof *S),
           *X = malloc(N * m * sizeof *X);
    CHECK(ovica_synth_random_basis(r, A, m, n));
    CHECK(ovica_synth_sources(r, OVICA_PRIOR_LAPLACE, 1.0, activity, S, N, n));
    CHECK(ovica_synth_mix(r, A, m, n, S, N, noise, X));
    free(S);
    ovica_rng_free(r);
    *A_out = A;
    *X_out = X;
}

/* The same in single precision. */
static double sgemm_once(size_t m, size_t n, size_t N, const float *Y, const float *A, float *R,
                         float *G)
{
    double t0 = now();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N, (int)m, (int)n, 1.0f, Y, (int)n,
                A, (int)n, 0.0f, R, (int)m);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)N, (int)n, (int)m, 1.0f, R,
                (int)m, A, (int)n, 0.0f, G, (int)n);
    return now() - t0;
}

/* The two GEMMs of a direct-form iteration on the whole batch, once. */
static double dgemm_once(size_t m, size_t n, size_t N, const double *Y, const double *A, double *R,
                         double *G)
{
    double t0 = now();
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N, (int)m, (int)n, 1.0, Y, (int)n,
                A, (int)n, 0.0, R, (int)m);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)N, (int)n, (int)m, 1.0, R,
                (int)m, A, (int)n, 0.0, G, (int)n);
    return now() - t0;
}

int main(int argc, char **argv)
{
    const int fista_only = argc > 1 && strcmp(argv[1], "fista") == 0;
    printf("libovica %s, inference benchmark\n", ovica_version_string());

    /* ---- 1. FISTA GFLOP/s against dgemm ---- */
    size_t m = 256, n = 1024, N = 4096;
    double *A, *X;
    make_problem(m, n, N, 0.02, 0.05, 1, &A, &X);
    ovica_prior *prior = NULL;
    ovica_model *model = NULL;
    ovica_solver *fista = NULL;
    CHECK(ovica_prior_laplace_new(&prior, 1.0));
    CHECK(ovica_model_new(&model, m, n, prior, 0.1));
    CHECK(ovica_model_set_basis(model, A, m, n));
    CHECK(ovica_solver_new(&fista, ovica_solver_fista));
    CHECK(ovica_solver_set_param(fista, OVICA_SOLVER_TOL, 0.0)); /* fixed work */
    CHECK(ovica_solver_set_param(fista, OVICA_SOLVER_MAX_ITER, 30));
    /* `bench_infer fista T`: the fused pass on T threads (default 1) */
    const double pass_threads = fista_only && argc > 2 ? strtod(argv[2], NULL) : 1.0;
    CHECK(ovica_solver_set_param(fista, OVICA_SOLVER_THREADS, pass_threads));
    printf("FISTA's elementwise pass on %g thread(s) (OVICA_SOLVER_THREADS)\n", pass_threads);
    double *S = malloc(N * n * sizeof *S);
    ovica_infer_stats st = OVICA_INFER_STATS_INIT;
    CHECK(ovica_solver_infer(fista, model, X, N, m, S, n, &st)); /* warm-up, allocates */
    /* FISTA and plain dgemm alternate, best of 7 each, so that both see the
     * same machine (it is shared and noisy). */
    double *Y = calloc(N * n, sizeof *Y), *R = calloc(N * m, sizeof *R),
           *G = calloc(N * n, sizeof *G);
    for (size_t i = 0; i < N * n; i++) Y[i] = 1e-3 * (double)(i % 13);
    double best = INFINITY, best_gemm = INFINITY;
    for (int rep = 0; rep < 7; rep++) {
        double t0 = now();
        CHECK(ovica_solver_infer(fista, model, X, N, m, S, n, NULL));
        double t = now() - t0;
        if (t < best) best = t;
        double tg = 0.0;
        for (int k = 0; k < 5; k++) tg += dgemm_once(m, n, N, Y, A, R, G);
        if (tg / 5.0 < best_gemm) best_gemm = tg / 5.0;
    }
    free(Y); free(R); free(G);
    double gemm = 4.0 * (double)N * (double)m * (double)n / best_gemm * 1e-9;
    double flops = 4.0 * (double)N * (double)m * (double)n * 30.0;
    double fista_gf = flops / best * 1e-9;
    printf("fista m=%zu n=%zu N=%zu, 30 iterations: %.3f s, %.1f GFLOP/s\n", m, n, N, best,
           fista_gf);
    printf("dgemm on the same shapes:                  %.1f GFLOP/s\n", gemm);
    printf("fista / dgemm: %.0f%% (target >= 80%%)\n", 100.0 * fista_gf / gemm);

    /* The same 30 iterations in single precision (ovica_solver_infer_f32)
     * against sgemm, alternated the same way. */
    float *Xf = malloc(N * m * sizeof *Xf), *Sf = malloc(N * n * sizeof *Sf),
          *Af = malloc(m * n * sizeof *Af), *Yf = calloc(N * n, sizeof *Yf),
          *Rf = calloc(N * m, sizeof *Rf), *Gf = calloc(N * n, sizeof *Gf);
    for (size_t i = 0; i < N * m; i++) Xf[i] = (float)X[i];
    for (size_t i = 0; i < m * n; i++) Af[i] = (float)A[i];
    for (size_t i = 0; i < N * n; i++) Yf[i] = 1e-3f * (float)(i % 13);
    CHECK(ovica_solver_infer_f32(fista, model, Xf, N, m, Sf, n, NULL)); /* warm-up */
    double best32 = INFINITY, best_sgemm = INFINITY;
    for (int rep = 0; rep < 7; rep++) {
        double t0 = now();
        CHECK(ovica_solver_infer_f32(fista, model, Xf, N, m, Sf, n, NULL));
        double t = now() - t0;
        if (t < best32) best32 = t;
        double tg = 0.0;
        for (int k = 0; k < 5; k++) tg += sgemm_once(m, n, N, Yf, Af, Rf, Gf);
        if (tg / 5.0 < best_sgemm) best_sgemm = tg / 5.0;
    }
    const double sgemm = 4.0 * (double)N * (double)m * (double)n / best_sgemm * 1e-9;
    printf("fista float32, 30 iterations: %.3f s, %.1f GFLOP/s; sgemm %.1f GFLOP/s\n", best32,
           flops / best32 * 1e-9, sgemm);
    printf("fista float32 / sgemm: %.0f%%; float32 over float64: %.2fx the speed\n",
           100.0 * flops / best32 * 1e-9 / sgemm, best / best32);
    free(Xf); free(Sf); free(Af); free(Yf); free(Rf); free(Gf);
    free(S); free(A); free(X);
    ovica_solver_free(fista);
    ovica_model_free(model);
    if (fista_only) {
        ovica_prior_free(prior);
        return 0;
    }

    /* ---- 2. time to code 10,000 samples at m=64, n=256 ----
     * The active-set solver (exact; 1 and 2 threads) against FISTA (tol
     * 1e-6): dense codes (noise 0.05; mu = sigma^2/b = 0.01: ~60 non-zeros
     * of 64 possible; mu = 0.05: ~42) and sparse ones (noise 0.01, mu =
     * 0.05: ~25). */
    m = 64; n = 256; N = 10000;
    S = malloc(N * n * sizeof *S);
    static const double settings[3][3] = {{0.05, 0.1, 1.0}, {0.05, 0.05, 0.05},
                                          {0.01, 0.05, 0.05}}; /* noise, sigma, b */
    for (int c = 0; c < 3; c++) {
        make_problem(m, n, N, 0.05, settings[c][0], 2, &A, &X);
        ovica_prior *pb = NULL;
        CHECK(ovica_prior_laplace_new(&pb, settings[c][2]));
        CHECK(ovica_model_new(&model, m, n, pb, settings[c][1]));
        CHECK(ovica_model_set_basis(model, A, m, n));
        double t_act = 0.0, o_act = 0.0;
        for (int k = 0; k < 3; k++) { /* active 1 thread, active 2 threads, FISTA */
            const ovica_solver_type *type = k < 2 ? ovica_solver_active : ovica_solver_fista;
            ovica_solver *sv = NULL;
            CHECK(ovica_solver_new(&sv, type));
            CHECK(ovica_solver_set_param(sv, OVICA_SOLVER_MAX_ITER, k < 2 ? 1000 : 20000));
            if (k < 2) CHECK(ovica_solver_set_param(sv, OVICA_SOLVER_TOL, 1e-9));
            CHECK(ovica_solver_set_param(sv, OVICA_SOLVER_THREADS, k == 1 ? 2 : 1));
            ovica_infer_stats s2 = OVICA_INFER_STATS_INIT;
            double t = INFINITY;
            int rc = OVICA_OK;
            for (int rep = 0; rep < (k < 2 ? 5 : 1); rep++) {
                double t0 = now();
                rc = ovica_solver_infer(sv, model, X, N, m, S, n, NULL);
                CHECK(rc);
                if (now() - t0 < t) t = now() - t0;
            }
            CHECK(ovica_solver_infer(sv, model, X, N, m, S, n, &s2)); /* untimed: stats */
            size_t nz = 0;
            for (size_t i = 0; i < N * n; i++) nz += S[i] != 0.0;
            if (k == 0) {
                t_act = t;
                o_act = s2.objective;
            }
            printf("%-6s %s noise %g sigma %g b %g (mu %g) m=%zu n=%zu N=%zu: %.3f s (x%.2f of "
                   "active), %zu %s, %zu/%zu converged, support %.1f, objective %.9f "
                   "(rel. gap %.1e), violation %.1e%s\n",
                   ovica_solver_type_name(type), k == 0 ? "1 thread " : (k == 1 ? "2 threads" : "         "),
                   settings[c][0], settings[c][1], settings[c][2],
                   settings[c][1] * settings[c][1] / settings[c][2], m, n, N, t, t / t_act,
                   s2.iterations, k < 2 ? "rounds" : "iterations", s2.converged, N,
                   (double)nz / (double)N, s2.objective,
                   (s2.objective - o_act) / fabs(o_act), s2.violation,
                   rc == OVICA_NOT_CONVERGED ? " (not converged)" : "");
            fflush(stdout);
            ovica_solver_free(sv);
        }
        ovica_model_free(model);
        ovica_prior_free(pb);
        free(A); free(X);
    }
    free(S);
    ovica_prior_free(prior);
    return 0;
}

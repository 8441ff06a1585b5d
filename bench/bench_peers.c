/* The libovica side of the peer comparison (bench/peers.py runs it; `make
 * bench-peers`). Uses the public API only. With no arguments it prints its
 * usage and exits 0 (so that `make bench` can run it).
 *
 *   bench_peers encode X.npy A.npy PRIOR SIGMA B OUT.npy [THREADS [FISTA]]
 *       MAP codes of X (N x m) under A (m x n), prior laplace|exponential
 *       with scale B, noise SIGMA: the active-set solver with THREADS
 *       threads (OVICA_SOLVER_THREADS, default 1; best of 3 runs, timed
 *       without the stats, which a last untimed run fills; wall-clock and
 *       the process's CPU time, each the best of the 3) and, unless
 *       FISTA is 0, FISTA (tol 1e-6; then tightened until its objective is
 *       within 1e-6 of the exact one). Prints one line per solver:
 *         solver <name> seconds <t> cpu <c> objective <lasso objective> rounds <r>
 *       where the objective is sum_k 1/2 ||x_k - A s_k||^2 + mu |s_k|_1,
 *       mu = SIGMA^2 / B (sigma^2 times E(s) less its constant); the active
 *       line also gives threads, support (non-zeros per sample) and the
 *       worst optimality violation in the same units. Writes the
 *       active-set codes to OUT.npy.
 *   bench_peers learn X.npy ATRUE.npy PRIOR SIGMA B N_ATOMS BATCH RULE
 *       TIME_LIMIT SEED
 *       Trains a basis of N_ATOMS atoms on minibatches of X with the trainer
 *       (rule RULE, solver active) until the MMCS against ATRUE reaches 0.99
 *       or TIME_LIMIT seconds pass. Prints lines
 *         progress seconds <t> step <k> mmcs <v>
 *       and at the end
 *         result seconds <t> steps <k> mmcs <v> reached <0|1>
 *       The time counts training only (not the MMCS checks). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ovica.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* CPU time of the process (all its threads, OpenBLAS's included) */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
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

static ovica_prior *make_prior(const char *name, double b)
{
    ovica_prior *p = NULL;
    if (strcmp(name, "laplace") == 0) CHECK(ovica_prior_laplace_new(&p, b));
    else if (strcmp(name, "exponential") == 0) CHECK(ovica_prior_exponential_new(&p, b));
    else {
        fprintf(stderr, "unknown prior %s\n", name);
        exit(2);
    }
    return p;
}

/* sum over samples of 1/2 ||x - A s||^2 + mu |s|_1 */
static double lasso_objective(const ovica_model *md, const double *X, size_t N, const double *S,
                              double sigma)
{
    double mean = 0.0, per0 = 0.0;
    size_t m = ovica_model_dim(md), n = ovica_model_atoms(md);
    CHECK(ovica_model_objective(md, X, N, m, S, n, NULL, &mean));
    /* E(s) = (1/(2 sigma^2)) ||r||^2 + |s|_1 / b + n log(c b): remove the
     * constant by evaluating E at s = 0 for a zero sample */
    double *z = calloc(n + m, sizeof *z);
    CHECK(ovica_model_objective(md, z + n, 1, m, z, n, NULL, &per0));
    free(z);
    return (mean - per0) * (double)N * sigma * sigma;
}

static int run_encode(int argc, char **argv)
{
    if (argc < 8 || argc > 10) return 2;
    double *X = NULL, *A = NULL;
    size_t N, m, m2, n;
    CHECK(ovica_npy_read(argv[2], &X, &N, &m));
    CHECK(ovica_npy_read(argv[3], &A, &m2, &n));
    if (m2 != m) {
        fprintf(stderr, "X has %zu columns, A %zu rows\n", m, m2);
        return 1;
    }
    double sigma = atof(argv[5]), b = atof(argv[6]);
    double threads = argc > 8 ? atof(argv[8]) : 1.0;
    int run_fista = argc > 9 ? atoi(argv[9]) != 0 : 1;
    ovica_prior *p = make_prior(argv[4], b);
    ovica_model *md = NULL;
    CHECK(ovica_model_new(&md, m, n, p, sigma));
    CHECK(ovica_model_set_basis(md, A, m, n));
    double *S = malloc(N * n * sizeof *S), *S2 = malloc(N * n * sizeof *S2);

    ovica_solver *act = NULL;
    CHECK(ovica_solver_new(&act, ovica_solver_active));
    CHECK(ovica_solver_set_param(act, OVICA_SOLVER_TOL, 1e-9));
    CHECK(ovica_solver_set_param(act, OVICA_SOLVER_THREADS, threads));
    double best = INFINITY, best_cpu = INFINITY;
    ovica_infer_stats st = OVICA_INFER_STATS_INIT;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now(), c0 = cpu_now();
        CHECK(ovica_solver_infer(act, md, X, N, m, S, n, NULL));
        double t = now() - t0, tc = cpu_now() - c0;
        if (t < best) best = t;
        if (tc < best_cpu) best_cpu = tc;
    }
    CHECK(ovica_solver_infer(act, md, X, N, m, S, n, &st)); /* untimed: rounds, violation */
    double exact = lasso_objective(md, X, N, S, sigma);
    size_t nz = 0;
    for (size_t i = 0; i < N * n; i++) nz += S[i] != 0.0;
    printf("solver active threads %g seconds %.6f cpu %.6f objective %.12g rounds %zu "
           "support %.2f violation %.3g\n",
           threads, best, best_cpu, exact, st.iterations, (double)nz / (double)N,
           st.violation * sigma * sigma);
    fflush(stdout);
    CHECK(ovica_npy_write(argv[7], S, N, n));
    if (!run_fista) {
        ovica_solver_free(act);
        ovica_model_free(md);
        ovica_prior_free(p);
        ovica_free(X);
        ovica_free(A);
        free(S);
        free(S2);
        return 0;
    }

    /* FISTA: the default tolerance, then tighter until within 1e-6 */
    ovica_solver *f = NULL;
    CHECK(ovica_solver_new(&f, ovica_solver_fista));
    CHECK(ovica_solver_set_param(f, OVICA_SOLVER_MAX_ITER, 100000));
    for (double tol = 1e-6; tol >= 1e-12; tol *= 0.1) {
        CHECK(ovica_solver_set_param(f, OVICA_SOLVER_TOL, tol));
        ovica_infer_stats fs = OVICA_INFER_STATS_INIT;
        double t0 = now(), c0 = cpu_now();
        CHECK(ovica_solver_infer(f, md, X, N, m, S2, n, &fs));
        double t = now() - t0, tc = cpu_now() - c0;
        double obj = lasso_objective(md, X, N, S2, sigma);
        printf("solver fista_tol%.0e seconds %.6f cpu %.6f objective %.12g rounds %zu\n", tol, t,
               tc, obj, fs.iterations);
        fflush(stdout);
        if ((obj - exact) <= 1e-6 * fabs(exact)) break;
    }
    ovica_solver_free(f);
    ovica_solver_free(act);
    ovica_model_free(md);
    ovica_prior_free(p);
    ovica_free(X);
    ovica_free(A);
    free(S);
    free(S2);
    return 0;
}

static double mmcs_of(const ovica_trainer *t, const double *At, size_t m, size_t nt,
                      size_t n, int use_sign, double *buf)
{
    ovica_recovery rec = OVICA_RECOVERY_INIT;
    CHECK(ovica_model_get_basis(ovica_trainer_model(t), buf, m, n));
    CHECK(ovica_recovery_eval(buf, m, n, At, nt, use_sign, 5.0, NULL, 0, &rec));
    return rec.mmcs;
}

static int run_learn(int argc, char **argv)
{
    if (argc != 12) return 2;
    double *X = NULL, *At = NULL;
    size_t N, m, m2, nt;
    CHECK(ovica_npy_read(argv[2], &X, &N, &m));
    CHECK(ovica_npy_read(argv[3], &At, &m2, &nt));
    if (m2 != m) return 1;
    double sigma = atof(argv[5]), b = atof(argv[6]);
    size_t n = (size_t)atol(argv[7]), B = (size_t)atol(argv[8]);
    const ovica_rule_type *rule = ovica_rule_type_find(argv[9]);
    double limit = atof(argv[10]);
    uint64_t seed = (uint64_t)atoll(argv[11]);
    if (rule == NULL || n == 0 || B == 0 || B > N) return 2;
    ovica_prior *p = make_prior(argv[4], b);
    int use_sign = ovica_prior_domain(p) == OVICA_DOMAIN_NONNEG;
    ovica_model *md = NULL;
    CHECK(ovica_model_new(&md, m, n, p, sigma));
    ovica_trainer *t = NULL;
    CHECK(ovica_trainer_new(&t, md, rule, seed));
    CHECK(ovica_trainer_set_solver(t, ovica_solver_active));
    size_t steps = (size_t)(limit * 200.0); /* schedule horizon: a guess of the rate */
    CHECK(ovica_trainer_set_param(t, OVICA_TRAIN_STEPS, (double)steps));
    CHECK(ovica_trainer_set_param(t, OVICA_TRAIN_SCHEDULE, 0));
    CHECK(ovica_trainer_set_param(t, OVICA_TRAIN_MONITOR_EVERY, 0));
    CHECK(ovica_trainer_set_param(t, OVICA_TRAIN_LR, atof(getenv("BENCH_LR") ? getenv("BENCH_LR") : "0.3")));
    CHECK(ovica_trainer_init_basis(t, OVICA_INIT_DATA, X, N, m));
    double *buf = malloc(m * n * sizeof *buf);
    double trained = 0.0, mm = mmcs_of(t, At, m, nt, n, use_sign, buf);
    size_t k = 0, off = 0;
    int reached = mm >= 0.99;
    while (!reached && trained < limit) {
        double t0 = now();
        for (int i = 0; i < 10; i++, k++) {
            if (off + B > N) off = 0;
            CHECK(ovica_trainer_step(t, X + off * m, B, m, NULL));
            off += B;
        }
        trained += now() - t0;
        mm = mmcs_of(t, At, m, nt, n, use_sign, buf);
        reached = mm >= 0.99;
        printf("progress seconds %.3f step %zu mmcs %.5f\n", trained, k, mm);
        fflush(stdout);
    }
    printf("result seconds %.3f steps %zu mmcs %.5f reached %d\n", trained, k, mm, reached);
    free(buf);
    ovica_trainer_free(t);
    ovica_model_free(md);
    ovica_prior_free(p);
    ovica_free(X);
    ovica_free(At);
    return 0;
}

int main(int argc, char **argv)
{
    int rc = 2;
    if (argc >= 2 && strcmp(argv[1], "encode") == 0) rc = run_encode(argc, argv);
    else if (argc >= 2 && strcmp(argv[1], "learn") == 0) rc = run_learn(argc, argv);
    else if (argc == 1) {
        printf("bench_peers: the libovica side of `make bench-peers` (bench/peers.py); "
               "nothing to do without arguments\n");
        return 0;
    }
    if (rc == 2)
        fprintf(stderr, "usage: bench_peers encode X.npy A.npy PRIOR SIGMA B OUT.npy [THREADS [FISTA]]\n"
                        "       bench_peers learn X.npy ATRUE.npy PRIOR SIGMA B N_ATOMS BATCH "
                        "RULE TIME_LIMIT SEED\n");
    return rc;
}

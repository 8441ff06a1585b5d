/* Training throughput of the trainer's defaults on a sparse synthetic set:
 * the rows a run processes per second, and the recovery of the true basis
 * as it goes (public API and clock timing only).
 *
 *   train_throughput [m n activity N noise seed [threads [f32]]]
 *
 * Default: 32 64 0.05 20000 0.01 1 (a few seconds). The training-throughput
 * case of docs/PERFORMANCE.md: 128 512 0.03 50000 0.01 1. The data: a random
 * unit basis, Bernoulli(activity) times exponential(1) sources, Gaussian
 * noise; the whole data set is passed at every step, as a host would, and
 * the trainer draws the rows of each step itself. Every 50 steps it prints
 * the elapsed time, the MMCS against the truth, the atoms at cos >= 0.99 and
 * the noise estimate; at the end, rows per second over the whole run. With
 * "f32" the data are passed as float32 (ovica_trainer_step_f32, whose
 * default precision codes in single precision). The
 * run stops where the trainer says it has settled (ovica_trainer_converged),
 * as the library's hosts do. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_check.h"

int main(int argc, char **argv)
{
    size_t m = 32, n = 64, N = 20000;
    double activity = 0.05, noise = 0.01;
    unsigned long long seed = 1;
    if (argc != 1 && argc != 7 && argc != 8 && argc != 9) {
        fprintf(stderr, "usage: train_throughput [m n activity N noise seed [threads [f32]]]\n");
        return 2;
    }
    double threads = 1.0;
    if (argc >= 8) threads = strtod(argv[7], NULL);
    const int f32 = argc == 9 && strcmp(argv[8], "f32") == 0;
    if (argc == 9 && !f32) {
        fprintf(stderr, "train_throughput: the 8th argument is \"f32\" or nothing\n");
        return 2;
    }
    if (argc >= 7) {
        m = strtoul(argv[1], NULL, 10);
        n = strtoul(argv[2], NULL, 10);
        activity = strtod(argv[3], NULL);
        N = strtoul(argv[4], NULL, 10);
        noise = strtod(argv[5], NULL);
        seed = strtoull(argv[6], NULL, 10);
    }
    double *A = malloc(m * n * sizeof *A), *S = malloc(N * n * sizeof *S);
    double *X = malloc(N * m * sizeof *X);
    if (!A || !S || !X) {
        fprintf(stderr, "train_throughput: out of memory\n");
        return 1;
    }
    ovica_rng *r = NULL;
    CK(ovica_rng_new(&r, 5000 + seed));
    CK(ovica_synth_random_basis(r, A, m, n));
    CK(ovica_synth_sources(r, OVICA_PRIOR_EXPONENTIAL, 1.0, activity, S, N, n));
    CK(ovica_synth_mix(r, A, m, n, S, N, noise, X));
    free(S);
    float *Xf = NULL;
    if (f32) {
        Xf = malloc(N * m * sizeof *Xf);
        if (!Xf) {
            fprintf(stderr, "train_throughput: out of memory\n");
            return 1;
        }
        for (size_t i = 0; i < N * m; i++) Xf[i] = (float)X[i];
    }
    ovica_prior *p = NULL;
    CK(ovica_prior_exponential_new(&p, 1.0));
    ovica_model *md = NULL;
    CK(ovica_model_new(&md, m, n, p, 0.05));
    ovica_trainer *t = NULL;
    CK(ovica_trainer_new(&t, md, ovica_rule_auto, seed));
    CK(ovica_trainer_set_param(t, OVICA_TRAIN_THREADS, threads)); /* the codes' threads */
    double steps = 0.0;
    CK(ovica_trainer_get_param(t, OVICA_TRAIN_STEPS, &steps));
    const double cos99 = acos(0.99) * 180.0 / 3.14159265358979323846;
    printf("m %zu, n %zu, activity %g, N %zu, noise %g, seed %llu; %.0f steps, trainer threads "
           "%g, data %s, OPENBLAS_NUM_THREADS=%s\n",
           m, n, activity, N, noise, seed, steps, threads, f32 ? "float32" : "float64",
           getenv("OPENBLAS_NUM_THREADS") ? getenv("OPENBLAS_NUM_THREADS") : "(unset)");
    printf("%6s %9s %8s %10s %9s %8s\n", "step", "seconds", "MMCS", "cos>=0.99", "sigma", "route");
    double rows = 0.0;
    const double t0 = bench_now();
    for (size_t k = 0; k < (size_t)steps; k++) {
        ovica_step_stats st = OVICA_STEP_STATS_INIT;
        CK(f32 ? ovica_trainer_step_f32(t, Xf, N, m, &st) : ovica_trainer_step(t, X, N, m, &st));
        rows += st.samples;
        const int settled = ovica_trainer_converged(t) == 1;
        if ((k + 1) % 50 == 0 || k + 1 == (size_t)steps || settled) {
            const double el = bench_now() - t0; /* the evaluation below is not timed */
            ovica_recovery rc = OVICA_RECOVERY_INIT;
            CK(ovica_recovery_eval(ovica_model_basis(ovica_trainer_model(t)), m, n, A, n, 1,
                                      cos99, NULL, 0, &rc));
            static const char *const routes[] = {"probe", "sparse", "dense", "map"};
            int rg = ovica_trainer_regime(t);
            printf("%6zu %9.2f %8.4f %6zu/%-3zu %9.4f %8s\n", k + 1, el, rc.mmcs, rc.recovered, n,
                   st.sigma_t, rg >= 0 && rg < 4 ? routes[rg] : "?");
            fflush(stdout);
        }
        if (settled) {
            printf("settled at step %zu of %.0f (ovica_trainer_converged)\n", k + 1, steps);
            break;
        }
    }
    const double el = bench_now() - t0;
    printf("%.0f rows in %.2f s: %.0f rows per second\n", rows, el, rows / el);
    ovica_trainer_free(t);
    ovica_model_free(md);
    ovica_prior_free(p);
    ovica_rng_free(r);
    free(A);
    free(X);
    free(Xf);
    return 0;
}

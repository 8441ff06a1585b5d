/* The two halves of a training step with the defaults, timed apart: what
 * an MPI run divides across its ranks (ovica_trainer_accumulate: the codes
 * and the statistics of the step's rows) and what every rank repeats
 * (ovica_trainer_apply: the update), with the size of the statistics the
 * ranks sum per step. docs/SCALING.md's model of a step on P ranks is
 * accumulate / P + apply + the reduction of those bytes.
 *
 *   step_split [m n rows steps]
 *
 * Default: 64 256 4096 12 (a second). The scale benchmark's case:
 * 256 2048 8192 12. The data: a random unit basis, 3% of the features
 * active with exponential amplitudes, noise 0.01; the first two steps are
 * not timed. */
#include <stdlib.h>

#include "bench_check.h"

int main(int argc, char **argv)
{
    size_t m = 64, n = 256, N = 4096, steps = 12;
    if (argc != 1 && argc != 5) {
        fprintf(stderr, "usage: step_split [m n rows steps]\n");
        return 2;
    }
    if (argc == 5) {
        m = strtoul(argv[1], NULL, 10);
        n = strtoul(argv[2], NULL, 10);
        N = strtoul(argv[3], NULL, 10);
        steps = strtoul(argv[4], NULL, 10);
    }
    if (m == 0 || n == 0 || N == 0 || steps < 3) {
        fprintf(stderr, "step_split: m, n and rows must be positive, steps at least 3\n");
        return 2;
    }
    double *A = malloc(m * n * sizeof *A), *S = malloc(N * n * sizeof *S);
    double *X = malloc(N * m * sizeof *X);
    if (!A || !S || !X) {
        fprintf(stderr, "step_split: out of memory\n");
        return 1;
    }
    ovica_rng *r = NULL;
    CK(ovica_rng_new(&r, 77));
    CK(ovica_synth_random_basis(r, A, m, n));
    CK(ovica_synth_sources(r, OVICA_PRIOR_EXPONENTIAL, 1.0, 0.03, S, N, n));
    CK(ovica_synth_mix(r, A, m, n, S, N, 0.01, X));
    free(S);
    ovica_prior *p = NULL;
    CK(ovica_prior_exponential_new(&p, 1.0));
    ovica_model *md = NULL;
    CK(ovica_model_new(&md, m, n, p, 0.05));
    ovica_trainer *t = NULL;
    CK(ovica_trainer_new(&t, md, ovica_rule_auto, 1));
    double acc = 0.0, app = 0.0;
    for (size_t k = 0; k < steps; k++) {
        const double t0 = bench_now();
        CK(ovica_trainer_accumulate(t, X, N, m));
        const double t1 = bench_now();
        CK(ovica_trainer_apply(t, NULL));
        const double t2 = bench_now();
        if (k >= 2) {
            acc += t1 - t0;
            app += t2 - t1;
        }
    }
    const double k = (double)(steps - 2);
    const size_t len = ovica_trainer_stats_size(t);
    printf("m %zu, n %zu, %zu rows a step, steps 3-%zu: accumulate %.3f s, apply %.3f s per "
           "step (apply %.1f%% of the step); statistics %zu doubles (%.1f MiB) a step\n",
           m, n, N, steps, acc / k, app / k, 100.0 * app / (acc + app), len,
           8.0 * (double)len / 1048576.0);
    ovica_trainer_free(t);
    ovica_model_free(md);
    ovica_prior_free(p);
    ovica_rng_free(r);
    free(A);
    free(X);
    return 0;
}

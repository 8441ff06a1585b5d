/* Over-provisioned bases with the trainer's defaults: the article's 3 true
 * atoms (2-D, 120 degrees apart), learned with 6 and 8 atoms, then merged
 * back to 3 by ovica_atoms_cluster() weighted by ovica_atoms_usage(). Prints,
 * per data set, number of atoms and seed, the largest angle between a
 * merged atom and its true atom, and how many learned atoms are in use.
 *
 * Two data sets, 20000 samples each, noise 0.05, model sigma 0.05:
 *   - exponential sources, all active (the article's setting);
 *   - Laplace sources, each active with probability 0.3 (the setting of
 *     tests/check_scan.c test_overprovisioned_runs, which has 1500 samples
 *     and pins older trainer settings).
 * Every run uses ovica_rule_auto and the defaults except the duplicate
 * split guard, switched off (over-provisioning makes near-duplicates on
 * purpose), in batches of 5000. About 3 minutes of CPU. Figures and what
 * they mean: docs/MODEL-COMPARISON.md. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench_check.h"
#include "ovica.h"


enum { N = 20000, BATCH = 5000, SEEDS = 3, MAX_ATOMS = 8 };

typedef struct {
    const char *name;
    int prior;
    double activity;
} dataset;

/* Trains n atoms on X (N x 2), merges them to 3 and returns the largest
 * angle to the true atoms A_true; *used counts the atoms in use. */
static double run(const dataset *d, size_t n, uint64_t seed, const double *X,
                  const double *A_true, size_t *used)
{
    ovica_prior *p = NULL;
    if (d->prior == OVICA_PRIOR_LAPLACE) CK(ovica_prior_laplace_new(&p, 1.0));
    else CK(ovica_prior_exponential_new(&p, 1.0));
    ovica_model *md = NULL;
    CK(ovica_model_new(&md, 2, n, p, 0.05));
    ovica_trainer *t = NULL;
    CK(ovica_trainer_new(&t, md, ovica_rule_auto, seed));
    CK(ovica_trainer_set_param(t, OVICA_TRAIN_SPLIT, 0.0));
    double steps = 0.0;
    CK(ovica_trainer_get_param(t, OVICA_TRAIN_STEPS, &steps));
    for (size_t k = 0; k < (size_t)steps; k++)
        CK(ovica_trainer_step(t, X + (k % (N / BATCH)) * BATCH * 2, BATCH, 2, NULL));
    double B[2 * MAX_ATOMS], usage[MAX_ATOMS], merged[6], ang[3];
    size_t assign[MAX_ATOMS];
    const ovica_model *tm = ovica_trainer_model(t);
    const int sign = d->prior == OVICA_PRIOR_EXPONENTIAL;
    CK(ovica_model_get_basis(tm, B, 2, n));
    CK(ovica_atoms_usage(tm, X, N, 2, usage, n));
    CK(ovica_atoms_cluster(B, 2, n, usage, 3, sign, seed, merged, assign));
    CK(ovica_atoms_match(merged, 2, 3, A_true, 3, sign, NULL, ang));
    *used = 0;
    for (size_t j = 0; j < n; j++) *used += usage[j] > 0.01;
    ovica_trainer_free(t);
    ovica_model_free(md);
    ovica_prior_free(p);
    return fmax(ang[0], fmax(ang[1], ang[2]));
}

int main(void)
{
    static const dataset sets[] = {
        {"exponential, all active", OVICA_PRIOR_EXPONENTIAL, 1.0},
        {"Laplace, activity 0.3", OVICA_PRIOR_LAPLACE, 0.3},
    };
    static const size_t atoms[] = {6, 8};
    double A_true[6], *X = malloc((size_t)N * 2 * sizeof *X), *S = malloc((size_t)N * 3 * sizeof *S);
    if (!X || !S) return 1;
    CK(ovica_synth_basis_2d(OVICA_SYNTH_REGULAR3, A_true, 2, 3));
    printf("over-provisioned runs: 3 true atoms, %d samples, defaults (split off), merged to 3 "
           "by usage-weighted clustering\n",
           N);
    printf("%-26s %5s %5s %14s %10s\n", "data", "atoms", "seed", "worst angle", "atoms used");
    for (size_t s = 0; s < sizeof sets / sizeof sets[0]; s++) {
        ovica_rng *r = NULL;
        CK(ovica_rng_new(&r, 11));
        CK(ovica_synth_sources(r, sets[s].prior, 1.0, sets[s].activity, S, N, 3));
        CK(ovica_synth_mix(r, A_true, 2, 3, S, N, 0.05, X));
        ovica_rng_free(r);
        for (size_t a = 0; a < sizeof atoms / sizeof atoms[0]; a++) {
            int within = 0;
            for (uint64_t seed = 1; seed <= SEEDS; seed++) {
                size_t used = 0;
                double worst = run(&sets[s], atoms[a], seed, X, A_true, &used);
                within += worst <= 3.0;
                printf("%-26s %5zu %5llu %10.2f deg %6zu/%zu\n", sets[s].name, atoms[a],
                       (unsigned long long)seed, worst, used, atoms[a]);
                fflush(stdout);
            }
            printf("%-26s %5zu  all: %d/%d seeds within 3 degrees\n", sets[s].name, atoms[a],
                   within, SEEDS);
        }
    }
    free(X);
    free(S);
    return 0;
}

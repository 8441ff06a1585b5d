/* Ablation of the learning rules and their settings on the article's 2-D
 * data sets: for every configuration (rule, z choice, initialisation,
 * schedule, and each of the defaults switched off in turn) and every set,
 * the number of seeds out of 20 whose every learned atom lies within the
 * bar of the true one, and the median of the largest angle. The seeds and
 * the data's generation are those of tests/check_experiments.c (the sizes
 * are smaller: see `sets` below); the table is in docs/ABLATION.md.
 *
 * It takes about two hours of CPU, so `make bench` skips it unless
 * OVICA_ABLATION=1 is set or an argument is given:
 *     OPENBLAS_NUM_THREADS=1 build/bench/ablation [--seeds K] [--only TEXT]
 *            [--set 0|1|2]
 * --only keeps the configurations whose name contains TEXT; --set one set
 * (0: 3 exponential, 1: 4 irregular exponential, 2: 3 Laplace). Output:
 * the rows of a Markdown table, one per configuration. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_check.h"
#include "ovica.h"

#define MAX_SEEDS 100
#define MAX_OVERRIDES 4

typedef struct {
    const char *name;
    const char *rule;
    int z;        /* OVICA_TRAIN_Z, or -1: default */
    int init;     /* enum ovica_init_method, or -1: the trainer's default (spread) */
    int schedule; /* OVICA_TRAIN_SCHEDULE, or -1: default (warm-up + cosine) */
    struct {
        int param;
        double value;
    } set[MAX_OVERRIDES];
    int nset;
} config;

static const config configs[] = {
    /* the article's rule and the questions it left open */
    {"natural z=prior, random init, constant lr (E3)", "natural", 0, OVICA_INIT_RANDOM, 0, {{0, 0}}, 0},
    {"natural z=prior, random init, cosine (E6)", "natural", 0, OVICA_INIT_RANDOM, 1, {{0, 0}}, 0},
    {"natural z=prior, spread init, constant lr", "natural", 0, -1, 0, {{0, 0}}, 0},
    {"natural z=prior, spread init, cosine", "natural", 0, -1, 1, {{0, 0}}, 0},
    {"natural z=prior, data init, cosine", "natural", 0, OVICA_INIT_DATA, 1, {{0, 0}}, 0},
    {"natural z=subgradient, spread init, cosine", "natural", 1, -1, 1, {{0, 0}}, 0},
    {"natural z=subgradient, random init, cosine", "natural", 1, OVICA_INIT_RANDOM, 1, {{0, 0}}, 0},
    {"plain z=prior, spread init, cosine", "plain", 0, -1, 1, {{0, 0}}, 0},
    {"plain z=subgradient, spread init, cosine", "plain", 1, -1, 1, {{0, 0}}, 0},
    {"reconstruction, spread init, cosine", "reconstruction", -1, -1, 1, {{0, 0}}, 0},
    /* posterior draws */
    {"em (annealed), spread init", "em", -1, -1, -1, {{0, 0}}, 0},
    {"exact, spread init", "exact", -1, -1, -1, {{0, 0}}, 0},
    /* the default, and each of its parts switched off or changed in turn */
    {"auto (the defaults)", "auto", -1, -1, -1, {{0, 0}}, 0},
    {"auto, random init", "auto", -1, OVICA_INIT_RANDOM, -1, {{0, 0}}, 0},
    {"auto, data init", "auto", -1, OVICA_INIT_DATA, -1, {{0, 0}}, 0},
    {"auto, constant schedule", "auto", -1, -1, 0, {{0, 0}}, 0},
    {"auto, no annealing", "auto", -1, -1, -1, {{OVICA_TRAIN_ANNEAL, 1.0}}, 1},
    {"auto, annealing from 10 sigma", "auto", -1, -1, -1, {{OVICA_TRAIN_ANNEAL, 10.0}}, 1},
    {"auto, no Adam (lr * dA, capped)", "auto", -1, -1, -1, {{OVICA_TRAIN_ADAM, 0.0}}, 1},
    {"auto, EM for the annealing (em_fraction 0.6)", "auto", -1, -1, -1,
     {{OVICA_TRAIN_EM_FRACTION, 0.6}}, 1},
    {"auto, 300 steps of 2 sweeps", "auto", -1, -1, -1,
     {{OVICA_TRAIN_STEPS, 300}, {OVICA_TRAIN_SWEEPS, 2}}, 2},
};
#define N_CONFIGS (sizeof configs / sizeof configs[0])

typedef struct {
    const char *name;
    int set, prior;
    size_t n, N, batch;
    double bar;
} dataset;

/* Smaller data than tests/check_experiments.c (which has 10000, 20000 and
 * 50000 samples): the MAP rules solve for s_hat at every step, and on a bad
 * basis FISTA runs to its iteration limit, so that a MAP configuration at
 * N = 20000 takes about a minute per run. */
static const dataset sets[] = {
    {"3 exponential", OVICA_SYNTH_REGULAR3, OVICA_PRIOR_EXPONENTIAL, 3, 5000, 5000, 2.0},
    {"4 irregular exponential", OVICA_SYNTH_IRREGULAR4, OVICA_PRIOR_EXPONENTIAL, 4, 5000, 5000, 3.0},
    {"3 Laplace", OVICA_SYNTH_REGULAR3, OVICA_PRIOR_LAPLACE, 3, 20000, 5000, 3.0},
};


static double now(void)
{
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One run; returns the largest angle (90 or 180 when training failed). */
static double run(const config *c, const dataset *d, int seed, const double *X,
                  const double *A_true)
{
    const size_t m = 2, n = d->n;
    ovica_prior *p = NULL;
    if (d->prior == OVICA_PRIOR_LAPLACE) CK(ovica_prior_laplace_new(&p, 1.0));
    else CK(ovica_prior_exponential_new(&p, 1.0));
    ovica_model *md = NULL;
    CK(ovica_model_new(&md, m, n, p, 0.05));
    ovica_trainer *t = NULL;
    CK(ovica_trainer_new(&t, md, ovica_rule_type_find(c->rule), (uint64_t)seed));
    if (c->z >= 0) CK(ovica_trainer_set_param(t, OVICA_TRAIN_Z, c->z));
    if (c->schedule >= 0) CK(ovica_trainer_set_param(t, OVICA_TRAIN_SCHEDULE, c->schedule));
    for (int i = 0; i < c->nset; i++) CK(ovica_trainer_set_param(t, c->set[i].param, c->set[i].value));
    if (c->init >= 0) CK(ovica_trainer_init_basis(t, c->init, X, d->N, m));
    double steps;
    CK(ovica_trainer_get_param(t, OVICA_TRAIN_STEPS, &steps));
    const size_t nb = d->N / d->batch;
    int st = OVICA_OK;
    for (size_t k = 0; st >= 0 && k < (size_t)steps; k++)
        st = ovica_trainer_step(t, X + (k % nb) * d->batch * m, d->batch, m, NULL);
    double angle = d->prior == OVICA_PRIOR_EXPONENTIAL ? 180.0 : 90.0;
    if (st >= 0) {
        ovica_recovery rec = OVICA_RECOVERY_INIT;
        CK(ovica_recovery_eval(ovica_model_basis(ovica_trainer_model(t)), m, n, A_true, n,
                               d->prior == OVICA_PRIOR_EXPONENTIAL, d->bar, NULL, 0, &rec));
        angle = rec.max_angle_deg;
    }
    ovica_trainer_free(t);
    ovica_model_free(md);
    ovica_prior_free(p);
    return angle;
}

int main(int argc, char **argv)
{
    int seeds = 20, only_set = -1;
    const char *only = NULL;
    const char *env = getenv("OVICA_ABLATION");
    if (argc < 2 && !(env && strcmp(env, "1") == 0)) {
        printf("ablation: skipped (about two hours of CPU); run it with OVICA_ABLATION=1 or an "
               "argument, e.g. build/bench/ablation --seeds 20\n");
        return 0;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seeds") == 0 && i + 1 < argc) seeds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) only = argv[++i];
        else if (strcmp(argv[i], "--set") == 0 && i + 1 < argc) only_set = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--seeds K] [--only TEXT] [--set 0|1|2]\n", argv[0]);
            return 2;
        }
    }
    if (seeds < 1 || seeds > MAX_SEEDS || only_set < -1 || only_set > 2) {
        fprintf(stderr, "%s: --seeds in [1, %d], --set in [0, 2]\n", argv[0], MAX_SEEDS);
        return 2;
    }
    /* data of every set and seed, made once */
    double *X[3][MAX_SEEDS] = {{NULL}}, A_true[3][8];
    for (int s = 0; s < 3; s++) {
        if (only_set >= 0 && s != only_set) continue;
        const dataset *d = &sets[s];
        CK(ovica_synth_basis_2d(d->set, A_true[s], 2, d->n));
        double *S = malloc(d->N * d->n * sizeof *S);
        for (int k = 0; k < seeds; k++) {
            ovica_rng *r = NULL;
            X[s][k] = malloc(d->N * 2 * sizeof(double));
            if (!S || !X[s][k]) return 1;
            CK(ovica_rng_new(&r, 1000 + (uint64_t)(k + 1)));
            CK(ovica_synth_sources(r, d->prior, 1.0, 1.0, S, d->N, d->n));
            CK(ovica_synth_mix(r, A_true[s], 2, d->n, S, d->N, 0.05, X[s][k]));
            ovica_rng_free(r);
        }
        free(S);
    }
    printf("| configuration |");
    for (int s = 0; s < 3; s++)
        if (only_set < 0 || s == only_set) printf(" %s (<= %g deg) |", sets[s].name, sets[s].bar);
    printf("\n|---|");
    for (int s = 0; s < 3; s++)
        if (only_set < 0 || s == only_set) printf("---|");
    printf("\n");
    fflush(stdout);
    for (size_t c = 0; c < N_CONFIGS; c++) {
        if (only && !strstr(configs[c].name, only)) continue;
        printf("| %s |", configs[c].name);
        fflush(stdout);
        for (int s = 0; s < 3; s++) {
            if (only_set >= 0 && s != only_set) continue;
            double ang[MAX_SEEDS], t0 = now();
            int ok = 0;
            for (int k = 0; k < seeds; k++) {
                ang[k] = run(&configs[c], &sets[s], k + 1, X[s][k], A_true[s]);
                ok += ang[k] <= sets[s].bar;
            }
            qsort(ang, (size_t)seeds, sizeof ang[0], cmp);
            double med = seeds % 2 ? ang[seeds / 2] : 0.5 * (ang[seeds / 2 - 1] + ang[seeds / 2]);
            printf(" %d/%d (median %.1f; %.1f s/run) |", ok, seeds, med, (now() - t0) / seeds);
            fflush(stdout);
        }
        printf("\n");
    }
    for (int s = 0; s < 3; s++)
        for (int k = 0; k < seeds; k++) free(X[s][k]);
    return 0;
}

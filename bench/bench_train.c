/* Where a training step's time goes (public API and clock timing only).
 * m=64, n=256, batches of 2,000 samples of 5%-active exponential sources.
 * For each MAP rule and solver: the time of ovica_trainer_step next to the
 * time of ovica_solver_infer alone on the same batch and basis, and their
 * ratio; the rest of the step (residuals, statistics, the update, guards,
 * monitor) is the difference. Best of 5 repetitions of 5 steps each. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

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

int main(void)
{
    const size_t m = 64, n = 256, B = 2000, nb = 5;
    const double sigma = 0.05, b = 0.05;
    ovica_rng *r = NULL;
    CHECK(ovica_rng_new(&r, 5));
    double *A = malloc(m * n * sizeof *A), *S = malloc(nb * B * n * sizeof *S),
           *X = malloc(nb * B * m * sizeof *X), *Sc = malloc(B * n * sizeof *Sc);
    CHECK(ovica_synth_random_basis(r, A, m, n));
    CHECK(ovica_synth_sources(r, OVICA_PRIOR_EXPONENTIAL, 1.0, 0.05, S, nb * B, n));
    CHECK(ovica_synth_mix(r, A, m, n, S, nb * B, 0.01, X));
    ovica_prior *p = NULL;
    CHECK(ovica_prior_exponential_new(&p, b));
    ovica_model *md = NULL;
    CHECK(ovica_model_new(&md, m, n, p, sigma));
    printf("libovica %s: a training step against inference alone, m=%zu n=%zu, batch %zu\n",
           ovica_version_string(), m, n, B);
    printf("| rule | solver | step (ms) | infer alone (ms) | infer / step | rest (ms) |\n");
    printf("|---|---|---|---|---|---|\n");
    const char *rules[] = {"reconstruction", "natural"};
    const ovica_solver_type *solvers[2] = {ovica_solver_active, ovica_solver_fista};
    for (int ri = 0; ri < 2; ri++)
        for (int si = 0; si < 2; si++) {
            ovica_trainer *t = NULL;
            CHECK(ovica_trainer_new(&t, md, ovica_rule_type_find(rules[ri]), 1));
            CHECK(ovica_trainer_set_solver(t, solvers[si]));
            CHECK(ovica_trainer_set_param(t, OVICA_TRAIN_SCHEDULE, 0));
            CHECK(ovica_trainer_set_param(t, OVICA_TRAIN_LR, 0.05));
            CHECK(ovica_trainer_init_basis(t, OVICA_INIT_DATA, X, nb * B, m));
            /* the trainer's own solver settings, for the comparison */
            double iters = 0.0, tol = 0.0;
            CHECK(ovica_trainer_get_param(t, OVICA_TRAIN_SOLVER_ITER, &iters));
            CHECK(ovica_trainer_get_param(t, OVICA_TRAIN_SOLVER_TOL, &tol));
            ovica_solver *sv = NULL;
            CHECK(ovica_solver_new(&sv, solvers[si]));
            CHECK(ovica_solver_set_param(sv, OVICA_SOLVER_MAX_ITER, iters));
            CHECK(ovica_solver_set_param(sv, OVICA_SOLVER_TOL, tol));
            /* warm-up: allocations, the monitor batch */
            CHECK(ovica_trainer_step(t, X, B, m, NULL));
            double best_step = INFINITY, best_inf = INFINITY;
            for (int rep = 0; rep < 5; rep++) {
                double ts = 0.0, ti = 0.0;
                for (size_t k = 0; k < nb; k++) {
                    const double *Xb = X + k * B * m;
                    const ovica_model *cur = ovica_trainer_model(t);
                    double t0 = now();
                    CHECK(ovica_solver_infer(sv, cur, Xb, B, m, Sc, n, NULL));
                    ti += now() - t0;
                    t0 = now();
                    CHECK(ovica_trainer_step(t, Xb, B, m, NULL));
                    ts += now() - t0;
                }
                if (ts < best_step) best_step = ts;
                if (ti < best_inf) best_inf = ti;
            }
            best_step /= (double)nb;
            best_inf /= (double)nb;
            printf("| %s | %s | %.2f | %.2f | %.2f | %.2f |\n", rules[ri],
                   ovica_solver_type_name(solvers[si]), 1e3 * best_step, 1e3 * best_inf,
                   best_inf / best_step, 1e3 * (best_step - best_inf));
            ovica_solver_free(sv);
            ovica_trainer_free(t);
        }
    ovica_model_free(md);
    ovica_prior_free(p);
    ovica_rng_free(r);
    free(A); free(S); free(X); free(Sc);
    return 0;
}

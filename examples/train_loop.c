/*
 * A training loop driven step by step by the host, with its own stopping
 * rule.
 *
 * The library's trainer does one step per call (ovica_trainer_step); the
 * host decides what a batch is, when to look at progress and when to stop.
 * Here: the article's 2-D data (3 exponential sources at 90, 210 and 330
 * degrees), mini-batches cycled over the data, and a stopping rule of our
 * own: stop once the held-out log-likelihood (ovica_loglik_laplace) has not
 * improved by more than 1e-3 nats per sample for `patience` consecutive
 * evaluations, or at the step budget. The best basis by that measure is
 * kept by the host itself (ovica_trainer_set_basis puts it back at the
 * end).
 *
 *   train_loop [--quick]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ovica.h>

#define CHECK(call)                                                                   \
    do {                                                                              \
        int st_ = (call);                                                             \
        if (st_ < 0) {                                                                \
            fprintf(stderr, "train_loop: %s failed: %s: %s\n", #call, ovica_strerror(st_), \
                    ovica_error_message());                                           \
            goto fail;                                                                \
        }                                                                             \
    } while (0)

int main(int argc, char **argv)
{
    const int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    const size_t m = 2, n = 3;
    const size_t N = quick ? 2000 : 20000, N_test = 1000, batch = quick ? 500 : 2000;
    const size_t budget = quick ? 150 : 600, eval_every = 10, patience = 4;
    const double sigma = 0.05;

    double A_true[6], A[6], best_A[6];
    double *S = malloc((N + N_test) * n * sizeof *S);
    double *X = malloc((N + N_test) * m * sizeof *X);
    ovica_rng *rng = NULL;
    ovica_prior *prior = NULL;
    ovica_model *model = NULL;
    ovica_trainer *t = NULL;
    int code = 1;
    if (S == NULL || X == NULL) goto fail;

    /* data: training rows first, then held-out rows */
    CHECK(ovica_rng_new(&rng, 7));
    CHECK(ovica_synth_basis_2d(OVICA_SYNTH_REGULAR3, A_true, m, n));
    CHECK(ovica_synth_sources(rng, OVICA_PRIOR_EXPONENTIAL, 1.0, 1.0, S, N + N_test, n));
    CHECK(ovica_synth_mix(rng, A_true, m, n, S, N + N_test, sigma, X));
    const double *X_test = X + N * m;

    CHECK(ovica_prior_exponential_new(&prior, 1.0));
    CHECK(ovica_model_new(&model, m, n, prior, sigma));
    CHECK(ovica_trainer_new(&t, model, ovica_rule_auto, 42));
    /* the schedules (learning rate, annealing, EM then gradient) are laid
     * out over the planned number of steps: the budget */
    CHECK(ovica_trainer_set_param(t, OVICA_TRAIN_STEPS, (double)budget));
    CHECK(ovica_trainer_init_basis(t, OVICA_INIT_SPREAD, X, N, m));

    double best = -INFINITY;
    size_t since_best = 0, k;
    for (k = 0; k < budget; k++) {
        const double *Xb = X + ((k * batch) % N) * m;   /* N is a multiple of batch */
        ovica_step_stats s = OVICA_STEP_STATS_INIT;
        CHECK(ovica_trainer_step(t, Xb, batch, m, &s));
        if ((k + 1) % eval_every != 0) continue;

        /* our own measure: held-out mean log-likelihood at the current basis */
        const ovica_model *cur = ovica_trainer_model(t);
        double ll = 0;
        CHECK(ovica_loglik_laplace(cur, X_test, N_test, m, ovica_loglik_beta_default(prior), NULL,
                                   &ll));
        printf("step %4zu  objective %8.4f  lr %.3f  sigma_t %.3f  held-out loglik %.4f%s\n",
               k + 1, s.objective, s.lr, s.sigma_t, ll, ll > best + 1e-3 ? "  *" : "");
        if (ll > best + 1e-3) {
            best = ll;
            since_best = 0;
            CHECK(ovica_model_get_basis(cur, best_A, m, n));
        } else if (++since_best >= patience && (double)k > 0.6 * (double)budget) {
            /* (not before the annealing and the EM phase are over) */
            printf("no improvement in %zu evaluations: stopping at step %zu of %zu\n",
                   patience, k + 1, budget);
            break;
        }
    }
    CHECK(ovica_trainer_set_basis(t, best_A, m, n));
    CHECK(ovica_model_get_basis(ovica_trainer_model(t), A, m, n));

    ovica_recovery rec = OVICA_RECOVERY_INIT;
    CHECK(ovica_recovery_eval(A, m, n, A_true, n, 1, 3.0, NULL, 0, &rec));
    printf("best held-out loglik %.4f nats/sample; atoms at", best);
    for (size_t i = 0; i < n; i++)
        printf(" %.1f", atan2(A[n + i], A[i]) * 180.0 / 3.14159265358979323846);
    printf(" degrees; max angle error %.2f degrees, %zu/%zu recovered\n", rec.max_angle_deg,
           rec.recovered, rec.n_true);
    code = rec.max_angle_deg < 5.0 ? 0 : 1;
    if (code) fprintf(stderr, "train_loop: the basis was not recovered\n");
fail:
    ovica_trainer_free(t);
    ovica_model_free(model);
    ovica_prior_free(prior);
    ovica_rng_free(rng);
    free(S);
    free(X);
    return code;
}

/*
 * A prior of the host's own, through callbacks.
 *
 * libovica's built-in priors are Laplace and exponential. A host can plug
 * in any factorial prior by a table of callbacks (ovica_prior_user_new):
 * here an "elastic-net" prior,
 *
 *     -log p(s) = |s|/b + s^2/(2c) + const,
 *
 * sparse like the Laplace prior near 0 but with Gaussian tails. Its
 * gradient, prox and curvature are in closed form:
 *
 *     grad:  sign(s)/b + s/c                  (0 at s = 0: a subgradient)
 *     prox:  prox_t(v) = sign(v) max(|v| - t/b, 0) / (1 + t/c)
 *     curvature: 1/c
 *
 * With the prox, the FISTA solver works; with the curvature, the
 * likelihood (ovica_loglik_laplace) works. The callbacks' `user` pointer
 * carries the parameters and a call counter; a callback that returns
 * non-zero stops the library call, which then returns OVICA_EUSER (shown at
 * the end).
 * Training with a user prior uses a MAP rule (natural, plain or
 * reconstruction): the rules from posterior draws need a built-in prior.
 *
 *   custom_prior [--quick]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ovica.h>

typedef struct {
    double b, c;   /* Laplace scale and Gaussian variance */
    long calls;    /* callback calls so far */
    long limit;    /* > 0: fail once calls exceed it (to show OVICA_EUSER) */
} enet;

static double logz(const enet *p)
{
    /* normalising constant: integral of exp(-|s|/b - s^2/(2c)) over R,
     * 2 sqrt(2 pi c) exp(c/(2b^2)) Phi(-sqrt(c)/b), via erfc */
    double r = sqrt(p->c) / p->b;
    return log(sqrt(2.0 * 3.14159265358979323846 * p->c) * exp(r * r / 2) * erfc(r / sqrt(2.0)));
}

static int over_limit(enet *p)
{
    return ++p->calls > p->limit && p->limit > 0;
}

static int enet_neglogp(const double *s, size_t count, double *out, void *user)
{
    enet *p = user;
    if (over_limit(p)) return 1;
    double sum = 0;
    for (size_t i = 0; i < count; i++) sum += fabs(s[i]) / p->b + s[i] * s[i] / (2 * p->c);
    *out = sum + (double)count * logz(p);
    return 0;
}

static int enet_grad(const double *s, size_t count, double *g, void *user)
{
    enet *p = user;
    if (over_limit(p)) return 1;
    for (size_t i = 0; i < count; i++) {
        double v = s[i];
        g[i] = (v > 0 ? 1.0 / p->b : v < 0 ? -1.0 / p->b : 0.0) + v / p->c;
    }
    return 0;
}

static int enet_prox(const double *v, size_t count, double t, double *out, void *user)
{
    enet *p = user;
    if (over_limit(p)) return 1;
    for (size_t i = 0; i < count; i++) {
        double a = fabs(v[i]) - t / p->b;
        double u = a > 0 ? a / (1 + t / p->c) : 0.0;
        out[i] = v[i] < 0 ? -u : u;
    }
    return 0;
}

static int enet_curvature(const double *s, size_t count, double *c, void *user)
{
    enet *p = user;
    (void)s;
    if (over_limit(p)) return 1;
    for (size_t i = 0; i < count; i++) c[i] = 1.0 / p->c;
    return 0;
}

#define CHECK(call)                                                                   \
    do {                                                                              \
        int st_ = (call);                                                             \
        if (st_ < 0) {                                                                \
            fprintf(stderr, "custom_prior: %s failed: %s: %s\n", #call, ovica_strerror(st_), \
                    ovica_error_message());                                           \
            goto fail;                                                                \
        }                                                                             \
    } while (0)

int main(int argc, char **argv)
{
    const int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    const size_t m = 2, n = 3, N = quick ? 2000 : 20000, steps = quick ? 150 : 400;
    const double sigma = 0.05;
    enet params = {1.0, 4.0, 0, 0};

    double A_true[6], A[6];
    double *S = malloc(N * n * sizeof *S), *X = malloc(N * m * sizeof *X);
    ovica_rng *rng = NULL;
    ovica_prior *prior = NULL;
    ovica_model *model = NULL;
    ovica_trainer *t = NULL;
    ovica_solver *fista = NULL;
    int code = 1;
    if (S == NULL || X == NULL) goto fail;

    /* sparse Laplace sources (each active in 30% of the samples) mixed by
     * three atoms 120 degrees apart */
    CHECK(ovica_rng_new(&rng, 3));
    CHECK(ovica_synth_basis_2d(OVICA_SYNTH_REGULAR3, A_true, m, n));
    CHECK(ovica_synth_sources(rng, OVICA_PRIOR_LAPLACE, 1.0, 0.3, S, N, n));
    CHECK(ovica_synth_mix(rng, A_true, m, n, S, N, sigma, X));

    ovica_prior_callbacks cb = OVICA_PRIOR_CALLBACKS_INIT;
    cb.domain = OVICA_DOMAIN_REAL;
    cb.name = "elastic-net";
    cb.neglogp = enet_neglogp;
    cb.grad = enet_grad;
    cb.prox = enet_prox;
    cb.curvature = enet_curvature;
    CHECK(ovica_prior_user_new(&prior, &cb, &params));
    printf("prior: %s (kind %d, has prox: %d)\n", ovica_prior_name(prior), ovica_prior_kind(prior),
           ovica_prior_has_prox(prior));

    CHECK(ovica_model_new(&model, m, n, prior, sigma));
    CHECK(ovica_trainer_new(&t, model, ovica_rule_natural, 5));
    printf("rule: %s\n", ovica_rule_type_name(ovica_trainer_rule(t)));
    CHECK(ovica_trainer_set_param(t, OVICA_TRAIN_STEPS, (double)steps));
    CHECK(ovica_trainer_init_basis(t, OVICA_INIT_SPREAD, X, N, m));
    ovica_step_stats s = OVICA_STEP_STATS_INIT;
    for (size_t k = 0; k < steps; k++) {
        CHECK(ovica_trainer_step(t, X, N, m, &s));
        if ((k + 1) % (steps / 5) == 0)
            printf("step %zu: objective %.4f, %.2f active per sample, update %.2g\n", k + 1,
                   s.objective, s.active, s.update);
    }
    (void)ovica_trainer_restore_best(t);  /* OVICA_ESTATE if the monitor never ran */
    CHECK(ovica_model_get_basis(ovica_trainer_model(t), A, m, n));

    ovica_recovery rec = OVICA_RECOVERY_INIT;
    CHECK(ovica_recovery_eval(A, m, n, A_true, n, 0, 3.0, NULL, 0, &rec));
    double ll = 0;
    CHECK(ovica_loglik_laplace(ovica_trainer_model(t), X, N < 1000 ? N : 1000, m, 1.0, NULL, &ll));
    printf("learned with the elastic-net prior: max angle error %.2f degrees (sign-free), "
           "loglik %.4f nats/sample, %ld callback calls\n", rec.max_angle_deg, ll, params.calls);

    /* a callback that fails: the library call returns OVICA_EUSER */
    CHECK(ovica_solver_new(&fista, ovica_solver_fista));
    params.calls = 0;
    params.limit = 5;
    int st = ovica_solver_infer(fista, ovica_trainer_model(t), X, 100, m, S, n, NULL);
    printf("with a callback that fails after 5 calls: %s (%s)\n", ovica_strerror(st),
           ovica_error_message());
    if (st != OVICA_EUSER) goto fail;
    code = rec.max_angle_deg < 5.0 ? 0 : 1;
    if (code) fprintf(stderr, "custom_prior: the basis was not recovered\n");
fail:
    ovica_solver_free(fista);
    ovica_trainer_free(t);
    ovica_model_free(model);
    ovica_prior_free(prior);
    ovica_rng_free(rng);
    free(S);
    free(X);
    return code;
}

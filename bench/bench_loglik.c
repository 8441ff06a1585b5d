/* Accuracy of the Laplace approximation of log P(x|A) (issue #6).
 * For data drawn from the model (random unit bases, the article's 2x3 basis
 * for 2x3; all sources active, b = 1), prints the mean per-sample bias
 * (Laplace approximation - importance sampling, nats) for several beta, and
 * the importance sampler's standard error. Also the time of one Laplace
 * evaluation of 2,000 samples at m = 16, n = 32.
 * Prints figures; asserts nothing. docs/MODEL-COMPARISON.md quotes them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ovica.h"

#define CHECK(x)                                                                       \
    do {                                                                               \
        int st_ = (x);                                                                 \
        if (st_ < 0) {                                                                 \
            fprintf(stderr, "%s:%d: %s: %s (%s)\n", __FILE__, __LINE__, #x,             \
                    ovica_strerror(st_), ovica_error_message());                       \
            exit(1);                                                                   \
        }                                                                              \
    } while (0)

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(void)
{
    const size_t ms[] = {2, 3, 4, 8}, ns[] = {3, 6, 8, 12}, Ns[] = {200, 100, 60, 30};
    const double betas[] = {1, 2, 5, 10, 20, 60};
    enum { NB = sizeof betas / sizeof betas[0] };
    printf("bias of the Laplace approximation against importance sampling (nats/sample)\n");
    printf("%-6s %-12s %-5s %9s %7s", "m x n", "prior", "sigma", "IS mean", "IS se");
    for (int b = 0; b < NB; b++) printf("  beta=%-4g", betas[b]);
    printf("\n");
    for (int c = 0; c < 4; c++) {
        const size_t m = ms[c], n = ns[c], N = Ns[c];
        double *A = malloc(m * n * sizeof *A), *S = malloc(N * n * sizeof *S),
               *X = malloc(N * m * sizeof *X);
        ovica_rng *r = NULL;
        CHECK(ovica_rng_new(&r, 100 + (uint64_t)c));
        if (m == 2 && n == 3) CHECK(ovica_synth_basis_2d(OVICA_SYNTH_REGULAR3, A, 2, 3));
        else CHECK(ovica_synth_random_basis(r, A, m, n));
        for (int kind = 0; kind < 2; kind++)
            for (int si = 0; si < 2; si++) {
                const double sigma = si ? 0.2 : 0.05;
                CHECK(ovica_synth_sources(r, kind, 1.0, 1.0, S, N, n));
                CHECK(ovica_synth_mix(r, A, m, n, S, N, sigma, X));
                ovica_prior *p = NULL;
                if (kind == 0) CHECK(ovica_prior_laplace_new(&p, 1.0));
                else CHECK(ovica_prior_exponential_new(&p, 1.0));
                ovica_model *md = NULL;
                CHECK(ovica_model_new(&md, m, n, p, sigma));
                CHECK(ovica_model_set_basis(md, A, m, n));
                double mi = 0.0, se = 0.0;
                CHECK(ovica_loglik_importance(md, X, N, m, 20000, 1, NULL, &mi, &se));
                printf("%zux%-4zu %-12s %-5.2f %9.4f %7.4f", m, n, kind ? "exponential" : "laplace",
                       sigma, mi, se);
                for (int b = 0; b < NB; b++) {
                    double ml = 0.0;
                    CHECK(ovica_loglik_laplace(md, X, N, m, betas[b], NULL, &ml));
                    printf("  %+10.3f", ml - mi);
                }
                printf("\n");
                ovica_model_free(md);
                ovica_prior_free(p);
            }
        ovica_rng_free(r);
        free(A);
        free(S);
        free(X);
    }

    /* speed of the Laplace approximation */
    {
        const size_t m = 16, n = 32, N = 2000;
        double *A = malloc(m * n * sizeof *A), *S = malloc(N * n * sizeof *S),
               *X = malloc(N * m * sizeof *X);
        ovica_rng *r = NULL;
        CHECK(ovica_rng_new(&r, 5));
        CHECK(ovica_synth_random_basis(r, A, m, n));
        CHECK(ovica_synth_sources(r, OVICA_PRIOR_LAPLACE, 1.0, 0.3, S, N, n));
        CHECK(ovica_synth_mix(r, A, m, n, S, N, 0.1, X));
        ovica_prior *p = NULL;
        CHECK(ovica_prior_laplace_new(&p, 1.0));
        ovica_model *md = NULL;
        CHECK(ovica_model_new(&md, m, n, p, 0.1));
        CHECK(ovica_model_set_basis(md, A, m, n));
        double ml = 0.0, t0 = now();
        CHECK(ovica_loglik_codes(md, X, N, m, S, n, 2.0, NULL, &ml));
        double t1 = now();
        CHECK(ovica_loglik_laplace(md, X, N, m, 2.0, NULL, &ml));
        double t2 = now();
        printf("m=%zu n=%zu N=%zu: ovica_loglik_codes %.3f s, "
               "ovica_loglik_laplace (with MAP) %.3f s\n",
               m, n, N, t1 - t0, t2 - t1);
        ovica_model_free(md);
        ovica_prior_free(p);
        ovica_rng_free(r);
        free(A);
        free(S);
        free(X);
    }
    return 0;
}

#include <stdio.h>
#include <ovica.h>

int main(void)
{
    /* a 2 x 3 overcomplete basis, Laplace(1) prior, noise sigma 0.1 */
    const double A[6] = {1, 0, 0.7071, 0, 1, 0.7071};
    const double X[4] = {1.0, 0.2, 0.5, 0.5};      /* two samples, one per row */
    double S[6];
    ovica_prior *prior = NULL;
    ovica_model *model = NULL;
    ovica_solver *fista = NULL;
    int st = ovica_prior_laplace_new(&prior, 1.0);
    if (!st) st = ovica_model_new(&model, 2, 3, prior, 0.1);
    if (!st) st = ovica_model_set_basis(model, A, 2, 3);
    if (!st) st = ovica_solver_new(&fista, ovica_solver_fista);
    if (!st) st = ovica_solver_infer(fista, model, X, 2, 2, S, 3, NULL);
    if (st < 0) fprintf(stderr, "%s: %s\n", ovica_strerror(st), ovica_error_message());
    else for (int k = 0; k < 2; k++) printf("s_hat = %.3f %.3f %.3f\n", S[3*k], S[3*k+1], S[3*k+2]);
    ovica_solver_free(fista); ovica_model_free(model); ovica_prior_free(prior);
    return st < 0;
}

/* Reference for the binding's bit-for-bit test: MAP codes of X (a .npy file)
 * under a model file, computed by the C API alone.
 *   encode_ref MODEL X.npy OUT.npy SOLVER MAX_ITER TOL */
#include <stdio.h>
#include <stdlib.h>
#include <ovica.h>

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: encode_ref MODEL X.npy OUT.npy SOLVER MAX_ITER TOL\n");
        return 2;
    }
    ovica_model *model = NULL;
    ovica_solver *solver = NULL;
    double *X = NULL, *S = NULL;
    size_t N = 0, m = 0;
    int st = ovica_model_load(&model, argv[1]);
    if (!st) st = ovica_npy_read(argv[2], &X, &N, &m);
    size_t n = ovica_model_atoms(model);
    if (!st) st = (S = malloc(N * n * sizeof *S)) ? OVICA_OK : OVICA_ENOMEM;
    if (!st) st = ovica_solver_new(&solver, ovica_solver_type_find(argv[4]));
    if (!st) st = ovica_solver_set_param(solver, OVICA_SOLVER_MAX_ITER, atof(argv[5]));
    if (!st) st = ovica_solver_set_param(solver, OVICA_SOLVER_TOL, atof(argv[6]));
    if (!st) st = ovica_solver_infer(solver, model, X, N, m, S, n, NULL);
    if (st >= 0) st = ovica_npy_write(argv[3], S, N, n);
    if (st < 0) fprintf(stderr, "encode_ref: %s: %s\n", ovica_strerror(st), ovica_error_message());
    ovica_solver_free(solver);
    ovica_model_free(model);
    ovica_free(X);
    free(S);
    return st < 0;
}

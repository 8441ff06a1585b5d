/* ovica synth, encode, basis, eval. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ovica.h>

#include "cli.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Product of sizes in doubles, or 0 on overflow of a byte count. */
static size_t count_of(size_t a, size_t b)
{
    if (a != 0 && b > SIZE_MAX / 8 / a) return 0;
    return a * b;
}

/* ------------------------------------------------------------------------ */
/* synth                                                                    */

static const char synth_help[] =
    "usage: ovica synth --out X.npy [options]\n"
    "\n"
    "Generates data X = S A^T + noise (N x m, one sample per row) from sparse\n"
    "sources S and a basis A: one of the article's 2-D bases, or a random one.\n"
    "\n"
    "options:\n"
    "  --set NAME         regular3 (3 atoms at 90, 210, 330 degrees), irregular4\n"
    "                     (4 atoms at 15, 38, 140, 250 degrees) or random; default regular3\n"
    "  --prior NAME       distribution of the sources: laplace or exponential\n"
    "                     (non-negative); default exponential\n"
    "  --scale B          scale of the sources (E|s| = B), > 0; default 1\n"
    "  --activity P       probability that a source is non-zero, in (0, 1]; default 1\n"
    "  --samples N        number of samples, >= 1; default 20000\n"
    "  --noise S          standard deviation of the Gaussian noise, >= 0; default 0.05\n"
    "  --atoms N          number of atoms (required for --set random)\n"
    "  --dim M            data dimension (required for --set random)\n"
    "  --seed S           seed of the random generator; default 1\n"
    "  --out X.npy        the data, N x m (required)\n"
    "  --float32          write the data as float32 (half the size; 'ovica train'\n"
    "                     then codes them in single precision)\n"
    "  --basis-out A.npy  also write the true basis, m x n (atom i in column i)\n"
    "  --sources-out S.npy  also write the sources, N x n\n"
    "  --quiet            print nothing on success\n";

int cmd_synth(int argc, char **argv)
{
    static const char *const sets[] = {"regular3", "irregular4", "random", NULL};
    int set = 0, prior = 1, quiet = 0, f32 = 0;
    double scale = 1.0, activity = 1.0, noise = 0.05;
    uint64_t samples = 20000, atoms = 0, dim = 0, seed = 1;
    const char *out = NULL, *basis_out = NULL, *sources_out = NULL;
    const cli_opt opts[] = {
        {"set", CLI_CHOICE, &set, 0, 0, 0, sets},
        {"prior", CLI_CHOICE, &prior, 0, 0, 0, cli_prior_names},
        {"scale", CLI_DOUBLE, &scale, 0, 1e12, CLI_LO_OPEN, NULL},
        {"activity", CLI_DOUBLE, &activity, 0, 1, CLI_LO_OPEN, NULL},
        {"samples", CLI_U64, &samples, 1, 1e9, 0, NULL},
        {"noise", CLI_DOUBLE, &noise, 0, 1e12, 0, NULL},
        {"atoms", CLI_U64, &atoms, 1, 1e6, 0, NULL},
        {"dim", CLI_U64, &dim, 1, 1e6, 0, NULL},
        {"seed", CLI_U64, &seed, 0, 18446744073709551615.0, 0, NULL},
        {"out", CLI_STRING, &out, 0, 0, 0, NULL},
        {"basis-out", CLI_STRING, &basis_out, 0, 0, 0, NULL},
        {"sources-out", CLI_STRING, &sources_out, 0, 0, 0, NULL},
        {"quiet", CLI_FLAG, &quiet, 0, 0, 0, NULL},
        {"float32", CLI_FLAG, &f32, 0, 0, 0, NULL},
    };
    unsigned char seen[COUNT(opts)];
    int r = cli_options("synth", synth_help, argc, argv, opts, COUNT(opts), NULL, 0, NULL, seen);
    if (r >= 0) return r;
    if (out == NULL) return cli_usage("synth", "--out is required");
    size_t m, n;
    if (set == 2) {
        if (!atoms || !dim) return cli_usage("synth", "--set random needs --atoms and --dim");
        m = (size_t)dim;
        n = (size_t)atoms;
    } else {
        m = 2;
        n = set == 0 ? 3 : 4;
        if ((atoms && atoms != n) || (dim && dim != m))
            return cli_usage("synth", "--set %s has %zu atoms in %zu dimensions", sets[set], n, m);
    }
    size_t N = (size_t)samples, nA = count_of(m, n), nS = count_of(N, n), nX = count_of(N, m);
    if (!nA || !nS || !nX) return cli_usage("synth", "sizes too large");
    double *A = malloc(nA * sizeof *A), *S = malloc(nS * sizeof *S), *X = malloc(nX * sizeof *X);
    ovica_rng *rng = NULL;
    int code = CLI_EXIT_FAIL, st = OVICA_OK;
    if (A == NULL || S == NULL || X == NULL) {
        cli_fail("synth", 0, "out of memory for %zu samples", N);
        goto done;
    }
    st = ovica_rng_new(&rng, seed);
    if (st == OVICA_OK)
        st = set == 2 ? ovica_synth_random_basis(rng, A, m, n)
                      : ovica_synth_basis_2d(set == 0 ? OVICA_SYNTH_REGULAR3 : OVICA_SYNTH_IRREGULAR4,
                                             A, m, n);
    if (st == OVICA_OK)
        st = ovica_synth_sources(rng, prior == 0 ? OVICA_PRIOR_LAPLACE : OVICA_PRIOR_EXPONENTIAL,
                                 scale, activity, S, N, n);
    if (st == OVICA_OK) st = ovica_synth_mix(rng, A, m, n, S, N, noise, X);
    if (st != OVICA_OK) {
        cli_fail("synth", st, "cannot generate the data");
        goto done;
    }
    if (f32) {
        st = ovica_npy_write_float32(out, X, N, m);
        if (st != OVICA_OK) {
            cli_fail("synth", st, "cannot write '%s'", out);
            goto done;
        }
    } else if (cli_write_npy("synth", out, X, N, m)) {
        goto done;
    }
    if (basis_out && cli_write_npy("synth", basis_out, A, m, n)) goto done;
    if (sources_out && cli_write_npy("synth", sources_out, S, N, n)) goto done;
    if (!quiet)
        fprintf(stderr, "ovica synth: %zu samples in %zu dimensions from %zu %s sources (%s) -> %s\n",
                N, m, n, cli_prior_names[prior], sets[set], out);
    code = CLI_EXIT_OK;
done:
    ovica_rng_free(rng);
    free(A);
    free(S);
    free(X);
    return code;
}

/* ------------------------------------------------------------------------ */
/* encode                                                                   */

int cli_encode(const ovica_model *model, const char *solver, double max_iter, double tol,
               const double *X, size_t N, double **S, size_t *converged, double *objective)
{
    size_t m = ovica_model_dim(model), n = ovica_model_atoms(model);
    *S = NULL;
    *converged = 0;
    *objective = 0;
    const ovica_solver_type *type = ovica_solver_type_find(solver ? solver : "auto");
    if (type == NULL) return OVICA_EINVAL;
    ovica_solver *sv = NULL;
    int st = ovica_solver_new(&sv, type);
    if (st == OVICA_OK) st = ovica_solver_set_param(sv, OVICA_SOLVER_MAX_ITER, max_iter);
    if (st == OVICA_OK) st = ovica_solver_set_param(sv, OVICA_SOLVER_TOL, tol);
    size_t total = count_of(N, n);
    double *out = total ? malloc(total * sizeof *out) : NULL;
    if (st == OVICA_OK && out == NULL) st = OVICA_ENOMEM;
    double obj = 0;
    for (size_t k = 0; st == OVICA_OK && k < N; k += 4096) {
        size_t b = N - k < 4096 ? N - k : 4096;
        ovica_infer_stats is = OVICA_INFER_STATS_INIT;
        int r = ovica_solver_infer(sv, model, X + k * m, b, m, out + k * n, n, &is);
        if (r != OVICA_OK && r != OVICA_NOT_CONVERGED) {
            st = r;
            break;
        }
        *converged += is.converged;
        obj += is.objective * (double)b;
    }
    ovica_solver_free(sv);
    if (st != OVICA_OK) {
        free(out);
        return st;
    }
    *objective = obj / (double)N;
    *S = out;
    return OVICA_OK;
}

static const char encode_help[] =
    "usage: ovica encode MODEL --data X.npy --out S.npy [options]\n"
    "\n"
    "Computes the MAP codes s_hat = argmin ||x - A s||^2 / (2 sigma^2) - log p(s)\n"
    "of every sample (row) of X under the model, and writes them as an N x n array.\n"
    "\n"
    "options:\n"
    "  --data X.npy      the data, N x m (required)\n"
    "  --out S.npy       the codes, N x n (required)\n"
    "  --solver NAME     pg, ista, fista, active (exact active-set, built-in priors)\n"
    "                    or auto (active for the built-in priors); default auto\n"
    "  --max-iter K      iteration limit per sample, >= 1; default 1000\n"
    "  --tol T           relative step tolerance, in [0, 1]; default 1e-6\n"
    "  --quiet           print nothing on success\n";

int cmd_encode(int argc, char **argv)
{
    const char *data = NULL, *out = NULL, *pos[1];
    int solver = 4, quiet = 0; /* auto */
    uint64_t max_iter = 1000;
    double tol = 1e-6;
    const cli_opt opts[] = {
        {"data", CLI_STRING, &data, 0, 0, 0, NULL},
        {"out", CLI_STRING, &out, 0, 0, 0, NULL},
        {"solver", CLI_CHOICE, &solver, 0, 0, 0, cli_solver_names},
        {"max-iter", CLI_U64, &max_iter, 1, 1e9, 0, NULL},
        {"tol", CLI_DOUBLE, &tol, 0, 1, 0, NULL},
        {"quiet", CLI_FLAG, &quiet, 0, 0, 0, NULL},
    };
    size_t npos = 0;
    int r = cli_options("encode", encode_help, argc, argv, opts, COUNT(opts), pos, 1, &npos, NULL);
    if (r >= 0) return r;
    if (npos != 1) return cli_usage("encode", "a MODEL file is required");
    if (data == NULL) return cli_usage("encode", "--data is required");
    if (out == NULL) return cli_usage("encode", "--out is required");
    ovica_model *model = NULL;
    int st = ovica_model_load(&model, pos[0]);
    if (st != OVICA_OK) return cli_fail("encode", st, "cannot load the model");
    double *X = NULL, *S = NULL;
    size_t N = 0, m = 0, conv = 0;
    int code = CLI_EXIT_FAIL;
    if (cli_read_npy("encode", "the data", data, &X, &N, &m)) goto done;
    if (m != ovica_model_dim(model)) {
        cli_fail("encode", 0, "the data have %zu columns, the model's dimension is %zu", m,
                 ovica_model_dim(model));
        goto done;
    }
    double obj = 0;
    st = cli_encode(model, cli_solver_names[solver], (double)max_iter, tol, X, N, &S, &conv, &obj);
    if (st != OVICA_OK) {
        cli_fail("encode", st, "inference failed");
        goto done;
    }
    if (cli_write_npy("encode", out, S, N, ovica_model_atoms(model))) goto done;
    if (!quiet)
        fprintf(stderr,
                "ovica encode: %zu samples coded with %zu atoms (%s): %zu converged, mean "
                "objective %.6g -> %s\n",
                N, ovica_model_atoms(model), cli_solver_names[solver], conv, obj, out);
    code = CLI_EXIT_OK;
done:
    ovica_free(X);
    free(S);
    ovica_model_free(model);
    return code;
}

/* ------------------------------------------------------------------------ */
/* basis                                                                    */

static const char basis_help[] =
    "usage: ovica basis MODEL [--out A.npy]\n"
    "\n"
    "Writes the model's basis A (m x n, atom i in column i) to a .npy file, or,\n"
    "without --out, prints the model's description and A as text.\n"
    "\n"
    "options:\n"
    "  --out A.npy   the basis, m x n\n";

int cmd_basis(int argc, char **argv)
{
    const char *out = NULL, *pos[1];
    const cli_opt opts[] = {{"out", CLI_STRING, &out, 0, 0, 0, NULL}};
    size_t npos = 0;
    int r = cli_options("basis", basis_help, argc, argv, opts, COUNT(opts), pos, 1, &npos, NULL);
    if (r >= 0) return r;
    if (npos != 1) return cli_usage("basis", "a MODEL file is required");
    ovica_model *model = NULL;
    int st = ovica_model_load(&model, pos[0]);
    if (st != OVICA_OK) return cli_fail("basis", st, "cannot load the model");
    size_t m = ovica_model_dim(model), n = ovica_model_atoms(model);
    const double *A = ovica_model_basis(model);
    int code = CLI_EXIT_OK;
    if (out != NULL) {
        code = cli_write_npy("basis", out, A, m, n);
    } else {
        const ovica_prior *pr = ovica_model_prior(model);
        double b = 0;
        (void)ovica_prior_scale(pr, &b);
        printf("# model %s: m = %zu, n = %zu, sigma = %.17g, prior %s(b = %.17g)\n", pos[0], m, n,
               ovica_model_sigma(model), ovica_prior_name(pr), b);
        printf("# basis A (m x n, atom i in column i)\n");
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < n; j++) printf("%.17g%c", A[i * n + j], j + 1 < n ? ' ' : '\n');
        if (fflush(stdout) != 0 || ferror(stdout)) code = cli_fail("basis", 0, "cannot write to stdout");
    }
    ovica_model_free(model);
    return code;
}

/* ------------------------------------------------------------------------ */
/* eval                                                                     */

static double direction_deg(const double *A, size_t n, size_t i)
{
    double d = atan2(A[n + i], A[i]) * 180.0 / 3.14159265358979323846;
    return d < 0 ? d + 360.0 : d;
}

int cli_recovery_table(FILE *out, const double *A, size_t m, size_t n, const double *A_true,
                       size_t n_true, int use_sign, double threshold, const double *S, size_t N,
                       size_t *match)
{
    size_t *assign = malloc(n_true * sizeof *assign);
    double *angle = malloc(n_true * sizeof *angle);
    ovica_recovery rec = OVICA_RECOVERY_INIT;
    int st = assign && angle ? OVICA_OK : OVICA_ENOMEM;
    if (st == OVICA_OK) st = ovica_atoms_match(A, m, n, A_true, n_true, use_sign, assign, angle);
    if (st == OVICA_OK)
        st = ovica_recovery_eval(A, m, n, A_true, n_true, use_sign, threshold, S, S ? N : 0, &rec);
    if (st != OVICA_OK) {
        free(assign);
        free(angle);
        return st;
    }
    if (m == 2)
        fprintf(out, "%9s  %9s  %7s  %9s  %9s  %9s\n", "true atom", "direction", "matched",
                "direction", "error", "cos");
    else
        fprintf(out, "%9s  %7s  %9s  %9s\n", "true atom", "matched", "error", "cos");
    for (size_t j = 0; j < n_true; j++) {
        char mbuf[32], dbuf[32], cbuf[32];
        size_t i = assign[j];
        if (i == SIZE_MAX) {
            snprintf(mbuf, sizeof mbuf, "-");
            snprintf(dbuf, sizeof dbuf, "-");
            snprintf(cbuf, sizeof cbuf, "-");
        } else {
            double dot = 0, na = 0, nt = 0;
            for (size_t r = 0; r < m; r++) {
                dot += A[r * n + i] * A_true[r * n_true + j];
                na += A[r * n + i] * A[r * n + i];
                nt += A_true[r * n_true + j] * A_true[r * n_true + j];
            }
            double c = na > 0 && nt > 0 ? dot / sqrt(na * nt) : 0;
            snprintf(mbuf, sizeof mbuf, "%zu", i + 1);
            snprintf(cbuf, sizeof cbuf, "%.6f", c);
            if (m == 2) snprintf(dbuf, sizeof dbuf, "%.2f%s", direction_deg(A, n, i), c < 0 ? "-" : "");
        }
        if (m == 2)
            fprintf(out, "%9zu  %9.2f  %7s  %9s  %9.3f  %9s\n", j + 1, direction_deg(A_true, n_true, j),
                    mbuf, dbuf, angle[j], cbuf);
        else
            fprintf(out, "%9zu  %7s  %9.3f  %9s\n", j + 1, mbuf, angle[j], cbuf);
    }
    fprintf(out, "angles in degrees%s\n", m == 2 ? "; a '-' after a direction: the atom matches with its sign flipped" : "");
    fprintf(out, "max angle %.3f, mean angle %.3f, MMCS %.6f, recovered %zu/%zu (within %g deg)",
            rec.max_angle_deg, rec.mean_angle_deg, rec.mmcs, rec.recovered, rec.n_true, threshold);
    if (S) fprintf(out, ", dead %zu/%zu", rec.dead, rec.n_learned);
    fputc('\n', out);
    if (match) memcpy(match, assign, n_true * sizeof *assign);
    free(assign);
    free(angle);
    return OVICA_OK;
}

static const char eval_help[] =
    "usage: ovica eval MODEL --truth A.npy [options]\n"
    "\n"
    "Compares the model's atoms with the true basis: each true atom is matched\n"
    "to a learned atom (Hungarian assignment on the cosine), and the table gives\n"
    "the angle between them, then the largest and mean angle, the MMCS (mean\n"
    "over true atoms of the best cosine with any learned atom), how many true\n"
    "atoms were recovered within the threshold, and, with --data, how many\n"
    "learned atoms are dead (never active in the MAP codes of the data).\n"
    "\n"
    "options:\n"
    "  --truth A.npy     the true basis, m x n_true (required)\n"
    "  --data X.npy      data to code, for counting dead atoms\n"
    "  --threshold DEG   angle within which an atom counts as recovered; default 3\n"
    "  --sign MODE       auto (from the prior: signed cosine for a non-negative\n"
    "                    prior, |cos| otherwise), yes (signed) or no (|cos|); default auto\n";

int cmd_eval(int argc, char **argv)
{
    static const char *const signs[] = {"auto", "yes", "no", NULL};
    const char *truth = NULL, *data = NULL, *pos[1];
    double threshold = 3.0;
    int sign = 0;
    const cli_opt opts[] = {
        {"truth", CLI_STRING, &truth, 0, 0, 0, NULL},
        {"data", CLI_STRING, &data, 0, 0, 0, NULL},
        {"threshold", CLI_DOUBLE, &threshold, 0, 180, 0, NULL},
        {"sign", CLI_CHOICE, &sign, 0, 0, 0, signs},
    };
    size_t npos = 0;
    int r = cli_options("eval", eval_help, argc, argv, opts, COUNT(opts), pos, 1, &npos, NULL);
    if (r >= 0) return r;
    if (npos != 1) return cli_usage("eval", "a MODEL file is required");
    if (truth == NULL) return cli_usage("eval", "--truth is required");
    ovica_model *model = NULL;
    int st = ovica_model_load(&model, pos[0]);
    if (st != OVICA_OK) return cli_fail("eval", st, "cannot load the model");
    size_t m = ovica_model_dim(model), n = ovica_model_atoms(model);
    double *T = NULL, *X = NULL, *S = NULL;
    size_t tm = 0, tn = 0, N = 0, xm = 0, conv = 0;
    int code = CLI_EXIT_FAIL;
    if (cli_read_npy("eval", "the true basis", truth, &T, &tm, &tn)) goto done;
    if (tm != m) {
        cli_fail("eval", 0, "the true basis has %zu rows, the model's dimension is %zu", tm, m);
        goto done;
    }
    if (data != NULL) {
        if (cli_read_npy("eval", "the data", data, &X, &N, &xm)) goto done;
        if (xm != m) {
            cli_fail("eval", 0, "the data have %zu columns, the model's dimension is %zu", xm, m);
            goto done;
        }
        double obj;
        st = cli_encode(model, "auto", 1000, 1e-6, X, N, &S, &conv, &obj);
        if (st != OVICA_OK) {
            cli_fail("eval", st, "inference failed");
            goto done;
        }
    }
    int use_sign = sign == 1 || (sign == 0 && ovica_prior_domain(ovica_model_prior(model)) ==
                                                  OVICA_DOMAIN_NONNEG);
    st = cli_recovery_table(stdout, ovica_model_basis(model), m, n, T, tn, use_sign, threshold, S,
                            N, NULL);
    if (st != OVICA_OK) {
        cli_fail("eval", st, "cannot compare the bases");
        goto done;
    }
    code = CLI_EXIT_OK;
done:
    ovica_free(T);
    ovica_free(X);
    free(S);
    ovica_model_free(model);
    return code;
}

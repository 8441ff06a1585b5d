/* ovica score, cluster, scan: comparing bases by their log-likelihood. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ovica.h>

#include "cli.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------------ */
/* score                                                                    */

static const char score_help[] =
    "usage: ovica score MODEL --data X.npy [options]\n"
    "\n"
    "Scores a model on data: the mean log-likelihood log P(x|A) per sample by\n"
    "the Laplace approximation (Lewicki & Sejnowski eq. 4), and the coding cost\n"
    "in bits per dimension of the data quantised to steps of --quantum.\n"
    "Higher log-likelihood (fewer bits) is better; compare models on the same data.\n"
    "\n"
    "options:\n"
    "  --data X.npy       the data, N x m (required)\n"
    "  --beta B           tanh smoothing of the prior's kink, in units of 1/b;\n"
    "                     default: the library's per-prior value\n"
    "  --quantum Q        quantisation step for the bits, > 0; default 0.01\n"
    "  --importance D     also estimate log P(x|A) by importance sampling with D\n"
    "                     draws per sample (an independent check; n <= 16)\n"
    "  --seed S           seed of the importance sampler; default 1\n";

int cmd_score(int argc, char **argv)
{
    const char *data = NULL, *pos[1];
    double beta = 0.0, quantum = 0.01;
    uint64_t draws = 0, seed = 1;
    const cli_opt opts[] = {
        {"data", CLI_STRING, &data, 0, 0, 0, NULL},
        {"beta", CLI_DOUBLE, &beta, 0, 1e6, CLI_LO_OPEN, NULL},
        {"quantum", CLI_DOUBLE, &quantum, 0, 1e12, CLI_LO_OPEN, NULL},
        {"importance", CLI_U64, &draws, 1, 1e8, 0, NULL},
        {"seed", CLI_U64, &seed, 0, 18446744073709551615.0, 0, NULL},
    };
    size_t npos = 0;
    int r = cli_options("score", score_help, argc, argv, opts, COUNT(opts), pos, 1, &npos, NULL);
    if (r >= 0) return r;
    if (npos != 1) return cli_usage("score", "a MODEL file is required");
    if (data == NULL) return cli_usage("score", "--data is required");
    ovica_model *model = NULL;
    double *X = NULL;
    size_t N = 0, m = 0;
    int code = CLI_EXIT_FAIL;
    int st = ovica_model_load(&model, pos[0]);
    if (st != OVICA_OK) return cli_fail("score", st, "cannot load the model");
    if (cli_read_npy("score", "the data", data, &X, &N, &m)) goto done;
    if (m != ovica_model_dim(model)) {
        cli_fail("score", 0, "the data have %zu columns, the model's dimension is %zu", m,
                 ovica_model_dim(model));
        goto done;
    }
    if (beta == 0.0) beta = ovica_loglik_beta_default(ovica_model_prior(model));
    double ll = 0.0, bits = 0.0;
    st = ovica_loglik_laplace(model, X, N, m, beta, NULL, &ll);
    if (st < 0) {
        cli_fail("score", st, "the log-likelihood failed");
        goto done;
    }
    if ((st = ovica_loglik_bits(ll, m, quantum, &bits)) != OVICA_OK) {
        cli_fail("score", st, "cannot convert to bits");
        goto done;
    }
    printf("samples %zu, dimension %zu, atoms %zu\n", N, m, ovica_model_atoms(model));
    printf("log P(x|A), Laplace approximation (beta %g): %.6f nats per sample\n", beta, ll);
    printf("coding cost at quantum %g: %.6f bits per dimension\n", quantum, bits);
    if (draws > 0) {
        double is = 0.0, se = 0.0;
        st = ovica_loglik_importance(model, X, N, m, (size_t)draws, seed, NULL, &is, &se);
        if (st < 0) {
            cli_fail("score", st, "importance sampling failed");
            goto done;
        }
        printf("log P(x|A), importance sampling (%llu draws): %.6f +- %.6f nats per sample\n",
               (unsigned long long)draws, is, se);
        printf("Laplace - importance: %+.6f nats per sample\n", ll - is);
    }
    code = CLI_EXIT_OK;
done:
    ovica_free(X);
    ovica_model_free(model);
    return code;
}

/* ------------------------------------------------------------------------ */
/* cluster                                                                  */

static const char cluster_help[] =
    "usage: ovica cluster MODEL --data X.npy (--k K | --k-max K) --out MERGED [options]\n"
    "\n"
    "Merges the atoms of an over-provisioned model: spherical k-means on the unit\n"
    "atoms, weighted by how much each atom is used on the data (mean |s_i| |a_i|),\n"
    "signed for a non-negative prior. With --k-max, k is chosen in [--k-min,\n"
    "--k-max] by the log-likelihood of the merged basis on the data (use held-out\n"
    "data). Writes the merged model (same prior and sigma) and prints which atoms\n"
    "went where. The merged atoms are then refitted on the data: a model of k\n"
    "atoms trained with the library's defaults from the merged start\n"
    "(ovica_model_merge); spare atoms of an over-provisioned basis sit on sums of\n"
    "two sources and pull the plain merge a few degrees off.\n"
    "\n"
    "options:\n"
    "  --data X.npy   data for the usage weights, the choice of k and the refit\n"
    "                 (required)\n"
    "  --k K          number of merged atoms\n"
    "  --k-min K      smallest k tried with --k-max; default 1\n"
    "  --k-max K      largest k tried\n"
    "  --beta B       as in `ovica score`; default: the library's per-prior value\n"
    "  --seed S       seed of the k-means++ draws and the refit; default 1\n"
    "  --refit 0|1    refit the merged atoms on the data; default 1\n"
    "  --out MERGED   the merged model file (required)\n";

/* Prints which cluster each atom went to. */
static void print_assignment(const double *w, const size_t *assign, size_t n)
{
    printf("atom  usage      cluster\n");
    for (size_t i = 0; i < n; i++) {
        if (assign[i] == SIZE_MAX) printf("%-5zu %-10.4g -\n", i + 1, w[i]);
        else printf("%-5zu %-10.4g %zu\n", i + 1, w[i], assign[i] + 1);
    }
}

/* The merged model: the merged atoms with the model's prior and sigma, or,
 * with refit, the model of k atoms trained from them (ovica_model_merge,
 * which repeats the same clustering: same weights, same seed). */
static int merged_model_new(ovica_model **out, const ovica_model *model, const double *merged,
                            size_t k, int refit, const double *X, size_t N, uint64_t seed)
{
    const size_t m = ovica_model_dim(model);
    if (refit) return ovica_model_merge(out, model, X, N, m, k, seed, NULL);
    int st = ovica_model_new(out, m, k, ovica_model_prior(model), ovica_model_sigma(model));
    if (st == OVICA_OK) st = ovica_model_set_basis(*out, merged, m, k);
    return st;
}

int cmd_cluster(int argc, char **argv)
{
    const char *data = NULL, *out = NULL, *pos[1];
    uint64_t k = 0, k_min = 1, k_max = 0, seed = 1, refit = 1;
    double beta = 0.0;
    const cli_opt opts[] = {
        {"data", CLI_STRING, &data, 0, 0, 0, NULL},
        {"k", CLI_U64, &k, 1, 1e6, 0, NULL},
        {"k-min", CLI_U64, &k_min, 1, 1e6, 0, NULL},
        {"k-max", CLI_U64, &k_max, 1, 1e6, 0, NULL},
        {"beta", CLI_DOUBLE, &beta, 0, 1e6, CLI_LO_OPEN, NULL},
        {"seed", CLI_U64, &seed, 0, 18446744073709551615.0, 0, NULL},
        {"refit", CLI_U64, &refit, 0, 1, 0, NULL},
        {"out", CLI_STRING, &out, 0, 0, 0, NULL},
    };
    size_t npos = 0;
    int r = cli_options("cluster", cluster_help, argc, argv, opts, COUNT(opts), pos, 1, &npos,
                        NULL);
    if (r >= 0) return r;
    if (npos != 1) return cli_usage("cluster", "a MODEL file is required");
    if (data == NULL || out == NULL) return cli_usage("cluster", "--data and --out are required");
    if ((k == 0) == (k_max == 0)) return cli_usage("cluster", "give exactly one of --k and --k-max");
    if (k_max != 0 && k_min > k_max) return cli_usage("cluster", "--k-min exceeds --k-max");
    ovica_model *model = NULL, *merged_model = NULL;
    double *X = NULL, *w = NULL, *merged = NULL, *ll = NULL;
    size_t *assign = NULL, N = 0, m = 0;
    int code = CLI_EXIT_FAIL;
    int st = ovica_model_load(&model, pos[0]);
    if (st != OVICA_OK) return cli_fail("cluster", st, "cannot load the model");
    const size_t n = ovica_model_atoms(model);
    const ovica_prior *prior = ovica_model_prior(model);
    const int use_sign = ovica_prior_domain(prior) == OVICA_DOMAIN_NONNEG;
    size_t kk = (size_t)(k ? k : k_max);
    if (kk > n) {
        cli_usage("cluster", "k = %zu exceeds the model's %zu atoms", kk, n);
        code = CLI_EXIT_USAGE;
        goto done;
    }
    if (cli_read_npy("cluster", "the data", data, &X, &N, &m)) goto done;
    if (m != ovica_model_dim(model)) {
        cli_fail("cluster", 0, "the data have %zu columns, the model's dimension is %zu", m,
                 ovica_model_dim(model));
        goto done;
    }
    w = malloc(n * sizeof *w);
    merged = malloc(m * kk * sizeof *merged);
    assign = malloc(n * sizeof *assign);
    ll = malloc(kk * sizeof *ll);
    if (!w || !merged || !assign || !ll) {
        cli_fail("cluster", 0, "out of memory");
        goto done;
    }
    if (beta == 0.0) beta = ovica_loglik_beta_default(prior);
    st = ovica_atoms_usage(model, X, N, m, w, n);
    if (st < 0) {
        cli_fail("cluster", st, "cannot measure the atoms' usage");
        goto done;
    }
    if (k) {
        st = ovica_atoms_cluster(ovica_model_basis(model), m, n, w, kk, use_sign, seed, merged,
                                 assign);
        if (st == OVICA_OK)
            st = ovica_atoms_rescale(ovica_model_basis(model), m, n, w, assign, kk, merged);
    } else {
        st = ovica_atoms_choose_k(model, w, X, N, m, (size_t)k_min, kk, beta, seed, &kk, ll, merged,
                                  assign);
        if (st == OVICA_OK) {
            printf("k  log P(x|A) of the merged basis (nats per sample)\n");
            for (size_t q = (size_t)k_min; q <= (size_t)k_max; q++)
                printf("%-2zu %.6f%s\n", q, ll[q - k_min], q == kk ? "  <- chosen" : "");
        }
    }
    if (st != OVICA_OK) {
        cli_fail("cluster", st, "clustering failed");
        goto done;
    }
    print_assignment(w, assign, n);
    st = merged_model_new(&merged_model, model, merged, kk, (int)refit, X, N, seed);
    if (st != OVICA_OK) {
        cli_fail("cluster", st, "cannot %s the merged atoms", refit ? "refit" : "set");
        goto done;
    }
    st = ovica_model_save(merged_model, out);
    if (st != OVICA_OK) {
        cli_fail("cluster", st, "cannot write the merged model to %s", out);
        goto done;
    }
    printf("wrote %zu merged atoms%s to %s\n", kk, refit ? " (refitted on the data)" : "", out);
    code = CLI_EXIT_OK;
done:
    ovica_free(X);
    free(w);
    free(merged);
    free(assign);
    free(ll);
    ovica_model_free(model);
    ovica_model_free(merged_model);
    return code;
}

/* ------------------------------------------------------------------------ */
/* scan                                                                     */

static const char scan_help[] =
    "usage: ovica scan --data X.npy --atoms N1,N2,... [options]\n"
    "\n"
    "The number-of-atoms scan: trains a model for each candidate number of atoms\n"
    "(the trainer's defaults, rule auto) on the first part of the data and scores\n"
    "it by the log-likelihood of the held-out rest; prints nats per sample and\n"
    "bits per dimension per candidate and marks the best.\n"
    "\n"
    "options:\n"
    "  --data X.npy        the data, N x m (required)\n"
    "  --atoms LIST        comma-separated candidates, e.g. 2,3,4,6 (required)\n"
    "  --held-out F        fraction of the rows (the last ones) held out, in (0, 1);\n"
    "                      default 0.2\n"
    "  --prior NAME        laplace or exponential; default exponential\n"
    "  --scale B           scale of the prior (E|s| = B); default 1\n"
    "  --sigma S           noise level of the model; default 0.05\n"
    "  --steps K           training steps per candidate; default 200\n"
    "  --batch B           rows per step (0: all); default 0\n"
    "  --seed S            trainer seed; default 1\n"
    "  --beta B            as in `ovica score`; default: the library's per-prior value\n"
    "  --quantum Q         quantisation step for the bits; default 0.01\n";

int cmd_scan(int argc, char **argv)
{
    const char *data = NULL, *list = NULL;
    double held = 0.2, scale = 1.0, sigma = 0.05, beta = 0.0, quantum = 0.01;
    uint64_t steps = 200, batch = 0, seed = 1;
    int prior_kind = 1;
    const cli_opt opts[] = {
        {"data", CLI_STRING, &data, 0, 0, 0, NULL},
        {"atoms", CLI_STRING, &list, 0, 0, 0, NULL},
        {"held-out", CLI_DOUBLE, &held, 0, 1, CLI_LO_OPEN | CLI_HI_OPEN, NULL},
        {"prior", CLI_CHOICE, &prior_kind, 0, 0, 0, cli_prior_names},
        {"scale", CLI_DOUBLE, &scale, 0, 1e12, CLI_LO_OPEN, NULL},
        {"sigma", CLI_DOUBLE, &sigma, 1e-150, 1e150, 0, NULL},
        {"steps", CLI_U64, &steps, 1, 1e9, 0, NULL},
        {"batch", CLI_U64, &batch, 0, 1e9, 0, NULL},
        {"seed", CLI_U64, &seed, 0, 18446744073709551615.0, 0, NULL},
        {"beta", CLI_DOUBLE, &beta, 0, 1e6, CLI_LO_OPEN, NULL},
        {"quantum", CLI_DOUBLE, &quantum, 0, 1e12, CLI_LO_OPEN, NULL},
    };
    int r = cli_options("scan", scan_help, argc, argv, opts, COUNT(opts), NULL, 0, NULL, NULL);
    if (r >= 0) return r;
    if (data == NULL || list == NULL) return cli_usage("scan", "--data and --atoms are required");
    size_t atoms[64], count = 0;
    for (const char *p = list; *p;) {
        char item[32], err[128];
        size_t len = strcspn(p, ",");
        uint64_t v = 0;
        if (len == 0 || len >= sizeof item || count == COUNT(atoms))
            return cli_usage("scan", "--atoms: bad list '%s'", list);
        memcpy(item, p, len);
        item[len] = '\0';
        if (cli_parse_u64(item, 1, 1000000, &v, err, sizeof err) != CLI_OK)
            return cli_usage("scan", "--atoms: %s", err);
        atoms[count++] = (size_t)v;
        p += len;
        if (*p == ',') {
            p++;
            if (*p == '\0') return cli_usage("scan", "--atoms: bad list '%s'", list);
        }
    }
    double *X = NULL;
    size_t N = 0, m = 0;
    ovica_prior *prior = NULL;
    ovica_model *proto = NULL;
    int code = CLI_EXIT_FAIL;
    if (cli_read_npy("scan", "the data", data, &X, &N, &m)) return CLI_EXIT_FAIL;
    size_t n_test = (size_t)floor(held * (double)N);
    if (n_test < 1 || n_test >= N) {
        cli_fail("scan", 0, "%zu samples cannot be split with --held-out %g", N, held);
        goto done;
    }
    int st = prior_kind == 0 ? ovica_prior_laplace_new(&prior, scale)
                             : ovica_prior_exponential_new(&prior, scale);
    if (st == OVICA_OK) st = ovica_model_new(&proto, m, 1, prior, sigma);
    if (st != OVICA_OK) {
        cli_fail("scan", st, "cannot make the model");
        goto done;
    }
    if (beta == 0.0) beta = ovica_loglik_beta_default(prior);
    double ll[64], bits[64];
    size_t best = 0, n_train = N - n_test;
    printf("scan: %zu training and %zu held-out samples of dimension %zu, %llu steps each\n",
           n_train, n_test, m, (unsigned long long)steps);
    st = ovica_atoms_scan(proto, X, n_train, X + n_train * m, n_test, m, atoms, count,
                          (size_t)steps, (size_t)batch, seed, beta, quantum, ll, bits, &best,
                          NULL, NULL);
    if (st < 0) {
        cli_fail("scan", st, "the scan failed");
        goto done;
    }
    printf("atoms  held-out log P(x|A) (nats/sample)  bits/dim (quantum %g)\n", quantum);
    for (size_t i = 0; i < count; i++)
        printf("%-6zu %-36.6f %.6f%s\n", atoms[i], ll[i], bits[i], i == best ? "  <- best" : "");
    code = CLI_EXIT_OK;
done:
    ovica_free(X);
    ovica_model_free(proto);
    ovica_prior_free(prior);
    return code;
}

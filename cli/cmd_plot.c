/* ovica plot, and the pictures shared with demo and train. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ovica.h>

#include "cli.h"
#include "svg.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* A training log: the columns of a CSV file that are drawn. */
enum { C_STEP, C_OBJECTIVE, C_MONITOR, C_MAX_ANGLE, C_MEAN_ANGLE, C_COUNT };
static const char *const column_names[C_COUNT] = {"step", "objective", "monitor", "max_angle",
                                                  "mean_angle"};

typedef struct {
    double *col[C_COUNT]; /* NaN where a column is absent */
    size_t n;
} curve;

static void curve_free(curve *c)
{
    for (int k = 0; k < C_COUNT; k++) free(c->col[k]);
    memset(c, 0, sizeof *c);
}

static int curve_has(const curve *c, int k)
{
    for (size_t i = 0; i < c->n; i++)
        if (isfinite(c->col[k][i])) return 1;
    return 0;
}

/* Splits a line at commas in place; returns the number of fields (<= max). */
static size_t split(char *line, char **fields, size_t max)
{
    size_t k = 0;
    char *p = line;
    for (;;) {
        char *c = strchr(p, ',');
        if (k < max) fields[k] = p;
        k++;
        if (c == NULL) break;
        *c = '\0';
        p = c + 1;
    }
    return k;
}

static int read_curve(const char *cmd, const char *path, curve *c)
{
    memset(c, 0, sizeof *c);
    FILE *fp = fopen(path, "r");
    if (fp == NULL) return cli_fail(cmd, 0, "cannot open the curve '%s': %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0, lineno = 0, allocated = 0;
    ssize_t got;
    char *f[64];
    int idx[C_COUNT];
    for (int k = 0; k < C_COUNT; k++) idx[k] = -1;
    size_t ncols = 0;
    int code = 0;
    while ((got = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r')) line[--got] = '\0';
        if (got == 0 || line[0] == '#') continue;
        size_t k = split(line, f, COUNT(f));
        if (ncols == 0) { /* the header */
            ncols = k;
            for (size_t i = 0; i < k && i < COUNT(f); i++)
                for (int q = 0; q < C_COUNT; q++)
                    if (strcmp(f[i], column_names[q]) == 0) idx[q] = (int)i;
            if (idx[C_STEP] < 0 || (idx[C_OBJECTIVE] < 0 && idx[C_MONITOR] < 0)) {
                code = cli_fail(cmd, 0,
                                "'%s' is not a training log: its header needs the columns "
                                "'step' and 'objective' or 'monitor'", path);
                break;
            }
            continue;
        }
        if (k != ncols) {
            code = cli_fail(cmd, 0, "'%s', line %zu: %zu fields, the header has %zu", path,
                            lineno, k, ncols);
            break;
        }
        double v[C_COUNT];
        for (int q = 0; q < C_COUNT && code == 0; q++) {
            v[q] = NAN;
            if (idx[q] < 0) continue;
            char *end;
            v[q] = strtod(f[idx[q]], &end);
            if (end == f[idx[q]] || *end != '\0')
                code = cli_fail(cmd, 0, "'%s', line %zu: '%s' is not a number", path, lineno,
                                f[idx[q]]);
        }
        if (code) break;
        if (c->n == allocated) {
            size_t na = allocated ? 2 * allocated : 256;
            int ok = na <= 100000000;
            for (int q = 0; q < C_COUNT && ok; q++) {
                double *p = realloc(c->col[q], na * sizeof *p);
                if (p == NULL) ok = 0;
                else c->col[q] = p;
            }
            if (!ok) {
                code = cli_fail(cmd, 0, "'%s': too many rows", path);
                break;
            }
            allocated = na;
        }
        for (int q = 0; q < C_COUNT; q++) c->col[q][c->n] = v[q];
        c->n++;
    }
    if (code == 0 && ferror(fp)) code = cli_fail(cmd, 0, "cannot read '%s'", path);
    if (code == 0 && ncols == 0) code = cli_fail(cmd, 0, "'%s' is empty", path);
    free(line);
    fclose(fp);
    if (code) curve_free(c);
    return code;
}

/* The matching of learned to true atoms: match[j] the learned atom of true
 * atom j (numbers the arrows), order the learned atoms by their match, the
 * unmatched last (orders the grid). Both NULL when it cannot be made. */
static void plot_match(const double *A, size_t m, size_t n, const double *A_true, size_t n_true,
                       int use_sign, size_t **match_out, size_t **order_out)
{
    size_t *match = malloc(n_true * sizeof *match), *order = malloc((n + n_true) * sizeof *order);
    *match_out = *order_out = NULL;
    if (match == NULL || order == NULL ||
        ovica_atoms_match(A, m, n, A_true, n_true, use_sign, match, NULL) != OVICA_OK) {
        free(match);
        free(order);
        return;
    }
    size_t k = 0;
    for (size_t j = 0; j < n_true; j++)
        if (match[j] != SIZE_MAX) order[k++] = match[j];
    for (size_t i = 0; i < n; i++) {
        int used = 0;
        for (size_t j = 0; j < n_true; j++) used |= match[j] == i;
        if (!used) order[k++] = i;
    }
    *match_out = match;
    *order_out = order;
}

/* The panels of a training log from x on: the angle error (when the log
 * has it) and the training curve. The monitor (held-out -log P(x|A) by the
 * Laplace approximation) when there is one: the batch objective is
 * measured at the annealed noise level, so early values are not comparable
 * with late ones. */
static void plot_curves(FILE *fp, const curve *cv, double x, double top, double PW, double PH)
{
    if (curve_has(cv, C_MAX_ANGLE)) {
        svg_series s[2] = {
            {"largest angle", cv->col[C_STEP], cv->col[C_MAX_ANGLE], cv->n, "#d62728"},
            {"mean angle", cv->col[C_STEP], cv->col[C_MEAN_ANGLE], cv->n, "#4a7ebb"},
        };
        svg_panel_curves(fp, (svg_box){x, top, PW, PH}, "error: angle to the true atoms", "step",
                         "degrees (log scale)", s, curve_has(cv, C_MEAN_ANGLE) ? 2 : 1, 1);
        x += PW;
    }
    svg_series s;
    if (curve_has(cv, C_MONITOR))
        s = (svg_series){"monitor -log P(x|A)", cv->col[C_STEP], cv->col[C_MONITOR], cv->n,
                         "#2a9d5c"};
    else
        s = (svg_series){"batch objective E(s)", cv->col[C_STEP], cv->col[C_OBJECTIVE], cv->n,
                         "#4a7ebb"};
    svg_panel_curves(fp, (svg_box){x, top, PW, PH}, "training curve", "step",
                     "mean per sample (nats)", &s, 1, 0);
}

int cli_plot(const char *cmd, const char *path, const char *title, const double *X, size_t N,
             size_t m, const double *A, size_t n, const double *A_true, size_t n_true,
             int use_sign, const char *curve_csv, size_t max_points)
{
    curve cv = {0};
    size_t *match = NULL, *order = NULL;
    int code = 0;
    if (curve_csv != NULL && (code = read_curve(cmd, curve_csv, &cv)) != 0) return code;

    /* Matching of learned to true atoms: numbers the arrows, orders the grid. */
    if (A != NULL && A_true != NULL) plot_match(A, m, n, A_true, n_true, use_sign, &match, &order);

    const double PW = 620, PH = 660;
    int scatter = m == 2 && (X != NULL || A != NULL || A_true != NULL);
    int grid_l = m > 2 && A != NULL, grid_t = m > 2 && A_true != NULL;
    int angles = curve_csv != NULL && curve_has(&cv, C_MAX_ANGLE);
    int panels = scatter + grid_l + grid_t + (curve_csv != NULL) + angles;
    if (panels == 0) {
        free(match);
        free(order);
        curve_free(&cv);
        return cli_fail(cmd, 0, "nothing to draw");
    }
    double top = title && title[0] ? 34 : 0;
    char tmp[4200];
    FILE *fp = cli_create(cmd, path, tmp, sizeof tmp);
    if (fp == NULL) {
        free(match);
        free(order);
        curve_free(&cv);
        return CLI_EXIT_FAIL;
    }
    svg_begin(fp, PW * panels, PH + top);
    if (top > 0) svg_text(fp, PW * panels / 2, 24, 18, "middle", "#000000", title);
    double x = 0;
    if (scatter) {
        svg_panel_scatter2d(fp, (svg_box){x, top, PW, PH}, "data and atoms", X, N, max_points,
                            A_true, n_true, A, n, match);
        x += PW;
    }
    if (grid_l) {
        char t[96];
        snprintf(t, sizeof t, "learned atoms (%zu)%s", n, order ? ", ordered by match" : "");
        svg_panel_atoms(fp, (svg_box){x, top, PW, PH}, t, A, m, n, order);
        x += PW;
    }
    if (grid_t) {
        char t[64];
        snprintf(t, sizeof t, "true atoms (%zu)", n_true);
        svg_panel_atoms(fp, (svg_box){x, top, PW, PH}, t, A_true, m, n_true, NULL);
        x += PW;
    }
    if (curve_csv != NULL) plot_curves(fp, &cv, x, top, PW, PH);
    svg_end(fp);
    code = cli_commit(cmd, fp, tmp, path);
    free(match);
    free(order);
    curve_free(&cv);
    return code;
}

static const char plot_help[] =
    "usage: ovica plot --out F.svg [options]\n"
    "\n"
    "Draws an SVG picture, panels side by side:\n"
    "  - 2-D data: the scatter of the data (a subsample) with the true atoms\n"
    "    (dashed, black) and the learned atoms (red) as arrows from the origin;\n"
    "  - higher dimensions: the atoms as a grid of small pictures, a grey image\n"
    "    when m is a perfect square, else a bar plot of the atom's entries;\n"
    "  - a training curve (objective against step) from a CSV log written by\n"
    "    'ovica train --log'.\n"
    "\n"
    "options:\n"
    "  --out F.svg       the picture (required)\n"
    "  --model MODEL     the learned atoms, from a model file\n"
    "  --basis A.npy     the learned atoms, from an m x n array (instead of --model)\n"
    "  --truth A.npy     the true atoms, m x n_true\n"
    "  --data X.npy      the data, N x m\n"
    "  --curve LOG.csv   the training log\n"
    "  --title TEXT      a title\n"
    "  --points K        draw at most K samples, >= 1; default 3000\n";

int cmd_plot(int argc, char **argv)
{
    const char *out = NULL, *model_path = NULL, *basis = NULL, *truth = NULL, *data = NULL,
               *curve_path = NULL, *title = NULL;
    uint64_t points = 3000;
    const cli_opt opts[] = {
        {"out", CLI_STRING, &out, 0, 0, 0, NULL},
        {"model", CLI_STRING, &model_path, 0, 0, 0, NULL},
        {"basis", CLI_STRING, &basis, 0, 0, 0, NULL},
        {"truth", CLI_STRING, &truth, 0, 0, 0, NULL},
        {"data", CLI_STRING, &data, 0, 0, 0, NULL},
        {"curve", CLI_STRING, &curve_path, 0, 0, 0, NULL},
        {"title", CLI_STRING, &title, 0, 0, 0, NULL},
        {"points", CLI_U64, &points, 1, 1e9, 0, NULL},
    };
    int r = cli_options("plot", plot_help, argc, argv, opts, COUNT(opts), NULL, 0, NULL, NULL);
    if (r >= 0) return r;
    if (out == NULL) return cli_usage("plot", "--out is required");
    if (model_path && basis) return cli_usage("plot", "give --model or --basis, not both");
    if (!model_path && !basis && !truth && !data && !curve_path)
        return cli_usage("plot", "nothing to draw: give --model, --basis, --truth, --data or --curve");

    ovica_model *model = NULL;
    double *A = NULL, *T = NULL, *X = NULL;
    const double *Al = NULL;
    size_t m = 0, n = 0, tm = 0, tn = 0, N = 0, xm = 0;
    int use_sign = 0, code = CLI_EXIT_FAIL;
    if (model_path) {
        int st = ovica_model_load(&model, model_path);
        if (st != OVICA_OK) {
            cli_fail("plot", st, "cannot load the model");
            goto done;
        }
        m = ovica_model_dim(model);
        n = ovica_model_atoms(model);
        Al = ovica_model_basis(model);
        use_sign = ovica_prior_domain(ovica_model_prior(model)) == OVICA_DOMAIN_NONNEG;
    } else if (basis) {
        if (cli_read_npy("plot", "the basis", basis, &A, &m, &n)) goto done;
        Al = A;
    }
    if (truth) {
        if (cli_read_npy("plot", "the true basis", truth, &T, &tm, &tn)) goto done;
        if (Al && tm != m) {
            cli_fail("plot", 0, "the true basis has %zu rows, the learned one %zu", tm, m);
            goto done;
        }
        m = tm;
    }
    if (data) {
        if (cli_read_npy("plot", "the data", data, &X, &N, &xm)) goto done;
        if ((Al || T) && xm != m) {
            cli_fail("plot", 0, "the data have %zu columns, the atoms %zu entries", xm, m);
            goto done;
        }
        m = xm;
        if (m != 2 && !Al && !T && !curve_path) {
            cli_fail("plot", 0, "only 2-D data can be drawn as a scatter (these have %zu columns)", m);
            goto done;
        }
    }
    code = cli_plot("plot", out, title, X, N, m, Al, n, T, tn, use_sign, curve_path,
                    (size_t)points);
done:
    ovica_model_free(model);
    ovica_free(A);
    ovica_free(T);
    ovica_free(X);
    return code;
}

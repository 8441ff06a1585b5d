/* Tests of data-parallel training over MPI (examples/mpi/, docs/SCALING.md).
 * Run by `make check-mpi` as
 *     mpirun -np 2 --oversubscribe build/mpi/check_mpi
 * (and also with 3 ranks: shards of unequal size, a tree that is not a power
 * of two). Each rank holds 1/P of the data; rank 0 also trains the
 * single-process reference with the plain API (ovica_trainer_step on the
 * whole global batch) and compares.
 *
 * Also helpers for tests/mpi/run.sh (no MPI):
 *     check_mpi --synth X.npy              writes the 4 x 8 test data set
 *     check_mpi --compare A.ovm B.ovm TOL
 * --compare prints max |A - B| / max |B| over the two models' bases and exits
 * 0 if it is <= TOL (TOL 0: the bases must be byte-identical). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mpi.h>
#include <ovica.h>

#include "dtrain.h"
#include "npy_rows.h"

static int rank = 0, P = 1, fails = 0, passes = 0;

#define CHECK(cond, ...)                                                        \
    do {                                                                        \
        if (cond) {                                                             \
            passes++;                                                           \
        } else {                                                                \
            fails++;                                                            \
            fprintf(stderr, "[rank %d] FAIL %s:%d: ", rank, __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);                                       \
            fputc('\n', stderr);                                                \
        }                                                                       \
    } while (0)

#define OK(expr) CHECK((expr) == OVICA_OK, "%s: %s", #expr, ovica_error_message())

/* max |a - b| / max |b| */
static double rel_diff(const double *a, const double *b, size_t len)
{
    double d = 0.0, s = 0.0;
    for (size_t i = 0; i < len; i++) {
        if (fabs(a[i] - b[i]) > d) d = fabs(a[i] - b[i]);
        if (fabs(b[i]) > s) s = fabs(b[i]);
    }
    return s > 0.0 ? d / s : d;
}

/* 1 on every rank if every rank's A is byte-identical to rank 0's. */
static int ranks_agree(const double *A, size_t len)
{
    double *all = rank == 0 ? malloc((size_t)P * len * sizeof(double)) : NULL;
    int same = 1;
    MPI_Gather(A, (int)len, MPI_DOUBLE, all, (int)len, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    if (rank == 0)
        for (int r = 1; r < P; r++)
            if (memcmp(all + (size_t)r * len, all, len * sizeof(double)) != 0) same = 0;
    MPI_Bcast(&same, 1, MPI_INT, 0, MPI_COMM_WORLD);
    free(all);
    return same;
}

/* ------------------------------------------------------------- data */

static char dir[256];
static char f_data[300], f_f4[300], f_fbe[300], f_2d[300], f_2d_truth[300];

/* A float64, big-endian, Fortran-order .npy written by hand (the library
 * writes C order, little-endian only). */
static int write_fortran_be(const char *path, const double *X, size_t N, size_t m)
{
    char dict[128];
    int dl = snprintf(dict, sizeof dict, "{'descr': '>f8', 'fortran_order': True, 'shape': (%zu, %zu), }", N, m);
    size_t hlen = (size_t)dl + 1;
    while ((10 + hlen) % 64 != 0) hlen++;
    FILE *f = fopen(path, "wb");
    if (f == NULL) return -1;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hlen & 0xff),
                             (unsigned char)(hlen >> 8)};
    fwrite(pre, 1, 10, f);
    fwrite(dict, 1, (size_t)dl, f);
    for (size_t i = (size_t)dl; i + 1 < hlen; i++) fputc(' ', f);
    fputc('\n', f);
    for (size_t j = 0; j < m; j++)
        for (size_t i = 0; i < N; i++) {
            unsigned char b[8];
            memcpy(b, &X[i * m + j], 8);
            for (int k = 7; k >= 0; k--) fputc(b[k], f); /* x86: swap to big-endian */
        }
    return fclose(f);
}

enum { M4 = 4, N8 = 8, NROWS = 1200, N2D = 3000 };

static int make_data(void)
{
    int bad = 0;
    if (rank == 0) {
        const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        snprintf(dir, sizeof dir, "%s/ovica_mpi_XXXXXX", base);
        if (mkdtemp(dir) == NULL) bad = 1;
    }
    MPI_Bcast(dir, sizeof dir, MPI_CHAR, 0, MPI_COMM_WORLD);
    snprintf(f_data, sizeof f_data, "%s/data.npy", dir);
    snprintf(f_f4, sizeof f_f4, "%s/data_f4.npy", dir);
    snprintf(f_fbe, sizeof f_fbe, "%s/data_fortran_be.npy", dir);
    snprintf(f_2d, sizeof f_2d, "%s/data2d.npy", dir);
    snprintf(f_2d_truth, sizeof f_2d_truth, "%s/truth2d.npy", dir);
    if (rank == 0 && !bad) {
        ovica_rng *r = NULL;
        double *A = malloc(M4 * N8 * sizeof(double)), *S = malloc((size_t)N2D * N8 * sizeof(double));
        double *X = malloc((size_t)N2D * M4 * sizeof(double));
        bad = !A || !S || !X;
        bad = bad || ovica_rng_new(&r, 5) != OVICA_OK;
        /* 4 x 8 Laplace sources, 30% active */
        bad = bad || ovica_synth_random_basis(r, A, M4, N8) != OVICA_OK;
        bad = bad || ovica_synth_sources(r, OVICA_PRIOR_LAPLACE, 1.0, 0.3, S, NROWS, N8) != OVICA_OK;
        bad = bad || ovica_synth_mix(r, A, M4, N8, S, NROWS, 0.05, X) != OVICA_OK;
        bad = bad || ovica_npy_write(f_data, X, NROWS, M4) != OVICA_OK;
        bad = bad || ovica_npy_write_float32(f_f4, X, NROWS, M4) != OVICA_OK;
        bad = bad || write_fortran_be(f_fbe, X, NROWS, M4) != 0;
        /* the article's 2-D set: 3 atoms, exponential sources */
        bad = bad || ovica_synth_basis_2d(OVICA_SYNTH_REGULAR3, A, 2, 3) != OVICA_OK;
        bad = bad || ovica_synth_sources(r, OVICA_PRIOR_EXPONENTIAL, 1.0, 1.0, S, N2D, 3) != OVICA_OK;
        bad = bad || ovica_synth_mix(r, A, 2, 3, S, N2D, 0.05, X) != OVICA_OK;
        bad = bad || ovica_npy_write(f_2d, X, N2D, 2) != OVICA_OK;
        bad = bad || ovica_npy_write(f_2d_truth, A, 2, 3) != OVICA_OK;
        if (bad) fprintf(stderr, "making the data: %s\n", ovica_error_message());
        ovica_rng_free(r);
        free(A);
        free(S);
        free(X);
    }
    MPI_Bcast(&bad, 1, MPI_INT, 0, MPI_COMM_WORLD);
    return bad;
}

/* ------------------------------------------------------------- reader */

static void test_reader(void)
{
    const char *files[3] = {f_data, f_f4, f_fbe};
    char err[256];
    for (int f = 0; f < 3; f++) {
        double *all = NULL;
        size_t N = 0, m = 0;
        OK(ovica_npy_read(files[f], &all, &N, &m));
        if (all == NULL) continue;
        size_t lo = (size_t)rank * N / (size_t)P, hi = (size_t)(rank + 1) * N / (size_t)P;
        double *mine = malloc((hi - lo) * m * sizeof(double) + 1);
        int st = npy_read_rows(files[f], lo, hi - lo, m, mine, err, sizeof err);
        CHECK(st == OVICA_OK, "%s: %s", files[f], err);
        CHECK(st != OVICA_OK || memcmp(mine, all + lo * m, (hi - lo) * m * sizeof(double)) == 0,
              "%s: rows [%zu, %zu) differ from ovica_npy_read's", files[f], lo, hi);
        /* an odd range in the middle, one row, the last row */
        double row[M4 * 7];
        st = npy_read_rows(files[f], 333, 7, m, row, err, sizeof err);
        CHECK(st == OVICA_OK && memcmp(row, all + 333 * m, 7 * m * sizeof(double)) == 0, "%s: 333..340", files[f]);
        st = npy_read_rows(files[f], N - 1, 1, m, row, err, sizeof err);
        CHECK(st == OVICA_OK && memcmp(row, all + (N - 1) * m, m * sizeof(double)) == 0, "%s: last row", files[f]);
        CHECK(npy_read_rows(files[f], N - 1, 2, m, row, err, sizeof err) == OVICA_ESIZE, "past the end");
        CHECK(npy_read_rows(files[f], 0, 1, m + 1, row, err, sizeof err) == OVICA_ESIZE, "wrong columns");
        free(mine);
        ovica_free(all);
    }
    CHECK(npy_read_rows("/nonexistent/x.npy", 0, 1, 4, NULL, err, sizeof err) == OVICA_EIO, "missing file");
    if (rank == 0) printf("ok - row-range reader: f8 C order, f4, big-endian Fortran order; errors\n");
}

/* --------------------------------------------------- the serial reference */

/* The documented window (dtrain.h), computed here independently. */
static void ref_window(size_t N, size_t B, size_t p, size_t r, size_t k, size_t *lo, size_t *sn,
                       size_t *start, size_t *cnt)
{
    *lo = r * N / p;
    *sn = (r + 1) * N / p - *lo;
    *cnt = (*lo + *sn) * B / N - *lo * B / N;
    *start = *lo + (k * *cnt) % *sn;
}

/* One process holding all the data, plain API, same settings as dtrain.
 * by_shard: accumulate the ranks' windows one after the other (rank order)
 * instead of the concatenated global batch in one call. */
static int serial_reference(const dtrain_opts *o, int by_shard, double *A_out)
{
    double *X = NULL;
    size_t N = 0, m = 0;
    int st = ovica_npy_read(o->data, &X, &N, &m);
    if (st) return st;
    /* a float32 file: the ranks code their float rows in single precision;
     * the widened rows at OVICA_PRECISION_SINGLE are coded the same way */
    ovica_npy_file *fh = NULL;
    int dtype = OVICA_NPY_FLOAT64;
    if (ovica_npy_open(&fh, o->data) == OVICA_OK) ovica_npy_file_format(fh, &dtype, NULL, NULL);
    ovica_npy_close(fh);
    const size_t n = o->atoms, B = o->batch ? o->batch : N, p = (size_t)P;
    const size_t nf = o->monitor_rows ? (o->monitor_rows < N ? o->monitor_rows : N) : (N < 2048 ? N : 2048);
    ovica_prior *pr = NULL;
    ovica_model *model = NULL;
    ovica_trainer *t = NULL;
    double *G = malloc(B * m * sizeof(double));
    st = strcmp(o->prior, "laplace") == 0 ? ovica_prior_laplace_new(&pr, o->scale)
                                           : ovica_prior_exponential_new(&pr, o->scale);
    if (!st) st = ovica_model_new(&model, m, n, pr, o->sigma);
    if (!st) st = ovica_trainer_new(&t, model, ovica_rule_type_find(o->rule), o->seed);
    if (!st) st = ovica_trainer_set_param(t, OVICA_TRAIN_STEPS, (double)o->steps);
    if (!st && dtype == OVICA_NPY_FLOAT32)
        st = ovica_trainer_set_param(t, OVICA_TRAIN_PRECISION, OVICA_PRECISION_SINGLE);
    if (!st && o->lr > 0) st = ovica_trainer_set_param(t, OVICA_TRAIN_LR, o->lr);
    if (!st && o->solver_tol > 0) st = ovica_trainer_set_param(t, OVICA_TRAIN_SOLVER_TOL, o->solver_tol);
    if (!st && o->solver_iter > 0) st = ovica_trainer_set_param(t, OVICA_TRAIN_SOLVER_ITER, o->solver_iter);
    if (!st && o->monitor_every > 0)
        st = ovica_trainer_set_param(t, OVICA_TRAIN_MONITOR_EVERY, (double)o->monitor_every);
    if (!st) st = ovica_trainer_init_basis(t, OVICA_INIT_SPREAD, X, nf, m);
    if (!st) st = ovica_trainer_set_param(t, OVICA_TRAIN_RESEED, 0);
    if (!st && o->monitor_rows == 0) st = ovica_trainer_set_param(t, OVICA_TRAIN_MONITOR_EVERY, 0);
    if (!st && o->monitor_rows > 0) st = ovica_trainer_set_monitor(t, X, nf, m);
    for (size_t k = 0; !st && k < o->steps; k++) {
        size_t rows = 0;
        if (by_shard) ovica_trainer_clear_stats(t);
        for (size_t r = 0; r < p && !st; r++) {
            size_t lo, sn, start, cnt;
            ref_window(N, B, p, r, k, &lo, &sn, &start, &cnt);
            for (size_t i = 0; i < cnt; i++) {
                size_t row = lo + (start - lo + i) % sn;
                memcpy(G + (rows + i) * m, X + row * m, m * sizeof(double));
            }
            if (by_shard && cnt > 0) st = ovica_trainer_accumulate(t, G + rows * m, cnt, m);
            rows += cnt;
        }
        if (!st) st = by_shard ? ovica_trainer_apply(t, NULL) : ovica_trainer_step(t, G, rows, m, NULL);
    }
    if (!st && o->keep_best) {
        st = ovica_trainer_restore_best(t);
        if (st == OVICA_ESTATE) st = OVICA_OK;
    }
    if (!st) st = ovica_model_get_basis(ovica_trainer_model(t), A_out, m, n);
    ovica_trainer_free(t);
    ovica_model_free(model);
    ovica_prior_free(pr);
    ovica_free(X);
    free(G);
    return st;
}

/* ------------------------------------------------------------- training */

static dtrain_opts natural_opts(size_t batch)
{
    dtrain_opts o;
    dtrain_opts_init(&o);
    o.data = f_data;
    o.atoms = N8;
    o.prior = "laplace";
    o.rule = "natural";
    o.steps = 40;
    o.batch = batch;
    o.seed = 9;
    o.monitor_rows = 400;
    o.monitor_every = 5;
    o.solver_tol = 1e-10; /* so that rounding cannot move the stopping iteration by much */
    o.solver_iter = 5000;
    o.keep_best = 0;
    o.verify_every = 1;
    return o;
}

static void test_map_rule(size_t batch, const char *what, int by_shard, const char *data)
{
    dtrain_opts o = natural_opts(batch);
    if (data != NULL) o.data = data;
    dtrain_result res;
    int rc = dtrain_run(&o, MPI_COMM_WORLD, &res, stderr);
    CHECK(rc == 0, "%s: dtrain_run failed", what);
    if (rc) return;
    const size_t mn = res.m * res.n;
    CHECK(res.identical == 1, "%s: dtrain reports different bases", what);
    CHECK(ranks_agree(res.A, mn), "%s: the gathered bases differ", what);
    if (rank == 0) {
        double *S1 = malloc(mn * sizeof(double)), *S2 = malloc(mn * sizeof(double));
        int st = serial_reference(&o, 0, S1);
        CHECK(st == OVICA_OK, "%s: serial reference: %s", what, ovica_error_message());
        double d1 = rel_diff(res.A, S1, mn), d2 = NAN;
        CHECK(d1 <= 1e-8, "%s: %d ranks vs one process: max|dA|/max|A| = %.3g", what, P, d1);
        printf("ok - %s, rule natural, %zu steps: %d ranks bit-identical; vs one process with the "
               "global batch in one call: max|dA|/max|A| = %.2g\n", what, o.steps, P, d1);
        if (by_shard) {
            /* One process accumulating the ranks' windows one after the
             * other: the same additions in the same order as the ranks and
             * the tree (for P <= 3). Only where the batch changes every step:
             * with a fixed batch the ranks warm-start the MAP solver from
             * their window's last codes, the one process cannot. */
            st = serial_reference(&o, 1, S2);
            CHECK(st == OVICA_OK, "%s: serial reference by shard: %s", what, ovica_error_message());
            d2 = rel_diff(res.A, S2, mn);
            CHECK(d2 <= 1e-8, "%s: %d ranks vs one process by shard: %.3g", what, P, d2);
            printf("ok - %s: vs one process accumulating the windows in rank order: "
                   "max|dA|/max|A| = %.2g%s\n", what, d2,
                   memcmp(res.A, S2, mn * sizeof(double)) == 0 ? " (byte-identical)" : "");
        }
        free(S1);
        free(S2);
    }
    dtrain_result_free(&res);
}

static void test_reduce_modes(void)
{
    dtrain_opts o = natural_opts(300);
    o.steps = 15;
    dtrain_result r[3];
    const char *names[3] = {"tree", "root", "allreduce"};
    int rc[3];
    for (int i = 0; i < 3; i++) {
        o.reduce = i;
        rc[i] = dtrain_run(&o, MPI_COMM_WORLD, &r[i], stderr);
        CHECK(rc[i] == 0 && r[i].identical, "reduce %s: failed or ranks differ", names[i]);
    }
    if (rc[0] == 0 && rc[1] == 0 && rc[2] == 0) {
        const size_t mn = r[0].m * r[0].n;
        double d1 = rel_diff(r[1].A, r[0].A, mn), d2 = rel_diff(r[2].A, r[0].A, mn);
        /* a sum of two terms has one order: all modes agree bit for bit on 2 ranks */
        if (P <= 2)
            CHECK(memcmp(r[1].A, r[0].A, mn * 8) == 0 && memcmp(r[2].A, r[0].A, mn * 8) == 0,
                  "P = 2: the reduce modes give different bases (%.3g, %.3g)", d1, d2);
        CHECK(d1 <= 1e-8 && d2 <= 1e-8, "reduce modes: %.3g %.3g", d1, d2);
        if (rank == 0)
            printf("ok - reduce modes tree/root/allreduce: ranks bit-identical in each; root vs "
                   "tree %.2g, allreduce vs tree %.2g\n", d1, d2);
    }
    for (int i = 0; i < 3; i++)
        if (rc[i] == 0) dtrain_result_free(&r[i]);
}

/* Rules from draws: each rank's sampler has its own seed, so the run is not
 * the serial one draw for draw; both must find the true basis, and each
 * other's atoms, within a few degrees. */
static void test_draws_rule(void)
{
    dtrain_opts o;
    dtrain_opts_init(&o);
    o.data = f_2d;
    o.atoms = 3;
    o.rule = "auto";
    o.steps = 120;
    o.seed = 4;
    o.verify_every = 1;
    dtrain_result res;
    int rc = dtrain_run(&o, MPI_COMM_WORLD, &res, stderr);
    CHECK(rc == 0 && res.identical, "auto rule: failed or ranks differ");
    if (rc) return;
    CHECK(ranks_agree(res.A, 6), "auto rule: the gathered bases differ");
    if (rank == 0) {
        double S[6], T[6], ad[3], as[3], ads[3];
        size_t Nt = 0, mt = 0;
        double *truth = NULL;
        OK(ovica_npy_read(f_2d_truth, &truth, &Nt, &mt));
        int st = serial_reference(&o, 0, S);
        CHECK(st == OVICA_OK, "auto rule: serial reference: %s", ovica_error_message());
        if (truth && st == OVICA_OK) {
            memcpy(T, truth, sizeof T);
            OK(ovica_atoms_match(res.A, 2, 3, T, 3, 1, NULL, ad));
            OK(ovica_atoms_match(S, 2, 3, T, 3, 1, NULL, as));
            OK(ovica_atoms_match(res.A, 2, 3, S, 3, 1, NULL, ads));
            double md = fmax(ad[0], fmax(ad[1], ad[2])), ms = fmax(as[0], fmax(as[1], as[2]));
            double mds = fmax(ads[0], fmax(ads[1], ads[2]));
            CHECK(md < 3.0 && ms < 3.0 && mds < 3.0,
                  "auto rule: largest angle to the truth %d ranks %.2f, one process %.2f deg; "
                  "between them %.2f deg", P, md, ms, mds);
            printf("ok - rule auto (annealed exact gradient from posterior draws), %zu steps: %d ranks "
                   "bit-identical; largest angle to the true atoms: %d ranks %.2f deg, one "
                   "process %.2f deg; between the two %.2f deg\n",
                   o.steps, P, P, md, ms, mds);
        }
        ovica_free(truth);
    }
    dtrain_result_free(&res);
}

/* Checkpoint at step 20, stop, resume in a new run (same P) to step 40:
 * compared with the uninterrupted run. */
static void test_resume(void)
{
    dtrain_opts o = natural_opts(300);
    char ck[320];
    snprintf(ck, sizeof ck, "%s/ck.ovm", dir);
    dtrain_result full, part, rest;
    int rc = dtrain_run(&o, MPI_COMM_WORLD, &full, stderr);
    o.checkpoint = ck;
    o.checkpoint_every = 10;
    o.stop_after = 20;
    int rc2 = dtrain_run(&o, MPI_COMM_WORLD, &part, stderr);
    CHECK(rc2 == 0 && part.stopped && part.last_step == 20, "stop after 20");
    o.stop_after = 0;
    o.resume = ck;
    int rc3 = dtrain_run(&o, MPI_COMM_WORLD, &rest, stderr);
    CHECK(rc == 0 && rc3 == 0, "runs failed");
    if (rc == 0 && rc3 == 0) {
        const size_t mn = full.m * full.n;
        CHECK(rest.first_step == 20 && rest.last_step == 40 && rest.identical, "resumed run");
        double d = rel_diff(rest.A, full.A, mn);
        CHECK(d <= 1e-6, "resumed vs uninterrupted: %.3g", d);
        if (rank == 0)
            printf("ok - checkpoint at step 20, resumed to 40: ranks bit-identical; vs the "
                   "uninterrupted run max|dA|/max|A| = %.2g%s\n", d,
                   memcmp(rest.A, full.A, mn * 8) == 0 ? " (byte-identical)" : "");
    }
    if (rc == 0) dtrain_result_free(&full);
    if (rc2 == 0) dtrain_result_free(&part);
    if (rc3 == 0) dtrain_result_free(&rest);
}

/* ------------------------------------------------------------- main */

static int compare_models(const char *a, const char *b, const char *tol_s)
{
    ovica_model *ma = NULL, *mb = NULL;
    double tol = atof(tol_s);
    if (ovica_model_load(&ma, a) != OVICA_OK || ovica_model_load(&mb, b) != OVICA_OK) {
        fprintf(stderr, "compare: %s\n", ovica_error_message());
        return 2;
    }
    size_t m = ovica_model_dim(ma), n = ovica_model_atoms(ma);
    int rc = 1;
    if (m == ovica_model_dim(mb) && n == ovica_model_atoms(mb)) {
        const double *A = ovica_model_basis(ma), *B = ovica_model_basis(mb);
        double d = rel_diff(A, B, m * n);
        int same = memcmp(A, B, m * n * sizeof(double)) == 0;
        printf("compare %s %s: max|dA|/max|A| = %.3g%s\n", a, b, d, same ? " (byte-identical)" : "");
        rc = (tol == 0.0 ? same : d <= tol) ? 0 : 1;
    } else {
        printf("compare: shapes differ\n");
    }
    ovica_model_free(ma);
    ovica_model_free(mb);
    return rc;
}

/* The 4 x 8 test data set, for tests/mpi/run.sh. */
static int synth_file(const char *path)
{
    snprintf(f_data, sizeof f_data, "%s", path);
    ovica_rng *r = NULL;
    double A[M4 * N8], *S = malloc((size_t)NROWS * N8 * sizeof(double));
    double *X = malloc((size_t)NROWS * M4 * sizeof(double));
    int st = S && X ? ovica_rng_new(&r, 5) : OVICA_ENOMEM;
    if (!st) st = ovica_synth_random_basis(r, A, M4, N8);
    if (!st) st = ovica_synth_sources(r, OVICA_PRIOR_LAPLACE, 1.0, 0.3, S, NROWS, N8);
    if (!st) st = ovica_synth_mix(r, A, M4, N8, S, NROWS, 0.05, X);
    if (!st) st = ovica_npy_write(path, X, NROWS, M4);
    if (st) fprintf(stderr, "synth: %s\n", ovica_error_message());
    ovica_rng_free(r);
    free(S);
    free(X);
    return st ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "--compare") == 0) return compare_models(argv[2], argv[3], argv[4]);
    if (argc == 3 && strcmp(argv[1], "--synth") == 0) return synth_file(argv[2]);
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &P);
    double t0 = MPI_Wtime();
    if (make_data() != 0) {
        if (rank == 0) fprintf(stderr, "check-mpi: cannot make the test data\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    test_reader();
    test_map_rule(0, "full batch", 0, NULL);
    test_map_rule(300, "minibatch 300 (windows wrap)", 1, NULL);
    test_map_rule(2, "minibatch 2 (with 3 ranks one has no rows per step)", 1, NULL);
    test_map_rule(300, "minibatch 300, float32 file (float shards, single-precision codes)", 1,
                  f_f4);
    test_reduce_modes();
    test_draws_rule();
    test_resume();

    int f = 0, p = 0;
    MPI_Reduce(&fails, &f, 1, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);
    MPI_Reduce(&passes, &p, 1, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 0) {
        const char *files[] = {f_data, f_f4, f_fbe, f_2d, f_2d_truth};
        char ck[320];
        snprintf(ck, sizeof ck, "%s/ck.ovm", dir);
        for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) unlink(files[i]);
        unlink(ck);
        if (rmdir(dir) != 0) fprintf(stderr, "check-mpi: could not remove %s\n", dir);
        printf("check-mpi: %d ranks: %d checks passed, %d failed (%.1f s)\n", P, p, f, MPI_Wtime() - t0);
    }
    MPI_Bcast(&f, 1, MPI_INT, 0, MPI_COMM_WORLD);
    MPI_Finalize();
    return f ? 1 : 0;
}

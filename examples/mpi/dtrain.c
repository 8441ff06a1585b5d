/* Data-parallel training over MPI ranks: see dtrain.h and docs/SCALING.md. */
#include "dtrain.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ovica.h>

#include "npy_rows.h"

/* Largest count passed to one MPI call (counts are ints). */
#define MPI_CHUNK ((size_t)1 << 27)
#define INIT_ROWS 2048 /* rows for the initial basis when there is no monitor */

void dtrain_opts_init(dtrain_opts *o)
{
    memset(o, 0, sizeof *o);
    o->prior = "exponential";
    o->scale = 1.0;
    o->sigma = 0.05;
    o->rule = "auto";
    o->seed = 1;
    o->monitor_rows = 2048;
    o->reduce = DTRAIN_REDUCE_TREE;
    o->keep_best = 1;
    o->verify_every = 10;
}

void dtrain_result_free(dtrain_result *res)
{
    if (res == NULL) return;
    free(res->A);
    res->A = NULL;
}

/* ------------------------------------------------------------- helpers */

static void say(FILE *log, int rank, const char *fmt, ...)
{
    if (log == NULL) return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(log, "[rank %d] ", rank);
    vfprintf(log, fmt, ap);
    fputc('\n', log);
    fflush(log);
    va_end(ap);
}

/* 1 if any rank passes a non-zero `bad` (collective). */
static int any_failed(int bad, MPI_Comm comm)
{
    int any = 0;
    MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, comm);
    return any;
}

/* CPU time of the calling thread (the rank's compute: OpenBLAS runs in it
 * with OPENBLAS_NUM_THREADS=1), to tell work from waiting for a core. */
static double thread_cpu(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return 0.0;
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t mix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

/* FNV-1a over the bytes of the basis. */
static uint64_t hash_doubles(const double *a, size_t len)
{
    const unsigned char *p = (const unsigned char *)a;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len * sizeof(double); i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* 1 if every rank's basis hashes alike (collective). */
static int same_hash(const double *A, size_t len, MPI_Comm comm)
{
    uint64_t h = hash_doubles(A, len), v[2] = {h, ~h}, r[2];
    MPI_Allreduce(v, r, 2, MPI_UINT64_T, MPI_MIN, comm);
    return r[0] == ~r[1]; /* min == max */
}

static int bcast_doubles(double *buf, size_t len, int root, MPI_Comm comm)
{
    for (size_t off = 0; off < len; off += MPI_CHUNK) {
        size_t k = len - off < MPI_CHUNK ? len - off : MPI_CHUNK;
        int e = MPI_Bcast(buf + off, (int)k, MPI_DOUBLE, root, comm);
        if (e != MPI_SUCCESS) return e;
    }
    return MPI_SUCCESS;
}

static int bcast_bytes(unsigned char *buf, size_t len, int root, MPI_Comm comm)
{
    for (size_t off = 0; off < len; off += MPI_CHUNK) {
        size_t k = len - off < MPI_CHUNK ? len - off : MPI_CHUNK;
        int e = MPI_Bcast(buf + off, (int)k, MPI_UNSIGNED_CHAR, root, comm);
        if (e != MPI_SUCCESS) return e;
    }
    return MPI_SUCCESS;
}

int dtrain_reduce(double *buf, double *tmp, size_t len, int mode, MPI_Comm comm)
{
    int rank, P, e = MPI_SUCCESS;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &P);
    if (P == 1) return MPI_SUCCESS;
    if (mode == DTRAIN_REDUCE_ALLREDUCE) {
        for (size_t off = 0; off < len && e == MPI_SUCCESS; off += MPI_CHUNK) {
            size_t k = len - off < MPI_CHUNK ? len - off : MPI_CHUNK;
            e = MPI_Allreduce(MPI_IN_PLACE, buf + off, (int)k, MPI_DOUBLE, MPI_SUM, comm);
        }
        return e;
    }
    if (mode == DTRAIN_REDUCE_ROOT) {
        for (size_t off = 0; off < len && e == MPI_SUCCESS; off += MPI_CHUNK) {
            size_t k = len - off < MPI_CHUNK ? len - off : MPI_CHUNK;
            e = MPI_Reduce(rank == 0 ? MPI_IN_PLACE : buf + off, buf + off, (int)k, MPI_DOUBLE,
                           MPI_SUM, 0, comm);
        }
        return e == MPI_SUCCESS ? bcast_doubles(buf, len, 0, comm) : e;
    }
    /* fixed binomial tree: in round j (d = 2^j), rank r with r % 2d == 0
     * adds the partial sum of rank r + d; the others send theirs and are done */
    for (int d = 1; d < P && e == MPI_SUCCESS; d <<= 1) {
        if (rank % (2 * d) == 0) {
            int src = rank + d;
            if (src >= P) continue;
            for (size_t off = 0; off < len && e == MPI_SUCCESS; off += MPI_CHUNK) {
                size_t k = len - off < MPI_CHUNK ? len - off : MPI_CHUNK;
                e = MPI_Recv(tmp + off, (int)k, MPI_DOUBLE, src, 7, comm, MPI_STATUS_IGNORE);
            }
            for (size_t i = 0; i < len; i++) buf[i] += tmp[i];
        } else {
            for (size_t off = 0; off < len && e == MPI_SUCCESS; off += MPI_CHUNK) {
                size_t k = len - off < MPI_CHUNK ? len - off : MPI_CHUNK;
                e = MPI_Send(buf + off, (int)k, MPI_DOUBLE, rank - d, 7, comm);
            }
            break;
        }
    }
    return e == MPI_SUCCESS ? bcast_doubles(buf, len, 0, comm) : e;
}

void dtrain_window(size_t N, size_t B, int P, int r, size_t k, size_t *shard_lo, size_t *shard_n,
                   size_t *start, size_t *count)
{
    const size_t p = (size_t)P, q = (size_t)r;
    const size_t lo = q * N / p, hi = (q + 1) * N / p;
    const size_t b = B == 0 ? N : B;
    const size_t cnt = hi * b / N - lo * b / N; /* N < 2^32 (checked): no overflow */
    const size_t sn = hi - lo;
    *shard_lo = lo;
    *shard_n = sn;
    *count = cnt;
    *start = sn == 0 ? lo : lo + ((k % sn) * (cnt % sn)) % sn;
}

/* Rank 0 reads a whole file and broadcasts its bytes; *len = 0 on failure. */
static unsigned char *read_and_share(const char *path, size_t *len, MPI_Comm comm, FILE *log)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    uint64_t n = 0;
    unsigned char *bytes = NULL;
    if (rank == 0) {
        FILE *f = fopen(path, "rb");
        long sz = -1;
        if (f != NULL && fseek(f, 0, SEEK_END) == 0) sz = ftell(f);
        if (f != NULL && sz > 0 && fseek(f, 0, SEEK_SET) == 0) {
            bytes = malloc((size_t)sz);
            if (bytes != NULL && fread(bytes, 1, (size_t)sz, f) == (size_t)sz) n = (uint64_t)sz;
        }
        if (n == 0) say(log, rank, "cannot read %s", path);
        if (f != NULL) fclose(f);
    }
    MPI_Bcast(&n, 1, MPI_UINT64_T, 0, comm);
    if (n == 0) {
        free(bytes);
        *len = 0;
        return NULL;
    }
    if (rank != 0) bytes = malloc((size_t)n);
    int bad = bytes == NULL;
    if (any_failed(bad, comm)) {
        free(bytes);
        *len = 0;
        return NULL;
    }
    bcast_bytes(bytes, (size_t)n, 0, comm);
    *len = (size_t)n;
    return bytes;
}

static const char *guard_letters(int g, char *buf)
{
    static const struct { int flag; char c; } L[] = {
        {OVICA_GUARD_CAPPED, 'C'}, {OVICA_GUARD_DAMPED, 'D'}, {OVICA_GUARD_ROLLBACK, 'R'},
        {OVICA_GUARD_RESEED, 'S'}, {OVICA_GUARD_SPLIT, 'X'},  {OVICA_GUARD_BEST, 'B'}};
    size_t k = 0;
    for (size_t i = 0; i < sizeof L / sizeof L[0]; i++)
        if (g & L[i].flag) buf[k++] = L[i].c;
    buf[k] = '\0';
    return buf;
}

/* ------------------------------------------------------------- training */

/* Whether the .npy file holds float32 values (0 also when it cannot be
 * opened: the reading reports that). */
static int npy_is_float32(const char *path)
{
    ovica_npy_file *f = NULL;
    int dtype = OVICA_NPY_FLOAT64;
    if (path == NULL || ovica_npy_open(&f, path) != OVICA_OK) return 0;
    ovica_npy_file_format(f, &dtype, NULL, NULL);
    ovica_npy_close(f);
    return dtype == OVICA_NPY_FLOAT32;
}

/* Rows [lo, lo + sn) of the file into out: doubles, or (f32) floats, read
 * through a double buffer of at most SHARD_PIECE rows (float32 values
 * round-trip exactly). */
#define SHARD_PIECE 4096
static int read_shard(const char *path, size_t lo, size_t sn, size_t m, int f32, void *out,
                      char *err, size_t errlen)
{
    if (!f32) return sn ? npy_read_rows(path, lo, sn, m, out, err, errlen) : OVICA_OK;
    double *piece = malloc((sn < SHARD_PIECE ? (sn ? sn : 1) : SHARD_PIECE) * m * sizeof *piece);
    if (piece == NULL) {
        snprintf(err, errlen, "out of memory for the shard");
        return OVICA_ENOMEM;
    }
    float *dst = out;
    int st = OVICA_OK;
    for (size_t r = 0; r < sn && st == OVICA_OK; r += SHARD_PIECE) {
        const size_t k = sn - r < SHARD_PIECE ? sn - r : SHARD_PIECE;
        st = npy_read_rows(path, lo + r, k, m, piece, err, errlen);
        for (size_t i = 0; st == OVICA_OK && i < k * m; i++) dst[r * m + i] = (float)piece[i];
    }
    free(piece);
    return st;
}

int dtrain_run(const dtrain_opts *o, MPI_Comm comm, dtrain_result *res, FILE *log)
{
    int rank, P;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &P);
    memset(res, 0, sizeof *res);
    char err[512];
    int bad = 0, st = OVICA_OK;
    ovica_prior *prior = NULL;
    ovica_model *model = NULL;
    ovica_trainer *t = NULL;
    double *first = NULL, *buf = NULL, *tmp = NULL, *all = NULL;
    /* the shard and a step's window when it wraps: doubles, or floats for a
     * float32 file (half the memory; the trainer's _f32 entry points code
     * them in single precision) */
    unsigned char *shard = NULL, *batch = NULL;

    /* --- the data: shape, this rank's shard, the shared first rows ------- */
    size_t N = 0, m = 0;
    if (o->data == NULL || (st = ovica_npy_info(o->data, &N, &m)) != OVICA_OK) {
        say(log, rank, "data: %s", o->data ? ovica_error_message() : "no data file given");
        bad = 1;
    }
    if (any_failed(bad, comm)) return 1;
    const size_t B = o->batch == 0 ? N : o->batch;
    if (B > N || N < (size_t)P || N > 0xFFFFFFFFu) {
        if (rank == 0)
            say(log, rank, "%zu rows for %d ranks and a global batch of %zu: need P <= N < 2^32 "
                           "and B <= N", N, P, B);
        return 1;
    }
    size_t lo, sn, start, cnt;
    dtrain_window(N, B, P, rank, 0, &lo, &sn, &start, &cnt);
    const int f32 = npy_is_float32(o->data);
    const size_t es = f32 ? sizeof(float) : sizeof(double); /* bytes per value */
    shard = malloc((sn ? sn : 1) * m * es);
    batch = malloc((cnt ? cnt : 1) * m * es);
    const size_t n_first = o->monitor_rows > 0 ? (o->monitor_rows < N ? o->monitor_rows : N)
                                               : (N < INIT_ROWS ? N : INIT_ROWS);
    first = malloc(n_first * m * sizeof(double));
    if (!shard || !batch || !first) {
        say(log, rank, "out of memory for the data");
        bad = 1;
    } else if ((st = read_shard(o->data, lo, sn, m, f32, shard, err, sizeof err)) != OVICA_OK ||
               (st = npy_read_rows(o->data, 0, n_first, m, first, err, sizeof err)) != OVICA_OK) {
        say(log, rank, "data: %s", err);
        bad = 1;
    }
    if (any_failed(bad, comm)) goto done;

    /* --- the trainer: from a checkpoint, or new ------------------------- */
    if (o->resume != NULL) {
        size_t len = 0;
        unsigned char *bytes = read_and_share(o->resume, &len, comm, log);
        if (bytes == NULL) {
            bad = 1;
        } else if ((st = ovica_checkpoint_load_buffer(&t, bytes, len)) != OVICA_OK) {
            say(log, rank, "%s: %s", o->resume, ovica_error_message());
            bad = 1;
        }
        free(bytes);
        if (!bad) {
            const ovica_model *mm = ovica_trainer_model(t);
            if (ovica_model_dim(mm) != m || (o->atoms != 0 && o->atoms != ovica_model_atoms(mm))) {
                say(log, rank, "%s: a %zu x %zu model, the data have %zu columns%s", o->resume,
                    ovica_model_dim(mm), ovica_model_atoms(mm), m,
                    o->atoms ? " (or --atoms differs)" : "");
                bad = 1;
            }
        }
        if (!bad && o->steps != 0) st = ovica_trainer_set_param(t, OVICA_TRAIN_STEPS, (double)o->steps);
    } else {
        const ovica_rule_type *rule = ovica_rule_type_find(o->rule);
        if (rule == NULL) {
            if (rank == 0) say(log, rank, "unknown rule '%s'", o->rule);
            bad = 1;
        } else if (o->atoms == 0) {
            if (rank == 0) say(log, rank, "the number of atoms is required");
            bad = 1;
        } else {
            st = strcmp(o->prior, "laplace") == 0 ? ovica_prior_laplace_new(&prior, o->scale)
                 : strcmp(o->prior, "exponential") == 0
                     ? ovica_prior_exponential_new(&prior, o->scale)
                     : OVICA_EINVAL;
            if (st == OVICA_OK) st = ovica_model_new(&model, m, o->atoms, prior, o->sigma);
            if (st == OVICA_OK) st = ovica_trainer_new(&t, model, rule, o->seed); /* same seed everywhere */
            if (st == OVICA_OK)
                st = ovica_trainer_set_param(t, OVICA_TRAIN_STEPS, (double)(o->steps ? o->steps : 300));
            if (st == OVICA_OK && o->lr > 0.0) st = ovica_trainer_set_param(t, OVICA_TRAIN_LR, o->lr);
            if (st == OVICA_OK && o->solver_tol > 0.0)
                st = ovica_trainer_set_param(t, OVICA_TRAIN_SOLVER_TOL, o->solver_tol);
            if (st == OVICA_OK && o->solver_iter > 0.0)
                st = ovica_trainer_set_param(t, OVICA_TRAIN_SOLVER_ITER, o->solver_iter);
            if (st == OVICA_OK && o->monitor_every > 0)
                st = ovica_trainer_set_param(t, OVICA_TRAIN_MONITOR_EVERY, (double)o->monitor_every);
            if (st == OVICA_OK) st = ovica_trainer_init_basis(t, OVICA_INIT_SPREAD, first, n_first, m);
            if (st != OVICA_OK) {
                say(log, rank, "setting up: %s: %s", ovica_strerror(st), ovica_error_message());
                bad = 1;
            }
        }
    }
    if (any_failed(bad, comm)) goto done;
    const size_t n = ovica_model_atoms(ovica_trainer_model(t)), mn = m * n;
    res->m = m;
    res->n = n;
    res->A = malloc(mn * sizeof(double));
    if (res->A == NULL) bad = 1;
    /* settings every rank must share, also for a checkpoint written elsewhere */
    if (!bad) st = ovica_trainer_set_param(t, OVICA_TRAIN_RESEED, 0);
    if (!bad && st == OVICA_OK && o->monitor_rows == 0)
        st = ovica_trainer_set_param(t, OVICA_TRAIN_MONITOR_EVERY, 0);
    if (!bad && st == OVICA_OK && o->monitor_rows > 0) {
        /* setting the monitor forgets the best basis: keep a checkpoint's */
        double best = NAN;
        int have_best = ovica_trainer_best_basis(t, res->A, m, n, &best) == OVICA_OK;
        st = ovica_trainer_set_monitor(t, first, n_first, m);
        if (st == OVICA_OK && have_best) st = ovica_trainer_set_best(t, res->A, m, n, best);
    }
    if (!bad && st != OVICA_OK) {
        say(log, rank, "setting up: %s", ovica_error_message());
        bad = 1;
    }
    if (any_failed(bad, comm)) goto done;
    /* rank 0's basis for everyone (equal anyway on equal machines) */
    ovica_model_get_basis(ovica_trainer_model(t), res->A, m, n);
    bcast_doubles(res->A, mn, 0, comm);
    if (ovica_trainer_set_basis(t, res->A, m, n) != OVICA_OK) {
        say(log, rank, "set_basis: %s", ovica_error_message());
        bad = 1;
    }
    const size_t first_step = ovica_trainer_step_index(t);
    double total_d = 0.0;
    ovica_trainer_get_param(t, OVICA_TRAIN_STEPS, &total_d);
    const size_t total = (size_t)total_d;
    /* this rank's own posterior draws: seed from the run's seed, the rank and
     * the step where this run starts (a resumed run does not replay) */
    if (!bad && ovica_trainer_set_sampler_seed(
                    t, mix64(o->seed ^ mix64((uint64_t)rank + 1) ^ mix64(~(uint64_t)first_step))) != OVICA_OK)
        bad = 1;

    const size_t S = ovica_trainer_stats_size(t);
    res->stats_len = S;
    buf = malloc((S + 1) * sizeof(double)); /* the statistics and a failure flag */
    tmp = malloc((S + 1) * sizeof(double));
    if (!buf || !tmp) {
        say(log, rank, "out of memory for the statistics");
        bad = 1;
    }
    if (any_failed(bad, comm)) goto done;
    if (rank == 0 && o->progress_every > 0 && log != NULL) {
        fprintf(log, "dtrain: %d ranks, %zu x %zu data, %zu atoms, global batch %zu (%zu..%zu per rank), "
                     "steps %zu..%zu, %zu doubles (%.1f KiB) summed per step\n",
                P, N, m, n, B, B / (size_t)P, (B + (size_t)P - 1) / (size_t)P, first_step, total,
                S, (double)(S + 1) * 8.0 / 1024.0);
        fflush(log);
    }

    /* --- the steps --------------------------------------------------------- */
    double t_acc = 0.0, t_red = 0.0, t_app = 0.0, c_acc = 0.0;
    int pending = 0; /* this rank failed in its last apply */
    size_t k = first_step;
    MPI_Barrier(comm);
    const double t0 = MPI_Wtime();
    ovica_step_stats ss = OVICA_STEP_STATS_INIT;
    for (; k < total; k++) {
        if (o->stop_after > 0 && k >= o->stop_after) break;
        dtrain_window(N, B, P, rank, k, &lo, &sn, &start, &cnt);
        const unsigned char *X = shard + (start - lo) * m * es;
        if (cnt > sn) { /* (cannot happen: b_r <= shard size) */
            say(log, rank, "step %zu: window of %zu rows in a shard of %zu", k, cnt, sn);
            bad = 1;
            break;
        }
        if (start - lo + cnt > sn) { /* wraps around the shard */
            size_t a = sn - (start - lo);
            memcpy(batch, X, a * m * es);
            memcpy(batch + a * m * es, shard, (cnt - a) * m * es);
            X = batch;
        }
        double ta = MPI_Wtime(), ca = thread_cpu();
        int fail = pending;
        if (!fail && cnt == 0) {
            memset(buf, 0, S * sizeof(double)); /* no rows this step: adds nothing */
        } else if (!fail) {
            ovica_trainer_clear_stats(t);
            st = f32 ? ovica_trainer_accumulate_f32(t, (const float *)(const void *)X, cnt, m)
                     : ovica_trainer_accumulate(t, (const double *)(const void *)X, cnt, m);
            if (st == OVICA_OK) st = ovica_trainer_stats_export(t, buf, S);
            if (st != OVICA_OK) {
                say(log, rank, "step %zu: accumulate (window of %zu rows from file row %zu, "
                               "shard [%zu, %zu)): %s: %s", k, cnt, start, lo, lo + sn,
                    ovica_strerror(st), ovica_error_message());
                fail = 1;
            }
        }
        if (fail) memset(buf, 0, S * sizeof(double));
        buf[S] = fail ? 1.0 : 0.0;
        double tb = MPI_Wtime();
        c_acc += thread_cpu() - ca;
        if (dtrain_reduce(buf, tmp, S + 1, o->reduce, comm) != MPI_SUCCESS) {
            say(log, rank, "step %zu: the reduction failed", k);
            bad = 1;
            break;
        }
        double tc = MPI_Wtime();
        if (buf[S] != 0.0) { /* some rank failed: every rank stops here */
            if (rank == 0) say(log, rank, "step %zu: %g rank(s) failed; stopping", k, buf[S]);
            bad = 1;
            break;
        }
        ovica_trainer_clear_stats(t); /* also forgets the local worst sample */
        st = ovica_trainer_stats_import(t, buf, S);
        if (st == OVICA_OK) st = ovica_trainer_apply(t, &ss);
        if (st != OVICA_OK) {
            say(log, rank, "step %zu: apply: %s: %s", k, ovica_strerror(st), ovica_error_message());
            pending = 1;
        }
        double td = MPI_Wtime();
        t_acc += tb - ta;
        t_red += tc - tb;
        t_app += td - tc;
        res->objective = ss.objective;

        if (rank == 0 && o->progress_every > 0 && log != NULL &&
            ((k + 1) % o->progress_every == 0 || k + 1 == total)) {
            char g[8];
            double el = MPI_Wtime() - t0;
            fprintf(log, "step %6zu/%zu  obj %.5g  mse %.4g  active %.3g  lr %.3g  upd %.2e  "
                         "monitor %.6g  best %.6g  %-3s  %.2f steps/s\n",
                    k + 1, total, ss.objective, ss.mse, ss.active, ss.lr, ss.update, ss.monitor,
                    ss.best, guard_letters(ss.guard, g), (double)(k + 1 - first_step) / el);
            fflush(log);
        }
        if (o->checkpoint != NULL && o->checkpoint_every > 0 && (k + 1) % o->checkpoint_every == 0) {
            int cst = OVICA_OK;
            if (rank == 0 && !pending && (cst = ovica_checkpoint_save(t, o->checkpoint)) != OVICA_OK)
                say(log, rank, "checkpoint: %s", ovica_error_message());
            MPI_Bcast(&cst, 1, MPI_INT, 0, comm);
            if (cst != OVICA_OK) {
                bad = 1;
                break;
            }
        }
        if (o->verify_every > 0 && (k + 1) % o->verify_every == 0 &&
            !same_hash(ovica_model_basis(ovica_trainer_model(t)), mn, comm)) {
            if (rank == 0)
                say(log, rank, "step %zu: the ranks' bases differ (different floating-point "
                               "results on different nodes? see docs/SCALING.md)", k);
            bad = 1;
            break;
        }
    }
    res->seconds = MPI_Wtime() - t0;
    res->first_step = first_step;
    res->last_step = k;
    if (any_failed(bad || pending, comm)) {
        bad = 1;
        goto done;
    }
    {
        double mine[2] = {t_acc, c_acc}, mx[2] = {0, 0}, sum[2] = {0, 0};
        MPI_Allreduce(mine, mx, 2, MPI_DOUBLE, MPI_MAX, comm);
        MPI_Allreduce(mine, sum, 2, MPI_DOUBLE, MPI_SUM, comm);
        res->t_acc_max = mx[0];
        res->t_acc_mean = sum[0] / P;
        res->cpu_acc_max = mx[1];
        res->cpu_acc_mean = sum[1] / P;
        res->t_reduce = t_red;
        res->t_apply = t_app;
        MPI_Bcast(&res->t_reduce, 1, MPI_DOUBLE, 0, comm);
        MPI_Bcast(&res->t_apply, 1, MPI_DOUBLE, 0, comm);
    }
    const int stopped = k < total;
    res->stopped = stopped;

    /* --- the end: final checkpoint, bases compared, best basis, model ------ */
    if (o->checkpoint != NULL && !stopped) {
        int cst = OVICA_OK;
        if (rank == 0 && (cst = ovica_checkpoint_save(t, o->checkpoint)) != OVICA_OK)
            say(log, rank, "checkpoint: %s", ovica_error_message());
        MPI_Bcast(&cst, 1, MPI_INT, 0, comm);
        bad |= cst != OVICA_OK;
    }
    if (o->keep_best && !stopped) {
        st = ovica_trainer_restore_best(t); /* OVICA_ESTATE: no monitor ran; keep the last */
        if (st != OVICA_OK && st != OVICA_ESTATE) {
            say(log, rank, "restore_best: %s", ovica_error_message());
            bad = 1;
        }
    }
    if (any_failed(bad, comm)) goto done;
    ovica_model_get_basis(ovica_trainer_model(t), res->A, m, n);
    /* every rank's final basis, byte for byte, at rank 0 */
    if (rank == 0) all = malloc((size_t)P * mn * sizeof(double));
    int have = rank != 0 || all != NULL;
    if (any_failed(!have, comm)) {
        say(log, rank, "out of memory for the gathered bases");
        bad = 1;
        goto done;
    }
    MPI_Gather(res->A, (int)mn, MPI_DOUBLE, all, (int)mn, MPI_DOUBLE, 0, comm);
    res->identical = 1;
    if (rank == 0)
        for (int r = 1; r < P; r++)
            if (memcmp(all + (size_t)r * mn, all, mn * sizeof(double)) != 0) res->identical = 0;
    MPI_Bcast(&res->identical, 1, MPI_INT, 0, comm);
    if (!res->identical) {
        if (rank == 0) say(log, rank, "the ranks' final bases differ");
        bad = 1;
    }
    if (!bad && !stopped && o->out != NULL) {
        int sst = OVICA_OK;
        if (rank == 0 && (sst = ovica_model_save(ovica_trainer_model(t), o->out)) != OVICA_OK)
            say(log, rank, "%s: %s", o->out, ovica_error_message());
        MPI_Bcast(&sst, 1, MPI_INT, 0, comm);
        bad |= sst != OVICA_OK;
    }

done:
    free(all);
    free(buf);
    free(tmp);
    free(batch);
    free(first);
    free(shard);
    ovica_trainer_free(t);
    ovica_model_free(model);
    ovica_prior_free(prior);
    if (bad) dtrain_result_free(res);
    return bad;
}

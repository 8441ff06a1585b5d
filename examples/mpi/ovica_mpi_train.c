/* ovica-mpi-train: trains one libovica model over the ranks of an MPI job,
 * each rank holding a shard of the data (docs/SCALING.md).
 *
 *   mpirun -np 4 -x OPENBLAS_NUM_THREADS=1 ovica-mpi-train --data X.npy --atoms 64 \
 *       --out model.ovm [options]
 *
 * Exit status: 0 success, 1 failure, 2 usage error. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>
#include <ovica.h>

#include "dtrain.h"

static const char usage[] =
    "usage: ovica-mpi-train --data X.npy --atoms N [--out MODEL] [options]\n"
    "       ovica-mpi-train --data X.npy --resume CHECKPOINT [--out MODEL] [options]\n"
    "model (new runs): --prior laplace|exponential (exponential) --scale B (1) --sigma S (0.05)\n"
    "                  --rule NAME (auto)\n"
    "training:  --steps K (300; with --resume: the new total)  --batch B (0: all rows)\n"
    "           --lr R  --solver-tol T  --solver-iter K  --seed S (1)\n"
    "           --monitor-rows M (2048; 0: none)  --monitor-every K  --keep best|final (best)\n"
    "parallel:  --reduce tree|root|allreduce (tree)  --verify-every K (10)\n"
    "files:     --checkpoint FILE  --checkpoint-every K  --resume FILE  --stop-after K\n"
    "output:    --progress K (every K steps; default a tenth)  --quiet\n"
    "       ovica-mpi-train --bench-reduce LEN   time the sum of LEN doubles over the ranks\n";

static int parse_size(const char *s, size_t *out)
{
    char *end = NULL;
    errno = 0;
    if (s == NULL || *s == '\0' || *s == '-') return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > SIZE_MAX) return -1;
    *out = (size_t)v;
    return 0;
}

static int parse_double(const char *s, double *out)
{
    char *end = NULL;
    errno = 0;
    if (s == NULL || *s == '\0') return -1;
    double v = strtod(s, &end);
    if (errno != 0 || *end != '\0') return -1;
    *out = v;
    return 0;
}

/* 0 ok, 2 usage error (message printed by rank 0). */
static int parse_args(int argc, char **argv, dtrain_opts *o, int *quiet, int *progress_set,
                      int rank)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        size_t z = 0;
        double d = 0.0;
        int ok = 1, used = 1;
        if (strcmp(a, "--quiet") == 0) { *quiet = 1; used = 0; }
        else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            if (rank == 0) fputs(usage, stdout);
            return 3;
        }
        else if (v == NULL) ok = 0;
        else if (strcmp(a, "--data") == 0) o->data = v;
        else if (strcmp(a, "--out") == 0) o->out = v;
        else if (strcmp(a, "--prior") == 0)
            ok = strcmp(v, "laplace") == 0 || strcmp(v, "exponential") == 0, o->prior = v;
        else if (strcmp(a, "--rule") == 0) ok = ovica_rule_type_find(v) != NULL, o->rule = v;
        else if (strcmp(a, "--checkpoint") == 0) o->checkpoint = v;
        else if (strcmp(a, "--resume") == 0) o->resume = v;
        else if (strcmp(a, "--keep") == 0)
            ok = strcmp(v, "best") == 0 || strcmp(v, "final") == 0, o->keep_best = strcmp(v, "best") == 0;
        else if (strcmp(a, "--reduce") == 0) {
            if (strcmp(v, "tree") == 0) o->reduce = DTRAIN_REDUCE_TREE;
            else if (strcmp(v, "root") == 0) o->reduce = DTRAIN_REDUCE_ROOT;
            else if (strcmp(v, "allreduce") == 0) o->reduce = DTRAIN_REDUCE_ALLREDUCE;
            else ok = 0;
        }
        else if (strcmp(a, "--scale") == 0 || strcmp(a, "--sigma") == 0 || strcmp(a, "--lr") == 0 ||
                 strcmp(a, "--solver-tol") == 0 || strcmp(a, "--solver-iter") == 0) {
            ok = parse_double(v, &d) == 0 && d > 0.0;
            if (strcmp(a, "--scale") == 0) o->scale = d;
            else if (strcmp(a, "--sigma") == 0) o->sigma = d;
            else if (strcmp(a, "--lr") == 0) o->lr = d;
            else if (strcmp(a, "--solver-tol") == 0) o->solver_tol = d;
            else o->solver_iter = d;
        } else if (parse_size(v, &z) == 0 && strcmp(a, "--atoms") == 0) ok = z > 0, o->atoms = z;
        else if (strcmp(a, "--atoms") == 0) ok = 0;
        else if (strcmp(a, "--steps") == 0) ok = parse_size(v, &o->steps) == 0 && o->steps > 0;
        else if (strcmp(a, "--batch") == 0) ok = parse_size(v, &o->batch) == 0;
        else if (strcmp(a, "--seed") == 0) ok = parse_size(v, &z) == 0, o->seed = (uint64_t)z;
        else if (strcmp(a, "--monitor-rows") == 0) ok = parse_size(v, &o->monitor_rows) == 0;
        else if (strcmp(a, "--monitor-every") == 0) ok = parse_size(v, &o->monitor_every) == 0;
        else if (strcmp(a, "--checkpoint-every") == 0) ok = parse_size(v, &o->checkpoint_every) == 0;
        else if (strcmp(a, "--stop-after") == 0) ok = parse_size(v, &o->stop_after) == 0;
        else if (strcmp(a, "--verify-every") == 0) ok = parse_size(v, &o->verify_every) == 0;
        else if (strcmp(a, "--progress") == 0) ok = parse_size(v, &o->progress_every) == 0, *progress_set = 1;
        else {
            if (rank == 0) fprintf(stderr, "ovica-mpi-train: unknown option '%s'\n%s", a, usage);
            return 2;
        }
        if (!ok) {
            if (rank == 0)
                fprintf(stderr, "ovica-mpi-train: %s: %s\n%s", a,
                        v ? "invalid value" : "missing value", usage);
            return 2;
        }
        i += used;
    }
    if (o->data == NULL || (o->resume == NULL && o->atoms == 0)) {
        if (rank == 0) fprintf(stderr, "ovica-mpi-train: --data and --atoms (or --resume) are required\n%s", usage);
        return 2;
    }
    return 0;
}

/* --bench-reduce LEN: the cost of summing LEN doubles over the ranks, per
 * reduction mode (median of 25 calls after 5 warm-up calls, from a barrier). */
static int bench_reduce(const char *len_s, int rank, int P)
{
    size_t len = 0;
    if (parse_size(len_s, &len) != 0 || len == 0) {
        if (rank == 0) fprintf(stderr, "ovica-mpi-train: --bench-reduce: invalid length\n");
        return 2;
    }
    double *buf = malloc(len * sizeof(double)), *tmp = malloc(len * sizeof(double));
    if (!buf || !tmp) return 1;
    const char *names[3] = {"tree", "root", "allreduce"};
    for (int mode = 0; mode < 3; mode++) {
        double t[25];
        for (int i = 0; i < 30; i++) {
            for (size_t j = 0; j < len; j++) buf[j] = (double)(rank + 1) * 1e-3 * (double)(j % 97);
            MPI_Barrier(MPI_COMM_WORLD);
            double t0 = MPI_Wtime();
            dtrain_reduce(buf, tmp, len, mode, MPI_COMM_WORLD);
            double dt = MPI_Wtime() - t0, mx = 0.0;
            MPI_Allreduce(&dt, &mx, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
            if (i >= 5) t[i - 5] = mx;
        }
        for (int i = 1; i < 25; i++) /* insertion sort for the median */
            for (int j = i; j > 0 && t[j] < t[j - 1]; j--) {
                double x = t[j]; t[j] = t[j - 1]; t[j - 1] = x;
            }
        if (rank == 0)
            printf("bench-reduce: %d ranks, %zu doubles (%.1f KiB), %-9s: %.3f ms (median; "
                   "fastest %.3f)\n", P, len, (double)len * 8.0 / 1024.0, names[mode],
                   t[12] * 1e3, t[0] * 1e3);
    }
    free(buf);
    free(tmp);
    return 0;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, P;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &P);
    if (argc == 3 && strcmp(argv[1], "--bench-reduce") == 0) {
        int brc = bench_reduce(argv[2], rank, P);
        MPI_Finalize();
        return brc;
    }
    dtrain_opts o;
    dtrain_opts_init(&o);
    int quiet = 0, progress_set = 0;
    int rc = parse_args(argc, argv, &o, &quiet, &progress_set, rank);
    if (rc != 0) {
        MPI_Finalize();
        return rc == 3 ? 0 : rc;
    }
    if (!progress_set) o.progress_every = quiet ? 0 : (o.steps >= 10 ? o.steps / 10 : 1);
    if (quiet) o.progress_every = 0;
    if (rank == 0 && !quiet && getenv("OPENBLAS_NUM_THREADS") == NULL)
        fprintf(stderr, "ovica-mpi-train: OPENBLAS_NUM_THREADS is not set: OpenBLAS threads of "
                        "co-located ranks compete for the cores (mpirun -x OPENBLAS_NUM_THREADS=1)\n");

    dtrain_result res;
    rc = dtrain_run(&o, MPI_COMM_WORLD, &res, stderr);
    if (rc == 0 && rank == 0 && !quiet) {
        size_t steps = res.last_step - res.first_step;
        double per = steps ? 1e3 / (double)steps : 0.0;
        fprintf(stderr,
                "dtrain: %zu steps (%zu..%zu) on %d ranks in %.2f s: %.3f steps/s; per step: "
                "accumulate %.2f ms (max over ranks; mean %.2f; CPU %.2f), reduce %.2f ms "
                "(incl. waiting), apply %.2f ms; %zu doubles summed\n",
                steps, res.first_step, res.last_step, P, res.seconds,
                res.seconds > 0 ? (double)steps / res.seconds : 0.0, res.t_acc_max * per,
                res.t_acc_mean * per, res.cpu_acc_mean * per, res.t_reduce * per,
                res.t_apply * per, res.stats_len);
        fprintf(stderr, "dtrain: all %d ranks hold bit-identical bases", P);
        if (res.stopped)
            fprintf(stderr, "; stopped before step %zu as asked (only checkpoints written)",
                    res.last_step);
        else if (o.out != NULL)
            fprintf(stderr, "; model: %s", o.out);
        if (o.checkpoint != NULL) fprintf(stderr, "; checkpoint: %s", o.checkpoint);
        fputc('\n', stderr);
    }
    dtrain_result_free(&res);
    MPI_Finalize();
    return rc ? 1 : 0;
}

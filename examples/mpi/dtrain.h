/* Data-parallel training of one libovica model over the ranks of an MPI
 * communicator (docs/SCALING.md).
 *
 * Every rank holds a shard of the rows of one .npy file, and every step each
 * rank contributes a window of its shard to the global batch:
 *   - shard of rank r (of P): rows [r N / P, (r + 1) N / P) (integer division);
 *   - local batch size b_r = hi_r B / N - lo_r B / N for the shard
 *     [lo_r, hi_r), where B is the global batch (0: all N rows): the shares
 *     of B follow the shards (they add up to B, b_r never exceeds the shard,
 *     b_r is the whole shard when B = N; when B < P some ranks may have
 *     no rows in a step and contribute zeros);
 *   - window of rank r at step k: b_r consecutive rows of its shard starting
 *     at shard row (k b_r) mod (shard size), wrapping around to its start;
 *   - the global batch of step k is the concatenation of the windows in rank
 *     order. With B = N it is the whole file, in file order, for every P.
 * One step: each rank accumulates the statistics of its window
 * (ovica_trainer_accumulate), the statistics are summed over the ranks
 * (see dtrain_reduce), and every rank imports the sum and applies it
 * (ovica_trainer_apply). The update depends only on the sum, so every rank
 * holds the same basis, bit for bit, as long as every rank computes the same
 * floating-point operations (same library and OpenBLAS kernels: see
 * docs/SCALING.md); a hash of the basis is compared across ranks every
 * verify_every steps, and the bases themselves at the end.
 *
 * What makes the ranks agree, besides the summed statistics:
 *   - all trainers are made with the same seed (the random choices of
 *     ovica_trainer_apply(), e.g. the split of duplicate atoms, are the same
 *     everywhere), then each rank's sampler gets its own seed with
 *     ovica_trainer_set_sampler_seed() (independent posterior draws);
 *   - the initial basis is rank 0's, broadcast;
 *   - the monitor batch (best basis, divergence guard) is the same rows of
 *     the file on every rank;
 *   - OVICA_TRAIN_RESEED is 0: re-seeding a dead atom uses the worst sample
 *     of the local batch, which differs between ranks. */
#ifndef OVICA_EXAMPLE_DTRAIN_H
#define OVICA_EXAMPLE_DTRAIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <mpi.h>

/* How the statistics are summed (every mode leaves the same sum on every
 * rank; they differ in the order of the additions and in the cost). */
enum dtrain_reduce_mode {
    /* Binomial tree in a fixed order, written with point-to-point messages:
     * round j adds rank r + 2^j's partial sum to rank r's (r a multiple of
     * 2^(j+1)); then MPI_Bcast of rank 0's sum. The order depends only on P:
     * runs are reproducible whatever the MPI library. Default. */
    DTRAIN_REDUCE_TREE = 0,
    /* MPI_Reduce (MPI_SUM) to rank 0, then MPI_Bcast of its result: the same
     * sum on every rank; the order is the MPI library's choice. */
    DTRAIN_REDUCE_ROOT = 1,
    /* MPI_Allreduce (MPI_SUM) alone: cheapest, but the MPI standard does not
     * promise the same result on every rank (OpenMPI's algorithms give it in
     * practice); the basis-hash check catches a difference. */
    DTRAIN_REDUCE_ALLREDUCE = 2
};

typedef struct dtrain_opts {
    const char *data;        /* .npy file, N x m (required) */
    size_t atoms;            /* n (required unless resuming) */
    const char *prior;       /* "laplace" or "exponential" */
    double scale;            /* prior scale b */
    double sigma;            /* noise level */
    const char *rule;        /* rule name (ovica_rule_type_find) */
    size_t steps;            /* total steps (0: the checkpoint's when resuming, else 300) */
    size_t batch;            /* global batch B (0: all rows) */
    double lr;               /* base learning rate (0: the trainer's default) */
    double solver_tol;       /* MAP tolerance (0: the trainer's default) */
    double solver_iter;      /* MAP iterations (0: the trainer's default) */
    uint64_t seed;           /* trainer seed (the same on every rank) */
    size_t monitor_rows;     /* monitor batch: the first rows of the file (0: no monitor) */
    size_t monitor_every;    /* steps between monitor evaluations (0: the trainer's default) */
    int reduce;              /* enum dtrain_reduce_mode */
    int keep_best;           /* put the best basis back before saving */
    const char *out;         /* model file written by rank 0 at the end, or NULL */
    const char *checkpoint;  /* checkpoint file written by rank 0, or NULL */
    size_t checkpoint_every; /* steps between checkpoints (0: only at the end) */
    const char *resume;      /* checkpoint to resume from, or NULL */
    size_t stop_after;       /* stop once this step index is reached (0: never), as if killed */
    size_t progress_every;   /* rank 0 prints progress every this many steps (0: never) */
    size_t verify_every;     /* basis-hash check every this many steps (0: only at the end) */
} dtrain_opts;

/* Defaults (the ovica program's, see docs/CLI.md). */
void dtrain_opts_init(dtrain_opts *o);

typedef struct dtrain_result {
    size_t m, n;
    size_t first_step, last_step; /* steps [first_step, last_step) were run */
    int stopped;                  /* stopped by stop_after before the planned total */
    double *A;                    /* the final basis (after keep_best), m x n; malloc'ed */
    int identical;                /* 1: every rank's final basis is byte-identical to rank 0's */
    size_t stats_len;             /* doubles summed per step (ovica_trainer_stats_size) */
    double seconds;               /* wall time of the steps (rank 0, from a barrier) */
    double t_acc_max, t_acc_mean; /* seconds in accumulate: max and mean over ranks */
    double cpu_acc_max, cpu_acc_mean; /* CPU seconds of the same (less than the wall time
                                         when other work holds the cores) */
    double t_reduce, t_apply;     /* seconds in the reduction (incl. waiting) and in apply, rank 0 */
    double objective;             /* last step's mean objective */
} dtrain_result;

/* Trains on every rank of comm (a collective call). Progress and errors go
 * to log (rank 0's progress; any rank's error, prefixed with its rank).
 * Returns 0 on success on every rank, or non-zero on every rank. res->A is
 * freed by dtrain_result_free(). */
int dtrain_run(const dtrain_opts *o, MPI_Comm comm, dtrain_result *res, FILE *log);
void dtrain_result_free(dtrain_result *res);

/* Sums buf (len doubles) over the ranks of comm; every rank ends with the
 * same sum (bit for bit for TREE and ROOT). tmp: len doubles of work (TREE).
 * Returns an MPI error code. */
int dtrain_reduce(double *buf, double *tmp, size_t len, int mode, MPI_Comm comm);

/* The window of rank r (of P) at step k: *start (a row of the file) and
 * *count rows; the window may wrap: rows past the shard's end continue at
 * its first row (*shard_lo, *shard_n describe the shard). */
void dtrain_window(size_t N, size_t B, int P, int r, size_t k, size_t *shard_lo, size_t *shard_n,
                   size_t *start, size_t *count);

#endif

/*
 * Where the batches of a training loop come from (ovica train, demo,
 * separate). The batch of a step depends only on the step's index, so a
 * resumed run reads the same batches. Three kinds:
 *
 *   all      every step uses all the N rows, held in memory (X);
 *   cycle    N x m rows in memory cut into floor(N / B) fixed batches of B
 *            contiguous rows, step k takes batch k mod floor(N / B) (the
 *            rows are in the order the caller wants, e.g. already shuffled;
 *            the last N mod B rows are never used);
 *   shuffle  batches of B < N rows read from an opened .npy file
 *            (ovica_npy_read_rows: memory-mapped, converted to double, only
 *            the batch in memory; once step k's rows are read, step
 *            k + 1's are announced with ovica_npy_prefetch_rows so that the
 *            disk reads them while step k trains) or copied from X: the first N rows are cut
 *            into blocks of `block` contiguous rows, every pass over them
 *            visits the blocks in a random order of its own (seeded by the
 *            seed and the pass), and step k takes the rows [k B, (k + 1) B)
 *            of the sequence of passes.
 */
#ifndef OVICA_CLI_BATCHES_H
#define OVICA_CLI_BATCHES_H

#include <stddef.h>
#include <stdint.h>

#include <ovica.h>

typedef struct {
    int kind;             /* CLI_BATCHES_ALL, _CYCLE or _SHUFFLE */
    const double *X;      /* rows in memory, or NULL (shuffle from file) */
    ovica_npy_file *file; /* shuffle: else batches read from here */
    size_t N, m, B;
    /* shuffle */
    size_t block, nblocks;
    uint64_t seed;
    size_t pass;          /* pass whose order is in perm/start (SIZE_MAX: none) */
    size_t *perm;         /* blocks in the pass's order */
    size_t *start;        /* start[j]: offset in the pass of the j-th block visited;
                             start[nblocks] = N */
    double *buf;          /* B x m */
} cli_batches;

enum { CLI_BATCHES_ALL = 0, CLI_BATCHES_CYCLE = 1, CLI_BATCHES_SHUFFLE = 2 };

/* Every step uses X (N x m) whole. */
void cli_batches_all(cli_batches *b, const double *X, size_t N, size_t m);

/* Fixed batches of B rows of X (N x m, 1 <= B <= N), cycled. */
void cli_batches_cycle(cli_batches *b, const double *X, size_t N, size_t m, size_t B);

/* Shuffled blocks of `block` rows (clamped to [1, N]) of `file`, or of X
 * (N x m) when file is NULL; B < N. OVICA_OK or OVICA_ENOMEM. */
int cli_batches_shuffle(cli_batches *b, ovica_npy_file *file, const double *X, size_t N,
                        size_t m, size_t B, size_t block, uint64_t seed);

/* The rows of step k: *out (valid until the next call) and *rows of them.
 * A libovica status (a file that cannot be read). */
int cli_batches_get(cli_batches *b, size_t k, const double **out, size_t *rows);

/* The row of the data (file or X) that row i of step k's batch is, or
 * SIZE_MAX if it cannot be told. */
size_t cli_batches_row(cli_batches *b, size_t k, size_t i);

/* Releases the buffers (not X, not the file). */
void cli_batches_free(cli_batches *b);

#endif /* OVICA_CLI_BATCHES_H */

/* The batch sources of the training loops (see batches.h). */
#include "batches.h"

#include <stdlib.h>
#include <string.h>

void cli_batches_all(cli_batches *b, const double *X, size_t N, size_t m)
{
    memset(b, 0, sizeof *b);
    b->kind = CLI_BATCHES_ALL;
    b->X = X;
    b->N = b->B = N;
    b->m = m;
}

void cli_batches_cycle(cli_batches *b, const double *X, size_t N, size_t m, size_t B)
{
    memset(b, 0, sizeof *b);
    b->kind = CLI_BATCHES_CYCLE;
    b->X = X;
    b->N = N;
    b->m = m;
    b->B = B < 1 ? 1 : B > N ? N : B;
    b->nblocks = N / b->B;
}

void cli_batches_free(cli_batches *b)
{
    free(b->perm);
    free(b->start);
    free(b->buf);
    b->perm = b->start = NULL;
    b->buf = NULL;
}

int cli_batches_shuffle(cli_batches *b, ovica_npy_file *file, const double *X, size_t N,
                        size_t m, size_t B, size_t block, uint64_t seed)
{
    memset(b, 0, sizeof *b);
    b->kind = CLI_BATCHES_SHUFFLE;
    b->file = file;
    b->X = X;
    b->N = N;
    b->m = m;
    b->B = B;
    b->block = block < 1 ? 1 : block > N ? N : block;
    b->nblocks = (N + b->block - 1) / b->block;
    b->seed = seed;
    b->pass = SIZE_MAX;
    b->perm = malloc(b->nblocks * sizeof *b->perm);
    b->start = malloc((b->nblocks + 1) * sizeof *b->start);
    b->buf = malloc(B * m * sizeof *b->buf);
    if (b->perm == NULL || b->start == NULL || b->buf == NULL) {
        cli_batches_free(b);
        return OVICA_ENOMEM;
    }
    return OVICA_OK;
}

/* The order of the blocks in pass `pass` (Fisher-Yates with the library's
 * generator, seeded by the seed and the pass). */
static int shuffle_order(cli_batches *b, size_t pass)
{
    if (b->pass == pass) return OVICA_OK;
    ovica_rng *r = NULL;
    int st = ovica_rng_new(&r, (b->seed ^ 0x9E3779B97F4A7C15ULL) +
                                   0xD1B54A32D192ED03ULL * (uint64_t)pass);
    if (st) return st;
    size_t nb = b->nblocks;
    for (size_t i = 0; i < nb; i++) b->perm[i] = i;
    for (size_t i = nb - 1; i > 0; i--) {
        size_t j = (size_t)(ovica_rng_uniform(r) * (double)(i + 1));
        if (j > i) j = i;
        size_t t = b->perm[i];
        b->perm[i] = b->perm[j];
        b->perm[j] = t;
    }
    ovica_rng_free(r);
    size_t off = 0;
    for (size_t i = 0; i < nb; i++) {
        b->start[i] = off;
        size_t lo = b->perm[i] * b->block, hi = lo + b->block < b->N ? lo + b->block : b->N;
        off += hi - lo;
    }
    b->start[nb] = off; /* = N */
    b->pass = pass;
    return OVICA_OK;
}

/* The visited block of the current pass holding offset off:
 * start[j] <= off < start[j + 1]. */
static size_t shuffle_block_at(const cli_batches *b, size_t off)
{
    size_t lo = 0, hi = b->nblocks;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (b->start[mid] <= off) lo = mid;
        else hi = mid;
    }
    return lo;
}

/* The rows of step k, block by block: read into b->buf, or (prefetch)
 * only announced to the system (ovica_npy_prefetch_rows: the kernel reads
 * them from the disk while the current step trains). */
static int shuffle_walk(cli_batches *b, size_t k, int prefetch)
{
    /* position in the sequence of passes (k <= 1e9 steps and B <= 1e9 rows,
     * the options' bounds: k B fits in 64 bits) */
    uint64_t pos = (uint64_t)k * (uint64_t)b->B;
    size_t pass = (size_t)(pos / b->N), off = (size_t)(pos % b->N);
    size_t filled = 0;
    while (filled < b->B) {
        int st = shuffle_order(b, pass);
        if (st) return st;
        size_t j = shuffle_block_at(b, off);
        size_t row0 = b->perm[j] * b->block + (off - b->start[j]);
        size_t avail = b->start[j + 1] - off, want = b->B - filled;
        size_t n = avail < want ? avail : want;
        if (prefetch)
            st = ovica_npy_prefetch_rows(b->file, row0, row0 + n);
        else if (b->X != NULL)
            memcpy(b->buf + filled * b->m, b->X + row0 * b->m, n * b->m * sizeof *b->buf);
        else
            st = ovica_npy_read_rows(b->file, row0, row0 + n, b->buf + filled * b->m, b->m);
        if (st != OVICA_OK) return st;
        filled += n;
        off += n;
        if (off == b->N) {
            off = 0;
            pass++;
        }
    }
    return OVICA_OK;
}

/* Step k's rows into b->buf; from a file, step k + 1's are then asked for
 * ahead. */
static int shuffle_get(cli_batches *b, size_t k)
{
    int st = shuffle_walk(b, k, 0);
    if (st == OVICA_OK && b->file != NULL && b->X == NULL)
        st = shuffle_walk(b, k + 1, 1);
    return st;
}

int cli_batches_get(cli_batches *b, size_t k, const double **out, size_t *rows)
{
    if (b->kind == CLI_BATCHES_ALL) {
        *out = b->X;
        *rows = b->N;
        return OVICA_OK;
    }
    if (b->kind == CLI_BATCHES_CYCLE) {
        *out = b->X + (k % b->nblocks) * b->B * b->m;
        *rows = b->B;
        return OVICA_OK;
    }
    int st = shuffle_get(b, k);
    if (st != OVICA_OK) return st;
    *out = b->buf;
    *rows = b->B;
    return OVICA_OK;
}

size_t cli_batches_row(cli_batches *b, size_t k, size_t i)
{
    if (b->kind == CLI_BATCHES_ALL) return i;
    if (b->kind == CLI_BATCHES_CYCLE) return (k % b->nblocks) * b->B + i;
    uint64_t pos = (uint64_t)k * (uint64_t)b->B + (uint64_t)i;
    size_t pass = (size_t)(pos / b->N), off = (size_t)(pos % b->N);
    if (shuffle_order(b, pass) != OVICA_OK) return SIZE_MAX;
    size_t j = shuffle_block_at(b, off);
    return b->perm[j] * b->block + (off - b->start[j]);
}

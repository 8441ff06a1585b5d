/* Streaming a .npy file that is not in memory: how long a training step
 * waits for its rows, with and without ovica_npy_prefetch_rows() (public
 * API and clock timing only).
 *
 *   stream_prefetch [FILE.npy [atoms steps rows block]]
 *
 * With a file: 2048 atoms, 30 steps of 8192 rows in blocks of 512
 * contiguous rows at random places (as `ovica train --batch 8192` reads
 * them). Without one (make bench): a temporary float32 file of 200,000 x
 * 64 rows (256 sparse exponential sources, 3% active) is written to TMPDIR
 * (or /tmp) and removed at the end; 256 atoms, 20 steps of 2048 rows in
 * blocks of 128. Each
 * mode starts with the file evicted from the page cache
 * (posix_fadvise(POSIX_FADV_DONTNEED): clean pages of a file are dropped
 * without privileges), trains a fresh trainer with the defaults (the codes
 * in single precision for a float32 file, as ovica train does), and
 * measures the time spent in ovica_npy_read_rows per step against the time
 * of the steps. With prefetch, step k + 1's blocks are announced right
 * after step k's are read, as ovica train does. A third mode reads the
 * rows once, untimed, before training: the file is then in the page cache
 * and what a read costs is the mapping and the conversion to double, the
 * floor that prefetching can reach. The block positions are the same in
 * all modes. */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench_check.h"

static void evict(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) return;
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    close(fd);
}

int main(int argc, char **argv)
{
    if (argc != 1 && argc != 2 && argc != 6) {
        fprintf(stderr, "usage: stream_prefetch [FILE.npy [atoms steps rows block]]\n");
        return 2;
    }
    char tmp[512] = "";
    const char *path = argv[1];
    size_t n = 2048, steps = 30, B = 8192, block = 512;
    if (argc == 1) { /* a file of our own */
        const size_t Nt = 200000, mt = 64;
        n = 256;
        steps = 20;
        B = 2048;
        block = 128;
        snprintf(tmp, sizeof tmp, "%s/ovica_stream_%ld.npy",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (long)getpid());
        path = tmp;
        double *A = malloc(mt * n * sizeof *A), *S = malloc(Nt * n * sizeof *S);
        double *Xt = malloc(Nt * mt * sizeof *Xt);
        ovica_rng *g = NULL;
        if (!A || !S || !Xt) {
            fprintf(stderr, "stream_prefetch: out of memory\n");
            return 1;
        }
        CK(ovica_rng_new(&g, 3));
        CK(ovica_synth_random_basis(g, A, mt, n));
        CK(ovica_synth_sources(g, OVICA_PRIOR_EXPONENTIAL, 1.0, 0.03, S, Nt, n));
        CK(ovica_synth_mix(g, A, mt, n, S, Nt, 0.01, Xt));
        CK(ovica_npy_write_float32(path, Xt, Nt, mt));
        ovica_rng_free(g);
        free(A);
        free(S);
        free(Xt);
    }
    if (argc == 6) {
        n = strtoul(argv[2], NULL, 10);
        steps = strtoul(argv[3], NULL, 10);
        B = strtoul(argv[4], NULL, 10);
        block = strtoul(argv[5], NULL, 10);
    }
    ovica_npy_file *f = NULL;
    CK(ovica_npy_open(&f, path));
    size_t N = 0, m = 0;
    int dtype = 0;
    CK(ovica_npy_file_shape(f, &N, &m));
    CK(ovica_npy_file_format(f, &dtype, NULL, NULL));
    if (block == 0 || B < block || N < block || n == 0 || steps == 0) {
        fprintf(stderr, "stream_prefetch: need 0 < block <= rows, block <= the file's rows\n");
        return 2;
    }
    const size_t per = B / block; /* blocks per step */
    size_t *at = malloc(steps * per * sizeof *at);
    double *X = malloc(per * block * m * sizeof *X);
    if (!at || !X) {
        fprintf(stderr, "stream_prefetch: out of memory\n");
        return 1;
    }
    ovica_rng *r = NULL;
    CK(ovica_rng_new(&r, 7));
    for (size_t i = 0; i < steps * per; i++)
        at[i] = (size_t)(ovica_rng_uniform(r) * (double)(N / block)) * block;
    printf("%s: %zu x %zu %s; %zu atoms, %zu steps of %zu rows in blocks of %zu, "
           "OPENBLAS_NUM_THREADS=%s\n",
           path, N, m, dtype == OVICA_NPY_FLOAT32 ? "float32" : "float64", n, steps, per * block,
           block, getenv("OPENBLAS_NUM_THREADS") ? getenv("OPENBLAS_NUM_THREADS") : "(unset)");
    printf("%-12s %14s %14s %14s %10s\n", "mode", "read ms/step", "max read ms", "step ms/step",
           "waiting");
    static const char *const modes[] = {"no prefetch", "prefetch", "in memory"};
    for (int mode = 0; mode < 3; mode++) {
        const int prefetch = mode == 1;
        evict(path);
        if (mode == 2)
            for (size_t i = 0; i < steps * per; i++)
                CK(ovica_npy_read_rows(f, at[i], at[i] + block, X, m));
        ovica_prior *p = NULL;
        ovica_model *md = NULL;
        ovica_trainer *t = NULL;
        CK(ovica_prior_exponential_new(&p, 1.0));
        CK(ovica_model_new(&md, m, n, p, 0.05));
        CK(ovica_trainer_new(&t, md, ovica_rule_auto, 1));
        if (dtype == OVICA_NPY_FLOAT32)
            CK(ovica_trainer_set_param(t, OVICA_TRAIN_PRECISION, OVICA_PRECISION_SINGLE));
        double read = 0.0, rmax = 0.0, train = 0.0;
        for (size_t k = 0; k < steps; k++) {
            double t0 = bench_now();
            for (size_t b = 0; b < per; b++)
                CK(ovica_npy_read_rows(f, at[k * per + b], at[k * per + b] + block,
                                       X + b * block * m, m));
            double t1 = bench_now();
            if (prefetch && k + 1 < steps)
                for (size_t b = 0; b < per; b++)
                    CK(ovica_npy_prefetch_rows(f, at[(k + 1) * per + b],
                                               at[(k + 1) * per + b] + block));
            CK(ovica_trainer_step(t, X, per * block, m, NULL));
            double t2 = bench_now();
            read += t1 - t0;
            rmax = t1 - t0 > rmax ? t1 - t0 : rmax;
            train += t2 - t1;
        }
        printf("%-12s %14.2f %14.2f %14.1f %9.1f%%\n", modes[mode],
               1e3 * read / (double)steps, 1e3 * rmax, 1e3 * train / (double)steps,
               100.0 * read / (read + train));
        fflush(stdout);
        ovica_trainer_free(t);
        ovica_model_free(md);
        ovica_prior_free(p);
    }
    ovica_rng_free(r);
    ovica_npy_close(f);
    if (tmp[0] != '\0') unlink(tmp);
    free(at);
    free(X);
    return 0;
}

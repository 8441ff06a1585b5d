/* libFuzzer target: the .npy file readers against the buffer reader. The
 * input is written to a file (in /dev/shm when there is one) and read with
 * ovica_npy_info, ovica_npy_read, ovica_npy_read_into and the opened-file
 * reader (ovica_npy_open + ovica_npy_read_rows: all rows at once, then in
 * two ranges split where the input says); the results must agree with
 * ovica_npy_read_buffer on the same bytes (status and, on success, shape
 * and every bit of the data). Arrays that are read are then
 * written with ovica_npy_write and read back, which must reproduce them
 * bit for bit. Any disagreement aborts. Seeds: tests/corpus/npy_file/. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ovica.h"

#ifndef FUZZ_ENTRY
#define FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif

static char fuzz_dir[64];

static char fuzz_files[2][96];

static void fuzz_cleanup(void)
{
    unlink(fuzz_files[0]);
    unlink(fuzz_files[1]);
    rmdir(fuzz_dir);
}

static const char *fuzz_path(int which)
{
    char (*p)[96] = fuzz_files;
    if (fuzz_dir[0] == '\0') {
        const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(fuzz_dir, sizeof fuzz_dir, "%s/ovica-fuzz-XXXXXX", base);
        if (mkdtemp(fuzz_dir) == NULL) abort();
        snprintf(p[0], sizeof p[0], "%s/in.npy", fuzz_dir);
        snprintf(p[1], sizeof p[1], "%s/out.npy", fuzz_dir);
        atexit(fuzz_cleanup);
    }
    return p[which];
}

int FUZZ_ENTRY(const uint8_t *data, size_t size);

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    static const uint8_t empty[1] = {0};
    const char *in = fuzz_path(0), *out = fuzz_path(1);
    FILE *fp = fopen(in, "wb");
    if (fp == NULL) abort();
    if (size && fwrite(data, 1, size, fp) != size) abort();
    if (fclose(fp) != 0) abort();

    double *b = NULL, *f = NULL;
    size_t br = 0, bc = 0, fr = 0, fc = 0, ir = 0, ic = 0;
    int sb = ovica_npy_read_buffer(size ? (const void *)data : (const void *)empty, size, &b,
                                   &br, &bc);
    int sf = ovica_npy_read(in, &f, &fr, &fc);
    int si = ovica_npy_info(in, &ir, &ic);
    ovica_npy_file *h = NULL;
    int so = ovica_npy_open(&h, in);
    if (sb == OVICA_ENOMEM || sf == OVICA_ENOMEM || si == OVICA_ENOMEM || so == OVICA_ENOMEM)
        goto done;
    if (sb != sf || sb != si || sb != so) abort();
    if (so != OVICA_OK && h != NULL) abort();
    if (so == OVICA_OK) {
        size_t hr = 0, hc = 0;
        if (ovica_npy_file_shape(h, &hr, &hc) != OVICA_OK || hr != br || hc != bc) abort();
        if (br > 0 && bc > 0) {
            double *g = malloc(br * bc * sizeof(double));
            if (g == NULL) goto done;
            if (ovica_npy_read_rows(h, 0, br, g, bc) != OVICA_OK) abort();
            if (memcmp(b, g, br * bc * sizeof(double)) != 0) abort();
            size_t cut = size ? 1 + data[size - 1] % br : 1; /* in [1, br] */
            memset(g, 0, br * bc * sizeof(double));
            if (ovica_npy_read_rows(h, 0, cut, g, bc) != OVICA_OK) abort();
            if (cut < br && ovica_npy_read_rows(h, cut, br, g + cut * bc, bc) != OVICA_OK) abort();
            if (memcmp(b, g, br * bc * sizeof(double)) != 0) abort();
            /* out of range, wrong width: refused */
            if (ovica_npy_read_rows(h, 0, br + 1, g, bc) != OVICA_EINVAL) abort();
            if (ovica_npy_read_rows(h, 0, 1, g, bc + 1) != OVICA_ESIZE) abort();
            free(g);
        }
    }
    if (sb == OVICA_OK) {
        if (br != fr || bc != fc || br != ir || bc != ic) abort();
        if (memcmp(b, f, br * bc * sizeof(double)) != 0) abort();
        /* read_into with the right shape, then a wrong one */
        memset(f, 0, br * bc * sizeof(double));
        if (ovica_npy_read_into(in, f, br, bc) != OVICA_OK) abort();
        if (memcmp(b, f, br * bc * sizeof(double)) != 0) abort();
        if (ovica_npy_read_into(in, f, br + 1, bc) != OVICA_ESIZE) abort();
        /* write and read back: bit-exact */
        if (ovica_npy_write(out, b, br, bc) != OVICA_OK) abort();
        double *c = NULL;
        size_t cr = 0, cc = 0;
        if (ovica_npy_read(out, &c, &cr, &cc) != OVICA_OK) abort();
        if (cr != br || cc != bc || memcmp(b, c, br * bc * sizeof(double)) != 0) abort();
        ovica_free(c);
    } else {
        if (f != NULL || fr != 0 || fc != 0) abort();
    }
done:
    ovica_npy_close(h);
    ovica_free(b);
    ovica_free(f);
    return 0;
}

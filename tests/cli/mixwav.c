/*
 * Helper of tests/cli/separate.sh (libsndfile only; not part of the library
 * or the program).
 *
 *   mixwav mix RATE MATRIX MIX.wav TRUTH.npy REF in-1.wav ... in-K.wav
 *       Resamples the first channel of each input to RATE Hz (windowed sinc),
 *       pads them with zeros to the longest, scales each to unit RMS and
 *       writes it to REF-k.wav (float), mixes them with MATRIX (m x K, rows
 *       separated by ';', entries by ','; e.g. "1,0.5,0;0,0.5,1") into the
 *       m-channel float WAV MIX.wav (peak 0.9), and writes MATRIX to
 *       TRUTH.npy (float64, m x K).
 *   mixwav snr K ref-1.wav ... ref-K.wav est-1.wav ... est-K.wav
 *       Matches the estimates to the references (the permutation with the
 *       best mean SNR; each estimate scaled by least squares) and prints
 *       each source's SNR and the mean ("mean SNR 12.34 dB").
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sndfile.h>

#define MAXK 8

static double *read_mono(const char *path, size_t *len, int *rate)
{
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *sf = sf_open(path, SFM_READ, &info);
    if (sf == NULL) {
        fprintf(stderr, "mixwav: cannot read %s: %s\n", path, sf_strerror(NULL));
        return NULL;
    }
    size_t F = (size_t)info.frames, C = (size_t)info.channels;
    double *all = malloc((F ? F : 1) * C * sizeof *all), *x = malloc((F ? F : 1) * sizeof *x);
    if (all == NULL || x == NULL || sf_readf_double(sf, all, (sf_count_t)F) != (sf_count_t)F) {
        fprintf(stderr, "mixwav: cannot read %s\n", path);
        sf_close(sf);
        free(all);
        free(x);
        return NULL;
    }
    sf_close(sf);
    for (size_t i = 0; i < F; i++) x[i] = all[i * C];
    free(all);
    *len = F;
    *rate = info.samplerate;
    return x;
}

static int write_wav(const char *path, const double *x, size_t frames, int channels, int rate)
{
    SF_INFO info;
    memset(&info, 0, sizeof info);
    info.samplerate = rate;
    info.channels = channels;
    info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
    SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
    if (sf == NULL) {
        fprintf(stderr, "mixwav: cannot write %s: %s\n", path, sf_strerror(NULL));
        return 1;
    }
    sf_command(sf, SFC_SET_ADD_PEAK_CHUNK, NULL, SF_FALSE); /* (a time stamp) */
    int bad = sf_writef_double(sf, x, (sf_count_t)frames) != (sf_count_t)frames;
    if (sf_close(sf) != 0) bad = 1;
    if (bad) fprintf(stderr, "mixwav: cannot write %s\n", path);
    return bad;
}

/* A float64 C-order .npy file, version 1.0, as numpy writes it. */
static int write_npy(const char *path, const double *a, size_t rows, size_t cols)
{
    char hdr[128];
    int n = snprintf(hdr, sizeof hdr, "{'descr': '<f8', 'fortran_order': False, 'shape': (%zu, %zu), }",
                     rows, cols);
    size_t total = 10 + (size_t)n + 1;
    size_t pad = (64 - total % 64) % 64;
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        fprintf(stderr, "mixwav: cannot write %s\n", path);
        return 1;
    }
    unsigned hl = (unsigned)((size_t)n + pad + 1);
    fwrite("\x93NUMPY\x01\x00", 1, 8, f);
    fputc((int)(hl & 0xff), f);
    fputc((int)(hl >> 8), f);
    fwrite(hdr, 1, (size_t)n, f);
    for (size_t i = 0; i < pad; i++) fputc(' ', f);
    fputc('\n', f);
    fwrite(a, sizeof *a, rows * cols, f); /* little-endian hosts (x86, arm) */
    return fclose(f) != 0;
}

/* Windowed-sinc resampling (Blackman window, 12 zero crossings a side,
 * cut-off at 0.95 of the lower Nyquist frequency). */
static double *resample(const double *x, size_t len, int rin, int rout, size_t *outlen)
{
    const double pi = 3.14159265358979323846;
    size_t L = (size_t)floor((double)len * rout / rin);
    double *y = calloc(L ? L : 1, sizeof *y);
    if (y == NULL) return NULL;
    double fc = 0.5 * 0.95 * (rout < rin ? (double)rout / rin : 1.0); /* cycles/input sample */
    double H = 12.0 / (2 * fc);
    for (size_t j = 0; j < L; j++) {
        double t = (double)j * rin / rout, acc = 0;
        long lo = (long)ceil(t - H), hi = (long)floor(t + H);
        for (long i = lo < 0 ? 0 : lo; i <= hi && i < (long)len; i++) {
            double d = t - (double)i, u = d / H;
            double s = fabs(d) < 1e-12 ? 1.0 : sin(2 * pi * fc * d) / (2 * pi * fc * d);
            double w = 0.42 + 0.5 * cos(pi * u) + 0.08 * cos(2 * pi * u);
            acc += x[i] * 2 * fc * s * w;
        }
        y[j] = acc;
    }
    *outlen = L;
    return y;
}

static int cmd_mix(int argc, char **argv)
{
    if (argc < 7) {
        fprintf(stderr, "usage: mixwav mix RATE MATRIX MIX.wav TRUTH.npy REF in-1.wav ...\n");
        return 2;
    }
    int rate = atoi(argv[1]);
    size_t K = (size_t)(argc - 6), m = 1;
    if (K > MAXK || rate <= 0) return 2;
    for (const char *p = argv[2]; *p; p++) m += *p == ';';
    double M[MAXK * MAXK];
    char *spec = argv[2], *end = spec;
    for (size_t r = 0; r < m; r++)
        for (size_t k = 0; k < K; k++) {
            M[r * K + k] = strtod(end, &end);
            if (*end == ',' || *end == ';') end++;
        }
    if (*end != '\0') {
        fprintf(stderr, "mixwav: MATRIX must be %zu x %zu\n", m, K);
        return 2;
    }
    double *src[MAXK];
    size_t len[MAXK], T = 0;
    for (size_t k = 0; k < K; k++) {
        int r;
        size_t l;
        double *x = read_mono(argv[6 + k], &l, &r);
        if (x == NULL) return 1;
        src[k] = resample(x, l, r, rate, &len[k]);
        free(x);
        if (src[k] == NULL) return 1;
        if (len[k] > T) T = len[k];
    }
    double *mix = calloc(T * m, sizeof *mix), *s = calloc(T, sizeof *s);
    char path[4096];
    for (size_t k = 0; k < K; k++) {
        double e = 0;
        for (size_t i = 0; i < len[k]; i++) e += src[k][i] * src[k][i];
        e = sqrt(e / (double)T);
        for (size_t i = 0; i < T; i++) s[i] = i < len[k] ? src[k][i] / e : 0.0;
        snprintf(path, sizeof path, "%s-%zu.wav", argv[5], k + 1);
        if (write_wav(path, s, T, 1, rate)) return 1;
        for (size_t i = 0; i < T; i++)
            for (size_t r = 0; r < m; r++) mix[i * m + r] += M[r * K + k] * s[i];
        free(src[k]);
    }
    double peak = 0;
    for (size_t i = 0; i < T * m; i++) peak = fabs(mix[i]) > peak ? fabs(mix[i]) : peak;
    for (size_t i = 0; i < T * m; i++) mix[i] *= 0.9 / peak;
    if (write_wav(argv[3], mix, T, (int)m, rate) || write_npy(argv[4], M, m, K)) return 1;
    printf("mixwav: %zu sources, %zu channels, %zu samples at %d Hz (%.2f s)\n", K, m, T, rate,
           (double)T / rate);
    free(mix);
    free(s);
    return 0;
}

static double best_mean;
static size_t best_perm[MAXK];

static void search(size_t K, double snr[MAXK][MAXK], size_t *perm, size_t depth, int used,
                   double sum)
{
    if (depth == K) {
        if (sum / (double)K > best_mean) {
            best_mean = sum / (double)K;
            memcpy(best_perm, perm, K * sizeof *perm);
        }
        return;
    }
    for (size_t j = 0; j < K; j++)
        if (!(used & (1 << j))) {
            perm[depth] = j;
            search(K, snr, perm, depth + 1, used | (1 << j), sum + snr[depth][j]);
        }
}

static int cmd_snr(int argc, char **argv)
{
    size_t K = argc > 1 ? (size_t)atoi(argv[1]) : 0;
    if (K < 1 || K > MAXK || (size_t)argc != 2 + 2 * K) {
        fprintf(stderr, "usage: mixwav snr K ref-1.wav ... ref-K.wav est-1.wav ... est-K.wav\n");
        return 2;
    }
    double *ref[MAXK], *est[MAXK], snr[MAXK][MAXK];
    size_t len[2 * MAXK], L = (size_t)-1;
    for (size_t k = 0; k < 2 * K; k++) {
        int r;
        double *x = read_mono(argv[2 + k], &len[k], &r);
        if (x == NULL) return 1;
        if (k < K) ref[k] = x; else est[k - K] = x;
        if (len[k] < L) L = len[k];
    }
    for (size_t i = 0; i < K; i++)
        for (size_t j = 0; j < K; j++) {
            double rr = 0, ee = 0, re = 0;
            for (size_t t = 0; t < L; t++) {
                rr += ref[i][t] * ref[i][t];
                ee += est[j][t] * est[j][t];
                re += ref[i][t] * est[j][t];
            }
            double err = rr - (ee > 0 ? re * re / ee : 0);
            snr[i][j] = 10 * log10(rr / (err > 1e-30 * rr ? err : 1e-30 * rr));
        }
    size_t perm[MAXK];
    best_mean = -INFINITY;
    search(K, snr, perm, 0, 0, 0.0);
    for (size_t i = 0; i < K; i++)
        printf("source %zu <- estimate %zu: SNR %.2f dB\n", i + 1, best_perm[i] + 1,
               snr[i][best_perm[i]]);
    printf("mean SNR %.2f dB\n", best_mean);
    for (size_t k = 0; k < K; k++) {
        free(ref[k]);
        free(est[k]);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "mix") == 0) return cmd_mix(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "snr") == 0) return cmd_snr(argc - 1, argv + 1);
    fprintf(stderr, "usage: mixwav mix ... | mixwav snr ...\n");
    return 2;
}

/* Short-time Fourier transform with FFTW3 (see stft.h). */
#include "stft.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>

size_t cli_stft_rows(const cli_stft *s)
{
    return s->frames * s->bins * 2;
}

void cli_stft_free(cli_stft *s)
{
    if (s->fwd) fftw_destroy_plan((fftw_plan)s->fwd);
    if (s->inv) fftw_destroy_plan((fftw_plan)s->inv);
    fftw_free(s->frame);
    fftw_free(s->spec);
    free(s->w);
    free(s->norm);
    free(s->acc);
    memset(s, 0, sizeof *s);
}

int cli_stft_init(cli_stft *s, size_t win, size_t hop, size_t len, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    if (win < 2 || hop < 1 || hop > win || len < 1) {
        snprintf(err, errlen, "window %zu and hop %zu: need 2 <= window and 1 <= hop <= window",
                 win, hop);
        return -1;
    }
    s->win = win;
    s->hop = hop;
    s->bins = win / 2 + 1;
    s->len = len;
    s->pad = win - hop;
    s->frames = (s->pad + len + hop - 1) / hop;
    s->padded = (s->frames - 1) * hop + win;
    s->w = malloc(win * sizeof *s->w);
    s->norm = calloc(s->padded, sizeof *s->norm);
    s->acc = malloc(s->padded * sizeof *s->acc);
    s->frame = fftw_malloc(win * sizeof *s->frame);
    s->spec = fftw_malloc(2 * s->bins * sizeof *s->spec);
    if (!s->w || !s->norm || !s->acc || !s->frame || !s->spec) {
        cli_stft_free(s);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    const double pi = 3.14159265358979323846;
    for (size_t i = 0; i < win; i++) s->w[i] = 0.5 - 0.5 * cos(2 * pi * (double)i / (double)win);
    /* sum of the squared windows over the frames, then its inverse */
    for (size_t f = 0; f < s->frames; f++)
        for (size_t i = 0; i < win; i++) s->norm[f * hop + i] += s->w[i] * s->w[i];
    double top = 0;
    for (size_t i = 0; i < win; i++) top += s->w[i] * s->w[i];
    for (size_t i = 0; i < s->padded; i++) {
        if (i < s->pad || i >= s->pad + len) {
            s->norm[i] = 0;
            continue;
        }
        if (!(s->norm[i] > 1e-6 * top)) {
            snprintf(err, errlen,
                     "window %zu and hop %zu do not overlap enough to be inverted (hop <= "
                     "window/2 for a Hann window)",
                     win, hop);
            cli_stft_free(s);
            return -1;
        }
        s->norm[i] = 1.0 / s->norm[i];
    }
    s->fwd = fftw_plan_dft_r2c_1d((int)win, s->frame, (fftw_complex *)s->spec, FFTW_ESTIMATE);
    s->inv = fftw_plan_dft_c2r_1d((int)win, (fftw_complex *)s->spec, s->frame, FFTW_ESTIMATE);
    if (!s->fwd || !s->inv) {
        cli_stft_free(s);
        snprintf(err, errlen, "FFTW could not plan a transform of length %zu", win);
        return -1;
    }
    return 0;
}

void cli_stft_analyse(cli_stft *s, const double *x, size_t xstride, double *X, size_t ldx)
{
    const size_t win = s->win, bins = s->bins;
    for (size_t f = 0; f < s->frames; f++) {
        for (size_t i = 0; i < win; i++) {
            size_t p = f * s->hop + i; /* padded index */
            double v = p >= s->pad && p < s->pad + s->len ? x[(p - s->pad) * xstride] : 0.0;
            s->frame[i] = v * s->w[i];
        }
        fftw_execute((fftw_plan)s->fwd);
        double *row = X + f * bins * 2 * ldx;
        for (size_t k = 0; k < bins; k++) {
            row[(2 * k) * ldx] = s->spec[2 * k];
            row[(2 * k + 1) * ldx] = s->spec[2 * k + 1];
        }
    }
}

void cli_stft_synthesise(cli_stft *s, const double *S, size_t lds, double *y, size_t ystride)
{
    const size_t win = s->win, bins = s->bins;
    const double scale = 1.0 / (double)win; /* FFTW's inverse is unnormalised */
    memset(s->acc, 0, s->padded * sizeof *s->acc);
    for (size_t f = 0; f < s->frames; f++) {
        const double *row = S + f * bins * 2 * lds;
        for (size_t k = 0; k < bins; k++) {
            s->spec[2 * k] = row[(2 * k) * lds];
            s->spec[2 * k + 1] = row[(2 * k + 1) * lds];
        }
        /* the imaginary parts of bin 0 and (even win) the last bin are ignored by c2r */
        fftw_execute((fftw_plan)s->inv);
        double *a = s->acc + f * s->hop;
        for (size_t i = 0; i < win; i++) a[i] += s->frame[i] * s->w[i] * scale;
    }
    for (size_t i = 0; i < s->len; i++) y[i * ystride] = s->acc[s->pad + i] * s->norm[s->pad + i];
}

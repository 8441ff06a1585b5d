/*
 * Short-time Fourier transform for `ovica separate` (FFTW3; a dependency of
 * the program only, never of the library).
 *
 * Analysis: the signal (len samples) is preceded by win - hop zeros and
 * followed by enough zeros to fill the last frame; frame f holds the padded
 * samples [f hop, f hop + win) times the window w (periodic Hann), and its
 * real FFT gives bins = win/2 + 1 complex coefficients.
 * Synthesis (weighted overlap-add): each frame's inverse FFT is multiplied
 * by w again, the frames are added, and every sample is divided by
 * sum_f w(n - f hop)^2. Analysis followed by synthesis is the identity (to
 * rounding) for any window length and any hop for which that sum is
 * positive everywhere in the signal (hop <= win/2 for the Hann window).
 *
 * Coefficients are laid out as rows of a matrix: row (f bins + k) 2 + p
 * holds the real (p = 0) or imaginary (p = 1) part of bin k of frame f, one
 * column per channel (analysis) or per source (synthesis). Work memory is
 * allocated once by cli_stft_init; analysis and synthesis allocate nothing.
 */
#ifndef OVICA_CLI_STFT_H
#define OVICA_CLI_STFT_H

#include <stddef.h>

typedef struct cli_stft {
    size_t win, hop, bins;  /* window length, hop, win/2 + 1 */
    size_t len, pad;        /* signal length; leading zeros (win - hop) */
    size_t frames;          /* frames covering the padded signal */
    size_t padded;          /* (frames - 1) hop + win */
    double *w;              /* window, win values */
    double *norm;           /* 1 / sum_f w^2 per padded sample (0 outside the signal) */
    double *frame;          /* win values */
    double *spec;           /* bins complex values (re, im interleaved) */
    double *acc;            /* padded values: overlap-add accumulator */
    void *fwd, *inv;        /* fftw_plan */
} cli_stft;

/* Prepares a transform of signals of `len` samples. Returns 0, or -1 with a
 * message in err (sizes that do not make an invertible transform, or out of
 * memory). */
int cli_stft_init(cli_stft *s, size_t win, size_t hop, size_t len, char *err, size_t errlen);

/* Releases the work memory and plans (also of a failed init). */
void cli_stft_free(cli_stft *s);

/* Rows of the coefficient matrix: frames * bins * 2. */
size_t cli_stft_rows(const cli_stft *s);

/* Transforms x[i * xstride], i < len, into column 0 of X (leading dimension
 * ldx: entry (r, 0) at X[r * ldx]); pass X + c for column c. */
void cli_stft_analyse(cli_stft *s, const double *x, size_t xstride, double *X, size_t ldx);

/* Inverse of cli_stft_analyse: y[i * ystride], i < len, from column 0 of S
 * (leading dimension lds). */
void cli_stft_synthesise(cli_stft *s, const double *S, size_t lds, double *y, size_t ystride);

#endif /* OVICA_CLI_STFT_H */

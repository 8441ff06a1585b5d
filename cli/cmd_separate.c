/* ovica separate: blind separation of K sources from an m-channel recording
 * (libsndfile for the audio, FFTW3 for the STFT: dependencies of the
 * program only, never of the library). */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <sndfile.h>

#include <ovica.h>

#include "cli.h"
#include "stft.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define CMD "separate"

/* Rows inferred per call of the batched solver. */
#define CHUNK 8192

static volatile sig_atomic_t interrupted = 0;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The trainer's seed: the user's seed mixed (splitmix64 finaliser) with a
 * constant of this command. */
static uint64_t mix_seed(uint64_t seed, uint64_t salt)
{
    uint64_t z = seed ^ salt;
    z += 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* ------------------------------------------------------------------------ */
/* Progress (as ovica train's: a bar on a terminal, lines every 5% else)    */

typedef struct {
    int mode; /* 0 nothing, 1 bar, 2 lines */
    size_t total, every;
    double t0, last_draw, best;
} progress;

static void progress_init(progress *p, int quiet, size_t total)
{
    p->mode = quiet ? 0 : isatty(STDERR_FILENO) ? 1 : 2;
    p->total = total;
    p->every = total >= 20 ? total / 20 : 1;
    p->t0 = p->last_draw = now_seconds();
    p->best = NAN;
}

static void progress_step(progress *p, const ovica_step_stats *s, int last)
{
    if (p->mode == 0) return;
    if (isfinite(s->best)) p->best = s->best;
    size_t done = s->step + 1;
    double t = now_seconds();
    char mon[64] = "";
    if (isfinite(p->best)) snprintf(mon, sizeof mon, "  best %.5g", p->best);
    if (p->mode == 1) {
        if (!last && t - p->last_draw < 0.1) return;
        p->last_draw = t;
        const int W = 28;
        int fill = p->total ? (int)((double)W * (double)done / (double)p->total) : W;
        if (fill > W) fill = W;
        char bar[32];
        for (int i = 0; i < W; i++) bar[i] = i < fill ? '#' : '-';
        bar[W] = '\0';
        fprintf(stderr, "\r[%s] %zu/%zu  objective %.5g%s  lr %.3g  %.1f s\033[K", bar, done,
                p->total, s->objective, mon, s->lr, t - p->t0);
        if (last) fputc('\n', stderr);
        fflush(stderr);
    } else if (last || done % p->every == 0 || done == 1) {
        fprintf(stderr, "ovica " CMD ": step %zu/%zu  objective %.6g%s  lr %.4g  %.1f s\n", done,
                p->total, s->objective, mon, s->lr, t - p->t0);
    }
}

/* ------------------------------------------------------------------------ */
/* Audio files                                                              */

/* Reads every frame of an audio file as doubles (frames x channels,
 * interleaved; integer formats scaled to [-1, 1]). */
static int read_audio(const char *path, double **out, size_t *frames, size_t *channels,
                      SF_INFO *info)
{
    memset(info, 0, sizeof *info);
    SNDFILE *sf = sf_open(path, SFM_READ, info);
    if (sf == NULL) return cli_fail(CMD, 0, "cannot read '%s': %s", path, sf_strerror(NULL));
    if (info->channels < 1 || info->frames < 1) {
        sf_close(sf);
        return cli_fail(CMD, 0, "'%s' holds no samples", path);
    }
    size_t F = (size_t)info->frames, C = (size_t)info->channels;
    if (F > SIZE_MAX / 8 / C / 16) {
        sf_close(sf);
        return cli_fail(CMD, 0, "'%s' is too long", path);
    }
    double *buf = malloc(F * C * sizeof *buf);
    if (buf == NULL) {
        sf_close(sf);
        return cli_fail(CMD, 0, "out of memory (%zu frames of %zu channels)", F, C);
    }
    sf_count_t got = sf_readf_double(sf, buf, (sf_count_t)F);
    if (got != (sf_count_t)F) {
        int e = sf_error(sf);
        cli_fail(CMD, 0, "cannot read '%s': %s", path,
                 e ? sf_strerror(sf) : "fewer frames than the header says");
        sf_close(sf);
        free(buf);
        return CLI_EXIT_FAIL;
    }
    sf_close(sf);
    for (size_t i = 0; i < F * C; i++)
        if (!isfinite(buf[i])) {
            free(buf);
            return cli_fail(CMD, 0, "'%s': sample %zu of channel %zu is not finite", path,
                            i / C + 1, i % C + 1);
        }
    *out = buf;
    *frames = F;
    *channels = C;
    return 0;
}

/* Writes a mono file atomically (a temporary next to it, then renamed),
 * scaled so that its peak is 0.99 of full scale. */
static int write_audio(const char *path, double *y, size_t len, int rate, int subtype)
{
    double peak = 0;
    for (size_t i = 0; i < len; i++)
        if (fabs(y[i]) > peak) peak = fabs(y[i]);
    if (peak > 0)
        for (size_t i = 0; i < len; i++) y[i] *= 0.99 / peak;
    char tmp[4200];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path);
    if (n < 0 || (size_t)n >= sizeof tmp) return cli_fail(CMD, 0, "output path too long: '%s'", path);
    int fd = mkstemp(tmp);
    if (fd < 0) return cli_fail(CMD, 0, "cannot create '%s': %s", tmp, strerror(errno));
    (void)fchmod(fd, 0644);
    SF_INFO info;
    memset(&info, 0, sizeof info);
    info.samplerate = rate;
    info.channels = 1;
    info.format = SF_FORMAT_WAV | subtype;
    SNDFILE *sf = sf_open_fd(fd, SFM_WRITE, &info, 1);
    if (sf == NULL) {
        close(fd);
        unlink(tmp);
        return cli_fail(CMD, 0, "cannot write '%s': %s", path, sf_strerror(NULL));
    }
    /* no PEAK chunk: it holds a time stamp, and equal runs give equal files */
    sf_command(sf, SFC_SET_ADD_PEAK_CHUNK, NULL, SF_FALSE);
    sf_count_t put = sf_writef_double(sf, y, (sf_count_t)len);
    int bad = put != (sf_count_t)len;
    if (bad) cli_fail(CMD, 0, "cannot write '%s': %s", path, sf_strerror(sf));
    if (sf_close(sf) != 0 && !bad) {
        bad = 1;
        cli_fail(CMD, 0, "cannot write '%s'", path);
    }
    if (!bad && rename(tmp, path) != 0) {
        bad = 1;
        cli_fail(CMD, 0, "cannot write '%s': %s", path, strerror(errno));
    }
    if (bad) {
        unlink(tmp);
        return CLI_EXIT_FAIL;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* The training samples' gain                                               */

/* E[r^2p] / E[r^p]^2 over r[0 .. N): 1 for constant norms, 2 for the
 * magnitude of a Laplace variable, large for heavy tails. */
static double moment_ratio(const double *r, size_t N, double p)
{
    double m1 = 0, m2 = 0;
    for (size_t i = 0; i < N; i++) {
        double v = pow(r[i], p);
        m1 += v;
        m2 += v * v;
    }
    m1 /= (double)N;
    m2 /= (double)N;
    return m2 / (m1 * m1);
}

/*
 * The exponent p in (0, 1] of the per-sample gain x <- x |x|^(p - 1) that
 * gives the norms of the training samples (r, N values) the moment ratio of
 * data drawn from the model itself (Laplace(1) sources through the initial
 * basis A0, noise sigma; 20000 draws of the library's generator). A gain
 * changes a sample's length, never its direction: under x = A s a scaled
 * sample is A (c s), so the basis to learn is the same, and the sources'
 * heavy tails (speech in an STFT: a few huge coefficients among many tiny
 * ones) are brought to the prior's. Data no heavier-tailed than the model
 * get p = 1 (no gain).
 */
static int choose_gain(const double *A0, size_t m, size_t n, double sigma, uint64_t seed,
                       const double *r, size_t N, double *p_out, double *target_out)
{
    enum { NSIM = 20000 };
    ovica_rng *rng = NULL;
    double *S = malloc((size_t)NSIM * n * sizeof *S), *Xs = malloc((size_t)NSIM * m * sizeof *Xs);
    int st = S && Xs ? ovica_rng_new(&rng, seed) : OVICA_ENOMEM;
    if (st == OVICA_OK) st = ovica_synth_sources(rng, OVICA_PRIOR_LAPLACE, 1.0, 1.0, S, NSIM, n);
    if (st == OVICA_OK) st = ovica_synth_mix(rng, A0, m, n, S, NSIM, sigma, Xs);
    if (st == OVICA_OK) {
        for (size_t i = 0; i < NSIM; i++) { /* the norms, into S's first NSIM entries */
            double e = 0;
            for (size_t c = 0; c < m; c++) e += Xs[i * m + c] * Xs[i * m + c];
            S[i] = sqrt(e);
        }
        double target = moment_ratio(S, NSIM, 1.0), p = 1.0;
        if (moment_ratio(r, N, 1.0) > target) { /* the ratio grows with p: bisection */
            double lo = 0, hi = 1;
            for (int it = 0; it < 40; it++) {
                double mid = 0.5 * (lo + hi);
                if (moment_ratio(r, N, mid) > target) hi = mid; else lo = mid;
            }
            p = 0.5 * (lo + hi);
        }
        *p_out = p;
        *target_out = target;
    }
    ovica_rng_free(rng);
    free(S);
    free(Xs);
    return st;
}

/* Sets the trainer's basis to the centres of the k-lines clustering of the
 * rows of X (N x m; directions up to sign) weighted by w. */
static int init_lines(ovica_trainer *t, const double *X, size_t N, size_t m, size_t n,
                      const double *w, uint64_t seed)
{
    double *T = malloc(N * m * sizeof *T), *C = malloc(m * n * sizeof *C);
    size_t *as = malloc(N * sizeof *as);
    int st = T && C && as ? OVICA_OK : OVICA_ENOMEM;
    if (st == OVICA_OK) {
        for (size_t i = 0; i < N; i++)
            for (size_t c = 0; c < m; c++) T[c * N + i] = X[i * m + c];
        st = ovica_cluster_atoms(T, m, N, w, n, 0, seed, C, as);
    }
    if (st == OVICA_OK) st = ovica_trainer_set_basis(t, C, m, n);
    free(T);
    free(C);
    free(as);
    return st;
}

/* ------------------------------------------------------------------------ */
/* separate                                                                 */

static const char separate_help[] =
    "usage: ovica separate --in MIX.wav --sources K --out DIR [options]\n"
    "\n"
    "Blind source separation: learns a K-atom basis (the mixing matrix, m x K\n"
    "for m channels) from the samples of a multichannel recording by overcomplete\n"
    "ICA (Laplace prior), infers the sources' MAP codes, and writes\n"
    "DIR/source-1.wav ... DIR/source-K.wav (mono, the input's rate, each scaled\n"
    "to a peak of 0.99 of full scale) and DIR/mixing.npy (m x K, unit columns;\n"
    "column k mixes source k). K may exceed m (more sources than channels).\n"
    "By default the samples are the real and imaginary parts of the short-time\n"
    "Fourier transform of the channels (speech is much sparser there); the\n"
    "sources are transformed back by overlap-add. The samples are scaled to a\n"
    "mean absolute value of 1. Learning uses a subsample, each sample given the\n"
    "gain |x|^(P-1) (its length compressed, its direction kept: speech is far\n"
    "heavier-tailed than the Laplace prior), starts from the directions of the\n"
    "samples clustered into K lines, and runs the library's trainer with its\n"
    "defaults (rule auto); the inference is the library's exact batched solver.\n"
    "Progress goes to stderr. Ctrl-C stops learning after the current step; the\n"
    "sources are then separated with the basis kept so far, written, and the\n"
    "exit code is 130.\n"
    "\n"
    "options:\n"
    "  --in MIX.wav       the mixture: WAV (or any format libsndfile reads), any\n"
    "                     rate, 16-bit, 24-bit or float, m >= 1 channels (required)\n"
    "  --sources K        number of sources, >= 1 (required)\n"
    "  --out DIR          output directory, created if missing (required)\n"
    "  --domain NAME      stft or raw (the samples themselves); default stft\n"
    "  --window N         STFT window length (periodic Hann), >= 2; default 512\n"
    "  --hop H            STFT hop, <= window/2; default 128\n"
    "  --sigma S          noise level of the model, relative to the scaled data,\n"
    "                     > 0; default 0.05\n"
    "  --compress P       gain exponent of the training samples, in (0, 1] (1: no\n"
    "                     gain), or 0: chosen so that the samples' lengths have the\n"
    "                     moment ratio E|x|^2/(E|x|)^2 of data drawn from the model;\n"
    "                     default 0.25\n"
    "  --steps K          training steps; default 600 (the trainer's)\n"
    "  --batch B          samples per step; default 2000\n"
    "  --max-samples N    samples drawn (by the seed) from the non-zero ones to learn\n"
    "                     from; default 20000\n"
    "  --keep WHICH       best (the basis with the best monitor objective) or final;\n"
    "                     default best\n"
    "  --seed S           seed of the random generator; default 1\n"
    "  --mixing A.npy     do not learn: separate with this m x K mixing matrix (e.g.\n"
    "                     the true one, to measure what the inference alone reaches)\n"
    "  --quiet            no progress and no summary\n";

int cmd_separate(int argc, char **argv)
{
    static const char *const domains[] = {"stft", "raw", NULL};
    static const char *const keep_names[] = {"best", "final", NULL};
    const char *in = NULL, *dir = NULL, *mixing = NULL;
    uint64_t K = 0, win = 512, hop = 128, steps = 600, batch = 2000, max_samples = 20000, seed = 1;
    int domain = 0, quiet = 0, keep = 0;
    double sigma = 0.05, compress = 0.25;
    const cli_opt opts[] = {
        {"in", CLI_STRING, &in, 0, 0, 0, NULL},
        {"sources", CLI_U64, &K, 1, 4096, 0, NULL},
        {"out", CLI_STRING, &dir, 0, 0, 0, NULL},
        {"domain", CLI_CHOICE, &domain, 0, 0, 0, domains},
        {"window", CLI_U64, &win, 2, 1 << 20, 0, NULL},
        {"hop", CLI_U64, &hop, 1, 1 << 20, 0, NULL},
        {"sigma", CLI_DOUBLE, &sigma, 0, 1e6, CLI_LO_OPEN, NULL},
        {"steps", CLI_U64, &steps, 1, 1e9, 0, NULL},
        {"batch", CLI_U64, &batch, 1, 1e9, 0, NULL},
        {"max-samples", CLI_U64, &max_samples, 1, 1e9, 0, NULL},
        {"seed", CLI_U64, &seed, 0, 18446744073709551615.0, 0, NULL},
        {"compress", CLI_DOUBLE, &compress, 0, 1, 0, NULL},
        {"keep", CLI_CHOICE, &keep, 0, 0, 0, keep_names},
        {"mixing", CLI_STRING, &mixing, 0, 0, 0, NULL},
        {"quiet", CLI_FLAG, &quiet, 0, 0, 0, NULL},
    };
    int r = cli_options(CMD, separate_help, argc, argv, opts, COUNT(opts), NULL, 0, NULL, NULL);
    if (r >= 0) return r;
    if (in == NULL) return cli_usage(CMD, "--in is required");
    if (K == 0) return cli_usage(CMD, "--sources is required");
    if (dir == NULL) return cli_usage(CMD, "--out is required");
    if (dir[0] == '\0') return cli_usage(CMD, "--out must not be empty");
    if (domain == 0 && hop > win / 2)
        return cli_usage(CMD, "--hop %llu exceeds half the window (%llu): the transform could "
                              "not be inverted", (unsigned long long)hop,
                         (unsigned long long)win);
    char path[4200];
    if (snprintf(path, sizeof path, "%s/source-%llu.wav", dir, (unsigned long long)K) >=
        (int)sizeof path - 16)
        return cli_usage(CMD, "--out is too long");

    const double t_start = now_seconds();
    const size_t n = (size_t)K;
    int code = CLI_EXIT_FAIL, st;
    double *buf = NULL, *X = NULL, *Xt = NULL, *A = NULL, *S = NULL, *y = NULL, *Afile = NULL;
    size_t *idx = NULL;
    ovica_prior *prior = NULL;
    ovica_model *model = NULL;
    ovica_trainer *t = NULL;
    ovica_solver *sv = NULL;
    ovica_rng *rng = NULL;
    cli_stft stft;
    memset(&stft, 0, sizeof stft);
    struct sigaction old_sa;
    int caught = 0;
    SF_INFO info;
    size_t len = 0, m = 0, N = 0;

    if (read_audio(in, &buf, &len, &m, &info)) goto done;
    if (mixing != NULL) {
        size_t am = 0, an = 0;
        if (cli_read_npy(CMD, "the mixing matrix", mixing, &Afile, &am, &an)) goto done;
        if (am != m || an != n) {
            cli_fail(CMD, 0, "the mixing matrix is %zu x %zu; the mixture has %zu channels and "
                             "--sources is %zu", am, an, m, n);
            goto done;
        }
    }
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        cli_fail(CMD, 0, "cannot create the directory '%s': %s", dir, strerror(errno));
        goto done;
    }
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        cli_fail(CMD, 0, "'%s' is not a directory", dir);
        goto done;
    }

    /* The samples: STFT coefficients (real and imaginary parts as separate
     * rows) or the raw frames; N x m. */
    if (domain == 0) {
        char err[200];
        if (cli_stft_init(&stft, (size_t)win, (size_t)hop, len, err, sizeof err)) {
            cli_fail(CMD, 0, "%s", err);
            goto done;
        }
        N = cli_stft_rows(&stft);
        X = N <= SIZE_MAX / 8 / m ? malloc(N * m * sizeof *X) : NULL;
        if (X == NULL) {
            cli_fail(CMD, 0, "out of memory (%zu STFT rows)", N);
            goto done;
        }
        for (size_t c = 0; c < m; c++) cli_stft_analyse(&stft, buf + c, m, X + c, m);
    } else {
        N = len;
        X = buf;
        buf = NULL;
    }

    /* Training samples: a subsample (by the seed) of the non-zero rows. The
     * data are scaled so that the entries of these rows have a mean absolute
     * value of 1 (the maximum-likelihood scale of a Laplace variable), so
     * that the prior's scale 1 and --sigma are relative to the data. */
    idx = malloc(N * sizeof *idx);
    if (idx == NULL) {
        cli_fail(CMD, 0, "out of memory");
        goto done;
    }
    size_t nz = 0;
    for (size_t i = 0; i < N; i++) {
        double e = 0;
        for (size_t c = 0; c < m; c++) e += X[i * m + c] * X[i * m + c];
        if (e > 0) idx[nz++] = i;
    }
    if (nz == 0) {
        cli_fail(CMD, 0, "'%s' is silent: nothing to separate", in);
        goto done;
    }
    st = ovica_rng_new(&rng, mix_seed(seed, 0x73657061726174ULL)); /* "separat" */
    if (st != OVICA_OK) {
        cli_fail(CMD, st, "cannot make the random generator");
        goto done;
    }
    size_t Nt = nz < max_samples ? nz : (size_t)max_samples;
    for (size_t i = 0; i < Nt; i++) { /* partial Fisher-Yates: Nt rows, in random order */
        size_t j = i + (size_t)(ovica_rng_uniform(rng) * (double)(nz - i));
        if (j >= nz) j = nz - 1;
        size_t tmp = idx[i];
        idx[i] = idx[j];
        idx[j] = tmp;
    }
    Xt = malloc(Nt * m * sizeof *Xt);
    if (Xt == NULL) {
        cli_fail(CMD, 0, "out of memory");
        goto done;
    }
    double scale = 0;
    for (size_t i = 0; i < Nt; i++)
        for (size_t c = 0; c < m; c++) {
            Xt[i * m + c] = X[idx[i] * m + c];
            scale += fabs(Xt[i * m + c]);
        }
    scale /= (double)(Nt * m);
    for (size_t i = 0; i < Nt * m; i++) Xt[i] /= scale;
    for (size_t i = 0; i < N * m; i++) X[i] /= scale;

    st = ovica_prior_laplace_new(&prior, 1.0);
    if (st == OVICA_OK) st = ovica_model_new(&model, m, n, prior, sigma);
    if (st != OVICA_OK) {
        cli_fail(CMD, st, "cannot make the model");
        goto done;
    }
    A = malloc(m * n * sizeof *A);
    if (A == NULL) {
        cli_fail(CMD, 0, "out of memory");
        goto done;
    }

    /* Learning: the trainer's defaults (rule auto), fixed batches of the
     * training samples (in random order), cycled; the best basis is kept
     * (--keep). */
    double t_learn = 0, gain = 1, target = NAN;
    size_t done_steps = 0;
    if (Afile != NULL) {
        memcpy(A, Afile, m * n * sizeof *A);
    } else {
        double t0 = now_seconds();
        size_t B = batch < Nt ? (size_t)batch : Nt, nb = Nt / B;
        st = ovica_trainer_new(&t, model, ovica_rule_auto, mix_seed(seed, 0x747261696E6572ULL));
        if (st == OVICA_OK) st = ovica_trainer_set_param(t, OVICA_TRAIN_STEPS, (double)steps);
        if (st == OVICA_OK) st = ovica_trainer_init_basis(t, OVICA_INIT_SPREAD, Xt, Nt, m);
        if (st != OVICA_OK) {
            cli_fail(CMD, st, "cannot set up the trainer");
            goto done;
        }
        /* the gain of the training samples (see choose_gain), then their
         * scale again to a mean absolute value of 1 */
        double *rn = malloc(Nt * sizeof *rn);
        if (rn == NULL) {
            cli_fail(CMD, 0, "out of memory");
            goto done;
        }
        for (size_t i = 0; i < Nt; i++) {
            double e = 0;
            for (size_t c = 0; c < m; c++) e += Xt[i * m + c] * Xt[i * m + c];
            rn[i] = sqrt(e);
        }
        gain = compress;
        if (gain == 0)
            st = choose_gain(ovica_model_basis(ovica_trainer_model(t)), m, n, sigma,
                             mix_seed(seed, 0x6761696EULL), rn, Nt, &gain, &target);
        if (st != OVICA_OK) {
            free(rn);
            cli_fail(CMD, st, "cannot choose the gain");
            goto done;
        }
        double sc = 0;
        for (size_t i = 0; i < Nt; i++) {
            double f = pow(rn[i], gain - 1.0);
            for (size_t c = 0; c < m; c++) {
                Xt[i * m + c] *= f;
                sc += fabs(Xt[i * m + c]);
            }
        }
        sc /= (double)(Nt * m);
        for (size_t i = 0; i < Nt * m; i++) Xt[i] /= sc;
        /* The initial basis: the sign-free directions of the training
         * samples clustered by weighted spherical k-means (k-lines), each
         * sample weighted by its amplitude |x| before the gain. */
        st = init_lines(t, Xt, Nt, m, n, rn, mix_seed(seed, 0x6C696E6573ULL)); /* "lines" */
        free(rn);
        if (st != OVICA_OK) {
            cli_fail(CMD, st, "cannot initialise the basis");
            goto done;
        }
        progress pr;
        progress_init(&pr, quiet, (size_t)steps);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_sigint;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESETHAND;
        interrupted = 0;
        sigaction(SIGINT, &sa, &old_sa);
        caught = 1;
        for (size_t k = 0; k < steps && !interrupted; k++) {
            ovica_step_stats s = OVICA_STEP_STATS_INIT;
            st = ovica_trainer_step(t, Xt + (k % nb) * B * m, B, m, &s);
            if (st != OVICA_OK) {
                if (pr.mode == 1) fputc('\n', stderr);
                cli_fail(CMD, st, "training step %zu failed", k + 1);
                goto done;
            }
            done_steps++;
            progress_step(&pr, &s, k + 1 == steps || interrupted);
        }
        if (interrupted && pr.mode == 1 && done_steps > 0 && done_steps < steps)
            fputc('\n', stderr);
        sigaction(SIGINT, &old_sa, NULL);
        caught = 0;
        if (keep == 0) (void)ovica_trainer_restore_best(t); /* ESTATE: no monitor yet */
        st = ovica_model_get_basis(ovica_trainer_model(t), A, m, n);
        if (st != OVICA_OK) {
            cli_fail(CMD, st, "cannot read the learned basis");
            goto done;
        }
        t_learn = now_seconds() - t0;
    }

    /* Unit columns with a canonical sign (largest entry positive). */
    for (size_t j = 0; j < n; j++) {
        double nrm = 0, big = 0;
        for (size_t c = 0; c < m; c++) {
            double v = A[c * n + j];
            nrm += v * v;
            if (fabs(v) > fabs(big)) big = v;
        }
        nrm = sqrt(nrm);
        if (!(nrm > 0)) {
            cli_fail(CMD, 0, "column %zu of the mixing matrix is zero", j + 1);
            goto done;
        }
        if (big < 0) nrm = -nrm;
        for (size_t c = 0; c < m; c++) A[c * n + j] /= nrm;
    }

    /* Inference: MAP codes of every sample with the library's batched
     * solver (exact active-set for the Laplace prior), CHUNK rows a call. */
    double t1 = now_seconds();
    st = ovica_model_set_basis(model, A, m, n);
    if (st == OVICA_OK) st = ovica_solver_new(&sv, ovica_solver_auto);
    if (st != OVICA_OK) {
        cli_fail(CMD, st, "cannot set up the inference");
        goto done;
    }
    S = N <= SIZE_MAX / 8 / n ? malloc(N * n * sizeof *S) : NULL;
    if (S == NULL) {
        cli_fail(CMD, 0, "out of memory (%zu x %zu codes)", N, n);
        goto done;
    }
    size_t unconverged = 0;
    for (size_t k = 0; k < N; k += CHUNK) {
        size_t b = N - k < CHUNK ? N - k : CHUNK;
        ovica_infer_stats is = OVICA_INFER_STATS_INIT;
        st = ovica_solver_infer(sv, model, X + k * m, b, m, S + k * n, n, &is);
        if (st != OVICA_OK && st != OVICA_NOT_CONVERGED) {
            cli_fail(CMD, st, "inference failed");
            goto done;
        }
        unconverged += b - is.converged;
    }

    /* The sources: inverse STFT of each column of S (or the column itself). */
    y = malloc(len * sizeof *y);
    if (y == NULL) {
        cli_fail(CMD, 0, "out of memory");
        goto done;
    }
    int sub = info.format & SF_FORMAT_SUBMASK;
    if (sub != SF_FORMAT_PCM_16 && sub != SF_FORMAT_PCM_24 && sub != SF_FORMAT_PCM_32 &&
        sub != SF_FORMAT_FLOAT && sub != SF_FORMAT_DOUBLE)
        sub = SF_FORMAT_PCM_16;
    for (size_t j = 0; j < n; j++) {
        if (domain == 0)
            cli_stft_synthesise(&stft, S + j, n, y, 1);
        else
            for (size_t i = 0; i < len; i++) y[i] = S[i * n + j];
        snprintf(path, sizeof path, "%s/source-%zu.wav", dir, j + 1);
        if (write_audio(path, y, len, info.samplerate, sub)) goto done;
    }
    snprintf(path, sizeof path, "%s/mixing.npy", dir);
    if (cli_write_npy(CMD, path, A, m, n)) goto done;
    double t_sep = now_seconds() - t1;

    if (!quiet) {
        fprintf(stderr,
                "ovica " CMD ": %zu sources from %zu channels (%zu frames at %d Hz; %s: %zu "
                "samples, %zu to learn from)",
                n, m, len, info.samplerate, domain == 0 ? "STFT" : "raw", N, Nt);
        if (Afile == NULL)
            fprintf(stderr, "; gain exponent %.3g", gain);
        if (Afile == NULL && compress == 0)
            fprintf(stderr, " (auto: the model's moment ratio %.3g)", target);
        if (Afile == NULL)
            fprintf(stderr, "; learned in %zu steps, %.1f s", done_steps, t_learn);
        else
            fprintf(stderr, "; mixing matrix from %s", mixing);
        fprintf(stderr, "; separated in %.1f s (%zu samples unconverged); total %.1f s\n", t_sep,
                unconverged, now_seconds() - t_start);
        fprintf(stderr, "ovica " CMD ": wrote %s/source-1.wav ... source-%zu.wav and %s\n", dir, n,
                path);
    }
    code = interrupted ? CLI_EXIT_INTERRUPTED : CLI_EXIT_OK;
done:
    if (caught) sigaction(SIGINT, &old_sa, NULL);
    cli_stft_free(&stft);
    ovica_solver_free(sv);
    ovica_trainer_free(t);
    ovica_model_free(model);
    ovica_prior_free(prior);
    ovica_rng_free(rng);
    ovica_free(Afile);
    free(buf);
    free(X);
    free(Xt);
    free(A);
    free(S);
    free(y);
    free(idx);
    return code;
}

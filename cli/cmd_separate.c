/* ovica separate: blind separation of K sources from an m-channel recording
 * (libsndfile for the audio, FFTW3 for the STFT: dependencies of the
 * program only, never of the library). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <sndfile.h>

#include <ovica.h>

#include "batches.h"
#include "cli.h"
#include "progress.h"
#include "signals.h"
#include "stft.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define CMD "separate"

/* Rows inferred per call of the batched solver. */
#define CHUNK 8192

/* Constants mixed with the seed (cli_mix_seed) for each use of it. */
#define SALT_SEPARATE 0x73657061726174ULL /* "separat": the training subsample */
#define SALT_GAIN 0x6761696EULL           /* "gain": choose_gain's draws */
#define SALT_LINES 0x6C696E6573ULL        /* "lines": the k-lines clustering */

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
        st = ovica_atoms_cluster(T, m, N, w, n, 0, seed, C, as);
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
    "Progress goes to stderr (as train's). Ctrl-C or SIGTERM stops learning after\n"
    "the current step; the sources are then separated with the basis kept so\n"
    "far, written, and the exit code is 130 (SIGINT) or 143 (SIGTERM).\n"
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
    "  --steps K          training steps, >= 1; default: the trainer's (650)\n"
    "  --batch B          samples per step; default 2000\n"
    "  --max-samples N    samples drawn (by the seed) from the non-zero ones to learn\n"
    "                     from; default 20000\n"
    "  --keep WHICH       final, or best (the basis with the best monitor objective;\n"
    "                     the monitor does not run on the sparse route); default final\n"
    "  --seed S           seed of the random generator; default 1\n"
    "  --mixing A.npy     do not learn: separate with this m x K mixing matrix (e.g.\n"
    "                     the true one, to measure what the inference alone reaches)\n"
    "  --quiet            no progress and no summary\n";

/* The options of ovica separate. */
typedef struct {
    const char *in, *dir, *mixing;
    uint64_t K, win, hop, steps, batch, max_samples, seed;
    int domain, quiet, keep; /* keep: 0 best, 1 final */
    int steps_given;         /* else the trainer's default */
    double sigma, compress;
} sep_opts;

/* Parses separate's options into o and checks those that go together.
 * Returns -1 to go on, else the exit code (0 after --help). */
static int sep_parse(int argc, char **argv, sep_opts *o)
{
    static const char *const domains[] = {"stft", "raw", NULL};
    static const char *const keep_names[] = {"best", "final", NULL};
    /* steps: the trainer's unless --steps (steps_given); keep final, as train */
    *o = (sep_opts){.win = 512, .hop = 128, .steps = 0, .batch = 2000, .max_samples = 20000,
                    .seed = 1, .keep = 1, .sigma = 0.05, .compress = 0.25};
    const cli_opt opts[] = {
        {"in", CLI_STRING, &o->in, 0, 0, 0, NULL},
        {"sources", CLI_U64, &o->K, 1, 4096, 0, NULL},
        {"out", CLI_STRING, &o->dir, 0, 0, 0, NULL},
        {"domain", CLI_CHOICE, &o->domain, 0, 0, 0, domains},
        {"window", CLI_U64, &o->win, 2, 1 << 20, 0, NULL},
        {"hop", CLI_U64, &o->hop, 1, 1 << 20, 0, NULL},
        {"sigma", CLI_DOUBLE, &o->sigma, 0, 1e6, CLI_LO_OPEN, NULL},
        {"steps", CLI_U64, &o->steps, 1, 1e9, 0, NULL},
        {"batch", CLI_U64, &o->batch, 1, 1e9, 0, NULL},
        {"max-samples", CLI_U64, &o->max_samples, 1, 1e9, 0, NULL},
        {"seed", CLI_U64, &o->seed, 0, 18446744073709551615.0, 0, NULL},
        {"compress", CLI_DOUBLE, &o->compress, 0, 1, 0, NULL},
        {"keep", CLI_CHOICE, &o->keep, 0, 0, 0, keep_names},
        {"mixing", CLI_STRING, &o->mixing, 0, 0, 0, NULL},
        {"quiet", CLI_FLAG, &o->quiet, 0, 0, 0, NULL},
    };
    unsigned char seen[COUNT(opts)];
    int r = cli_options(CMD, separate_help, argc, argv, opts, COUNT(opts), NULL, 0, NULL, seen);
    if (r >= 0) return r;
    for (size_t i = 0; i < COUNT(opts); i++)
        if (seen[i] && strcmp(opts[i].name, "steps") == 0) o->steps_given = 1;
    if (o->in == NULL) return cli_usage(CMD, "--in is required");
    if (o->K == 0) return cli_usage(CMD, "--sources is required");
    if (o->dir == NULL) return cli_usage(CMD, "--out is required");
    if (o->dir[0] == '\0') return cli_usage(CMD, "--out must not be empty");
    if (o->domain == 0 && o->hop > o->win / 2)
        return cli_usage(CMD, "--hop %llu exceeds half the window (%llu): the transform could "
                              "not be inverted", (unsigned long long)o->hop,
                         (unsigned long long)o->win);
    char path[4200];
    if (snprintf(path, sizeof path, "%s/source-%llu.wav", o->dir, (unsigned long long)o->K) >=
        (int)sizeof path - 16)
        return cli_usage(CMD, "--out is too long");
    return -1;
}

/* A separation: its inputs, samples, model and results. */
typedef struct {
    const sep_opts *o;
    size_t m, n;        /* channels, sources */
    SF_INFO info;       /* of the input */
    double *buf;        /* the input, len frames x m channels */
    size_t len;
    double *Afile;      /* --mixing, m x n, or NULL */
    cli_stft stft;
    double *X;          /* the samples, N x m (scaled) */
    size_t N;
    double *Xt;         /* the training samples, Nt x m */
    size_t Nt;
    ovica_prior *prior;
    ovica_model *model;
    ovica_trainer *t;
    double *A;          /* the mixing matrix, m x n */
    double *S;          /* the codes, N x n */
    size_t steps, done_steps, unconverged;
    double gain, target; /* the gain exponent; the model's moment ratio (auto) */
    double t_start, t_learn, t_sep;
} separation;

static void sep_free(separation *s)
{
    cli_stft_free(&s->stft);
    ovica_trainer_free(s->t);
    ovica_model_free(s->model);
    ovica_prior_free(s->prior);
    ovica_free(s->Afile);
    free(s->buf);
    free(s->X);
    free(s->Xt);
    free(s->A);
    free(s->S);
}

/* The mixture, the mixing matrix of --mixing (checked against it) and the
 * output directory (created if missing). 0 or CLI_EXIT_FAIL. */
static int sep_load(separation *s)
{
    const sep_opts *o = s->o;
    if (read_audio(o->in, &s->buf, &s->len, &s->m, &s->info)) return CLI_EXIT_FAIL;
    if (o->mixing != NULL) {
        size_t am = 0, an = 0;
        if (cli_read_npy(CMD, "the mixing matrix", o->mixing, &s->Afile, &am, &an))
            return CLI_EXIT_FAIL;
        if (am != s->m || an != s->n)
            return cli_fail(CMD, 0, "the mixing matrix is %zu x %zu; the mixture has %zu "
                                    "channels and --sources is %zu", am, an, s->m, s->n);
    }
    if (mkdir(o->dir, 0755) != 0 && errno != EEXIST)
        return cli_fail(CMD, 0, "cannot create the directory '%s': %s", o->dir, strerror(errno));
    struct stat sb;
    if (stat(o->dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return cli_fail(CMD, 0, "'%s' is not a directory", o->dir);
    return 0;
}

/* The samples: STFT coefficients (real and imaginary parts as separate
 * rows) or the raw frames; N x m. */
static int sep_samples(separation *s)
{
    const size_t m = s->m;
    if (s->o->domain != 0) {
        s->N = s->len;
        s->X = s->buf;
        s->buf = NULL;
        return 0;
    }
    char err[200];
    if (cli_stft_init(&s->stft, (size_t)s->o->win, (size_t)s->o->hop, s->len, err, sizeof err))
        return cli_fail(CMD, 0, "%s", err);
    s->N = cli_stft_rows(&s->stft);
    s->X = s->N <= SIZE_MAX / 8 / m ? malloc(s->N * m * sizeof *s->X) : NULL;
    if (s->X == NULL) return cli_fail(CMD, 0, "out of memory (%zu STFT rows)", s->N);
    for (size_t c = 0; c < m; c++) cli_stft_analyse(&s->stft, s->buf + c, m, s->X + c, m);
    return 0;
}

/* Training samples: a subsample (by the seed) of the non-zero rows, in
 * random order. The data are scaled so that the entries of these rows have
 * a mean absolute value of 1 (the maximum-likelihood scale of a Laplace
 * variable), so that the prior's scale 1 and --sigma are relative to the
 * data. */
static int sep_training_set(separation *s)
{
    const size_t m = s->m, N = s->N;
    double *X = s->X;
    ovica_rng *rng = NULL;
    size_t *idx = malloc(N * sizeof *idx), nz = 0;
    if (idx == NULL) return cli_fail(CMD, 0, "out of memory");
    for (size_t i = 0; i < N; i++) {
        double e = 0;
        for (size_t c = 0; c < m; c++) e += X[i * m + c] * X[i * m + c];
        if (e > 0) idx[nz++] = i;
    }
    int code = 0;
    int st = nz == 0 ? OVICA_OK : ovica_rng_new(&rng, cli_mix_seed(s->o->seed, SALT_SEPARATE));
    if (nz == 0) code = cli_fail(CMD, 0, "'%s' is silent: nothing to separate", s->o->in);
    else if (st != OVICA_OK) code = cli_fail(CMD, st, "cannot make the random generator");
    const size_t Nt = nz < s->o->max_samples ? nz : (size_t)s->o->max_samples;
    for (size_t i = 0; i < Nt && code == 0; i++) { /* partial Fisher-Yates */
        size_t j = i + (size_t)(ovica_rng_uniform(rng) * (double)(nz - i));
        if (j >= nz) j = nz - 1;
        size_t tmp = idx[i];
        idx[i] = idx[j];
        idx[j] = tmp;
    }
    ovica_rng_free(rng);
    if (code == 0 && (s->Xt = malloc(Nt * m * sizeof *s->Xt)) == NULL)
        code = cli_fail(CMD, 0, "out of memory");
    if (code != 0) {
        free(idx);
        return code;
    }
    double scale = 0;
    for (size_t i = 0; i < Nt; i++)
        for (size_t c = 0; c < m; c++) {
            s->Xt[i * m + c] = X[idx[i] * m + c];
            scale += fabs(s->Xt[i * m + c]);
        }
    free(idx);
    scale /= (double)(Nt * m);
    for (size_t i = 0; i < Nt * m; i++) s->Xt[i] /= scale;
    for (size_t i = 0; i < N * m; i++) X[i] /= scale;
    s->Nt = Nt;
    return 0;
}

/* The model (Laplace prior of scale 1, noise --sigma) and room for its
 * basis. */
static int sep_make_model(separation *s)
{
    int st = ovica_prior_laplace_new(&s->prior, 1.0);
    if (st == OVICA_OK) st = ovica_model_new(&s->model, s->m, s->n, s->prior, s->o->sigma);
    if (st != OVICA_OK) return cli_fail(CMD, st, "cannot make the model");
    s->A = malloc(s->m * s->n * sizeof *s->A);
    if (s->A == NULL) return cli_fail(CMD, 0, "out of memory");
    return 0;
}

/* The trainer (rule auto, the trainer's defaults; --steps overrides its
 * planned steps) with a spread initial basis. */
static int sep_make_trainer(separation *s)
{
    const sep_opts *o = s->o;
    int st = ovica_trainer_new(&s->t, s->model, ovica_rule_auto,
                               cli_mix_seed(o->seed, SALT_TRAINER));
    if (st == OVICA_OK && o->steps_given) {
        s->steps = (size_t)o->steps;
        st = ovica_trainer_set_param(s->t, OVICA_TRAIN_STEPS, (double)s->steps);
    } else if (st == OVICA_OK) {
        double planned = 0;
        st = ovica_trainer_get_param(s->t, OVICA_TRAIN_STEPS, &planned);
        s->steps = (size_t)planned;
    }
    if (st == OVICA_OK) st = ovica_trainer_init_basis(s->t, OVICA_INIT_SPREAD, s->Xt, s->Nt, s->m);
    if (st != OVICA_OK) return cli_fail(CMD, st, "cannot set up the trainer");
    return 0;
}

/* The gain of the training samples (--compress, or chosen by choose_gain
 * when 0: x <- x |x|^(gain - 1), rn holding |x|), then their scale again to
 * a mean absolute value of 1. */
static int sep_compress(separation *s, const double *rn)
{
    const size_t m = s->m, Nt = s->Nt;
    s->gain = s->o->compress;
    s->target = NAN;
    if (s->gain == 0) {
        int st = choose_gain(ovica_model_basis(ovica_trainer_model(s->t)), m, s->n, s->o->sigma,
                             cli_mix_seed(s->o->seed, SALT_GAIN), rn, Nt, &s->gain, &s->target);
        if (st != OVICA_OK) return cli_fail(CMD, st, "cannot choose the gain");
    }
    double sc = 0;
    for (size_t i = 0; i < Nt; i++) {
        double f = pow(rn[i], s->gain - 1.0);
        for (size_t c = 0; c < m; c++) {
            s->Xt[i * m + c] *= f;
            sc += fabs(s->Xt[i * m + c]);
        }
    }
    sc /= (double)(Nt * m);
    for (size_t i = 0; i < Nt * m; i++) s->Xt[i] /= sc;
    return 0;
}

/* The gain, then the initial basis: the sign-free directions of the
 * training samples clustered by weighted spherical k-means (k-lines), each
 * sample weighted by its amplitude |x| before the gain. */
static int sep_prepare(separation *s)
{
    const size_t m = s->m, Nt = s->Nt;
    double *rn = malloc(Nt * sizeof *rn);
    if (rn == NULL) return cli_fail(CMD, 0, "out of memory");
    for (size_t i = 0; i < Nt; i++) {
        double e = 0;
        for (size_t c = 0; c < m; c++) e += s->Xt[i * m + c] * s->Xt[i * m + c];
        rn[i] = sqrt(e);
    }
    int code = sep_compress(s, rn);
    if (code == 0) {
        int st = init_lines(s->t, s->Xt, Nt, m, s->n, rn, cli_mix_seed(s->o->seed, SALT_LINES));
        if (st != OVICA_OK) code = cli_fail(CMD, st, "cannot initialise the basis");
    }
    free(rn);
    return code;
}

/* The loop: fixed batches of the training samples (in random order),
 * cycled, until the planned steps or a signal. */
static int sep_train_loop(separation *s)
{
    const size_t B = s->o->batch < s->Nt ? (size_t)s->o->batch : s->Nt;
    cli_batches src;
    cli_batches_cycle(&src, s->Xt, s->Nt, s->m, B);
    cli_progress pr;
    cli_progress_init(&pr, s->o->quiet, s->steps);
    cli_signals sig;
    cli_signals_catch(&sig);
    int code = 0;
    for (size_t k = 0; k < s->steps && !cli_interrupted() && ovica_trainer_converged(s->t) != 1;
         k++) {
        const double *batch = NULL;
        size_t rows = 0;
        ovica_step_stats st_k = OVICA_STEP_STATS_INIT;
        int st = cli_batches_get(&src, k, &batch, &rows);
        if (st == OVICA_OK) st = ovica_trainer_step(s->t, batch, rows, s->m, &st_k);
        if (st != OVICA_OK) {
            cli_progress_break(&pr);
            code = cli_fail(CMD, st, "training step %zu failed", k + 1);
            break;
        }
        s->done_steps++;
        cli_progress_step(&pr, CMD, &st_k, k + 1 == s->steps || cli_interrupted());
    }
    cli_progress_break(&pr);
    cli_signals_restore(&sig);
    cli_batches_free(&src);
    return code;
}

/* The mixing matrix: --mixing's, or learned (--keep best: the basis with
 * the best monitor objective, once the monitor has run). */
static int sep_learn(separation *s)
{
    const size_t mn = s->m * s->n;
    if (s->Afile != NULL) {
        memcpy(s->A, s->Afile, mn * sizeof *s->A);
        return 0;
    }
    double t0 = cli_now();
    int code = sep_make_trainer(s);
    if (code == 0) code = sep_prepare(s);
    if (code == 0) code = sep_train_loop(s);
    if (code != 0) return code;
    if (s->o->keep == 0) (void)ovica_trainer_restore_best(s->t); /* ESTATE: no monitor yet */
    int st = ovica_model_get_basis(ovica_trainer_model(s->t), s->A, s->m, s->n);
    if (st != OVICA_OK) return cli_fail(CMD, st, "cannot read the learned basis");
    s->t_learn = cli_now() - t0;
    return 0;
}

/* Unit columns with a canonical sign (largest entry positive). */
static int sep_normalise(separation *s)
{
    const size_t m = s->m, n = s->n;
    double *A = s->A;
    for (size_t j = 0; j < n; j++) {
        double nrm = 0, big = 0;
        for (size_t c = 0; c < m; c++) {
            double v = A[c * n + j];
            nrm += v * v;
            if (fabs(v) > fabs(big)) big = v;
        }
        nrm = sqrt(nrm);
        if (!(nrm > 0)) return cli_fail(CMD, 0, "column %zu of the mixing matrix is zero", j + 1);
        if (big < 0) nrm = -nrm;
        for (size_t c = 0; c < m; c++) A[c * n + j] /= nrm;
    }
    return 0;
}

/* Inference: MAP codes of every sample with the library's batched solver
 * (exact active-set for the Laplace prior), CHUNK rows a call. */
static int sep_infer(separation *s)
{
    const size_t m = s->m, n = s->n, N = s->N;
    ovica_solver *sv = NULL;
    int st = ovica_model_set_basis(s->model, s->A, m, n);
    if (st == OVICA_OK) st = ovica_solver_new(&sv, ovica_solver_auto);
    if (st != OVICA_OK) return cli_fail(CMD, st, "cannot set up the inference");
    s->S = N <= SIZE_MAX / 8 / n ? malloc(N * n * sizeof *s->S) : NULL;
    int code = s->S == NULL ? cli_fail(CMD, 0, "out of memory (%zu x %zu codes)", N, n) : 0;
    for (size_t k = 0; k < N && code == 0; k += CHUNK) {
        size_t b = N - k < CHUNK ? N - k : CHUNK;
        ovica_infer_stats is = OVICA_INFER_STATS_INIT;
        st = ovica_solver_infer(sv, s->model, s->X + k * m, b, m, s->S + k * n, n, &is);
        if (st != OVICA_OK && st != OVICA_NOT_CONVERGED)
            code = cli_fail(CMD, st, "inference failed");
        else
            s->unconverged += b - is.converged;
    }
    ovica_solver_free(sv);
    return code;
}

/* The sources (inverse STFT of each column of S, or the column itself) as
 * DIR/source-J.wav in the input's sample format when it is one of those
 * written (else 16-bit), and DIR/mixing.npy; `path` receives the latter. */
static int sep_write(separation *s, char *path, size_t cap)
{
    const size_t n = s->n, len = s->len;
    const char *dir = s->o->dir;
    double *y = malloc(len * sizeof *y);
    if (y == NULL) return cli_fail(CMD, 0, "out of memory");
    int sub = s->info.format & SF_FORMAT_SUBMASK;
    if (sub != SF_FORMAT_PCM_16 && sub != SF_FORMAT_PCM_24 && sub != SF_FORMAT_PCM_32 &&
        sub != SF_FORMAT_FLOAT && sub != SF_FORMAT_DOUBLE)
        sub = SF_FORMAT_PCM_16;
    int code = 0;
    for (size_t j = 0; j < n && code == 0; j++) {
        if (s->o->domain == 0)
            cli_stft_synthesise(&s->stft, s->S + j, n, y, 1);
        else
            for (size_t i = 0; i < len; i++) y[i] = s->S[i * n + j];
        snprintf(path, cap, "%s/source-%zu.wav", dir, j + 1);
        code = write_audio(path, y, len, s->info.samplerate, sub);
    }
    free(y);
    if (code != 0) return code;
    snprintf(path, cap, "%s/mixing.npy", dir);
    return cli_write_npy(CMD, path, s->A, s->m, n);
}

/* The summary lines on stderr. */
static void sep_report(const separation *s, const char *mixing_path)
{
    const sep_opts *o = s->o;
    const int learned = s->Afile == NULL;
    fprintf(stderr,
            "ovica " CMD ": %zu sources from %zu channels (%zu frames at %d Hz; %s: %zu "
            "samples, %zu to learn from)",
            s->n, s->m, s->len, s->info.samplerate, o->domain == 0 ? "STFT" : "raw", s->N, s->Nt);
    if (learned) fprintf(stderr, "; gain exponent %.3g", s->gain);
    if (learned && o->compress == 0)
        fprintf(stderr, " (auto: the model's moment ratio %.3g)", s->target);
    if (learned)
        fprintf(stderr, "; learned in %zu steps, %.1f s", s->done_steps, s->t_learn);
    else
        fprintf(stderr, "; mixing matrix from %s", o->mixing);
    fprintf(stderr, "; separated in %.1f s (%zu samples unconverged); total %.1f s\n", s->t_sep,
            s->unconverged, cli_now() - s->t_start);
    fprintf(stderr, "ovica " CMD ": wrote %s/source-1.wav ... source-%zu.wav and %s\n", o->dir,
            s->n, mixing_path);
}

int cmd_separate(int argc, char **argv)
{
    sep_opts o;
    int r = sep_parse(argc, argv, &o);
    if (r >= 0) return r;
    separation s;
    memset(&s, 0, sizeof s);
    s.o = &o;
    s.n = (size_t)o.K;
    s.t_start = cli_now();
    char path[4200];
    int code = sep_load(&s);
    if (code == 0) code = sep_samples(&s);
    if (code == 0) code = sep_training_set(&s);
    if (code == 0) code = sep_make_model(&s);
    if (code == 0) code = sep_learn(&s);
    if (code == 0) code = sep_normalise(&s);
    double t1 = cli_now();
    if (code == 0) code = sep_infer(&s);
    if (code == 0) code = sep_write(&s, path, sizeof path);
    s.t_sep = cli_now() - t1;
    if (code == 0 && !o.quiet) sep_report(&s, path);
    if (code == 0 && cli_interrupted()) code = cli_signal_exit(cli_interrupted());
    sep_free(&s);
    return code;
}

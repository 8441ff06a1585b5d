/*
 * Natural-image features: the image experiment of Lewicki & Sejnowski (2000).
 *
 * 8 x 8 patches of a few greyscale photographs (examples/data/images, see its
 * README for their provenance and licence). Each patch's own mean, its DC
 * (mean brightness), is taken out, as Olshausen & Field and Lewicki &
 * Olshausen (1999) do: the DC has by far the largest variance of all the
 * patch's directions and is not sparse, and whitened with the rest it ends
 * up in the atoms (de-whitening multiplies it by its standard deviation,
 * about 450 grey levels against 6 for the finest direction), which then look
 * like brightness blobs. What is left lives in the 63 dimensions orthogonal
 * to the constant patch; it is centred (the mean AC patch of the training
 * set is subtracted) and PCA-whitened there (LAPACKE_dsyev on its
 * covariance, whose null direction, the constant patch, is dropped). A
 * complete basis (63 atoms) and a 2x overcomplete one (126 atoms) are
 * learned for the whitened patches with the library's trainer and its
 * defaults (Laplace prior of unit variance, sigma 0.3 in whitened units).
 *
 * Coding cost, for whole patches: each basis is scored by the bits per
 * pixel of held-out patches, log p(x) = log p(DC) + log p(rest). The rest:
 * the Laplace approximation of log P(y|A) (ovica_loglik_laplace) of the
 * whitened patch y, taken back to pixel units through the whitening's
 * Jacobian (+ log|det W| over the 63 directions). The DC: the patch mean d
 * coded by a 1-D density fitted on the training patches' means (a Gaussian
 * or a Laplace, whichever fits them better); as a coordinate along the unit
 * vector (1, ..., 1) / 8, orthogonal to the other 63, it is 8 d, hence
 * log p(DC) = log p(d) - log 8. The total, over the 64 pixels, is turned
 * into bits per pixel at the quantisation of the 8-bit images
 * (ovica_loglik_bits with a quantum of one grey level), so the figures are
 * comparable with those of a model of all 64 dimensions. A Gaussian model
 * of the same patches (PCA, the DC by its Gaussian fit) is the reference.
 * Training patches come from the top three quarters of every image,
 * held-out patches from the bottom quarter. --keep-dc runs the previous
 * pipeline (the DC whitened with the rest, 64 and 128 atoms) to compare.
 * A basis that the trainer left on the sparse route (auto chooses it for
 * the whitened patches; --rule dictionary) has unit-norm atoms and a noise
 * level and prior scale of its own, set for its codes' threshold, not as a
 * density of the patches: one common scale of its atoms is fitted on
 * training patches (golden-section search of the Laplace score of 1000 of
 * them) before it is scored with the example's prior and sigma. --fit-scale
 * fits it for a basis of the dense route too, --no-fit-scale for neither.
 *
 * The atoms are drawn in OUT/image_features.svg, ordered by how much they
 * are used on the held-out patches (ovica_atoms_usage): on top in pixel
 * space (de-whitened, E D^{1/2} a, what a patch is made of), below in
 * whitened space laid out on the pixel grid (ZCA, E a: the symmetric
 * whitening E D^{-1/2} E^T keeps each pixel in its place, PCA's D^{-1/2} E^T
 * does not). Learning in PCA or ZCA coordinates gives the same atoms up to
 * that rotation (the model and the trainer's initialisation from data are
 * equivariant under rotations of the whitened space), so only the drawing
 * differs. The bases are written as .npy files (image_basisN_white.npy in
 * the 63 PCA coordinates, _pixels.npy and _zca.npy 64 x N). The run ends
 * with counts: atoms used (usage at least 10% of the basis' mean usage),
 * atoms dominated by the DC in pixel space (the mean of the 64 pixels more
 * than 80% of the RMS), oriented atoms (orientedness() above 0.5).
 *
 *   image_features [--quick] [--images DIR] [--out DIR] [--steps K]
 *                  [--train N] [--test N] [--batch B] [--sigma S] [--seed S]
 *                  [--rule NAME] [--anneal F] [--init-pca] [--keep-dc]
 *                  [--fit-scale | --no-fit-scale]
 *
 * --quick (what `make check-examples` runs) trains for a few steps on few
 * patches: it checks that the pipeline works, not what it finds. The figures
 * of docs/EXAMPLES.md come from the defaults.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <errno.h>
#include <sys/stat.h>

#include <lapacke.h>
#include <ovica.h>

#ifndef OVICA_IMAGE_DIR
#define OVICA_IMAGE_DIR "examples/data/images"
#endif

#define P 8            /* patch side */
#define M (P * P)      /* patch dimension */
#define SIDE 256       /* the images are SIDE x SIDE */
#define SPLIT 192      /* rows above: training patches; below: held-out */
#define NIMG 5

static const char *const image_names[NIMG] = {"camera", "astronaut", "chelsea", "coffee",
                                              "grass"};

#define CHECK(call)                                                                           \
    do {                                                                                      \
        int st_ = (call);                                                                     \
        if (st_ < 0) {                                                                        \
            fprintf(stderr, "image_features: %s failed: %s: %s\n", #call, ovica_strerror(st_), \
                    ovica_error_message());                                                   \
            goto fail;                                                                        \
        }                                                                                     \
    } while (0)

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Reads a binary 8-bit PGM (P5) of SIDE x SIDE pixels into img (values 0..255). */
static int read_pgm(const char *path, double *img)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "image_features: cannot open %s\n", path);
        return -1;
    }
    int w = 0, h = 0, maxval = 0, ok = 0;
    char magic[3] = {0};
    if (fscanf(f, "%2s", magic) == 1 && strcmp(magic, "P5") == 0) {
        int vals[3], k = 0;
        while (k < 3) {
            int c = fgetc(f);
            if (c == EOF) break;
            if (c == '#') {
                while (c != '\n' && c != EOF) c = fgetc(f);
            } else if (c >= '0' && c <= '9') {
                ungetc(c, f);
                if (fscanf(f, "%d", &vals[k]) != 1) break;
                k++;
            }
        }
        if (k == 3) {
            w = vals[0];
            h = vals[1];
            maxval = vals[2];
            ok = fgetc(f) != EOF; /* the single blank after maxval */
        }
    }
    unsigned char *buf = malloc(SIDE * SIDE);
    if (ok && (w != SIDE || h != SIDE || maxval != 255)) ok = 0;
    if (ok && buf && fread(buf, 1, SIDE * SIDE, f) == SIDE * SIDE) {
        for (size_t i = 0; i < SIDE * SIDE; i++) img[i] = buf[i];
    } else {
        ok = 0;
    }
    free(buf);
    fclose(f);
    if (!ok) fprintf(stderr, "image_features: %s is not a %dx%d 8-bit PGM\n", path, SIDE, SIDE);
    return ok ? 0 : -1;
}

/* N random 8x8 patches (row-major, P x P) whose top rows lie in [y0, y1 - P]. */
static void sample_patches(ovica_rng *r, const double *imgs, size_t N, int y0, int y1, double *X)
{
    for (size_t k = 0; k < N; k++) {
        size_t im = (size_t)(ovica_rng_uniform(r) * NIMG) % NIMG;
        int y = y0 + (int)(ovica_rng_uniform(r) * (y1 - P - y0 + 1));
        int x = (int)(ovica_rng_uniform(r) * (SIDE - P + 1));
        if (y > y1 - P) y = y1 - P;
        if (x > SIDE - P) x = SIDE - P;
        const double *src = imgs + im * SIDE * SIDE + (size_t)y * SIDE + (size_t)x;
        for (int i = 0; i < P; i++)
            for (int j = 0; j < P; j++) X[k * M + (size_t)(i * P + j)] = src[i * SIDE + j];
    }
}

/* One panel of atoms (pixel space, M x n, atom in column) drawn in `order`,
 * `cols` per row, each scaled so that its largest magnitude is black/white
 * (mid grey 0); 16 grey levels, one path per level. */
static void svg_panel(FILE *f, const double *Apix, size_t n, const size_t *order, size_t cols,
                      double ox, double oy, const char *title)
{
    const double cell = 1.0, gap = 2.0, pitch = P * cell + gap;
    fprintf(f, "<text x=\"%g\" y=\"%g\" font-family=\"sans-serif\" font-size=\"3.6\">%s</text>\n",
            ox, oy - 2.5, title);
    for (int level = 0; level < 16; level++) {
        int g = level * 17;
        fprintf(f, "<path fill=\"#%02x%02x%02x\" d=\"", g, g, g);
        for (size_t q = 0; q < n; q++) {
            size_t a = order[q];
            double big = 0;
            for (size_t p = 0; p < M; p++) big = fmax(big, fabs(Apix[p * n + a]));
            if (big == 0) big = 1;
            double x0 = ox + (double)(q % cols) * pitch, y0 = oy + (double)(q / cols) * pitch;
            for (size_t p = 0; p < M; p++) {
                double v = 0.5 + 0.5 * Apix[p * n + a] / big; /* 0 black .. 1 white */
                int lv = (int)floor(v * 16.0);
                if (lv > 15) lv = 15;
                if (lv != level) continue;
                fprintf(f, "M%g %gh1v1h-1z", x0 + (double)(p % P), y0 + (double)(p / P));
            }
        }
        fprintf(f, "\"/>\n");
    }
}

/* How oriented an atom (M pixels, a[p * stride]) is: |sum_k P(k) e^{2i theta_k}| /
 * sum_k P(k) over its 8x8 power spectrum P without the DC term, theta_k the
 * direction of frequency k. 1 for a pure grating or a straight edge, about 0.2
 * for white noise, 0 for an isotropic blob. */
static double orientedness(const double *a, size_t stride)
{
    const double two_pi = 6.28318530717958647692;
    double re = 0, im = 0, tot = 0;
    for (int ky = 0; ky < P; ky++)
        for (int kx = 0; kx < P; kx++) {
            if (kx == 0 && ky == 0) continue;
            double cr = 0, ci = 0;
            for (int y = 0; y < P; y++)
                for (int x = 0; x < P; x++) {
                    double v = a[(size_t)(y * P + x) * stride], ph = two_pi * (kx * x + ky * y) / P;
                    cr += v * cos(ph);
                    ci -= v * sin(ph);
                }
            double pw = cr * cr + ci * ci, fx = kx > P / 2 ? kx - P : kx,
                   fy = ky > P / 2 ? ky - P : ky, th = atan2(fy, fx);
            re += pw * cos(2 * th);
            im += pw * sin(2 * th);
            tot += pw;
        }
    return tot > 0 ? hypot(re, im) / tot : 0;
}

/* Share of an atom's RMS (M pixels, a[p * stride]) carried by its mean: |mean| / RMS. */
static double dc_share(const double *a, size_t stride)
{
    double s = 0, s2 = 0;
    for (size_t p = 0; p < M; p++) {
        s += a[p * stride];
        s2 += a[p * stride] * a[p * stride];
    }
    return s2 > 0 ? fabs(s / M) / sqrt(s2 / M) : 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The mean Laplace score (nats per patch) of the first N rows of Y for the
 * model with basis c A (md x n, work: md n doubles). */
static int scaled_score(ovica_model *model, const double *A, double c, const double *Y,
                        size_t N, double *work, double *ll)
{
    const size_t md = ovica_model_dim(model), n = ovica_model_atoms(model);
    for (size_t k = 0; k < md * n; k++) work[k] = c * A[k];
    int st = ovica_model_set_basis(model, work, md, n);
    if (st < 0) return st;
    st = ovica_loglik_laplace(model, Y, N, md, OVICA_LOGLIK_BETA_LAPLACE, NULL, ll);
    return st < 0 ? st : 0;
}

int main(int argc, char **argv)
{
    int quick = 0;
    const char *dir = OVICA_IMAGE_DIR, *out = ".";
    /* steps 0: the trainer's default; batch 0: every training patch at every
     * step (the trainer draws the rows of a step itself) */
    size_t steps = 0, n_train = 30000, n_test = 5000, batch = 0;
    double sigma = 0.3, anneal = -1;
    const char *rule = "auto";
    int init_pca = 0; /* start from the PCA axes (identity) instead of data samples */
    int keep_dc = 0;  /* --keep-dc: the previous pipeline, the DC whitened with the rest */
    int fit_scale = -1; /* one common scale of the atoms fitted before scoring: 1 always
                         * (--fit-scale), 0 never (--no-fit-scale), -1 for a basis of the
                         * sparse route */
    unsigned long long seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--quick") == 0) quick = 1;
        else if (strcmp(a, "--images") == 0 && v) dir = argv[++i];
        else if (strcmp(a, "--out") == 0 && v) out = argv[++i];
        else if (strcmp(a, "--steps") == 0 && v) steps = strtoul(argv[++i], NULL, 10);
        else if (strcmp(a, "--train") == 0 && v) n_train = strtoul(argv[++i], NULL, 10);
        else if (strcmp(a, "--test") == 0 && v) n_test = strtoul(argv[++i], NULL, 10);
        else if (strcmp(a, "--batch") == 0 && v) batch = strtoul(argv[++i], NULL, 10);
        else if (strcmp(a, "--sigma") == 0 && v) sigma = strtod(argv[++i], NULL);
        else if (strcmp(a, "--seed") == 0 && v) seed = strtoull(argv[++i], NULL, 10);
        else if (strcmp(a, "--rule") == 0 && v) rule = argv[++i];
        else if (strcmp(a, "--init-pca") == 0) init_pca = 1;
        else if (strcmp(a, "--keep-dc") == 0) keep_dc = 1;
        else if (strcmp(a, "--fit-scale") == 0) fit_scale = 1;
        else if (strcmp(a, "--no-fit-scale") == 0) fit_scale = 0;
        else if (strcmp(a, "--anneal") == 0 && v) anneal = strtod(argv[++i], NULL);
        else {
            fprintf(stderr,
                    "usage: image_features [--quick] [--images DIR] [--out DIR] [--steps K]\n"
                    "                      [--train N] [--test N] [--batch B] [--sigma S] "
                    "[--seed S]\n"
                    "                      [--rule NAME] [--anneal F] [--init-pca] "
                    "[--keep-dc]\n"
                    "                      [--fit-scale | --no-fit-scale]\n");
            return 2;
        }
    }
    if (quick) {
        steps = 6;
        n_train = 2000;
        n_test = 300;
        batch = 500;
    }
    if (n_train < M || n_test == 0 || !(sigma > 0)) {
        fprintf(stderr, "image_features: bad settings\n");
        return 2;
    }
    if (batch == 0 || batch > n_train) batch = n_train;
    if (mkdir(out, 0777) != 0 && errno != EEXIST) { /* the output folder, made if missing */
        fprintf(stderr, "image_features: cannot create %s\n", out);
        return 1;
    }

    /* md: the dimension the basis is learned in; M - 1 when each patch's own
     * mean (its DC) is removed and coded apart */
    const size_t md = keep_dc ? M : M - 1, off = M - md;
    const size_t atoms[2] = {md, 2 * md};
    double *imgs = malloc((size_t)NIMG * SIDE * SIDE * sizeof *imgs);
    double *Xtr = malloc(n_train * M * sizeof *Xtr), *Xte = malloc(n_test * M * sizeof *Xte);
    double *Ytr = malloc(n_train * M * sizeof *Ytr), *Yte = malloc(n_test * M * sizeof *Yte);
    double *dtr = malloc(n_train * sizeof *dtr), *dte = malloc(n_test * sizeof *dte);
    double *Bt = malloc(batch * M * sizeof *Bt);
    double *A = malloc(M * 2 * M * sizeof *A);
    double *Apix_all[2] = {malloc(M * M * sizeof(double)), malloc(M * 2 * M * sizeof(double))};
    double *Azca_all[2] = {malloc(M * M * sizeof(double)), malloc(M * 2 * M * sizeof(double))};
    size_t *order_all[2] = {malloc(M * sizeof(size_t)), malloc(2 * M * sizeof(size_t))};
    double usage[2 * M], mean[M], C[M * M], lam[M], W[M * M], Winv[M * M], Ezca[M * M];
    double bits[4] = {0}, nats[4] = {0}, active[2] = {0}, secs[2] = {0};
    size_t used[2] = {0}, dc_dom[2] = {0}, oriented_pix[2] = {0}, oriented_zca[2] = {0};
    double usage_min[2] = {0}, orient_med[2] = {0};
    ovica_rng *rng = NULL;
    ovica_prior *prior = NULL;
    ovica_model *model = NULL;
    ovica_trainer *t = NULL;
    int code = 1;
    if (!imgs || !Xtr || !Xte || !Ytr || !Yte || !dtr || !dte || !Bt || !A || !Apix_all[0] ||
        !Apix_all[1] || !Azca_all[0] || !Azca_all[1] || !order_all[0] || !order_all[1]) {
        fprintf(stderr, "image_features: out of memory\n");
        goto fail;
    }
    for (int k = 0; k < NIMG; k++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.pgm", dir, image_names[k]);
        if (read_pgm(path, imgs + (size_t)k * SIDE * SIDE)) goto fail;
    }

    /* patches; each patch's own mean (its DC) taken out unless --keep-dc */
    CHECK(ovica_rng_new(&rng, seed));
    sample_patches(rng, imgs, n_train, 0, SPLIT, Xtr);
    sample_patches(rng, imgs, n_test, SPLIT, SIDE, Xte);
    for (int set = 0; set < 2; set++) {
        double *X = set ? Xte : Xtr, *d = set ? dte : dtr;
        const size_t N = set ? n_test : n_train;
        for (size_t k = 0; k < N; k++) {
            double s = 0;
            for (size_t j = 0; j < M; j++) s += X[k * M + j];
            d[k] = s / M;
            if (!keep_dc)
                for (size_t j = 0; j < M; j++) X[k * M + j] -= d[k];
        }
    }
    /* centring by the mean (AC) patch, PCA whitening of the md directions of
     * largest variance: without the DC the covariance has rank 63, its
     * null direction the constant patch */
    for (size_t j = 0; j < M; j++) {
        double s = 0;
        for (size_t k = 0; k < n_train; k++) s += Xtr[k * M + j];
        mean[j] = s / (double)n_train;
    }
    memset(C, 0, sizeof C);
    for (size_t k = 0; k < n_train; k++)
        for (size_t i = 0; i < M; i++) {
            double xi = Xtr[k * M + i] - mean[i];
            for (size_t j = 0; j <= i; j++) C[i * M + j] += xi * (Xtr[k * M + j] - mean[j]);
        }
    for (size_t i = 0; i < M; i++)
        for (size_t j = 0; j <= i; j++) C[j * M + i] = C[i * M + j] /= (double)n_train;
    if (LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'V', 'L', M, C, M, lam) != 0 || !(lam[off] > 0)) {
        fprintf(stderr, "image_features: the covariance is singular or dsyev failed\n");
        goto fail;
    }
    /* C now holds the eigenvectors E in its columns, lam ascending; without
     * the DC, lam[0] ~ 0 and E[:, 0] is the constant patch (checked) */
    if (!keep_dc) {
        double s = 0;
        for (size_t j = 0; j < M; j++) s += C[j * M + 0] / sqrt((double)M);
        if (!(fabs(s) > 1 - 1e-6) || !(lam[0] < 1e-6 * lam[1])) {
            fprintf(stderr, "image_features: the null direction is not the DC (%g, %g)\n", s,
                    lam[0]);
            goto fail;
        }
    }
    /* W = D^{-1/2} E^T (md x M), Winv = E D^{1/2} (M x md) over the kept
     * directions; Ezca = E (M x md) takes a whitened vector to its ZCA layout
     * E D^{-1/2} E^T x, the whitened patch drawn on the pixel grid */
    double logdetW = 0;
    for (size_t i = 0; i < md; i++) {
        const double li = lam[off + i];
        logdetW -= 0.5 * log(li);
        for (size_t j = 0; j < M; j++) {
            W[i * M + j] = C[j * M + off + i] / sqrt(li);
            Winv[j * md + i] = C[j * M + off + i] * sqrt(li);
            Ezca[j * md + i] = C[j * M + off + i];
        }
    }
    for (int set = 0; set < 2; set++) {
        const double *X = set ? Xte : Xtr;
        double *Y = set ? Yte : Ytr, c[M];
        const size_t N = set ? n_test : n_train;
        for (size_t k = 0; k < N; k++) {
            for (size_t j = 0; j < M; j++) c[j] = X[k * M + j] - mean[j];
            for (size_t i = 0; i < md; i++) {
                double s = 0;
                for (size_t j = 0; j < M; j++) s += W[i * M + j] * c[j];
                Y[k * md + i] = s;
            }
        }
    }
    printf("%zu training and %zu held-out %dx%d patches of %d images%s; eigenvalues of the "
           "covariance %.3g .. %.3g (grey levels^2); the basis is learned in %zu dimensions\n",
           n_train, n_test, P, P, NIMG, keep_dc ? "" : ", each patch's mean (DC) removed",
           lam[off], lam[M - 1], md);

    /* the DC, coded apart: a Laplace or a Gaussian density of the patch mean d
     * fitted on the training patches, whichever fits them better. The DC is
     * the coordinate c = 8 d along the unit vector (1, ..., 1) / 8, orthogonal
     * to the M - 1 others, so log p(x) = log p(d) - log 8 + log p(AC part). */
    double dc_nats = 0, dc_gauss = 0, dc_mu = 0, dc_scale = 0;
    int dc_laplace = 0;
    if (!keep_dc) {
        double mu = 0, var = 0, b = 0;
        for (size_t k = 0; k < n_train; k++) mu += dtr[k];
        mu /= (double)n_train;
        for (size_t k = 0; k < n_train; k++) var += (dtr[k] - mu) * (dtr[k] - mu);
        var /= (double)n_train;
        double *srt = malloc(n_train * sizeof *srt);
        if (srt == NULL) goto fail;
        memcpy(srt, dtr, n_train * sizeof *srt);
        qsort(srt, n_train, sizeof *srt, cmp_double);
        const double med = srt[n_train / 2];
        free(srt);
        for (size_t k = 0; k < n_train; k++) b += fabs(dtr[k] - med);
        b /= (double)n_train;
        if (!(var > 0) || !(b > 0)) {
            fprintf(stderr, "image_features: the patch means do not vary\n");
            goto fail;
        }
        /* training log-likelihoods per patch of the two fits, at their MLE */
        const double ll_gauss = -0.5 * log(2 * 3.14159265358979323846 * var) - 0.5;
        const double ll_laplace = -log(2 * b) - 1;
        dc_laplace = ll_laplace > ll_gauss;
        dc_mu = dc_laplace ? med : mu;
        dc_scale = dc_laplace ? b : sqrt(var);
        for (size_t k = 0; k < n_test; k++) {
            double z = dte[k] - dc_mu, g = -0.5 * log(2 * 3.14159265358979323846 * var) -
                                           0.5 * (dte[k] - mu) * (dte[k] - mu) / var;
            dc_nats += dc_laplace ? -log(2 * b) - fabs(z) / b : g;
            dc_gauss += g;
        }
        dc_nats = dc_nats / (double)n_test - log(sqrt((double)M));
        dc_gauss = dc_gauss / (double)n_test - log(sqrt((double)M));
        printf("DC (patch mean, grey levels): %s fit, location %.1f, scale %.1f (training "
               "log-likelihood %.3f against %.3f nats for the %s); held out: %.2f nats per "
               "patch\n",
               dc_laplace ? "Laplace" : "Gaussian", dc_mu, dc_scale,
               dc_laplace ? ll_laplace : ll_gauss, dc_laplace ? ll_gauss : ll_laplace,
               dc_laplace ? "Gaussian" : "Laplace", dc_nats);
    }
    /* what every model's nats in whitened units take to log p(x) in pixels */
    const double to_pixels = logdetW + dc_nats;

    /* reference: the whitened patches as N(0, I), i.e. a Gaussian model, and
     * the DC by its Gaussian fit */
    {
        double s = 0;
        for (size_t k = 0; k < n_test * md; k++) s += Yte[k] * Yte[k];
        nats[2] = -0.5 * s / (double)n_test - 0.5 * (double)md * log(2 * 3.14159265358979323846);
        nats[2] += logdetW + dc_gauss;
        CHECK(ovica_loglik_bits(nats[2], M, 1.0, &bits[2]));
    }

    /* the two bases */
    CHECK(ovica_prior_laplace_new(&prior, 1.0 / sqrt(2.0))); /* unit variance */
    for (int b = 0; b < 2; b++) {
        const size_t n = atoms[b];
        double t0 = now();
        CHECK(ovica_model_new(&model, md, n, prior, sigma));
        const ovica_rule_type *rt = ovica_rule_type_find(rule);
        if (rt == NULL) {
            fprintf(stderr, "image_features: unknown rule '%s'\n", rule);
            goto fail;
        }
        CHECK(ovica_trainer_new(&t, model, rt, seed + 100 * (uint64_t)b));
        if (anneal > 0) CHECK(ovica_trainer_set_param(t, OVICA_TRAIN_ANNEAL, anneal));
        if (steps > 0) CHECK(ovica_trainer_set_param(t, OVICA_TRAIN_STEPS, (double)steps));
        double planned = 0;
        CHECK(ovica_trainer_get_param(t, OVICA_TRAIN_STEPS, &planned));
        const size_t nsteps = (size_t)planned;
        /* the trainer's own initialisation unless --init-pca */
        if (init_pca) {
            /* the PCA axes (the identity in whitened space), then for the
             * second half of an overcomplete basis the axes rotated by 45
             * degrees in pairs (i, i + 1) */
            memset(A, 0, md * n * sizeof *A);
            for (size_t i = 0; i < md; i++) A[i * n + i] = 1.0;
            for (size_t j = md; j < n; j++) {
                size_t i = j - md, i2 = (i + 1) % md;
                A[i * n + j] = sqrt(0.5);
                A[i2 * n + j] = (i % 2 ? -1.0 : 1.0) * sqrt(0.5);
            }
            CHECK(ovica_trainer_set_basis(t, A, md, n));
        }
        CHECK(ovica_trainer_set_monitor(t, Ytr, n_train < 2000 ? n_train : 2000, md));
        ovica_step_stats s = OVICA_STEP_STATS_INIT;
        for (size_t k = 0; k < nsteps; k++) {
            const double *Xk = Ytr;
            if (batch < n_train) { /* --batch: a fresh random batch every step */
                for (size_t r = 0; r < batch; r++) {
                    size_t i = (size_t)(ovica_rng_uniform(rng) * (double)n_train) % n_train;
                    memcpy(Bt + r * md, Ytr + i * md, md * sizeof *Bt);
                }
                Xk = Bt;
            }
            s = (ovica_step_stats)OVICA_STEP_STATS_INIT;
            CHECK(ovica_trainer_step(t, Xk, batch, md, &s));
            if (!quick && ((k + 1) % 50 == 0 || k + 1 == nsteps)) {
                static const char *const regimes[] = {"probe", "sparse", "dense", "map"};
                int rg = ovica_trainer_regime(t);
                printf("  %3zu atoms: step %4zu/%zu  objective %.3f  active %.1f  sigma %.3f  "
                       "(%s)  %.0f s\n",
                       n, k + 1, nsteps, s.objective, s.active, s.sigma_t,
                       rg >= 0 && rg <= 3 ? regimes[rg] : "?", now() - t0);
                fflush(stdout);
            }
        }
        const ovica_model *learned = ovica_trainer_model(t);
        CHECK(ovica_model_get_basis(learned, A, md, n));
        const int sparse_route = ovica_trainer_regime(t) == OVICA_REGIME_SPARSE;
        if (fit_scale == 1 || (fit_scale == -1 && sparse_route)) {
            /* the sparse route ends with unit-norm atoms and a
             * noise level and prior scale of its own (a threshold for its
             * codes, not a density); to score the basis as a density with
             * the example's prior and sigma, one common scale c of the atoms
             * is fitted: golden-section search on log c over [1/8, 2] of the
             * Laplace score of (at most) 1000 training patches */
            ovica_model_free(model);
            model = NULL;
            CHECK(ovica_model_new(&model, md, n, prior, sigma));
            const size_t nf = n_train < 1000 ? n_train : 1000;
            const double gr = 0.5 * (sqrt(5.0) - 1.0);
            double lo = log(0.125), hi = log(2.0);
            double x1 = hi - gr * (hi - lo), x2 = lo + gr * (hi - lo), f1 = 0, f2 = 0;
            CHECK(scaled_score(model, A, exp(x1), Ytr, nf, Apix_all[1], &f1));
            CHECK(scaled_score(model, A, exp(x2), Ytr, nf, Apix_all[1], &f2));
            for (int it = 0; it < 12; it++) {
                if (f1 > f2) { /* the maximum lies in [lo, x2] */
                    hi = x2;
                    x2 = x1;
                    f2 = f1;
                    x1 = hi - gr * (hi - lo);
                    CHECK(scaled_score(model, A, exp(x1), Ytr, nf, Apix_all[1], &f1));
                } else { /* in [x1, hi] */
                    lo = x1;
                    x1 = x2;
                    f1 = f2;
                    x2 = lo + gr * (hi - lo);
                    CHECK(scaled_score(model, A, exp(x2), Ytr, nf, Apix_all[1], &f2));
                }
            }
            const double c = exp(0.5 * (lo + hi));
            for (size_t k = 0; k < md * n; k++) A[k] *= c;
            CHECK(ovica_model_set_basis(model, A, md, n));
            learned = model;
            printf("  %3zu atoms: common scale of the atoms fitted: %.3f\n", n, c);
        }
        int st = ovica_loglik_laplace(learned, Yte, n_test, md, OVICA_LOGLIK_BETA_LAPLACE, NULL,
                                      &nats[b]);
        CHECK(st);
        nats[b] += to_pixels;
        CHECK(ovica_loglik_bits(nats[b], M, 1.0, &bits[b]));
        active[b] = s.active;
        if (n == md && sparse_route) {
            nats[3] = NAN; /* (no density was learned: no check) */
            bits[3] = NAN;
        } else if (n == md) {
            /* a check of the approximation: the complete basis as noiseless
             * ICA, whose likelihood is exact: log p(y) = sum_i log p(s_i) -
             * log |det A| with s = A^{-1} y (Laplace density of scale b) */
            double LU[M * M];
            lapack_int piv[M];
            memcpy(LU, A, md * md * sizeof *LU);
            double *Sx = malloc(n_test * md * sizeof *Sx);
            if (Sx == NULL ||
                LAPACKE_dgetrf(LAPACK_ROW_MAJOR, (lapack_int)md, (lapack_int)md, LU,
                               (lapack_int)md, piv) != 0) {
                free(Sx);
                fprintf(stderr, "image_features: the complete basis is singular\n");
                goto fail;
            }
            double logdet = 0;
            for (size_t i = 0; i < md; i++) logdet += log(fabs(LU[i * md + i]));
            for (size_t k = 0; k < n_test; k++) /* S^T = A^{-1} Y^T, one column per sample */
                for (size_t i = 0; i < md; i++) Sx[i * n_test + k] = Yte[k * md + i];
            if (LAPACKE_dgetrs(LAPACK_ROW_MAJOR, 'N', (lapack_int)md, (lapack_int)n_test, LU,
                               (lapack_int)md, piv, Sx, (lapack_int)n_test) != 0) {
                free(Sx);
                goto fail;
            }
            const double bs = 1.0 / sqrt(2.0);
            double sum = 0;
            for (size_t k = 0; k < n_test * md; k++) sum += -fabs(Sx[k]) / bs - log(2 * bs);
            free(Sx);
            nats[3] = sum / (double)n_test - logdet + to_pixels;
            CHECK(ovica_loglik_bits(nats[3], M, 1.0, &bits[3]));
        }
        CHECK(ovica_atoms_usage(learned, Yte, n_test, md, usage, n));
        secs[b] = now() - t0;

        /* the atoms in pixel space (de-whitened) and in whitened space laid
         * out on the pixel grid (ZCA), ordered by usage */
        for (size_t p = 0; p < M; p++)
            for (size_t a = 0; a < n; a++) {
                double v = 0, z = 0;
                for (size_t j = 0; j < md; j++) {
                    v += Winv[p * md + j] * A[j * n + a];
                    z += Ezca[p * md + j] * A[j * n + a];
                }
                Apix_all[b][p * n + a] = v;
                Azca_all[b][p * n + a] = z;
            }
        size_t *ord = order_all[b];
        for (size_t a = 0; a < n; a++) ord[a] = a;
        for (size_t a = 1; a < n; a++) /* insertion sort by decreasing usage */
            for (size_t c = a; c > 0 && usage[ord[c]] > usage[ord[c - 1]]; c--) {
                size_t tmp = ord[c];
                ord[c] = ord[c - 1];
                ord[c - 1] = tmp;
            }
        /* used: an atom whose usage on the held-out patches is at least 10%
         * of the basis' mean usage; DC-dominated: the mean of its 64 pixels
         * carries more than 80% of its RMS; oriented: orientedness above 0.5 */
        double umean = 0, ori[2 * M];
        for (size_t a = 0; a < n; a++) umean += usage[a] / (double)n;
        usage_min[b] = usage[ord[n - 1]] / umean;
        for (size_t a = 0; a < n; a++) {
            used[b] += usage[a] >= 0.1 * umean;
            dc_dom[b] += dc_share(Apix_all[b] + a, n) > 0.8;
            ori[a] = orientedness(Apix_all[b] + a, n);
            oriented_pix[b] += ori[a] > 0.5;
            oriented_zca[b] += orientedness(Azca_all[b] + a, n) > 0.5;
        }
        qsort(ori, n, sizeof *ori, cmp_double);
        orient_med[b] = ori[n / 2];
        char path[4096];
        snprintf(path, sizeof path, "%s/image_basis%zu_white.npy", out, n);
        CHECK(ovica_npy_write(path, A, md, n));
        snprintf(path, sizeof path, "%s/image_basis%zu_pixels.npy", out, n);
        CHECK(ovica_npy_write(path, Apix_all[b], M, n));
        snprintf(path, sizeof path, "%s/image_basis%zu_zca.npy", out, n);
        CHECK(ovica_npy_write(path, Azca_all[b], M, n));
        ovica_trainer_free(t);
        t = NULL;
        ovica_model_free(model);
        model = NULL;
    }

    /* the picture: top row the atoms in pixel space, bottom row the same
     * atoms in whitened space (ZCA layout) */
    {
        char path[4096];
        snprintf(path, sizeof path, "%s/image_features.svg", out);
        FILE *f = fopen(path, "w");
        if (f == NULL) {
            fprintf(stderr, "image_features: cannot write %s\n", path);
            goto fail;
        }
        const double pitch = P + 2.0, row = 8 * pitch + 12;
        const double w = 16 * pitch + 8 + 8 * pitch, h = 2 * row;
        fprintf(f,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%g\" "
                "height=\"%g\" viewBox=\"0 0 %g %g\" shape-rendering=\"crispEdges\">\n"
                "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
                4 * (w + 4), 4 * h, w + 4, h);
        char t1[160], t2[160];
        snprintf(t1, sizeof t1, "complete, %zu atoms: %.2f bits/pixel (pixel space)", atoms[0],
                 bits[0]);
        snprintf(t2, sizeof t2, "2x overcomplete, %zu atoms: %.2f bits/pixel (pixel space)",
                 atoms[1], bits[1]);
        svg_panel(f, Apix_all[0], atoms[0], order_all[0], 8, 2, 10, t1);
        svg_panel(f, Apix_all[1], atoms[1], order_all[1], 16, 2 + 8 * pitch + 8, 10, t2);
        svg_panel(f, Azca_all[0], atoms[0], order_all[0], 8, 2, 10 + row,
                  "the same atoms, whitened (ZCA)");
        svg_panel(f, Azca_all[1], atoms[1], order_all[1], 16, 2 + 8 * pitch + 8, 10 + row,
                  "the same atoms, whitened (ZCA)");
        fprintf(f, "</svg>\n");
        if (fclose(f) != 0) {
            fprintf(stderr, "image_features: cannot write %s\n", path);
            goto fail;
        }
        printf("wrote %s\n", path);
    }

    printf("\nheld-out coding cost (%zu patches, 8-bit pixels; Laplace approximation, "
           "sigma %.3g in whitened units%s):\n",
           n_test, sigma, keep_dc ? "" : "; the DC coded apart, included");
    printf("  %-28s %12s %12s %10s %8s\n", "model", "nats/patch", "bits/pixel", "active", "time");
    printf("  %-28s %12.2f %12.4f %10s %8s\n", "Gaussian (PCA)", nats[2], bits[2], "-", "-");
    for (int b = 0; b < 2; b++) {
        char label[64];
        snprintf(label, sizeof label, "%s, %zu atoms", b ? "2x overcomplete" : "complete",
                 atoms[b]);
        printf("  %-28s %12.2f %12.4f %10.1f %7.0fs\n", label, nats[b], bits[b], active[b],
               secs[b]);
    }
    if (!isnan(nats[3])) {
        printf("  %-28s %12.2f %12.4f %10s %8s\n", "complete, as noiseless ICA", nats[3],
               bits[3], "-", "-");
        printf("(the last row: the complete basis scored exactly, as noiseless ICA, log p(s) - "
               "log|det A|, s = A^-1 x: a check of the approximation)\n");
    } else {
        printf("(no exact check of the approximation: the complete basis comes from the sparse "
               "route, a basis for codes at a threshold, not a noiseless density)\n");
    }
    printf("atoms (held out): used (usage >= 10%% of the mean) %zu/%zu and %zu/%zu, least "
           "used at %.2f and %.2f of the mean; DC-dominated in pixel space %zu and %zu; "
           "oriented (index > 0.5) in pixel space %zu and %zu, whitened %zu and %zu; median "
           "index %.2f and %.2f\n",
           used[0], atoms[0], used[1], atoms[1], usage_min[0], usage_min[1], dc_dom[0],
           dc_dom[1], oriented_pix[0], oriented_pix[1], oriented_zca[0], oriented_zca[1],
           orient_med[0], orient_med[1]);
    printf("bits per pixel: Gaussian %.3f, complete %.3f, 2x overcomplete %.3f\n", bits[2],
           bits[0], bits[1]);
    code = 0;
fail:
    ovica_trainer_free(t);
    ovica_model_free(model);
    ovica_prior_free(prior);
    ovica_rng_free(rng);
    free(imgs);
    free(Xtr);
    free(Xte);
    free(Ytr);
    free(Yte);
    free(dtr);
    free(dte);
    free(Bt);
    free(A);
    for (int b = 0; b < 2; b++) {
        free(Apix_all[b]);
        free(Azca_all[b]);
        free(order_all[b]);
    }
    return code;
}

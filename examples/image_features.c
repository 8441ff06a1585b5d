/*
 * Natural-image features: the image experiment of Lewicki & Sejnowski (2000).
 *
 * 8 x 8 patches of a few greyscale photographs (examples/data/images, see its
 * README for their provenance and licence) are centred (the mean patch of the
 * training set is subtracted) and PCA-whitened (LAPACKE_dsyev on their
 * covariance). A complete basis (64 atoms) and a 2x overcomplete one (128
 * atoms) are learned for the whitened patches with the library's trainer
 * (Laplace prior), and each is scored by its coding cost in bits per pixel
 * on held-out patches: the Laplace approximation of log P(x|A)
 * (ovica_loglik_laplace), taken back to pixel units through the whitening's
 * Jacobian, at the quantisation of the 8-bit images (ovica_loglik_bits with
 * a quantum of one grey level). A Gaussian model of the same patches (what
 * PCA alone gives) is the reference. Training patches come from the top
 * three quarters of every image, held-out patches from the bottom quarter.
 *
 * The atoms, taken back to pixel space (de-whitened), are drawn as grids of
 * small grey pictures in OUT/image_features.svg, ordered by how much they
 * are used on the held-out patches (ovica_atoms_usage); the bases are also
 * written as .npy files (whitened and pixel space).
 *
 *   image_features [--quick] [--images DIR] [--out DIR] [--steps K]
 *                  [--train N] [--test N] [--batch B] [--sigma S] [--seed S]
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

/* Y = (X - mean) W^T, W = D^{-1/2} E^T (M x M): Y (N x M). */
static void whiten(const double *X, size_t N, const double *mean, const double *W, double *Y)
{
    double c[M];
    for (size_t k = 0; k < N; k++) {
        for (size_t j = 0; j < M; j++) c[j] = X[k * M + j] - mean[j];
        for (size_t i = 0; i < M; i++) {
            double s = 0;
            for (size_t j = 0; j < M; j++) s += W[i * M + j] * c[j];
            Y[k * M + i] = s;
        }
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
        else if (strcmp(a, "--anneal") == 0 && v) anneal = strtod(argv[++i], NULL);
        else {
            fprintf(stderr,
                    "usage: image_features [--quick] [--images DIR] [--out DIR] [--steps K]\n"
                    "                      [--train N] [--test N] [--batch B] [--sigma S] "
                    "[--seed S]\n"
                    "                      [--rule NAME] [--anneal F] [--init-pca]\n");
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

    const size_t atoms[2] = {M, 2 * M};
    double *imgs = malloc((size_t)NIMG * SIDE * SIDE * sizeof *imgs);
    double *Xtr = malloc(n_train * M * sizeof *Xtr), *Xte = malloc(n_test * M * sizeof *Xte);
    double *Ytr = malloc(n_train * M * sizeof *Ytr), *Yte = malloc(n_test * M * sizeof *Yte);
    double *Bt = malloc(batch * M * sizeof *Bt);
    double *A = malloc(M * 2 * M * sizeof *A), *Apix = malloc(M * 2 * M * sizeof *Apix);
    double *Apix_all[2] = {malloc(M * M * sizeof(double)), malloc(M * 2 * M * sizeof(double))};
    size_t *order_all[2] = {malloc(M * sizeof(size_t)), malloc(2 * M * sizeof(size_t))};
    double usage[2 * M], mean[M], C[M * M], lam[M], W[M * M], Winv[M * M];
    double bits[4] = {0}, nats[4] = {0}, active[2] = {0}, secs[2] = {0};
    ovica_rng *rng = NULL;
    ovica_prior *prior = NULL;
    ovica_model *model = NULL;
    ovica_trainer *t = NULL;
    int code = 1;
    if (!imgs || !Xtr || !Xte || !Ytr || !Yte || !Bt || !A || !Apix || !Apix_all[0] ||
        !Apix_all[1] || !order_all[0] || !order_all[1]) {
        fprintf(stderr, "image_features: out of memory\n");
        goto fail;
    }
    for (int k = 0; k < NIMG; k++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.pgm", dir, image_names[k]);
        if (read_pgm(path, imgs + (size_t)k * SIDE * SIDE)) goto fail;
    }

    /* patches, centring, PCA whitening */
    CHECK(ovica_rng_new(&rng, seed));
    sample_patches(rng, imgs, n_train, 0, SPLIT, Xtr);
    sample_patches(rng, imgs, n_test, SPLIT, SIDE, Xte);
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
    if (LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'V', 'L', M, C, M, lam) != 0 || !(lam[0] > 0)) {
        fprintf(stderr, "image_features: the covariance is singular or dsyev failed\n");
        goto fail;
    }
    /* C now holds the eigenvectors E in its columns, lam ascending */
    double logdetW = 0;
    for (size_t i = 0; i < M; i++) {
        logdetW -= 0.5 * log(lam[i]);
        for (size_t j = 0; j < M; j++) {
            W[i * M + j] = C[j * M + i] / sqrt(lam[i]);    /* D^{-1/2} E^T */
            Winv[j * M + i] = C[j * M + i] * sqrt(lam[i]); /* E D^{1/2} */
        }
    }
    whiten(Xtr, n_train, mean, W, Ytr);
    whiten(Xte, n_test, mean, W, Yte);
    printf("%zu training and %zu held-out %dx%d patches of %d images; eigenvalues of the "
           "covariance %.3g .. %.3g (grey levels^2)\n",
           n_train, n_test, P, P, NIMG, lam[0], lam[M - 1]);

    /* reference: the whitened patches as N(0, I), i.e. a Gaussian model */
    {
        double s = 0;
        for (size_t k = 0; k < n_test * M; k++) s += Yte[k] * Yte[k];
        nats[2] = -0.5 * s / (double)n_test - 0.5 * M * log(2 * 3.14159265358979323846);
        CHECK(ovica_loglik_bits(nats[2] + logdetW, M, 1.0, &bits[2]));
    }

    /* the two bases */
    CHECK(ovica_prior_laplace_new(&prior, 1.0 / sqrt(2.0))); /* unit variance */
    for (int b = 0; b < 2; b++) {
        const size_t n = atoms[b];
        double t0 = now();
        CHECK(ovica_model_new(&model, M, n, prior, sigma));
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
            memset(A, 0, M * n * sizeof *A);
            for (size_t i = 0; i < M; i++) A[i * n + i] = 1.0;
            for (size_t j = M; j < n; j++) {
                size_t i = j - M, i2 = (i + 1) % M;
                A[i * n + j] = sqrt(0.5);
                A[i2 * n + j] = (i % 2 ? -1.0 : 1.0) * sqrt(0.5);
            }
            CHECK(ovica_trainer_set_basis(t, A, M, n));
        }
        CHECK(ovica_trainer_set_monitor(t, Ytr, n_train < 2000 ? n_train : 2000, M));
        ovica_step_stats s = OVICA_STEP_STATS_INIT;
        for (size_t k = 0; k < nsteps; k++) {
            const double *Xk = Ytr;
            if (batch < n_train) { /* --batch: a fresh random batch every step */
                for (size_t r = 0; r < batch; r++) {
                    size_t i = (size_t)(ovica_rng_uniform(rng) * (double)n_train) % n_train;
                    memcpy(Bt + r * M, Ytr + i * M, M * sizeof *Bt);
                }
                Xk = Bt;
            }
            s = (ovica_step_stats)OVICA_STEP_STATS_INIT;
            CHECK(ovica_trainer_step(t, Xk, batch, M, &s));
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
        CHECK(ovica_model_get_basis(learned, A, M, n));
        int st = ovica_loglik_laplace(learned, Yte, n_test, M, OVICA_LOGLIK_BETA_LAPLACE, NULL,
                                      &nats[b]);
        CHECK(st);
        CHECK(ovica_loglik_bits(nats[b] + logdetW, M, 1.0, &bits[b]));
        active[b] = s.active;
        if (n == M) {
            /* a check of the approximation: the complete basis as noiseless
             * ICA, whose likelihood is exact: log p(y) = sum_i log p(s_i) -
             * log |det A| with s = A^{-1} y (Laplace density of scale b) */
            double LU[M * M];
            lapack_int piv[M];
            memcpy(LU, A, sizeof LU);
            double *Sx = malloc(n_test * M * sizeof *Sx);
            if (Sx == NULL || LAPACKE_dgetrf(LAPACK_ROW_MAJOR, M, M, LU, M, piv) != 0) {
                free(Sx);
                fprintf(stderr, "image_features: the complete basis is singular\n");
                goto fail;
            }
            double logdet = 0;
            for (size_t i = 0; i < M; i++) logdet += log(fabs(LU[i * M + i]));
            for (size_t k = 0; k < n_test; k++) /* S^T = A^{-1} Y^T, one column per sample */
                for (size_t i = 0; i < M; i++) Sx[i * n_test + k] = Yte[k * M + i];
            if (LAPACKE_dgetrs(LAPACK_ROW_MAJOR, 'N', M, (lapack_int)n_test, LU, M, piv, Sx,
                               (lapack_int)n_test) != 0) {
                free(Sx);
                goto fail;
            }
            const double bs = 1.0 / sqrt(2.0);
            double sum = 0;
            for (size_t k = 0; k < n_test * M; k++) sum += -fabs(Sx[k]) / bs - log(2 * bs);
            free(Sx);
            nats[3] = sum / (double)n_test - logdet;
            CHECK(ovica_loglik_bits(nats[3] + logdetW, M, 1.0, &bits[3]));
        }
        CHECK(ovica_atoms_usage(learned, Yte, n_test, M, usage, n));
        secs[b] = now() - t0;

        /* de-whitened atoms, ordered by usage */
        for (size_t p = 0; p < M; p++)
            for (size_t a = 0; a < n; a++) {
                double v = 0;
                for (size_t j = 0; j < M; j++) v += Winv[p * M + j] * A[j * n + a];
                Apix_all[b][p * n + a] = v;
            }
        size_t *ord = order_all[b];
        for (size_t a = 0; a < n; a++) ord[a] = a;
        for (size_t a = 1; a < n; a++) /* insertion sort by decreasing usage */
            for (size_t c = a; c > 0 && usage[ord[c]] > usage[ord[c - 1]]; c--) {
                size_t tmp = ord[c];
                ord[c] = ord[c - 1];
                ord[c - 1] = tmp;
            }
        char path[4096];
        snprintf(path, sizeof path, "%s/image_basis%zu_white.npy", out, n);
        CHECK(ovica_npy_write(path, A, M, n));
        snprintf(path, sizeof path, "%s/image_basis%zu_pixels.npy", out, n);
        CHECK(ovica_npy_write(path, Apix_all[b], M, n));
        ovica_trainer_free(t);
        t = NULL;
        ovica_model_free(model);
        model = NULL;
    }

    /* the picture */
    {
        char path[4096];
        snprintf(path, sizeof path, "%s/image_features.svg", out);
        FILE *f = fopen(path, "w");
        if (f == NULL) {
            fprintf(stderr, "image_features: cannot write %s\n", path);
            goto fail;
        }
        const double pitch = P + 2.0;
        const double w = 16 * pitch + 8 + 8 * pitch, h = 8 * pitch + 12;
        fprintf(f,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%g\" "
                "height=\"%g\" viewBox=\"0 0 %g %g\" shape-rendering=\"crispEdges\">\n"
                "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
                4 * (w + 4), 4 * h, w + 4, h);
        char t1[128], t2[128];
        snprintf(t1, sizeof t1, "complete, %zu atoms: %.2f bits/pixel", atoms[0], bits[0]);
        snprintf(t2, sizeof t2, "2x overcomplete, %zu atoms: %.2f bits/pixel", atoms[1], bits[1]);
        svg_panel(f, Apix_all[0], atoms[0], order_all[0], 8, 2, 10, t1);
        svg_panel(f, Apix_all[1], atoms[1], order_all[1], 16, 2 + 8 * pitch + 8, 10, t2);
        fprintf(f, "</svg>\n");
        if (fclose(f) != 0) {
            fprintf(stderr, "image_features: cannot write %s\n", path);
            goto fail;
        }
        printf("wrote %s\n", path);
    }

    printf("\nheld-out coding cost (%zu patches, 8-bit pixels; Laplace approximation, "
           "sigma %.3g in whitened units):\n",
           n_test, sigma);
    printf("  %-28s %12s %12s %10s %8s\n", "model", "nats/patch", "bits/pixel", "active", "time");
    printf("  %-28s %12.2f %12.4f %10s %8s\n", "Gaussian (PCA)", nats[2] + logdetW, bits[2], "-",
           "-");
    printf("  %-28s %12.2f %12.4f %10.1f %7.0fs\n", "complete, 64 atoms", nats[0] + logdetW,
           bits[0], active[0], secs[0]);
    printf("  %-28s %12.2f %12.4f %10.1f %7.0fs\n", "2x overcomplete, 128 atoms",
           nats[1] + logdetW, bits[1], active[1], secs[1]);
    printf("  %-28s %12.2f %12.4f %10s %8s\n", "complete, as noiseless ICA", nats[3] + logdetW,
           bits[3], "-", "-");
    printf("(the last row: the complete basis scored exactly, as noiseless ICA, log p(s) - "
           "log|det A|, s = A^-1 x: a check of the approximation)\n");
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
    free(Bt);
    free(A);
    free(Apix);
    for (int b = 0; b < 2; b++) {
        free(Apix_all[b]);
        free(order_all[b]);
    }
    return code;
}

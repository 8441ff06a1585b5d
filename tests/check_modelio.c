/* Tests of model files (ovica/modelio.h). Corrupt and crafted images are
 * built here byte by byte, with this file's own CRC-64, so that the tests do
 * not trust the code they test. */
#include "testutil.h"

#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>

/* The regime block at the end of a checkpoint's TRST section (since 0.3):
 * u32 regime, u64 first dense step, five f64, then (flag 4) u32 noise
 * estimate kind, u64 probe extension and f64 first probe's measurement. */
#define REGIME_BYTES (4 + 8 + 5 * 8 + 4 + 8 + 8)
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */

/* CRC-64/XZ, bit by bit (no table): the reference for the library's. */
static uint64_t ref_crc64(const unsigned char *p, size_t n)
{
    uint64_t crc = ~(uint64_t)0;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++) crc = (crc & 1) ? (crc >> 1) ^ 0xC96C5795D7870F42ULL : crc >> 1;
    }
    return ~crc;
}

static uint64_t get_u64(const unsigned char *b)
{
    uint64_t v = 0;
    for (int t = 7; t >= 0; t--) v = (v << 8) | b[t];
    return v;
}

static uint32_t get_u32(const unsigned char *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void put_u64(unsigned char *b, uint64_t v)
{
    for (int t = 0; t < 8; t++) b[t] = (unsigned char)(v >> (8 * t));
}

static void put_u32(unsigned char *b, uint32_t v)
{
    for (int t = 0; t < 4; t++) b[t] = (unsigned char)(v >> (8 * t));
}

static void put_f64(unsigned char *b, double x)
{
    uint64_t v;
    memcpy(&v, &x, sizeof v);
    put_u64(b, v);
}

/* Rewrites the length field and the checksum of an image of n bytes. */
static void fix_envelope(unsigned char *p, size_t n)
{
    put_u64(p + 16, (uint64_t)n);
    put_u64(p + n - 8, ref_crc64(p, n - 8));
}

/* Growable byte string for crafted images. */
typedef struct {
    unsigned char *p;
    size_t n;
} bytes;

static void b_put(bytes *b, const void *src, size_t n)
{
    b->p = realloc(b->p, b->n + n + 1);
    ck_assert_ptr_nonnull(b->p);
    memcpy(b->p + b->n, src, n);
    b->n += n;
}

static void b_section(bytes *b, const char *tag, const void *payload, size_t n)
{
    unsigned char h[12];
    memcpy(h, tag, 4);
    put_u64(h + 4, (uint64_t)n);
    b_put(b, h, 12);
    if (n) b_put(b, payload, n);
}

static void b_header(bytes *b)
{
    static const unsigned char magic[8] = {0x89, 'O', 'V', 'I', 'C', 'A', '\r', '\n'};
    unsigned char h[24] = {0};
    memcpy(h, magic, 8);
    put_u32(h + 8, 1);
    put_u32(h + 12, 100);
    b_put(b, h, 24);
}

static void b_finish(bytes *b)
{
    unsigned char z[8] = {0};
    b_put(b, z, 8);
    fix_envelope(b->p, b->n);
}

/* A MODL payload: m, n, sigma, kind, reserved, b, A (from `A`, or i + 0.5). */
static unsigned char *modl_payload(size_t m, size_t n, double sigma, uint32_t kind,
                                   uint32_t reserved, double b, const double *A, size_t *len)
{
    *len = 40 + 8 * m * n;
    unsigned char *p = calloc(*len, 1);
    ck_assert_ptr_nonnull(p);
    put_u64(p, m);
    put_u64(p + 8, n);
    put_f64(p + 16, sigma);
    put_u32(p + 24, kind);
    put_u32(p + 28, reserved);
    put_f64(p + 32, b);
    for (size_t i = 0; i < m * n; i++) put_f64(p + 40 + 8 * i, A ? A[i] : (double)i + 0.5);
    return p;
}

/* A whole image holding a MODL section with these fields. */
static bytes image_with(size_t m, size_t n, double sigma, uint32_t kind, uint32_t reserved,
                        double b, const double *A)
{
    bytes im = {0};
    size_t len;
    unsigned char *pl = modl_payload(m, n, sigma, kind, reserved, b, A, &len);
    b_header(&im);
    b_section(&im, "MODL", pl, len);
    b_finish(&im);
    free(pl);
    return im;
}

static ovica_model *make_model(int kind, size_t m, size_t n, double sigma, double b, uint64_t seed)
{
    ovica_prior *pr = NULL;
    if (kind == OVICA_PRIOR_LAPLACE) ck_assert_status(ovica_prior_laplace_new(&pr, b), OVICA_OK);
    else ck_assert_status(ovica_prior_exponential_new(&pr, b), OVICA_OK);
    ovica_model *md = NULL;
    ck_assert_status(ovica_model_new(&md, m, n, pr, sigma), OVICA_OK);
    ovica_prior_free(pr);
    tu_rng r;
    tu_seed(&r, seed);
    double *A = malloc(m * n * sizeof *A);
    ck_assert_ptr_nonnull(A);
    tu_fill_normal(&r, A, m * n, 1.0);
    A[0] = 1e-310;      /* a subnormal */
    if (m * n > 1) A[1] = -0.0; /* a negative zero */
    ck_assert_status(ovica_model_set_basis(md, A, m, n), OVICA_OK);
    free(A);
    return md;
}

/* Bitwise equality of two models. */
static void assert_same_model(const ovica_model *a, const ovica_model *b)
{
    size_t m = ovica_model_dim(a), n = ovica_model_atoms(a);
    ck_assert_uint_eq(ovica_model_dim(b), m);
    ck_assert_uint_eq(ovica_model_atoms(b), n);
    ck_assert_mem_eq(ovica_model_basis(a), ovica_model_basis(b), m * n * sizeof(double));
    double sa = ovica_model_sigma(a), sb = ovica_model_sigma(b);
    ck_assert_mem_eq(&sa, &sb, sizeof sa);
    const ovica_prior *pa = ovica_model_prior(a), *pb = ovica_model_prior(b);
    ck_assert_int_eq(ovica_prior_kind(pa), ovica_prior_kind(pb));
    ck_assert_int_eq(ovica_prior_domain(pa), ovica_prior_domain(pb));
    double ba = 0, bb = 0;
    ck_assert_status(ovica_prior_scale(pa, &ba), OVICA_OK);
    ck_assert_status(ovica_prior_scale(pb, &bb), OVICA_OK);
    ck_assert_mem_eq(&ba, &bb, sizeof ba);
    double la = 0, lb = 0;
    ck_assert_status(ovica_model_lipschitz(a, &la), OVICA_OK);
    ck_assert_status(ovica_model_lipschitz(b, &lb), OVICA_OK);
    ck_assert_double_eq_tol(la, lb, 1e-12 * (1 + la));
}

static char tmpdir[256];

static void setup_dir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ovica_modelio_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown_dir(void)
{
    DIR *d = opendir(tmpdir);
    if (d == NULL) return;
    struct dirent *e;
    char p[600];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
        struct stat sb;
        if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode)) rmdir(p);
        else unlink(p);
    }
    closedir(d);
    rmdir(tmpdir);
}

static void path_in(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", tmpdir, name);
}

static bytes slurp(const char *path)
{
    bytes b = {0};
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    unsigned char buf[4096];
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, f)) > 0) b_put(&b, buf, k);
    fclose(f);
    return b;
}

static void spill(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    if (n) ck_assert_uint_eq(fwrite(p, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

static int count_temps(void)
{
    DIR *d = opendir(tmpdir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strstr(e->d_name, ".tmp.") != NULL) n++;
    closedir(d);
    return n;
}

/* A pointer value that the loaders must leave in place on failure. */
#define SENTINEL ((ovica_model *)(uintptr_t)0x5e47)

/* ------------------------------------------------------------------------ */
/* Round trips and layout                                                   */

START_TEST(test_crc_reference)
{
    /* The standard check value of CRC-64/XZ. */
    ck_assert(ref_crc64((const unsigned char *)"123456789", 9) == 0x995DC9BBDF1939FAULL);
}
END_TEST

START_TEST(test_roundtrip_exact)
{
    static const size_t shapes[][2] = {{1, 1}, {2, 3}, {2, 4}, {5, 3}, {16, 64}, {64, 16}};
    char p[300];
    path_in(p, sizeof p, "m.ovm");
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        for (int kind = 0; kind < 2; kind++) {
            size_t m = shapes[s][0], n = shapes[s][1];
            ovica_model *md = make_model(kind, m, n, 0.05 + 0.01 * (double)s, 0.7 + (double)kind,
                                         100 + s);
            ck_assert_status(ovica_model_save(md, p), OVICA_OK);
            ovica_model *back = NULL;
            ck_assert_status(ovica_model_load(&back, p), OVICA_OK);
            assert_same_model(md, back);

            void *buf = NULL;
            size_t len = 0;
            ck_assert_status(ovica_model_save_buffer(md, &buf, &len), OVICA_OK);
            bytes f = slurp(p);
            ck_assert_uint_eq(f.n, len);
            ck_assert_mem_eq(f.p, buf, len); /* the file is the buffer */
            ovica_model *back2 = NULL;
            ck_assert_status(ovica_model_load_buffer(&back2, buf, len), OVICA_OK);
            assert_same_model(md, back2);

            /* saving the loaded model gives the same bytes (deterministic) */
            void *buf2 = NULL;
            size_t len2 = 0;
            ck_assert_status(ovica_model_save_buffer(back2, &buf2, &len2), OVICA_OK);
            ck_assert_uint_eq(len2, len);
            ck_assert_mem_eq(buf2, buf, len);
            free(f.p);
            ovica_free(buf);
            ovica_free(buf2);
            ovica_model_free(md);
            ovica_model_free(back);
            ovica_model_free(back2);
        }
    }
    ck_assert_int_eq(count_temps(), 0);
}
END_TEST

START_TEST(test_layout)
{
    ovica_model *md = make_model(OVICA_PRIOR_EXPONENTIAL, 2, 3, 0.25, 1.5, 7);
    void *v = NULL;
    size_t len = 0;
    ck_assert_status(ovica_model_save_buffer(md, &v, &len), OVICA_OK);
    const unsigned char *p = v;
    ck_assert_uint_eq(len, 24 + 12 + 40 + 48 + 8);
    static const unsigned char magic[8] = {0x89, 'O', 'V', 'I', 'C', 'A', '\r', '\n'};
    ck_assert_mem_eq(p, magic, 8);
    ck_assert_uint_eq(get_u32(p + 8), 1);
    ck_assert_uint_eq(get_u32(p + 8), OVICA_MODEL_FORMAT_VERSION);
    ck_assert_uint_eq(get_u32(p + 12), (uint32_t)OVICA_VERSION_NUMBER);
    ck_assert_uint_eq(get_u64(p + 16), len);
    ck_assert_mem_eq(p + 24, "MODL", 4);
    ck_assert_uint_eq(get_u64(p + 28), 40 + 48);
    ck_assert_uint_eq(get_u64(p + 36), 2);
    ck_assert_uint_eq(get_u64(p + 44), 3);
    unsigned char want[8];
    put_f64(want, 0.25);
    ck_assert_mem_eq(p + 52, want, 8);
    ck_assert_uint_eq(get_u32(p + 60), OVICA_PRIOR_EXPONENTIAL);
    ck_assert_uint_eq(get_u32(p + 64), 0);
    put_f64(want, 1.5);
    ck_assert_mem_eq(p + 68, want, 8);
    const double *A = ovica_model_basis(md);
    for (int i = 0; i < 6; i++) {
        put_f64(want, A[i]);
        ck_assert_mem_eq(p + 76 + 8 * i, want, 8);
    }
    ck_assert(get_u64(p + len - 8) == ref_crc64(p, len - 8));
    ovica_free(v);
    ovica_model_free(md);
}
END_TEST

/* An image built here by hand loads as the model it describes. */
START_TEST(test_crafted_image_loads)
{
    double A[6] = {1, 0, -1, 0, 1, 0.5};
    bytes im = image_with(2, 3, 0.1, OVICA_PRIOR_LAPLACE, 0, 2.0, A);
    ovica_model *md = NULL;
    ck_assert_status(ovica_model_load_buffer(&md, im.p, im.n), OVICA_OK);
    ck_assert_uint_eq(ovica_model_dim(md), 2);
    ck_assert_uint_eq(ovica_model_atoms(md), 3);
    ck_assert_mem_eq(ovica_model_basis(md), A, sizeof A);
    ck_assert(ovica_model_sigma(md) == 0.1);
    ck_assert_int_eq(ovica_prior_kind(ovica_model_prior(md)), OVICA_PRIOR_LAPLACE);
    ovica_model_free(md);
    free(im.p);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Damage                                                                   */

START_TEST(test_every_truncation)
{
    ovica_model *md = make_model(OVICA_PRIOR_LAPLACE, 3, 5, 0.1, 1.0, 11);
    void *v = NULL;
    size_t len = 0;
    ck_assert_status(ovica_model_save_buffer(md, &v, &len), OVICA_OK);
    /* Each prefix in a buffer of exactly its length, so that a read past the
     * end would show under a memory checker. */
    size_t bad = 0, first_bad = SIZE_MAX, no_msg = 0;
    for (size_t k = 0; k < len; k++) {
        unsigned char *cut = malloc(k ? k : 1);
        memcpy(cut, v, k);
        ovica_model *out = SENTINEL;
        ovica_error_clear();
        int st = ovica_model_load_buffer(&out, cut, k);
        if (st != OVICA_EFORMAT || out != SENTINEL) {
            bad++;
            if (first_bad == SIZE_MAX) first_bad = k;
        }
        if (strstr(ovica_error_message(), k < 8 ? "" : "truncated") == NULL) no_msg++;
        free(cut);
    }
    ck_assert_msg(bad == 0, "%zu prefixes not refused with OVICA_EFORMAT (first: length %zu)", bad,
                  first_bad);
    ck_assert_msg(no_msg == 0, "%zu truncations without 'truncated' in the message", no_msg);

    /* and as files */
    char p[300];
    path_in(p, sizeof p, "cut.ovm");
    for (size_t k = 0; k < len; k += 7) {
        spill(p, v, k);
        ovica_model *out = SENTINEL;
        if (ovica_model_load(&out, p) != OVICA_EFORMAT || out != SENTINEL) bad++;
    }
    ck_assert_msg(bad == 0, "%zu truncated files not refused", bad);
    ovica_free(v);
    ovica_model_free(md);
}
END_TEST

START_TEST(test_every_bit_flip)
{
    ovica_model *md = make_model(OVICA_PRIOR_EXPONENTIAL, 2, 4, 0.05, 1.0, 12);
    void *v = NULL;
    size_t len = 0;
    ck_assert_status(ovica_model_save_buffer(md, &v, &len), OVICA_OK);
    unsigned char *c = malloc(len);
    size_t bad = 0, first = SIZE_MAX;
    for (size_t bit = 0; bit < 8 * len; bit++) {
        memcpy(c, v, len);
        c[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        ovica_model *out = SENTINEL;
        int st = ovica_model_load_buffer(&out, c, len);
        if (st != OVICA_EFORMAT || out != SENTINEL) {
            bad++;
            if (first == SIZE_MAX) first = bit;
        }
    }
    ck_assert_msg(bad == 0, "%zu bit flips not detected (first: bit %zu)", bad, first);
    /* the message says what happened */
    memcpy(c, v, len);
    c[len / 2] ^= 0x10;
    ovica_model *out = SENTINEL;
    ck_assert_error(ovica_model_load_buffer(&out, c, len), OVICA_EFORMAT);
    ck_assert_ptr_nonnull(strstr(ovica_error_message(), "checksum"));
    /* also whole bytes swapped, and a run of zeros */
    memcpy(c, v, len);
    unsigned char t = c[40];
    c[40] = c[41];
    c[41] = t;
    if (c[40] != c[41]) ck_assert_error(ovica_model_load_buffer(&out, c, len), OVICA_EFORMAT);
    memcpy(c, v, len);
    memset(c + 30, 0, 20);
    ck_assert_error(ovica_model_load_buffer(&out, c, len), OVICA_EFORMAT);
    ck_assert_ptr_eq(out, SENTINEL);
    free(c);
    ovica_free(v);
    ovica_model_free(md);
}
END_TEST

START_TEST(test_magic_version_length)
{
    ovica_model *md = make_model(OVICA_PRIOR_LAPLACE, 2, 3, 0.1, 1.0, 13);
    void *v = NULL;
    size_t len = 0;
    ck_assert_status(ovica_model_save_buffer(md, &v, &len), OVICA_OK);
    unsigned char *c = malloc(len + 16);
    ovica_model *out = SENTINEL;

    /* wrong magic: not a model file at all (e.g. a .npy) */
    memcpy(c, v, len);
    c[1] = 'X';
    ck_assert_error(ovica_model_load_buffer(&out, c, len), OVICA_EFORMAT);
    ck_assert_ptr_nonnull(strstr(ovica_error_message(), "magic"));
    ck_assert_error(ovica_model_load_buffer(&out, "\x93NUMPY\x01\x00", 8), OVICA_EFORMAT);
    ck_assert_ptr_nonnull(strstr(ovica_error_message(), "magic"));
    ck_assert_error(ovica_model_load_buffer(&out, "hello", 5), OVICA_EFORMAT);
    ck_assert_error(ovica_model_load_buffer(&out, "", 0), OVICA_EFORMAT);

    /* a newer format version with a valid checksum: OVICA_EVERSION */
    memcpy(c, v, len);
    put_u32(c + 8, 2);
    fix_envelope(c, len);
    ck_assert_error(ovica_model_load_buffer(&out, c, len), OVICA_EVERSION);
    ck_assert_ptr_nonnull(strstr(ovica_error_message(), "version 2"));
    put_u32(c + 8, 0);
    fix_envelope(c, len);
    ck_assert_error(ovica_model_load_buffer(&out, c, len), OVICA_EVERSION);
    /* ... but the writer's version is informational only */
    memcpy(c, v, len);
    put_u32(c + 12, 999999);
    fix_envelope(c, len);
    ovica_model *ok = NULL;
    ck_assert_status(ovica_model_load_buffer(&ok, c, len), OVICA_OK);
    ovica_model_free(ok);

    /* trailing bytes */
    memcpy(c, v, len);
    c[len] = 0;
    ck_assert_error(ovica_model_load_buffer(&out, c, len + 1), OVICA_EFORMAT);
    ck_assert_ptr_nonnull(strstr(ovica_error_message(), "after the declared end"));
    /* a length field that lies (checksum fixed for the lie) */
    memcpy(c, v, len);
    put_u64(c + 16, (uint64_t)len + 8);
    ck_assert_error(ovica_model_load_buffer(&out, c, len), OVICA_EFORMAT);
    put_u64(c + 16, UINT64_MAX);
    ck_assert_error(ovica_model_load_buffer(&out, c, len), OVICA_EFORMAT);
    ck_assert_ptr_eq(out, SENTINEL);
    free(c);
    ovica_free(v);
    ovica_model_free(md);
}
END_TEST

/* Images with a valid checksum but invalid contents (what a fuzzer makes). */
START_TEST(test_invalid_contents)
{
    ovica_model *out = SENTINEL;
    double A[6] = {1, 2, 3, 4, 5, 6};
    struct {
        size_t m, n;
        double sigma;
        uint32_t kind, reserved;
        double b;
        int nan_in_A;
        const char *msg;
    } cases[] = {
        {0, 3, 0.1, 0, 0, 1.0, 0, "size"},
        {2, 0, 0.1, 0, 0, 1.0, 0, "size"},
        {2, 3, 0.0, 0, 0, 1.0, 0, "sigma"},
        {2, 3, -1.0, 0, 0, 1.0, 0, "sigma"},
        {2, 3, NAN, 0, 0, 1.0, 0, "sigma"},
        {2, 3, INFINITY, 0, 0, 1.0, 0, "sigma"},
        {2, 3, 1e-200, 0, 0, 1.0, 0, "sigma"}, /* finite, positive, refused by the model */
        {2, 3, 1e200, 1, 0, 1.0, 0, "sigma"},
        {2, 3, 0.1, 2, 0, 1.0, 0, "prior family"},
        {2, 3, 0.1, 77, 0, 1.0, 0, "prior family"},
        {2, 3, 0.1, 1, 5, 1.0, 0, "reserved"},
        {2, 3, 0.1, 1, 0, 0.0, 0, "scale"},
        {2, 3, 0.1, 1, 0, -2.0, 0, "scale"},
        {2, 3, 0.1, 1, 0, NAN, 0, "scale"},
        {2, 3, 0.1, 1, 0, 1.0, 1, "basis"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double Ai[6];
        memcpy(Ai, A, sizeof A);
        if (cases[i].nan_in_A) Ai[4] = NAN;
        size_t m = cases[i].m ? cases[i].m : 2, n = cases[i].n ? cases[i].n : 3;
        bytes im = image_with(m, n, cases[i].sigma, cases[i].kind, cases[i].reserved, cases[i].b,
                              Ai);
        /* zero sizes: keep the declared size zero but the payload as built */
        if (cases[i].m == 0) put_u64(im.p + 36, 0);
        if (cases[i].n == 0) put_u64(im.p + 44, 0);
        fix_envelope(im.p, im.n);
        ovica_error_clear();
        int st = ovica_model_load_buffer(&out, im.p, im.n);
        ck_assert_msg(st == OVICA_EFORMAT, "case %zu: status %d (%s)", i, st,
                      ovica_error_message());
        ck_assert_msg(strstr(ovica_error_message(), cases[i].msg) != NULL,
                      "case %zu: message '%s' lacks '%s'", i, ovica_error_message(),
                      cases[i].msg);
        free(im.p);
    }
    ck_assert_ptr_eq(out, SENTINEL);

    /* sizes that disagree with the payload, and huge sizes */
    static const uint64_t sizes[][2] = {{2, 4}, {1, 3}, {3, 3}, {UINT64_MAX, 2},
                                        {(uint64_t)1 << 31, (uint64_t)1 << 31}, {1u << 20, 1u << 20}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        bytes im = image_with(2, 3, 0.1, 0, 0, 1.0, A);
        put_u64(im.p + 36, sizes[i][0]);
        put_u64(im.p + 44, sizes[i][1]);
        fix_envelope(im.p, im.n);
        ck_assert_error(ovica_model_load_buffer(&out, im.p, im.n), OVICA_EFORMAT);
        free(im.p);
    }

    /* a MODL payload too short for its fixed fields */
    for (size_t cut = 0; cut < 40; cut += 3) {
        bytes im = {0};
        size_t len;
        unsigned char *pl = modl_payload(2, 3, 0.1, 0, 0, 1.0, A, &len);
        b_header(&im);
        b_section(&im, "MODL", pl, cut);
        b_finish(&im);
        ck_assert_error(ovica_model_load_buffer(&out, im.p, im.n), OVICA_EFORMAT);
        free(pl);
        free(im.p);
    }
    ck_assert_ptr_eq(out, SENTINEL);
}
END_TEST

START_TEST(test_sections)
{
    double A[6] = {1, 2, 3, 4, 5, 6};
    size_t len;
    unsigned char *pl = modl_payload(2, 3, 0.1, 1, 0, 1.0, A, &len);
    ovica_model *out = SENTINEL;

    /* no section at all */
    bytes im = {0};
    b_header(&im);
    b_finish(&im);
    ck_assert_error(ovica_model_load_buffer(&out, im.p, im.n), OVICA_EFORMAT);
    ck_assert_ptr_nonnull(strstr(ovica_error_message(), "MODL"));
    free(im.p);

    /* an optional (lowercase) section before MODL is not allowed: MODL first */
    im = (bytes){0};
    b_header(&im);
    b_section(&im, "note", "hi", 2);
    b_section(&im, "MODL", pl, len);
    b_finish(&im);
    ck_assert_error(ovica_model_load_buffer(&out, im.p, im.n), OVICA_EFORMAT);
    free(im.p);

    /* optional sections after MODL are skipped, TRST too */
    im = (bytes){0};
    b_header(&im);
    b_section(&im, "MODL", pl, len);
    b_section(&im, "note", "hello", 5);
    b_section(&im, "TRST", "\x01\x02\x03", 3);
    b_section(&im, "zero", NULL, 0);
    b_finish(&im);
    ovica_model *md = NULL;
    ck_assert_status(ovica_model_load_buffer(&md, im.p, im.n), OVICA_OK);
    ck_assert_mem_eq(ovica_model_basis(md), A, sizeof A);
    ovica_model_free(md);
    free(im.p);

    /* an unknown required section: a newer format */
    im = (bytes){0};
    b_header(&im);
    b_section(&im, "MODL", pl, len);
    b_section(&im, "XTRA", "abc", 3);
    b_finish(&im);
    ck_assert_error(ovica_model_load_buffer(&out, im.p, im.n), OVICA_EVERSION);
    ck_assert_ptr_nonnull(strstr(ovica_error_message(), "XTRA"));
    free(im.p);

    /* two MODL sections; two TRST sections */
    im = (bytes){0};
    b_header(&im);
    b_section(&im, "MODL", pl, len);
    b_section(&im, "MODL", pl, len);
    b_finish(&im);
    ck_assert_error(ovica_model_load_buffer(&out, im.p, im.n), OVICA_EFORMAT);
    free(im.p);
    im = (bytes){0};
    b_header(&im);
    b_section(&im, "MODL", pl, len);
    b_section(&im, "TRST", "a", 1);
    b_section(&im, "TRST", "a", 1);
    b_finish(&im);
    ck_assert_error(ovica_model_load_buffer(&out, im.p, im.n), OVICA_EFORMAT);
    free(im.p);

    /* a section length that runs past the end; a dangling partial header */
    im = (bytes){0};
    b_header(&im);
    b_section(&im, "MODL", pl, len);
    b_section(&im, "note", "hello", 5);
    b_finish(&im);
    put_u64(im.p + 24 + 12 + len + 4, 6);
    fix_envelope(im.p, im.n);
    ck_assert_error(ovica_model_load_buffer(&out, im.p, im.n), OVICA_EFORMAT);
    put_u64(im.p + 24 + 12 + len + 4, UINT64_MAX);
    fix_envelope(im.p, im.n);
    ck_assert_error(ovica_model_load_buffer(&out, im.p, im.n), OVICA_EFORMAT);
    free(im.p);
    im = (bytes){0};
    b_header(&im);
    b_section(&im, "MODL", pl, len);
    b_put(&im, "note\x01", 5);
    b_finish(&im);
    ck_assert_error(ovica_model_load_buffer(&out, im.p, im.n), OVICA_EFORMAT);
    free(im.p);
    /* a tag with unprintable bytes is named safely */
    im = (bytes){0};
    b_header(&im);
    b_section(&im, "MODL", pl, len);
    b_section(&im, "\x01\xff'\\", "x", 1);
    b_finish(&im);
    ck_assert_error(ovica_model_load_buffer(&out, im.p, im.n), OVICA_EVERSION);
    ck_assert_ptr_nonnull(strstr(ovica_error_message(), "\\x01\\xFF"));
    free(im.p);
    ck_assert_ptr_eq(out, SENTINEL);
    free(pl);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Files                                                                    */

static int user_neglogp(const double *s, size_t count, double *out, void *user)
{
    (void)user;
    double t = 0;
    for (size_t i = 0; i < count; i++) t += s[i] * s[i];
    *out = t;
    return 0;
}

static int user_grad(const double *s, size_t count, double *g, void *user)
{
    (void)user;
    for (size_t i = 0; i < count; i++) g[i] = 2 * s[i];
    return 0;
}

START_TEST(test_user_prior_not_saved)
{
    ovica_prior_callbacks cb = OVICA_PRIOR_CALLBACKS_INIT;
    cb.neglogp = user_neglogp;
    cb.grad = user_grad;
    cb.name = "gauss";
    ovica_prior *pr = NULL;
    ck_assert_status(ovica_prior_user_new(&pr, &cb, NULL), OVICA_OK);
    ovica_model *md = NULL;
    ck_assert_status(ovica_model_new(&md, 2, 3, pr, 0.1), OVICA_OK);
    ovica_prior_free(pr);

    char p[300];
    path_in(p, sizeof p, "user.ovm");
    ck_assert_error(ovica_model_save(md, p), OVICA_ENOTSUP);
    ck_assert_ptr_nonnull(strstr(ovica_error_message(), "gauss"));
    struct stat sb;
    ck_assert_int_ne(stat(p, &sb), 0); /* nothing written */
    void *buf = (void *)1;
    size_t len = 5;
    ck_assert_error(ovica_model_save_buffer(md, &buf, &len), OVICA_ENOTSUP);
    ck_assert_ptr_null(buf);
    ck_assert_uint_eq(len, 0);

    /* an existing file is left as it was */
    ovica_model *good = make_model(OVICA_PRIOR_LAPLACE, 2, 3, 0.1, 1.0, 5);
    ck_assert_status(ovica_model_save(good, p), OVICA_OK);
    bytes before = slurp(p);
    ck_assert_error(ovica_model_save(md, p), OVICA_ENOTSUP);
    bytes after = slurp(p);
    ck_assert_uint_eq(before.n, after.n);
    ck_assert_mem_eq(before.p, after.p, before.n);
    ck_assert_int_eq(count_temps(), 0);
    free(before.p);
    free(after.p);
    ovica_model_free(good);
    ovica_model_free(md);
}
END_TEST

START_TEST(test_atomic_failed_save)
{
    char p[300];
    path_in(p, sizeof p, "keep.ovm");
    ovica_model *small = make_model(OVICA_PRIOR_LAPLACE, 2, 3, 0.1, 1.0, 21);
    ovica_model *big = make_model(OVICA_PRIOR_LAPLACE, 64, 128, 0.1, 1.0, 22);
    ck_assert_status(ovica_model_save(small, p), OVICA_OK);
    ck_assert_int_eq(chmod(p, 0600), 0);
    bytes before = slurp(p);

    /* Make the write itself fail half way: a file size limit (works as root
     * too). Check forks each test, so the limit ends with the test; it is
     * restored anyway for CK_FORK=no. */
    struct rlimit old, lim;
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    lim = old;
    lim.rlim_cur = 4096;
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
    int st = ovica_model_save(big, p);
    char msg[600];
    snprintf(msg, sizeof msg, "%s", ovica_error_message());
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, old_handler);
    ck_assert_msg(st == OVICA_EIO, "status %d: %s", st, msg);
    ck_assert_ptr_nonnull(strstr(msg, "keep.ovm"));

    bytes after = slurp(p);
    ck_assert_uint_eq(before.n, after.n);
    ck_assert_mem_eq(before.p, after.p, before.n);
    ck_assert_int_eq(count_temps(), 0);
    ovica_model *back = NULL;
    ck_assert_status(ovica_model_load(&back, p), OVICA_OK);
    assert_same_model(small, back);
    ovica_model_free(back);

    /* a successful save replaces the file and keeps its mode */
    ck_assert_status(ovica_model_save(big, p), OVICA_OK);
    struct stat sb;
    ck_assert_int_eq(stat(p, &sb), 0);
    ck_assert_int_eq((int)(sb.st_mode & 0777), 0600);
    ck_assert_status(ovica_model_load(&back, p), OVICA_OK);
    assert_same_model(big, back);
    ovica_model_free(back);

    /* the target is a directory: the rename fails, nothing is left behind */
    char q[300];
    path_in(q, sizeof q, "adir");
    ck_assert_int_eq(mkdir(q, 0755), 0);
    ck_assert_error(ovica_model_save(small, q), OVICA_EIO);
    ck_assert_ptr_nonnull(strstr(ovica_error_message(), "rename"));
    ck_assert_int_eq(count_temps(), 0);
    /* a missing directory */
    path_in(q, sizeof q, "no/such/dir/m.ovm");
    ck_assert_error(ovica_model_save(small, q), OVICA_EIO);

    free(before.p);
    free(after.p);
    ovica_model_free(small);
    ovica_model_free(big);
}
END_TEST

START_TEST(test_load_errors_and_args)
{
    char p[300];
    path_in(p, sizeof p, "missing.ovm");
    ovica_model *out = SENTINEL;
    ck_assert_error(ovica_model_load(&out, p), OVICA_EIO);
    ck_assert_ptr_nonnull(strstr(ovica_error_message(), "missing.ovm"));
    ck_assert_error(ovica_model_load(&out, tmpdir), OVICA_EIO);
    /* an empty file, a .npy file */
    path_in(p, sizeof p, "empty.ovm");
    spill(p, "", 0);
    ck_assert_error(ovica_model_load(&out, p), OVICA_EFORMAT);
    path_in(p, sizeof p, "a.npy");
    double x[4] = {1, 2, 3, 4};
    ck_assert_status(ovica_npy_write(p, x, 2, 2), OVICA_OK);
    ck_assert_error(ovica_model_load(&out, p), OVICA_EFORMAT);
    ck_assert_ptr_nonnull(strstr(ovica_error_message(), "a.npy"));
    ck_assert_ptr_eq(out, SENTINEL);

    ovica_model *md = make_model(OVICA_PRIOR_LAPLACE, 2, 2, 0.1, 1.0, 3);
    void *buf = NULL;
    size_t len = 0;
    ck_assert_error(ovica_model_save(NULL, p), OVICA_EINVAL);
    ck_assert_error(ovica_model_save(md, NULL), OVICA_EINVAL);
    ck_assert_error(ovica_model_save(md, ""), OVICA_EINVAL);
    ck_assert_error(ovica_model_save_buffer(NULL, &buf, &len), OVICA_EINVAL);
    ck_assert_error(ovica_model_save_buffer(md, NULL, &len), OVICA_EINVAL);
    ck_assert_error(ovica_model_save_buffer(md, &buf, NULL), OVICA_EINVAL);
    ck_assert_error(ovica_model_load(NULL, p), OVICA_EINVAL);
    ck_assert_error(ovica_model_load(&out, NULL), OVICA_EINVAL);
    ck_assert_error(ovica_model_load_buffer(NULL, "x", 1), OVICA_EINVAL);
    ck_assert_error(ovica_model_load_buffer(&out, NULL, 0), OVICA_EINVAL);
    ck_assert_ptr_eq(out, SENTINEL);
    ovica_model_free(md);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Checkpoints                                                              */

/* A trainer on the article's 3-atom set after a few steps. */
static ovica_trainer *trained(double **Xout, size_t *Nout, size_t steps)
{
    const size_t N = 400, m = 2, n = 3;
    double A[6], *S = malloc(N * n * sizeof *S), *X = malloc(N * m * sizeof *X);
    ovica_rng *r = NULL;
    ck_assert_status(ovica_rng_new(&r, 4), OVICA_OK);
    ck_assert_status(ovica_synth_basis_2d(OVICA_SYNTH_REGULAR3, A, 2, 3), OVICA_OK);
    ck_assert_status(ovica_synth_sources(r, OVICA_PRIOR_EXPONENTIAL, 1.0, 1.0, S, N, n), OVICA_OK);
    ck_assert_status(ovica_synth_mix(r, A, m, n, S, N, 0.05, X), OVICA_OK);
    ovica_rng_free(r);
    free(S);
    ovica_model *md = make_model(OVICA_PRIOR_EXPONENTIAL, m, n, 0.05, 1.0, 9);
    ovica_trainer *t = NULL;
    ck_assert_status(ovica_trainer_new(&t, md, ovica_rule_natural, 17), OVICA_OK);
    ovica_model_free(md);
    ck_assert_status(ovica_trainer_set_param(t, OVICA_TRAIN_STEPS, 40), OVICA_OK);
    ck_assert_status(ovica_trainer_set_param(t, OVICA_TRAIN_LR, 0.123), OVICA_OK);
    ck_assert_status(ovica_trainer_set_param(t, OVICA_TRAIN_MONITOR_EVERY, 1), OVICA_OK);
    ck_assert_status(ovica_trainer_set_param(t, OVICA_TRAIN_SOLVER_ITER, 50), OVICA_OK);
    ck_assert_status(ovica_trainer_init_basis(t, OVICA_INIT_SPREAD, X, N, m), OVICA_OK);
    for (size_t k = 0; k < steps; k++)
        ck_assert_status(ovica_trainer_step(t, X, N, m, NULL), OVICA_OK);
    *Xout = X;
    *Nout = N;
    return t;
}

START_TEST(test_checkpoint_roundtrip)
{
    double *X;
    size_t N;
    ovica_trainer *t = trained(&X, &N, 5);
    char p[300];
    path_in(p, sizeof p, "c.ovm");
    ck_assert_status(ovica_checkpoint_save(t, p), OVICA_OK);
    ovica_trainer *u = NULL;
    ck_assert_status(ovica_checkpoint_load(&u, p), OVICA_OK);
    ck_assert_str_eq(ovica_rule_type_name(ovica_trainer_rule(u)), "natural");
    ck_assert_uint_eq(ovica_trainer_step_index(u), 5);
    assert_same_model(ovica_trainer_model(t), ovica_trainer_model(u));
    size_t np = 0, diff = 0;
    double lo, hi;
    for (int q = 0; ovica_trainer_param_bounds(q, &lo, &hi) == OVICA_OK; q++, np++) {
        double a = 0, b = 1;
        ck_assert_status(ovica_trainer_get_param(t, q, &a), OVICA_OK);
        ck_assert_status(ovica_trainer_get_param(u, q, &b), OVICA_OK);
        if (memcmp(&a, &b, sizeof a) != 0) diff++;
    }
    ck_assert_uint_ge(np, 20);
    ck_assert_msg(diff == 0, "%zu parameters differ after the round trip", diff);
    double v;
    ck_assert_status(ovica_trainer_get_param(u, OVICA_TRAIN_LR, &v), OVICA_OK);
    ck_assert(v == 0.123);

    /* the buffer is the file; a checkpoint is also a model file */
    void *buf = NULL;
    size_t len = 0;
    ck_assert_status(ovica_checkpoint_save_buffer(t, &buf, &len), OVICA_OK);
    bytes f = slurp(p);
    ck_assert_uint_eq(f.n, len);
    ck_assert_mem_eq(f.p, buf, len);
    ovica_model *md = NULL;
    ck_assert_status(ovica_model_load(&md, p), OVICA_OK);
    assert_same_model(ovica_trainer_model(t), md);

    /* the stored best basis is the trainer's */
    size_t m = 2, n = 3;
    double best[6], objective = 0;
    ck_assert_status(ovica_trainer_best_basis(t, best, m, n, &objective), OVICA_OK);
    const unsigned char *b = buf;
    ck_assert_uint_eq(get_u32(b + len - 8 - REGIME_BYTES - 48 - 8 - 4), 7); /* best, regime, noise */
    unsigned char want[8];
    put_f64(want, objective);
    ck_assert_mem_eq(b + len - 8 - REGIME_BYTES - 48 - 8, want, 8);
    for (int i = 0; i < 6; i++) {
        put_f64(want, best[i]);
        ck_assert_mem_eq(b + len - 8 - REGIME_BYTES - 48 + 8 * i, want, 8);
    }

    /* the best basis comes back with its objective */
    ovica_trainer *u2 = NULL;
    ck_assert_status(ovica_checkpoint_load_buffer(&u2, buf, len), OVICA_OK);
    {
        double back[6], back_obj = 0;
        ck_assert_status(ovica_trainer_best_basis(u2, back, m, n, &back_obj), OVICA_OK);
        ck_assert_double_eq(back_obj, objective);
        for (int i = 0; i < 6; i++) ck_assert_double_eq(back[i], best[i]);
    }
    ck_assert_error(ovica_trainer_set_best(u2, best, m, n, NAN), OVICA_ENONFINITE);
    ck_assert_error(ovica_trainer_set_best(u2, best, m, n + 1, 1.0), OVICA_ESIZE);
    ck_assert_error(ovica_trainer_set_best(u2, NULL, m, n, 1.0), OVICA_EINVAL);
    ovica_trainer_free(u2);
    u2 = NULL;
    /* training goes on from the loaded state; loading twice gives the same run */
    ck_assert_status(ovica_checkpoint_load_buffer(&u2, buf, len), OVICA_OK);
    for (int k = 0; k < 3; k++) {
        ck_assert_status(ovica_trainer_step(u, X, N, 2, NULL), OVICA_OK);
        ck_assert_status(ovica_trainer_step(u2, X, N, 2, NULL), OVICA_OK);
    }
    ck_assert_uint_eq(ovica_trainer_step_index(u), 8);
    assert_same_model(ovica_trainer_model(u), ovica_trainer_model(u2));

    ovica_free(buf);
    free(f.p);
    free(X);
    ovica_model_free(md);
    ovica_trainer_free(t);
    ovica_trainer_free(u);
    ovica_trainer_free(u2);
}
END_TEST

START_TEST(test_checkpoint_damage)
{
    double *X;
    size_t N;
    ovica_trainer *t = trained(&X, &N, 2);
    void *buf = NULL;
    size_t len = 0;
    ck_assert_status(ovica_checkpoint_save_buffer(t, &buf, &len), OVICA_OK);
    ovica_trainer *out = (ovica_trainer *)(uintptr_t)0x5e47;
    size_t bad = 0;
    unsigned char *c = malloc(len);
    for (size_t k = 0; k < len; k++) {
        memcpy(c, buf, k);
        if (ovica_checkpoint_load_buffer(&out, c, k) != OVICA_EFORMAT) bad++;
    }
    for (size_t bit = 0; bit < 8 * len; bit += 3) {
        memcpy(c, buf, len);
        c[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        if (ovica_checkpoint_load_buffer(&out, c, len) != OVICA_EFORMAT) bad++;
    }
    ck_assert_msg(bad == 0, "%zu damaged checkpoints not refused", bad);
    ck_assert_ptr_eq(out, (ovica_trainer *)(uintptr_t)0x5e47);

    /* crafted TRST sections with valid checksums */
    size_t tr = 24 + 12 + 40 + 48; /* offset of the TRST section header */
    ck_assert_mem_eq((unsigned char *)buf + tr, "TRST", 4);
    size_t body = tr + 12;
    /* an unknown rule name */
    memcpy(c, buf, len);
    memcpy(c + body + 4, "nat0ral", 7);
    fix_envelope(c, len);
    ck_assert_error(ovica_checkpoint_load_buffer(&out, c, len), OVICA_EFORMAT);
    ck_assert_ptr_nonnull(strstr(ovica_error_message(), "nat0ral"));
    /* a parameter id this library does not know */
    size_t params = body + 4 + 7 + 8 + 4; /* "natural" has 7 letters */
    memcpy(c, buf, len);
    put_u32(c + params, 9999);
    fix_envelope(c, len);
    ck_assert_error(ovica_checkpoint_load_buffer(&out, c, len), OVICA_EVERSION);
    /* an out-of-range value (OVICA_TRAIN_LR = 0 is first) */
    memcpy(c, buf, len);
    put_f64(c + params + 4, -1.0);
    fix_envelope(c, len);
    ck_assert_error(ovica_checkpoint_load_buffer(&out, c, len), OVICA_EFORMAT);
    /* a huge step index, a huge parameter count */
    memcpy(c, buf, len);
    put_u64(c + body + 4 + 7, UINT64_MAX);
    fix_envelope(c, len);
    ck_assert_error(ovica_checkpoint_load_buffer(&out, c, len), OVICA_EFORMAT);
    memcpy(c, buf, len);
    put_u32(c + body + 4 + 7 + 8, 100000);
    fix_envelope(c, len);
    ck_assert_error(ovica_checkpoint_load_buffer(&out, c, len), OVICA_EFORMAT);
    /* unknown flags */
    memcpy(c, buf, len);
    c[len - 8 - REGIME_BYTES - 48 - 8 - 4] |= 8;
    fix_envelope(c, len);
    ck_assert_error(ovica_checkpoint_load_buffer(&out, c, len), OVICA_EFORMAT);
    ck_assert_ptr_eq(out, (ovica_trainer *)(uintptr_t)0x5e47);

    /* a plain model file is not a checkpoint */
    void *mb = NULL;
    size_t ml = 0;
    ck_assert_status(ovica_model_save_buffer(ovica_trainer_model(t), &mb, &ml), OVICA_OK);
    ck_assert_error(ovica_checkpoint_load_buffer(&out, mb, ml), OVICA_EFORMAT);
    ck_assert_ptr_nonnull(strstr(ovica_error_message(), "TRST"));

    /* arguments and files */
    char p[300];
    path_in(p, sizeof p, "missing.ovm");
    ck_assert_error(ovica_checkpoint_load(&out, p), OVICA_EIO);
    ck_assert_error(ovica_checkpoint_load(NULL, p), OVICA_EINVAL);
    ck_assert_error(ovica_checkpoint_load(&out, NULL), OVICA_EINVAL);
    ck_assert_error(ovica_checkpoint_load_buffer(&out, NULL, 0), OVICA_EINVAL);
    ck_assert_error(ovica_checkpoint_save(NULL, p), OVICA_EINVAL);
    ck_assert_error(ovica_checkpoint_save(t, ""), OVICA_EINVAL);
    ck_assert_error(ovica_checkpoint_save_buffer(t, NULL, &ml), OVICA_EINVAL);
    ck_assert_ptr_eq(out, (ovica_trainer *)(uintptr_t)0x5e47);
    ovica_free(mb);
    free(c);
    free(X);
    ovica_free(buf);
    ovica_trainer_free(t);
}
END_TEST

START_TEST(test_checkpoint_user_prior)
{
    ovica_prior_callbacks cb = OVICA_PRIOR_CALLBACKS_INIT;
    cb.neglogp = user_neglogp;
    cb.grad = user_grad;
    ovica_prior *pr = NULL;
    ck_assert_status(ovica_prior_user_new(&pr, &cb, NULL), OVICA_OK);
    ovica_model *md = NULL;
    ck_assert_status(ovica_model_new(&md, 2, 3, pr, 0.1), OVICA_OK);
    ovica_prior_free(pr);
    ovica_trainer *t = NULL;
    ck_assert_status(ovica_trainer_new(&t, md, ovica_rule_natural, 1), OVICA_OK);
    char p[300];
    path_in(p, sizeof p, "u.ovm");
    ck_assert_error(ovica_checkpoint_save(t, p), OVICA_ENOTSUP);
    struct stat sb;
    ck_assert_int_ne(stat(p, &sb), 0);
    ovica_trainer_free(t);
    ovica_model_free(md);
}
END_TEST

static Suite *modelio_suite(void)
{
    Suite *s = suite_create("modelio");
    TCase *tc = tcase_create("modelio");
    tcase_add_checked_fixture(tc, setup_dir, teardown_dir);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_crc_reference);
    tcase_add_test(tc, test_roundtrip_exact);
    tcase_add_test(tc, test_layout);
    tcase_add_test(tc, test_crafted_image_loads);
    tcase_add_test(tc, test_every_truncation);
    tcase_add_test(tc, test_every_bit_flip);
    tcase_add_test(tc, test_magic_version_length);
    tcase_add_test(tc, test_invalid_contents);
    tcase_add_test(tc, test_sections);
    tcase_add_test(tc, test_user_prior_not_saved);
    tcase_add_test(tc, test_atomic_failed_save);
    tcase_add_test(tc, test_load_errors_and_args);
    tcase_add_test(tc, test_checkpoint_roundtrip);
    tcase_add_test(tc, test_checkpoint_damage);
    tcase_add_test(tc, test_checkpoint_user_prior);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_run(modelio_suite()); }

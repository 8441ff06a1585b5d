/*
 * Model files (ovica/modelio.h).
 *
 * A file is built in memory (the model is small next to the data) and then
 * written with ovica__write_atomic. Loading reads the whole file and parses
 * the image: envelope (magic, length, CRC-64, version), then the sections.
 * Values are encoded and decoded with shifts, so nothing depends on the
 * host's byte order.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fileio.h"
#include "internal.h"
#include "modelio_internal.h"
#include "ovica/io.h"
#include "ovica/modelio.h"

_Static_assert(sizeof(double) == 8, "IEEE binary64 required");

static const unsigned char MAGIC[8] = {0x89, 'O', 'V', 'I', 'C', 'A', '\r', '\n'};

#define HEADER_BYTES 24u
#define TRAILER_BYTES 8u
#define SECTION_HEAD 12u
#define MODL_FIXED 40u
#define ORIGIN_MAX 160

/* ------------------------------------------------------------------------ */
/* CRC-64/XZ: ECMA-182 polynomial, reflected, init and xorout all ones.     */

uint64_t ovica__crc64(const void *data, size_t len)
{
    uint64_t table[256];
    for (unsigned i = 0; i < 256; i++) {
        uint64_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0xC96C5795D7870F42ULL : c >> 1;
        table[i] = c;
    }
    const unsigned char *p = data;
    uint64_t crc = ~(uint64_t)0;
    for (size_t i = 0; i < len; i++) crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

/* ------------------------------------------------------------------------ */
/* Encoding                                                                  */

void ovica__wb_bytes(ovica__wbuf *w, const void *p, size_t n)
{
    if (w->oom) return;
    if (n > w->cap - w->len) {
        size_t cap = w->cap ? w->cap : 256;
        while (n > cap - w->len) {
            if (cap > SIZE_MAX / 2) {
                w->oom = 1;
                return;
            }
            cap *= 2;
        }
        unsigned char *np = ovica__realloc(w->p, cap);
        if (np == NULL) {
            w->oom = 1;
            return;
        }
        w->p = np;
        w->cap = cap;
    }
    if (n) memcpy(w->p + w->len, p, n);
    w->len += n;
}

void ovica__wb_u32(ovica__wbuf *w, uint32_t v)
{
    unsigned char b[4];
    for (int t = 0; t < 4; t++) b[t] = (unsigned char)(v >> (8 * t));
    ovica__wb_bytes(w, b, 4);
}

void ovica__wb_u64(ovica__wbuf *w, uint64_t v)
{
    unsigned char b[8];
    for (int t = 0; t < 8; t++) b[t] = (unsigned char)(v >> (8 * t));
    ovica__wb_bytes(w, b, 8);
}

void ovica__wb_f64(ovica__wbuf *w, double x)
{
    uint64_t v;
    memcpy(&v, &x, sizeof v);
    ovica__wb_u64(w, v);
}

void ovica__wb_f64s(ovica__wbuf *w, const double *x, size_t count)
{
    for (size_t i = 0; i < count && !w->oom; i++) ovica__wb_f64(w, x[i]);
}

size_t ovica__wb_section_begin(ovica__wbuf *w, const char tag[4])
{
    ovica__wb_bytes(w, tag, 4);
    size_t at = w->len;
    ovica__wb_u64(w, 0); /* patched by ovica__wb_section_end */
    return at;
}

void ovica__wb_section_end(ovica__wbuf *w, size_t at)
{
    if (w->oom) return;
    uint64_t n = (uint64_t)(w->len - at - 8);
    for (int t = 0; t < 8; t++) w->p[at + (size_t)t] = (unsigned char)(n >> (8 * t));
}

/* The header; the length is patched by wb_finish. */
void ovica__wb_header(ovica__wbuf *w)
{
    ovica__wb_bytes(w, MAGIC, sizeof MAGIC);
    ovica__wb_u32(w, OVICA_MODEL_FORMAT_VERSION);
    ovica__wb_u32(w, (uint32_t)OVICA_VERSION_NUMBER);
    ovica__wb_u64(w, 0);
}

/* Patches the total length and appends the checksum. */
int ovica__wb_finish(ovica__wbuf *w)
{
    if (!w->oom) {
        uint64_t total = (uint64_t)w->len + TRAILER_BYTES;
        for (int t = 0; t < 8; t++) w->p[16 + t] = (unsigned char)(total >> (8 * t));
        ovica__wb_u64(w, ovica__crc64(w->p, w->len));
    }
    if (w->oom) {
        ovica__free(w->p);
        w->p = NULL;
        w->len = w->cap = 0;
        return ovica__error(OVICA_ENOMEM, "cannot allocate the model file image");
    }
    return OVICA_OK;
}

int ovica__model_check_savable(const ovica_model *model)
{
    const ovica_prior *pr = ovica_model_prior(model);
    int kind = ovica_prior_kind(pr);
    if (kind != OVICA_PRIOR_LAPLACE && kind != OVICA_PRIOR_EXPONENTIAL)
        return ovica__error(OVICA_ENOTSUP,
                            "cannot save a model with the user prior '%s': only the built-in "
                            "priors (laplace, exponential) can be stored in a model file",
                            ovica_prior_name(pr));
    return OVICA_OK;
}

void ovica__wb_model(ovica__wbuf *w, const ovica_model *model)
{
    size_t m = ovica_model_dim(model), n = ovica_model_atoms(model);
    const ovica_prior *pr = ovica_model_prior(model);
    double b = 0.0;
    (void)ovica_prior_scale(pr, &b);
    size_t at = ovica__wb_section_begin(w, "MODL");
    ovica__wb_u64(w, (uint64_t)m);
    ovica__wb_u64(w, (uint64_t)n);
    ovica__wb_f64(w, ovica_model_sigma(model));
    ovica__wb_u32(w, (uint32_t)ovica_prior_kind(pr));
    ovica__wb_u32(w, 0);
    ovica__wb_f64(w, b);
    ovica__wb_f64s(w, ovica_model_basis(model), m * n);
    ovica__wb_section_end(w, at);
}

int ovica_model_save_buffer(const ovica_model *model, void **buf, size_t *len)
{
    if (buf) *buf = NULL;
    if (len) *len = 0;
    OVICA__CHECK_NULL(model, "model");
    OVICA__CHECK_NULL(buf, "buf");
    OVICA__CHECK_NULL(len, "len");
    int st = ovica__model_check_savable(model);
    if (st) return st;
    ovica__wbuf w = {NULL, 0, 0, 0};
    ovica__wb_header(&w);
    ovica__wb_model(&w, model);
    st = ovica__wb_finish(&w);
    if (st) return st;
    *buf = w.p;
    *len = w.len;
    return OVICA_OK;
}

/* Writes a ready image. */
struct image {
    const unsigned char *p;
    size_t len;
};

static int write_image(FILE *fp, void *arg)
{
    const struct image *im = arg;
    return fwrite(im->p, 1, im->len, fp) == im->len ? 0 : 1;
}

void ovica__origin_of_path(char *dst, size_t n, const char *kind, const char *path)
{
    size_t len = strlen(path);
    if (len > 100)
        snprintf(dst, n, "%s '...%s'", kind, path + (len - 97));
    else
        snprintf(dst, n, "%s '%s'", kind, path);
}

int ovica__save_image(const char *path, const char *kind, const void *buf, size_t len)
{
    char origin[ORIGIN_MAX];
    ovica__origin_of_path(origin, sizeof origin, kind, path);
    struct image im = {buf, len};
    return ovica__write_atomic(path, origin, write_image, &im);
}

int ovica_model_save(const ovica_model *model, const char *path)
{
    OVICA__CHECK_NULL(model, "model");
    OVICA__CHECK_NULL(path, "path");
    if (path[0] == '\0') return ovica__error(OVICA_EINVAL, "%s: path is empty", __func__);
    void *buf = NULL;
    size_t len = 0;
    int st = ovica_model_save_buffer(model, &buf, &len);
    if (st) return st;
    st = ovica__save_image(path, "model file", buf, len);
    ovica__free(buf);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Decoding                                                                  */

static uint32_t get_u32(const unsigned char *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint64_t get_u64(const unsigned char *b)
{
    uint64_t v = 0;
    for (int t = 7; t >= 0; t--) v = (v << 8) | b[t];
    return v;
}

static double get_f64(const unsigned char *b)
{
    uint64_t v = get_u64(b);
    double d;
    memcpy(&d, &v, sizeof d);
    return d;
}

int ovica__rb_take(ovica__rbuf *r, size_t n, const unsigned char **p, const char *what)
{
    if (n > r->len - r->pos)
        return ovica__error(OVICA_EFORMAT, "%s: %s: %s needs %zu bytes at offset %zu, %zu left",
                            r->origin, r->section, what, n, r->base + r->pos, r->len - r->pos);
    *p = r->p + r->pos;
    r->pos += n;
    return OVICA_OK;
}

int ovica__rb_u32(ovica__rbuf *r, uint32_t *v, const char *what)
{
    const unsigned char *p = NULL;
    int st = ovica__rb_take(r, 4, &p, what);
    if (st == OVICA_OK) *v = get_u32(p);
    return st;
}

int ovica__rb_u64(ovica__rbuf *r, uint64_t *v, const char *what)
{
    const unsigned char *p = NULL;
    int st = ovica__rb_take(r, 8, &p, what);
    if (st == OVICA_OK) *v = get_u64(p);
    return st;
}

int ovica__rb_f64(ovica__rbuf *r, double *v, const char *what)
{
    const unsigned char *p = NULL;
    int st = ovica__rb_take(r, 8, &p, what);
    if (st == OVICA_OK) *v = get_f64(p);
    return st;
}

/* Decodes count doubles from bytes that bounds checks have already validated. */
void ovica__decode_f64s(const unsigned char *p, double *out, size_t count)
{
    for (size_t i = 0; i < count; i++) out[i] = get_f64(p + 8 * i);
}

int ovica__rb_end(const ovica__rbuf *r)
{
    if (r->pos != r->len)
        return ovica__error(OVICA_EFORMAT, "%s: %s: %zu unexpected bytes at the end of the section",
                            r->origin, r->section, r->len - r->pos);
    return OVICA_OK;
}

static int is_lower(unsigned char c) { return c >= 'a' && c <= 'z'; }

static void tag_text(char out[20], const unsigned char *t)
{
    char *q = out;
    for (int i = 0; i < 4; i++) {
        if (t[i] >= 0x20 && t[i] < 0x7F && t[i] != '\\' && t[i] != '\'') *q++ = (char)t[i];
        else q += sprintf(q, "\\x%02X", t[i]);
    }
    *q = '\0';
}

int ovica__parse_image(const unsigned char *buf, size_t len, const char *origin,
                       ovica__image *img)
{
    memset(img, 0, sizeof *img);
    if (len < sizeof MAGIC) {
        if (memcmp(buf, MAGIC, len) == 0)
            return ovica__error(OVICA_EFORMAT,
                                "%s: truncated: %zu bytes, a model file has at least %u", origin,
                                len, HEADER_BYTES + SECTION_HEAD + MODL_FIXED + TRAILER_BYTES);
        return ovica__error(OVICA_EFORMAT, "%s: not a libovica model file (bad magic)", origin);
    }
    if (memcmp(buf, MAGIC, sizeof MAGIC) != 0)
        return ovica__error(OVICA_EFORMAT, "%s: not a libovica model file (bad magic)", origin);
    if (len < HEADER_BYTES + TRAILER_BYTES)
        return ovica__error(OVICA_EFORMAT, "%s: truncated: %zu bytes, a model file has at least %u",
                            origin, len, HEADER_BYTES + SECTION_HEAD + MODL_FIXED + TRAILER_BYTES);
    uint64_t total = get_u64(buf + 16);
    if (total > (uint64_t)len)
        return ovica__error(OVICA_EFORMAT,
                            "%s: truncated: the header promises %llu bytes, %zu are present",
                            origin, (unsigned long long)total, len);
    if (total < (uint64_t)len)
        return ovica__error(OVICA_EFORMAT,
                            "%s: %llu unexpected bytes after the declared end (%llu bytes)",
                            origin, (unsigned long long)((uint64_t)len - total),
                            (unsigned long long)total);
    uint64_t stored = get_u64(buf + len - TRAILER_BYTES);
    uint64_t crc = ovica__crc64(buf, len - TRAILER_BYTES);
    if (stored != crc)
        return ovica__error(OVICA_EFORMAT,
                            "%s: checksum mismatch (stored %016llx, computed %016llx): the file "
                            "is corrupt", origin, (unsigned long long)stored,
                            (unsigned long long)crc);
    uint32_t version = get_u32(buf + 8);
    img->writer = get_u32(buf + 12);
    if (version != OVICA_MODEL_FORMAT_VERSION)
        return ovica__error(OVICA_EVERSION,
                            "%s: format version %lu (written by libovica %lu); this library "
                            "reads version %d", origin, (unsigned long)version,
                            (unsigned long)img->writer, OVICA_MODEL_FORMAT_VERSION);

    size_t pos = HEADER_BYTES, end = len - TRAILER_BYTES;
    int have_model = 0;
    while (pos < end) {
        if (end - pos < SECTION_HEAD)
            return ovica__error(OVICA_EFORMAT,
                                "%s: a section header needs %u bytes at offset %zu, %zu left",
                                origin, SECTION_HEAD, pos, end - pos);
        const unsigned char *tag = buf + pos;
        uint64_t plen = get_u64(buf + pos + 4);
        char tt[20];
        tag_text(tt, tag);
        if (plen > (uint64_t)(end - pos - SECTION_HEAD))
            return ovica__error(OVICA_EFORMAT,
                                "%s: section '%s' at offset %zu claims %llu bytes, %zu left",
                                origin, tt, pos, (unsigned long long)plen,
                                end - pos - SECTION_HEAD);
        const unsigned char *payload = buf + pos + SECTION_HEAD;
        size_t base = pos + SECTION_HEAD;
        pos += SECTION_HEAD + (size_t)plen;
        if (!have_model && memcmp(tag, "MODL", 4) != 0)
            return ovica__error(OVICA_EFORMAT, "%s: the first section is '%s', not 'MODL'", origin,
                                tt);
        if (memcmp(tag, "MODL", 4) == 0) {
            if (have_model)
                return ovica__error(OVICA_EFORMAT, "%s: a second 'MODL' section at offset %zu",
                                    origin, base - SECTION_HEAD);
            have_model = 1;
            img->modl.p = payload;
            img->modl.len = (size_t)plen;
            img->modl.base = base;
        } else if (memcmp(tag, "TRST", 4) == 0) {
            if (img->trst.p != NULL)
                return ovica__error(OVICA_EFORMAT, "%s: a second 'TRST' section at offset %zu",
                                    origin, base - SECTION_HEAD);
            img->trst.p = payload;
            img->trst.len = (size_t)plen;
            img->trst.base = base;
        } else if (!is_lower(tag[0])) {
            return ovica__error(OVICA_EVERSION,
                                "%s: unknown required section '%s' at offset %zu (written by "
                                "libovica %lu, a newer version?)", origin, tt,
                                base - SECTION_HEAD, (unsigned long)img->writer);
        } /* else: an optional section this version does not know; skipped */
    }
    if (!have_model) return ovica__error(OVICA_EFORMAT, "%s: no 'MODL' section", origin);
    img->modl.origin = img->trst.origin = origin;
    img->modl.section = "section 'MODL'";
    img->trst.section = "section 'TRST'";
    return OVICA_OK;
}

/* A stored value that passed the file's own checks but that the model
 * refuses (status st, its message pending) makes the file unusable: turns st
 * into OVICA_EFORMAT naming the file and `what`, keeping the model's reason.
 * OK and ENOMEM pass through. */
static int refused_as_format(int st, const char *origin, const char *what)
{
    if (st == OVICA_OK || st == OVICA_ENOMEM) return st;
    char why[200]; /* the message buffer cannot be its own argument */
    snprintf(why, sizeof why, "%s", ovica_error_message());
    return ovica__error(OVICA_EFORMAT, "%s: %s (%s)", origin, what, why);
}

int ovica__decode_model(const ovica__image *img, ovica_model **out)
{
    ovica__rbuf r = img->modl;
    const char *origin = r.origin;
    uint64_t m64, n64;
    uint32_t kind, reserved;
    double sigma, b;
    int st = ovica__rb_u64(&r, &m64, "m");
    if (st == OVICA_OK) st = ovica__rb_u64(&r, &n64, "n");
    if (st == OVICA_OK) st = ovica__rb_f64(&r, &sigma, "sigma");
    if (st == OVICA_OK) st = ovica__rb_u32(&r, &kind, "the prior family");
    if (st == OVICA_OK) st = ovica__rb_u32(&r, &reserved, "a reserved field");
    if (st == OVICA_OK) st = ovica__rb_f64(&r, &b, "the prior scale");
    if (st) return st;
    if (m64 == 0 || n64 == 0 || m64 > INT32_MAX || n64 > INT32_MAX)
        return ovica__error(OVICA_EFORMAT, "%s: invalid model size m = %llu, n = %llu", origin,
                            (unsigned long long)m64, (unsigned long long)n64);
    size_t m = (size_t)m64, n = (size_t)n64, mn, bytes;
    if (ovica__mul_size(m, n, &mn) || ovica__mul_size(mn, 8, &bytes) ||
        bytes != r.len - r.pos)
        return ovica__error(OVICA_EFORMAT,
                            "%s: section 'MODL' holds %zu bytes of basis, a %zu x %zu basis "
                            "needs %llu", origin, r.len - r.pos, m, n,
                            (unsigned long long)m64 * n64 * 8ULL);
    if (!isfinite(sigma) || !(sigma > 0.0))
        return ovica__error(OVICA_EFORMAT, "%s: invalid sigma %g", origin, sigma);
    if (kind != OVICA_PRIOR_LAPLACE && kind != OVICA_PRIOR_EXPONENTIAL)
        return ovica__error(OVICA_EFORMAT, "%s: unknown prior family %lu", origin,
                            (unsigned long)kind);
    if (reserved != 0)
        return ovica__error(OVICA_EFORMAT, "%s: reserved field is %lu, not 0", origin,
                            (unsigned long)reserved);
    if (!isfinite(b) || !(b > 0.0))
        return ovica__error(OVICA_EFORMAT, "%s: invalid prior scale %g", origin, b);
    const unsigned char *ab = NULL;
    st = ovica__rb_take(&r, bytes, &ab, "the basis");
    if (st) return st;
    double *A = ovica__alloc_doubles(mn, "the basis");
    if (A == NULL) return OVICA_ENOMEM;
    ovica__decode_f64s(ab, A, mn);
    for (size_t k = 0; k < mn; k++) {
        if (!isfinite(A[k])) {
            double bad = A[k];
            ovica__free(A);
            return ovica__error(OVICA_EFORMAT, "%s: the basis holds %g at row %zu, column %zu",
                                origin, bad, k / n, k % n);
        }
    }
    ovica_prior *prior = NULL;
    ovica_model *model = NULL;
    st = kind == OVICA_PRIOR_LAPLACE ? ovica_prior_laplace_new(&prior, b)
                                     : ovica_prior_exponential_new(&prior, b);
    /* sigma outside [1e-150, 1e150], or a basis whose norm overflows */
    if (st == OVICA_OK)
        st = refused_as_format(ovica_model_new(&model, m, n, prior, sigma), origin,
                               "invalid sigma");
    if (st == OVICA_OK)
        st = refused_as_format(ovica_model_set_basis(model, A, m, n), origin,
                               "the basis is unusable");
    ovica_prior_free(prior);
    ovica__free(A);
    if (st) {
        ovica_model_free(model);
        return st;
    }
    *out = model;
    return OVICA_OK;
}

int ovica_model_load_buffer(ovica_model **out, const void *buf, size_t len)
{
    OVICA__CHECK_NULL(out, "out");
    OVICA__CHECK_NULL(buf, "buf");
    ovica__image img;
    int st = ovica__parse_image(buf, len, "model buffer", &img);
    if (st == OVICA_OK) st = ovica__decode_model(&img, out);
    return st;
}

int ovica__load_image(const char *path, const char *kind, unsigned char **buf, size_t *len,
                      char *origin, size_t origin_cap)
{
    ovica__origin_of_path(origin, origin_cap, kind, path);
    /* A look at the magic first, so that a large file of another kind (a
     * data set passed by mistake) is refused without being read whole. */
    FILE *fp = fopen(path, "rb");
    if (fp != NULL) {
        unsigned char head[sizeof MAGIC];
        size_t k = fread(head, 1, sizeof head, fp);
        fclose(fp);
        if (k == sizeof head && memcmp(head, MAGIC, sizeof MAGIC) != 0)
            return ovica__error(OVICA_EFORMAT, "%s: not a libovica model file (bad magic)", origin);
    }
    return ovica__read_file(path, origin, SIZE_MAX / 2, buf, len);
}

int ovica_model_load(ovica_model **out, const char *path)
{
    OVICA__CHECK_NULL(out, "out");
    OVICA__CHECK_NULL(path, "path");
    char origin[ORIGIN_MAX];
    unsigned char *buf = NULL;
    size_t len = 0;
    int st = ovica__load_image(path, "model file", &buf, &len, origin, sizeof origin);
    if (st) return st;
    ovica__image img;
    st = ovica__parse_image(buf, len, origin, &img);
    if (st == OVICA_OK) st = ovica__decode_model(&img, out);
    ovica__free(buf);
    return st;
}

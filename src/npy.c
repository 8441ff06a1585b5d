/*
 * .npy reading and writing (ovica/io.h).
 *
 * Reading is one parser over a byte source that is either a FILE or a memory
 * buffer: preamble (magic, version, header length), header dict, then the
 * data streamed in bounded chunks and converted (byte order, float32 ->
 * double, Fortran -> C order by scattering) straight into the output array.
 * Values are decoded from bytes with shifts, so the code does not depend on
 * the host's byte order except to interpret the "native" dtype prefixes '='
 * and '|', for which the host order is determined at run time.
 *
 * Writing goes through ovica__write_atomic (src/fileio.c): a mkstemp
 * temporary in the target's directory which is fsync'ed and renamed over the
 * target.
 */
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "fileio.h"
#include "internal.h"
#include "ovica/io.h"

_Static_assert(sizeof(double) == 8 && sizeof(float) == 4, "IEEE binary64/binary32 required");
_Static_assert(FLT_RADIX == 2 && DBL_MANT_DIG == 53 && FLT_MANT_DIG == 24,
               "IEEE binary64/binary32 required");

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6u
#define NPY_CHUNK ((size_t)64 * 1024)    /* bytes converted per step */
#define NPY_MAX_HEADER ((size_t)1 << 20) /* refuse longer headers */
#define NPY_ALIGN 64u                    /* numpy's ARRAY_ALIGN */
#define NPY_GROWTH_DIGITS 21u            /* numpy's GROWTH_AXIS_MAX_DIGITS */
#define NPY_ORIGIN_MAX 160

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */

/* Records an error prefixed by the origin ("npy file '...'" or "npy buffer"). */
static int npy_fail(const char *origin, int status, const char *fmt, ...) OVICA__PRINTF(3, 4);
static int npy_fail(const char *origin, int status, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ovica__error(status, "%s: %s", origin, msg);
}

/* Thread-safe text of an errno value (XSI strerror_r). */
static void errno_text(int e, char *buf, size_t n) { ovica__errno_text(e, buf, n); }

/* "npy file '<path>'", keeping the end of over-long paths. */
static void origin_of_path(char *dst, size_t n, const char *path)
{
    size_t len = strlen(path);
    if (len > 100)
        snprintf(dst, n, "npy file '...%s'", path + (len - 97));
    else
        snprintf(dst, n, "npy file '%s'", path);
}

/* ------------------------------------------------------------------------ */
/* Byte order and element codecs                                            */

static int host_big_endian(void)
{
    const uint32_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 0;
}

static double dec_f8le(const unsigned char *b)
{
    uint64_t v = 0;
    for (int t = 7; t >= 0; t--) v = (v << 8) | b[t];
    double d;
    memcpy(&d, &v, sizeof d);
    return d;
}

static double dec_f8be(const unsigned char *b)
{
    uint64_t v = 0;
    for (int t = 0; t < 8; t++) v = (v << 8) | b[t];
    double d;
    memcpy(&d, &v, sizeof d);
    return d;
}

static double dec_f4le(const unsigned char *b)
{
    uint32_t v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    float f;
    memcpy(&f, &v, sizeof f);
    return (double)f;
}

static double dec_f4be(const unsigned char *b)
{
    uint32_t v = (uint32_t)b[3] | (uint32_t)b[2] << 8 | (uint32_t)b[1] << 16 | (uint32_t)b[0] << 24;
    float f;
    memcpy(&f, &v, sizeof f);
    return (double)f;
}

static void enc_f8le(unsigned char *b, double x)
{
    uint64_t v;
    memcpy(&v, &x, sizeof v);
    for (int t = 0; t < 8; t++) b[t] = (unsigned char)(v >> (8 * t));
}

/* x must be NaN, infinite or within [-FLT_MAX, FLT_MAX] (checked beforehand). */
static void enc_f4le(unsigned char *b, double x)
{
    float f = (float)x;
    uint32_t v;
    memcpy(&v, &f, sizeof v);
    for (int t = 0; t < 4; t++) b[t] = (unsigned char)(v >> (8 * t));
}

/* ------------------------------------------------------------------------ */
/* Byte sources                                                             */

typedef struct {
    FILE *fp;                 /* file source, or NULL for memory */
    const unsigned char *mem; /* memory source */
    size_t len;               /* memory: length; file: size when size_known */
    size_t pos;               /* bytes consumed so far */
    int size_known;
    const char *origin;
} npy_src;

enum { SRC_OK = 0, SRC_SHORT = 1 };

/* Makes the next n bytes available at *p: a view for memory sources, a copy
 * in `scratch` (at least n bytes) for files. Returns SRC_OK, SRC_SHORT when
 * the source ends first (then *p holds the *got bytes that were there), or
 * OVICA_EIO (recorded) on a read error. */
static int src_take(npy_src *s, size_t n, unsigned char *scratch, const unsigned char **p,
                    size_t *got)
{
    if (s->fp == NULL) {
        size_t avail = s->len - s->pos;
        *p = s->mem + s->pos;
        if (avail < n) {
            *got = avail;
            s->pos = s->len;
            return SRC_SHORT;
        }
        *got = n;
        s->pos += n;
        return SRC_OK;
    }
    errno = 0;
    size_t k = fread(scratch, 1, n, s->fp);
    int e = errno;
    *p = scratch;
    *got = k;
    s->pos += k;
    if (k == n) return SRC_OK;
    if (ferror(s->fp)) {
        char et[128];
        errno_text(e ? e : EIO, et, sizeof et);
        return npy_fail(s->origin, OVICA_EIO, "read error at byte %zu: %s", s->pos, et);
    }
    return SRC_SHORT;
}

/* OVICA_OK if the source has no bytes left, else an error. */
static int src_expect_end(npy_src *s)
{
    if (s->fp == NULL) {
        if (s->pos != s->len)
            return npy_fail(s->origin, OVICA_EFORMAT, "%zu trailing bytes after the data",
                            s->len - s->pos);
        return OVICA_OK;
    }
    errno = 0;
    int c = fgetc(s->fp);
    int e = errno;
    if (c != EOF)
        return npy_fail(s->origin, OVICA_EFORMAT, "trailing bytes after the data (at byte %zu)",
                        s->pos);
    if (ferror(s->fp)) {
        char et[128];
        errno_text(e ? e : EIO, et, sizeof et);
        return npy_fail(s->origin, OVICA_EIO, "read error at byte %zu: %s", s->pos, et);
    }
    return OVICA_OK;
}

/* ------------------------------------------------------------------------ */
/* Header dict parser                                                       */

typedef struct {
    size_t rows, cols;   /* shape */
    size_t count;        /* rows * cols */
    size_t itemsize;     /* 4 or 8 */
    int big;             /* data are big-endian */
    int fortran;         /* column-major data */
    size_t data_offset;  /* preamble + header */
    size_t data_bytes;   /* count * itemsize */
} npy_hdr;

typedef struct {
    const unsigned char *s;
    size_t n, i;
    int allow_long; /* accept Python 2 'L' suffixes (versions 1 and 2) */
    const char *origin;
} hp;

static int hp_is_ws(int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }
static int hp_is_ident(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
static void hp_ws(hp *p)
{
    while (p->i < p->n && hp_is_ws(p->s[p->i])) p->i++;
}
static int hp_peek(const hp *p) { return p->i < p->n ? p->s[p->i] : -1; }

static int hp_syntax(const hp *p, const char *expected)
{
    if (p->i >= p->n)
        return npy_fail(p->origin, OVICA_EFORMAT, "header: expected %s, found the end of the header",
                        expected);
    return npy_fail(p->origin, OVICA_EFORMAT, "header: expected %s at header offset %zu, found '%c'",
                    expected, p->i, p->s[p->i]);
}

/* A quoted string (either quote, no escapes) copied into dst (cap bytes,
 * truncated if needed); *len gets its full length. */
static int hp_string(hp *p, char *dst, size_t cap, size_t *len, const char *what)
{
    int q = hp_peek(p);
    if (q != '\'' && q != '"') return hp_syntax(p, what);
    size_t start = p->i++;
    size_t k = 0;
    for (;;) {
        if (p->i >= p->n || p->s[p->i] == '\n' || p->s[p->i] == '\r')
            return npy_fail(p->origin, OVICA_EFORMAT,
                            "header: unterminated string starting at header offset %zu", start);
        int c = p->s[p->i++];
        if (c == q) break;
        if (c == '\\')
            return npy_fail(p->origin, OVICA_EFORMAT,
                            "header: escape sequences in strings are not supported "
                            "(header offset %zu)", p->i - 1);
        if (k + 1 < cap) dst[k] = (char)c;
        k++;
    }
    dst[k + 1 < cap ? k : cap - 1] = '\0';
    *len = k;
    return OVICA_OK;
}

/* One shape dimension: optional '-', digits with single '_' separators,
 * optional 'L' (if allowed). */
static int hp_dim(hp *p, int index, uint64_t *value, int *negative, int *overflow)
{
    *negative = 0;
    *overflow = 0;
    if (hp_peek(p) == '-') {
        *negative = 1;
        p->i++;
        hp_ws(p);
    }
    int c = hp_peek(p);
    if (c < '0' || c > '9') {
        if (c == ')' || c == ',' || c < 0) return hp_syntax(p, "an integer in 'shape'");
        return npy_fail(p->origin, OVICA_EFORMAT,
                        "header: shape dimension %d is not a non-negative integer "
                        "(header offset %zu)", index, p->i);
    }
    size_t start = p->i;
    int first = c, nonzero_after_lead = 0;
    uint64_t v = 0;
    for (;;) {
        c = hp_peek(p);
        if (c >= '0' && c <= '9') {
            unsigned d = (unsigned)(c - '0');
            if (p->i > start && d != 0) nonzero_after_lead = 1;
            if (v > (UINT64_MAX - d) / 10) *overflow = 1;
            else v = v * 10 + d;
            p->i++;
        } else if (c == '_' && p->i + 1 < p->n && p->s[p->i + 1] >= '0' && p->s[p->i + 1] <= '9') {
            p->i++;
        } else {
            break;
        }
    }
    if (first == '0' && nonzero_after_lead)
        return npy_fail(p->origin, OVICA_EFORMAT,
                        "header: shape dimension %d has leading zeros (header offset %zu)", index,
                        start);
    if (p->allow_long && (hp_peek(p) == 'L' || hp_peek(p) == 'l')) p->i++;
    c = hp_peek(p);
    if (c >= 0 && (hp_is_ident(c) || c == '.'))
        return npy_fail(p->origin, OVICA_EFORMAT,
                        "header: shape dimension %d is not an integer (header offset %zu)", index,
                        start);
    *value = v;
    return OVICA_OK;
}

/* 'shape': a tuple of dimensions; keeps the first two, counts the rank. */
static int hp_shape(hp *p, npy_hdr *h)
{
    if (hp_peek(p) == '[')
        return npy_fail(p->origin, OVICA_EFORMAT, "header: 'shape' is a list, not a tuple");
    if (hp_peek(p) != '(') return hp_syntax(p, "a tuple for 'shape'");
    p->i++;
    int rank = 0, comma_after_last = 0;
    uint64_t dims[2] = {0, 0};
    int neg_any = 0, neg_at = 0, ovf_any = 0, ovf_at = 0;
    for (;;) {
        hp_ws(p);
        if (hp_peek(p) == ')') break;
        if (rank > 0 && !comma_after_last) return hp_syntax(p, "',' or ')' in 'shape'");
        uint64_t v = 0;
        int neg = 0, ovf = 0;
        int st = hp_dim(p, rank, &v, &neg, &ovf);
        if (st != OVICA_OK) return st;
        if (neg && v != 0 && !neg_any) { neg_any = 1; neg_at = rank; }
        if (ovf && !ovf_any) { ovf_any = 1; ovf_at = rank; }
        if (rank < 2) dims[rank] = v;
        rank++; /* bounded by the header length (<= 1 MiB) */
        comma_after_last = 0;
        hp_ws(p);
        if (hp_peek(p) == ',') {
            p->i++;
            comma_after_last = 1;
        }
    }
    p->i++; /* ')' */
    if (rank == 1 && !comma_after_last)
        return npy_fail(p->origin, OVICA_EFORMAT,
                        "header: 'shape' is a parenthesised integer, not a tuple");
    if (neg_any)
        return npy_fail(p->origin, OVICA_EFORMAT, "header: shape dimension %d is negative", neg_at);
    if (ovf_any)
        return npy_fail(p->origin, OVICA_EFORMAT, "header: shape dimension %d overflows 64 bits",
                        ovf_at);
    if (rank != 2)
        return npy_fail(p->origin, OVICA_EFORMAT,
                        "array has rank %d; only 2-D arrays (rank 2) are supported", rank);
    if (dims[0] > SIZE_MAX || dims[1] > SIZE_MAX)
        return npy_fail(p->origin, OVICA_EFORMAT, "shape (%llu, %llu) does not fit in size_t",
                        (unsigned long long)dims[0], (unsigned long long)dims[1]);
    h->rows = (size_t)dims[0];
    h->cols = (size_t)dims[1];
    return OVICA_OK;
}

static const char *dtype_kind(const char *t)
{
    switch (t[0]) {
    case 'O': return "Python objects";
    case 'i': case 'u': case 'l': case 'q': case 'h': case 'B': case 'I': case 'L': case 'Q': case 'H':
        return "integers";
    case 'b': case '?': return "booleans";
    case 'c': case 'F': case 'D': case 'G': return "complex numbers";
    case 'f': case 'e': case 'd': case 'g': return "floats of an unsupported size or spelling";
    case 'U': case 'S': case 'a': return "strings";
    case 'V': return "void/structured records";
    case 'M': case 'm': return "datetimes";
    default: return "unknown type";
    }
}

static int hp_descr(hp *p, npy_hdr *h)
{
    int c = hp_peek(p);
    if (c == '[' || c == '{' || c == '(')
        return npy_fail(p->origin, OVICA_EFORMAT,
                        "structured (record) dtypes are not supported; only float32 and float64");
    char d[40];
    size_t len;
    int st = hp_string(p, d, sizeof d, &len, "a string for 'descr'");
    if (st != OVICA_OK) return st;
    const char *t = d;
    char order = 0;
    if (len > 0 && (d[0] == '<' || d[0] == '>' || d[0] == '=' || d[0] == '|')) order = *t++;
    if (len < sizeof d && strcmp(t, "f8") == 0) h->itemsize = 8;
    else if (len < sizeof d && strcmp(t, "f4") == 0) h->itemsize = 4;
    else
        return npy_fail(p->origin, OVICA_EFORMAT,
                        "unsupported dtype '%s%s' (%s); only float32 and float64 "
                        "('<f4', '>f4', '<f8', '>f8', native '=') are supported",
                        d, len < sizeof d ? "" : "...", dtype_kind(t));
    h->big = order == '>' ? 1 : order == '<' ? 0 : host_big_endian();
    return OVICA_OK;
}

static int hp_bool(hp *p, int *out)
{
    size_t start = p->i;
    while (p->i < p->n && hp_is_ident(p->s[p->i])) p->i++;
    size_t k = p->i - start;
    if (k == 4 && memcmp(p->s + start, "True", 4) == 0) { *out = 1; return OVICA_OK; }
    if (k == 5 && memcmp(p->s + start, "False", 5) == 0) { *out = 0; return OVICA_OK; }
    if (k == 0) {
        p->i = start;
        return hp_syntax(p, "True or False for 'fortran_order'");
    }
    return npy_fail(p->origin, OVICA_EFORMAT,
                    "header: 'fortran_order' must be True or False, found '%.*s'",
                    (int)(k > 20 ? 20 : k), (const char *)(p->s + start));
}

/* Parses the header dict into h (shape, dtype, order). */
static int npy_parse_dict(const unsigned char *s, size_t n, int major, const char *origin,
                          npy_hdr *h)
{
    for (size_t k = 0; k < n; k++) {
        unsigned char c = s[k];
        if ((c < 0x20 || c >= 0x7f) && !hp_is_ws(c))
            return npy_fail(origin, OVICA_EFORMAT,
                            "header byte %zu is 0x%02x, not printable ASCII", k, (unsigned)c);
    }
    hp p = {s, n, 0, major <= 2, origin};
    int have_descr = 0, have_order = 0, have_shape = 0;
    hp_ws(&p);
    if (hp_peek(&p) != '{') return hp_syntax(&p, "'{' opening the header dict");
    p.i++;
    hp_ws(&p);
    if (hp_peek(&p) != '}') {
        for (;;) {
            char key[32];
            size_t klen;
            size_t kat = p.i;
            int st = hp_string(&p, key, sizeof key, &klen, "a quoted key");
            if (st != OVICA_OK) return st;
            int which = klen >= sizeof key ? 0
                        : strcmp(key, "descr") == 0 ? 1
                        : strcmp(key, "fortran_order") == 0 ? 2
                        : strcmp(key, "shape") == 0 ? 3 : 0;
            if (which == 0)
                return npy_fail(origin, OVICA_EFORMAT, "header: unexpected key '%s%s'", key,
                                klen >= sizeof key ? "..." : "");
            int *seen = which == 1 ? &have_descr : which == 2 ? &have_order : &have_shape;
            if (*seen)
                return npy_fail(origin, OVICA_EFORMAT,
                                "header: duplicate key '%s' at header offset %zu", key, kat);
            *seen = 1;
            hp_ws(&p);
            if (hp_peek(&p) != ':') return hp_syntax(&p, "':' after a key");
            p.i++;
            hp_ws(&p);
            st = which == 1 ? hp_descr(&p, h) : which == 2 ? hp_bool(&p, &h->fortran) : hp_shape(&p, h);
            if (st != OVICA_OK) return st;
            hp_ws(&p);
            if (hp_peek(&p) == ',') {
                p.i++;
                hp_ws(&p);
                if (hp_peek(&p) == '}') break;
                continue;
            }
            if (hp_peek(&p) == '}') break;
            return hp_syntax(&p, "',' or '}' in the header dict");
        }
    }
    p.i++; /* '}' */
    hp_ws(&p);
    if (p.i != p.n)
        return npy_fail(origin, OVICA_EFORMAT,
                        "header: unexpected text after the dict at header offset %zu", p.i);
    if (!have_descr) return npy_fail(origin, OVICA_EFORMAT, "header lacks the 'descr' key");
    if (!have_order) return npy_fail(origin, OVICA_EFORMAT, "header lacks the 'fortran_order' key");
    if (!have_shape) return npy_fail(origin, OVICA_EFORMAT, "header lacks the 'shape' key");
    return OVICA_OK;
}

/* ------------------------------------------------------------------------ */
/* Reading                                                                  */

/* Reads and validates preamble and header; leaves the source at the data. */
static int npy_read_header(npy_src *s, npy_hdr *h)
{
    const char *origin = s->origin;
    unsigned char pre[12];
    const unsigned char *p;
    size_t got;
    memset(h, 0, sizeof *h);

    int st = src_take(s, 8, pre, &p, &got);
    if (st < 0) return st;
    size_t cmp = got < NPY_MAGIC_LEN ? got : NPY_MAGIC_LEN;
    if (memcmp(p, NPY_MAGIC, cmp) != 0)
        return npy_fail(origin, OVICA_EFORMAT, "not a .npy file (bad magic string)");
    if (st == SRC_SHORT)
        return npy_fail(origin, OVICA_EFORMAT, "truncated: %zu bytes, too short for a .npy preamble",
                        got);
    unsigned major = p[6], minor = p[7];
    if (minor != 0 || major < 1 || major > 3)
        return npy_fail(origin, OVICA_EVERSION,
                        "unsupported .npy format version %u.%u (1.0, 2.0 and 3.0 are read)", major,
                        minor);
    size_t lenbytes = major == 1 ? 2 : 4;
    st = src_take(s, lenbytes, pre, &p, &got);
    if (st < 0) return st;
    if (st == SRC_SHORT)
        return npy_fail(origin, OVICA_EFORMAT, "truncated: the header length field is incomplete");
    size_t hlen = major == 1 ? ((size_t)p[0] | (size_t)p[1] << 8)
                             : ((size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16 |
                                (size_t)p[3] << 24);
    size_t prelen = 8 + lenbytes;
    if (hlen > NPY_MAX_HEADER)
        return npy_fail(origin, OVICA_EFORMAT, "header length %zu exceeds the limit of %zu bytes",
                        hlen, NPY_MAX_HEADER);
    if (s->size_known && (s->len < prelen || hlen > s->len - prelen))
        return npy_fail(origin, OVICA_EFORMAT,
                        "header length %zu runs past the end (%zu bytes in all)", hlen, s->len);

    unsigned char *hbuf = NULL;
    if (s->fp != NULL && hlen > 0) {
        hbuf = ovica__malloc(hlen);
        if (hbuf == NULL)
            return npy_fail(origin, OVICA_ENOMEM, "cannot allocate %zu bytes for the header", hlen);
    }
    st = src_take(s, hlen, hbuf, &p, &got);
    if (st == SRC_SHORT)
        st = npy_fail(origin, OVICA_EFORMAT,
                      "truncated header: its length field says %zu bytes, only %zu are present",
                      hlen, got);
    if (st == SRC_OK) st = npy_parse_dict(p, hlen, (int)major, origin, h);
    ovica__free(hbuf);
    if (st != OVICA_OK) return st;

    if (h->rows == 0 || h->cols == 0)
        return npy_fail(origin, OVICA_EFORMAT, "empty array (%zu x %zu): empty data are not supported",
                        h->rows, h->cols);
    size_t outbytes;
    if (ovica__mul_size(h->rows, h->cols, &h->count) != 0 ||
        ovica__mul_size(h->count, h->itemsize, &h->data_bytes) != 0 ||
        ovica__mul_size(h->count, sizeof(double), &outbytes) != 0 ||
        h->data_bytes > SIZE_MAX - prelen - hlen)
        return npy_fail(origin, OVICA_EFORMAT, "array of %zu x %zu elements is too large",
                        h->rows, h->cols);
    h->data_offset = prelen + hlen;
    if (s->size_known) {
        size_t have = s->len >= h->data_offset ? s->len - h->data_offset : 0;
        if (have < h->data_bytes)
            return npy_fail(origin, OVICA_EFORMAT,
                            "truncated data: the %zu x %zu array needs %zu bytes, only %zu present",
                            h->rows, h->cols, h->data_bytes, have);
        if (have > h->data_bytes)
            return npy_fail(origin, OVICA_EFORMAT, "%zu trailing bytes after the data",
                            have - h->data_bytes);
    }
    return OVICA_OK;
}

/* Streams the data into out (rows * cols doubles, row-major). */
static int npy_read_data(npy_src *s, const npy_hdr *h, double *out)
{
    double (*dec)(const unsigned char *) =
        h->itemsize == 8 ? (h->big ? dec_f8be : dec_f8le) : (h->big ? dec_f4be : dec_f4le);
    const size_t isz = h->itemsize, per = NPY_CHUNK / isz;
    unsigned char *scratch = NULL;
    if (s->fp != NULL) {
        scratch = ovica__malloc(NPY_CHUNK);
        if (scratch == NULL)
            return npy_fail(s->origin, OVICA_ENOMEM, "cannot allocate the %zu-byte read buffer",
                            NPY_CHUNK);
    }
    int st = OVICA_OK;
    size_t done = 0, i = 0, o = 0; /* Fortran cursor: row i, output index o */
    while (done < h->count) {
        size_t n = h->count - done < per ? h->count - done : per;
        const unsigned char *p;
        size_t got;
        st = src_take(s, n * isz, scratch, &p, &got);
        if (st == SRC_SHORT) {
            st = npy_fail(s->origin, OVICA_EFORMAT,
                          "truncated data: the %zu x %zu array needs %zu bytes, only %zu present",
                          h->rows, h->cols, h->data_bytes, done * isz + got);
        }
        if (st != SRC_OK) break;
        if (!h->fortran) {
            double *dst = out + done;
            for (size_t k = 0; k < n; k++) dst[k] = dec(p + k * isz);
        } else {
            for (size_t k = 0; k < n; k++) {
                out[o] = dec(p + k * isz);
                if (++i == h->rows) {
                    i = 0;
                    o = o - (h->rows - 1) * h->cols + 1; /* top of the next column */
                } else {
                    o += h->cols;
                }
            }
        }
        done += n;
    }
    ovica__free(scratch);
    if (st != OVICA_OK) return st;
    return src_expect_end(s);
}

typedef struct {
    npy_src src;
    char origin[NPY_ORIGIN_MAX];
} npy_file;

static int npy_file_open(npy_file *f, const char *path)
{
    memset(f, 0, sizeof *f);
    origin_of_path(f->origin, sizeof f->origin, path);
    f->src.origin = f->origin;
    char et[128];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        errno_text(errno, et, sizeof et);
        return npy_fail(f->origin, OVICA_EIO, "cannot open for reading: %s", et);
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        errno_text(errno, et, sizeof et);
        close(fd);
        return npy_fail(f->origin, OVICA_EIO, "cannot stat: %s", et);
    }
    if (S_ISDIR(sb.st_mode)) {
        close(fd);
        return npy_fail(f->origin, OVICA_EIO, "is a directory");
    }
    if (S_ISREG(sb.st_mode) && sb.st_size >= 0 && (uintmax_t)sb.st_size <= SIZE_MAX) {
        f->src.size_known = 1;
        f->src.len = (size_t)sb.st_size;
    }
    f->src.fp = fdopen(fd, "rb");
    if (f->src.fp == NULL) {
        errno_text(errno, et, sizeof et);
        close(fd);
        return npy_fail(f->origin, OVICA_EIO, "cannot open for reading: %s", et);
    }
    return OVICA_OK;
}

static void npy_file_close(npy_file *f)
{
    if (f->src.fp != NULL) fclose(f->src.fp);
    f->src.fp = NULL;
}

int ovica_npy_info(const char *path, size_t *rows, size_t *cols)
{
    OVICA__CHECK_NULL(path, "path");
    OVICA__CHECK_NULL(rows, "rows");
    OVICA__CHECK_NULL(cols, "cols");
    npy_file f;
    npy_hdr h;
    int st = npy_file_open(&f, path);
    if (st != OVICA_OK) return st;
    st = npy_read_header(&f.src, &h);
    npy_file_close(&f);
    if (st != OVICA_OK) return st;
    *rows = h.rows;
    *cols = h.cols;
    return OVICA_OK;
}

int ovica_npy_read_into(const char *path, double *out, size_t rows, size_t cols)
{
    OVICA__CHECK_NULL(path, "path");
    OVICA__CHECK_NULL(out, "out");
    npy_file f;
    npy_hdr h;
    int st = npy_file_open(&f, path);
    if (st != OVICA_OK) return st;
    st = npy_read_header(&f.src, &h);
    if (st == OVICA_OK && (h.rows != rows || h.cols != cols))
        st = npy_fail(f.origin, OVICA_ESIZE, "holds a %zu x %zu array, the buffer is %zu x %zu",
                      h.rows, h.cols, rows, cols);
    if (st == OVICA_OK) st = npy_read_data(&f.src, &h, out);
    npy_file_close(&f);
    return st;
}

/* Shared tail of the allocating readers. */
static int npy_read_alloc(npy_src *s, double **out, size_t *rows, size_t *cols)
{
    npy_hdr h;
    int st = npy_read_header(s, &h);
    if (st != OVICA_OK) return st;
    double *a = ovica__alloc_doubles(h.count, "the .npy array");
    if (a == NULL) return OVICA_ENOMEM;
    st = npy_read_data(s, &h, a);
    if (st != OVICA_OK) {
        ovica__free(a);
        return st;
    }
    *out = a;
    *rows = h.rows;
    *cols = h.cols;
    return OVICA_OK;
}

#define NPY_RESET_OUTS()                      \
    do {                                      \
        if (out != NULL) *out = NULL;         \
        if (rows != NULL) *rows = 0;          \
        if (cols != NULL) *cols = 0;          \
    } while (0)

int ovica_npy_read(const char *path, double **out, size_t *rows, size_t *cols)
{
    NPY_RESET_OUTS();
    OVICA__CHECK_NULL(path, "path");
    OVICA__CHECK_NULL(out, "out");
    OVICA__CHECK_NULL(rows, "rows");
    OVICA__CHECK_NULL(cols, "cols");
    npy_file f;
    int st = npy_file_open(&f, path);
    if (st != OVICA_OK) return st;
    st = npy_read_alloc(&f.src, out, rows, cols);
    npy_file_close(&f);
    return st;
}

int ovica_npy_read_buffer(const void *buf, size_t len, double **out, size_t *rows, size_t *cols)
{
    NPY_RESET_OUTS();
    OVICA__CHECK_NULL(buf, "buf");
    OVICA__CHECK_NULL(out, "out");
    OVICA__CHECK_NULL(rows, "rows");
    OVICA__CHECK_NULL(cols, "cols");
    npy_src s;
    memset(&s, 0, sizeof s);
    s.mem = buf;
    s.len = len;
    s.size_known = 1;
    s.origin = "npy buffer";
    return npy_read_alloc(&s, out, rows, cols);
}

void ovica_free(void *p) { ovica__free(p); }

/* ------------------------------------------------------------------------ */
/* Opened files: rows on demand through bounded memory maps                 */

#define NPY_WINDOW ((size_t)16 << 20) /* largest mapping made by one read step */

struct ovica_npy_file {
    int fd;
    npy_hdr h;
    size_t size; /* file size at opening (= data_offset + data_bytes) */
    size_t page; /* mmap granularity */
    char origin[NPY_ORIGIN_MAX];
};

int ovica_npy_open(ovica_npy_file **out, const char *path)
{
    OVICA__CHECK_NULL(out, "out");
    OVICA__CHECK_NULL(path, "path");
    npy_file nf;
    npy_hdr h;
    int st = npy_file_open(&nf, path);
    if (st != OVICA_OK) return st;
    if (!nf.src.size_known) {
        st = npy_fail(nf.origin, OVICA_EIO,
                      "not a regular file: rows cannot be memory-mapped (read it whole with "
                      "ovica_npy_read)");
        npy_file_close(&nf);
        return st;
    }
    st = npy_read_header(&nf.src, &h);
    if (st != OVICA_OK) {
        npy_file_close(&nf);
        return st;
    }
    ovica_npy_file *f = ovica__malloc(sizeof *f);
    if (f == NULL) {
        npy_file_close(&nf);
        return npy_fail(nf.origin, OVICA_ENOMEM, "cannot allocate the file handle");
    }
    memset(f, 0, sizeof *f);
    memcpy(f->origin, nf.origin, sizeof f->origin);
    f->fd = fcntl(fileno(nf.src.fp), F_DUPFD_CLOEXEC, 0);
    if (f->fd < 0) {
        char et[128];
        errno_text(errno, et, sizeof et);
        st = npy_fail(nf.origin, OVICA_EIO, "cannot keep the file open: %s", et);
        npy_file_close(&nf);
        ovica__free(f);
        return st;
    }
    npy_file_close(&nf);
    long pg = sysconf(_SC_PAGESIZE);
    f->page = pg > 0 ? (size_t)pg : 4096;
    f->h = h;
    f->size = nf.src.len;
    *out = f;
    return OVICA_OK;
}

void ovica_npy_close(ovica_npy_file *f)
{
    if (f == NULL) return;
    close(f->fd);
    ovica__free(f);
}

int ovica_npy_file_shape(const ovica_npy_file *f, size_t *rows, size_t *cols)
{
    OVICA__CHECK_NULL(f, "f");
    if (rows != NULL) *rows = f->h.rows;
    if (cols != NULL) *cols = f->h.cols;
    return OVICA_OK;
}

int ovica_npy_file_format(const ovica_npy_file *f, int *dtype, int *fortran_order,
                          int *big_endian)
{
    OVICA__CHECK_NULL(f, "f");
    if (dtype != NULL) *dtype = f->h.itemsize == 8 ? OVICA_NPY_FLOAT64 : OVICA_NPY_FLOAT32;
    if (fortran_order != NULL) *fortran_order = f->h.fortran;
    if (big_endian != NULL) *big_endian = f->h.big;
    return OVICA_OK;
}

/* Converts data elements [e0, e0 + count) (indices into the file's data, in
 * its own order) to out[0], out[stride], out[2 stride], ..., mapping at
 * most NPY_WINDOW bytes at a time. */
static int npy_map_convert(const ovica_npy_file *f, size_t e0, size_t count, double *out,
                           size_t stride)
{
    const size_t isz = f->h.itemsize;
    double (*dec)(const unsigned char *) =
        isz == 8 ? (f->h.big ? dec_f8be : dec_f8le) : (f->h.big ? dec_f4be : dec_f4le);
    const size_t per = NPY_WINDOW / isz;
    while (count > 0) {
        size_t n = count < per ? count : per;
        size_t start = f->h.data_offset + e0 * isz; /* in range: checked at opening */
        size_t base = start - start % f->page;
        size_t len = start - base + n * isz;
        void *map = mmap(NULL, len, PROT_READ, MAP_SHARED, f->fd, (off_t)base);
        if (map == MAP_FAILED) {
            char et[128];
            errno_text(errno, et, sizeof et);
            return npy_fail(f->origin, OVICA_EIO, "cannot map %zu bytes at byte %zu: %s", len,
                            base, et);
        }
        (void)posix_madvise(map, len, POSIX_MADV_SEQUENTIAL);
        const unsigned char *p = (const unsigned char *)map + (start - base);
        for (size_t k = 0; k < n; k++) out[k * stride] = dec(p + k * isz);
        munmap(map, len);
        out += n * stride;
        e0 += n;
        count -= n;
    }
    return OVICA_OK;
}

/* OVICA_EINVAL unless [r0, r1) is a non-empty range of the file's rows. */
static int check_rows(const ovica_npy_file *f, size_t r0, size_t r1)
{
    if (r0 >= r1 || r1 > f->h.rows)
        return npy_fail(f->origin, OVICA_EINVAL,
                        "rows [%zu, %zu) are not a non-empty range of the file's %zu rows", r0, r1,
                        f->h.rows);
    return OVICA_OK;
}

/* Advises the kernel to read data elements [e0, e0 + count) (in the
 * file's order) ahead; failures are ignored (it is advice). */
static void npy_advise(const ovica_npy_file *f, size_t e0, size_t count)
{
    const size_t start = f->h.data_offset + e0 * f->h.itemsize;
    (void)posix_fadvise(f->fd, (off_t)start, (off_t)(count * f->h.itemsize),
                        POSIX_FADV_WILLNEED);
}

int ovica_npy_prefetch_rows(const ovica_npy_file *f, size_t r0, size_t r1)
{
    OVICA__CHECK_NULL(f, "f");
    const npy_hdr *h = &f->h;
    int st = check_rows(f, r0, r1);
    if (st != OVICA_OK) return st;
    if (!h->fortran) {
        npy_advise(f, r0 * h->cols, (r1 - r0) * h->cols);
    } else {
        for (size_t j = 0; j < h->cols; j++) npy_advise(f, j * h->rows + r0, r1 - r0);
    }
    return OVICA_OK;
}

int ovica_npy_read_rows(const ovica_npy_file *f, size_t r0, size_t r1, double *out, size_t cols)
{
    OVICA__CHECK_NULL(f, "f");
    OVICA__CHECK_NULL(out, "out");
    const npy_hdr *h = &f->h;
    int st = check_rows(f, r0, r1);
    if (st != OVICA_OK) return st;
    if (cols != h->cols)
        return npy_fail(f->origin, OVICA_ESIZE, "holds %zu columns, the buffer's rows have %zu",
                        h->cols, cols);
    struct stat sb;
    if (fstat(f->fd, &sb) != 0) {
        char et[128];
        errno_text(errno, et, sizeof et);
        return npy_fail(f->origin, OVICA_EIO, "cannot stat: %s", et);
    }
    if (sb.st_size < 0 || (uintmax_t)sb.st_size != (uintmax_t)f->size)
        return npy_fail(f->origin, OVICA_EIO,
                        "changed size since it was opened (%zu bytes then, %jd now)", f->size,
                        (intmax_t)sb.st_size);
    if (!h->fortran) return npy_map_convert(f, r0 * h->cols, (r1 - r0) * h->cols, out, 1);
    for (size_t j = 0; j < h->cols; j++) {
        st = npy_map_convert(f, j * h->rows + r0, r1 - r0, out + j, h->cols);
        if (st != OVICA_OK) return st;
    }
    return OVICA_OK;
}


/* ------------------------------------------------------------------------ */
/* Writing                                                                  */

/* Preamble + header exactly as numpy >= 1.24 writes them (dict, growth-axis
 * blanks, padding to a multiple of 64, '\n'). Returns the length. */
static size_t npy_build_header(unsigned char *buf, size_t cap, const char *descr, size_t rows,
                               size_t cols)
{
    char dict[128];
    int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%zu, %zu), }",
                     descr, rows, cols);
    size_t digits = 1;
    for (size_t r = rows; r >= 10; r /= 10) digits++;
    size_t growth = digits < NPY_GROWTH_DIGITS ? NPY_GROWTH_DIGITS - digits : 0;
    size_t body = (size_t)n + growth + 1; /* + '\n' */
    size_t prelen = 10;
    size_t pad = NPY_ALIGN - (prelen + body) % NPY_ALIGN;
    if (body + pad > 65535) { /* cannot happen for two dimensions; kept for the format's sake */
        prelen = 12;
        pad = NPY_ALIGN - (prelen + body) % NPY_ALIGN;
    }
    size_t hlen = body + pad, total = prelen + hlen;
    if (n < 0 || (size_t)n >= sizeof dict || total > cap) return 0;
    memcpy(buf, NPY_MAGIC, NPY_MAGIC_LEN);
    buf[6] = prelen == 10 ? 1 : 2;
    buf[7] = 0;
    for (size_t t = 0; t < prelen - 8; t++) buf[8 + t] = (unsigned char)(hlen >> (8 * t));
    unsigned char *q = buf + prelen;
    memcpy(q, dict, (size_t)n);
    memset(q + n, ' ', growth + pad);
    q[hlen - 1] = '\n';
    return total;
}

/* Writes the header and the data, converted chunk by chunk. */
struct npy_write_ctx {
    const unsigned char *header;
    size_t hbytes;
    const double *data;
    size_t count;
    int f32;
    unsigned char *chunk;
};

static int npy_write_body(FILE *fp, void *arg)
{
    const struct npy_write_ctx *c = arg;
    const size_t isz = c->f32 ? 4 : 8;
    if (fwrite(c->header, 1, c->hbytes, fp) != c->hbytes) return 1;
    const size_t per = NPY_CHUNK / isz;
    for (size_t done = 0; done < c->count;) {
        size_t n = c->count - done < per ? c->count - done : per;
        for (size_t k = 0; k < n; k++) {
            if (c->f32) enc_f4le(c->chunk + 4 * k, c->data[done + k]);
            else enc_f8le(c->chunk + 8 * k, c->data[done + k]);
        }
        if (fwrite(c->chunk, isz, n, fp) != n) return 1;
        done += n;
    }
    return 0;
}

static int npy_write_impl(const char *path, const double *data, size_t rows, size_t cols,
                          int f32)
{
    OVICA__CHECK_NULL(path, "path");
    OVICA__CHECK_NULL(data, "data");
    if (path[0] == '\0') return ovica__error(OVICA_EINVAL, "%s: path is empty", __func__);
    char origin[NPY_ORIGIN_MAX];
    origin_of_path(origin, sizeof origin, path);
    if (rows == 0 || cols == 0)
        return npy_fail(origin, OVICA_EINVAL, "cannot write an empty %zu x %zu array", rows, cols);
    const size_t isz = f32 ? 4 : 8;
    size_t count, bytes;
    if (ovica__mul_size(rows, cols, &count) != 0 || ovica__mul_size(count, isz, &bytes) != 0)
        return npy_fail(origin, OVICA_EINVAL, "a %zu x %zu array is too large", rows, cols);
    if (f32) {
        for (size_t k = 0; k < count; k++)
            if (isfinite(data[k]) && fabs(data[k]) > FLT_MAX)
                return npy_fail(origin, OVICA_EDOMAIN,
                                "value %g at row %zu, column %zu is outside the float32 range",
                                data[k], k / cols, k % cols);
    }

    unsigned char header[256];
    size_t hbytes = npy_build_header(header, sizeof header, f32 ? "<f4" : "<f8", rows, cols);
    if (hbytes == 0) return npy_fail(origin, OVICA_EINVAL, "cannot format the header");

    unsigned char *chunk = ovica__malloc(NPY_CHUNK);
    if (chunk == NULL) return npy_fail(origin, OVICA_ENOMEM, "cannot allocate write buffers");
    struct npy_write_ctx ctx = {header, hbytes, data, count, f32, chunk};
    int st = ovica__write_atomic(path, origin, npy_write_body, &ctx);
    ovica__free(chunk);
    return st;
}

int ovica_npy_write(const char *path, const double *data, size_t rows, size_t cols)
{
    return npy_write_impl(path, data, rows, cols, 0);
}

int ovica_npy_write_float32(const char *path, const double *data, size_t rows, size_t cols)
{
    return npy_write_impl(path, data, rows, cols, 1);
}

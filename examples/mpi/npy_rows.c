/* Reading a range of rows of a 2-D .npy file: see npy_rows.h. */
#include "npy_rows.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <ovica.h>

#define PIECE 65536 /* bytes per read */

static int fail(char *err, size_t errlen, int status, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return status;
}

static int host_little_endian(void)
{
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* Reads exactly len bytes at offset off; 0 on success, else errno (or EIO
 * for a file that ends early). */
static int read_at(int fd, void *buf, size_t len, off_t off)
{
    unsigned char *p = buf;
    while (len > 0) {
        ssize_t got = pread(fd, p, len, off);
        if (got < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        if (got == 0) return EIO;
        p += got;
        len -= (size_t)got;
        off += got;
    }
    return 0;
}

/* The value of key in the header dict: for 'descr' the string between
 * quotes, for 'fortran_order' the word. The header has already been
 * validated by ovica_npy_info(), so only its shape is assumed here. */
static int header_value(const char *hdr, const char *key, char *val, size_t vlen)
{
    const char *p = strstr(hdr, key);
    if (p == NULL) return -1;
    p = strchr(p + strlen(key), ':');
    if (p == NULL) return -1;
    p++;
    while (*p == ' ' || *p == '\t') p++;
    size_t k = 0;
    if (*p == '\'' || *p == '"') {
        char q = *p++;
        while (*p && *p != q && k + 1 < vlen) val[k++] = *p++;
    } else {
        while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')) {
            if (k + 1 >= vlen) return -1;
            val[k++] = *p++;
        }
    }
    val[k] = '\0';
    return 0;
}

static double convert(const unsigned char *b, size_t isz, int swap)
{
    unsigned char t[8];
    for (size_t i = 0; i < isz; i++) t[i] = swap ? b[isz - 1 - i] : b[i];
    if (isz == 8) {
        double d;
        memcpy(&d, t, 8);
        return d;
    }
    float f;
    memcpy(&f, t, 4);
    return (double)f;
}

int npy_read_rows(const char *path, size_t row0, size_t nrows, size_t cols, double *out,
                  char *err, size_t errlen)
{
    size_t rows = 0, fcols = 0;
    int st = ovica_npy_info(path, &rows, &fcols);
    if (st != OVICA_OK)
        return fail(err, errlen, st, "%s", ovica_error_message());
    if (fcols != cols)
        return fail(err, errlen, OVICA_ESIZE, "%s: %zu columns, expected %zu", path, fcols, cols);
    if (row0 > rows || nrows > rows - row0)
        return fail(err, errlen, OVICA_ESIZE, "%s: rows [%zu, %zu) asked for, the file has %zu",
                    path, row0, row0 + nrows, rows);
    if (nrows == 0) return OVICA_OK;

    int fd = open(path, O_RDONLY);
    if (fd < 0) return fail(err, errlen, OVICA_EIO, "%s: %s", path, strerror(errno));
    unsigned char pre[12];
    char *hdr = NULL;
    unsigned char *buf = NULL;
    int e = read_at(fd, pre, 10, 0);
    size_t hlen = 0, hstart = 10;
    if (e == 0) {
        if (pre[6] == 1) {
            hlen = (size_t)pre[8] | (size_t)pre[9] << 8;
        } else {
            e = read_at(fd, pre + 10, 2, 10);
            hlen = (size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 |
                   (size_t)pre[11] << 24;
            hstart = 12;
        }
    }
    if (e == 0) {
        hdr = malloc(hlen + 1);
        if (hdr == NULL) e = ENOMEM;
        else e = read_at(fd, hdr, hlen, (off_t)hstart);
    }
    if (e != 0) {
        close(fd);
        free(hdr);
        return fail(err, errlen, e == ENOMEM ? OVICA_ENOMEM : OVICA_EIO, "%s: header: %s", path,
                    strerror(e));
    }
    hdr[hlen] = '\0';
    char descr[16], order[16];
    if (header_value(hdr, "'descr'", descr, sizeof descr) != 0 &&
        header_value(hdr, "\"descr\"", descr, sizeof descr) != 0)
        descr[0] = '\0';
    if (header_value(hdr, "'fortran_order'", order, sizeof order) != 0 &&
        header_value(hdr, "\"fortran_order\"", order, sizeof order) != 0)
        order[0] = '\0';
    free(hdr);

    /* byte order and item size */
    const char *d = descr;
    int little = host_little_endian();
    if (*d == '<') { little = 1; d++; }
    else if (*d == '>') { little = 0; d++; }
    else if (*d == '=' || *d == '|') d++;
    size_t isz = strcmp(d, "f8") == 0 ? 8 : strcmp(d, "f4") == 0 ? 4 : 0;
    int fortran = strcmp(order, "True") == 0;
    if (isz == 0 || (!fortran && strcmp(order, "False") != 0)) {
        close(fd);
        return fail(err, errlen, OVICA_EFORMAT, "%s: cannot parse descr '%s' / fortran_order '%s'",
                    path, descr, order);
    }
    const int swap = little != host_little_endian();
    const off_t data = (off_t)(hstart + hlen);

    buf = malloc(PIECE);
    if (buf == NULL) {
        close(fd);
        return fail(err, errlen, OVICA_ENOMEM, "out of memory");
    }
    const size_t per = PIECE / isz; /* items per piece */
    if (!fortran) {
        /* rows row0.. are one contiguous range of nrows * cols items */
        const size_t total = nrows * cols;
        off_t off = data + (off_t)(row0 * cols * isz);
        for (size_t done = 0; done < total && e == 0;) {
            size_t k = total - done < per ? total - done : per;
            e = read_at(fd, buf, k * isz, off);
            for (size_t i = 0; e == 0 && i < k; i++) out[done + i] = convert(buf + i * isz, isz, swap);
            done += k;
            off += (off_t)(k * isz);
        }
    } else {
        /* column j holds rows 0..rows-1 contiguously */
        for (size_t j = 0; j < cols && e == 0; j++) {
            off_t off = data + (off_t)((j * rows + row0) * isz);
            for (size_t done = 0; done < nrows && e == 0;) {
                size_t k = nrows - done < per ? nrows - done : per;
                e = read_at(fd, buf, k * isz, off);
                for (size_t i = 0; e == 0 && i < k; i++)
                    out[(done + i) * cols + j] = convert(buf + i * isz, isz, swap);
                done += k;
                off += (off_t)(k * isz);
            }
        }
    }
    free(buf);
    close(fd);
    if (e != 0)
        return fail(err, errlen, OVICA_EIO, "%s: reading rows [%zu, %zu): %s", path, row0,
                    row0 + nrows, strerror(e));
    return OVICA_OK;
}

/*
 * File helpers shared by the writers of .npy files (src/npy.c) and model
 * files (src/modelio.c): atomic replacement of a file, and reading a whole
 * file into memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "fileio.h"
#include "internal.h"

void ovica__errno_text(int e, char *buf, size_t n)
{
    if (strerror_r(e, buf, n) != 0) snprintf(buf, n, "errno %d", e);
}

/* fsync of the directory holding path ("." if none): makes the rename durable. */
static int fsync_parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t n = slash == NULL ? 1 : slash == path ? 1 : (size_t)(slash - path);
    char *dir = ovica__malloc(n + 1);
    if (dir == NULL) return -1;
    if (slash == NULL) memcpy(dir, ".", 1);
    else memcpy(dir, path, n);
    dir[n] = '\0';
    int fd = open(dir, O_RDONLY | O_CLOEXEC);
    ovica__free(dir);
    if (fd < 0) return -1;
    int r = fsync(fd);
    close(fd);
    return r;
}

int ovica__write_atomic(const char *path, const char *origin, ovica__write_fn fn, void *ctx)
{
    size_t plen = strlen(path);
    static const char suffix[] = ".tmp.XXXXXX";
    char *tmp = ovica__malloc(plen + sizeof suffix);
    if (tmp == NULL) return ovica__error(OVICA_ENOMEM, "%s: cannot allocate a file name", origin);
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, suffix, sizeof suffix);

    char et[128];
    int st = OVICA_OK;
    FILE *fp = NULL;
    int fd = mkstemp(tmp);
    if (fd < 0) {
        ovica__errno_text(errno, et, sizeof et);
        ovica__free(tmp);
        return ovica__error(OVICA_EIO, "%s: cannot create a temporary file: %s", origin, et);
    }
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    struct stat sb;
    mode_t mode = 0644;
    if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) mode = sb.st_mode & 0777;
    if (fchmod(fd, mode) != 0) {
        ovica__errno_text(errno, et, sizeof et);
        st = ovica__error(OVICA_EIO, "%s: cannot set the mode of '%s': %s", origin, tmp, et);
        close(fd);
        goto fail;
    }
    fp = fdopen(fd, "wb");
    if (fp == NULL) {
        ovica__errno_text(errno, et, sizeof et);
        st = ovica__error(OVICA_EIO, "%s: cannot open '%s' for writing: %s", origin, tmp, et);
        close(fd);
        goto fail;
    }
    errno = 0;
    st = fn(fp, ctx);
    if (st < 0) goto fail; /* the callback recorded its error */
    if (st > 0) goto write_error;
    if (fflush(fp) != 0) goto write_error;
    if (fsync(fileno(fp)) != 0) {
        ovica__errno_text(errno, et, sizeof et);
        st = ovica__error(OVICA_EIO, "%s: cannot fsync '%s': %s", origin, tmp, et);
        goto fail;
    }
    {
        FILE *f = fp;
        fp = NULL;
        if (fclose(f) != 0) {
            ovica__errno_text(errno, et, sizeof et);
            st = ovica__error(OVICA_EIO, "%s: cannot close '%s': %s", origin, tmp, et);
            goto fail;
        }
    }
    if (rename(tmp, path) != 0) {
        ovica__errno_text(errno, et, sizeof et);
        st = ovica__error(OVICA_EIO, "%s: cannot rename the temporary file over it: %s", origin,
                          et);
        goto fail;
    }
    (void)fsync_parent_dir(path); /* durability of the rename; best effort */
    ovica__free(tmp);
    return OVICA_OK;

write_error:
    ovica__errno_text(errno ? errno : EIO, et, sizeof et);
    st = ovica__error(OVICA_EIO, "%s: cannot write '%s': %s", origin, tmp, et);
fail:
    if (fp != NULL) fclose(fp);
    unlink(tmp);
    ovica__free(tmp);
    return st;
}

int ovica__read_file(const char *path, const char *origin, size_t max_bytes, unsigned char **out,
                     size_t *len)
{
    char et[128];
    *out = NULL;
    *len = 0;
    errno = 0;
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        ovica__errno_text(errno ? errno : EIO, et, sizeof et);
        return ovica__error(OVICA_EIO, "%s: cannot open: %s", origin, et);
    }
    struct stat sb;
    if (fstat(fileno(fp), &sb) != 0 || S_ISDIR(sb.st_mode)) {
        int e = S_ISDIR(sb.st_mode) ? EISDIR : errno;
        fclose(fp);
        ovica__errno_text(e ? e : EIO, et, sizeof et);
        return ovica__error(OVICA_EIO, "%s: cannot read: %s", origin, et);
    }
    /* The size of a regular file is a hint only (the file may change); read
     * until the end, growing the buffer, never past max_bytes. */
    size_t cap = 4096;
    if (S_ISREG(sb.st_mode) && sb.st_size > 0 && (uintmax_t)sb.st_size < (uintmax_t)max_bytes)
        cap = (size_t)sb.st_size + 1;
    unsigned char *buf = ovica__malloc(cap);
    size_t n = 0;
    int st = OVICA_OK;
    if (buf == NULL) {
        fclose(fp);
        return ovica__error(OVICA_ENOMEM, "%s: cannot allocate %zu bytes", origin, cap);
    }
    for (;;) {
        if (n == cap) {
            if (cap >= max_bytes) {
                st = ovica__error(OVICA_EFORMAT, "%s: larger than %zu bytes", origin, max_bytes);
                break;
            }
            size_t ncap = cap > max_bytes / 2 ? max_bytes : 2 * cap;
            unsigned char *nb = ovica__realloc(buf, ncap);
            if (nb == NULL) {
                st = ovica__error(OVICA_ENOMEM, "%s: cannot allocate %zu bytes", origin, ncap);
                break;
            }
            buf = nb;
            cap = ncap;
        }
        errno = 0;
        size_t k = fread(buf + n, 1, cap - n, fp);
        n += k;
        if (k == 0) {
            if (ferror(fp)) {
                ovica__errno_text(errno ? errno : EIO, et, sizeof et);
                st = ovica__error(OVICA_EIO, "%s: read error at byte %zu: %s", origin, n, et);
            }
            break;
        }
    }
    fclose(fp);
    if (st != OVICA_OK) {
        ovica__free(buf);
        return st;
    }
    *out = buf;
    *len = n;
    return OVICA_OK;
}

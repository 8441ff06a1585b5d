/*
 * Internal file helpers (src/fileio.c), shared by the .npy writer (npy.c)
 * and the model files (modelio.c). Not exported.
 */
#ifndef OVICA_FILEIO_H
#define OVICA_FILEIO_H

#include <stddef.h>
#include <stdio.h>

/* Thread-safe text of an errno value. */
void ovica__errno_text(int e, char *buf, size_t n);

/* Writes the contents of a file through fn(fp, ctx); returns 0, 1 for a
 * write error (errno set, e.g. fwrite failed), or a negative status already
 * recorded with ovica__error. */
typedef int (*ovica__write_fn)(FILE *fp, void *ctx);

/* Replaces `path` atomically: fn writes to a new temporary file
 * path + ".tmp.XXXXXX" in the same directory, which is flushed, fsync'ed,
 * closed and renamed over path (then the directory is fsync'ed, best effort).
 * On any failure the temporary is removed and an existing file at path is
 * untouched. A file that replaces a regular file keeps its permission bits;
 * a new file gets 0644. Messages are prefixed by `origin`. */
int ovica__write_atomic(const char *path, const char *origin, ovica__write_fn fn, void *ctx);

/* Reads a whole file (regular or not) into a new buffer (ovica__free), at
 * most max_bytes (else OVICA_EFORMAT). OVICA_EIO for a missing file, a
 * directory or a read error. On failure *out is NULL and *len 0. */
int ovica__read_file(const char *path, const char *origin, size_t max_bytes, unsigned char **out,
                     size_t *len);

#endif /* OVICA_FILEIO_H */

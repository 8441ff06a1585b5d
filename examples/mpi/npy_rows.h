/* Reading a range of rows of a 2-D .npy file, without reading the rest.
 *
 * The library reads whole .npy files (ovica/io.h); a process of a
 * data-parallel job needs only its shard. npy_read_rows() validates the file
 * with ovica_npy_info() (so every file it accepts is one the library
 * accepts), parses the few header fields it needs (the dtype and the
 * order), and reads the rows directly with pread():
 *   - C order: one contiguous byte range, read in 64 KiB pieces;
 *   - Fortran order: one piece per column (each column is contiguous).
 * float64 and float32, little- or big-endian, are converted to double as the
 * library converts them (float32 is widened exactly). */
#ifndef OVICA_EXAMPLE_NPY_ROWS_H
#define OVICA_EXAMPLE_NPY_ROWS_H

#include <stddef.h>

/* Reads rows [row0, row0 + nrows) of the .npy file `path`, which must have
 * `cols` columns, into out (nrows x cols doubles, row-major).
 * Returns an ovica status: OVICA_OK; OVICA_ESIZE (wrong number of columns,
 * rows past the end); OVICA_EIO; OVICA_EFORMAT; others from ovica_npy_info().
 * On failure, err (errlen bytes) holds a message. */
int npy_read_rows(const char *path, size_t row0, size_t nrows, size_t cols, double *out,
                  char *err, size_t errlen);

#endif

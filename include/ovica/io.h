/**
 * @file ovica/io.h
 * @brief Reading and writing 2-D float arrays in NumPy's .npy format.
 *
 * Arrays in memory are always row-major (C order) `double`, rows x cols:
 * element (i, j) is at index i * cols + j (see ovica.h).
 *
 * What is read. A .npy file (or buffer) is accepted when it has:
 * - the magic "\x93NUMPY" and format version 1.0, 2.0 or 3.0 (any other
 *   version gives OVICA_EVERSION);
 * - a header that is a Python dict literal holding exactly the keys
 *   'descr', 'fortran_order' and 'shape', in any order, with either quote
 *   style, any Python whitespace and an optional trailing comma; every
 *   header byte must be printable ASCII or whitespace (this holds for every
 *   header numpy writes for the accepted dtypes, also in version 3.0, whose
 *   header is UTF-8); strings may not contain backslash escapes; header
 *   lengths above 1 MiB are refused;
 * - 'descr' one of 'f8', 'f4' prefixed by '<' (little-endian), '>'
 *   (big-endian), or '=', '|' or nothing (native byte order, determined at
 *   run time from the host); everything else (integers, booleans, complex,
 *   other float sizes, strings, objects, structured dtypes) is refused;
 * - 'fortran_order' True or False (True: the data are column-major, and
 *   are transposed into row-major on reading);
 * - 'shape' a tuple of exactly two non-negative integers, both non-zero
 *   (the library rejects empty data); version 1.0/2.0 headers may carry
 *   Python 2 'L' suffixes, as numpy accepts;
 * - exactly rows * cols * itemsize data bytes after the header: missing
 *   bytes and also trailing bytes after the data are refused (numpy would
 *   ignore trailing bytes; here they are taken as a sign of corruption).
 * Any violation gives OVICA_EFORMAT with a message naming the problem (the
 * rank of a non-2-D array, the unsupported dtype, the byte offset of a
 * syntax error, the numbers of bytes promised and present). Length fields
 * are never trusted: nothing is allocated or read past what the file or
 * buffer holds. float32 data are widened to double exactly.
 *
 * NaN and infinite values are read and written as they are; consumers of
 * the data check finiteness themselves.
 *
 * Files are read in bounded chunks (64 KiB) converted as they arrive, so a
 * read never holds a second copy of the array, also for Fortran order.
 *
 * What is written: format version 1.0 (2.0 only if the header would not fit
 * in 65535 bytes), dtype '<f8' or '<f4', fortran_order False, the header
 * laid out exactly as numpy (>= 1.24) lays it out: the dict, spare blanks
 * for growing the first axis, blank padding so that the data start at a
 * multiple of 64 bytes, and a final '\n'.
 *
 * Errors: OVICA_EINVAL for a NULL or otherwise invalid argument, OVICA_EIO
 * when a file cannot be opened, read, written, synced or renamed,
 * OVICA_EFORMAT for invalid contents, OVICA_EVERSION for an unknown format
 * version, OVICA_ENOMEM when allocation fails; the thread's error message
 * (ovica_error_message()) gives the detail and the path.
 *
 * Threads: all functions are reentrant; they share no state.
 */
#ifndef OVICA_IO_H
#define OVICA_IO_H

#include "common.h"

OVICA_BEGIN_DECLS

/**
 * @brief Shape of the 2-D array stored in a .npy file.
 *
 * Validates the preamble and header as described above and, when the path
 * is a regular file, that its size is exactly header + data (so that a
 * successful call means a read of the file will find the data). For a
 * non-regular file (pipe, device) only the header is checked.
 *
 * @param path  file name; must not be NULL.
 * @param rows  out: number of rows (first axis); must not be NULL.
 * @param cols  out: number of columns (second axis); must not be NULL.
 * @return OVICA_OK; OVICA_EINVAL, OVICA_EIO, OVICA_EFORMAT, OVICA_EVERSION,
 *         OVICA_ENOMEM. The out-parameters are written only on success.
 */
OVICA_API int ovica_npy_info(const char *path, size_t *rows, size_t *cols);

/**
 * @brief Reads a .npy file into a caller-supplied buffer.
 *
 * @param path  file name; must not be NULL.
 * @param out   caller-owned array of rows * cols doubles, filled row-major
 *              (C order) whatever the file's order; must not be NULL.
 * @param rows  expected number of rows: must equal the file's first axis.
 * @param cols  expected number of columns: must equal the file's second axis.
 * @return OVICA_OK; OVICA_ESIZE (message gives both shapes) if the file's
 *         shape is not rows x cols (a transposed shape is also a mismatch);
 *         OVICA_EINVAL, OVICA_EIO, OVICA_EFORMAT, OVICA_EVERSION,
 *         OVICA_ENOMEM. On failure the contents of `out` are unspecified:
 *         they are only touched once the header and, for regular files, the
 *         file size have been validated, but a read error or a file that
 *         shrinks while it is read can leave them partly written.
 */
OVICA_API int ovica_npy_read_into(const char *path, double *out, size_t rows, size_t cols);

/**
 * @brief Reads a .npy file into a newly allocated array.
 *
 * @param path  file name; must not be NULL.
 * @param out   out: the array, rows * cols doubles in row-major order,
 *              owned by the caller and released with ovica_free(); must not
 *              be NULL.
 * @param rows  out: number of rows; must not be NULL.
 * @param cols  out: number of columns; must not be NULL.
 * @return OVICA_OK; OVICA_EINVAL, OVICA_EIO, OVICA_EFORMAT, OVICA_EVERSION,
 *         OVICA_ENOMEM. On failure *out is NULL and *rows, *cols are 0 (when
 *         the pointers themselves are not NULL).
 */
OVICA_API int ovica_npy_read(const char *path, double **out, size_t *rows, size_t *cols);

/**
 * @brief Parses a .npy image held in memory (same rules as a file).
 *
 * Intended for embedded data and for fuzzing: every byte sequence is safe to
 * pass; nothing outside buf[0 .. len) is read. The whole buffer must be the
 * .npy image (trailing bytes are an error).
 *
 * @param buf   the bytes; must not be NULL (even when len is 0). Not kept.
 * @param len   number of bytes in buf.
 * @param out   out: newly allocated row-major array of rows * cols doubles,
 *              released with ovica_free(); must not be NULL.
 * @param rows  out: number of rows; must not be NULL.
 * @param cols  out: number of columns; must not be NULL.
 * @return OVICA_OK; OVICA_EINVAL, OVICA_EFORMAT, OVICA_EVERSION,
 *         OVICA_ENOMEM. On failure *out is NULL and *rows, *cols are 0.
 */
OVICA_API int ovica_npy_read_buffer(const void *buf, size_t len, double **out,
                                    size_t *rows, size_t *cols);

/**
 * @brief Writes a row-major array as a float64 ('<f8', C order) .npy file.
 *
 * The file is replaced atomically: the data go to a new temporary file
 * `path` + ".tmp.XXXXXX" in the same directory, which is flushed, fsync'ed
 * and then renamed over `path` (the directory is then fsync'ed, best
 * effort). On any failure the temporary file is removed and an existing
 * file at `path` is left untouched. A file that replaces an existing regular
 * file keeps that file's permission bits; a new file gets mode 0644. If
 * `path` is a symbolic link, the link itself is replaced.
 *
 * @param path  file name; must not be NULL or empty.
 * @param data  rows * cols doubles, row-major; must not be NULL. Written as
 *              they are, NaN and infinities included.
 * @param rows  number of rows, > 0.
 * @param cols  number of columns, > 0.
 * @return OVICA_OK; OVICA_EINVAL (NULL argument, zero size, size overflow),
 *         OVICA_EIO (message gives the failing step and the system error),
 *         OVICA_ENOMEM.
 */
OVICA_API int ovica_npy_write(const char *path, const double *data, size_t rows, size_t cols);

/**
 * @brief Writes a row-major array as a float32 ('<f4', C order) .npy file.
 *
 * Same as ovica_npy_write(), except that values are rounded to float
 * (round to nearest; tiny values may become subnormal or zero). NaN and
 * infinities are written as NaN and infinities; a finite value whose
 * magnitude exceeds FLT_MAX gives OVICA_EDOMAIN (message gives its row and
 * column) before any file is created.
 *
 * @return OVICA_OK; OVICA_EINVAL, OVICA_EDOMAIN, OVICA_EIO, OVICA_ENOMEM.
 */
OVICA_API int ovica_npy_write_float32(const char *path, const double *data, size_t rows,
                                      size_t cols);

/**
 * @name Reading rows of a file that need not fit in memory
 *
 * An opened .npy file (ovica_npy_open()) hands out any range of rows,
 * converted to row-major double, without reading the rest of the file:
 * a host trains on a file larger than its memory by reading one batch at a
 * time (`ovica train --batch` does). The file is validated once, at
 * opening, by the rules above (same dtypes, orders, versions and errors as
 * ovica_npy_read()); it must be a regular file (pipes and devices cannot be
 * mapped: use ovica_npy_read()).
 *
 * How rows are read: the bytes of the range are memory-mapped read-only
 * (mmap) in windows of at most 16 MiB, converted into the caller's buffer
 * (byte order, float32 widened exactly, Fortran order gathered column by
 * column) and unmapped again. Nothing of the data is kept by the handle, so
 * its memory is a few hundred bytes whatever the file's size, and the
 * address space used is bounded by the window (a limit such as
 * `ulimit -v` smaller than the file is no obstacle); the pages read stay in
 * the system's page cache, which the kernel reclaims as it needs.
 *
 * A file that another process truncates while it is open: each read first
 * checks that the file still has the size it had at opening
 * (OVICA_EIO otherwise), but a truncation during the read itself makes the
 * system deliver SIGBUS to the process (a property of memory maps). Do not
 * shrink files that are being read.
 *
 * Streaming: a host that knows which rows its next step reads can ask for
 * them with ovica_npy_prefetch_rows() before it trains on the current
 * rows; the kernel then reads them from the disk while the step computes,
 * and the next ovica_npy_read_rows() finds them in memory.
 *
 * Threads: the handle is only read by ovica_npy_read_rows() and
 * ovica_npy_prefetch_rows(), so several threads may use one handle at
 * once; ovica_npy_close() must not race with them.
 * @{
 */

/** Opaque handle of an opened .npy file. */
typedef struct ovica_npy_file ovica_npy_file;

/** Element types of a .npy file (ovica_npy_file_format()). */
enum ovica_npy_dtype {
    OVICA_NPY_FLOAT64 = 0, /**< 'f8' */
    OVICA_NPY_FLOAT32 = 1  /**< 'f4' */
};

/**
 * @brief Opens a .npy file for reading rows (ovica_npy_read_rows()).
 *
 * Reads and validates the preamble and header and checks that the file's
 * size is exactly header + data; keeps the file descriptor open (close-on-
 * exec) until ovica_npy_close().
 *
 * @param out   out: the handle, released with ovica_npy_close(); written
 *              only on success; must not be NULL.
 * @param path  file name; must not be NULL.
 * @return OVICA_OK; OVICA_EINVAL (NULL argument); OVICA_EIO (cannot open or
 *         stat, a directory, not a regular file); OVICA_EFORMAT (bad magic,
 *         header, dtype, shape, truncated data, trailing bytes: as
 *         ovica_npy_read()); OVICA_EVERSION; OVICA_ENOMEM.
 */
OVICA_API int ovica_npy_open(ovica_npy_file **out, const char *path);

/** @brief Closes an opened .npy file; NULL is a no-op. */
OVICA_API void ovica_npy_close(ovica_npy_file *f);

/**
 * @brief Shape of an opened file's array.
 * @param f     the handle; must not be NULL.
 * @param rows  optional (NULL): number of rows (first axis).
 * @param cols  optional (NULL): number of columns (second axis).
 * @return OVICA_OK; OVICA_EINVAL (f NULL).
 */
OVICA_API int ovica_npy_file_shape(const ovica_npy_file *f, size_t *rows, size_t *cols);

/**
 * @brief Storage format of an opened file.
 * @param f             the handle; must not be NULL.
 * @param dtype         optional (NULL): enum ovica_npy_dtype.
 * @param fortran_order optional (NULL): 1 if the data are column-major, else 0.
 * @param big_endian    optional (NULL): 1 if the data are big-endian, else 0.
 * @return OVICA_OK; OVICA_EINVAL (f NULL).
 */
OVICA_API int ovica_npy_file_format(const ovica_npy_file *f, int *dtype, int *fortran_order,
                                    int *big_endian);

/**
 * @brief Reads rows [r0, r1) of an opened file as row-major doubles.
 *
 * @param f     the handle; must not be NULL. Only read.
 * @param r0    first row, < r1.
 * @param r1    one past the last row, <= the file's rows.
 * @param out   caller-owned buffer of (r1 - r0) * cols doubles; row k of the
 *              result (file row r0 + k) starts at out + k * cols; must not
 *              be NULL.
 * @param cols  row length of out: must equal the file's number of columns.
 * @return OVICA_OK; OVICA_EINVAL (NULL argument, r0 >= r1, r1 past the last
 *         row: the message gives the range and the file's rows);
 *         OVICA_ESIZE (cols differs from the file's columns); OVICA_EIO (the
 *         file changed size since it was opened, or cannot be mapped: the
 *         message gives the system error). On failure the contents of out
 *         are unspecified.
 */
OVICA_API int ovica_npy_read_rows(const ovica_npy_file *f, size_t r0, size_t r1, double *out,
                                  size_t cols);

/**
 * @brief Asks the system to start reading rows [r0, r1) of an opened file
 * into memory, and returns at once (added in 0.3).
 *
 * The bytes of those rows (one range in C order, one per column in Fortran
 * order) are given to posix_fadvise(POSIX_FADV_WILLNEED): the kernel reads
 * them into its page cache in the background, so that a later
 * ovica_npy_read_rows() of the same rows does not wait for the disk. It is
 * advice: nothing is read into the caller's memory, nothing is kept by the
 * handle, and where the system cannot take the advice (it has no such call,
 * or refuses it) the call still succeeds and the rows are read when they
 * are asked for.
 *
 * @param f     the handle; must not be NULL. Only read.
 * @param r0    first row, < r1.
 * @param r1    one past the last row, <= the file's rows.
 * @return OVICA_OK; OVICA_EINVAL (f NULL, r0 >= r1, r1 past the last row).
 */
OVICA_API int ovica_npy_prefetch_rows(const ovica_npy_file *f, size_t r0, size_t r1);

/** @} */

/**
 * @brief Releases memory that the library allocated for the caller (e.g. the
 * arrays of ovica_npy_read() and ovica_npy_read_buffer()).
 * @param p  a pointer returned by the library, or NULL (then nothing happens).
 */
OVICA_API void ovica_free(void *p);

OVICA_END_DECLS

#endif /* OVICA_IO_H */

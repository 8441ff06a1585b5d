/* Tests of .npy reading and writing (ovica/io.h). Every .npy image that is
 * not written by the library is built byte by byte here, except the files
 * written by numpy itself in tests/data/npy/ (test_numpy_fixtures; made by
 * tests/data/npy/make_fixtures.py). */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */

typedef struct {
    unsigned char *p;
    size_t n, cap;
} bytes;

static void b_put(bytes *b, const void *src, size_t n)
{
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n) cap *= 2;
        b->p = realloc(b->p, cap);
        ck_assert_ptr_nonnull(b->p);
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->n, src, n);
    b->n += n;
}

static void b_free(bytes *b)
{
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

static int host_big(void)
{
    const uint16_t one = 1;
    unsigned char c;
    memcpy(&c, &one, 1);
    return c == 0;
}

/* Preamble + header: magic, version major.minor, length field, hdr bytes. */
static void b_header(bytes *b, int major, int minor, const char *hdr, size_t hlen)
{
    unsigned char pre[12] = {0x93, 'N', 'U', 'M', 'P', 'Y', (unsigned char)major,
                             (unsigned char)minor};
    size_t lb = major == 1 ? 2 : 4;
    for (size_t t = 0; t < lb; t++) pre[8 + t] = (unsigned char)(hlen >> (8 * t));
    b_put(b, pre, 8 + lb);
    b_put(b, hdr, hlen);
}

/* The row-major rows x cols array x as file data. */
static void b_data(bytes *b, const double *x, size_t rows, size_t cols, int itemsize, int big,
                   int fortran)
{
    for (size_t k = 0; k < rows * cols; k++) {
        size_t i = fortran ? k % rows : k / cols, j = fortran ? k / rows : k % cols;
        double v = x[i * cols + j];
        unsigned char e[8];
        uint64_t u;
        if (itemsize == 8) {
            memcpy(&u, &v, 8);
        } else {
            float f = (float)v;
            uint32_t w;
            memcpy(&w, &f, 4);
            u = w;
        }
        for (int t = 0; t < itemsize; t++) {
            unsigned char byte = (unsigned char)(u >> (8 * t));
            e[big ? itemsize - 1 - t : t] = byte;
        }
        b_put(b, e, (size_t)itemsize);
    }
}

/* 3 x 4 test matrix, exact in float32. */
static void mat34(double *x)
{
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 4; j++) x[i * 4 + j] = (i + 1) * 10 + j + 0.25 - (j == 2 ? 100 : 0);
}

/* A valid header for the 3 x 4 '<f8' matrix (C order). */
#define HDR34 "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }"

static char tmpdir[256];

static void setup_dir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ovica_npy_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) return;
    struct dirent *e;
    char p[600];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode)) rm_tree(p);
        else unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static void teardown_dir(void) { rm_tree(tmpdir); }

static void path_in(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", tmpdir, name);
}

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    if (n) ck_assert_uint_eq(fwrite(p, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

static bytes read_file(const char *path)
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

/* Number of entries in tmpdir whose name contains ".tmp." */
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

/* Parses b with read_buffer from an exact-size heap copy (so that a checker
 * such as ASan/valgrind would see any overread). */
static int parse_exact(const unsigned char *p, size_t n, double **out, size_t *r, size_t *c)
{
    unsigned char *copy = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(copy);
    if (n) memcpy(copy, p, n);
    int st = ovica_npy_read_buffer(copy, n, out, r, c);
    free(copy);
    return st;
}

/* Expects the buffer to be refused with `want` and a message holding `sub`. */
static void expect_reject(const bytes *b, int want, const char *sub, const char *label)
{
    double *out = (double *)&out; /* poison: must be reset to NULL */
    size_t r = 7, c = 7;
    ovica_error_clear();
    int st = parse_exact(b->p, b->n, &out, &r, &c);
    ck_assert_msg(st == want, "%s: status %d (%s), wanted %d; message: %s", label, st,
                  ovica_strerror(st), want, ovica_error_message());
    ck_assert_msg(ovica_error_message()[0] != '\0', "%s: no message", label);
    ck_assert_msg(sub == NULL || strstr(ovica_error_message(), sub) != NULL,
                  "%s: message '%s' lacks '%s'", label, ovica_error_message(), sub);
    ck_assert_ptr_null(out);
    ck_assert_uint_eq(r, 0);
    ck_assert_uint_eq(c, 0);
}

/* ------------------------------------------------------------------------ */
/* Writing and round trips                                                  */

START_TEST(test_roundtrip_f64)
{
    tu_rng g;
    tu_seed(&g, 11);
    double x[7 * 5];
    tu_fill_normal(&g, x, 35, 3.0);
    x[3] = -0.0;
    x[4] = 1e-310; /* subnormal */
    x[5] = DBL_MAX;
    char p[300];
    path_in(p, sizeof p, "a.npy");
    ck_assert_status(ovica_npy_write(p, x, 7, 5), OVICA_OK);
    size_t r = 0, c = 0;
    ck_assert_status(ovica_npy_info(p, &r, &c), OVICA_OK);
    ck_assert_uint_eq(r, 7);
    ck_assert_uint_eq(c, 5);
    double *y = NULL;
    ck_assert_status(ovica_npy_read(p, &y, &r, &c), OVICA_OK);
    ck_assert_uint_eq(r, 7);
    ck_assert_uint_eq(c, 5);
    ck_assert_mem_eq(x, y, sizeof x); /* bit-exact, -0.0 included */
    ovica_free(y);
    double z[35];
    ck_assert_status(ovica_npy_read_into(p, z, 7, 5), OVICA_OK);
    ck_assert_mem_eq(x, z, sizeof x);

    bytes f = read_file(p);
    ck_assert_status(ovica_npy_read_buffer(f.p, f.n, &y, &r, &c), OVICA_OK);
    ck_assert_mem_eq(x, y, sizeof x);
    ovica_free(y);
    b_free(&f);
    ck_assert_int_eq(count_temps(), 0);
}
END_TEST

START_TEST(test_roundtrip_f32)
{
    double x[4 * 6];
    for (int k = 0; k < 24; k++) x[k] = (k - 11) * 0.375; /* exact in float */
    x[0] = 0.1;                                          /* rounded */
    x[1] = FLT_MAX;
    x[2] = -FLT_MAX;
    x[3] = 1e-50; /* underflows to 0 */
    char p[300];
    path_in(p, sizeof p, "f.npy");
    ck_assert_status(ovica_npy_write_float32(p, x, 4, 6), OVICA_OK);
    double *y = NULL;
    size_t r, c;
    ck_assert_status(ovica_npy_read(p, &y, &r, &c), OVICA_OK);
    ck_assert_uint_eq(r, 4);
    ck_assert_uint_eq(c, 6);
    for (int k = 0; k < 24; k++) ck_assert_double_eq(y[k], (double)(float)x[k]);
    ck_assert_double_eq(y[3], 0.0);
    ovica_free(y);
    bytes f = read_file(p);
    ck_assert_uint_eq(f.n, 128 + 24 * 4);
    ck_assert(memcmp(f.p + 10, "{'descr': '<f4', ", 17) == 0);
    b_free(&f);
}
END_TEST

START_TEST(test_nonfinite_as_is)
{
    double x[6] = {NAN, INFINITY, -INFINITY, -0.0, 1.0, -2.5};
    char p[300];
    path_in(p, sizeof p, "nf.npy");
    for (int f32 = 0; f32 < 2; f32++) {
        ck_assert_status(f32 ? ovica_npy_write_float32(p, x, 2, 3) : ovica_npy_write(p, x, 2, 3),
                         OVICA_OK);
        double y[6];
        ck_assert_status(ovica_npy_read_into(p, y, 2, 3), OVICA_OK);
        ck_assert(isnan(y[0]));
        ck_assert(isinf(y[1]) && y[1] > 0);
        ck_assert(isinf(y[2]) && y[2] < 0);
        ck_assert(y[3] == 0.0 && signbit(y[3]));
        ck_assert_double_eq(y[4], 1.0);
        ck_assert_double_eq(y[5], -2.5);
    }
}
END_TEST

/* The exact bytes numpy (>= 1.24) writes for np.save(f, np.zeros((3, 4))). */
START_TEST(test_header_bytes_match_numpy)
{
    double x[12] = {0};
    x[1] = 1.0;
    char p[300];
    path_in(p, sizeof p, "z.npy");
    ck_assert_status(ovica_npy_write(p, x, 3, 4), OVICA_OK);
    bytes f = read_file(p);
    ck_assert_uint_eq(f.n, 128 + 96);
    static const unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 118, 0};
    ck_assert(memcmp(f.p, pre, 10) == 0);
    char want[119];
    memset(want, ' ', sizeof want);
    memcpy(want, HDR34, strlen(HDR34));
    want[117] = '\n';
    ck_assert(memcmp(f.p + 10, want, 118) == 0);
    /* 1.0 little-endian at element 1 */
    static const unsigned char one[8] = {0, 0, 0, 0, 0, 0, 0xf0, 0x3f};
    ck_assert(memcmp(f.p + 128 + 8, one, 8) == 0);
    b_free(&f);

    /* a large first axis: data offset still a multiple of 64, '\n' last */
    double *big = calloc(123457, sizeof *big);
    ck_assert_status(ovica_npy_write(p, big, 123457, 1), OVICA_OK);
    free(big);
    f = read_file(p);
    size_t hlen = (size_t)f.p[8] | (size_t)f.p[9] << 8;
    ck_assert_uint_eq((10 + hlen) % 64, 0);
    ck_assert_int_eq(f.p[10 + hlen - 1], '\n');
    ck_assert_uint_eq(f.n, 10 + hlen + 123457 * 8);
    b_free(&f);
}
END_TEST

START_TEST(test_write_float32_domain)
{
    char p[300];
    path_in(p, sizeof p, "d.npy");
    double x[4] = {1, 2, 3, 4};
    ck_assert_status(ovica_npy_write(p, x, 2, 2), OVICA_OK);
    double bad[4] = {1, 2, -1e39, 4};
    ck_assert_error(ovica_npy_write_float32(p, bad, 2, 2), OVICA_EDOMAIN);
    ck_assert_ptr_nonnull(strstr(ovica_error_message(), "row 1, column 0"));
    bad[2] = 3.5e38;
    ck_assert_error(ovica_npy_write_float32(p, bad, 2, 2), OVICA_EDOMAIN);
    double y[4];
    ck_assert_status(ovica_npy_read_into(p, y, 2, 2), OVICA_OK);
    ck_assert_mem_eq(x, y, sizeof x); /* untouched */
    ck_assert_int_eq(count_temps(), 0);
}
END_TEST

START_TEST(test_atomic_write)
{
    char p[300], q[300];
    path_in(p, sizeof p, "no/such/dir/x.npy");
    double x[6] = {1, 2, 3, 4, 5, 6};
    ck_assert_error(ovica_npy_write(p, x, 2, 3), OVICA_EIO);
    ck_assert_error(ovica_npy_write_float32(p, x, 2, 3), OVICA_EIO);

    /* a big file replaced by a small one: fully replaced */
    path_in(p, sizeof p, "over.npy");
    double *big = malloc(100 * 100 * sizeof *big);
    for (int k = 0; k < 10000; k++) big[k] = k;
    ck_assert_status(ovica_npy_write(p, big, 100, 100), OVICA_OK);
    free(big);
    ck_assert_int_eq(chmod(p, 0600), 0);
    ck_assert_status(ovica_npy_write(p, x, 2, 3), OVICA_OK);
    struct stat sb;
    ck_assert_int_eq(stat(p, &sb), 0);
    ck_assert_int_eq((long)sb.st_size, 128 + 48);
    ck_assert_int_eq((int)(sb.st_mode & 0777), 0600); /* mode kept */
    double y[6];
    ck_assert_status(ovica_npy_read_into(p, y, 2, 3), OVICA_OK);
    ck_assert_mem_eq(x, y, sizeof x);

    /* a new file gets 0644 */
    path_in(q, sizeof q, "new.npy");
    ck_assert_status(ovica_npy_write(q, x, 3, 2), OVICA_OK);
    ck_assert_int_eq(stat(q, &sb), 0);
    ck_assert_int_eq((int)(sb.st_mode & 0777), 0644);

    /* the target is a directory: the rename fails, the temporary is removed */
    path_in(q, sizeof q, "adir");
    ck_assert_int_eq(mkdir(q, 0755), 0);
    ck_assert_error(ovica_npy_write(q, x, 2, 3), OVICA_EIO);
    ck_assert_ptr_nonnull(strstr(ovica_error_message(), "rename"));
    ck_assert_int_eq(stat(q, &sb), 0);
    ck_assert(S_ISDIR(sb.st_mode));
    ck_assert_int_eq(count_temps(), 0);
}
END_TEST

START_TEST(test_invalid_args)
{
    char p[300];
    path_in(p, sizeof p, "v.npy");
    double x[4] = {1, 2, 3, 4}, *y = NULL;
    size_t r, c;
    ck_assert_status(ovica_npy_write(p, x, 2, 2), OVICA_OK);
    ck_assert_error(ovica_npy_info(NULL, &r, &c), OVICA_EINVAL);
    ck_assert_error(ovica_npy_info(p, NULL, &c), OVICA_EINVAL);
    ck_assert_error(ovica_npy_info(p, &r, NULL), OVICA_EINVAL);
    ck_assert_error(ovica_npy_read_into(NULL, x, 2, 2), OVICA_EINVAL);
    ck_assert_error(ovica_npy_read_into(p, NULL, 2, 2), OVICA_EINVAL);
    ck_assert_error(ovica_npy_read(NULL, &y, &r, &c), OVICA_EINVAL);
    ck_assert_error(ovica_npy_read(p, NULL, &r, &c), OVICA_EINVAL);
    ck_assert_error(ovica_npy_read(p, &y, NULL, &c), OVICA_EINVAL);
    ck_assert_error(ovica_npy_read(p, &y, &r, NULL), OVICA_EINVAL);
    ck_assert_error(ovica_npy_read_buffer(NULL, 0, &y, &r, &c), OVICA_EINVAL);
    ck_assert_error(ovica_npy_read_buffer(x, sizeof x, NULL, &r, &c), OVICA_EINVAL);
    ck_assert_error(ovica_npy_write(NULL, x, 2, 2), OVICA_EINVAL);
    ck_assert_error(ovica_npy_write("", x, 2, 2), OVICA_EINVAL);
    ck_assert_error(ovica_npy_write(p, NULL, 2, 2), OVICA_EINVAL);
    ck_assert_error(ovica_npy_write(p, x, 0, 2), OVICA_EINVAL);
    ck_assert_error(ovica_npy_write(p, x, 2, 0), OVICA_EINVAL);
    ck_assert_error(ovica_npy_write(p, x, SIZE_MAX / 4, 3), OVICA_EINVAL);
    ck_assert_error(ovica_npy_write_float32(p, x, 0, 2), OVICA_EINVAL);
    ck_assert_int_eq(count_temps(), 0);
    ovica_free(NULL);

    /* shape mismatch, including the transpose */
    ck_assert_status(ovica_npy_write(p, x, 1, 4), OVICA_OK);
    ck_assert_error(ovica_npy_read_into(p, x, 4, 1), OVICA_ESIZE);
    ck_assert_ptr_nonnull(strstr(ovica_error_message(), "1 x 4"));
    ck_assert_error(ovica_npy_read_into(p, x, 2, 2), OVICA_ESIZE);

    /* missing file, directory */
    path_in(p, sizeof p, "missing.npy");
    ck_assert_error(ovica_npy_info(p, &r, &c), OVICA_EIO);
    ck_assert_ptr_nonnull(strstr(ovica_error_message(), "missing.npy"));
    ck_assert_error(ovica_npy_read(p, &y, &r, &c), OVICA_EIO);
    ck_assert_ptr_null(y);
    ck_assert_error(ovica_npy_read_into(p, x, 2, 2), OVICA_EIO);
    ck_assert_error(ovica_npy_read(tmpdir, &y, &r, &c), OVICA_EIO);
    ck_assert_error(ovica_npy_info(tmpdir, &r, &c), OVICA_EIO);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Accepted variants                                                        */

static void check_34(const double *y, size_t r, size_t c)
{
    double x[12];
    mat34(x);
    ck_assert_uint_eq(r, 3);
    ck_assert_uint_eq(c, 4);
    for (int k = 0; k < 12; k++) ck_assert_double_eq(y[k], x[k]);
}

START_TEST(test_variants)
{
    static const char *descrs[] = {"<f8", ">f8", "<f4", ">f4", "=f8", "=f4", "|f8", "f8", "f4"};
    double x[12];
    mat34(x);
    char p[300];
    path_in(p, sizeof p, "var.npy");
    int cases = 0;
    for (int major = 1; major <= 3; major++)
        for (size_t d = 0; d < sizeof descrs / sizeof *descrs; d++)
            for (int fo = 0; fo < 2; fo++)
                for (int q = 0; q < 2; q++) {
                    const char *ds = descrs[d];
                    int big = ds[0] == '>' ? 1 : ds[0] == '<' ? 0 : host_big();
                    int isz = strchr(ds, '8') ? 8 : 4;
                    char hdr[200];
                    if (q == 0)
                        snprintf(hdr, sizeof hdr,
                                 "{'descr': '%s', 'fortran_order': %s, 'shape': (3, 4), }", ds,
                                 fo ? "True" : "False");
                    else
                        snprintf(hdr, sizeof hdr,
                                 " {\"shape\":( 3 ,\t4 ,), \"fortran_order\" :%s,\n"
                                 "\"descr\"\t: \"%s\"}   ",
                                 fo ? "True" : "False", ds);
                    size_t hl = strlen(hdr);
                    /* pad like numpy, to keep the check honest about offsets */
                    while ((hl + (major == 1 ? 10 : 12) + 1) % 64 != 0) hdr[hl++] = ' ';
                    hdr[hl++] = '\n';
                    bytes b = {0};
                    b_header(&b, major, 0, hdr, hl);
                    b_data(&b, x, 3, 4, isz, big, fo);
                    double *y = NULL;
                    size_t r, c;
                    ck_assert_msg(parse_exact(b.p, b.n, &y, &r, &c) == OVICA_OK,
                                  "v%d %s fortran=%d q=%d: %s", major, ds, fo, q,
                                  ovica_error_message());
                    check_34(y, r, c);
                    ovica_free(y);
                    /* the same bytes from a file, both readers */
                    write_file(p, b.p, b.n);
                    ck_assert_status(ovica_npy_read(p, &y, &r, &c), OVICA_OK);
                    check_34(y, r, c);
                    ovica_free(y);
                    double z[12];
                    ck_assert_status(ovica_npy_read_into(p, z, 3, 4), OVICA_OK);
                    check_34(z, 3, 4);
                    ck_assert_status(ovica_npy_info(p, &r, &c), OVICA_OK);
                    ck_assert_uint_eq(r, 3);
                    ck_assert_uint_eq(c, 4);
                    b_free(&b);
                    cases++;
                }
    ck_assert_int_eq(cases, 3 * 9 * 2 * 2);
}
END_TEST

/* Fortran order: the file holds the columns one after the other. */
START_TEST(test_fortran_layout)
{
    /* column-major bytes of [[1,2,3,4],[5,6,7,8],[9,10,11,12]] */
    static const double colmajor[12] = {1, 5, 9, 2, 6, 10, 3, 7, 11, 4, 8, 12};
    bytes b = {0};
    const char *hdr = "{'descr': '<f8', 'fortran_order': True, 'shape': (3, 4), }\n";
    b_header(&b, 1, 0, hdr, strlen(hdr));
    b_data(&b, colmajor, 1, 12, 8, 0, 0); /* raw sequence */
    double *y = NULL;
    size_t r, c;
    ck_assert_status(parse_exact(b.p, b.n, &y, &r, &c), OVICA_OK);
    ck_assert_uint_eq(r, 3);
    ck_assert_uint_eq(c, 4);
    for (int k = 0; k < 12; k++) ck_assert_double_eq(y[k], k + 1);
    ovica_free(y);
    b_free(&b);
}
END_TEST

START_TEST(test_header_oddities_accepted)
{
    static const struct {
        int major;
        const char *hdr;
    } ok[] = {
        {1, "{'descr':'<f8','fortran_order':False,'shape':(3,4)}"},
        {1, "{'shape': (3, 4,), 'descr': '<f8', 'fortran_order': False,}"},
        {1, "\t{ 'fortran_order' : False , 'shape' : ( 3 , 4 ) , 'descr' : '<f8' , }\r\n"},
        {1, "{'descr': '<f8',\n 'fortran_order': False,\n 'shape': (\n3,\n4\n)\n}\f"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3L, 4L), }"},
        {2, "{'descr': '<f8', 'fortran_order': False, 'shape': (3l, 4), }"},
        {3, "{\"descr\": \"<f8\", \"fortran_order\": False, \"shape\": (3, 4)}"},
        {2, "{'descr': '<f8', 'fortran_order': False, 'shape': ( 3,4 ), }"},
        {1, "{'descr': \"<f8\", \"fortran_order\": False, 'shape': (3, 4)}"},
    };
    double x[12];
    mat34(x);
    for (size_t t = 0; t < sizeof ok / sizeof *ok; t++) {
        bytes b = {0};
        b_header(&b, ok[t].major, 0, ok[t].hdr, strlen(ok[t].hdr));
        b_data(&b, x, 3, 4, 8, 0, 0);
        double *y = NULL;
        size_t r, c;
        ck_assert_msg(parse_exact(b.p, b.n, &y, &r, &c) == OVICA_OK, "case %zu: %s", t,
                      ovica_error_message());
        check_34(y, r, c);
        ovica_free(y);
        b_free(&b);
    }
    /* Python digit grouping: 1_2 is 12; 0_0_1 has leading zeros */
    const char *h = "{'descr': '<f8', 'fortran_order': False, 'shape': (1_2, 0_0_1), }";
    bytes b = {0};
    b_header(&b, 1, 0, h, strlen(h));
    b_data(&b, x, 12, 1, 8, 0, 0);
    double *y = NULL;
    size_t r, c;
    ck_assert_status(parse_exact(b.p, b.n, &y, &r, &c), OVICA_EFORMAT); /* 0_0_1: leading zeros */
    b_free(&b);
    h = "{'descr': '<f8', 'fortran_order': False, 'shape': (1_2, 1), }";
    b_header(&b, 1, 0, h, strlen(h));
    b_data(&b, x, 12, 1, 8, 0, 0);
    ck_assert_status(parse_exact(b.p, b.n, &y, &r, &c), OVICA_OK);
    ck_assert_uint_eq(r, 12);
    ck_assert_uint_eq(c, 1);
    ck_assert_mem_eq(x, y, sizeof x);
    ovica_free(y);
    b_free(&b);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Rejections                                                               */

START_TEST(test_header_rejections)
{
    static const struct {
        int major;
        const char *hdr;
        const char *sub;
    } bad[] = {
        {1, "{'descr': '|O', 'fortran_order': False, 'shape': (3, 4), }", "Python objects"},
        {1, "{'descr': '<i8', 'fortran_order': False, 'shape': (3, 4), }", "integers"},
        {1, "{'descr': '<u4', 'fortran_order': False, 'shape': (3, 4), }", "integers"},
        {1, "{'descr': '|b1', 'fortran_order': False, 'shape': (3, 4), }", "booleans"},
        {1, "{'descr': '<c16', 'fortran_order': False, 'shape': (3, 4), }", "complex"},
        {1, "{'descr': '<f2', 'fortran_order': False, 'shape': (3, 4), }", "'<f2'"},
        {1, "{'descr': '<f16', 'fortran_order': False, 'shape': (3, 4), }", "'<f16'"},
        {1, "{'descr': '<d', 'fortran_order': False, 'shape': (3, 4), }", "unsupported dtype"},
        {1, "{'descr': 'float64', 'fortran_order': False, 'shape': (3, 4), }", "unsupported"},
        {1, "{'descr': '<U5', 'fortran_order': False, 'shape': (3, 4), }", "strings"},
        {1, "{'descr': '|V16', 'fortran_order': False, 'shape': (3, 4), }", "structured"},
        {1, "{'descr': '', 'fortran_order': False, 'shape': (3, 4), }", "unsupported dtype"},
        {1, "{'descr': '<f8 ', 'fortran_order': False, 'shape': (3, 4), }", "unsupported"},
        {1, "{'descr': [('a', '<f8'), ('b', '<f8')], 'fortran_order': False, 'shape': (3, 4), }",
         "structured"},
        {1, "{'descr': 8, 'fortran_order': False, 'shape': (3, 4), }", "'descr'"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (), }", "rank 0"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (12,), }", "rank 1"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3, 2), }", "rank 3"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (12), }", "not a tuple"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': [3, 4], }", "list"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': 12, }", "tuple"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (-3, 4), }", "negative"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, - 4), }", "negative"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999999, 4), }",
         "overflows"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (18446744073709551616, 1), }",
         "overflows"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }",
         "too large"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2305843009213693952, 1), }",
         "too large"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1152921504606846976, 1), }",
         "truncated data"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3.0, 4), }", "not an integer"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3e0, 4), }", "not an integer"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (0x3, 4), }", "not an integer"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (03, 4), }", "leading zeros"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (0_3, 4), }", "leading zeros"},
        {3, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 004), }", "leading zeros"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3__0, 4), }", "not an integer"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3_, 4), }", "not an integer"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (+3, 4), }", "not a non-negative"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3 4), }", "',' or ')'"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4", "',' or ')'"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,, 4), }", "integer"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (,), }", "integer"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (0, 4), }", "empty array"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 0), }", "empty array"},
        {3, "{'descr': '<f8', 'fortran_order': False, 'shape': (3L, 4L), }", "not an integer"},
        {1, "{'fortran_order': False, 'shape': (3, 4), }", "lacks the 'descr'"},
        {1, "{'descr': '<f8', 'shape': (3, 4), }", "lacks the 'fortran_order'"},
        {1, "{'descr': '<f8', 'fortran_order': False, }", "lacks the 'shape'"},
        {1, "{}", "lacks"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), 'foo': 1}",
         "unexpected key 'foo'"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), "
            "'a_key_that_is_far_too_long_to_fit_anywhere': 1}", "unexpected key"},
        {1, "{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }",
         "duplicate key 'descr'"},
        {1, "{'descr': '<f8', 'fortran_order': 1, 'shape': (3, 4), }", "True or False"},
        {1, "{'descr': '<f8', 'fortran_order': 'False', 'shape': (3, 4), }", "True or False"},
        {1, "{'descr': '<f8', 'fortran_order': true, 'shape': (3, 4), }", "True or False"},
        {1, "{'descr': '<f8', 'fortran_order': Truex, 'shape': (3, 4), }", "'Truex'"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), ", "quoted key"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4) ", "',' or '}'"},
        {1, "{'descr': '<f8' 'fortran_order': False, 'shape': (3, 4), }", "',' or '}'"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4),, }", "quoted key"},
        {1, "{,}", "quoted key"},
        {1, "{descr: '<f8', 'fortran_order': False, 'shape': (3, 4), }", "quoted key"},
        {1, "{'descr' '<f8', 'fortran_order': False, 'shape': (3, 4), }", "':'"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), } x", "after the dict"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }}", "after the dict"},
        {1, "['descr', '<f8']", "'{'"},
        {1, "", "'{'"},
        {1, "   \n", "end of the header"},
        {1, "{'descr': '<f\\x38', 'fortran_order': False, 'shape': (3, 4), }", "escape"},
        {1, "{'descr: '<f8', 'fortran_order': False, 'shape': (3, 4), }", "unexpected key"},
        {1, "{'descr': '<f8, 'fortran_order': False, 'shape': (3, 4), }", "unsupported dtype"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), 'x", "unterminated"},
        {1, "{'descr': '<f8\n', 'fortran_order': False, 'shape': (3, 4), }", "unterminated"},
        {3, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), '\xc3\xa9': 1}",
         "not printable ASCII"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }\x01", "0x01"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }\x7f", "0x7f"},
    };
    double x[12];
    mat34(x);
    for (size_t t = 0; t < sizeof bad / sizeof *bad; t++) {
        bytes b = {0};
        b_header(&b, bad[t].major, 0, bad[t].hdr, strlen(bad[t].hdr));
        b_data(&b, x, 3, 4, 8, 0, 0);
        char label[64];
        snprintf(label, sizeof label, "case %zu", t);
        expect_reject(&b, OVICA_EFORMAT, bad[t].sub, label);
        b_free(&b);
    }

    /* a NUL inside the header */
    bytes b = {0};
    b_header(&b, 1, 0, HDR34 "\0\n", strlen(HDR34) + 2);
    b_data(&b, x, 3, 4, 8, 0, 0);
    expect_reject(&b, OVICA_EFORMAT, "0x00", "NUL");
    b_free(&b);
}
END_TEST

START_TEST(test_preamble_rejections)
{
    double x[12];
    mat34(x);
    bytes b = {0};

    b_header(&b, 1, 0, HDR34, strlen(HDR34));
    b_data(&b, x, 3, 4, 8, 0, 0);
    b.p[5] = 'Z';
    expect_reject(&b, OVICA_EFORMAT, "magic", "bad magic");
    b.p[5] = 'Y';
    b.p[0] = 0x92;
    expect_reject(&b, OVICA_EFORMAT, "magic", "bad magic 2");
    b_free(&b);

    static const int versions[][2] = {{0, 0}, {4, 0}, {1, 1}, {2, 1}, {255, 255}};
    for (size_t v = 0; v < 5; v++) {
        b_header(&b, versions[v][0], versions[v][1], HDR34, strlen(HDR34));
        b_data(&b, x, 3, 4, 8, 0, 0);
        expect_reject(&b, OVICA_EVERSION, "version", "version");
        b_free(&b);
    }

    /* header length beyond the end of the data */
    b_header(&b, 1, 0, HDR34, strlen(HDR34));
    b_data(&b, x, 3, 4, 8, 0, 0);
    b.p[8] = 0xff;
    b.p[9] = 0xff;
    expect_reject(&b, OVICA_EFORMAT, "runs past", "hlen v1");
    b_free(&b);
    b_header(&b, 2, 0, HDR34, strlen(HDR34));
    b_data(&b, x, 3, 4, 8, 0, 0);
    memset(b.p + 8, 0xff, 4);
    expect_reject(&b, OVICA_EFORMAT, "limit", "hlen v2 huge");
    b.p[10] = 0;
    b.p[11] = 0; /* 65535: under the limit, past the end */
    expect_reject(&b, OVICA_EFORMAT, "runs past", "hlen v2");
    b_free(&b);
    /* header length too short: the dict is cut, the rest looks like data */
    b_header(&b, 1, 0, HDR34, strlen(HDR34));
    b_data(&b, x, 3, 4, 8, 0, 0);
    b.p[8] = 20;
    expect_reject(&b, OVICA_EFORMAT, NULL, "hlen short");
    b_free(&b);

    /* one data byte missing / one extra */
    b_header(&b, 1, 0, HDR34, strlen(HDR34));
    b_data(&b, x, 3, 4, 8, 0, 0);
    b.n--;
    expect_reject(&b, OVICA_EFORMAT, "truncated data", "short data");
    b.n++;
    unsigned char extra = 0;
    b_put(&b, &extra, 1);
    expect_reject(&b, OVICA_EFORMAT, "1 trailing bytes", "trailing");

    /* same from files */
    char p[300];
    path_in(p, sizeof p, "t.npy");
    double *y = NULL;
    size_t r, c;
    write_file(p, b.p, b.n);
    ck_assert_error(ovica_npy_read(p, &y, &r, &c), OVICA_EFORMAT);
    ck_assert_ptr_nonnull(strstr(ovica_error_message(), "trailing"));
    ck_assert_ptr_nonnull(strstr(ovica_error_message(), "t.npy"));
    ck_assert_error(ovica_npy_info(p, &r, &c), OVICA_EFORMAT);
    write_file(p, b.p, b.n - 2);
    ck_assert_error(ovica_npy_read(p, &y, &r, &c), OVICA_EFORMAT);
    ck_assert_ptr_nonnull(strstr(ovica_error_message(), "truncated"));
    ck_assert_error(ovica_npy_info(p, &r, &c), OVICA_EFORMAT);
    double z[12];
    ck_assert_error(ovica_npy_read_into(p, z, 3, 4), OVICA_EFORMAT);
    b_free(&b);
}
END_TEST

/* Every proper prefix of a valid file fails cleanly, from memory and file. */
START_TEST(test_truncation_every_length)
{
    char p[300], q[300];
    path_in(p, sizeof p, "full.npy");
    path_in(q, sizeof q, "cut.npy");
    double x[6] = {1.5, -2, 3, 4e10, 5, -6e-7};
    for (int f32 = 0; f32 < 2; f32++) {
        ck_assert_status(f32 ? ovica_npy_write_float32(p, x, 2, 3) : ovica_npy_write(p, x, 2, 3),
                         OVICA_OK);
        bytes f = read_file(p);
        ck_assert_uint_eq(f.n, 128 + 6 * (f32 ? 4 : 8));
        for (size_t n = 0; n < f.n; n++) {
            double *y = (double *)&y;
            size_t r = 9, c = 9;
            ovica_error_clear();
            int st = parse_exact(f.p, n, &y, &r, &c);
            ck_assert_msg(st == OVICA_EFORMAT, "len %zu: %d %s", n, st, ovica_error_message());
            ck_assert_msg(ovica_error_message()[0] != '\0', "len %zu: no message", n);
            ck_assert_ptr_null(y);
            write_file(q, f.p, n);
            ovica_error_clear();
            st = ovica_npy_read(q, &y, &r, &c);
            ck_assert_msg(st == OVICA_EFORMAT, "file len %zu: %d %s", n, st, ovica_error_message());
            ck_assert_ptr_null(y);
            st = ovica_npy_info(q, &r, &c);
            ck_assert_msg(st == OVICA_EFORMAT, "info len %zu: %d %s", n, st, ovica_error_message());
        }
        double *y = NULL;
        size_t r, c;
        ck_assert_status(parse_exact(f.p, f.n, &y, &r, &c), OVICA_OK);
        ovica_free(y);
        b_free(&f);
    }
}
END_TEST

/* Reading from a pipe: the size is unknown, so truncation and trailing bytes
 * are found while streaming. */
static int read_via_fifo(const bytes *b, double **y, size_t *r, size_t *c)
{
    char p[300];
    path_in(p, sizeof p, "fifo");
    unlink(p);
    ck_assert_int_eq(mkfifo(p, 0600), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        FILE *f = fopen(p, "wb");
        if (f == NULL) _exit(1);
        fwrite(b->p, 1, b->n, f);
        fclose(f);
        _exit(0);
    }
    int st = ovica_npy_read(p, y, r, c);
    int ws;
    waitpid(pid, &ws, 0);
    unlink(p);
    return st;
}

START_TEST(test_fifo_stream)
{
    double x[12];
    mat34(x);
    bytes b = {0};
    b_header(&b, 1, 0, HDR34, strlen(HDR34));
    b_data(&b, x, 3, 4, 8, 0, 0);
    double *y = NULL;
    size_t r, c;
    ck_assert_status(read_via_fifo(&b, &y, &r, &c), OVICA_OK);
    check_34(y, r, c);
    ovica_free(y);
    b.n -= 3;
    ovica_error_clear();
    ck_assert_status(read_via_fifo(&b, &y, &r, &c), OVICA_EFORMAT);
    ck_assert_ptr_nonnull(strstr(ovica_error_message(), "truncated data"));
    ck_assert_ptr_null(y);
    b.n += 3;
    unsigned char extra[5] = {0};
    b_put(&b, extra, 5);
    ovica_error_clear();
    ck_assert_status(read_via_fifo(&b, &y, &r, &c), OVICA_EFORMAT);
    ck_assert_ptr_nonnull(strstr(ovica_error_message(), "trailing"));
    ck_assert_ptr_null(y);
    b_free(&b);
}
END_TEST

/* Random corruption never crashes and gives OK or a format error. */
START_TEST(test_mutations)
{
    double x[12];
    mat34(x);
    bytes base[2] = {{0}, {0}};
    b_header(&base[0], 1, 0, HDR34 "      \n", strlen(HDR34) + 7);
    b_data(&base[0], x, 3, 4, 8, 0, 0);
    const char *h2 = "{'descr': '>f4', 'fortran_order': True, 'shape': (3, 4), }\n";
    b_header(&base[1], 2, 0, h2, strlen(h2));
    b_data(&base[1], x, 3, 4, 4, 1, 1);
    tu_rng g;
    tu_seed(&g, 2024);
    int ok = 0;
    for (int it = 0; it < 20000; it++) {
        const bytes *src = &base[it & 1];
        bytes m = {0};
        b_put(&m, src->p, src->n);
        int flips = 1 + (int)(tu_uniform(&g) * 4);
        for (int k = 0; k < flips; k++) {
            size_t at = (size_t)(tu_uniform(&g) * (double)m.n);
            /* bias towards the preamble and header, where the parser is */
            if (tu_uniform(&g) < 0.7) at = (size_t)(tu_uniform(&g) * 80);
            if (tu_uniform(&g) < 0.5) m.p[at] = (unsigned char)(tu_uniform(&g) * 256);
            else m.p[at] = "0123456789(),:'\"{} _-LTF\n"[(int)(tu_uniform(&g) * 25)];
        }
        if (tu_uniform(&g) < 0.2) m.n = (size_t)(tu_uniform(&g) * (double)m.n);
        double *y = (double *)&y;
        size_t r = 5, c = 5;
        int st = parse_exact(m.p, m.n, &y, &r, &c);
        ck_assert_msg(st == OVICA_OK || st == OVICA_EFORMAT || st == OVICA_EVERSION,
                      "iteration %d: status %d", it, st);
        if (st == OVICA_OK) {
            ck_assert_ptr_nonnull(y);
            ck_assert(r > 0 && c > 0);
            ok++;
            ovica_free(y);
        } else {
            ck_assert_ptr_null(y);
        }
        b_free(&m);
    }
    ck_assert_int_gt(ok, 0);
    b_free(&base[0]);
    b_free(&base[1]);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Large arrays: chunked reads                                              */

static double big_val(size_t i, size_t j) { return (double)(i * 7 + j) - 1e6 + 0.5 * (double)(j & 1); }

static void write_big(const char *path, size_t rows, size_t cols, int isz, int big, int fortran)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    char hdr[160];
    snprintf(hdr, sizeof hdr, "{'descr': '%c%s', 'fortran_order': %s, 'shape': (%zu, %zu), }\n",
             big ? '>' : '<', isz == 8 ? "f8" : "f4", fortran ? "True" : "False", rows, cols);
    bytes b = {0};
    b_header(&b, 1, 0, hdr, strlen(hdr));
    ck_assert_uint_eq(fwrite(b.p, 1, b.n, f), b.n);
    b_free(&b);
    /* one row or column at a time */
    size_t outer = fortran ? cols : rows, inner = fortran ? rows : cols;
    double *line = malloc(inner * sizeof *line);
    for (size_t a = 0; a < outer; a++) {
        for (size_t k = 0; k < inner; k++) line[k] = fortran ? big_val(k, a) : big_val(a, k);
        b_data(&b, line, 1, inner, isz, big, 0);
        ck_assert_uint_eq(fwrite(b.p, 1, b.n, f), b.n);
        b.n = 0;
    }
    b_free(&b);
    free(line);
    ck_assert_int_eq(fclose(f), 0);
}

static void check_big(const double *y, size_t rows, size_t cols, int isz)
{
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) {
            double want = isz == 8 ? big_val(i, j) : (double)(float)big_val(i, j);
            if (y[i * cols + j] != want)
                ck_abort_msg("(%zu, %zu): %.17g, wanted %.17g", i, j, y[i * cols + j], want);
        }
}

START_TEST(test_large_chunked)
{
    static const struct {
        size_t rows, cols;
        int isz, big, fortran;
    } cases[] = {
        {300000, 3, 8, 0, 1},
        {300001, 3, 4, 1, 1},
        {8193, 5, 8, 1, 0},
        {3, 100003, 4, 0, 1},
    };
    char p[300];
    path_in(p, sizeof p, "big.npy");
    for (size_t t = 0; t < sizeof cases / sizeof *cases; t++) {
        size_t R = cases[t].rows, C = cases[t].cols;
        write_big(p, R, C, cases[t].isz, cases[t].big, cases[t].fortran);
        double *y = NULL;
        size_t r, c;
        ck_assert_status(ovica_npy_read(p, &y, &r, &c), OVICA_OK);
        ck_assert_uint_eq(r, R);
        ck_assert_uint_eq(c, C);
        check_big(y, R, C, cases[t].isz);
        memset(y, 0, R * C * sizeof *y);
        ck_assert_status(ovica_npy_read_into(p, y, R, C), OVICA_OK);
        check_big(y, R, C, cases[t].isz);
        ovica_free(y);
    }
    /* and a large C-order round trip through the writer */
    size_t R = 300000, C = 3;
    double *x = malloc(R * C * sizeof *x);
    for (size_t i = 0; i < R; i++)
        for (size_t j = 0; j < C; j++) x[i * C + j] = big_val(i, j);
    ck_assert_status(ovica_npy_write(p, x, R, C), OVICA_OK);
    double *y = NULL;
    size_t r, c;
    ck_assert_status(ovica_npy_read(p, &y, &r, &c), OVICA_OK);
    ck_assert_mem_eq(x, y, R * C * sizeof *x);
    ovica_free(y);
    free(x);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Opened files: ovica_npy_open / ovica_npy_read_rows                       */

static void check_rows(const double *y, size_t r0, size_t r1, size_t cols, int isz)
{
    for (size_t i = r0; i < r1; i++)
        for (size_t j = 0; j < cols; j++) {
            double want = isz == 8 ? big_val(i, j) : (double)(float)big_val(i, j);
            double got = y[(i - r0) * cols + j];
            if (got != want) ck_abort_msg("row %zu col %zu: %.17g, wanted %.17g", i, j, got, want);
        }
}

START_TEST(test_rows_layouts)
{
    static const struct {
        size_t rows, cols;
        int isz, big, fortran;
    } cases[] = {
        {1100000, 2, 8, 0, 0}, /* 17.6 MB: a read spans two 16 MiB windows */
        {300001, 3, 4, 1, 1},  /* float32, big-endian, Fortran order */
        {777, 5, 4, 0, 0},
        {5, 2001, 8, 1, 1},
        {1, 1, 8, 0, 0},
    };
    char p[300];
    path_in(p, sizeof p, "rows.npy");
    for (size_t t = 0; t < sizeof cases / sizeof *cases; t++) {
        size_t R = cases[t].rows, C = cases[t].cols;
        write_big(p, R, C, cases[t].isz, cases[t].big, cases[t].fortran);
        ovica_npy_file *f = NULL;
        ck_assert_status(ovica_npy_open(&f, p), OVICA_OK);
        size_t r = 0, c = 0;
        int dt = -1, fo = -1, be = -1;
        ck_assert_status(ovica_npy_file_shape(f, &r, &c), OVICA_OK);
        ck_assert_uint_eq(r, R);
        ck_assert_uint_eq(c, C);
        ck_assert_status(ovica_npy_file_shape(f, NULL, NULL), OVICA_OK);
        ck_assert_status(ovica_npy_file_format(f, &dt, &fo, &be), OVICA_OK);
        ck_assert_int_eq(dt, cases[t].isz == 8 ? OVICA_NPY_FLOAT64 : OVICA_NPY_FLOAT32);
        ck_assert_int_eq(fo, cases[t].fortran);
        ck_assert_int_eq(be, cases[t].big);
        ck_assert_status(ovica_npy_file_format(f, NULL, NULL, NULL), OVICA_OK);
        double *y = malloc(R * C * sizeof *y);
        ck_assert_ptr_nonnull(y);
        const size_t ranges[][2] = {{0, R}, {R / 3, R / 3 + (R > 2 ? R / 2 : 1)}, {R - 1, R}, {0, 1}};
        for (size_t q = 0; q < 4; q++) {
            size_t r0 = ranges[q][0], r1 = ranges[q][1];
            if (r1 > R) r1 = R;
            memset(y, 0, (r1 - r0) * C * sizeof *y);
            /* (advice ahead of the read changes nothing in what is read) */
            ck_assert_status(ovica_npy_prefetch_rows(f, r0, r1), OVICA_OK);
            ck_assert_status(ovica_npy_read_rows(f, r0, r1, y, C), OVICA_OK);
            check_rows(y, r0, r1, C, cases[t].isz);
        }
        free(y);
        ovica_npy_close(f);
    }
    /* the writer's files, both dtypes, agree with ovica_npy_read */
    double x[13 * 3];
    for (int k = 0; k < 39; k++) x[k] = k * 0.1 - 1.7;
    for (int f32 = 0; f32 < 2; f32++) {
        ck_assert_status(f32 ? ovica_npy_write_float32(p, x, 13, 3) : ovica_npy_write(p, x, 13, 3),
                         OVICA_OK);
        double *all = NULL, part[6 * 3];
        size_t r, c;
        ck_assert_status(ovica_npy_read(p, &all, &r, &c), OVICA_OK);
        ovica_npy_file *f = NULL;
        ck_assert_status(ovica_npy_open(&f, p), OVICA_OK);
        ck_assert_status(ovica_npy_read_rows(f, 7, 13, part, 3), OVICA_OK);
        ck_assert_mem_eq(part, all + 7 * 3, sizeof part);
        ovica_npy_close(f);
        ovica_free(all);
    }
}
END_TEST

static void expect_open_fails(const char *path, int want, const char *sub)
{
    ovica_npy_file *f = (ovica_npy_file *)&f; /* poison: must stay as it is */
    ovica_npy_file *const poison = f;
    ovica_error_clear();
    int st = ovica_npy_open(&f, path);
    ck_assert_msg(st == want, "%s: status %d (%s), wanted %d; message: %s", path, st,
                  ovica_strerror(st), want, ovica_error_message());
    ck_assert_msg(sub == NULL || strstr(ovica_error_message(), sub) != NULL,
                  "message '%s' lacks '%s'", ovica_error_message(), sub);
    ck_assert_ptr_eq(f, poison);
}

START_TEST(test_rows_bad_input)
{
    char p[300], q[300];
    path_in(p, sizeof p, "ok.npy");
    double x[12];
    mat34(x);
    ck_assert_status(ovica_npy_write(p, x, 3, 4), OVICA_OK);
    ovica_npy_file *f = NULL;

    /* NULL arguments */
    ck_assert_status(ovica_npy_open(NULL, p), OVICA_EINVAL);
    ck_assert_status(ovica_npy_open(&f, NULL), OVICA_EINVAL);
    ck_assert_ptr_null(f);
    ovica_npy_close(NULL);
    ck_assert_status(ovica_npy_file_shape(NULL, NULL, NULL), OVICA_EINVAL);
    ck_assert_status(ovica_npy_file_format(NULL, NULL, NULL, NULL), OVICA_EINVAL);
    double y[12];
    ck_assert_status(ovica_npy_read_rows(NULL, 0, 1, y, 4), OVICA_EINVAL);
    ck_assert_status(ovica_npy_prefetch_rows(NULL, 0, 1), OVICA_EINVAL);

    /* out-of-range rows and a wrong row length; the handle stays usable */
    ck_assert_status(ovica_npy_open(&f, p), OVICA_OK);
    ck_assert_status(ovica_npy_read_rows(f, 0, 1, NULL, 4), OVICA_EINVAL);
    ovica_error_clear();
    ck_assert_status(ovica_npy_read_rows(f, 2, 4, y, 4), OVICA_EINVAL);
    ck_assert_ptr_nonnull(strstr(ovica_error_message(), "rows [2, 4)"));
    ck_assert_ptr_nonnull(strstr(ovica_error_message(), "3 rows"));
    ck_assert_status(ovica_npy_read_rows(f, 1, 1, y, 4), OVICA_EINVAL);
    ck_assert_status(ovica_npy_read_rows(f, 3, 2, y, 4), OVICA_EINVAL);
    ck_assert_status(ovica_npy_read_rows(f, SIZE_MAX, 3, y, 4), OVICA_EINVAL);
    ck_assert_status(ovica_npy_read_rows(f, 0, SIZE_MAX, y, 4), OVICA_EINVAL);
    ck_assert_status(ovica_npy_read_rows(f, 0, 3, y, 3), OVICA_ESIZE);
    ovica_error_clear();
    ck_assert_status(ovica_npy_prefetch_rows(f, 2, 4), OVICA_EINVAL);
    ck_assert_ptr_nonnull(strstr(ovica_error_message(), "rows [2, 4)"));
    ck_assert_status(ovica_npy_prefetch_rows(f, 1, 1), OVICA_EINVAL);
    ck_assert_status(ovica_npy_prefetch_rows(f, 3, 2), OVICA_EINVAL);
    ck_assert_status(ovica_npy_prefetch_rows(f, SIZE_MAX, 3), OVICA_EINVAL);
    ck_assert_status(ovica_npy_prefetch_rows(f, 0, SIZE_MAX), OVICA_EINVAL);
    ck_assert_status(ovica_npy_prefetch_rows(f, 0, 3), OVICA_OK);
    ck_assert_status(ovica_npy_read_rows(f, 0, 3, y, 4), OVICA_OK);
    ck_assert_mem_eq(y, x, sizeof x);

    /* a file truncated (or grown) after opening: refused, not mapped past its end */
    bytes b = read_file(p);
    write_file(p, b.p, b.n - 8);
    ovica_error_clear();
    ck_assert_status(ovica_npy_read_rows(f, 0, 1, y, 4), OVICA_EIO);
    ck_assert_ptr_nonnull(strstr(ovica_error_message(), "changed size"));
    write_file(p, b.p, b.n);
    ck_assert_status(ovica_npy_read_rows(f, 2, 3, y, 4), OVICA_OK);
    ck_assert_mem_eq(y, x + 8, 4 * sizeof *y);
    ovica_npy_close(f);

    /* files refused at opening */
    path_in(q, sizeof q, "bad.npy");
    expect_open_fails(q, OVICA_EIO, "cannot open"); /* missing */
    write_file(q, b.p, b.n - 1);
    expect_open_fails(q, OVICA_EFORMAT, "truncated data");
    write_file(q, b.p, 40);
    expect_open_fails(q, OVICA_EFORMAT, NULL);
    write_file(q, b.p, 5);
    expect_open_fails(q, OVICA_EFORMAT, "too short");
    unsigned char extra = 0;
    bytes c = {0};
    b_put(&c, b.p, b.n);
    b_put(&c, &extra, 1);
    write_file(q, c.p, c.n);
    expect_open_fails(q, OVICA_EFORMAT, "trailing");
    c.n = 0;
    const char *bad = "{'descr': '<i8', 'fortran_order': False, 'shape': (3, 4), }\n";
    b_header(&c, 1, 0, bad, strlen(bad));
    b_data(&c, x, 3, 4, 8, 0, 0);
    write_file(q, c.p, c.n);
    expect_open_fails(q, OVICA_EFORMAT, "dtype");
    c.n = 0;
    const char *r3 = "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4, 1), }\n";
    b_header(&c, 1, 0, r3, strlen(r3));
    b_data(&c, x, 3, 4, 8, 0, 0);
    write_file(q, c.p, c.n);
    expect_open_fails(q, OVICA_EFORMAT, "rank 3");
    c.n = 0;
    b_header(&c, 1, 0, "{'descr': '<f8', 'fortran_order': Fals", 38);
    write_file(q, c.p, c.n);
    expect_open_fails(q, OVICA_EFORMAT, "header");
    memcpy(b.p + 6, "\x07\x00", 2); /* version 7.0 */
    write_file(q, b.p, b.n);
    expect_open_fails(q, OVICA_EVERSION, NULL);
    expect_open_fails(tmpdir, OVICA_EIO, "directory");
    path_in(q, sizeof q, "fifo.npy");
    ck_assert_int_eq(mkfifo(q, 0600), 0);
    int fd = open(q, O_RDWR | O_NONBLOCK); /* a writer, so that opening does not block */
    ck_assert_int_ge(fd, 0);
    expect_open_fails(q, OVICA_EIO, "not a regular file");
    close(fd);
    b_free(&b);
    b_free(&c);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Files written by numpy (tests/data/npy/, made by make_fixtures.py there)  */

/* The fixtures' directory: $OVICA_NPY_FIXTURES, else tests/data/npy relative
 * to the working directory (make check runs the suites from the repository
 * root, as check_corpus does for its corpora). */
static const char *fixture_dir(void)
{
    const char *e = getenv("OVICA_NPY_FIXTURES");
    return e != NULL && e[0] != '\0' ? e : "tests/data/npy";
}

/* Element (i, j) of every accepted fixture, computed in double in the order
 * make_fixtures.py computes it; a float32 file holds it rounded to float. */
static double fixture_value(size_t i, size_t j, int f32)
{
    double v = (double)i * 0.5 - (double)j * 0.25 + 1.0 / 3.0;
    return f32 ? (double)(float)v : v;
}

/* Rows [r0, r1) of a fixture, row-major in y, compared exactly. */
static void check_fixture(const char *name, const char *how, const double *y, size_t r0,
                          size_t r1, size_t cols, int f32)
{
    for (size_t i = r0; i < r1; i++)
        for (size_t j = 0; j < cols; j++) {
            double got = y[(i - r0) * cols + j], want = fixture_value(i, j, f32);
            ck_assert_msg(got == want, "%s (%s): element (%zu, %zu) is %.17g, wanted %.17g", name,
                          how, i, j, got, want);
        }
}

START_TEST(test_numpy_fixtures)
{
    static const struct {
        const char *name;
        size_t rows, cols;
        int f32, fortran, big;
    } ok[] = {
        {"f8_c.npy", 4, 3, 0, 0, 0},       {"f4_c.npy", 4, 3, 1, 0, 0},
        {"f8_be.npy", 4, 3, 0, 0, 1},      {"f4_be.npy", 4, 3, 1, 0, 1},
        {"f8_fortran.npy", 4, 3, 0, 1, 0}, {"f4_fortran.npy", 4, 3, 1, 1, 0},
        {"f8_v2.npy", 4, 3, 0, 0, 0},      {"f8_v3.npy", 4, 3, 0, 0, 0},
        {"f8_row.npy", 1, 5, 0, 0, 0},     {"f8_col.npy", 5, 1, 0, 0, 0},
    };
    static const struct {
        const char *name, *sub;
    } bad[] = {
        {"bad_i8.npy", "integers"},
        {"bad_f2.npy", "unsupported dtype '<f2'"},
        {"bad_object.npy", "Python objects"},
        {"bad_1d.npy", "rank 1"},
        {"bad_3d.npy", "rank 3"},
        {"bad_empty.npy", "empty array"},
    };
    char p[1024];
    DIR *d = opendir(fixture_dir());
    ck_assert_msg(d != NULL, "cannot open %s (run the tests from the repository root or set "
                  "OVICA_NPY_FIXTURES)", fixture_dir());
    closedir(d);

    for (size_t t = 0; t < sizeof ok / sizeof *ok; t++) {
        const char *name = ok[t].name;
        const size_t R = ok[t].rows, C = ok[t].cols;
        const int f32 = ok[t].f32;
        snprintf(p, sizeof p, "%s/%s", fixture_dir(), name);

        size_t r = 0, c = 0;
        ck_assert_status(ovica_npy_info(p, &r, &c), OVICA_OK);
        ck_assert_uint_eq(r, R);
        ck_assert_uint_eq(c, C);

        double *y = NULL;
        ck_assert_status(ovica_npy_read(p, &y, &r, &c), OVICA_OK);
        ck_assert_uint_eq(r, R);
        ck_assert_uint_eq(c, C);
        check_fixture(name, "ovica_npy_read", y, 0, R, C, f32);
        ovica_free(y);

        double buf[16];
        ck_assert_uint_le(R * C, 16);
        ck_assert_status(ovica_npy_read_into(p, buf, R, C), OVICA_OK);
        check_fixture(name, "ovica_npy_read_into", buf, 0, R, C, f32);

        bytes b = read_file(p);
        y = NULL;
        ck_assert_status(parse_exact(b.p, b.n, &y, &r, &c), OVICA_OK);
        ck_assert_uint_eq(r, R);
        ck_assert_uint_eq(c, C);
        check_fixture(name, "ovica_npy_read_buffer", y, 0, R, C, f32);
        ovica_free(y);
        b_free(&b);

        ovica_npy_file *f = NULL;
        int dt = -1, fo = -1, be = -1;
        ck_assert_status(ovica_npy_open(&f, p), OVICA_OK);
        ck_assert_status(ovica_npy_file_shape(f, &r, &c), OVICA_OK);
        ck_assert_uint_eq(r, R);
        ck_assert_uint_eq(c, C);
        ck_assert_status(ovica_npy_file_format(f, &dt, &fo, &be), OVICA_OK);
        ck_assert_int_eq(dt, f32 ? OVICA_NPY_FLOAT32 : OVICA_NPY_FLOAT64);
        ck_assert_int_eq(fo, ok[t].fortran);
        ck_assert_int_eq(be, ok[t].big);
        memset(buf, 0, sizeof buf);
        ck_assert_status(ovica_npy_read_rows(f, 0, R, buf, C), OVICA_OK);
        check_fixture(name, "ovica_npy_read_rows, all rows", buf, 0, R, C, f32);
        for (size_t i = 0; i < R; i++) {
            memset(buf, 0, sizeof buf);
            ck_assert_status(ovica_npy_read_rows(f, i, i + 1, buf, C), OVICA_OK);
            check_fixture(name, "ovica_npy_read_rows, one row", buf, i, i + 1, C, f32);
        }
        if (R > 2) {
            ck_assert_status(ovica_npy_read_rows(f, 1, R - 1, buf, C), OVICA_OK);
            check_fixture(name, "ovica_npy_read_rows, inner rows", buf, 1, R - 1, C, f32);
        }
        ovica_npy_close(f);
    }

    /* refused by every reader with OVICA_EFORMAT and a message naming why */
    for (size_t t = 0; t < sizeof bad / sizeof *bad; t++) {
        const char *name = bad[t].name, *sub = bad[t].sub;
        snprintf(p, sizeof p, "%s/%s", fixture_dir(), name);
        double *y = (double *)&y; /* poison: must be reset to NULL */
        size_t r = 7, c = 7;
        ck_assert_error(ovica_npy_read(p, &y, &r, &c), OVICA_EFORMAT);
        ck_assert_msg(strstr(ovica_error_message(), sub) != NULL, "%s: message '%s' lacks '%s'",
                      name, ovica_error_message(), sub);
        ck_assert_ptr_null(y);
        ck_assert_uint_eq(r, 0);
        ck_assert_uint_eq(c, 0);
        ck_assert_error(ovica_npy_info(p, &r, &c), OVICA_EFORMAT);
        ck_assert_msg(strstr(ovica_error_message(), sub) != NULL, "%s: message '%s' lacks '%s'",
                      name, ovica_error_message(), sub);
        expect_open_fails(p, OVICA_EFORMAT, sub);
        bytes b = read_file(p);
        expect_reject(&b, OVICA_EFORMAT, sub, name);
        b_free(&b);
    }
}
END_TEST

static Suite *npy_suite(void)
{
    Suite *s = suite_create("npy");
    TCase *tc = tcase_create("npy");
    tcase_add_checked_fixture(tc, setup_dir, teardown_dir);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_roundtrip_f64);
    tcase_add_test(tc, test_roundtrip_f32);
    tcase_add_test(tc, test_nonfinite_as_is);
    tcase_add_test(tc, test_header_bytes_match_numpy);
    tcase_add_test(tc, test_write_float32_domain);
    tcase_add_test(tc, test_atomic_write);
    tcase_add_test(tc, test_invalid_args);
    tcase_add_test(tc, test_variants);
    tcase_add_test(tc, test_fortran_layout);
    tcase_add_test(tc, test_header_oddities_accepted);
    tcase_add_test(tc, test_header_rejections);
    tcase_add_test(tc, test_preamble_rejections);
    tcase_add_test(tc, test_truncation_every_length);
    tcase_add_test(tc, test_fifo_stream);
    tcase_add_test(tc, test_mutations);
    tcase_add_test(tc, test_large_chunked);
    tcase_add_test(tc, test_rows_layouts);
    tcase_add_test(tc, test_rows_bad_input);
    tcase_add_test(tc, test_numpy_fixtures);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_run(npy_suite()); }

/* Replays the fuzz targets' seed corpora (tests/corpus/<target>/, which
 * also hold every crash input found by fuzzing, as regression tests) through
 * the fuzz targets themselves, compiled here without libFuzzer: each
 * fuzz/fuzz_<target>.c is included with its entry point renamed. A target
 * aborts on any violation of its oracle, which fails the test (and, in
 * CK_FORK=no runs under ASan or valgrind, the whole suite). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The targets first: check.h (through testutil.h) defines a macro `fail`,
 * a name cli/args.c uses for a function. */
#define FUZZ_ENTRY fuzz_npy_one
#include "../fuzz/fuzz_npy.c"
#undef FUZZ_ENTRY
#define FUZZ_ENTRY fuzz_npy_file_one
#include "../fuzz/fuzz_npy_file.c"
#undef FUZZ_ENTRY
#define FUZZ_ENTRY fuzz_model_one
#include "../fuzz/fuzz_model.c"
#undef FUZZ_ENTRY
#define FUZZ_ENTRY fuzz_cliargs_one
#include "../fuzz/fuzz_cliargs.c"
#undef FUZZ_ENTRY
#define FUZZ_ENTRY fuzz_infer_one
#include "../fuzz/fuzz_infer.c"
#undef FUZZ_ENTRY

#include "testutil.h"

typedef int (*entry_fn)(const uint8_t *, size_t);

static const char *corpus_root(void)
{
    const char *e = getenv("OVICA_CORPUS_DIR");
    return e != NULL ? e : "tests/corpus";
}

/* Runs every regular file of tests/corpus/<name>/ through fn; returns the
 * number of files. */
static int replay(const char *name, entry_fn fn)
{
    char dir[512], path[1024];
    snprintf(dir, sizeof dir, "%s/%s", corpus_root(), name);
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "cannot open %s (run the tests from the repository root "
                  "or set OVICA_CORPUS_DIR)", dir);
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *fp = fopen(path, "rb");
        if (fp == NULL) continue;
        uint8_t *buf = NULL;
        size_t len = 0, cap = 0, got;
        uint8_t chunk[4096];
        while ((got = fread(chunk, 1, sizeof chunk, fp)) > 0) {
            if (len + got > cap) {
                cap = 2 * (len + got);
                buf = realloc(buf, cap);
                ck_assert_ptr_nonnull(buf);
            }
            memcpy(buf + len, chunk, got);
            len += got;
        }
        fclose(fp);
        fn(len ? buf : (const uint8_t *)"", len);
        free(buf);
        count++;
    }
    closedir(d);
    return count;
}

START_TEST(test_corpus_npy) { ck_assert_int_gt(replay("npy", fuzz_npy_one), 10); }
END_TEST

START_TEST(test_corpus_npy_file) { ck_assert_int_gt(replay("npy_file", fuzz_npy_file_one), 10); }
END_TEST

START_TEST(test_corpus_model) { ck_assert_int_gt(replay("model", fuzz_model_one), 10); }
END_TEST

START_TEST(test_corpus_cliargs) { ck_assert_int_gt(replay("cliargs", fuzz_cliargs_one), 4); }
END_TEST

START_TEST(test_corpus_infer) { ck_assert_int_gt(replay("infer", fuzz_infer_one), 8); }
END_TEST

int main(void)
{
    Suite *s = suite_create("corpus");
    TCase *tc = tcase_create("corpus");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_corpus_npy);
    tcase_add_test(tc, test_corpus_npy_file);
    tcase_add_test(tc, test_corpus_model);
    tcase_add_test(tc, test_corpus_cliargs);
    tcase_add_test(tc, test_corpus_infer);
    suite_add_tcase(s, tc);
    return tu_run(s);
}

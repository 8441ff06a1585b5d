/* Internal helpers that the public API cannot reach in every case, linked
 * from the static library (lib/libovica.a keeps the hidden symbols):
 *   - ovica__check_version: a library whose struct is at version 3 accepts
 *     callers at versions 1, 2 and 3 and refuses 0 and 4 (the public
 *     structs are all at version 1 today, so check_types can only show
 *     that version 1 is accepted and 0 and 2 refused);
 *   - ovica__append_name: the "known: a, b, c" lists of the registries'
 *     messages, and their truncation. */
#include <string.h>

#include "internal.h"
#include "testutil.h"

START_TEST(test_check_version)
{
    for (unsigned int v = 1; v <= 3; v++) {
        ovica_error_clear();
        ck_assert_int_eq(ovica__check_version("f", "opts", v, 3), OVICA_OK);
        ck_assert_int_eq(ovica_error_last(), OVICA_OK); /* no message on success */
    }
    const unsigned int bad[] = {0u, 4u, 99u, ~0u};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ovica_error_clear();
        ck_assert_int_eq(ovica__check_version("f", "opts", bad[i], 3), OVICA_EVERSION);
        ck_assert_int_eq(ovica_error_last(), OVICA_EVERSION);
        ck_assert_msg(strstr(ovica_error_message(), "f: opts version") != NULL &&
                          strstr(ovica_error_message(), "1 to 3") != NULL,
                      "message '%s'", ovica_error_message());
    }
}
END_TEST

START_TEST(test_append_name)
{
    char buf[32] = "";
    ovica__append_name(buf, sizeof buf, "pg");
    ck_assert_str_eq(buf, "pg");
    ovica__append_name(buf, sizeof buf, "ista");
    ovica__append_name(buf, sizeof buf, "fista");
    ck_assert_str_eq(buf, "pg, ista, fista");
    /* a list that does not fit is cut and marked, never overflowed */
    char small[12] = "";
    const char *names[] = {"natural", "plain", "reconstruction", "em"};
    for (size_t i = 0; i < 4; i++) ovica__append_name(small, sizeof small, names[i]);
    ck_assert_uint_eq(strlen(small), sizeof small - 1);
    ck_assert_str_eq(small + sizeof small - 4, "...");
    ck_assert_str_eq(small, "natural,..."); /* "natural, pl" cut, then marked */
    ovica__append_name(small, 0, "x"); /* no room at all: nothing written */
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("internal");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_check_version);
    tcase_add_test(tc, test_append_name);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_run(suite()); }

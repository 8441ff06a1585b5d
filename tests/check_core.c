/* Version, status codes and the thread-local error message. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"

START_TEST(test_version)
{
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", OVICA_VERSION_MAJOR, OVICA_VERSION_MINOR,
             OVICA_VERSION_PATCH);
    ck_assert_str_eq(ovica_version_string(), want);
    ck_assert_str_eq(OVICA_VERSION_STRING, want);
    ck_assert_int_eq(ovica_version_number(), OVICA_VERSION_NUMBER);
    ck_assert_int_eq(OVICA_VERSION_NUMBER,
                     OVICA_VERSION_MAJOR * 10000 + OVICA_VERSION_MINOR * 100 + OVICA_VERSION_PATCH);
}
END_TEST

START_TEST(test_strerror_distinct)
{
    /* Frozen values: a change here is an ABI break. */
    ck_assert_int_eq(OVICA_OK, 0);
    ck_assert_int_eq(OVICA_DONE, 1);
    ck_assert_int_eq(OVICA_NOT_CONVERGED, 2);
    ck_assert_int_eq(OVICA_ENOMEM, -1);
    ck_assert_int_eq(OVICA_EINVAL, -2);
    ck_assert_int_eq(OVICA_ESIZE, -3);
    ck_assert_int_eq(OVICA_ENONFINITE, -4);
    ck_assert_int_eq(OVICA_EDOMAIN, -5);
    ck_assert_int_eq(OVICA_ENOTSUP, -6);
    ck_assert_int_eq(OVICA_EUSER, -7);
    ck_assert_int_eq(OVICA_ENUMERIC, -8);
    ck_assert_int_eq(OVICA_EIO, -9);
    ck_assert_int_eq(OVICA_EFORMAT, -10);
    ck_assert_int_eq(OVICA_EVERSION, -11);
    ck_assert_int_eq(OVICA_ESTATE, -12);
    const char *unknown = ovica_strerror(12345);
    ck_assert_ptr_nonnull(unknown);
    for (int a = -12; a <= 2; a++) {
        ck_assert_ptr_nonnull(ovica_strerror(a));
        ck_assert_str_ne(ovica_strerror(a), unknown);
        for (int b = a + 1; b <= 2; b++) ck_assert_str_ne(ovica_strerror(a), ovica_strerror(b));
    }
}
END_TEST

static void *thread_error(void *arg)
{
    (void)arg;
    ovica_prior *p = NULL;
    /* An error in this thread must not show in the main thread. */
    int st = ovica_prior_laplace_new(&p, -3.0);
    static char copy[256];
    snprintf(copy, sizeof copy, "%d:%s", st, ovica_error_message());
    return copy;
}

START_TEST(test_error_thread_local)
{
    ovica_error_clear();
    ck_assert_str_eq(ovica_error_message(), "");
    ck_assert_int_eq(ovica_error_last(), OVICA_OK);
    pthread_t th;
    void *res = NULL;
    ck_assert_int_eq(pthread_create(&th, NULL, thread_error, NULL), 0);
    ck_assert_int_eq(pthread_join(th, &res), 0);
    ck_assert_msg(strstr((const char *)res, "-2:") == res, "thread saw %s", (const char *)res);
    ck_assert_ptr_nonnull(strstr((const char *)res, "b must be > 0"));
    ck_assert_str_eq(ovica_error_message(), "");
    ck_assert_int_eq(ovica_error_last(), OVICA_OK);
    ovica_prior *p = NULL;
    ck_assert_status(ovica_prior_laplace_new(&p, 0.0), OVICA_EINVAL);
    ck_assert_int_eq(ovica_error_last(), OVICA_EINVAL);
    ck_assert_ptr_null(p);
    ovica_error_clear();
    ck_assert_str_eq(ovica_error_message(), "");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_version);
    tcase_add_test(tc, test_strerror_distinct);
    tcase_add_test(tc, test_error_thread_local);
    suite_add_tcase(s, tc);
    return tu_run(s);
}

/* The parameter mechanism shared by the solver, the sampler and the trainer
 * (src/param.c): ovica_<object>_param_count/_name/_find enumerate and look
 * up every parameter; names are unique, non-empty and map back to their
 * id; set/get/bounds agree with the enumeration; bad input (NULL, an id
 * out of range, an unknown name) gives OVICA_EINVAL and a message, and
 * leaves *out untouched. Checkpoints save every enumerated trainer
 * parameter and no longer clear the host's last error. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

typedef struct {
    const char *what;
    int count_expected;
    int (*count)(void);
    const char *(*name)(int);
    int (*find)(const char *, int *);
    const char *first, *last; /* names of id 0 and of the last id */
} obj_params;

static const obj_params objects[] = {
    {"solver", OVICA_SOLVER_THREADS + 1, ovica_solver_param_count, ovica_solver_param_name,
     ovica_solver_param_find, "max_iter", "threads"},
    {"sampler", OVICA_SAMPLER_REFRESH + 1, ovica_sampler_param_count, ovica_sampler_param_name,
     ovica_sampler_param_find, "null_moves", "refresh"},
    {"trainer", OVICA_TRAIN_PRECISION + 1, ovica_trainer_param_count, ovica_trainer_param_name,
     ovica_trainer_param_find, "lr", "precision"},
};

START_TEST(test_enumerate)
{
    const obj_params *o = &objects[_i];
    const int count = o->count();
    ck_assert_int_eq(count, o->count_expected);
    ck_assert_str_eq(o->name(0), o->first);
    ck_assert_str_eq(o->name(count - 1), o->last);
    for (int i = 0; i < count; i++) {
        const char *name = o->name(i);
        ck_assert_msg(name != NULL && name[0] != '\0', "%s parameter %d: empty name", o->what, i);
        for (int j = 0; j < i; j++)
            ck_assert_msg(strcmp(name, o->name(j)) != 0, "%s parameters %d and %d: '%s'",
                          o->what, j, i, name);
        int id = -1;
        ck_assert_status(o->find(name, &id), OVICA_OK);
        ck_assert_int_eq(id, i);
    }
}
END_TEST

START_TEST(test_bad_input)
{
    const obj_params *o = &objects[_i];
    const int count = o->count();
    /* out of range ids */
    const int bad_ids[] = {-1, count, count + 100, -1000};
    for (size_t k = 0; k < sizeof bad_ids / sizeof bad_ids[0]; k++) {
        ovica_error_clear();
        ck_assert_ptr_null(o->name(bad_ids[k]));
        ck_assert_int_eq(ovica_error_last(), OVICA_EINVAL);
        ck_assert_ptr_nonnull(strstr(ovica_error_message(), o->what));
    }
    /* NULL name, NULL out, unknown name: EINVAL, message, out untouched */
    int id = 12345;
    ck_assert_error(o->find(NULL, &id), OVICA_EINVAL);
    ck_assert_int_eq(id, 12345);
    ck_assert_error(o->find(o->first, NULL), OVICA_EINVAL);
    ck_assert_error(o->find("no_such_param", &id), OVICA_EINVAL);
    ck_assert_int_eq(id, 12345);
    const char *msg = ovica_error_message();
    ck_assert_ptr_nonnull(strstr(msg, "no_such_param"));
    ck_assert_ptr_nonnull(strstr(msg, o->first)); /* the known names are listed */
    ck_assert_error(o->find("", &id), OVICA_EINVAL);
    ck_assert_error(o->find("MAX_ITER", &id), OVICA_EINVAL); /* names are case-sensitive */
    ck_assert_int_eq(id, 12345);
}
END_TEST

/* The names reach the handles: set by name, read back, bounds by name. */
START_TEST(test_by_name)
{
    ovica_solver *s = NULL;
    int id = -1;
    double v = 0.0, lo = 0.0, hi = 0.0;
    ck_assert_status(ovica_solver_new(&s, ovica_solver_fista), OVICA_OK);
    ck_assert_status(ovica_solver_param_find("tol", &id), OVICA_OK);
    ck_assert_int_eq(id, OVICA_SOLVER_TOL);
    ck_assert_status(ovica_solver_set_param(s, id, 1e-3), OVICA_OK);
    ck_assert_status(ovica_solver_get_param(s, OVICA_SOLVER_TOL, &v), OVICA_OK);
    ck_assert_double_eq(v, 1e-3);
    ck_assert_status(ovica_solver_param_find("threads", &id), OVICA_OK);
    ck_assert_status(ovica_solver_param_bounds(id, &lo, &hi), OVICA_OK);
    ck_assert_double_eq(lo, 1.0);
    ck_assert_double_eq(hi, 256.0);
    /* the same checks and messages everywhere: out of bounds keeps the value */
    ck_assert_error(ovica_solver_set_param(s, OVICA_SOLVER_TOL, 2.0), OVICA_EINVAL);
    ck_assert_ptr_nonnull(strstr(ovica_error_message(), "solver parameter tol"));
    ck_assert_status(ovica_solver_get_param(s, OVICA_SOLVER_TOL, &v), OVICA_OK);
    ck_assert_double_eq(v, 1e-3);
    ck_assert_error(ovica_solver_set_param(s, OVICA_SOLVER_THREADS + 1, 1.0), OVICA_EINVAL);
    ovica_solver_free(s);

    ovica_sampler *sm = NULL;
    ck_assert_status(ovica_sampler_new(&sm, 1), OVICA_OK);
    ck_assert_status(ovica_sampler_param_find("refresh", &id), OVICA_OK);
    ck_assert_int_eq(id, OVICA_SAMPLER_REFRESH);
    ck_assert_status(ovica_sampler_set_param(sm, id, 2.6), OVICA_OK); /* rounded */
    ck_assert_status(ovica_sampler_get_param(sm, id, &v), OVICA_OK);
    ck_assert_double_eq(v, 3.0);
    ck_assert_error(ovica_sampler_set_param(sm, id, 0.0), OVICA_EINVAL);
    ck_assert_ptr_nonnull(strstr(ovica_error_message(), "sampler parameter refresh"));
    ck_assert_error(ovica_sampler_set_param(sm, id, NAN), OVICA_ENONFINITE);
    ck_assert_error(ovica_sampler_get_param(sm, -1, &v), OVICA_EINVAL);
    ovica_sampler_free(sm);

    ck_assert_status(ovica_trainer_param_find("lr", &id), OVICA_OK);
    ck_assert_int_eq(id, OVICA_TRAIN_LR);
    ck_assert_status(ovica_trainer_param_find("solver_tol", &id), OVICA_OK);
    ck_assert_int_eq(id, OVICA_TRAIN_SOLVER_TOL);
    ck_assert_status(ovica_trainer_param_bounds(OVICA_TRAIN_LR, &lo, &hi), OVICA_OK);
    ck_assert_double_eq(lo, 0.0);
}
END_TEST

/* A checkpoint carries every enumerated trainer parameter, and saving it
 * does not touch the host's last error (before the monitor has run there
 * is no best basis: that is not an error). */
START_TEST(test_checkpoint)
{
    ovica_prior *p = NULL;
    ovica_model *md = NULL;
    ovica_trainer *t = NULL, *t2 = NULL;
    ck_assert_status(ovica_prior_laplace_new(&p, 1.0), OVICA_OK);
    ck_assert_status(ovica_model_new(&md, 2, 3, p, 0.1), OVICA_OK);
    ck_assert_status(ovica_trainer_new(&t, md, ovica_rule_natural, 3), OVICA_OK);
    ck_assert_status(ovica_trainer_init_basis(t, OVICA_INIT_SPREAD, NULL, 0, 2), OVICA_OK);
    const int count = ovica_trainer_param_count();
    for (int i = 0; i < count; i++) { /* a value off the default where the bounds allow */
        double lo, hi, v;
        ck_assert_status(ovica_trainer_param_bounds(i, &lo, &hi), OVICA_OK);
        ck_assert_status(ovica_trainer_get_param(t, i, &v), OVICA_OK);
        double w = v < hi ? (v + hi) / 2.0 : (lo + v) / 2.0;
        if (ovica_trainer_set_param(t, i, w) != OVICA_OK) ovica_error_clear();
    }
    /* the host's last error, set on purpose, survives the save */
    double dummy;
    ck_assert_status(ovica_trainer_param_bounds(-7, &dummy, &dummy), OVICA_EINVAL);
    char before[512];
    strncpy(before, ovica_error_message(), sizeof before - 1);
    before[sizeof before - 1] = '\0';
    void *buf = NULL;
    size_t len = 0;
    ck_assert_status(ovica_checkpoint_save_buffer(t, &buf, &len), OVICA_OK);
    ck_assert_int_eq(ovica_error_last(), OVICA_EINVAL);
    ck_assert_str_eq(ovica_error_message(), before);
    ck_assert_status(ovica_checkpoint_load_buffer(&t2, buf, len), OVICA_OK);
    for (int i = 0; i < count; i++) {
        double a, b;
        ck_assert_status(ovica_trainer_get_param(t, i, &a), OVICA_OK);
        ck_assert_status(ovica_trainer_get_param(t2, i, &b), OVICA_OK);
        ck_assert_msg(a == b, "trainer parameter %s: %g saved, %g loaded",
                      ovica_trainer_param_name(i), a, b);
    }
    ovica_free(buf);
    ovica_trainer_free(t2);
    ovica_trainer_free(t);
    ovica_model_free(md);
    ovica_prior_free(p);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("params");
    TCase *tc = tcase_create("core");
    const int n = (int)(sizeof objects / sizeof objects[0]);
    tcase_add_loop_test(tc, test_enumerate, 0, n);
    tcase_add_loop_test(tc, test_bad_input, 0, n);
    tcase_add_test(tc, test_by_name);
    tcase_add_test(tc, test_checkpoint);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_run(suite()); }

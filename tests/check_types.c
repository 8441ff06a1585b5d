/* Type objects and versioned structs (ovica/solver.h, ovica/rule.h, ovica.h):
 *   - the registries: ovica_solver_type_count/_at and ovica_rule_type_count
 *     /_at list every built-in exactly once, with unique non-empty names
 *     that _find maps back to the same type; NULL, unknown names and
 *     out-of-range indices are answered with NULL, OVICA_EINVAL and a
 *     message (for an unknown name, one listing every enumerated name);
 *   - versioned structs: a caller built against version 1 is accepted,
 *     version 0 and versions newer than the library's are refused with
 *     OVICA_EVERSION and a message. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"

/* The name lists of an enumeration checked the same way for both kinds. */
static void check_names(const char *what, const char *const *names, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        ck_assert_msg(names[i] != NULL && names[i][0] != '\0', "%s %zu: empty name", what, i);
        for (size_t j = 0; j < i; j++)
            ck_assert_msg(strcmp(names[i], names[j]) != 0, "%s %zu and %zu are both '%s'", what,
                          j, i, names[i]);
    }
}

/* An unknown name's message lists every enumerated name. */
static void check_unknown_message(const char *what, const char *const *names, size_t count)
{
    const char *msg = ovica_error_message();
    ck_assert_msg(strstr(msg, "no-such-type") != NULL, "%s: message '%s'", what, msg);
    for (size_t i = 0; i < count; i++)
        ck_assert_msg(strstr(msg, names[i]) != NULL, "%s: message '%s' does not list '%s'", what,
                      msg, names[i]);
}

START_TEST(test_solver_types)
{
    const ovica_solver_type *builtins[] = {ovica_solver_pg, ovica_solver_ista, ovica_solver_fista,
                                           ovica_solver_active, ovica_solver_auto};
    const size_t nb = sizeof builtins / sizeof builtins[0];
    const size_t count = ovica_solver_type_count();
    ck_assert_uint_ge(count, nb);
    ck_assert_uint_le(count, 64);
    const char *names[64];
    for (size_t i = 0; i < count; i++) {
        ovica_error_clear();
        const ovica_solver_type *t = ovica_solver_type_at(i);
        ck_assert_msg(t != NULL, "type %zu: NULL (%s)", i, ovica_error_message());
        ck_assert_int_eq(ovica_error_last(), OVICA_OK);
        names[i] = ovica_solver_type_name(t);
        ck_assert_ptr_eq(ovica_solver_type_find(names[i]), t);
        /* every enumerated type makes a solver of that type */
        ovica_solver *s = NULL;
        ck_assert_status(ovica_solver_new(&s, t), OVICA_OK);
        ck_assert_ptr_eq(ovica_solver_get_type(s), t);
        ovica_solver_free(s);
    }
    check_names("solver type", names, count);
    /* every built-in is listed exactly once */
    for (size_t b = 0; b < nb; b++) {
        size_t seen = 0;
        for (size_t i = 0; i < count; i++) seen += ovica_solver_type_at(i) == builtins[b];
        ck_assert_msg(seen == 1, "built-in solver '%s' listed %zu times",
                      ovica_solver_type_name(builtins[b]), seen);
    }
    /* out of range, NULL, unknown */
    ovica_error_clear();
    ck_assert_ptr_null(ovica_solver_type_at(count));
    ck_assert_int_eq(ovica_error_last(), OVICA_EINVAL);
    ck_assert_str_ne(ovica_error_message(), "");
    ovica_error_clear();
    ck_assert_ptr_null(ovica_solver_type_at((size_t)-1));
    ck_assert_int_eq(ovica_error_last(), OVICA_EINVAL);
    ovica_error_clear();
    ck_assert_ptr_null(ovica_solver_type_find(NULL));
    ck_assert_int_eq(ovica_error_last(), OVICA_EINVAL);
    ck_assert_str_ne(ovica_error_message(), "");
    ovica_error_clear();
    ck_assert_ptr_null(ovica_solver_type_find("no-such-type"));
    ck_assert_int_eq(ovica_error_last(), OVICA_EINVAL);
    check_unknown_message("solver", names, count);
    ck_assert_ptr_null(ovica_solver_type_find("")); /* no type has an empty name */
    ck_assert_str_eq(ovica_solver_type_name(NULL), "");
}
END_TEST

START_TEST(test_rule_types)
{
    const ovica_rule_type *builtins[] = {ovica_rule_natural, ovica_rule_plain,
                                         ovica_rule_reconstruction, ovica_rule_exact,
                                         ovica_rule_em, ovica_rule_auto};
    const int draws[] = {0, 0, 0, 1, 1, 1};
    const size_t nb = sizeof builtins / sizeof builtins[0];
    const size_t count = ovica_rule_type_count();
    ck_assert_uint_ge(count, nb);
    ck_assert_uint_le(count, 64);
    const char *names[64];
    for (size_t i = 0; i < count; i++) {
        ovica_error_clear();
        const ovica_rule_type *t = ovica_rule_type_at(i);
        ck_assert_msg(t != NULL, "rule %zu: NULL (%s)", i, ovica_error_message());
        ck_assert_int_eq(ovica_error_last(), OVICA_OK);
        names[i] = ovica_rule_type_name(t);
        ck_assert_ptr_eq(ovica_rule_type_find(names[i]), t);
        int d = ovica_rule_type_uses_draws(t);
        ck_assert_msg(d == 0 || d == 1, "rule '%s': uses_draws %d", names[i], d);
    }
    check_names("rule type", names, count);
    for (size_t b = 0; b < nb; b++) {
        size_t seen = 0;
        for (size_t i = 0; i < count; i++) seen += ovica_rule_type_at(i) == builtins[b];
        ck_assert_msg(seen == 1, "built-in rule '%s' listed %zu times",
                      ovica_rule_type_name(builtins[b]), seen);
        ck_assert_int_eq(ovica_rule_type_uses_draws(builtins[b]), draws[b]);
    }
    /* every enumerated rule makes a trainer for a built-in prior */
    ovica_prior *pr = NULL;
    ovica_model *md = NULL;
    ck_assert_status(ovica_prior_laplace_new(&pr, 1.0), OVICA_OK);
    ck_assert_status(ovica_model_new(&md, 2, 3, pr, 0.1), OVICA_OK);
    for (size_t i = 0; i < count; i++) {
        ovica_trainer *t = NULL;
        ck_assert_status(ovica_trainer_new(&t, md, ovica_rule_type_at(i), 1), OVICA_OK);
        ck_assert_ptr_eq(ovica_trainer_rule(t), ovica_rule_type_at(i));
        ovica_trainer_free(t);
    }
    ovica_model_free(md);
    ovica_prior_free(pr);

    ovica_error_clear();
    ck_assert_ptr_null(ovica_rule_type_at(count));
    ck_assert_int_eq(ovica_error_last(), OVICA_EINVAL);
    ck_assert_str_ne(ovica_error_message(), "");
    ovica_error_clear();
    ck_assert_ptr_null(ovica_rule_type_at((size_t)-1));
    ck_assert_int_eq(ovica_error_last(), OVICA_EINVAL);
    ovica_error_clear();
    ck_assert_ptr_null(ovica_rule_type_find(NULL));
    ck_assert_int_eq(ovica_error_last(), OVICA_EINVAL);
    ck_assert_str_ne(ovica_error_message(), "");
    ovica_error_clear();
    ck_assert_ptr_null(ovica_rule_type_find("no-such-type"));
    ck_assert_int_eq(ovica_error_last(), OVICA_EINVAL);
    check_unknown_message("rule", names, count);
    ck_assert_str_eq(ovica_rule_type_name(NULL), "");
    ck_assert_int_eq(ovica_rule_type_uses_draws(NULL), -1);
}
END_TEST


/* Each versioned struct, filled by a caller built against version v. */
enum { VM = 2, VN = 3, VB = 4 };
typedef struct {
    ovica_model *model;
    ovica_solver *solver;
    ovica_sampler *sampler;
    ovica_trainer *trainer;
    double A[VM * VN], X[VB * VM], S[VB * VN];
} vfix;

static void vfix_new(vfix *f)
{
    ovica_prior *pr = NULL;
    ck_assert_status(ovica_prior_laplace_new(&pr, 1.0), OVICA_OK);
    ck_assert_status(ovica_model_new(&f->model, VM, VN, pr, 0.1), OVICA_OK);
    ovica_prior_free(pr);
    const double A[VM * VN] = {1, 0, 0.6, 0, 1, 0.8};
    memcpy(f->A, A, sizeof A);
    ck_assert_status(ovica_model_set_basis(f->model, f->A, VM, VN), OVICA_OK);
    for (size_t i = 0; i < VB * VM; i++) f->X[i] = 0.25 * (double)(i % 5) - 0.4;
    ck_assert_status(ovica_solver_new(&f->solver, ovica_solver_fista), OVICA_OK);
    ck_assert_status(ovica_sampler_new(&f->sampler, 3), OVICA_OK);
    ck_assert_status(ovica_trainer_new(&f->trainer, f->model, ovica_rule_natural, 3), OVICA_OK);
}

static void vfix_free(vfix *f)
{
    ovica_trainer_free(f->trainer);
    ovica_sampler_free(f->sampler);
    ovica_solver_free(f->solver);
    ovica_model_free(f->model);
}

/* Calls the entry point that reads struct `which` with its version set to
 * v; returns the status. */
static int call_with_version(vfix *f, int which, unsigned int v)
{
    switch (which) {
    case 0: {
        ovica_infer_stats st = OVICA_INFER_STATS_INIT;
        st.version = v;
        int r = ovica_solver_infer(f->solver, f->model, f->X, VB, VM, f->S, VN, &st);
        return r == OVICA_NOT_CONVERGED ? OVICA_OK : r;
    }
    case 1: {
        double zs[VN * VN] = {0};
        ovica_posterior_accum acc = OVICA_POSTERIOR_ACCUM_INIT;
        acc.version = v;
        acc.zs = zs;
        memset(f->S, 0, sizeof f->S);
        return ovica_sampler_run(f->sampler, f->model, 0.1, f->X, VB, VM, f->S, VN, 1, &acc);
    }
    case 2: {
        ovica_recovery rec = OVICA_RECOVERY_INIT;
        rec.version = v;
        return ovica_recovery_eval(f->A, VM, VN, f->A, VN, 0, 5.0, NULL, 0, &rec);
    }
    case 3: {
        ovica_prior_callbacks cb = OVICA_PRIOR_CALLBACKS_INIT;
        cb.version = v;
        cb.neglogp = tu_sq_neglogp;
        cb.grad = tu_sq_grad;
        ovica_prior *p = NULL;
        int r = ovica_prior_user_new(&p, &cb, NULL);
        ovica_prior_free(p);
        return r;
    }
    default: {
        ovica_step_stats st = OVICA_STEP_STATS_INIT;
        st.version = v;
        return ovica_trainer_step(f->trainer, f->X, VB, VM, &st);
    }
    }
}

START_TEST(test_versioned_structs)
{
    static const struct {
        const char *name;
        unsigned int current;
    } structs[] = {
        {"ovica_infer_stats", OVICA_INFER_STATS_VERSION},
        {"ovica_posterior_accum", OVICA_POSTERIOR_ACCUM_VERSION},
        {"ovica_recovery", OVICA_RECOVERY_VERSION},
        {"ovica_prior_callbacks", OVICA_PRIOR_CALLBACKS_VERSION},
        {"ovica_step_stats", OVICA_STEP_STATS_VERSION},
    };
    vfix f;
    vfix_new(&f);
    for (int w = 0; w < (int)(sizeof structs / sizeof structs[0]); w++) {
        /* every version from 1 (the first) up to the library's own */
        for (unsigned int v = 1; v <= structs[w].current; v++) {
            int st = call_with_version(&f, w, v);
            ck_assert_msg(st == OVICA_OK, "%s version %u (library: %u) refused: %d %s",
                          structs[w].name, v, structs[w].current, st, ovica_error_message());
        }
        /* 0 (never initialised) and a version newer than the library's */
        const unsigned int bad[] = {0u, structs[w].current + 1u, 1000u};
        for (size_t b = 0; b < 3; b++) {
            ovica_error_clear();
            int st = call_with_version(&f, w, bad[b]);
            ck_assert_msg(st == OVICA_EVERSION, "%s version %u: status %d, wanted EVERSION",
                          structs[w].name, bad[b], st);
            ck_assert_msg(strstr(ovica_error_message(), "version") != NULL,
                          "%s version %u: message '%s'", structs[w].name, bad[b],
                          ovica_error_message());
        }
    }
    vfix_free(&f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("types");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_solver_types);
    tcase_add_test(tc, test_rule_types);
    tcase_add_test(tc, test_versioned_structs);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_run(suite()); }

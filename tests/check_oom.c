/* Allocation failure (ovica/debug.h): every operation is run once for every
 * allocation it makes, with that allocation failing (once, and from then on
 * for good). Each run must end with OVICA_ENOMEM and a message, leak
 * nothing (ovica_debug_alloc_live() back where it was; ASan and valgrind
 * check the same in CI), leave the objects it was given as they were, and
 * leave the handles usable: a clean run afterwards gives the reference
 * result. */
/* the allocation hooks (ovica/debug.h) are experimental */
#define OVICA_EXPERIMENTAL 1
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "ovica/debug.h"
#include "ovica/modelio.h"
#include "ovica/trainer.h"

/* ------------------------------------------------------------------------ */
/* The sweep                                                                */

typedef struct fixture fixture;
typedef int (*op_fn)(fixture *f);
typedef int (*verify_fn)(fixture *f, char *why, size_t len);

/* Failure accounting: tests count problems in loops and assert once. */
typedef struct {
    int bad;
    char first[512];
} tally;

static void note(tally *t, const char *fmt, const char *op, long k, int st, const char *extra)
{
    if (t->bad++ == 0)
        snprintf(t->first, sizeof t->first, fmt, op, k, st, ovica_strerror(st), extra);
}

/* Set while sweeping a file write: the allocation for the best-effort fsync
 * of the directory may fail without failing the write. */
static int best_effort_ok;

/* Runs op with the k-th allocation failing, for k = 1, 2, ... until a run
 * makes fewer than k allocations (that run must succeed with ok_status).
 * Both modes: the k-th only (transient) and the k-th onwards (sticky).
 * reset (if any) runs before each run, outside the hook (e.g. to make a
 * fresh handle); after each failed run, verify (if any) must find the
 * objects unchanged and usable. Returns the number of allocations of the
 * clean run. */
static long sweep(tally *t, const char *name, fixture *f, op_fn reset, op_fn op,
                  verify_fn verify, int ok_status)
{
    long clean = -1;
    for (int sticky = 0; sticky <= 1; sticky++) {
        for (long k = 1; k < 100000; k++) {
            if (reset != NULL && reset(f) != OVICA_OK) {
                note(t, "%s: reset before run %ld failed: %d (%s)%s", name, k, -1, "");
                break;
            }
            long live0 = ovica_debug_alloc_live();
            ovica_error_clear();
            ovica_debug_fail_alloc(sticky ? -k : k);
            int st = op(f);
            long seen = ovica_debug_alloc_count();
            ovica_debug_fail_alloc(0);
            char why[256] = "";
            /* Ops on handles (reset != NULL) may keep work memory in them;
             * their leaks show when the test frees everything at its end. */
            if (reset == NULL && ovica_debug_alloc_live() != live0) {
                snprintf(why, sizeof why, "%ld blocks leaked", ovica_debug_alloc_live() - live0);
                note(t, "%s, failing allocation %ld: status %d (%s), %s", name, k, st, why);
            }
            if (seen < k) { /* finished without reaching the k-th allocation */
                if (st != ok_status)
                    note(t, "%s: clean run (k = %ld) gave %d (%s)%s", name, k, st, "");
                clean = seen;
                if (getenv("OVICA_OOM_VERBOSE") && sticky)
                    fprintf(stderr, "%s: %ld allocations\n", name, seen);
                break;
            }
            if (st == OVICA_OK && best_effort_ok)
                continue; /* a best-effort step (the directory's fsync) was skipped */
            if (st != OVICA_ENOMEM)
                note(t, "%s, failing allocation %ld: status %d (%s), wanted ENOMEM%s", name, k,
                     st, "");
            else if (ovica_error_message()[0] == '\0')
                note(t, "%s, failing allocation %ld: status %d (%s) with no message%s", name, k,
                     st, "");
            if (verify != NULL && verify(f, why, sizeof why) != 0)
                note(t, "%s, after failing allocation %ld (status %d, %s): %s", name, k, st, why);
        }
    }
    return clean;
}

/* ------------------------------------------------------------------------ */
/* Fixture: a model, data, handles and reference results                    */

enum { M = 4, NA = 7, NS = 24 };

struct fixture {
    ovica_prior *lap, *expo;
    ovica_model *model;      /* Laplace, m x n = M x NA */
    double A[M * NA], A2[M * NA];
    double X[NS * M];
    double S[NS * NA], S_ref[NS * NA];
    double D[NS * NA], D_ref[NS * NA];
    ovica_solver *solver;
    ovica_sampler *sampler;
    ovica_model *out_model;  /* results of constructors, freed by the ops */
    char dir[256], path[300], path2[300];
    void *npy_buf;
    size_t npy_len;
    double lip_ref;
    tu_rng r;
};

static void fx_init(fixture *f)
{
    memset(f, 0, sizeof *f);
    tu_seed(&f->r, 8);
    tu_fill_normal(&f->r, f->A, M * NA, 1.0);
    tu_fill_normal(&f->r, f->A2, M * NA, 1.0);
    tu_fill_normal(&f->r, f->X, NS * M, 1.0);
    ck_assert_status(ovica_prior_laplace_new(&f->lap, 0.7), OVICA_OK);
    ck_assert_status(ovica_prior_exponential_new(&f->expo, 0.5), OVICA_OK);
    ck_assert_status(ovica_model_new(&f->model, M, NA, f->lap, 0.3), OVICA_OK);
    ck_assert_status(ovica_model_set_basis(f->model, f->A, M, NA), OVICA_OK);
    ck_assert_status(ovica_model_lipschitz(f->model, &f->lip_ref), OVICA_OK);
    snprintf(f->dir, sizeof f->dir, "%s/ovica-oom-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/a.npy", f->dir);
    snprintf(f->path2, sizeof f->path2, "%s/b.npy", f->dir);
}

static void fx_free(fixture *f)
{
    ovica_prior_free(f->lap);
    ovica_prior_free(f->expo);
    ovica_model_free(f->model);
    ovica_model_free(f->out_model);
    ovica_solver_free(f->solver);
    ovica_sampler_free(f->sampler);
    free(f->npy_buf);
    DIR *d = opendir(f->dir);
    if (d != NULL) {
        struct dirent *e;
        char p[600];
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.') continue;
            snprintf(p, sizeof p, "%s/%s", f->dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(f->dir);
}

/* The model must still be the fixture's: basis, sigma, prior, Lipschitz. */
static int model_unchanged(fixture *f, char *why, size_t len)
{
    double lip = 0.0, b = 0.0;
    if (memcmp(ovica_model_basis(f->model), f->A, sizeof f->A) != 0) {
        snprintf(why, len, "the model's basis changed");
        return 1;
    }
    if (ovica_model_sigma(f->model) != 0.3 || ovica_model_lipschitz(f->model, &lip) != 0 ||
        lip != f->lip_ref) {
        snprintf(why, len, "sigma or the Lipschitz constant changed");
        return 1;
    }
    if (ovica_prior_kind(ovica_model_prior(f->model)) != OVICA_PRIOR_LAPLACE ||
        ovica_prior_scale(ovica_model_prior(f->model), &b) != 0 || b != 0.7) {
        snprintf(why, len, "the model's prior changed");
        return 1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Priors, models, rng                                                       */

static int op_prior_new(fixture *f)
{
    (void)f;
    ovica_prior *p = NULL;
    int st = ovica_prior_laplace_new(&p, 1.0);
    if (st == OVICA_OK) {
        ovica_prior *c = NULL;
        st = ovica_prior_clone(&c, p);
        ovica_prior_free(c);
    }
    if (st == OVICA_OK) {
        ovica_prior_free(p);
        p = NULL;
        st = ovica_prior_exponential_new(&p, 2.0);
    }
    ovica_prior_free(p);
    return st;
}

static int user_nlp(const double *s, size_t n, double *out, void *u)
{
    (void)u;
    double t = 0.0;
    for (size_t i = 0; i < n; i++) t += s[i] * s[i];
    *out = t;
    return 0;
}

static int user_grad(const double *s, size_t n, double *g, void *u)
{
    (void)u;
    for (size_t i = 0; i < n; i++) g[i] = 2.0 * s[i];
    return 0;
}

static int op_prior_user(fixture *f)
{
    (void)f;
    ovica_prior_callbacks cb = OVICA_PRIOR_CALLBACKS_INIT;
    cb.name = "square";
    cb.neglogp = user_nlp;
    cb.grad = user_grad;
    ovica_prior *p = NULL;
    int st = ovica_prior_user_new(&p, &cb, NULL);
    ovica_prior_free(p);
    return st;
}

static int op_model_new(fixture *f)
{
    ovica_model *m = NULL;
    int st = ovica_model_new(&m, M, NA, f->expo, 1.0);
    ovica_model_free(m);
    return st;
}

static int op_model_clone(fixture *f)
{
    ovica_model *m = NULL;
    int st = ovica_model_clone(&m, f->model);
    if (st == OVICA_OK && memcmp(ovica_model_basis(m), f->A, sizeof f->A) != 0) st = 99;
    ovica_model_free(m);
    return st;
}

static int reset_basis(fixture *f) { return ovica_model_set_basis(f->model, f->A, M, NA); }

static int op_model_set_basis(fixture *f) { return ovica_model_set_basis(f->model, f->A2, M, NA); }

static int op_model_set_prior(fixture *f)
{
    int st = ovica_model_set_prior(f->model, f->lap);
    return st;
}

static int op_model_objective(fixture *f)
{
    double per[NS], mean = 0.0;
    memset(f->S, 0, sizeof f->S);
    return ovica_model_objective(f->model, f->X, NS, M, f->S, NA, per, &mean);
}

static int op_model_optimality(fixture *f)
{
    double worst = 0.0;
    memset(f->S, 0, sizeof f->S);
    return ovica_model_optimality(f->model, f->X, NS, M, f->S, NA, &worst);
}

static int op_rng(fixture *f)
{
    (void)f;
    ovica_rng *r = NULL, *c = NULL;
    int st = ovica_rng_new(&r, 5);
    if (st == OVICA_OK) st = ovica_rng_clone(&c, r);
    ovica_rng_free(c);
    ovica_rng_free(r);
    return st;
}

START_TEST(test_oom_core_objects)
{
    long live0 = ovica_debug_alloc_live();
    fixture f;
    fx_init(&f);
    tally t = {0, ""};
    ck_assert_int_gt(sweep(&t, "prior new/clone", &f, NULL, op_prior_new, NULL, OVICA_OK), 0);
    ck_assert_int_gt(sweep(&t, "prior_user_new", &f, NULL, op_prior_user, NULL, OVICA_OK), 0);
    ck_assert_int_gt(sweep(&t, "model_new", &f, NULL, op_model_new, NULL, OVICA_OK), 0);
    ck_assert_int_gt(sweep(&t, "model_clone", &f, NULL, op_model_clone, model_unchanged, OVICA_OK), 0);
    /* (its allocations are inside LAPACKE's wrappers, outside the hook) */
    sweep(&t, "model_set_basis", &f, reset_basis, op_model_set_basis, model_unchanged, OVICA_OK);
    ck_assert_status(reset_basis(&f), OVICA_OK);
    ck_assert_int_gt(sweep(&t, "model_set_prior", &f, NULL, op_model_set_prior, model_unchanged,
                           OVICA_OK), 0);
    ck_assert_int_gt(sweep(&t, "model_objective", &f, NULL, op_model_objective, model_unchanged,
                           OVICA_OK), 0);
    ck_assert_int_gt(sweep(&t, "model_optimality", &f, NULL, op_model_optimality, model_unchanged,
                           OVICA_OK), 0);
    ck_assert_int_gt(sweep(&t, "rng new/clone", &f, NULL, op_rng, NULL, OVICA_OK), 0);
    ck_assert_msg(t.bad == 0, "%d problems; first: %s", t.bad, t.first);
    fx_free(&f);
    ck_assert_int_eq(ovica_debug_alloc_live(), live0);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Solver                                                                    */

static int op_solver_new(fixture *f)
{
    (void)f;
    ovica_solver *s = NULL;
    int st = ovica_solver_new(&s, ovica_solver_fista);
    ovica_solver_free(s);
    return st;
}

static const ovica_solver_type *solver_type; /* of the solver under test */
static int solver_form;

static int new_solver(fixture *f)
{
    ovica_solver_free(f->solver);
    f->solver = NULL;
    int st = ovica_solver_new(&f->solver, solver_type);
    if (st == OVICA_OK) st = ovica_solver_set_param(f->solver, OVICA_SOLVER_FORM, solver_form);
    if (st == OVICA_OK) st = ovica_solver_set_param(f->solver, OVICA_SOLVER_MAX_ITER, 50);
    return st;
}

/* infer on a fresh solver (made by new_solver before each run): the call
 * allocates its work memory. A clean run's NOT_CONVERGED counts as OK. */
static int op_infer(fixture *f)
{
    ovica_infer_stats stats = OVICA_INFER_STATS_INIT;
    int st = ovica_solver_infer(f->solver, f->model, f->X, NS, M, f->S, NA, &stats);
    return st == OVICA_NOT_CONVERGED ? OVICA_OK : st;
}

static int verify_infer(fixture *f, char *why, size_t len)
{
    if (model_unchanged(f, why, len)) return 1;
    ovica_infer_stats stats = OVICA_INFER_STATS_INIT;
    int st = ovica_solver_infer(f->solver, f->model, f->X, NS, M, f->S, NA, &stats);
    if (st != OVICA_OK && st != OVICA_NOT_CONVERGED) {
        snprintf(why, len, "the solver failed afterwards: %d %s", st, ovica_error_message());
        return 1;
    }
    if (memcmp(f->S, f->S_ref, sizeof f->S) != 0) {
        snprintf(why, len, "the solver's result afterwards differs from the reference");
        return 1;
    }
    return 0;
}

START_TEST(test_oom_solver)
{
    long live0 = ovica_debug_alloc_live();
    fixture f;
    fx_init(&f);
    tally t = {0, ""};
    ck_assert_int_gt(sweep(&t, "solver_new", &f, NULL, op_solver_new, NULL, OVICA_OK), 0);
    const ovica_solver_type *types[3] = {ovica_solver_pg, ovica_solver_ista, ovica_solver_fista};
    for (int ti = 0; ti < 3; ti++) {
        for (solver_form = 1; solver_form <= 2; solver_form++) {
            solver_type = types[ti];
            ck_assert_status(new_solver(&f), OVICA_OK);
            int st = ovica_solver_infer(f.solver, f.model, f.X, NS, M, f.S_ref, NA, NULL);
            ck_assert(st == OVICA_OK || st == OVICA_NOT_CONVERGED);
            ck_assert_status(new_solver(&f), OVICA_OK);
            char name[64];
            snprintf(name, sizeof name, "solver_infer (%s, form %d)",
                     ovica_solver_type_name(types[ti]), solver_form);
            ck_assert_int_gt(sweep(&t, name, &f, new_solver, op_infer, verify_infer, OVICA_OK), 0);
        }
    }
    /* The work memory grows with the batch: a solver used on a small batch
     * must survive a failure to grow it. */
    ovica_solver_free(f.solver);
    f.solver = NULL;
    ck_assert_status(ovica_solver_new(&f.solver, ovica_solver_fista), OVICA_OK);
    ck_assert_status(ovica_solver_set_param(f.solver, OVICA_SOLVER_MAX_ITER, 50), OVICA_OK);
    {
        ovica_solver *ref = NULL;
        ck_assert_status(ovica_solver_new(&ref, ovica_solver_fista), OVICA_OK);
        ck_assert_status(ovica_solver_set_param(ref, OVICA_SOLVER_MAX_ITER, 50), OVICA_OK);
        int st = ovica_solver_infer(ref, f.model, f.X, NS, M, f.S_ref, NA, NULL);
        ck_assert(st == OVICA_OK || st == OVICA_NOT_CONVERGED);
        ovica_solver_free(ref);
    }
    int st = ovica_solver_infer(f.solver, f.model, f.X, 2, M, f.S, NA, NULL);
    ck_assert(st == OVICA_OK || st == OVICA_NOT_CONVERGED);
    ovica_debug_fail_alloc(1);
    ck_assert_error(ovica_solver_infer(f.solver, f.model, f.X, NS, M, f.S, NA, NULL),
                    OVICA_ENOMEM);
    ovica_debug_fail_alloc(0);
    char why[256] = "";
    ck_assert_msg(verify_infer(&f, why, sizeof why) == 0, "%s", why);
    ck_assert_msg(t.bad == 0, "%d problems; first: %s", t.bad, t.first);
    fx_free(&f);
    ck_assert_int_eq(ovica_debug_alloc_live(), live0);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Sampler                                                                   */

static int sampler_kind; /* 0 Laplace model, 1 exponential model */
static int sampler_moves;

static int op_sampler_new(fixture *f)
{
    (void)f;
    ovica_sampler *s = NULL;
    int st = ovica_sampler_new(&s, 3);
    ovica_sampler_free(s);
    return st;
}

/* A sampler fresh from seed 11 (made outside the hook) runs 3 sweeps from
 * S = S_ref with accumulators; its draws must equal the reference. */
static double acc_zs[NA * NA], acc_ss[NA * NA], acc_xs[M * NA], acc_bnd[NA * NA];

static int new_sampler(fixture *f)
{
    ovica_sampler_free(f->sampler);
    f->sampler = NULL;
    int st = ovica_sampler_new(&f->sampler, 11);
    if (st == OVICA_OK)
        st = ovica_sampler_set_param(f->sampler, OVICA_SAMPLER_NULL_MOVES, sampler_moves);
    return st;
}

static ovica_model *sampler_model(fixture *f)
{
    return sampler_kind ? f->out_model : f->model;
}

static int op_sample(fixture *f)
{
    memcpy(f->D, f->S_ref, sizeof f->D);
    ovica_posterior_accum acc = OVICA_POSTERIOR_ACCUM_INIT;
    acc.zs = acc_zs;
    acc.ss = acc_ss;
    acc.xs = acc_xs;
    acc.bnd = acc_bnd;
    memset(acc_zs, 0, sizeof acc_zs);
    memset(acc_ss, 0, sizeof acc_ss);
    memset(acc_xs, 0, sizeof acc_xs);
    memset(acc_bnd, 0, sizeof acc_bnd);
    int st = ovica_sampler_run(f->sampler, sampler_model(f), 0.3, f->X, NS, M, f->D, NA, 3,
                               &acc);
    if (st != OVICA_OK) {
        /* on error S and acc are unchanged */
        if (memcmp(f->D, f->S_ref, sizeof f->D) != 0 || acc.draws != 0.0) return 97;
        for (size_t i = 0; i < NA * NA; i++)
            if (acc_zs[i] != 0.0 || acc_ss[i] != 0.0 || acc_bnd[i] != 0.0) return 97;
    }
    return st;
}

static int verify_sample(fixture *f, char *why, size_t len)
{
    if (model_unchanged(f, why, len)) return 1;
    /* The sampler's generator must not have advanced: the next clean run
     * gives the reference draws. */
    memcpy(f->D, f->S_ref, sizeof f->D);
    int st = ovica_sampler_run(f->sampler, sampler_model(f), 0.3, f->X, NS, M, f->D, NA, 3,
                               NULL);
    if (st != OVICA_OK) {
        snprintf(why, len, "the sampler failed afterwards: %d %s", st, ovica_error_message());
        return 1;
    }
    if (memcmp(f->D, f->D_ref, sizeof f->D) != 0) {
        snprintf(why, len, "the sampler's draws afterwards differ from the reference");
        return 1;
    }
    return 0;
}

START_TEST(test_oom_sampler)
{
    long live0 = ovica_debug_alloc_live();
    fixture f;
    fx_init(&f);
    tally t = {0, ""};
    ck_assert_int_gt(sweep(&t, "sampler_new", &f, NULL, op_sampler_new, NULL, OVICA_OK), 0);
    ck_assert_status(ovica_model_new(&f.out_model, M, NA, f.expo, 0.3), OVICA_OK);
    ck_assert_status(ovica_model_set_basis(f.out_model, f.A, M, NA), OVICA_OK);
    for (sampler_kind = 0; sampler_kind <= 1; sampler_kind++) {
        for (sampler_moves = 0; sampler_moves <= 2; sampler_moves += 2) {
            const int moves = sampler_moves;
            tu_fill_normal(&f.r, f.S_ref, NS * NA, 0.5);
            ovica_sampler *ref = NULL;
            ck_assert_status(ovica_sampler_new(&ref, 11), OVICA_OK);
            ck_assert_status(ovica_sampler_set_param(ref, OVICA_SAMPLER_NULL_MOVES, moves),
                             OVICA_OK);
            memcpy(f.D_ref, f.S_ref, sizeof f.D_ref);
            ck_assert_status(ovica_sampler_run(ref, sampler_model(&f), 0.3, f.X, NS, M, f.D_ref,
                                               NA, 3, NULL), OVICA_OK);
            ovica_sampler_free(ref);
            ovica_sampler_free(f.sampler);
            f.sampler = NULL;
            ck_assert_status(ovica_sampler_new(&f.sampler, 11), OVICA_OK);
            ck_assert_status(ovica_sampler_set_param(f.sampler, OVICA_SAMPLER_NULL_MOVES, moves),
                             OVICA_OK);
            char name[64];
            snprintf(name, sizeof name, "sampler_run (%s, %d null moves)",
                     sampler_kind ? "exponential" : "Laplace", moves);
            ck_assert_int_gt(sweep(&t, name, &f, new_sampler, op_sample, verify_sample, OVICA_OK), 0);
        }
    }
    ck_assert_msg(t.bad == 0, "%d problems; first: %s", t.bad, t.first);
    fx_free(&f);
    ck_assert_int_eq(ovica_debug_alloc_live(), live0);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Metrics                                                                   */

static int op_match(fixture *f)
{
    size_t assign[NA];
    double ang[NA];
    return ovica_atoms_match(f->A2, M, NA, f->A, NA, 0, assign, ang);
}

static int op_recovery(fixture *f)
{
    ovica_recovery rec = OVICA_RECOVERY_INIT;
    return ovica_recovery_eval(f->A2, M, NA, f->A, NA - 2, 1, 5.0, f->S_ref, NS, &rec);
}

START_TEST(test_oom_metrics)
{
    long live0 = ovica_debug_alloc_live();
    fixture f;
    fx_init(&f);
    tally t = {0, ""};
    sweep(&t, "atoms_match", &f, NULL, op_match, NULL, OVICA_OK);
    sweep(&t, "recovery_eval", &f, NULL, op_recovery, NULL, OVICA_OK);
    ck_assert_msg(t.bad == 0, "%d problems; first: %s", t.bad, t.first);
    fx_free(&f);
    ck_assert_int_eq(ovica_debug_alloc_live(), live0);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* .npy                                                                      */

static int dir_entries(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    if (d == NULL) return -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
    closedir(d);
    return n;
}

/* Reads path2 (written once, cleanly, by the test) with every reader. */
static int op_npy_read(fixture *f)
{
    double *a = NULL;
    size_t r = 0, c = 0;
    int st = ovica_npy_read(f->path2, &a, &r, &c);
    if (st == OVICA_OK && (r != NS || c != M || memcmp(a, f->X, sizeof f->X) != 0)) st = 96;
    if (st != OVICA_OK && (a != NULL || r != 0 || c != 0)) st = 95;
    ovica_free(a);
    return st;
}

static int op_npy_read_into(fixture *f)
{
    double out[NS * M];
    int st = ovica_npy_read_into(f->path2, out, NS, M);
    if (st == OVICA_OK && memcmp(out, f->X, sizeof f->X) != 0) st = 96;
    return st;
}

static int op_npy_info(fixture *f)
{
    size_t r = 0, c = 0;
    return ovica_npy_info(f->path2, &r, &c);
}

static int op_npy_read_buffer(fixture *f)
{
    double *a = NULL;
    size_t r = 0, c = 0;
    int st = ovica_npy_read_buffer(f->npy_buf, f->npy_len, &a, &r, &c);
    if (st == OVICA_OK && (r != NS || c != M || memcmp(a, f->X, sizeof f->X) != 0)) st = 96;
    if (st != OVICA_OK && (a != NULL || r != 0 || c != 0)) st = 95;
    ovica_free(a);
    return st;
}

/* Writes over an existing file path: on failure the old file (holding A)
 * must be intact and no temporary file left behind. */
static int op_npy_write(fixture *f)
{
    return ovica_npy_write(f->path, f->X, NS, M);
}

static int op_npy_write32(fixture *f)
{
    return ovica_npy_write_float32(f->path, f->X, NS, M);
}

static int verify_npy_write(fixture *f, char *why, size_t len)
{
    if (dir_entries(f->dir) != 2) {
        snprintf(why, len, "%d files in the directory, wanted 2 (a temporary file left?)",
                 dir_entries(f->dir));
        return 1;
    }
    double back[M * NA];
    int st = ovica_npy_read_into(f->path, back, M, NA);
    if (st != OVICA_OK || memcmp(back, f->A, sizeof back) != 0) {
        snprintf(why, len, "the old file was damaged (%d: %s)", st, ovica_error_message());
        return 1;
    }
    return 0;
}

START_TEST(test_oom_npy)
{
    long live0 = ovica_debug_alloc_live();
    fixture f;
    fx_init(&f);
    tally t = {0, ""};
    ck_assert_status(ovica_npy_write(f.path2, f.X, NS, M), OVICA_OK);
    FILE *fp = fopen(f.path2, "rb");
    ck_assert_ptr_nonnull(fp);
    fseek(fp, 0, SEEK_END);
    f.npy_len = (size_t)ftell(fp);
    fseek(fp, 0, SEEK_SET);
    f.npy_buf = malloc(f.npy_len);
    ck_assert_uint_eq(fread(f.npy_buf, 1, f.npy_len, fp), f.npy_len);
    fclose(fp);
    sweep(&t, "npy_read", &f, NULL, op_npy_read, NULL, OVICA_OK);
    sweep(&t, "npy_read_into", &f, NULL, op_npy_read_into, NULL, OVICA_OK);
    sweep(&t, "npy_info", &f, NULL, op_npy_info, NULL, OVICA_OK);
    ck_assert_int_gt(sweep(&t, "npy_read_buffer", &f, NULL, op_npy_read_buffer, NULL, OVICA_OK), 0);
    /* writes: the sweep's clean run replaces the file, so restore it after */
    for (int w = 0; w < 2; w++) {
        ck_assert_status(ovica_npy_write(f.path, f.A, M, NA), OVICA_OK);
        long live_w = ovica_debug_alloc_live();
        for (int sticky = 0; sticky <= 1; sticky++) {
            for (long k = 1;; k++) {
                ovica_error_clear();
                ovica_debug_fail_alloc(sticky ? -k : k);
                int st = w ? op_npy_write32(&f) : op_npy_write(&f);
                long seen = ovica_debug_alloc_count();
                ovica_debug_fail_alloc(0);
                char why[256] = "";
                if (seen < k || st == OVICA_OK) {
                    /* A success despite a failed allocation is allowed for
                     * the directory's fsync only, which is best effort:
                     * then the file must hold the new data. */
                    double back[NS * M];
                    if (st != OVICA_OK || ovica_npy_read_into(f.path, back, NS, M) != 0 ||
                        (w == 0 && memcmp(back, f.X, sizeof back) != 0))
                        note(&t, "%s: run %ld gave %d (%s)%s but not the new file",
                             w ? "npy_write_float32" : "npy_write", k, st, "");
                    ck_assert_status(ovica_npy_write(f.path, f.A, M, NA), OVICA_OK);
                    if (seen < k) break;
                    continue;
                }
                if (st != OVICA_ENOMEM || ovica_error_message()[0] == '\0')
                    note(&t, "%s, failing allocation %ld: status %d (%s)%s",
                         w ? "npy_write_float32" : "npy_write", k, st, "");
                if (verify_npy_write(&f, why, sizeof why))
                    note(&t, "%s, failing allocation %ld: status %d (%s): %s",
                         w ? "npy_write_float32" : "npy_write", k, st, why);
                if (ovica_debug_alloc_live() != live_w)
                    note(&t, "%s, failing allocation %ld: status %d (%s)%s leaked",
                         w ? "npy_write_float32" : "npy_write", k, st, "");
            }
        }
    }
    ck_assert_msg(t.bad == 0, "%d problems; first: %s", t.bad, t.first);
    fx_free(&f);
    ck_assert_int_eq(ovica_debug_alloc_live(), live0);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Model files, checkpoints, training                                        */

static void *img_buf;
static size_t img_len;
static ovica_trainer *trainer;
static double trainer_A0[M * NA];

static int op_model_save_buffer(fixture *f)
{
    void *b = (void *)f;
    size_t n = 7;
    int st = ovica_model_save_buffer(f->model, &b, &n);
    if (st != OVICA_OK && (b != NULL || n != 0)) return 95;
    ovica_free(st == OVICA_OK ? b : NULL);
    return st;
}

static int op_model_load_buffer(fixture *f)
{
    ovica_model *m = (ovica_model *)f;
    int st = ovica_model_load_buffer(&m, img_buf, img_len);
    if (st != OVICA_OK) return m == (ovica_model *)f ? st : 95;
    if (memcmp(ovica_model_basis(m), f->A, sizeof f->A) != 0) st = 96;
    ovica_model_free(m);
    return st;
}

static int op_model_save_file(fixture *f) { return ovica_model_save(f->model, f->path); }

static int op_model_load_file(fixture *f)
{
    ovica_model *m = NULL;
    int st = ovica_model_load(&m, f->path2);
    ovica_model_free(m);
    return st;
}

/* the saved model file must still be the old one, with no temporary left */
static int verify_model_file(fixture *f, char *why, size_t len)
{
    if (dir_entries(f->dir) != 2) {
        snprintf(why, len, "%d files in the directory, wanted 2", dir_entries(f->dir));
        return 1;
    }
    return model_unchanged(f, why, len);
}

static int new_trainer(fixture *f)
{
    ovica_trainer_free(trainer);
    trainer = NULL;
    int st = ovica_trainer_new(&trainer, f->model, ovica_rule_auto, 4);
    if (st == OVICA_OK) st = ovica_trainer_set_param(trainer, OVICA_TRAIN_SWEEPS, 1);
    if (st == OVICA_OK) st = ovica_trainer_set_param(trainer, OVICA_TRAIN_BURNIN, 0);
    if (st == OVICA_OK) st = ovica_trainer_set_param(trainer, OVICA_TRAIN_SOLVER_ITER, 30);
    if (st == OVICA_OK)
        memcpy(trainer_A0, ovica_model_basis(ovica_trainer_model(trainer)), sizeof trainer_A0);
    return st;
}

static int op_trainer_step(fixture *f)
{
    ovica_step_stats stats = OVICA_STEP_STATS_INIT;
    return ovica_trainer_step(trainer, f->X, NS, M, &stats);
}

static int verify_trainer(fixture *f, char *why, size_t len)
{
    if (memcmp(ovica_model_basis(ovica_trainer_model(trainer)), trainer_A0,
               sizeof trainer_A0) != 0) {
        snprintf(why, len, "the trainer's model changed");
        return 1;
    }
    ovica_step_stats stats = OVICA_STEP_STATS_INIT;
    int st = ovica_trainer_step(trainer, f->X, NS, M, &stats);
    if (st != OVICA_OK) {
        snprintf(why, len, "the trainer failed afterwards: %d %s", st, ovica_error_message());
        return 1;
    }
    return model_unchanged(f, why, len);
}

static int op_checkpoint_roundtrip(fixture *f)
{
    (void)f;
    void *b = NULL;
    size_t n = 0;
    int st = ovica_checkpoint_save_buffer(trainer, &b, &n);
    if (st == OVICA_OK) {
        ovica_trainer *t = (ovica_trainer *)&n;
        st = ovica_checkpoint_load_buffer(&t, b, n);
        if (st != OVICA_OK && t != (ovica_trainer *)&n) st = 95;
        if (st == OVICA_OK) ovica_trainer_free(t);
    } else if (b != NULL || n != 0) {
        st = 95;
    }
    ovica_free(b);
    return st;
}

START_TEST(test_oom_files_and_training)
{
    long live0 = ovica_debug_alloc_live();
    fixture f;
    fx_init(&f);
    tally t = {0, ""};
    ck_assert_int_gt(sweep(&t, "model_save_buffer", &f, NULL, op_model_save_buffer,
                           model_unchanged, OVICA_OK), 0);
    ck_assert_status(ovica_model_save_buffer(f.model, &img_buf, &img_len), OVICA_OK);
    ck_assert_int_gt(sweep(&t, "model_load_buffer", &f, NULL, op_model_load_buffer, NULL,
                           OVICA_OK), 0);
    ck_assert_status(ovica_model_save(f.model, f.path), OVICA_OK);
    ck_assert_status(ovica_model_save(f.model, f.path2), OVICA_OK);
    best_effort_ok = 1;
    ck_assert_int_gt(sweep(&t, "model_save", &f, NULL, op_model_save_file, verify_model_file,
                           OVICA_OK), 0);
    best_effort_ok = 0;
    ck_assert_int_gt(sweep(&t, "model_load", &f, NULL, op_model_load_file, NULL, OVICA_OK), 0);
    ovica_free(img_buf);
    img_buf = NULL;
    ck_assert_int_gt(sweep(&t, "trainer_step", &f, new_trainer, op_trainer_step, verify_trainer,
                           OVICA_OK), 0);
    ck_assert_status(new_trainer(&f), OVICA_OK);
    ck_assert_int_gt(sweep(&t, "checkpoint save/load", &f, NULL, op_checkpoint_roundtrip, NULL,
                           OVICA_OK), 0);
    ovica_trainer_free(trainer);
    trainer = NULL;
    ck_assert_msg(t.bad == 0, "%d problems; first: %s", t.bad, t.first);
    fx_free(&f);
    ck_assert_int_eq(ovica_debug_alloc_live(), live0);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The hook itself                                                           */

START_TEST(test_hook_semantics)
{
    ovica_prior *p = NULL, *q = NULL;
    long live0 = ovica_debug_alloc_live();
    ovica_debug_fail_alloc(0);
    ck_assert_int_eq(ovica_debug_alloc_count(), 0);
    ck_assert_status(ovica_prior_laplace_new(&p, 1.0), OVICA_OK);
    ck_assert_int_eq(ovica_debug_alloc_count(), 1);
    ck_assert_int_eq(ovica_debug_alloc_live(), live0 + 1);
    /* transient: only the first allocation from now fails */
    ovica_debug_fail_alloc(1);
    ck_assert_error(ovica_prior_clone(&q, p), OVICA_ENOMEM);
    ck_assert_ptr_null(q);
    ck_assert_status(ovica_prior_clone(&q, p), OVICA_OK);
    ovica_prior_free(q);
    q = NULL;
    /* sticky: every allocation from the 2nd on fails */
    ovica_debug_fail_alloc(-2);
    ck_assert_status(ovica_prior_clone(&q, p), OVICA_OK);
    ovica_prior_free(q);
    q = NULL;
    ck_assert_error(ovica_prior_clone(&q, p), OVICA_ENOMEM);
    ck_assert_error(ovica_prior_clone(&q, p), OVICA_ENOMEM);
    ck_assert_int_eq(ovica_debug_alloc_count(), 3);
    ovica_debug_fail_alloc(0);
    ck_assert_status(ovica_prior_clone(&q, p), OVICA_OK);
    ovica_prior_free(q);
    ovica_prior_free(p);
    ck_assert_int_eq(ovica_debug_alloc_live(), live0);
    /* the failures are reported as ENOMEM with a message */
    p = NULL;
    ovica_debug_fail_alloc(1);
    ck_assert_error(ovica_prior_laplace_new(&p, 1.0), OVICA_ENOMEM);
    ck_assert_ptr_null(p);
    ovica_debug_fail_alloc(0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("oom");
    TCase *tc = tcase_create("oom");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_hook_semantics);
    tcase_add_test(tc, test_oom_core_objects);
    tcase_add_test(tc, test_oom_solver);
    tcase_add_test(tc, test_oom_sampler);
    tcase_add_test(tc, test_oom_metrics);
    tcase_add_test(tc, test_oom_npy);
    tcase_add_test(tc, test_oom_files_and_training);
    suite_add_tcase(s, tc);
    return tu_run(s);
}

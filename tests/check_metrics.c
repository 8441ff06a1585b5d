/* Tests of the recovery metrics (ovica/metrics.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define DEG (M_PI / 180.0)

/* 2 x n basis with atoms at the given angles (degrees) and lengths. */
static void basis2(double *A, size_t n, const double *deg, const double *len)
{
    for (size_t i = 0; i < n; i++) {
        double l = len ? len[i] : 1.0;
        A[i] = l * cos(deg[i] * DEG);
        A[n + i] = l * sin(deg[i] * DEG);
    }
}

static void normcols(const double *A, size_t m, size_t n, double *U)
{
    for (size_t i = 0; i < n; i++) {
        double s = 0.0;
        for (size_t k = 0; k < m; k++) s += A[k * n + i] * A[k * n + i];
        s = sqrt(s);
        for (size_t k = 0; k < m; k++) U[k * n + i] = s > 0 ? A[k * n + i] / s : 0.0;
    }
}

/* ---- exact matches ------------------------------------------------------------------- */
START_TEST(test_identity)
{
    double A[8];
    static const double deg[4] = { 15, 38, 140, 250 };
    basis2(A, 4, deg, NULL);
    size_t as[4];
    double ang[4];
    ck_assert_status(ovica_atoms_match(A, 2, 4, A, 4, 0, as, ang), OVICA_OK);
    for (size_t j = 0; j < 4; j++) {
        ck_assert_uint_eq(as[j], j);
        ck_assert_double_le(ang[j], 1e-12);
    }
    ck_assert_status(ovica_atoms_match(A, 2, 4, A, 4, 1, as, ang), OVICA_OK);
    for (size_t j = 0; j < 4; j++) ck_assert_uint_eq(as[j], j);
}
END_TEST

/* A random m x n basis, permuted, sign-flipped and rescaled column by column. */
START_TEST(test_permuted_flipped_scaled)
{
    enum { m = 6, n = 10 };
    double T[m * n], L[m * n];
    static const size_t perm[n] = { 3, 7, 0, 9, 1, 4, 8, 2, 6, 5 }; /* learned i = true perm[i] */
    tu_rng g;
    tu_seed(&g, 5);
    tu_fill_normal(&g, T, m * n, 1.0);
    for (size_t i = 0; i < n; i++) {
        double s = (i % 3 == 0 ? -1.0 : 1.0) * (0.1 + i);
        for (size_t k = 0; k < m; k++) L[k * n + i] = s * T[k * n + perm[i]];
    }
    size_t as[n];
    double ang[n];
    ck_assert_status(ovica_atoms_match(L, m, n, T, n, 0, as, ang), OVICA_OK);
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(as[perm[i]], i);
        ck_assert_double_le(ang[perm[i]], 1e-6);
    }
    ovica_recovery rec = OVICA_RECOVERY_INIT;
    ck_assert_status(ovica_recovery_eval(L, m, n, T, n, 0, 1.0, NULL, 0, &rec), OVICA_OK);
    ck_assert_uint_eq(rec.version, OVICA_RECOVERY_VERSION);
    ck_assert_uint_eq(rec.n_true, n);
    ck_assert_uint_eq(rec.n_learned, n);
    ck_assert_double_le(rec.max_angle_deg, 1e-6);
    ck_assert_double_eq_tol(rec.mmcs, 1.0, 1e-14);
    ck_assert_uint_eq(rec.recovered, n);
    ck_assert_uint_eq(rec.dead, 0);

    /* With signs, a flipped atom no longer matches its twin: its true atom ends
     * up well away from every learned atom; the others still match exactly. */
    ck_assert_status(ovica_atoms_match(L, m, n, T, n, 1, as, ang), OVICA_OK);
    for (size_t i = 0; i < n; i++) {
        if (i % 3 == 0)
            ck_assert_double_gt(ang[perm[i]], 1.0);
        else
            ck_assert_double_le(ang[perm[i]], 1e-6);
    }
    double negL[m * n];
    for (size_t i = 0; i < (size_t)m * n; i++) negL[i] = -T[i];
    ck_assert_status(ovica_atoms_match(negL, m, n, T, n, 1, as, ang), OVICA_OK);
    for (size_t j = 0; j < n; j++) ck_assert_double_gt(ang[j], 1.0);
    ck_assert_status(ovica_recovery_eval(negL, m, n, T, n, 1, 5.0, NULL, 0, &rec), OVICA_OK);
    ck_assert_uint_eq(rec.recovered, 0);
    /* MMCS with signs: best cos of each true atom with any -T_i. */
    double U[m * n], mm = 0.0;
    normcols(T, m, n, U);
    for (size_t j = 0; j < n; j++) {
        double best = -2.0;
        for (size_t i = 0; i < n; i++) {
            double c = 0.0;
            for (size_t k = 0; k < m; k++) c -= U[k * n + j] * U[k * n + i];
            if (c > best) best = c;
        }
        mm += best / n;
    }
    ck_assert_double_eq_tol(rec.mmcs, mm, 1e-12);
    ck_assert_double_lt(rec.mmcs, 0.9);
    ck_assert_status(ovica_recovery_eval(negL, m, n, T, n, 0, 5.0, NULL, 0, &rec), OVICA_OK);
    ck_assert_double_eq_tol(rec.mmcs, 1.0, 1e-14);
    ck_assert_uint_eq(rec.recovered, n);
}
END_TEST

/* Sign-aware matching of flipped atoms in 2-D. */
START_TEST(test_sign_flip_2d)
{
    double T[4], L[4];
    size_t as[2];
    double ang[2];
    /* One atom against its negative: 180 degrees with signs, 0 without. */
    double t1[2] = { 0.6, 0.8 }, l1[2] = { -1.2, -1.6 };
    ck_assert_status(ovica_atoms_match(l1, 2, 1, t1, 1, 1, as, ang), OVICA_OK);
    ck_assert_uint_eq(as[0], 0);
    ck_assert_double_eq_tol(ang[0], 180.0, 1e-12);
    ck_assert_status(ovica_atoms_match(l1, 2, 1, t1, 1, 0, as, ang), OVICA_OK);
    ck_assert_double_le(ang[0], 1e-12);
    ovica_recovery rec = OVICA_RECOVERY_INIT;
    ck_assert_status(ovica_recovery_eval(l1, 2, 1, t1, 1, 1, 5.0, NULL, 0, &rec), OVICA_OK);
    ck_assert_double_eq_tol(rec.max_angle_deg, 180.0, 1e-12);
    ck_assert_double_eq_tol(rec.mmcs, -1.0, 1e-15);
    ck_assert_uint_eq(rec.recovered, 0);
    /* True 0 and 90, learned 180 and 270: with signs the swap (cos 0 + cos 0)
     * beats the twins (-1 + -1), so both angles are 90; without signs the
     * twins match at 0. */
    basis2(T, 2, (const double[]){ 0, 90 }, NULL);
    basis2(L, 2, (const double[]){ 180, 270 }, NULL);
    ck_assert_status(ovica_atoms_match(L, 2, 2, T, 2, 1, as, ang), OVICA_OK);
    ck_assert_uint_eq(as[0], 1);
    ck_assert_uint_eq(as[1], 0);
    ck_assert_double_eq_tol(ang[0], 90.0, 1e-12);
    ck_assert_double_eq_tol(ang[1], 90.0, 1e-12);
    ck_assert_status(ovica_atoms_match(L, 2, 2, T, 2, 0, as, ang), OVICA_OK);
    ck_assert_uint_eq(as[0], 0);
    ck_assert_uint_eq(as[1], 1);
    ck_assert_double_le(ang[0], 1e-12);
    ck_assert_double_le(ang[1], 1e-12);
}
END_TEST

/* Known small rotations: the angles come back exactly, including tiny ones
 * where acos(cos) would lose most of its digits. */
START_TEST(test_perturbed_angles)
{
    static const double deg[4] = { 15, 38, 140, 250 };
    static const double rot[4] = { 1.0, -2.5, 1e-6, 7.0 };
    double T[8], L[8], ld[4];
    basis2(T, 4, deg, NULL);
    for (int i = 0; i < 4; i++) ld[i] = deg[i] + rot[i];
    basis2(L, 4, ld, (const double[]){ 2.0, 0.5, 1.0, 3.0 });
    size_t as[4];
    double ang[4];
    ck_assert_status(ovica_atoms_match(L, 2, 4, T, 4, 0, as, ang), OVICA_OK);
    for (size_t j = 0; j < 4; j++) {
        ck_assert_uint_eq(as[j], j);
        ck_assert_double_eq_tol(ang[j], fabs(rot[j]), 1e-12 + 1e-9 * fabs(rot[j]));
    }
    ovica_recovery rec = OVICA_RECOVERY_INIT;
    ck_assert_status(ovica_recovery_eval(L, 2, 4, T, 4, 1, 2.0, NULL, 0, &rec), OVICA_OK);
    ck_assert_double_eq_tol(rec.max_angle_deg, 7.0, 1e-9);
    ck_assert_double_eq_tol(rec.mean_angle_deg, (1.0 + 2.5 + 1e-6 + 7.0) / 4, 1e-9);
    ck_assert_uint_eq(rec.recovered, 2); /* 1 and 1e-6 are within 2 degrees */
    double mmcs = (cos(1.0 * DEG) + cos(2.5 * DEG) + cos(1e-6 * DEG) + cos(7.0 * DEG)) / 4;
    ck_assert_double_eq_tol(rec.mmcs, mmcs, 1e-14);
}
END_TEST

/* Greedy matching (best pair first) fails here; the optimal assignment does not.
 * True atoms at 0 and 30 degrees, learned at 20 and 80: greedy takes (30, 20)
 * then (0, 80), total cos 1.158; optimal is (0, 20) + (30, 80), total 1.583. */
START_TEST(test_not_greedy)
{
    double T[4], L[4];
    basis2(T, 2, (const double[]){ 0, 30 }, NULL);
    basis2(L, 2, (const double[]){ 20, 80 }, NULL);
    size_t as[2];
    double ang[2];
    ck_assert_status(ovica_atoms_match(L, 2, 2, T, 2, 0, as, ang), OVICA_OK);
    ck_assert_uint_eq(as[0], 0);
    ck_assert_uint_eq(as[1], 1);
    ck_assert_double_eq_tol(ang[0], 20.0, 1e-10);
    ck_assert_double_eq_tol(ang[1], 50.0, 1e-10);
}
END_TEST

/* ---- brute force ------------------------------------------------------------------------ */
/* Best total similarity over all complete matchings of the smaller side
 * into the larger, by exhaustive search (n <= 6). */
static double brute_best(const double *sim, size_t nt, size_t nl, size_t j, unsigned used,
                         size_t matched)
{
    size_t need = nt < nl ? nt : nl; /* the matching must be complete on the smaller side */
    if (j == nt) return matched == need ? 0.0 : -INFINITY;
    double best = -INFINITY;
    if (nt > nl) /* some true atoms stay unmatched: allow skipping j */
        best = brute_best(sim, nt, nl, j + 1, used, matched);
    for (size_t i = 0; i < nl; i++) {
        if (used & (1u << i)) continue;
        double v = sim[j * nl + i] + brute_best(sim, nt, nl, j + 1, used | (1u << i), matched + 1);
        if (v > best) best = v;
    }
    return best;
}

START_TEST(test_brute_force)
{
    static const size_t shapes[][2] = { /* n_true, n_learned */
        { 2, 2 }, { 3, 3 }, { 4, 4 }, { 5, 5 }, { 6, 6 }, { 4, 6 }, { 2, 5 }, { 6, 3 },
        { 5, 2 }, { 1, 6 }, { 6, 1 },
    };
    enum { m = 3, trials = 40 };
    tu_rng g;
    tu_seed(&g, 77);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        size_t nt = shapes[s][0], nl = shapes[s][1];
        for (int t = 0; t < trials; t++) {
            for (int use_sign = 0; use_sign <= 1; use_sign++) {
                double T[m * 6], L[m * 6], UT[m * 6], UL[m * 6], sim[36];
                tu_fill_normal(&g, T, m * nt, 1.0);
                tu_fill_normal(&g, L, m * nl, 1.0);
                normcols(T, m, nt, UT);
                normcols(L, m, nl, UL);
                for (size_t j = 0; j < nt; j++)
                    for (size_t i = 0; i < nl; i++) {
                        double c = 0.0;
                        for (size_t k = 0; k < m; k++) c += UT[k * nt + j] * UL[k * nl + i];
                        sim[j * nl + i] = use_sign ? c : fabs(c);
                    }
                size_t as[6];
                double ang[6];
                ck_assert_status(ovica_atoms_match(L, m, nl, T, nt, use_sign, as, ang), OVICA_OK);
                double total = 0.0;
                unsigned seen = 0;
                size_t unmatched = 0;
                for (size_t j = 0; j < nt; j++) {
                    if (as[j] == SIZE_MAX) {
                        unmatched++;
                        ck_assert_double_eq(ang[j], use_sign ? 180.0 : 90.0);
                        continue;
                    }
                    ck_assert_uint_lt(as[j], nl);
                    ck_assert_msg(!(seen & (1u << as[j])), "learned atom used twice");
                    seen |= 1u << as[j];
                    double c = sim[j * nl + as[j]];
                    total += c;
                    /* the angle agrees with acos of the similarity */
                    ck_assert_double_eq_tol(ang[j], acos(c) / DEG, 1e-6);
                }
                ck_assert_uint_eq(unmatched, nt > nl ? nt - nl : 0);
                double best = brute_best(sim, nt, nl, 0, 0, 0);
                ck_assert_msg(total >= best - 1e-12, "shape %zu x %zu trial %d sign %d: "
                              "total %.15g < best %.15g", nt, nl, t, use_sign, total, best);
            }
        }
    }
}
END_TEST

/* ---- MMCS, unmatched, zero atoms, dead atoms ------------------------------------------------ */
/* True 0 and 10 degrees; learned 0 and 90. Matching: (0->0, 10->90), total
 * 1 + cos 80 beats cos 90 + cos 10. MMCS takes the best learned atom for each
 * true atom regardless: (1 + cos 10)/2. */
START_TEST(test_mmcs_uses_best_not_matched)
{
    double T[4], L[4];
    basis2(T, 2, (const double[]){ 0, 10 }, NULL);
    basis2(L, 2, (const double[]){ 0, 90 }, NULL);
    ovica_recovery rec = OVICA_RECOVERY_INIT;
    ck_assert_status(ovica_recovery_eval(L, 2, 2, T, 2, 0, 3.0, NULL, 0, &rec), OVICA_OK);
    ck_assert_double_eq_tol(rec.mmcs, (1.0 + cos(10 * DEG)) / 2, 1e-14);
    ck_assert_double_eq_tol(rec.max_angle_deg, 80.0, 1e-10);
    ck_assert_double_eq_tol(rec.mean_angle_deg, 40.0, 1e-10);
    ck_assert_uint_eq(rec.recovered, 1);
}
END_TEST

START_TEST(test_fewer_learned_than_true)
{
    double T[8], L[4];
    basis2(T, 4, (const double[]){ 0, 45, 90, 135 }, NULL);
    basis2(L, 2, (const double[]){ 91, 44 }, NULL);
    size_t as[4];
    double ang[4];
    ck_assert_status(ovica_atoms_match(L, 2, 2, T, 4, 0, as, ang), OVICA_OK);
    ck_assert(as[0] == SIZE_MAX && as[3] == SIZE_MAX);
    ck_assert_uint_eq(as[1], 1);
    ck_assert_uint_eq(as[2], 0);
    ck_assert_double_eq_tol(ang[1], 1.0, 1e-10);
    ck_assert_double_eq_tol(ang[2], 1.0, 1e-10);
    ck_assert_double_eq(ang[0], 90.0);
    ck_assert_double_eq(ang[3], 90.0);
    ovica_recovery rec = OVICA_RECOVERY_INIT;
    ck_assert_status(ovica_recovery_eval(L, 2, 2, T, 4, 0, 2.0, NULL, 0, &rec), OVICA_OK);
    ck_assert_uint_eq(rec.recovered, 2);
    ck_assert_double_eq(rec.max_angle_deg, 90.0);
    ck_assert_double_eq_tol(rec.mean_angle_deg, (90 + 1 + 1 + 90) / 4.0, 1e-10);
    /* Best |cos| for 0 deg: learned 44 (cos 44 > |cos 91|); for 135 deg: learned
     * 91 (|cos 44| > |cos 91|); 45 and 90: cos 1. */
    ck_assert_double_eq_tol(rec.mmcs, (cos(44 * DEG) + cos(1 * DEG) * 2 + cos(44 * DEG)) / 4,
                            1e-14);
}
END_TEST

START_TEST(test_zero_atoms)
{
    double T[6], L[6];
    basis2(T, 3, (const double[]){ 0, 60, 120 }, NULL);
    basis2(L, 3, (const double[]){ 0, 60, 120 }, NULL);
    L[1] = L[4] = 0.0; /* learned atom 1 is zero */
    size_t as[3];
    double ang[3];
    for (int use_sign = 0; use_sign <= 1; use_sign++) {
        ck_assert_status(ovica_atoms_match(L, 2, 3, T, 3, use_sign, as, ang), OVICA_OK);
        for (size_t j = 0; j < 3; j++) {
            ck_assert(!isnan(ang[j]));
            ck_assert_uint_eq(as[j], j);
        }
        ck_assert_double_eq(ang[1], 90.0);
        ck_assert_double_le(ang[0], 1e-12);
    }
    /* All zero on both sides: still no NaN. */
    double Z[6] = { 0, 0, 0, 0, 0, 0 };
    ck_assert_status(ovica_atoms_match(Z, 2, 3, Z, 3, 0, as, ang), OVICA_OK);
    for (size_t j = 0; j < 3; j++) ck_assert_double_eq(ang[j], 90.0);
    ovica_recovery rec = OVICA_RECOVERY_INIT;
    ck_assert_status(ovica_recovery_eval(Z, 2, 3, T, 3, 0, 1.0, NULL, 0, &rec), OVICA_OK);
    ck_assert_double_eq(rec.mmcs, 0.0);
    ck_assert_double_eq(rec.max_angle_deg, 90.0);
    ck_assert_uint_eq(rec.recovered, 0);
    /* Huge and tiny columns normalise without overflow or underflow. */
    double H[4] = { 1e300, 1e-300, 1e300, 2e-300 };
    double U[4] = { 1, 1, 1, 2 };
    ck_assert_status(ovica_atoms_match(H, 2, 2, U, 2, 1, as, ang), OVICA_OK);
    ck_assert_double_le(ang[0], 1e-10);
    ck_assert_double_le(ang[1], 1e-10);
}
END_TEST

START_TEST(test_dead_atoms)
{
    enum { N = 50, n = 4 };
    double T[8], S[N * n];
    basis2(T, 4, (const double[]){ 15, 38, 140, 250 }, NULL);
    for (size_t k = 0; k < N; k++)
        for (size_t i = 0; i < n; i++)
            S[k * n + i] = (i == 1 || i == 3) ? 0.0 : (i == 2 ? -1.0 : (double)((k % 3)) - 1.0);
    S[17 * n + 3] = -0.0; /* negative zero is still zero */
    ovica_recovery rec = OVICA_RECOVERY_INIT;
    ck_assert_status(ovica_recovery_eval(T, 2, 4, T, 4, 0, 1.0, S, N, &rec), OVICA_OK);
    ck_assert_uint_eq(rec.dead, 2);
    S[(N - 1) * n + 1] = 1e-300; /* active once, in the last row */
    ck_assert_status(ovica_recovery_eval(T, 2, 4, T, 4, 0, 1.0, S, N, &rec), OVICA_OK);
    ck_assert_uint_eq(rec.dead, 1);
    ck_assert_status(ovica_recovery_eval(T, 2, 4, T, 4, 0, 1.0, NULL, 0, &rec), OVICA_OK);
    ck_assert_uint_eq(rec.dead, 0);
}
END_TEST

/* ---- bad input ------------------------------------------------------------------------------ */
START_TEST(test_bad_args)
{
    double A[4] = { 1, 0, 0, 1 }, S[4] = { 1, 1, 1, 1 };
    size_t as[2] = { 7, 7 };
    double ang[2] = { 7, 7 };
    ck_assert_error(ovica_atoms_match(NULL, 2, 2, A, 2, 0, as, ang), OVICA_EINVAL);
    ck_assert_error(ovica_atoms_match(A, 2, 2, NULL, 2, 0, as, ang), OVICA_EINVAL);
    ck_assert_error(ovica_atoms_match(A, 0, 2, A, 2, 0, as, ang), OVICA_EINVAL);
    ck_assert_error(ovica_atoms_match(A, 2, 0, A, 2, 0, as, ang), OVICA_EINVAL);
    ck_assert_error(ovica_atoms_match(A, 2, 2, A, 0, 0, as, ang), OVICA_EINVAL);
    ck_assert_error(ovica_atoms_match(A, 2, (size_t)1 << 40, A, 2, 0, as, ang), OVICA_ESIZE);
    A[3] = NAN;
    ck_assert_error(ovica_atoms_match(A, 2, 2, S, 2, 0, as, ang), OVICA_ENONFINITE);
    ck_assert_error(ovica_atoms_match(S, 2, 2, A, 2, 0, as, ang), OVICA_ENONFINITE);
    A[3] = 1;
    ck_assert(as[0] == 7 && as[1] == 7 && ang[0] == 7 && ang[1] == 7); /* untouched */
    /* NULL outputs are allowed */
    ck_assert_status(ovica_atoms_match(A, 2, 2, A, 2, 0, NULL, NULL), OVICA_OK);

    ovica_recovery rec = OVICA_RECOVERY_INIT, bad = OVICA_RECOVERY_INIT;
    bad.version = 0;
    ck_assert_error(ovica_recovery_eval(A, 2, 2, A, 2, 0, 1.0, NULL, 0, NULL), OVICA_EINVAL);
    ck_assert_error(ovica_recovery_eval(A, 2, 2, A, 2, 0, 1.0, NULL, 0, &bad), OVICA_EVERSION);
    bad.version = OVICA_RECOVERY_VERSION + 1;
    ck_assert_error(ovica_recovery_eval(A, 2, 2, A, 2, 0, 1.0, NULL, 0, &bad), OVICA_EVERSION);
    ck_assert_error(ovica_recovery_eval(NULL, 2, 2, A, 2, 0, 1.0, NULL, 0, &rec), OVICA_EINVAL);
    ck_assert_error(ovica_recovery_eval(A, 0, 2, A, 2, 0, 1.0, NULL, 0, &rec), OVICA_EINVAL);
    ck_assert_error(ovica_recovery_eval(A, 2, 2, A, 2, 0, NAN, NULL, 0, &rec), OVICA_ENONFINITE);
    ck_assert_error(ovica_recovery_eval(A, 2, 2, A, 2, 0, INFINITY, NULL, 0, &rec),
                    OVICA_ENONFINITE);
    ck_assert_error(ovica_recovery_eval(A, 2, 2, A, 2, 0, -1.0, NULL, 0, &rec), OVICA_EINVAL);
    ck_assert_error(ovica_recovery_eval(A, 2, 2, A, 2, 0, 1.0, S, 0, &rec), OVICA_EINVAL);
    A[0] = INFINITY;
    ck_assert_error(ovica_recovery_eval(A, 2, 2, S, 2, 0, 1.0, NULL, 0, &rec), OVICA_ENONFINITE);
    /* out untouched by failed calls */
    ck_assert_uint_eq(rec.version, OVICA_RECOVERY_VERSION);
    ck_assert_uint_eq(rec.n_true, 0);
    ck_assert_double_eq(rec.mmcs, 0.0);
}
END_TEST

static Suite *metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("match");
    tcase_add_test(tc, test_identity);
    tcase_add_test(tc, test_permuted_flipped_scaled);
    tcase_add_test(tc, test_sign_flip_2d);
    tcase_add_test(tc, test_perturbed_angles);
    tcase_add_test(tc, test_not_greedy);
    tcase_add_test(tc, test_brute_force);
    suite_add_tcase(s, tc);
    tc = tcase_create("recovery");
    tcase_add_test(tc, test_mmcs_uses_best_not_matched);
    tcase_add_test(tc, test_fewer_learned_than_true);
    tcase_add_test(tc, test_zero_atoms);
    tcase_add_test(tc, test_dead_atoms);
    tcase_add_test(tc, test_bad_args);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_run(metrics_suite()); }

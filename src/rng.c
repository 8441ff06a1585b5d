/*
 * Seeded random number generator: xoshiro256** seeded by splitmix64, plus
 * the variates the library needs (normal, exponential, Laplace, and a
 * tail-safe truncated normal).
 */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "ovica/rng.h"

struct ovica_rng {
    uint64_t s[4];      /* xoshiro256** state, never all zero */
    double spare;       /* second normal of the last polar pair */
    int has_spare;
};

/* splitmix64 (Steele, Lea & Flood 2014): advances *x and returns a
 * well-mixed output; used only to expand the seed into the state. */
static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static void rng_seed(ovica_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
    /* splitmix64 is a bijection of its counter, so four consecutive outputs
     * cannot all be zero; keep the guard anyway since xoshiro's all-zero
     * state is a fixed point. */
    if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0) r->s[0] = UINT64_C(1);
    r->spare = 0.0;
    r->has_spare = 0;
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t next_u64(ovica_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

static inline double next_uniform(ovica_rng *r)
{
    return (double)(next_u64(r) >> 11) * 0x1.0p-53;
}

int ovica_rng_new(ovica_rng **out, uint64_t seed)
{
    OVICA__CHECK_NULL(out, "out");
    ovica_rng *r = ovica__malloc(sizeof *r);
    if (r == NULL) return ovica__error(OVICA_ENOMEM, "ovica_rng_new: cannot allocate the handle");
    rng_seed(r, seed);
    *out = r;
    return OVICA_OK;
}

int ovica_rng_clone(ovica_rng **out, const ovica_rng *r)
{
    OVICA__CHECK_NULL(out, "out");
    OVICA__CHECK_NULL(r, "r");
    ovica_rng *c = ovica__malloc(sizeof *c);
    if (c == NULL) return ovica__error(OVICA_ENOMEM, "ovica_rng_clone: cannot allocate the handle");
    memcpy(c, r, sizeof *c);
    *out = c;
    return OVICA_OK;
}

void ovica_rng_free(ovica_rng *r) { ovica__free(r); }

int ovica_rng_seed(ovica_rng *r, uint64_t seed)
{
    OVICA__CHECK_NULL(r, "r");
    rng_seed(r, seed);
    return OVICA_OK;
}

int ovica_rng_jump(ovica_rng *r)
{
    static const uint64_t JUMP[4] = {
        UINT64_C(0x180EC6D33CFD0ABA), UINT64_C(0xD5A61266F0C9392C),
        UINT64_C(0xA9582618E03FC9AA), UINT64_C(0x39ABDC4529B1661C)
    };
    OVICA__CHECK_NULL(r, "r");
    uint64_t t[4] = { 0, 0, 0, 0 };
    for (int i = 0; i < 4; i++) {
        for (int b = 0; b < 64; b++) {
            if (JUMP[i] & (UINT64_C(1) << b))
                for (int k = 0; k < 4; k++) t[k] ^= r->s[k];
            (void)next_u64(r);
        }
    }
    memcpy(r->s, t, sizeof t);
    r->has_spare = 0;
    r->spare = 0.0;
    return OVICA_OK;
}

uint64_t ovica_rng_u64(ovica_rng *r) { return next_u64(r); }

double ovica_rng_uniform(ovica_rng *r) { return next_uniform(r); }

static double normal(ovica_rng *r)
{
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    double u, v, s;
    do {
        u = 2.0 * next_uniform(r) - 1.0;
        v = 2.0 * next_uniform(r) - 1.0;
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    double f = sqrt(-2.0 * log(s) / s);
    r->spare = v * f;
    r->has_spare = 1;
    return u * f;
}

double ovica_rng_normal(ovica_rng *r) { return normal(r); }

/* Standard exponential (mean 1): -log(1 - u) with u in [0, 1), so the
 * argument of log is in (0, 1] (exact: 1 - k 2^-53 is representable). */
static inline double std_exponential(ovica_rng *r)
{
    return -log(1.0 - next_uniform(r)) + 0.0; /* + 0.0 turns -0 into +0 */
}

static inline int bad_scale(double b) { return !(b > 0.0) || !isfinite(b); }

double ovica_rng_exponential(ovica_rng *r, double b)
{
    if (bad_scale(b)) return NAN;
    return b * std_exponential(r);
}

double ovica_rng_laplace(ovica_rng *r, double b)
{
    if (bad_scale(b)) return NAN;
    /* One draw: bit 0 gives the sign, bits 11..63 the uniform. */
    uint64_t x = next_u64(r);
    double e = -log(1.0 - (double)(x >> 11) * 0x1.0p-53) + 0.0;
    return (x & 1u) ? -b * e : b * e;
}

/* ---- truncated normal ------------------------------------------------------
 * Sampling N(0,1) restricted to [a, b]. The interval is brought to one of two
 * shapes: straddling 0 (a < 0 < b), or on the right of 0 (0 <= a < b; an
 * interval on the left is mirrored). Acceptance rates per trial:
 *   - straddle, width < sqrt(2 pi): uniform proposal, accept exp(-z^2/2);
 *     >= 0.49 (worst: [0-, 2.5]);
 *   - straddle, wider: N(0,1) proposal, accept if inside; >= 0.49;
 *   - right, narrow (w (a + w/2) <= 1): uniform proposal, accept
 *     exp(-t (a + t/2)) with t = z - a; >= exp(-1);
 *   - right, a < 0.25 and not narrow (so b > 1.19): |N(0,1)| proposal,
 *     accept if inside; >= 0.57;
 *   - right, otherwise: Robert (1995) translated-exponential proposal
 *     z = a + E/alpha, alpha = (a + sqrt(a^2 + 4))/2, accept with
 *     exp(-(z - alpha)^2/2) and z <= b; >= 0.76 (Robert's one-sided rate)
 *     times P(Z <= b | Z >= a) >= 1 - exp(-w (a + w/2)) > 1 - 1/e, so >= 0.48.
 * A cap on the number of trials guarantees termination; the probability of
 * reaching it is below 0.64^TN_MAX_TRIALS, i.e. zero in practice. */
#define TN_MAX_TRIALS 100000

static double tn_right(ovica_rng *r, double a, double b)
{
    double w = b - a; /* may be +inf */
    if (w * (a + 0.5 * w) <= 1.0) {
        for (int k = 0; k < TN_MAX_TRIALS; k++) {
            double t = w * next_uniform(r);
            double u = next_uniform(r);
            if (u <= exp(-t * (a + 0.5 * t))) {
                double z = a + t;
                return z > b ? b : z;
            }
        }
        return a;
    }
    if (a < 0.25) {
        for (int k = 0; k < TN_MAX_TRIALS; k++) {
            double z = fabs(normal(r));
            if (z >= a && z <= b) return z;
        }
        return a;
    }
    /* alpha = a + delta with delta = alpha - a = 2/(a + sqrt(a^2 + 4)),
     * computed without cancellation or overflow. */
    double delta = 2.0 / (a + hypot(a, 2.0));
    double alpha = a + delta;
    for (int k = 0; k < TN_MAX_TRIALS; k++) {
        double t = std_exponential(r) / alpha; /* z - a */
        double d = t - delta;                  /* z - alpha */
        double u = next_uniform(r);
        if (u <= exp(-0.5 * d * d)) {
            double z = a + t;
            if (z <= b) return z;
        }
    }
    return a;
}

static double tn_straddle(ovica_rng *r, double a, double b)
{
    double w = b - a; /* may be +inf */
    if (w < OVICA__SQRT2PI) {
        for (int k = 0; k < TN_MAX_TRIALS; k++) {
            double z = a + w * next_uniform(r);
            double u = next_uniform(r);
            if (u <= exp(-0.5 * z * z)) return z > b ? b : z;
        }
        return 0.0;
    }
    for (int k = 0; k < TN_MAX_TRIALS; k++) {
        double z = normal(r);
        if (z >= a && z <= b) return z;
    }
    return 0.0;
}

double ovica_rng_truncated_normal(ovica_rng *r, double lo, double hi)
{
    if (isnan(lo) || isnan(hi) || lo > hi) return NAN;
    if (lo == hi) return isfinite(lo) ? lo : NAN;
    if (lo == -INFINITY && hi == INFINITY) return normal(r);
    if (lo >= 0.0) return tn_right(r, lo, hi);
    if (hi <= 0.0) return -tn_right(r, -hi, -lo);
    return tn_straddle(r, lo, hi);
}

int ovica_rng_fill_normal(ovica_rng *r, double *x, size_t len)
{
    OVICA__CHECK_NULL(r, "r");
    if (len == 0) return OVICA_OK;
    OVICA__CHECK_NULL(x, "x");
    for (size_t i = 0; i < len; i++) x[i] = normal(r);
    return OVICA_OK;
}

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <limits.h>

#include "internal.h"
#include "ovica/debug.h"

/* Per-thread error record: with the allocation counters below, the
 * library's only mutable state outside the handles; all of it is
 * thread-local. */
static _Thread_local char err_message[512];
static _Thread_local int err_status;

const char *ovica_strerror(int status)
{
    switch (status) {
    case OVICA_OK: return "success";
    case OVICA_DONE: return "done";
    case OVICA_NOT_CONVERGED: return "iteration limit reached before convergence";
    case OVICA_ENOMEM: return "out of memory";
    case OVICA_EINVAL: return "invalid argument";
    case OVICA_ESIZE: return "size mismatch";
    case OVICA_ENONFINITE: return "NaN or infinity in input";
    case OVICA_EDOMAIN: return "value outside the allowed domain";
    case OVICA_ENOTSUP: return "operation not supported";
    case OVICA_EUSER: return "stopped by a user callback";
    case OVICA_ENUMERIC: return "numerical failure";
    case OVICA_EIO: return "input/output error";
    case OVICA_EFORMAT: return "corrupt or unsupported format";
    case OVICA_EVERSION: return "unsupported version";
    case OVICA_ESTATE: return "invalid call in the current state";
    default: return "unknown status";
    }
}

const char *ovica_error_message(void) { return err_message; }

int ovica_error_last(void) { return err_status; }

void ovica_error_clear(void)
{
    err_message[0] = '\0';
    err_status = OVICA_OK;
}

int ovica__error(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err_message, sizeof err_message, fmt, ap);
    va_end(ap);
    err_status = status;
    return status;
}

int ovica__check_version(const char *fn, const char *what, unsigned int version,
                         unsigned int current)
{
    if (version == 0 || version > current)
        return ovica__error(OVICA_EVERSION,
                            "%s: %s version %u unknown (this library knows 1 to %u)", fn, what,
                            version, current);
    return OVICA_OK;
}

void ovica__append_name(char *buf, size_t len, const char *name)
{
    if (len == 0) return;
    size_t used = strnlen(buf, len);
    if (used >= len) return;
    int w = snprintf(buf + used, len - used, "%s%s", used > 0 ? ", " : "", name);
    if (w < 0 || (size_t)w >= len - used) {
        if (len >= 4) memcpy(buf + len - 4, "...", 4); /* marks the cut */
    }
}

/* Allocation accounting and failure injection (ovica/debug.h), per thread:
 * alloc_count counts attempts since the last ovica_debug_fail_alloc();
 * fail_at > 0 makes attempt number fail_at fail (once, or with fail_sticky
 * every later one too); alloc_live is allocations minus releases. */
static _Thread_local long alloc_count;
static _Thread_local long alloc_fail_at;
static _Thread_local int alloc_fail_sticky;
static _Thread_local long alloc_live;

void ovica_debug_fail_alloc(long k)
{
    alloc_count = 0;
    alloc_fail_sticky = k < 0;
    alloc_fail_at = k < 0 ? (k == LONG_MIN ? LONG_MAX : -k) : k;
}

long ovica_debug_alloc_count(void) { return alloc_count; }

long ovica_debug_alloc_live(void) { return alloc_live; }

/* Counts one allocation attempt; non-zero if it is to fail. */
static int alloc_should_fail(void)
{
    if (alloc_count < LONG_MAX) alloc_count++;
    if (alloc_fail_at <= 0) return 0;
    if (alloc_count == alloc_fail_at) return 1;
    return alloc_fail_sticky && alloc_count > alloc_fail_at;
}

void *ovica__malloc(size_t size)
{
    if (alloc_should_fail()) return NULL;
    void *p = malloc(size ? size : 1);
    if (p != NULL) alloc_live++;
    return p;
}

void *ovica__calloc(size_t count, size_t size)
{
    if (alloc_should_fail()) return NULL;
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (p != NULL) alloc_live++;
    return p;
}

void *ovica__realloc(void *p, size_t size)
{
    if (alloc_should_fail()) return NULL; /* p stays valid, as with realloc */
    void *q = realloc(p, size ? size : 1);
    if (q != NULL && p == NULL) alloc_live++;
    return q;
}

void ovica__free(void *p)
{
    if (p != NULL) alloc_live--;
    free(p);
}

double *ovica__alloc_doubles(size_t count, const char *what)
{
    size_t bytes;
    double *p = NULL;
    if (ovica__mul_size(count, sizeof(double), &bytes) == 0)
        p = ovica__malloc(bytes);
    if (p == NULL)
        ovica__error(OVICA_ENOMEM, "cannot allocate %zu doubles for %s", count, what);
    return p;
}

/* The message for the first entry i of an array that is NaN or Inf. */
static int not_finite(const char *what, int nan, size_t i, size_t cols)
{
    if (cols > 1)
        return ovica__error(OVICA_ENONFINITE, "%s holds %s at row %zu, column %zu", what,
                            nan ? "NaN" : "Inf", i / cols, i % cols);
    return ovica__error(OVICA_ENONFINITE, "%s holds %s at index %zu", what, nan ? "NaN" : "Inf",
                        i);
}

int ovica__check_finite(const double *x, size_t len, size_t cols, const char *what)
{
    /* Fast path: x * 0 is 0 for every finite x and NaN for NaN or Inf, so
     * blocks whose sum of x * 0 is 0 hold only finite values (a branch-free
     * loop the compiler vectorises); a block that fails is scanned again to
     * name the first bad entry. */
    enum { BLOCK = 4096 };
    size_t start = 0;
    for (; start < len; start += BLOCK) {
        size_t end = len - start < BLOCK ? len : start + BLOCK;
        double z0 = 0.0, z1 = 0.0, z2 = 0.0, z3 = 0.0;
        size_t i = start;
        for (; i + 4 <= end; i += 4) {
            z0 += x[i] * 0.0;
            z1 += x[i + 1] * 0.0;
            z2 += x[i + 2] * 0.0;
            z3 += x[i + 3] * 0.0;
        }
        for (; i < end; i++) z0 += x[i] * 0.0;
        if (!(z0 + z1 + z2 + z3 == 0.0)) break;
    }
    if (start >= len) return OVICA_OK;
    for (size_t i = start; i < len; i++)
        if (!isfinite(x[i])) return not_finite(what, isnan(x[i]), i, cols);
    return OVICA_OK;
}

int ovica__check_finite_f32(const float *x, size_t len, size_t cols, const char *what)
{
    for (size_t i = 0; i < len; i++)
        if (!isfinite(x[i])) return not_finite(what, isnan(x[i]), i, cols);
    return OVICA_OK;
}

double ovica__log_ndtr(double x)
{
    /* Phi(x) = erfc(-x/sqrt2)/2; for very negative x use the asymptotic
     * series of the Mills ratio to stay accurate. */
    if (x > -20.0)
        return log(0.5 * erfc(-x / OVICA__SQRT2));
    double x2 = x * x;
    double s = 1.0 - 1.0 / x2 + 3.0 / (x2 * x2) - 15.0 / (x2 * x2 * x2);
    return -0.5 * x2 - log(-x) - 0.5 * log(2.0 * OVICA__PI) + log(s);
}

/**
 * @file ovica/debug.h
 * @brief Testing aids: allocation counting and allocation-failure injection.
 *
 * EXPERIMENTAL: no ABI promise. These declarations may change or go in any
 * release, a patch release included (the symbols stay exported from the
 * shared library while they exist). They are visible only to a host that
 * defines OVICA_EXPERIMENTAL before including <ovica.h> (which then includes
 * this header) or this header; without it, including this header is an
 * error rather than a silent empty include.
 *
 * Every allocation libovica makes itself goes through one internal allocator,
 * which counts the allocations of the calling thread and can be told to make
 * one of them (or every one from some point on) fail as if the system were
 * out of memory. Tests use this to drive each operation through every
 * possible allocation failure (docs/RELIABILITY.md, tests/check_oom.c):
 *
 *     for (long k = 1;; k++) {
 *         ovica_debug_fail_alloc(k);            // fail the k-th allocation
 *         int st = operation();
 *         long seen = ovica_debug_alloc_count();
 *         ovica_debug_fail_alloc(0);            // off again
 *         if (seen < k) break;                  // finished before the k-th
 *         assert(st == OVICA_ENOMEM);           // and nothing leaked or changed
 *     }
 *
 * Scope and limits:
 * - The state is thread-local: a setting made in one thread affects only
 *   the allocations made by libovica calls in that thread, and each thread
 *   has its own counters. The functions are thread-safe.
 * - Only libovica's own allocations are seen. Memory allocated inside
 *   OpenBLAS and LAPACKE (e.g. the work and transposition arrays of the
 *   LAPACKE_* row-major wrappers), by the C library (fopen's buffers) or by
 *   the host is outside the hook; such failures are reported through the
 *   status codes LAPACKE returns, where the library checks them.
 * - Counting costs one thread-local increment per allocation; there is no
 *   other cost when no failure is armed. Not meant for production use.
 */
#ifndef OVICA_DEBUG_H
#define OVICA_DEBUG_H

#ifndef OVICA_EXPERIMENTAL
#error "ovica/debug.h is experimental (no ABI promise): define OVICA_EXPERIMENTAL first"
#endif

#include "common.h"

OVICA_BEGIN_DECLS

/**
 * @brief Arms (or disarms) allocation-failure injection in the calling thread
 * and restarts its allocation count (ovica_debug_alloc_count()) at 0.
 *
 * @param k  0: no failures (the default).
 *           k > 0: the k-th allocation from now fails, once; later ones
 *           succeed again (a transient failure).
 *           k < 0: the |k|-th allocation from now and every later one fail,
 *           until the next call (memory exhausted for good).
 * A failed allocation returns NULL exactly as a failing malloc would; the
 * library then reports OVICA_ENOMEM.
 */
OVICA_API void ovica_debug_fail_alloc(long k);

/**
 * @brief Number of allocations libovica attempted in the calling thread since
 * the last ovica_debug_fail_alloc() call (or since the thread started),
 * failed ones included.
 */
OVICA_API long ovica_debug_alloc_count(void);

/**
 * @brief Allocations made minus allocations released by libovica in the
 * calling thread since it started: the number of blocks the library (or its
 * caller, for arrays it returned) still holds, when allocation and release
 * happen in the same thread. Not reset by ovica_debug_fail_alloc(). Tests
 * compare it before and after an operation to find leaks without an
 * external tool.
 */
OVICA_API long ovica_debug_alloc_live(void);

OVICA_END_DECLS

#endif /* OVICA_DEBUG_H */

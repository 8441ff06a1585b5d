/* Shared by the benchmark programs: CK(call) runs a libovica call and, on
 * an error status, prints the call and the library's message and exits;
 * bench_now() is a monotonic clock in seconds. (Needs _POSIX_C_SOURCE, as
 * every program here is compiled with.) */
#ifndef OVICA_BENCH_CHECK_H
#define OVICA_BENCH_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ovica.h"

#define CK(x)                                                                       \
    do {                                                                            \
        int s_ = (x);                                                               \
        if (s_ < 0) {                                                               \
            fprintf(stderr, "%s: %s\n", #x, ovica_error_message());                 \
            exit(1);                                                                \
        }                                                                           \
    } while (0)

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#endif

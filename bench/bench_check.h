/* Shared by the benchmark programs: CK(call) runs a libovica call and, on
 * an error status, prints the call and the library's message and exits. */
#ifndef OVICA_BENCH_CHECK_H
#define OVICA_BENCH_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#include "ovica.h"

#define CK(x)                                                                       \
    do {                                                                            \
        int s_ = (x);                                                               \
        if (s_ < 0) {                                                               \
            fprintf(stderr, "%s: %s\n", #x, ovica_error_message());                 \
            exit(1);                                                                \
        }                                                                           \
    } while (0)

#endif

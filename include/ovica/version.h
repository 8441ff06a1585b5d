/**
 * @file ovica/version.h
 * @brief Compile-time and run-time version of libovica.
 *
 * The Makefile reads the version from this file; it is the only place the
 * version is defined. The shared library's SONAME carries the major version:
 * the ABI is stable within a major version.
 */
#ifndef OVICA_VERSION_H
#define OVICA_VERSION_H

#include "common.h"

#define OVICA_VERSION_MAJOR 0
#define OVICA_VERSION_MINOR 2
#define OVICA_VERSION_PATCH 0

/** MAJOR*10000 + MINOR*100 + PATCH, e.g. 100 for 0.1.0. */
#define OVICA_VERSION_NUMBER \
    (OVICA_VERSION_MAJOR * 10000 + OVICA_VERSION_MINOR * 100 + OVICA_VERSION_PATCH)

#define OVICA_VERSION_STR2_(x) #x
#define OVICA_VERSION_STR_(x) OVICA_VERSION_STR2_(x)
/** "MAJOR.MINOR.PATCH" as a string literal. */
#define OVICA_VERSION_STRING                                     \
    OVICA_VERSION_STR_(OVICA_VERSION_MAJOR) "."                  \
    OVICA_VERSION_STR_(OVICA_VERSION_MINOR) "."                  \
    OVICA_VERSION_STR_(OVICA_VERSION_PATCH)

OVICA_BEGIN_DECLS

/**
 * @brief Version of the library actually loaded, as "MAJOR.MINOR.PATCH".
 * @return a static string; never NULL. Thread-safe.
 */
OVICA_API const char *ovica_version_string(void);

/**
 * @brief Version of the library actually loaded, as OVICA_VERSION_NUMBER.
 *
 * A host (or a binding) compares it with the OVICA_VERSION_NUMBER it was
 * compiled against: the major versions must agree. Thread-safe.
 */
OVICA_API int ovica_version_number(void);

OVICA_END_DECLS

#endif /* OVICA_VERSION_H */

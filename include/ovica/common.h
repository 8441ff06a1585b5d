/**
 * @file ovica/common.h
 * @brief Macros shared by every libovica header: export control and C++ linkage.
 *
 * Hosts never need to include this file directly; include <ovica.h>.
 */
#ifndef OVICA_COMMON_H
#define OVICA_COMMON_H

#include <stddef.h>
#include <stdint.h>

/** Marks a declaration as part of the exported ABI (all else is hidden). */
#if defined(_WIN32) && defined(OVICA_BUILDING)
#  define OVICA_API __declspec(dllexport)
#elif defined(_WIN32)
#  define OVICA_API __declspec(dllimport)
#elif defined(__GNUC__) && __GNUC__ >= 4
#  define OVICA_API __attribute__((visibility("default")))
#else
#  define OVICA_API
#endif

/** Marks a declaration as deprecated; it is removed at the next major version. */
#if defined(__GNUC__)
#  define OVICA_DEPRECATED(msg) __attribute__((deprecated(msg)))
#else
#  define OVICA_DEPRECATED(msg)
#endif

#ifdef __cplusplus
#  define OVICA_BEGIN_DECLS extern "C" {
#  define OVICA_END_DECLS }
#else
#  define OVICA_BEGIN_DECLS
#  define OVICA_END_DECLS
#endif

#endif /* OVICA_COMMON_H */

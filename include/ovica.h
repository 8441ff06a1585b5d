/**
 * @file ovica.h
 * @brief libovica: overcomplete ICA (Lewicki & Sejnowski 2000) as a C library.
 *
 * The umbrella header: hosts include only this file. Each concept has its
 * own header under ovica/.
 *
 * Conventions that hold for the whole API:
 * - Data are row-major: X is N x m (one sample per row), the basis A is
 *   m x n (atom i is column i), codes S are N x n.
 * - Names are ovica_<noun>_<verb>: the object or the family first
 *   (ovica_model_, ovica_trainer_, ovica_atoms_, ovica_loglik_), then what is
 *   done to it or read from it (ovica_model_set_basis, ovica_atoms_match,
 *   ovica_loglik_laplace; accessors name the property: ovica_model_sigma).
 * - Every fallible function returns an int status (ovica/status.h); results
 *   go to out-parameters. Argument order: a function that makes a handle
 *   (ovica_solver_new, ovica_model_clone, ...) takes its out-parameter
 *   first; every other function takes the object it acts on, or the key it
 *   looks up, first and its out-parameters last
 *   (ovica_solver_get_param(solver, param, &value),
 *   ovica_solver_param_find(name, &param)).
 * - Versioned structs (stats, options, callback tables) carry `unsigned int
 *   version` as their first member, set by their `_INIT` macro. The library
 *   accepts every version from 1 up to its own `..._VERSION` (a host built
 *   against an older header keeps working) and refuses 0 and newer versions
 *   with OVICA_EVERSION.
 * - Objects are opaque handles made by `_new` and released by `_free`, which
 *   accepts NULL. Objects returned through `**out` are owned by the caller.
 * - Threads: a handle is used by one thread at a time; separate handles may
 *   be used from separate threads at once; a model that no thread modifies
 *   may be shared for inference (ovica_solver_infer takes it const). The
 *   library has no mutable global state; its error message is thread-local.
 *   BLAS threading is OpenBLAS's own (OPENBLAS_NUM_THREADS).
 */
#ifndef OVICA_H
#define OVICA_H

#include "ovica/common.h"
#include "ovica/version.h"
#include "ovica/status.h"
#include "ovica/prior.h"
#include "ovica/rng.h"
#include "ovica/synth.h"
#include "ovica/metrics.h"
#include "ovica/model.h"
#include "ovica/solver.h"
#include "ovica/sampler.h"
#include "ovica/io.h"
#include "ovica/modelio.h"
#include "ovica/rule.h"
#include "ovica/trainer.h"
#include "ovica/eval.h"

/* The experimental surface carries no ABI promise (it may change in any
 * release, even a patch one): a host that wants it defines
 * OVICA_EXPERIMENTAL before including this header (ovica/debug.h: allocation
 * counting and failure injection; ovica/trainer.h: the layout of the
 * exported statistics). */
#ifdef OVICA_EXPERIMENTAL
#include "ovica/debug.h"
#endif

#endif /* OVICA_H */

/**
 * @file ovica/modelio.h
 * @brief Model files: saving and loading a model (A, sigma, the prior), and
 * training checkpoints.
 *
 * A model file holds the basis A, the noise level sigma and the prior (its
 * family and scale) exactly: every double is stored bit for bit, so a loaded
 * model equals the saved one. The customary file name suffix is ".ovm".
 *
 * Format (version 1). All integers are unsigned little-endian, all reals
 * IEEE-754 binary64 little-endian, whatever the host:
 *
 *     offset  size  field
 *     0       8     magic 89 4F 56 49 43 41 0D 0A ("\x89OVICA\r\n")
 *     8       4     format version (1)
 *     12      4     version of the library that wrote it (OVICA_VERSION_NUMBER;
 *                   informational)
 *     16      8     total length of the file in bytes, checksum included
 *     24      ...   sections, each: a 4-byte ASCII tag, an 8-byte payload
 *                   length, the payload
 *     len-8   8     CRC-64/XZ (ECMA-182 polynomial, reflected, initial value
 *                   and final xor all ones) of all the preceding bytes
 *
 * This envelope (magic, the two version fields, the length and the trailing
 * checksum) is the same in every format version, so that a file of a newer
 * version is told apart from a corrupt one. Sections:
 *   - "MODL" (first, exactly once): m (8 bytes), n (8), sigma (8), prior
 *     family (4; 0 Laplace, 1 exponential, as enum ovica_prior_kind), 4
 *     reserved zero bytes, the prior's scale b (8), then A, m x n doubles
 *     row-major (atom i is column i). Its length must be exactly 40 + 8 m n.
 *   - "TRST" (optional, at most once): the training state written by
 *     ovica_checkpoint_save(); ovica_model_load() skips it, so a checkpoint
 *     is also a model file. Its payload: the length of the rule's name (4
 *     bytes) and the name (ASCII); the step index (8); the number P of
 *     parameters (4), then P pairs (parameter id, 4 bytes; value, 8 bytes),
 *     one per enum ovica_train_param value; flags (4; bit 0: a best basis
 *     follows); the best monitor objective (8; NaN if none); the best basis
 *     (m x n doubles, row-major) when flag bit 0 is set.
 *   - a section whose tag starts with a lowercase letter is optional: readers
 *     that do not know it skip it. An unknown tag starting with anything else
 *     is required to understand the file: OVICA_EVERSION.
 *
 * User priors (ovica_prior_user_new) cannot be saved: their callbacks are
 * code, not data. Saving a model with a user prior gives OVICA_ENOTSUP; such
 * a host saves the basis with ovica_npy_write() and rebuilds the model.
 *
 * Loading checks, in this order: the magic; the length (a truncated file, or
 * bytes after the declared end, is OVICA_EFORMAT with both lengths in the
 * message); the checksum (any corruption: OVICA_EFORMAT); the format version
 * (OVICA_EVERSION); then every section, with bounds checks on every field
 * (never trusting a length) and validity checks on every value (sizes >= 1,
 * sigma in [1e-150, 1e150], b finite and > 0, a known prior family, finite A
 * whose norm does not overflow): OVICA_EFORMAT
 * with a message naming the field. Every byte sequence is safe to pass to
 * ovica_model_load_buffer(); on any failure *out is left untouched.
 *
 * Saving is atomic: the file is written to a temporary file in the same
 * directory, fsync'ed and renamed over the target, as ovica_npy_write() does
 * (ovica/io.h); a failed save removes the temporary file and leaves an
 * existing file untouched.
 *
 * Threads: all functions are reentrant; a model may be saved by several
 * threads at once (it is only read).
 */
#ifndef OVICA_MODELIO_H
#define OVICA_MODELIO_H

#include "common.h"
#include "model.h"
#include "trainer.h"

OVICA_BEGIN_DECLS

/** Current model file format version (what the save functions write). */
#define OVICA_MODEL_FORMAT_VERSION 1

/**
 * @brief Saves a model to a file, atomically.
 * @param model the model (only read).
 * @param path  file name; must not be NULL or empty.
 * @return OVICA_OK; OVICA_EINVAL (NULL or empty argument); OVICA_ENOTSUP
 *         (user prior; nothing is written); OVICA_EIO (message gives the
 *         failing step and the system error); OVICA_ENOMEM.
 */
OVICA_API int ovica_model_save(const ovica_model *model, const char *path);

/**
 * @brief Saves a model into a new memory buffer (the bytes of the file).
 * @param model the model (only read).
 * @param buf   out: the bytes, released with ovica_free(); must not be NULL.
 * @param len   out: their number; must not be NULL.
 * @return OVICA_OK; OVICA_EINVAL; OVICA_ENOTSUP (user prior); OVICA_ENOMEM.
 *         On failure *buf is NULL and *len 0 (when the pointers are not NULL).
 */
OVICA_API int ovica_model_save_buffer(const ovica_model *model, void **buf, size_t *len);

/**
 * @brief Loads a model file (also a checkpoint's model).
 * @param out  out: the new model, owned by the caller (ovica_model_free());
 *             untouched on failure; must not be NULL.
 * @param path file name; must not be NULL.
 * @return OVICA_OK; OVICA_EINVAL; OVICA_EIO (cannot open or read);
 *         OVICA_EFORMAT (not a model file, truncated, corrupt, invalid
 *         values); OVICA_EVERSION (a newer format); OVICA_ENOMEM.
 */
OVICA_API int ovica_model_load(ovica_model **out, const char *path);

/**
 * @brief Loads a model from the bytes of a model file held in memory.
 *
 * Intended for embedded models and for fuzzing: every byte sequence is safe
 * to pass; nothing outside buf[0 .. len) is read. The whole buffer must be
 * the file (trailing bytes are an error).
 * @param out out: the new model (caller-owned); untouched on failure.
 * @param buf the bytes; must not be NULL (even when len is 0). Not kept.
 * @param len their number.
 * @return as ovica_model_load(), without OVICA_EIO.
 */
OVICA_API int ovica_model_load_buffer(ovica_model **out, const void *buf, size_t len);

/**
 * @brief Saves a trainer's state as a checkpoint file, atomically.
 *
 * A checkpoint is a model file (the trainer's current model) plus a "TRST"
 * section with what is needed to resume: the rule, the step index (which
 * places the learning-rate, annealing and EM/gradient schedules), every
 * trainer parameter (OVICA_TRAIN_*: learning rate, planned steps, schedule,
 * guards...), and the best basis with its monitor objective.
 *
 * Not saved (the trainer's public API does not expose them): the random
 * generator's state, the posterior chains, the accumulated statistics, the
 * monitor batch, the solver type set by ovica_trainer_set_solver(),
 * schedule callbacks, the learning-rate reductions of rollbacks and damping
 * that are not reflected in OVICA_TRAIN_LR, and per-atom activity. A resumed
 * run therefore follows the same schedules from the same basis, but not
 * the same random stream as an uninterrupted one.
 *
 * @param t    the trainer (only read); its model must have a built-in prior.
 * @param path file name; must not be NULL or empty.
 * @return OVICA_OK; OVICA_EINVAL; OVICA_ENOTSUP (user prior); OVICA_EIO;
 *         OVICA_ENOMEM.
 */
OVICA_API int ovica_checkpoint_save(const ovica_trainer *t, const char *path);

/** @brief ovica_checkpoint_save() into a new buffer (release with ovica_free()).
 *  On failure *buf is NULL and *len 0. */
OVICA_API int ovica_checkpoint_save_buffer(const ovica_trainer *t, void **buf, size_t *len);

/**
 * @brief Makes a trainer from a checkpoint file.
 *
 * The trainer gets the saved model, rule, parameters and step index; its
 * random generator is seeded from the file's contents (loading the same
 * checkpoint twice gives identical runs). The best basis stored in the file
 * and its monitor objective are put back (ovica_trainer_set_best()), so
 * best-basis tracking goes on. The host sets the solver, the monitor batch and any schedule
 * callbacks again, then calls ovica_trainer_step() as before.
 *
 * @param out  out: the new trainer (caller-owned, ovica_trainer_free());
 *             untouched on failure.
 * @param path file name.
 * @return OVICA_OK; OVICA_EINVAL; OVICA_EIO; OVICA_EFORMAT (as
 *         ovica_model_load(), also a model file without training state, an
 *         unknown rule, an out-of-range parameter); OVICA_EVERSION (newer
 *         format or a parameter id this library does not know);
 *         OVICA_ENOMEM.
 */
OVICA_API int ovica_checkpoint_load(ovica_trainer **out, const char *path);

/** @brief ovica_checkpoint_load() from the bytes of a checkpoint file held in
 *  memory; every byte sequence is safe to pass (fuzzing). */
OVICA_API int ovica_checkpoint_load_buffer(ovica_trainer **out, const void *buf, size_t len);

OVICA_END_DECLS

#endif /* OVICA_MODELIO_H */

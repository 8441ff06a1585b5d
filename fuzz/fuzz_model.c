/* libFuzzer target: the model file and checkpoint loaders
 * (ovica_model_load_buffer, ovica_checkpoint_load_buffer).
 *
 * The first input byte chooses the mode. Even: the rest is passed as it
 * is (this exercises the envelope checks: magic, length, checksum). Odd:
 * the rest becomes the sections of a well-formed envelope (magic, format
 * version 1, the correct total length and CRC-64/XZ trailer), so that the
 * fuzzer reaches the section parser behind the checksum.
 *
 * Oracle: on failure *out is untouched, the status is EFORMAT, EVERSION or
 * ENOMEM and a message is set; on success the model is valid, and saving
 * it and loading that gives the same model, whose saved bytes are the same
 * again; a checkpoint that loads saves and loads again. Any violation
 * aborts. Seeds: tests/corpus/model/. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ovica.h"
#include "ovica/modelio.h"

#ifndef FUZZ_ENTRY
#define FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif

/* CRC-64/XZ, written independently of the library's. */
static uint64_t fz_crc64(const uint8_t *p, size_t n)
{
    uint64_t crc = ~(uint64_t)0;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc & 1) ? (crc >> 1) ^ 0xC96C5795D7870F42ULL : crc >> 1;
    }
    return ~crc;
}

static void fz_put_le(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static int same_model(const ovica_model *a, const ovica_model *b)
{
    size_t m = ovica_model_dim(a), n = ovica_model_atoms(a);
    if (m != ovica_model_dim(b) || n != ovica_model_atoms(b)) return 0;
    if (memcmp(ovica_model_basis(a), ovica_model_basis(b), m * n * sizeof(double)) != 0) return 0;
    double sa = ovica_model_sigma(a), sb = ovica_model_sigma(b), ba = 0, bb = 0;
    if (memcmp(&sa, &sb, sizeof sa) != 0) return 0;
    const ovica_prior *pa = ovica_model_prior(a), *pb = ovica_model_prior(b);
    if (ovica_prior_kind(pa) != ovica_prior_kind(pb)) return 0;
    if (ovica_prior_scale(pa, &ba) != 0 || ovica_prior_scale(pb, &bb) != 0) return 0;
    return memcmp(&ba, &bb, sizeof ba) == 0;
}

/* The checkpoint loader on the same bytes. */
static void fz_checkpoint(const uint8_t *in, size_t len)
{
    static const uint8_t empty[1] = {0};
    ovica_trainer *sentinel = (ovica_trainer *)(uintptr_t)0x1, *t = sentinel;
    ovica_error_clear();
    int st = ovica_checkpoint_load_buffer(&t, len ? (const void *)in : (const void *)empty, len);
    if (st != OVICA_OK) {
        if (t != sentinel) abort();
        if (st != OVICA_EFORMAT && st != OVICA_EVERSION && st != OVICA_ENOMEM) abort();
        if (ovica_error_message()[0] == '\0') abort();
        return;
    }
    if (t == NULL || t == sentinel) abort();
    void *buf = NULL;
    size_t blen = 0;
    st = ovica_checkpoint_save_buffer(t, &buf, &blen);
    if (st == OVICA_OK) {
        ovica_trainer *t2 = NULL;
        st = ovica_checkpoint_load_buffer(&t2, buf, blen);
        if (st == OVICA_OK && !same_model(ovica_trainer_model(t), ovica_trainer_model(t2)))
            abort();
        ovica_trainer_free(t2);
    }
    if (st != OVICA_OK && st != OVICA_ENOMEM) abort();
    ovica_free(buf);
    ovica_trainer_free(t);
}

int FUZZ_ENTRY(const uint8_t *data, size_t size);

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    static const uint8_t empty[1] = {0};
    if (size == 0) return 0;
    const uint8_t *in = data + 1;
    size_t len = size - 1;
    uint8_t *img = NULL;
    if (data[0] & 1) {
        /* envelope around the fuzzer's sections */
        size_t total = 24 + len + 8;
        img = malloc(total);
        if (img == NULL) return 0;
        static const uint8_t magic[8] = {0x89, 'O', 'V', 'I', 'C', 'A', '\r', '\n'};
        memcpy(img, magic, 8);
        fz_put_le(img + 8, (data[0] & 2) ? (uint64_t)(data[0] >> 2) : 1u, 4);
        fz_put_le(img + 12, 100, 4);
        fz_put_le(img + 16, total, 8);
        if (len) memcpy(img + 24, in, len);
        fz_put_le(img + 24 + len, fz_crc64(img, 24 + len), 8);
        in = img;
        len = total;
    }
    fz_checkpoint(in, len);
    ovica_model *sentinel = (ovica_model *)(uintptr_t)0x1, *md = sentinel;
    ovica_error_clear();
    int st = ovica_model_load_buffer(&md, len ? (const void *)in : (const void *)empty, len);
    if (st != OVICA_OK) {
        if (md != sentinel) abort();
        /* only the documented statuses (ovica/modelio.h): a basis whose
         * squared norm overflows (tests/corpus/model/crash-basis-norm-overflow)
         * or a sigma the model refuses is EFORMAT */
        if (st != OVICA_EFORMAT && st != OVICA_EVERSION && st != OVICA_ENOMEM) abort();
        if (ovica_error_message()[0] == '\0') abort();
        free(img);
        return 0;
    }
    if (md == NULL || md == sentinel) abort();
    size_t m = ovica_model_dim(md), n = ovica_model_atoms(md);
    double sigma = ovica_model_sigma(md), b = 0.0;
    if (m == 0 || n == 0 || !(sigma > 0.0) || !isfinite(sigma)) abort();
    if (ovica_prior_scale(ovica_model_prior(md), &b) != OVICA_OK || !(b > 0.0) || !isfinite(b))
        abort();
    const double *A = ovica_model_basis(md);
    for (size_t i = 0; i < m * n; i++)
        if (!isfinite(A[i])) abort();
    /* round trip */
    void *buf = NULL, *buf2 = NULL;
    size_t blen = 0, blen2 = 0;
    ovica_model *md2 = NULL;
    st = ovica_model_save_buffer(md, &buf, &blen);
    if (st == OVICA_OK) {
        st = ovica_model_load_buffer(&md2, buf, blen);
        if (st == OVICA_OK) {
            if (!same_model(md, md2)) abort();
            st = ovica_model_save_buffer(md2, &buf2, &blen2);
            if (st == OVICA_OK && (blen != blen2 || memcmp(buf, buf2, blen) != 0)) abort();
        }
    }
    if (st != OVICA_OK && st != OVICA_ENOMEM) abort();
    ovica_free(buf);
    ovica_free(buf2);
    ovica_model_free(md2);
    ovica_model_free(md);
    free(img);
    return 0;
}

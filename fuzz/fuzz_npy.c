/* libFuzzer target: the .npy parser on a memory buffer
 * (ovica_npy_read_buffer). Every byte sequence must give a defined status;
 * on success the array must have the shape it claims (never more values
 * than the buffer holds) and be fully readable; on failure the
 * out-parameters must be cleared and a message set. Any violation
 * aborts (a crash for libFuzzer). Built by `make fuzz`; its seeds are in
 * tests/corpus/npy/ and are replayed by tests/check_corpus.c. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ovica.h"

#ifndef FUZZ_ENTRY
#define FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif

int FUZZ_ENTRY(const uint8_t *data, size_t size);

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    static const uint8_t empty[1] = {0};
    double *a = (double *)1;
    size_t rows = 7, cols = 7;
    ovica_error_clear();
    int st = ovica_npy_read_buffer(size ? (const void *)data : (const void *)empty, size, &a,
                                   &rows, &cols);
    if (st != OVICA_OK) {
        if (a != NULL || rows != 0 || cols != 0) abort();
        if (st != OVICA_EFORMAT && st != OVICA_EVERSION && st != OVICA_ENOMEM &&
            st != OVICA_EINVAL)
            abort();
        if (ovica_error_message()[0] == '\0') abort();
        return 0;
    }
    if (a == NULL || rows == 0 || cols == 0) abort();
    /* the data take up size bytes at most: 4 bytes per value or more */
    if (rows > size / 4 || cols > size / 4 || rows * cols > size / 4) abort();
    /* touch every value (ASan checks the bounds); NaN/Inf are allowed */
    volatile double sink = 0.0;
    for (size_t i = 0; i < rows * cols; i++) sink += a[i] == a[i] ? 0.0 : 1.0;
    (void)sink;
    ovica_free(a);
    return 0;
}

/*
 * Internal pieces of the model file format (src/modelio.c), shared with the
 * checkpoint code that adds the training-state section. Not exported.
 */
#ifndef OVICA_MODELIO_INTERNAL_H
#define OVICA_MODELIO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ovica/model.h"

/* CRC-64/XZ of len bytes. */
uint64_t ovica__crc64(const void *data, size_t len);

/* A growing byte buffer; `oom` is set (and further writes ignored) when an
 * allocation fails, so that writers check once at the end. */
typedef struct {
    unsigned char *p;
    size_t len, cap;
    int oom;
} ovica__wbuf;

void ovica__wb_bytes(ovica__wbuf *w, const void *p, size_t n);
void ovica__wb_u32(ovica__wbuf *w, uint32_t v);
void ovica__wb_u64(ovica__wbuf *w, uint64_t v);
void ovica__wb_f64(ovica__wbuf *w, double x);
void ovica__wb_f64s(ovica__wbuf *w, const double *x, size_t count);
/* Starts a section (tag + placeholder length); returns where the length goes. */
size_t ovica__wb_section_begin(ovica__wbuf *w, const char tag[4]);
void ovica__wb_section_end(ovica__wbuf *w, size_t at);
void ovica__wb_header(ovica__wbuf *w);
/* Writes the 'MODL' section of a model (ovica__model_check_savable first). */
void ovica__wb_model(ovica__wbuf *w, const ovica_model *model);
/* Patches the length, appends the checksum; on OVICA_ENOMEM frees w->p. */
int ovica__wb_finish(ovica__wbuf *w);
/* OVICA_ENOTSUP for a user prior. */
int ovica__model_check_savable(const ovica_model *model);

/* A bounds-checked reader over one section's payload. */
typedef struct {
    const unsigned char *p;
    size_t len, pos;
    size_t base;         /* file offset of p[0], for messages */
    const char *origin;  /* "model file '...'" or "model buffer" */
    const char *section; /* "section 'MODL'" */
} ovica__rbuf;

int ovica__rb_take(ovica__rbuf *r, size_t n, const unsigned char **p, const char *what);
int ovica__rb_u32(ovica__rbuf *r, uint32_t *v, const char *what);
int ovica__rb_u64(ovica__rbuf *r, uint64_t *v, const char *what);
int ovica__rb_f64(ovica__rbuf *r, double *v, const char *what);
int ovica__rb_end(const ovica__rbuf *r);
void ovica__decode_f64s(const unsigned char *p, double *out, size_t count);

/* A validated file image: envelope checked, sections located. */
typedef struct {
    uint32_t writer;   /* OVICA_VERSION_NUMBER of the writer */
    ovica__rbuf modl;  /* always present after a successful parse */
    ovica__rbuf trst;  /* trst.p == NULL when absent */
} ovica__image;

int ovica__parse_image(const unsigned char *buf, size_t len, const char *origin,
                       ovica__image *img);
/* Builds the model of a parsed image; *out untouched on failure. */
int ovica__decode_model(const ovica__image *img, ovica_model **out);

/* "<kind> '<path>'", keeping the end of long paths. */
void ovica__origin_of_path(char *dst, size_t n, const char *kind, const char *path);
/* Atomic write of a finished image; messages name "<kind> '<path>'". */
int ovica__save_image(const char *path, const char *kind, const void *buf, size_t len);
/* Reads a whole file; origin receives "<kind> '<path>'". */
int ovica__load_image(const char *path, const char *kind, unsigned char **buf, size_t *len,
                      char *origin, size_t origin_cap);

#endif /* OVICA_MODELIO_INTERNAL_H */

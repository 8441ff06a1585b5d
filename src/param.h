/* One parameter mechanism for the solver, the sampler and the trainer: a
 * table of {name, lo, hi, default, kind} per object (kept in its source,
 * its length tied to its enum by a static assertion) and the helpers that
 * set, read, bound, count, name and find parameters through it, with the
 * same checks and messages everywhere. Not exported. */
#ifndef OVICA_PARAM_H
#define OVICA_PARAM_H

#include "internal.h"

enum {
    OVICA__PARAM_DOUBLE, /* any value in the bounds */
    OVICA__PARAM_INT,    /* rounded to the nearest integer, then bounded */
    OVICA__PARAM_BOOL    /* rounded, 0 or 1 (bounds [0, 1]) */
};

typedef struct {
    const char *name;    /* unique in its table */
    double lo, hi, def;
    int kind;            /* OVICA__PARAM_* */
    int open_lo;         /* lo itself excluded */
} ovica__param;

typedef struct {
    const char *what;    /* "solver", "sampler", "trainer": for messages */
    const ovica__param *info;
    int count;
} ovica__param_table;

/* Every parameter's default into values (count doubles). */
void ovica__param_defaults(const ovica__param_table *tb, double *values);
/* OVICA_OK, or OVICA_EINVAL ("unknown <what> parameter <id>") out of range. */
int ovica__param_check(const ovica__param_table *tb, int param);
/* Checks value (finite; rounded for INT and BOOL; in the bounds) and stores
 * it in values[param]; on error the previous value is kept. */
int ovica__param_set(const ovica__param_table *tb, double *values, int param, double value);
/* (the callers check their own pointer arguments, so that messages name
 * the public function) */
int ovica__param_get(const ovica__param_table *tb, const double *values, int param,
                     double *out);
int ovica__param_bounds(const ovica__param_table *tb, int param, double *lo, double *hi);
/* The name of a parameter; NULL (OVICA_EINVAL recorded) out of range. */
const char *ovica__param_name(const ovica__param_table *tb, int param);
/* The id of the parameter named `name` into *out; OVICA_EINVAL (listing the
 * known names) for NULL or an unknown name, *out untouched. */
int ovica__param_find(const ovica__param_table *tb, const char *name, int *out);

#endif /* OVICA_PARAM_H */

/*
 * A small SVG writer for the `ovica` program's pictures: 2-D scatters of data
 * with atoms as arrows, grids of atoms (grey images or bar plots) and
 * training curves. Plain SVG 1.1 with no scripts, no external resources and
 * no dependency; every text is XML-escaped.
 *
 * Layout conventions: matrices are row-major as in libovica (X is N x m, a
 * basis is m x n with atom i in column i).
 */
#ifndef OVICA_CLI_SVG_H
#define OVICA_CLI_SVG_H

#include <stddef.h>
#include <stdio.h>

/* A rectangle of the document, in SVG user units (pixels). */
typedef struct {
    double x, y, w, h;
} svg_box;

/* Starts a document of w x h pixels (white background, a default font). */
void svg_begin(FILE *f, double w, double h);
/* Ends the document. */
void svg_end(FILE *f);
/* Writes `text` escaped for XML character data or attribute values. */
void svg_escape(FILE *f, const char *text);
/* Text at (x, y); anchor "start", "middle" or "end". */
void svg_text(FILE *f, double x, double y, double size, const char *anchor, const char *fill,
              const char *text);

/*
 * Panel: scatter of 2-D data (a subsample of at most max_points rows, taken
 * at a regular stride) with atoms drawn as arrows from the origin, all of the
 * same length (they show directions), the learned ones in red, the true
 * ones dashed in black over them, numbered; a legend. X (N x 2), A_true (2 x n_true)
 * and A_learned (2 x n_learned) may each be NULL. When match is given (n_true
 * entries: the learned atom matched to each true atom, SIZE_MAX if none),
 * learned atoms are numbered after the true atom they match.
 */
void svg_panel_scatter2d(FILE *f, svg_box box, const char *title, const double *X, size_t N,
                         size_t max_points, const double *A_true, size_t n_true,
                         const double *A_learned, size_t n_learned, const size_t *match);

/*
 * Panel: the atoms of an m x n basis as a grid of small pictures: a
 * sqrt(m) x sqrt(m) grey image per atom when m is a perfect square (mid grey
 * 0, white the atom's largest positive entry, black minus its largest
 * magnitude), else a bar plot of its m entries. order (n entries, may be
 * NULL) gives the atom drawn in each cell; cells showing SIZE_MAX stay empty.
 * At most 400 atoms are drawn.
 */
void svg_panel_atoms(FILE *f, svg_box box, const char *title, const double *A, size_t m,
                     size_t n, const size_t *order);

/* One curve: n points (x[i], y[i]); points with a non-finite coordinate are
 * skipped (the line joins their neighbours). */
typedef struct {
    const char *name;
    const double *x, *y;
    size_t n;
    const char *color;
} svg_series;

/* Panel: curves on common axes with nice ticks, axis labels and a legend;
 * logy: a logarithmic y axis (values <= 0 are skipped). */
void svg_panel_curves(FILE *f, svg_box box, const char *title, const char *xlabel,
                      const char *ylabel, const svg_series *series, size_t count, int logy);

#endif /* OVICA_CLI_SVG_H */

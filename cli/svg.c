/* SVG pictures for the ovica program (see svg.h). */
#include "svg.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FONT "DejaVu Sans, Helvetica, Arial, sans-serif"
#define C_DATA "#4a7ebb"
#define C_TRUE "#222222"
#define C_LEARN "#d62728"
#define C_AXIS "#999999"
#define C_GRID "#e6e6e6"

void svg_begin(FILE *f, double w, double h)
{
    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%.0f\" "
            "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" font-family=\"%s\">\n"
            "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#ffffff\"/>\n",
            w, h, w, h, FONT, w, h);
}

void svg_end(FILE *f) { fputs("</svg>\n", f); }

void svg_escape(FILE *f, const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        switch (*p) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        default:
            /* control characters are not allowed in XML 1.0 */
            if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') fputc('?', f);
            else fputc(*p, f);
        }
    }
}

void svg_text(FILE *f, double x, double y, double size, const char *anchor, const char *fill,
              const char *text)
{
    fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" font-size=\"%.1f\" text-anchor=\"%s\" fill=\"%s\">",
            x, y, size, anchor, fill);
    svg_escape(f, text);
    fputs("</text>\n", f);
}

static void line(FILE *f, double x1, double y1, double x2, double y2, const char *stroke,
                 double width, const char *extra)
{
    fprintf(f,
            "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" "
            "stroke-width=\"%.2f\"%s/>\n",
            x1, y1, x2, y2, stroke, width, extra ? extra : "");
}

/* An arrow from (x1, y1) to (x2, y2): a filled head, or (dashed) an open
 * one, so that a dashed arrow drawn over a solid one leaves both visible. */
static void arrow(FILE *f, double x1, double y1, double x2, double y2, const char *color,
                  double width, int dashed)
{
    double dx = x2 - x1, dy = y2 - y1, len = hypot(dx, dy);
    if (!(len > 0)) return;
    double ux = dx / len, uy = dy / len, head = dashed ? 14 : 15, half = 0.45 * head;
    double bx = x2 - ux * head, by = y2 - uy * head; /* base of the head */
    line(f, x1, y1, dashed ? x2 - ux * 2 : bx, dashed ? y2 - uy * 2 : by, color, width,
         dashed ? " stroke-dasharray=\"7,4\" stroke-linecap=\"butt\"" : " stroke-linecap=\"round\"");
    if (dashed)
        fprintf(f,
                "<polyline points=\"%.2f,%.2f %.2f,%.2f %.2f,%.2f\" fill=\"none\" stroke=\"%s\" "
                "stroke-width=\"%.2f\" stroke-linejoin=\"miter\"/>\n",
                bx - uy * half, by + ux * half, x2, y2, bx + uy * half, by - ux * half, color, width);
    else
        fprintf(f, "<polygon points=\"%.2f,%.2f %.2f,%.2f %.2f,%.2f\" fill=\"%s\"/>\n", x2, y2,
                bx - uy * half, by + ux * half, bx + uy * half, by - ux * half, color);
}

/* A "nice" tick step for a range: 1, 2 or 5 times a power of ten. */
static double nice_step(double range, int target)
{
    if (!(range > 0) || !isfinite(range)) return 1.0;
    double raw = range / target, p = pow(10.0, floor(log10(raw))), r = raw / p;
    double m = r < 1.5 ? 1 : r < 3.5 ? 2 : r < 7.5 ? 5 : 10;
    return m * p;
}

static void fmt_num(char *buf, size_t n, double v, double step)
{
    if (fabs(v) < 1e-9 * step) v = 0.0;
    int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    if (fabs(v) >= 1e5 || (fabs(v) > 0 && fabs(v) < 1e-4)) snprintf(buf, n, "%.3g", v);
    else snprintf(buf, n, "%.*f", dec > 6 ? 6 : dec, v);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void title_of(FILE *f, svg_box box, const char *title)
{
    if (title && title[0]) svg_text(f, box.x + box.w / 2, box.y + 18, 15, "middle", "#000000", title);
}

/* A framed plotting area with ticks; maps data (x, y) to pixels. With logy
 * the y range is in log10 units and the data are mapped through log10. */
typedef struct {
    double px, py, pw, ph;   /* pixel rectangle */
    double x0, x1, y0, y1;   /* data ranges */
    int logy;
} frame;

static double fx(const frame *fr, double x) { return fr->px + (x - fr->x0) / (fr->x1 - fr->x0) * fr->pw; }
static double fy(const frame *fr, double y)
{
    if (fr->logy) y = log10(y);
    return fr->py + fr->ph - (y - fr->y0) / (fr->y1 - fr->y0) * fr->ph;
}

static void draw_frame(FILE *f, const frame *fr, const char *xlabel, const char *ylabel, int zero_axes)
{
    double sx = nice_step(fr->x1 - fr->x0, 6), sy = nice_step(fr->y1 - fr->y0, 6);
    char buf[64];
    size_t widest = 1;
    fprintf(f, "<g>\n");
    for (double t = ceil(fr->x0 / sx) * sx; t <= fr->x1 + 1e-9 * sx; t += sx) {
        double X = fx(fr, t);
        line(f, X, fr->py, X, fr->py + fr->ph, C_GRID, 1, NULL);
        fmt_num(buf, sizeof buf, t, sx);
        svg_text(f, X, fr->py + fr->ph + 15, 11, "middle", "#444444", buf);
    }
    if (fr->logy) {
        /* decades, and 2 and 5 times them when the range is short */
        double span = fr->y1 - fr->y0;
        static const double mult[3] = {1, 2, 5};
        int nm = span < 2.5 ? 3 : 1;
        int stride = span > 12 ? (int)ceil(span / 6) : 1;
        for (int k = (int)floor(fr->y0); k <= (int)ceil(fr->y1); k++) {
            if (((k % stride) + stride) % stride != 0) continue;
            for (int q = 0; q < nm; q++) {
                double v = mult[q] * pow(10.0, k), lv = log10(v);
                if (lv < fr->y0 - 1e-9 || lv > fr->y1 + 1e-9) continue;
                double Y = fr->py + fr->ph - (lv - fr->y0) / span * fr->ph;
                line(f, fr->px, Y, fr->px + fr->pw, Y, C_GRID, 1, NULL);
                snprintf(buf, sizeof buf, "%g", v);
                if (strlen(buf) > widest) widest = strlen(buf);
                svg_text(f, fr->px - 5, Y + 4, 11, "end", "#444444", buf);
            }
        }
    } else {
        for (double t = ceil(fr->y0 / sy) * sy; t <= fr->y1 + 1e-9 * sy; t += sy) {
            double Y = fy(fr, t);
            line(f, fr->px, Y, fr->px + fr->pw, Y, C_GRID, 1, NULL);
            fmt_num(buf, sizeof buf, t, sy);
            if (strlen(buf) > widest) widest = strlen(buf);
            svg_text(f, fr->px - 5, Y + 4, 11, "end", "#444444", buf);
        }
    }
    if (zero_axes) {
        if (fr->x0 < 0 && fr->x1 > 0) line(f, fx(fr, 0), fr->py, fx(fr, 0), fr->py + fr->ph, C_AXIS, 1, NULL);
        if (fr->y0 < 0 && fr->y1 > 0) line(f, fr->px, fy(fr, 0), fr->px + fr->pw, fy(fr, 0), C_AXIS, 1, NULL);
    }
    fprintf(f,
            "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"none\" "
            "stroke=\"#555555\" stroke-width=\"1\"/>\n</g>\n",
            fr->px, fr->py, fr->pw, fr->ph);
    if (xlabel && xlabel[0])
        svg_text(f, fr->px + fr->pw / 2, fr->py + fr->ph + 34, 12, "middle", "#000000", xlabel);
    if (ylabel && ylabel[0]) {
        double X = fr->px - 5 - 6.5 * (double)widest - 12, Y = fr->py + fr->ph / 2;
        fprintf(f,
                "<text x=\"%.2f\" y=\"%.2f\" font-size=\"12\" text-anchor=\"middle\" "
                "fill=\"#000000\" transform=\"rotate(-90 %.2f %.2f)\">",
                X, Y, X, Y);
        svg_escape(f, ylabel);
        fputs("</text>\n", f);
    }
}

/* Legend entries: kind 0 dot, 1 solid line, 2 dashed line. */
typedef struct {
    int kind;
    const char *color;
    const char *label;
} legend_item;

static void legend(FILE *f, double x, double y, const legend_item *it, size_t n)
{
    double w = 0;
    for (size_t i = 0; i < n; i++) {
        double lw = 6.5 * (double)strlen(it[i].label) + 34;
        if (lw > w) w = lw;
    }
    fprintf(f,
            "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"#ffffff\" "
            "fill-opacity=\"0.85\" stroke=\"#bbbbbb\"/>\n",
            x, y, w, 18.0 * (double)n + 8);
    for (size_t i = 0; i < n; i++) {
        double cy = y + 13 + 18.0 * (double)i;
        if (it[i].kind == 0)
            fprintf(f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"3\" fill=\"%s\"/>\n", x + 14, cy,
                    it[i].color);
        else
            line(f, x + 5, cy, x + 24, cy, it[i].color, 2.5,
                 it[i].kind == 2 ? " stroke-dasharray=\"5,3\"" : NULL);
        svg_text(f, x + 30, cy + 4, 11, "start", "#000000", it[i].label);
    }
}

/* The scatter's extent: the 99th percentile of the radius of the points
 * drawn (every stride-th of N, so that at most max_points are), so that a
 * few outliers do not shrink the picture; the frame is set to 1.1 times it.
 * *shown receives the number of points drawn. */
static size_t scatter_extent(frame *fr, const double *X, size_t N, size_t max_points,
                             size_t *shown)
{
    if (max_points == 0) max_points = 1;
    size_t stride = (N + max_points - 1) / max_points;
    *shown = (N + stride - 1) / stride;
    double *r = malloc(*shown * sizeof *r);
    double R = 1.0;
    if (r != NULL) {
        size_t k = 0;
        for (size_t i = 0; i < N; i += stride) {
            double v = hypot(X[2 * i], X[2 * i + 1]);
            if (isfinite(v)) r[k++] = v;
        }
        if (k > 0) {
            qsort(r, k, sizeof *r, cmp_double);
            R = r[(size_t)(0.99 * (double)(k - 1))];
        }
        free(r);
    }
    if (!(R > 0) || !isfinite(R)) R = 1.0;
    fr->x0 = fr->y0 = -1.1 * R;
    fr->x1 = fr->y1 = 1.1 * R;
    return stride;
}

/* Every stride-th point of X, clipped to the frame. */
static void scatter_points(FILE *f, svg_box box, const frame *fr, const double *X, size_t N,
                           size_t stride)
{
    fprintf(f,
            "<clipPath id=\"clip%.0f_%.0f\"><rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" "
            "height=\"%.2f\"/></clipPath>\n",
            box.x, box.y, fr->px, fr->py, fr->pw, fr->ph);
    if (X == NULL) return;
    fprintf(f, "<g clip-path=\"url(#clip%.0f_%.0f)\" fill=\"%s\" fill-opacity=\"0.35\">\n",
            box.x, box.y, C_DATA);
    for (size_t i = 0; i < N; i += stride) {
        double a = X[2 * i], b = X[2 * i + 1];
        if (!isfinite(a) || !isfinite(b)) continue;
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"1.4\"/>\n", fx(fr, a), fy(fr, b));
    }
    fputs("</g>\n", f);
}

/* The atoms of A (2 x n) as arrows of length L from the origin, labelled
 * beyond the tip: the true atoms' "tJ" on one side of the arrow, the learned
 * atoms' number (that of their true match, when match is given) on the
 * other. */
static void scatter_atoms(FILE *f, const frame *fr, double L, const double *A, size_t n,
                          int is_true, const size_t *match, size_t n_true)
{
    double ox = fx(fr, 0), oy = fy(fr, 0);
    char lab[32];
    for (size_t i = 0; i < n; i++) {
        double a = A[i], b = A[n + i], nn = hypot(a, b);
        if (!(nn > 0) || !isfinite(nn)) continue;
        double ux = a / nn, uy = -b / nn; /* pixel direction */
        double ex = fx(fr, L * a / nn), ey = fy(fr, L * b / nn);
        arrow(f, ox, oy, ex, ey, is_true ? C_TRUE : C_LEARN, is_true ? 1.6 : 3.0, is_true);
        double side = is_true ? 1 : -1;
        double lx = ex + 14 * ux - side * 11 * uy, ly = ey + 14 * uy + side * 11 * ux + 4;
        if (is_true) {
            snprintf(lab, sizeof lab, "t%zu", i + 1);
        } else {
            size_t num = i + 1;
            if (match != NULL)
                for (size_t j = 0; j < n_true; j++)
                    if (match[j] == i) num = j + 1;
            snprintf(lab, sizeof lab, "%zu", num);
        }
        svg_text(f, lx, ly, 13, "middle", is_true ? C_TRUE : C_LEARN, lab);
    }
}

void svg_panel_scatter2d(FILE *f, svg_box box, const char *title, const double *X, size_t N,
                         size_t max_points, const double *A_true, size_t n_true,
                         const double *A_learned, size_t n_learned, const size_t *match)
{
    title_of(f, box, title);
    /* Square plotting area centred in the box. */
    double side = fmin(box.w - 90, box.h - 70);
    if (side < 50) side = 50;
    frame fr = {box.x + 70 + (box.w - 90 - side) / 2, box.y + 30, side, side, -1, 1, -1, 1, 0};
    size_t stride = 1, shown = 0;
    if (X != NULL && N > 0) stride = scatter_extent(&fr, X, N, max_points, &shown);
    draw_frame(f, &fr, "x1", "x2", 1);
    double R = fr.x1 / 1.1;
    scatter_points(f, box, &fr, X, N, stride);
    /* Atoms: unit directions scaled to 0.85 R; the learned ones first (under
     * the dashed true ones). */
    if (A_learned != NULL) scatter_atoms(f, &fr, 0.85 * R, A_learned, n_learned, 0, match, n_true);
    if (A_true != NULL) scatter_atoms(f, &fr, 0.85 * R, A_true, n_true, 1, NULL, n_true);

    legend_item items[3];
    size_t ni = 0;
    char dl[96], tl[64], ll[64];
    if (X != NULL) {
        if (shown < N) snprintf(dl, sizeof dl, "data (%zu of %zu points)", shown, N);
        else snprintf(dl, sizeof dl, "data (%zu points)", N);
        items[ni++] = (legend_item){0, C_DATA, dl};
    }
    if (A_true != NULL) {
        snprintf(tl, sizeof tl, "true atoms (%zu)", n_true);
        items[ni++] = (legend_item){2, C_TRUE, tl};
    }
    if (A_learned != NULL) {
        snprintf(ll, sizeof ll, "learned atoms (%zu)", n_learned);
        items[ni++] = (legend_item){1, C_LEARN, ll};
    }
    if (ni > 0) legend(f, fr.px + 6, fr.py + 6, items, ni);
}

void svg_panel_atoms(FILE *f, svg_box box, const char *title, const double *A, size_t m,
                     size_t n, const size_t *order)
{
    title_of(f, box, title);
    if (A == NULL || m == 0 || n == 0) return;
    size_t shown = n > 400 ? 400 : n;
    size_t cols = (size_t)ceil(sqrt((double)shown)), rows = (shown + cols - 1) / cols;
    double top = box.y + 30, avail_w = box.w - 20, avail_h = box.h - 40;
    double cell = fmin(avail_w / (double)cols, avail_h / (double)rows);
    double gap = cell * 0.08 + 4, inner = cell - gap;
    double x0 = box.x + 10 + (avail_w - cell * (double)cols) / 2;
    size_t p = (size_t)llround(sqrt((double)m));
    int image = p * p == m;
    for (size_t c = 0; c < shown; c++) {
        size_t a = order ? order[c] : c;
        double cx = x0 + (double)(c % cols) * cell, cy = top + 4 + (double)(c / cols) * cell;
        fprintf(f,
                "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"#f4f4f4\" "
                "stroke=\"#cccccc\" stroke-width=\"0.5\"/>\n",
                cx, cy, inner, inner);
        if (a >= n) continue;
        if (inner >= 36) { /* the atom's number, above the cell's top-left corner */
            char num[24];
            snprintf(num, sizeof num, "%zu", a + 1);
            fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" font-size=\"9\" fill=\"#777777\">%s</text>\n",
                    cx + 1, cy - 1.5, num);
        }
        double mx = 0;
        for (size_t r = 0; r < m; r++) mx = fmax(mx, fabs(A[r * n + a]));
        if (!(mx > 0) || !isfinite(mx)) continue;
        if (image) {
            double px = inner / (double)p;
            fputs("<g shape-rendering=\"crispEdges\">\n", f);
            for (size_t r = 0; r < m; r++) {
                double v = A[r * n + a] / mx;
                int g = (int)lround(127.5 + 127.5 * (isfinite(v) ? v : 0));
                if (g < 0) g = 0;
                if (g > 255) g = 255;
                fprintf(f,
                        "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
                        "fill=\"#%02x%02x%02x\"/>\n",
                        cx + (double)(r % p) * px, cy + (double)(r / p) * px, px + 0.05,
                        px + 0.05, g, g, g);
            }
            fputs("</g>\n", f);
        } else {
            double bw = inner / (double)m, mid = cy + inner / 2;
            line(f, cx, mid, cx + inner, mid, C_AXIS, 0.5, NULL);
            for (size_t r = 0; r < m; r++) {
                double v = A[r * n + a] / mx;
                if (!isfinite(v)) continue;
                double h = fabs(v) * (inner / 2 - 1);
                fprintf(f,
                        "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
                        "fill=\"%s\"/>\n",
                        cx + (double)r * bw + 0.1 * bw, v >= 0 ? mid - h : mid, 0.8 * bw, h,
                        v >= 0 ? C_DATA : C_LEARN);
            }
        }
    }
    if (shown < n) {
        char buf[64];
        snprintf(buf, sizeof buf, "(first %zu of %zu atoms)", shown, n);
        svg_text(f, box.x + box.w / 2, box.y + box.h - 4, 11, "middle", "#444444", buf);
    }
}

void svg_panel_curves(FILE *f, svg_box box, const char *title, const char *xlabel,
                      const char *ylabel, const svg_series *series, size_t count, int logy)
{
    title_of(f, box, title);
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (size_t s = 0; s < count; s++)
        for (size_t i = 0; i < series[s].n; i++) {
            double x = series[s].x[i], y = series[s].y[i];
            if (logy) y = y > 0 ? log10(y) : NAN;
            if (!isfinite(x) || !isfinite(y)) continue;
            x0 = fmin(x0, x);
            x1 = fmax(x1, x);
            y0 = fmin(y0, y);
            y1 = fmax(y1, y);
        }
    if (!(x0 <= x1)) { x0 = 0; x1 = 1; y0 = 0; y1 = 1; }
    if (x1 == x0) { x0 -= 0.5; x1 += 0.5; }
    if (y1 == y0) {
        double d = logy ? 0.5 : 0.5 * (fabs(y0) + 1);
        y0 -= d;
        y1 += d;
    }
    double pad = 0.05 * (y1 - y0);
    frame fr = {box.x + 85, box.y + 30, box.w - 105, box.h - 75, x0, x1, y0 - pad, y1 + pad, logy};
    if (fr.pw < 20) fr.pw = 20;
    if (fr.ph < 20) fr.ph = 20;
    draw_frame(f, &fr, xlabel, ylabel, 0);
    legend_item items[8];
    size_t ni = 0;
    for (size_t s = 0; s < count; s++) {
        const svg_series *se = &series[s];
        size_t k = 0;
        for (size_t i = 0; i < se->n; i++) {
            double x = se->x[i], y = se->y[i];
            if (!isfinite(x) || !isfinite(y) || (logy && !(y > 0))) continue; /* skipped */
            if (k == 0)
                fprintf(f,
                        "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.8\" "
                        "stroke-linejoin=\"round\" points=\"",
                        se->color);
            fprintf(f, "%s%.2f,%.2f", k == 0 ? "" : k % 8 == 0 ? "\n" : " ", fx(&fr, x), fy(&fr, y));
            k++;
        }
        if (k > 0) fputs("\"/>\n", f);
        if (k == 1) { /* a single point shows as a dot */
            for (size_t i = 0; i < se->n; i++)
                if (isfinite(se->x[i]) && isfinite(se->y[i]) && (!logy || se->y[i] > 0))
                    fprintf(f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"2.5\" fill=\"%s\"/>\n",
                            fx(&fr, se->x[i]), fy(&fr, se->y[i]), se->color);
        }
        if (ni < 8 && se->name) items[ni++] = (legend_item){1, se->color, se->name};
    }
    if (ni > 0) {
        double w = 0;
        for (size_t i = 0; i < ni; i++) w = fmax(w, 6.5 * (double)strlen(items[i].label) + 34);
        legend(f, fr.px + fr.pw - w - 6, fr.py + 6, items, ni);
    }
}

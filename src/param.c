/* The parameter tables' helpers (src/param.h). */
#include <math.h>
#include <string.h>

#include "param.h"

void ovica__param_defaults(const ovica__param_table *tb, double *values)
{
    for (int i = 0; i < tb->count; i++) values[i] = tb->info[i].def;
}

int ovica__param_check(const ovica__param_table *tb, int param)
{
    if (param < 0 || param >= tb->count)
        return ovica__error(OVICA_EINVAL, "unknown %s parameter %d", tb->what, param);
    return OVICA_OK;
}

int ovica__param_set(const ovica__param_table *tb, double *values, int param, double value)
{
    int st = ovica__param_check(tb, param);
    if (st) return st;
    const ovica__param *p = &tb->info[param];
    if (!isfinite(value))
        return ovica__error(OVICA_ENONFINITE, "%s parameter %s: value is %g", tb->what, p->name,
                            value);
    if (p->kind != OVICA__PARAM_DOUBLE) value = floor(value + 0.5);
    if (value < p->lo || value > p->hi || (p->open_lo && value <= p->lo))
        return ovica__error(OVICA_EINVAL, "%s parameter %s must lie in %s%g, %g] (got %g)",
                            tb->what, p->name, p->open_lo ? "(" : "[", p->lo, p->hi, value);
    values[param] = value;
    return OVICA_OK;
}

int ovica__param_get(const ovica__param_table *tb, const double *values, int param,
                     double *out)
{
    int st = ovica__param_check(tb, param);
    if (st) return st;
    *out = values[param];
    return OVICA_OK;
}

int ovica__param_bounds(const ovica__param_table *tb, int param, double *lo, double *hi)
{
    int st = ovica__param_check(tb, param);
    if (st) return st;
    *lo = tb->info[param].lo;
    *hi = tb->info[param].hi;
    return OVICA_OK;
}

const char *ovica__param_name(const ovica__param_table *tb, int param)
{
    if (ovica__param_check(tb, param) != OVICA_OK) return NULL;
    return tb->info[param].name;
}

int ovica__param_find(const ovica__param_table *tb, const char *name, int *out)
{
    if (name == NULL)
        return ovica__error(OVICA_EINVAL, "ovica_%s_param_find: name is NULL", tb->what);
    if (out == NULL)
        return ovica__error(OVICA_EINVAL, "ovica_%s_param_find: out is NULL", tb->what);
    for (int i = 0; i < tb->count; i++)
        if (strcmp(tb->info[i].name, name) == 0) {
            *out = i;
            return OVICA_OK;
        }
    char known[512] = "";
    for (int i = 0; i < tb->count; i++) ovica__append_name(known, sizeof known, tb->info[i].name);
    return ovica__error(OVICA_EINVAL, "unknown %s parameter '%s' (known: %s)", tb->what, name,
                        known);
}

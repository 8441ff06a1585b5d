/* Strict parsing of numbers and options (see args.h). */
#include "args.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t errlen, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Copies at most 40 characters of s for messages, marking a cut. */
static const char *clip(const char *s, char buf[48])
{
    size_t n = strlen(s);
    if (n <= 40) return s;
    memcpy(buf, s, 37);
    memcpy(buf + 37, "...", 4);
    return buf;
}

static int is_blank(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

int cli_parse_double(const char *s, double lo, double hi, int flags, double *out, char *err,
                     size_t errlen)
{
    char cb[48];
    if (s == NULL || s[0] == '\0') return fail(err, errlen, "missing number");
    if (is_blank((unsigned char)s[0]))
        return fail(err, errlen, "'%s' is not a number (leading blank)", clip(s, cb));
    errno = 0;
    char *end = NULL;
    double v = strtod(s, &end);
    int e = errno;
    if (end == s) return fail(err, errlen, "'%s' is not a number", clip(s, cb));
    if (*end != '\0')
        return fail(err, errlen, "'%s' is not a number (unexpected '%c')", clip(s, cb), *end);
    if (isnan(v)) return fail(err, errlen, "'%s': NaN is not allowed", clip(s, cb));
    if (isinf(v) || (e == ERANGE && fabs(v) > 1.0))
        return fail(err, errlen, "'%s' is out of range (overflow)", clip(s, cb));
    if (e == ERANGE)
        return fail(err, errlen, "'%s' is out of range (underflow)", clip(s, cb));
    int lo_ok = (flags & CLI_LO_OPEN) ? v > lo : v >= lo;
    int hi_ok = (flags & CLI_HI_OPEN) ? v < hi : v <= hi;
    if (!lo_ok || !hi_ok)
        return fail(err, errlen, "%s must lie in %s%g, %g%s", clip(s, cb),
                    (flags & CLI_LO_OPEN) ? "(" : "[", lo, hi, (flags & CLI_HI_OPEN) ? ")" : "]");
    *out = v;
    return 0;
}

int cli_parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out, char *err,
                  size_t errlen)
{
    char cb[48];
    if (s == NULL || s[0] == '\0') return fail(err, errlen, "missing integer");
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9')
            return fail(err, errlen, "'%s' is not a non-negative integer (unexpected '%c')",
                        clip(s, cb), *p);
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return fail(err, errlen, "'%s' is out of range (overflow)", clip(s, cb));
        v = v * 10 + d;
    }
    if (v < lo || v > hi)
        return fail(err, errlen, "%s must lie in [%llu, %llu]", clip(s, cb),
                    (unsigned long long)lo, (unsigned long long)hi);
    *out = v;
    return 0;
}

int cli_parse_choice(const char *s, const char *const *names, int *out, char *err,
                     size_t errlen)
{
    char cb[48];
    if (s == NULL || names == NULL) return fail(err, errlen, "missing value");
    for (int i = 0; names[i] != NULL; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = i;
            return 0;
        }
    }
    char list[256];
    size_t k = 0;
    list[0] = '\0';
    for (int i = 0; names[i] != NULL && k < sizeof list; i++) {
        int w = snprintf(list + k, sizeof list - k, "%s%s", i ? ", " : "", names[i]);
        if (w < 0) break;
        k += (size_t)w;
    }
    return fail(err, errlen, "'%s' is not one of: %s", clip(s, cb), list);
}

static int parse_value(const cli_opt *o, const char *v, char *err, size_t errlen)
{
    char msg[200];
    int r = 0;
    switch (o->kind) {
    case CLI_STRING:
        *(const char **)o->dest = v;
        return 0;
    case CLI_DOUBLE:
        r = cli_parse_double(v, o->lo, o->hi, o->flags, (double *)o->dest, msg, sizeof msg);
        break;
    case CLI_U64: {
        uint64_t lo = o->lo <= 0 ? 0 : (uint64_t)o->lo;
        uint64_t hi = o->hi >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)o->hi;
        r = cli_parse_u64(v, lo, hi, (uint64_t *)o->dest, msg, sizeof msg);
        break;
    }
    case CLI_CHOICE:
        r = cli_parse_choice(v, o->choices, (int *)o->dest, msg, sizeof msg);
        break;
    case CLI_FLAG:
    default:
        return fail(err, errlen, "option --%s takes no value", o->name);
    }
    if (r != 0) return fail(err, errlen, "--%s: %s", o->name, msg);
    return 0;
}

size_t cli_edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
    /* one row of the Levenshtein table; names longer than 63 characters are
     * compared on their first 63 */
    size_t row[64];
    if (la > 63) la = 63;
    if (lb > 63) lb = 63;
    for (size_t j = 0; j <= lb; j++) row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

const char *cli_suggest(const char *word, size_t len, const char *const *names, size_t count)
{
    const char *best = NULL;
    size_t bd = (size_t)-1;
    if (word == NULL || names == NULL) return NULL;
    for (size_t i = 0; i < count && names[i] != NULL; i++) {
        size_t d = cli_edit_distance(word, len, names[i], strlen(names[i]));
        if (d < bd) {
            bd = d;
            best = names[i];
        }
    }
    /* close enough to be a typo: at most 2 edits, and fewer than a third of
     * the longer name's length plus one */
    size_t ln = best ? strlen(best) : 0, longer = ln > len ? ln : len;
    if (best == NULL || bd > 2 || bd * 3 > longer + 1) return NULL;
    return best;
}

int cli_parse(int argc, char *const *argv, const cli_opt *opts, size_t nopts, const char **pos,
              size_t max_pos, size_t *npos, unsigned char *seen, char *err, size_t errlen)
{
    char cb[48];
    size_t np = 0;
    int only_pos = 0;
    if (seen != NULL && nopts > 0) memset(seen, 0, nopts);
    if (npos != NULL) *npos = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (a == NULL) break;
        if (!only_pos && (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)) return CLI_HELP;
        if (!only_pos && strcmp(a, "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (only_pos || a[0] != '-' || a[1] == '\0') { /* "-" alone is positional */
            if (np >= max_pos)
                return fail(err, errlen, "unexpected argument '%s'", clip(a, cb));
            pos[np++] = a;
            continue;
        }
        if (a[1] != '-')
            return fail(err, errlen, "unknown option '%s' (options are spelt --name)",
                        clip(a, cb));
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        size_t k;
        for (k = 0; k < nopts; k++)
            if (strlen(opts[k].name) == nlen && strncmp(opts[k].name, name, nlen) == 0) break;
        if (k == nopts) {
            const char *names[128];
            size_t nn = nopts < 128 ? nopts : 128;
            for (size_t j = 0; j < nn; j++) names[j] = opts[j].name;
            const char *near = cli_suggest(name, nlen, names, nn);
            if (near != NULL)
                return fail(err, errlen, "unknown option '--%.*s'; did you mean --%s?",
                            (int)(nlen > 40 ? 40 : nlen), name, near);
            return fail(err, errlen, "unknown option '--%.*s'", (int)(nlen > 40 ? 40 : nlen), name);
        }
        const cli_opt *o = &opts[k];
        if (seen != NULL) {
            if (seen[k]) return fail(err, errlen, "option --%s given twice", o->name);
            seen[k] = 1;
        }
        if (o->kind == CLI_FLAG) {
            if (eq) return fail(err, errlen, "option --%s takes no value", o->name);
            *(int *)o->dest = 1;
            continue;
        }
        const char *v;
        if (eq) {
            v = eq + 1;
        } else {
            if (i + 1 >= argc || argv[i + 1] == NULL)
                return fail(err, errlen, "option --%s needs a value", o->name);
            v = argv[++i];
        }
        if (parse_value(o, v, err, errlen) != 0) return CLI_ERROR;
    }
    if (npos != NULL) *npos = np;
    return CLI_OK;
}

/* libFuzzer target: the ovica program's strict number and option parsing
 * (cli/args.c, compiled into this target). The input is split at NUL bytes
 * into strings; the first byte picks ranges, flags and the size of the
 * message buffer. Each string goes through cli_parse_double, cli_parse_u64
 * and cli_parse_choice, and all of them as an argument vector through
 * cli_parse with a table of every option kind.
 *
 * Oracle: a number accepted is finite and inside its range, and equals
 * what strtod/strtoull make of the same text; an integer accepted is made
 * of digits only; a rejected one leaves *out untouched and a NUL-terminated
 * message (cut to the buffer); cli_parse keeps its positional arguments
 * within bounds and its values in range. Any violation aborts.
 * Seeds: tests/corpus/cliargs/. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../cli/args.c"

#ifndef FUZZ_ENTRY
#define FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif

#define FZ_MAX_ARGS 32

static void fz_check_msg(const char *err, size_t errlen)
{
    if (errlen == 0) return;
    if (memchr(err, '\0', errlen) == NULL) abort();
}

static void fz_one(const char *s, uint8_t mode, size_t errlen)
{
    static const double los[4] = {0.0, -1.0, 1e-300, -INFINITY};
    static const double his[4] = {1.0, 1e6, INFINITY, 0.0};
    static const char *const names[] = {"pg", "ista", "fista", "", NULL};
    char err[96];
    double lo = los[mode & 3], hi = his[(mode >> 2) & 3], d = 12345.0;
    int flags = (mode >> 4) & 3;
    memset(err, 'x', sizeof err);
    if (cli_parse_double(s, lo, hi, flags, &d, err, errlen) == 0) {
        if (!isfinite(d)) abort();
        if ((flags & CLI_LO_OPEN) ? !(d > lo) : !(d >= lo)) abort();
        if ((flags & CLI_HI_OPEN) ? !(d < hi) : !(d <= hi)) abort();
        double ref = strtod(s, NULL);
        if (memcmp(&ref, &d, sizeof d) != 0) abort();
    } else {
        if (d != 12345.0) abort();
        fz_check_msg(err, errlen);
    }
    uint64_t u = 777, ulo = mode & 1 ? 5 : 0, uhi = mode & 2 ? 1000 : UINT64_MAX;
    memset(err, 'x', sizeof err);
    if (cli_parse_u64(s, ulo, uhi, &u, err, errlen) == 0) {
        if (u < ulo || u > uhi || s[0] == '\0') abort();
        for (const char *p = s; *p; p++)
            if (*p < '0' || *p > '9') abort();
        if (strtoull(s, NULL, 10) != u) abort();
    } else {
        if (u != 777) abort();
        fz_check_msg(err, errlen);
    }
    int c = -5;
    memset(err, 'x', sizeof err);
    if (cli_parse_choice(s, names, &c, err, errlen) == 0) {
        if (c < 0 || c > 3 || strcmp(names[c], s) != 0) abort();
    } else {
        if (c != -5) abort();
        fz_check_msg(err, errlen);
    }
}

int FUZZ_ENTRY(const uint8_t *data, size_t size);

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    uint8_t mode = data[0];
    size_t errlen = (size_t)(mode >> 6) * 30; /* 0, 30, 60, 90 */
    /* NUL-separated strings, copied so that the last one is terminated */
    char *buf = malloc(size);
    if (buf == NULL) return 0;
    memcpy(buf, data + 1, size - 1);
    buf[size - 1] = '\0';
    char *argv[FZ_MAX_ARGS + 1];
    int argc = 0;
    for (size_t i = 0; i < size && argc < FZ_MAX_ARGS;) {
        argv[argc++] = buf + i;
        i += strlen(buf + i) + 1;
    }
    argv[argc] = NULL;
    for (int i = 0; i < argc; i++) fz_one(argv[i], mode, errlen);

    static const char *const choices[] = {"laplace", "exponential", NULL};
    int flag = 0, choice = -1;
    double dbl = -7.0;
    uint64_t cnt = 3;
    const char *str = NULL;
    cli_opt opts[] = {
        {"flag", CLI_FLAG, &flag, 0, 0, 0, NULL},
        {"rate", CLI_DOUBLE, &dbl, 0.0, 100.0, CLI_LO_OPEN, NULL},
        {"steps", CLI_U64, &cnt, 1.0, 1e12, 0, NULL},
        {"prior", CLI_CHOICE, &choice, 0, 0, 0, choices},
        {"out", CLI_STRING, &str, 0, 0, 0, NULL},
    };
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[3] = {NULL, NULL, NULL};
    size_t npos = 99;
    unsigned char seen[sizeof opts / sizeof opts[0]];
    char err[96];
    memset(err, 'x', sizeof err);
    int r = cli_parse(argc, argv, opts, nopts, pos, 2, &npos, (mode & 8) ? NULL : seen, err,
                      errlen);
    if (r == CLI_OK) {
        if (npos > 2) abort();
        for (size_t i = 0; i < npos; i++)
            if (pos[i] == NULL) abort();
        if (dbl != -7.0 && !(dbl > 0.0 && dbl <= 100.0)) abort();
        if (cnt < 1 || cnt > 1000000000000ULL) abort();
        if (choice < -1 || choice > 1) abort();
        if (flag != 0 && flag != 1) abort();
        if (str != NULL) {
            int inside = 0;
            for (int i = 0; i < argc; i++)
                if (str >= argv[i] && str <= argv[i] + strlen(argv[i])) inside = 1;
            if (!inside) abort();
        }
    } else if (r == CLI_ERROR) {
        fz_check_msg(err, errlen);
        if (errlen > 0 && err[0] == '\0') abort();
    } else if (r != CLI_HELP) {
        abort();
    }
    free(buf);
    return 0;
}

/*
 * Strict parsing of command-line numbers and options for the `ovica`
 * program. Self-contained (no libovica, no I/O, no global state): a fuzz
 * target can call every function here with arbitrary strings.
 *
 * Numbers are parsed strictly: the whole string must be consumed, leading
 * or trailing blanks are refused, NaN and infinities are refused, values
 * outside the stated range are refused, and an integer may not carry a sign
 * or a fraction. Errors are described in a caller-supplied buffer.
 */
#ifndef OVICA_CLI_ARGS_H
#define OVICA_CLI_ARGS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Range flags of cli_parse_double. */
enum {
    CLI_LO_OPEN = 1, /* value must be > lo (else >= lo) */
    CLI_HI_OPEN = 2  /* value must be < hi (else <= hi) */
};

/*
 * Parses a finite decimal (or C99 hexadecimal) floating-point number in
 * [lo, hi] (ends excluded as `flags` say). Returns 0 and sets *out, or -1
 * with a message in err (errlen bytes, always NUL-terminated when errlen > 0);
 * *out is untouched on error. `s` may be NULL (an error).
 */
int cli_parse_double(const char *s, double lo, double hi, int flags, double *out, char *err,
                     size_t errlen);

/*
 * Parses an unsigned decimal integer in [lo, hi]: digits only (no sign, no
 * blanks, no "0x"), no overflow. Returns 0 and sets *out, or -1 with a
 * message; *out is untouched on error.
 */
int cli_parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out, char *err,
                  size_t errlen);

/*
 * Looks `s` up in a NULL-terminated list of names. Returns 0 and sets *out
 * to its index, or -1 with a message listing the choices.
 */
int cli_parse_choice(const char *s, const char *const *names, int *out, char *err,
                     size_t errlen);

/*
 * Levenshtein distance between a[0 .. la) and b[0 .. lb) (insertions,
 * deletions, substitutions; only the first 63 characters of each count).
 */
size_t cli_edit_distance(const char *a, size_t la, const char *b, size_t lb);

/*
 * The name in names[0 .. count) (stopping at a NULL) nearest to
 * word[0 .. len) by edit distance, when it is close enough to be a typo
 * (at most 2 edits, and at most a third of the longer length plus one);
 * else NULL. Used for "did you mean --xxx?".
 */
const char *cli_suggest(const char *word, size_t len, const char *const *names, size_t count);

/* Kinds of options. */
typedef enum {
    CLI_FLAG,   /* no value; dest is int*, set to 1 */
    CLI_STRING, /* dest is const char**, pointing into argv */
    CLI_DOUBLE, /* dest is double*; range lo..hi with flags */
    CLI_U64,    /* dest is uint64_t*; range lo..hi (as integers) */
    CLI_CHOICE  /* dest is int*, the index in choices */
} cli_kind;

/* One option "--name". */
typedef struct {
    const char *name;            /* without the dashes */
    cli_kind kind;
    void *dest;
    double lo, hi;               /* numeric range */
    int flags;                   /* CLI_LO_OPEN, CLI_HI_OPEN for doubles */
    const char *const *choices;  /* NULL-terminated, for CLI_CHOICE */
} cli_opt;

/* Results of cli_parse. */
enum {
    CLI_OK = 0,
    CLI_HELP = 1,   /* -h or --help was given */
    CLI_ERROR = -1  /* usage error; message in err */
};

/*
 * Parses argv[0 .. argc) (the arguments after the subcommand's name):
 * "--name value", "--name=value", flags "--name", "-h"/"--help", "--" (the
 * rest are positional). Other arguments are positional and stored in
 * pos[0 .. max_pos) (*npos set to their number; more is an error). An
 * option given twice is an error (an unknown one is answered with the
 * nearest known name, "did you mean --xxx?", when there is one). seen (optional, nopts entries) gets 1 for
 * each option given. Returns CLI_OK, CLI_HELP or CLI_ERROR.
 */
int cli_parse(int argc, char *const *argv, const cli_opt *opts, size_t nopts, const char **pos,
              size_t max_pos, size_t *npos, unsigned char *seen, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* OVICA_CLI_ARGS_H */

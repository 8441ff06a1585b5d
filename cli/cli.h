/*
 * Shared declarations of the `ovica` program. The program uses only
 * libovica's public API (<ovica.h>), as any host would.
 */
#ifndef OVICA_CLI_H
#define OVICA_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "args.h"

/* Exit codes. */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAIL = 1,         /* runtime failure: missing file, bad data, I/O */
    CLI_EXIT_USAGE = 2,        /* bad command line */
    CLI_EXIT_INTERRUPTED = 130, /* SIGINT: the basis so far was saved, then the program stopped */
    CLI_EXIT_TERMINATED = 143   /* SIGTERM: likewise */
};

/* Subcommands: argv[0] is the subcommand's name; they return an exit code. */
int cmd_demo(int argc, char **argv);
int cmd_synth(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_encode(int argc, char **argv);
int cmd_basis(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_score(int argc, char **argv);
int cmd_cluster(int argc, char **argv);
int cmd_scan(int argc, char **argv);
int cmd_separate(int argc, char **argv); /* cmd_separate.c: libsndfile, FFTW3 */

/* Prints "ovica CMD: " + message + a hint to use --help to stderr; returns
 * CLI_EXIT_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Prints "ovica CMD: " + message; when status != 0, adds the library's
 * description of it and its detailed message. Returns CLI_EXIT_FAIL. */
int cli_fail(const char *cmd, int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Parses a subcommand's options (argv after the name); prints help (to
 * stdout) or a usage error. Returns -1 to go on, else the exit code to
 * return (CLI_EXIT_OK after --help, CLI_EXIT_USAGE on an error). */
int cli_options(const char *cmd, const char *help, int argc, char **argv, const cli_opt *opts,
                size_t nopts, const char **pos, size_t max_pos, size_t *npos,
                unsigned char *seen);

/* Reads an N x m array from a .npy file; on failure prints why and returns
 * CLI_EXIT_FAIL (else 0). *X is released with ovica_free(). */
int cli_read_npy(const char *cmd, const char *what, const char *path, double **X, size_t *N,
                 size_t *m);
/* Writes a .npy file; prints why on failure. Returns 0 or CLI_EXIT_FAIL. */
int cli_write_npy(const char *cmd, const char *path, const double *X, size_t N, size_t m);

/* Checks, before any work, that `path` can be written: not a directory, in
 * an existing directory where a file can be created (a temporary is made
 * and removed). On failure prints why, naming the option `what`, and
 * returns CLI_EXIT_USAGE; else 0. */
int cli_check_output(const char *cmd, const char *what, const char *path);

/* Opens an output text file to be replaced atomically (a temporary next to
 * it, renamed by cli_commit). NULL (message printed) on failure. */
FILE *cli_create(const char *cmd, const char *path, char *tmp, size_t tmpcap);
/* Closes the temporary and renames it over path; removes it on failure.
 * Returns 0 or CLI_EXIT_FAIL (message printed). */
int cli_commit(const char *cmd, FILE *fp, const char *tmp, const char *path);

/* A seed of the program's own: the user's seed hashed (splitmix64
 * finaliser) with a constant (`salt`) of its use, so that `ovica synth
 * --seed S` and `ovica train --seed S` do not draw the same random numbers
 * (a random initial basis equal to the true one, say). */
uint64_t cli_mix_seed(uint64_t seed, uint64_t salt);
#define SALT_TRAINER 0x747261696E6572ULL /* "trainer": the trainer's seed */

/* Names of choices shared by several subcommands (NULL-terminated). */
extern const char *const cli_prior_names[];  /* "laplace", "exponential" */
/* The library's solver and rule types (ovica_solver_type_at, ovica_rule_type_at,
 * in their order), filled by main() before any subcommand runs. */
extern const char *cli_solver_names[];
extern const char *cli_rule_names[];

/* Codes the data with MAP inference (chunks of 4096 rows). S is N x n,
 * allocated here (free()). Returns a libovica status; *converged counts the
 * samples that met the tolerance. */
struct ovica_model;
int cli_encode(const struct ovica_model *model, const char *solver, double max_iter, double tol,
               const double *X, size_t N, double **S, size_t *converged, double *objective);

/* The recovery table of a learned basis against a true one, to `out`.
 * use_sign: match by cos (non-negative priors) instead of |cos|. S (N x n,
 * may be NULL) lets the table count dead atoms. Returns a libovica status. */
int cli_recovery_table(FILE *out, const double *A, size_t m, size_t n, const double *A_true,
                       size_t n_true, int use_sign, double threshold, const double *S, size_t N,
                       size_t *match);

/* Pictures (cmd_plot.c). Writes a whole SVG document to path, panels side
 * by side: for m = 2 the scatter of the data X (N x m, may be NULL) with the
 * true (A_true, m x n_true, may be NULL) and learned (A, m x n, may be NULL)
 * atoms as arrows; for m > 2 grids of the learned atoms (ordered by their
 * match to the true ones) and of the true atoms; and, when curve_csv is
 * given, the training curve of a CSV log written by `ovica train --log`.
 * At most max_points samples are drawn. Returns 0 or CLI_EXIT_FAIL (message
 * printed). */
int cli_plot(const char *cmd, const char *path, const char *title, const double *X, size_t N,
             size_t m, const double *A, size_t n, const double *A_true, size_t n_true,
             int use_sign, const char *curve_csv, size_t max_points);

#endif /* OVICA_CLI_H */

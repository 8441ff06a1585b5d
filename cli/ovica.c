/*
 * ovica: the command-line program of libovica.
 *
 *   ovica demo | synth | train | encode | basis | eval | plot | score | cluster | scan |
 *         separate [options]
 *
 * Each subcommand has --help. Exit codes: 0 success, 1 runtime failure,
 * 2 usage error (also an output that cannot be written, found before any
 * work), 130/143 interrupted by SIGINT/SIGTERM (train saves the basis so far
 * to MODEL.partial.ovm first).
 * The program uses only the public API of libovica.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ovica.h>

#include "cli.h"

const char *const cli_prior_names[] = {"laplace", "exponential", NULL};
/* The solver and rule names are the library's, listed from its registries
 * (ovica_solver_type_count/_at, ovica_rule_type_count/_at) when the program
 * starts: a type added to the library is a choice of --solver and --rule
 * with no edit here. */
enum { CLI_MAX_TYPES = 64 };
const char *cli_solver_names[CLI_MAX_TYPES + 1];
const char *cli_rule_names[CLI_MAX_TYPES + 1];

static void list_types(void)
{
    size_t ns = ovica_solver_type_count(), nr = ovica_rule_type_count();
    if (ns > CLI_MAX_TYPES) ns = CLI_MAX_TYPES;
    if (nr > CLI_MAX_TYPES) nr = CLI_MAX_TYPES;
    for (size_t i = 0; i < ns; i++)
        cli_solver_names[i] = ovica_solver_type_name(ovica_solver_type_at(i));
    for (size_t i = 0; i < nr; i++)
        cli_rule_names[i] = ovica_rule_type_name(ovica_rule_type_at(i));
    cli_solver_names[ns] = NULL;
    cli_rule_names[nr] = NULL;
}

static const char main_help[] =
    "usage: ovica <command> [options]\n"
    "\n"
    "Overcomplete ICA (Lewicki & Sejnowski) from the command line.\n"
    "\n"
    "commands:\n"
    "  demo     the article's 2-D experiment end to end: data, training, recovery\n"
    "           table and a picture (DIR/demo.svg)\n"
    "  synth    generate synthetic data (the article's 2-D sets or a random basis)\n"
    "  train    learn a basis from data (.npy) and save the model\n"
    "  encode   MAP codes of data under a model\n"
    "  basis    write (or print) a model's basis\n"
    "  eval     compare a model's basis with the true one (recovery table)\n"
    "  plot     SVG pictures: data and atoms, atom grids, training curves\n"
    "  score    log-likelihood and bits per dimension of data under a model\n"
    "  cluster  merge the atoms of an over-provisioned model (weighted k-means)\n"
    "  scan     choose the number of atoms by held-out log-likelihood\n"
    "  separate separate the sources of a multichannel recording (WAV)\n"
    "  version  print the program's and the library's version\n"
    "\n"
    "Run 'ovica <command> --help' for a command's options.\n"
    "Exit codes: 0 success, 1 failure, 2 usage error, 130 interrupted (SIGINT),\n"
    "143 terminated (SIGTERM).\n";

int cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "ovica %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'ovica %s --help'.\n", cmd);
    return CLI_EXIT_USAGE;
}

int cli_fail(const char *cmd, int status, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "ovica %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (status != 0) {
        const char *msg = ovica_error_message();
        fprintf(stderr, ": %s", ovica_strerror(status));
        if (msg[0] != '\0') fprintf(stderr, " (%s)", msg);
    }
    fputc('\n', stderr);
    return CLI_EXIT_FAIL;
}

int cli_options(const char *cmd, const char *help, int argc, char **argv, const cli_opt *opts,
                size_t nopts, const char **pos, size_t max_pos, size_t *npos,
                unsigned char *seen)
{
    char err[300];
    unsigned char local[64]; /* so that an option given twice is always an error */
    if (seen == NULL && nopts <= sizeof local) seen = local;
    int r = cli_parse(argc - 1, argv + 1, opts, nopts, pos, max_pos, npos, seen, err, sizeof err);
    if (r == CLI_HELP) {
        fputs(help, stdout);
        return CLI_EXIT_OK;
    }
    if (r != CLI_OK) return cli_usage(cmd, "%s", err);
    return -1;
}

int cli_read_npy(const char *cmd, const char *what, const char *path, double **X, size_t *N,
                 size_t *m)
{
    int st = ovica_npy_read(path, X, N, m);
    if (st != OVICA_OK) return cli_fail(cmd, st, "cannot read %s", what);
    return 0;
}

int cli_write_npy(const char *cmd, const char *path, const double *X, size_t N, size_t m)
{
    int st = ovica_npy_write(path, X, N, m);
    if (st != OVICA_OK) return cli_fail(cmd, st, "cannot write '%s'", path);
    return 0;
}

int cli_check_output(const char *cmd, const char *what, const char *path)
{
    struct stat sb;
    char tmp[4200];
    if (path == NULL || path[0] == '\0')
        return cli_usage(cmd, "%s: an empty file name", what);
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return cli_usage(cmd, "%s: '%s' is a directory", what, path);
    int n = snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return cli_usage(cmd, "%s: the path is too long: '%.60s...'", what, path);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return cli_usage(cmd, "%s: cannot write '%s': %s", what, path, strerror(errno));
    close(fd);
    unlink(tmp);
    return 0;
}

FILE *cli_create(const char *cmd, const char *path, char *tmp, size_t tmpcap)
{
    int n = snprintf(tmp, tmpcap, "%s.tmp.XXXXXX", path);
    if (n < 0 || (size_t)n >= tmpcap) {
        cli_fail(cmd, 0, "output path too long: '%s'", path);
        return NULL;
    }
    int fd = mkstemp(tmp);
    if (fd < 0) {
        cli_fail(cmd, 0, "cannot create '%s': %s", tmp, strerror(errno));
        return NULL;
    }
    (void)fchmod(fd, 0644);
    FILE *fp = fdopen(fd, "w");
    if (fp == NULL) {
        cli_fail(cmd, 0, "cannot open '%s': %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
    }
    return fp;
}

int cli_commit(const char *cmd, FILE *fp, const char *tmp, const char *path)
{
    int bad = ferror(fp);
    if (fclose(fp) != 0) bad = 1;
    if (bad) {
        unlink(tmp);
        return cli_fail(cmd, 0, "cannot write '%s': %s", path, strerror(errno ? errno : EIO));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return cli_fail(cmd, 0, "cannot write '%s': %s", path, strerror(e));
    }
    return 0;
}

uint64_t cli_mix_seed(uint64_t seed, uint64_t salt)
{
    uint64_t z = seed ^ salt;
    z += 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static int cmd_version(int argc, char **argv)
{
    (void)argv;
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs("usage: ovica version\n\nPrints the program's and the library's version.\n", stdout);
        return CLI_EXIT_OK;
    }
    if (argc > 1) return cli_usage("version", "unexpected argument '%s'", argv[1]);
    printf("ovica %s (libovica %s)\n", OVICA_VERSION_STRING, ovica_version_string());
    return CLI_EXIT_OK;
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {
        {"demo", cmd_demo},   {"synth", cmd_synth}, {"train", cmd_train}, {"encode", cmd_encode},
        {"basis", cmd_basis}, {"eval", cmd_eval},   {"plot", cmd_plot},   {"version", cmd_version},
        {"score", cmd_score}, {"cluster", cmd_cluster}, {"scan", cmd_scan},
        {"separate", cmd_separate},
    };
    list_types();
    if (argc < 2) {
        fputs(main_help, stderr);
        return CLI_EXIT_USAGE;
    }
    const char *c = argv[1];
    if (strcmp(c, "--help") == 0 || strcmp(c, "-h") == 0 || strcmp(c, "help") == 0) {
        if (strcmp(c, "help") == 0 && argc > 2) {
            for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
                if (strcmp(argv[2], cmds[i].name) == 0) {
                    char *sub[] = {argv[2], (char *)"--help", NULL};
                    return cmds[i].fn(2, sub);
                }
            fprintf(stderr, "ovica: unknown command '%s'\n", argv[2]);
            return CLI_EXIT_USAGE;
        }
        fputs(main_help, stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(c, "--version") == 0) {
        char *sub[] = {(char *)"version", NULL};
        return cmd_version(1, sub);
    }
    if ((ovica_version_number() / 10000) != OVICA_VERSION_MAJOR) {
        fprintf(stderr, "ovica: libovica %s is loaded, this program needs major version %d\n",
                ovica_version_string(), OVICA_VERSION_MAJOR);
        return CLI_EXIT_FAIL;
    }
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (strcmp(c, cmds[i].name) == 0) return cmds[i].fn(argc - 1, argv + 1);
    const char *names[sizeof cmds / sizeof cmds[0]];
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) names[i] = cmds[i].name;
    const char *near = cli_suggest(c, strlen(c), names, sizeof cmds / sizeof cmds[0]);
    if (near != NULL)
        fprintf(stderr, "ovica: unknown command '%s'; did you mean '%s'?\nTry 'ovica --help'.\n",
                c, near);
    else
        fprintf(stderr, "ovica: unknown command '%s'\nTry 'ovica --help'.\n", c);
    return CLI_EXIT_USAGE;
}

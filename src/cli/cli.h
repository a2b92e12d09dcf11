/*
 * cli.h - what the snapconf command-line tool's parts share: the command
 * table entry, the exit codes, the option parser and the helpers for
 * messages.
 *
 * Each command lives in its own table entry with its handler and its help
 * text, so a new command is one more entry in commands[] in main.c and one
 * more handler; nothing else changes.  get, dump and check read a file
 * with --file (cmd_file.c) and ask snapconfd otherwise (cmd_daemon.c, over
 * client.h); status, reload, watch and paths are the daemon's, and so are
 * set, unset, revert and overrides (cmd_set.c), which change it.
 */
#ifndef SNAPCONF_CLI_H
#define SNAPCONF_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <snapconf.h>

/*
 * Exit codes, documented in "snapconf --help".  Scripts branch on them, so
 * they never change meaning.
 */
enum cli_exit {
    CLI_EXIT_OK = 0,          /* success: value found, file valid */
    CLI_EXIT_NOTFOUND = 1,    /* no value at the given path */
    CLI_EXIT_USAGE = 2,       /* bad command line, malformed path */
    CLI_EXIT_UNREACHABLE = 3, /* snapconfd not reachable, or the connection broke */
    CLI_EXIT_CONFIG = 4,      /* configuration invalid or unreadable */
    CLI_EXIT_INTERNAL = 5,    /* out of memory, output not writable, odd answer */
    CLI_EXIT_FORBIDDEN = 6,   /* snapconfd refused a change: the user is no --admin-uid */
};

struct cli_command;

/*
 * A command's handler.  argv[0] is the command's name; the handler parses
 * the rest with getopt_long (optind is reset before the call) and returns
 * one of the exit codes above.
 */
typedef int cli_handler(const struct cli_command *cmd, int argc, char **argv);

struct cli_command {
    const char *name;
    cli_handler *run;
    const char *summary; /* one line, for the command list in --help */
    const char *help;    /* the full text of "snapconf NAME --help" */
    bool hidden;         /* left out of the command list (for tools, not people) */
};

/* The commands: get, dump and check in cmd_file.c, status and reload in
 * cmd_daemon.c, set, unset, revert and overrides in cmd_set.c, watch in
 * cmd_watch.c, paths (hidden, for shell completion) in cmd_paths.c. */
extern const struct cli_command cli_cmd_get;
extern const struct cli_command cli_cmd_dump;
extern const struct cli_command cli_cmd_check;
extern const struct cli_command cli_cmd_status;
extern const struct cli_command cli_cmd_reload;
extern const struct cli_command cli_cmd_set;
extern const struct cli_command cli_cmd_unset;
extern const struct cli_command cli_cmd_revert;
extern const struct cli_command cli_cmd_overrides;
extern const struct cli_command cli_cmd_watch;
extern const struct cli_command cli_cmd_paths;

/* getopt_long codes of the options that have no short form. */
enum {
    CLI_OPT_JSON = 256,
    CLI_OPT_FORMAT,
    CLI_OPT_SOCKET,
    CLI_OPT_SINCE,
    CLI_OPT_COMPLETE,
    CLI_OPT_EXPLAIN,
    CLI_OPT_DROPIN,
    CLI_OPT_ENV_PREFIX,
    CLI_OPT_STATE_FILE,
};

/* The long options the commands share, for their option tables. */
/* clang-format off */
#define CLI_OPTION_FILE {"file", required_argument, NULL, 'f'}
#define CLI_OPTION_SOCKET {"socket", required_argument, NULL, CLI_OPT_SOCKET}
#define CLI_OPTION_JSON {"json", no_argument, NULL, CLI_OPT_JSON}
#define CLI_OPTION_HELP {"help", no_argument, NULL, 'h'}
#define CLI_OPTION_EXPLAIN {"explain", no_argument, NULL, CLI_OPT_EXPLAIN}
/* The layers of a --file, as snapconfd's options of the same names. */
#define CLI_OPTION_DROPIN {"dropin", required_argument, NULL, CLI_OPT_DROPIN}
#define CLI_OPTION_ENV_PREFIX {"env-prefix", required_argument, NULL, CLI_OPT_ENV_PREFIX}
#define CLI_OPTION_STATE_FILE {"state-file", required_argument, NULL, CLI_OPT_STATE_FILE}
#define CLI_OPTION_END {NULL, 0, NULL, 0}
/* clang-format on */

/* Most --dropin directories on one command line, as snapconfd takes. */
#define CLI_MAX_DROPINS 32

/* What a command's command line said. */
struct cli_args {
    const char *file;     /* --file */
    const char *socket;   /* --socket, else the global --socket; NULL if neither */
    const char *format;   /* --format, or "json" for --json; NULL if neither */
    bool json;            /* --json */
    const char *since;    /* --since */
    const char *complete; /* --complete */
    bool explain;         /* --explain */
    /* The layers of --file: --dropin (NULL-terminated), --env-prefix (else
     * $SNAPCONF_ENV_PREFIX; NULL or "": none), --state-file. */
    const char *dropins[CLI_MAX_DROPINS + 1];
    int n_dropins;
    const char *env_prefix;
    const char *state_file;
    const char *layer_option; /* the first of those given explicitly, for messages */
    const char *operand;      /* the first operand */
    const char *operand2;     /* the second */
    int n_operands;
};

/* Returned by cli_parse_args() when the command should go on. */
#define CLI_PARSE_GO_ON (-1)

/*
 * Parses argv into args with the command's own long options only, so that
 * getopt rejects the others' options for it.  Operands and options may come
 * in any order.  Returns CLI_PARSE_GO_ON, or the exit code when the command
 * is done already (--help, or an option getopt rejected and has reported).
 * Defined in main.c.
 */
int cli_parse_args(const struct cli_command *cmd, int argc, char **argv,
                   const struct option *longopts, struct cli_args *args);

/* cli_parse_args() for a command that takes no operands: one is a usage
 * error.  Same returns.  Defined in main.c. */
int cli_parse_no_operands(const struct cli_command *cmd, int argc, char **argv,
                          const struct option *longopts, struct cli_args *args);

/*
 * Compiles text as a path into *out; a malformed path is reported with its
 * column, as a usage error.  Returns CLI_EXIT_OK or the exit code.  Defined
 * in cmd_file.c.
 */
int cli_compile_path(const struct cli_command *cmd, const char *text, snapconf_path **out);

/*
 * Loads args->file into *out: with the layers args names (drop-ins,
 * environment, state file) merged, as snapconfd would serve it, when any is
 * set; else the file alone.  On failure prints the library's message
 * (FILE:LINE:COLUMN: ...) and returns the exit code.  Defined in
 * cmd_file.c.
 */
int cli_load_file(const struct cli_args *args, snapconf_snap **out);

/*
 * For the commands that talk to snapconfd: a layer option given without
 * --file is a usage error (the daemon has its own).  Returns CLI_EXIT_OK or
 * the exit code.  Defined in cmd_file.c.
 */
int cli_no_layers(const struct cli_command *cmd, const struct cli_args *args);

/*
 * The daemon's side of get, dump and check (cmd_daemon.c): the same output
 * as from a file, from snapconfd's current snapshot.
 */
int cli_daemon_get(const struct cli_command *cmd, const struct cli_args *args);
int cli_daemon_dump(const struct cli_command *cmd, const struct cli_args *args, bool yaml);
int cli_daemon_check(const struct cli_command *cmd, const struct cli_args *args);

/*
 * For a path that has no value under root: finds the first segment that
 * does not resolve and prints to stderr why, with the nearest existing key
 * when one is close ("did you mean 'server.port'?").  Prints nothing when
 * it has nothing useful to add.  Defined in suggest.c.
 */
void cli_explain_missing(const snapconf_node *root, const char *path);

/*
 * Writes a key as one segment of a path in canonical form: bare when it
 * can be, else in double quotes with '"' and '\\' escaped.  Returns false
 * (writing nothing) for a key no path can name: one holding a NUL byte.
 * Defined in suggest.c.
 */
bool cli_write_key(FILE *f, const char *key, size_t len);

/*
 * Writes node as JSON on one line (no spaces), scalars encoded exactly as
 * render_json() encodes them.  Returns 0, or -1 when a value cannot be
 * encoded.  Defined in compact.c.
 */
int cli_print_compact(FILE *out, const snapconf_node *node);

/*
 * Provenance (explain.c): the layers that set the value at a path, from a
 * snapshot (--file) or from the "origin" array of snapconfd's answer, and
 * the output of get --explain.  Every string and node is borrowed from the
 * snapshot or the answer, except path, owned.
 */
struct cli_origin {
    const char *layer; /* "file", "dropin", "env", "runtime" */
    const char *role;  /* "value", "merged", "overridden", "deleted" */
    const char *name;  /* file, variable or "runtime" */
    char *path;        /* what the layer set: the path asked about, or a parent */
    int64_t line, column;
    const snapconf_node *value; /* the layer's value there; NULL for an unset */
};

struct cli_explanation {
    struct cli_origin *items; /* lowest layer first */
    size_t n;
};

/* From snapconf_explain(); an empty explanation when no layer set path.
 * Returns CLI_EXIT_OK or CLI_EXIT_INTERNAL (reported). */
int cli_explain_snap(const snapconf_snap *snap, const char *path, struct cli_explanation *out);

/* From the API's "origin" array (NULL: empty).  Returns CLI_EXIT_OK or
 * CLI_EXIT_INTERNAL (an answer that makes no sense, reported). */
int cli_explain_json(const snapconf_node *origin, struct cli_explanation *out);

void cli_explanation_free(struct cli_explanation *e);

/*
 * Prints what get --explain prints for the canonical path: the value (as
 * get prints it), then one line per layer, the highest (whose value is
 * live) first, as "  WHERE  ROLE  VALUE"; with json, one line of JSON
 * {"path", "value", "type", "origin": [...]}, the origins lowest first as
 * the API gives them.  value NULL means there is none (the path was
 * deleted): then the layers go to stderr (JSON still to stdout, without
 * "value" and "type").  Returns CLI_EXIT_OK or CLI_EXIT_INTERNAL.
 */
int cli_print_explained(const char *path, const snapconf_node *value,
                        const struct cli_explanation *e, bool json);

/* Prints "snapconf: MESSAGE\n" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints an error as cli_error() does, then a pointer to the command's help;
 * returns CLI_EXIT_USAGE so that callers can "return cli_usage_error(...)". */
int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints "Try 'snapconf NAME --help'." to stderr, for after getopt has said
 * what was wrong; returns CLI_EXIT_USAGE. */
int cli_try_help(const struct cli_command *cmd);

/* Prints the command's help text to stdout; returns CLI_EXIT_OK. */
int cli_print_help(const struct cli_command *cmd);

/* The global --socket, given before the command; NULL when absent. */
extern const char *cli_global_socket;

#endif /* SNAPCONF_CLI_H */

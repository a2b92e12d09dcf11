/*
 * cli.h - what the snapconf command-line tool's parts share: the command
 * table entry, the exit codes, the option parser and the helpers for
 * messages.
 *
 * Each command lives in its own table entry with its handler and its help
 * text, so a new command is one more entry in commands[] in main.c and one
 * more handler; nothing else changes.  get, dump and check read a file
 * with --file (cmd_file.c) and ask snapconfd otherwise (cmd_daemon.c, over
 * client.h); status, reload, watch and paths are the daemon's.
 */
#ifndef SNAPCONF_CLI_H
#define SNAPCONF_CLI_H

#include <getopt.h>
#include <stdbool.h>
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
 * cmd_daemon.c, watch in cmd_watch.c, paths (hidden, for shell
 * completion) in cmd_paths.c. */
extern const struct cli_command cli_cmd_get;
extern const struct cli_command cli_cmd_dump;
extern const struct cli_command cli_cmd_check;
extern const struct cli_command cli_cmd_status;
extern const struct cli_command cli_cmd_reload;
extern const struct cli_command cli_cmd_watch;
extern const struct cli_command cli_cmd_paths;

/* getopt_long codes of the options that have no short form. */
enum { CLI_OPT_JSON = 256, CLI_OPT_FORMAT, CLI_OPT_SOCKET, CLI_OPT_SINCE, CLI_OPT_COMPLETE };

/* The long options the commands share, for their option tables. */
/* clang-format off */
#define CLI_OPTION_FILE {"file", required_argument, NULL, 'f'}
#define CLI_OPTION_SOCKET {"socket", required_argument, NULL, CLI_OPT_SOCKET}
#define CLI_OPTION_JSON {"json", no_argument, NULL, CLI_OPT_JSON}
#define CLI_OPTION_HELP {"help", no_argument, NULL, 'h'}
#define CLI_OPTION_END {NULL, 0, NULL, 0}
/* clang-format on */

/* What a command's command line said. */
struct cli_args {
    const char *file;     /* --file */
    const char *socket;   /* --socket, else the global --socket; NULL if neither */
    const char *format;   /* --format, or "json" for --json; NULL if neither */
    bool json;            /* --json */
    const char *since;    /* --since */
    const char *complete; /* --complete */
    const char *operand;  /* the first operand */
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

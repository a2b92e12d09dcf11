/*
 * cli.h - what the snapconf command-line tool's parts share: the command
 * table entry, the exit codes and the helpers for messages and loading.
 *
 * Each command lives in its own table entry with its handler and its help
 * text, so a new command (the daemon-backed "status", "watch", "reload")
 * is one more entry in commands[] in main.c and one more file beside
 * cmd_file.c; nothing else changes.
 */
#ifndef SNAPCONF_CLI_H
#define SNAPCONF_CLI_H

#include <snapconf.h>

/*
 * Exit codes, documented in "snapconf --help".  Scripts branch on them, so
 * they never change meaning.  3 is left free for "daemon not reachable", for
 * the commands that will talk to snapconfd.
 */
enum cli_exit {
    CLI_EXIT_OK = 0,       /* success: value found, file valid */
    CLI_EXIT_NOTFOUND = 1, /* no value at the given path */
    CLI_EXIT_USAGE = 2,    /* bad command line, malformed path */
    CLI_EXIT_CONFIG = 4,   /* configuration invalid or unreadable */
    CLI_EXIT_INTERNAL = 5, /* out of memory, output not writable */
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
};

/* The file-based commands, defined in cmd_file.c. */
extern const struct cli_command cli_cmd_get;
extern const struct cli_command cli_cmd_dump;
extern const struct cli_command cli_cmd_check;

/*
 * For a path that has no value in snap: finds the first segment that does
 * not resolve and prints to stderr why, with the nearest existing key when
 * one is close ("did you mean 'server.port'?").  Prints nothing when it has
 * nothing useful to add.  Defined in suggest.c.
 */
void cli_explain_missing(const snapconf_snap *snap, const char *path);

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

#endif /* SNAPCONF_CLI_H */

/*
 * main.c - the snapconf command-line tool: global options, the command
 * table, the option parser the commands share and the dispatch to a
 * command's handler.
 *
 * Results go to stdout, errors to stderr, and the exit code says what
 * happened (see cli.h), so that scripts can use the tool without parsing
 * messages.
 */
#include "cli.h"
#include "client.h"
#include "curl_load.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmd_help(const struct cli_command *cmd, int argc, char **argv);

static const struct cli_command cli_cmd_help = {
    .name = "help",
    .run = cmd_help,
    .summary = "Show the help of a command",
    .help = "Usage: snapconf help [COMMAND]\n"
            "\n"
            "Shows the help of COMMAND, or the list of commands.\n",
};

/* Every command, in the order "snapconf --help" lists them. */
static const struct cli_command *const commands[] = {
    &cli_cmd_get,       &cli_cmd_dump,  &cli_cmd_check, &cli_cmd_status,
    &cli_cmd_reload,    &cli_cmd_set,   &cli_cmd_unset, &cli_cmd_revert,
    &cli_cmd_overrides, &cli_cmd_watch, &cli_cmd_help,  &cli_cmd_paths,
};

const char *cli_global_socket;

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const char exit_status_help[] =
    "Exit status:\n"
    "  0  success: the value was found, the file is valid\n"
    "  1  no value at the given path\n"
    "  2  usage error: unknown command or option, missing argument,\n"
    "     malformed path\n"
    "  3  snapconfd cannot be reached, or it dropped or refused the connection\n"
    "  4  the configuration file is invalid or cannot be read (for the daemon:\n"
    "     its latest load or the reload failed; it keeps serving the last good\n"
    "     configuration); for set and unset, the change does not fit the\n"
    "     configuration (a parent is no mapping) or makes it invalid\n"
    "  5  internal error: out of memory, output cannot be written, an answer\n"
    "     from snapconfd that makes no sense\n"
    "  6  snapconfd refused a change (set, unset, revert): your user is not in\n"
    "     its --admin-uid list, or the request came over TCP\n";

void cli_error(const char *fmt, ...)
{
    va_list ap;

    fputs("snapconf: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "snapconf %s: ", cmd->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return cli_try_help(cmd);
}

int cli_try_help(const struct cli_command *cmd)
{
    fprintf(stderr, "Try 'snapconf %s --help'.\n", cmd->name);
    return CLI_EXIT_USAGE;
}

int cli_print_help(const struct cli_command *cmd)
{
    fputs(cmd->help, stdout);
    return CLI_EXIT_OK;
}

static void add_operand(struct cli_args *args, const char *arg)
{
    if (args->n_operands == 0)
        args->operand = arg;
    else if (args->n_operands == 1)
        args->operand2 = arg;
    args->n_operands++;
}

/* --dropin, --env-prefix, --state-file.  Returns CLI_PARSE_GO_ON or the
 * exit code. */
static int layer_option(const struct cli_command *cmd, int c, struct cli_args *args)
{
    switch (c) {
    case CLI_OPT_DROPIN:
        if (optarg[0] == '\0')
            return cli_usage_error(cmd, "--dropin needs a directory, not an empty string");
        if (args->n_dropins == CLI_MAX_DROPINS)
            return cli_usage_error(cmd, "--dropin: at most %d directories", CLI_MAX_DROPINS);
        args->dropins[args->n_dropins++] = optarg;
        if (args->layer_option == NULL)
            args->layer_option = "--dropin";
        break;
    case CLI_OPT_ENV_PREFIX:
        args->env_prefix = optarg;
        if (args->layer_option == NULL)
            args->layer_option = "--env-prefix";
        break;
    default:
        if (optarg[0] == '\0')
            return cli_usage_error(cmd, "--state-file needs a file, not an empty string");
        args->state_file = optarg;
        if (args->layer_option == NULL)
            args->layer_option = "--state-file";
        break;
    }
    return CLI_PARSE_GO_ON;
}

int cli_parse_args(const struct cli_command *cmd, int argc, char **argv,
                   const struct option *longopts, struct cli_args *args)
{
    int c;

    memset(args, 0, sizeof(*args));
    args->socket = cli_global_socket;
    /* As snapconfd: the environment's prefix unless --env-prefix says
     * otherwise (--env-prefix '' for none). */
    args->env_prefix = getenv("SNAPCONF_ENV_PREFIX");
    /* "-" hands operands back in order as code 1, so "get PATH --file F"
     * works as "get --file F PATH" does, even under POSIXLY_CORRECT. */
    while ((c = getopt_long(argc, argv, "-f:h", longopts, NULL)) != -1) {
        switch (c) {
        case 1:
            add_operand(args, optarg);
            break;
        case 'f':
            args->file = optarg;
            break;
        case 'h':
            return cli_print_help(cmd);
        case CLI_OPT_JSON:
            args->json = true;
            args->format = "json";
            break;
        case CLI_OPT_FORMAT:
            args->format = optarg;
            break;
        case CLI_OPT_SOCKET:
            if (optarg[0] == '\0')
                return cli_usage_error(cmd, "--socket needs a path, not an empty string");
            args->socket = optarg;
            break;
        case CLI_OPT_SINCE:
            args->since = optarg;
            break;
        case CLI_OPT_COMPLETE:
            args->complete = optarg;
            break;
        case CLI_OPT_EXPLAIN:
            args->explain = true;
            break;
        case CLI_OPT_DROPIN:
        case CLI_OPT_ENV_PREFIX:
        case CLI_OPT_STATE_FILE: {
            int rc = layer_option(cmd, c, args);
            if (rc != CLI_PARSE_GO_ON)
                return rc;
            break;
        }
        default:
            return cli_try_help(cmd);
        }
    }
    /* Whatever follows "--" is an operand even if it starts with '-'. */
    while (optind < argc)
        add_operand(args, argv[optind++]);
    return CLI_PARSE_GO_ON;
}

int cli_parse_no_operands(const struct cli_command *cmd, int argc, char **argv,
                          const struct option *longopts, struct cli_args *args)
{
    int rc = cli_parse_args(cmd, argc, argv, longopts, args);

    if (rc == CLI_PARSE_GO_ON && args->n_operands > 0)
        return cli_usage_error(cmd, "unexpected argument '%s'", args->operand);
    return rc;
}

static void print_usage(FILE *out)
{
    fputs("Usage: snapconf [--help] [--version] [--socket SOCKET] COMMAND [ARGS...]\n"
          "\n"
          "Reads snapconf configurations: from snapconfd, the daemon serving the\n"
          "live configuration, or with --file straight from a file.  Changes the\n"
          "daemon's configuration at run time with runtime overrides.\n"
          "\n"
          "Commands:\n",
          out);
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (!commands[i]->hidden)
            fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
    }
    fputs("\n"
          "Options:\n"
          "      --socket SOCKET  snapconfd's socket, for every command (see below)\n"
          "  -h, --help           show this help and exit\n"
          "  -V, --version        show the version and exit\n"
          "\n"
          "Run 'snapconf COMMAND --help' for the arguments of a command.  Every\n"
          "command but help takes --json for output meant for programs.\n"
          "\n"
          "The commands without --file ask snapconfd on the Unix socket given by\n"
          "--socket, else $SNAPCONF_SOCKET, else $RUNTIME_DIRECTORY/snapconf.sock,\n"
          "else " CLI_DEFAULT_SOCKET ".\n"
          "\n",
          out);
    fputs(exit_status_help, out);
}

static const struct cli_command *find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (strcmp(commands[i]->name, name) == 0)
            return commands[i];
    }
    return NULL;
}

static int cmd_help(const struct cli_command *cmd, int argc, char **argv)
{
    static const struct option options[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        if (c == 'h')
            return cli_print_help(cmd);
        return cli_try_help(cmd);
    }
    if (optind == argc) {
        print_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (argc - optind > 1)
        return cli_usage_error(cmd, "too many arguments");

    const struct cli_command *target = find_command(argv[optind]);
    if (target == NULL)
        return cli_usage_error(cmd, "unknown command '%s'", argv[optind]);
    return cli_print_help(target);
}

/*
 * Hands argv (from the command's name on) to the command.  argv[0] becomes
 * "snapconf NAME" so that getopt's own messages name the command, and
 * optind = 0 makes glibc's getopt start afresh rather than carry state over
 * from the global options.
 */
static int run_command(const struct cli_command *cmd, int argc, char **argv)
{
    char prog[64];

    snprintf(prog, sizeof(prog), "snapconf %s", cmd->name);
    argv[0] = prog;
    optind = 0;
    return cmd->run(cmd, argc, argv);
}

static int run(int argc, char **argv)
{
    static const struct option options[] = {
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {"socket", required_argument, NULL, CLI_OPT_SOCKET},
        {NULL, 0, NULL, 0},
    };
    static char prog[] = "snapconf";
    int c;

    /* Messages from getopt start with argv[0]; the bare name reads better
     * than whatever path the tool was started by. */
    argv[0] = prog;
    /* "+": stop at the command's name; the options after it are its own. */
    while ((c = getopt_long(argc, argv, "+hV", options, NULL)) != -1) {
        switch (c) {
        case 'h':
            print_usage(stdout);
            return CLI_EXIT_OK;
        case 'V':
            printf("snapconf %s\n", snapconf_version_string());
            return CLI_EXIT_OK;
        case CLI_OPT_SOCKET:
            if (optarg[0] == '\0') {
                cli_error("--socket needs a path, not an empty string");
                fputs("Try 'snapconf --help'.\n", stderr);
                return CLI_EXIT_USAGE;
            }
            cli_global_socket = optarg;
            break;
        default:
            fputs("Try 'snapconf --help'.\n", stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind == argc) {
        cli_error("missing command");
        print_usage(stderr);
        return CLI_EXIT_USAGE;
    }

    const struct cli_command *cmd = find_command(argv[optind]);
    if (cmd == NULL) {
        cli_error("unknown command '%s'", argv[optind]);
        fputs("Try 'snapconf --help'.\n", stderr);
        return CLI_EXIT_USAGE;
    }
    return run_command(cmd, argc - optind, argv + optind);
}

/*
 * stdout is buffered, so a full disk or a closed pipe may show only when it
 * is flushed; checking here keeps "exit 0" from claiming output that never
 * arrived.
 */
static int finish_output(int rc)
{
    int err = fflush(stdout) != 0 ? errno : 0;

    if (err == 0 && !ferror(stdout))
        return rc;
    cli_error("cannot write output: %s", err != 0 ? strerror(err) : "write error");
    return CLI_EXIT_INTERNAL;
}

int main(int argc, char **argv)
{
    int rc = finish_output(run(argc, argv));

    cli_curl_unload();
    return rc;
}

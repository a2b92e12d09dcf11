/*
 * cmd_file.c - the commands that read a configuration file directly:
 * get, dump and check.
 *
 * They share one argument parser: each command passes only its own long
 * options, so getopt rejects the others' options for it.
 */
#include "cli.h"
#include "render.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* getopt_long codes of the options that have no short form. */
enum { OPT_JSON = 256, OPT_FORMAT };

/* Returned by parse_args() when the command should go on. */
#define PARSE_GO_ON (-1)

struct file_args {
    const char *file;    /* --file */
    const char *format;  /* --format, or "json" for --json; NULL if neither */
    bool json;           /* --json */
    const char *operand; /* the first operand */
    int n_operands;
};

static void add_operand(struct file_args *args, const char *arg)
{
    if (args->n_operands++ == 0)
        args->operand = arg;
}

/*
 * Parses argv into args.  Returns PARSE_GO_ON, or the exit code when the
 * command is done already (--help, or an option getopt rejected and has
 * reported).
 */
static int parse_args(const struct cli_command *cmd, int argc, char **argv,
                      const struct option *longopts, struct file_args *args)
{
    int c;

    memset(args, 0, sizeof(*args));
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
        case OPT_JSON:
            args->json = true;
            args->format = "json";
            break;
        case OPT_FORMAT:
            args->format = optarg;
            break;
        default:
            return cli_try_help(cmd);
        }
    }
    /* Whatever follows "--" is an operand even if it starts with '-'. */
    while (optind < argc)
        add_operand(args, argv[optind++]);
    return PARSE_GO_ON;
}

/*
 * Loads file into *out.  On failure prints the library's message, which
 * starts with "FILE:LINE:COLUMN: " as compilers do, so editors can jump to
 * the error, and returns the exit code to use.
 */
static int load_file(const char *file, snapconf_snap **out)
{
    snapconf_error err;
    int rc;

    memset(&err, 0, sizeof(err));
    rc = snapconf_snap_load_file(file, out, &err);
    if (rc == 0)
        return CLI_EXIT_OK;
    if (err.message[0] != '\0')
        fprintf(stderr, "%s\n", err.message);
    else
        fprintf(stderr, "%s: %s\n", file, snapconf_strerror(rc));
    return rc == SNAPCONF_ENOMEM ? CLI_EXIT_INTERNAL : CLI_EXIT_CONFIG;
}

static int report_render_error(const char *file, const render_error *err)
{
    /* A write error is reported once, with its cause, by main's final
     * flush. */
    if (!ferror(stdout))
        cli_error("%s: %s", file, err->message);
    return CLI_EXIT_INTERNAL;
}

/* ---- get ---------------------------------------------------------------- */

/* Compiles the path first, so that a malformed one is reported with its
 * column, as a usage error, before the file is even read. */
static int compile_path(const struct cli_command *cmd, const char *text, snapconf_path **out)
{
    snapconf_error err;
    int rc;

    memset(&err, 0, sizeof(err));
    rc = snapconf_path_compile(text, out, &err);
    if (rc == 0)
        return CLI_EXIT_OK;
    if (rc != SNAPCONF_EPATH) {
        cli_error("%s: %s", text, snapconf_strerror(rc));
        return CLI_EXIT_INTERNAL;
    }
    /* The library's message quotes the path and names the column. */
    if (err.message[0] != '\0')
        return cli_usage_error(cmd, "%s", err.message);
    return cli_usage_error(cmd, "invalid path '%s' at column %d", text, err.column);
}

static int print_value(const snapconf_snap *snap, const snapconf_path *path,
                       const struct file_args *args)
{
    const snapconf_node *node;
    render_error err;
    int rc = snapconf_find_path(snap, path, &node);

    if (rc == SNAPCONF_ENOTFOUND) {
        cli_error("%s: %s in %s", args->operand, snapconf_strerror(rc), args->file);
        cli_explain_missing(snap, args->operand);
        return CLI_EXIT_NOTFOUND;
    }
    if (rc < 0) {
        cli_error("%s: %s", args->operand, snapconf_strerror(rc));
        return CLI_EXIT_INTERNAL;
    }
    rc = args->json ? render_json(stdout, node, &err) : render_text(stdout, node, &err);
    return rc < 0 ? report_render_error(args->file, &err) : CLI_EXIT_OK;
}

static int cmd_get(const struct cli_command *cmd, int argc, char **argv)
{
    static const struct option options[] = {
        {"file", required_argument, NULL, 'f'},
        {"json", no_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct file_args args;
    snapconf_path *path = NULL;
    snapconf_snap *snap = NULL;
    int rc = parse_args(cmd, argc, argv, options, &args);

    if (rc != PARSE_GO_ON)
        return rc;
    if (args.file == NULL)
        return cli_usage_error(cmd, "missing --file FILE");
    if (args.n_operands != 1)
        return cli_usage_error(cmd, args.n_operands == 0 ? "missing PATH" : "too many arguments");

    rc = compile_path(cmd, args.operand, &path);
    if (rc == CLI_EXIT_OK)
        rc = load_file(args.file, &snap);
    if (rc == CLI_EXIT_OK)
        rc = print_value(snap, path, &args);
    snapconf_snap_free(snap);
    snapconf_path_free(path);
    return rc;
}

const struct cli_command cli_cmd_get = {
    .name = "get",
    .run = cmd_get,
    .summary = "Print the value at a path",
    .help = "Usage: snapconf get --file FILE [--json] PATH\n"
            "\n"
            "Prints the value at PATH in the configuration file FILE.\n"
            "\n"
            "A string prints as it is, without quotes; null, true and false as those\n"
            "words; an int in decimal; a float in the shortest form that reads back as\n"
            "the same number, with .inf, -.inf and .nan for infinities and NaN.  A\n"
            "mapping or a sequence prints as JSON, keys in document order.\n"
            "\n"
            "PATH names keys separated by '.', and sequence items as [N], from 0:\n"
            "  server.port   upstreams[0].host   labels.\"app.kubernetes.io/name\"\n"
            "A key holding '.', '[', ']' or '\"' goes in double quotes, with \\\" and \\\\\n"
            "inside.  The empty path '' is the whole file.  Put -- before a PATH that\n"
            "starts with '-'.  Options and PATH may come in any order.\n"
            "\n"
            "Options:\n"
            "  -f, --file FILE  the configuration file to read\n"
            "      --json       print the value as JSON, scalars too (a string gets its\n"
            "                   quotes and escapes); JSON has no infinities or NaN, so\n"
            "                   those print as the strings \".inf\", \"-.inf\", \".nan\"\n"
            "  -h, --help       show this help and exit\n"
            "\n"
            "Exit status: 0 found, 1 no value at PATH, 2 usage error or malformed PATH,\n"
            "4 FILE invalid or unreadable, 5 internal error.\n",
};

/* ---- dump --------------------------------------------------------------- */

static int cmd_dump(const struct cli_command *cmd, int argc, char **argv)
{
    static const struct option options[] = {
        {"file", required_argument, NULL, 'f'},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"json", no_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct file_args args;
    snapconf_snap *snap = NULL;
    render_error err;
    bool yaml;
    int rc = parse_args(cmd, argc, argv, options, &args);

    if (rc != PARSE_GO_ON)
        return rc;
    if (args.file == NULL)
        return cli_usage_error(cmd, "missing --file FILE");
    if (args.n_operands > 0)
        return cli_usage_error(cmd, "unexpected argument '%s'", args.operand);
    yaml = args.format != NULL && strcmp(args.format, "yaml") == 0;
    if (!yaml && args.format != NULL && strcmp(args.format, "json") != 0)
        return cli_usage_error(cmd, "unknown format '%s' (use json or yaml)", args.format);

    rc = load_file(args.file, &snap);
    if (rc != CLI_EXIT_OK)
        return rc;
    const snapconf_node *root = snapconf_snap_root(snap);
    rc = yaml ? render_yaml(stdout, root, &err) : render_json(stdout, root, &err);
    rc = rc < 0 ? report_render_error(args.file, &err) : CLI_EXIT_OK;
    snapconf_snap_free(snap);
    return rc;
}

const struct cli_command cli_cmd_dump = {
    .name = "dump",
    .run = cmd_dump,
    .summary = "Print the whole configuration as JSON or YAML",
    .help = "Usage: snapconf dump --file FILE [--format json|yaml]\n"
            "\n"
            "Prints the whole configuration in FILE as the snapshot holds it: anchors,\n"
            "aliases and merge keys resolved, keys in document order.\n"
            "\n"
            "JSON has no infinities or NaN, so those print as the strings \".inf\",\n"
            "\"-.inf\" and \".nan\".  The YAML output loads back to the same values and\n"
            "types: strings that would read as another type, such as \"8080\", \"true\"\n"
            "or \"\", are quoted.\n"
            "\n"
            "Options:\n"
            "  -f, --file FILE      the configuration file to read\n"
            "      --format FORMAT  json (the default) or yaml\n"
            "      --json           the same as --format json\n"
            "  -h, --help           show this help and exit\n"
            "\n"
            "Exit status: 0 success, 2 usage error, 4 FILE invalid or unreadable,\n"
            "5 internal error.\n",
};

/* ---- check -------------------------------------------------------------- */

static int cmd_check(const struct cli_command *cmd, int argc, char **argv)
{
    static const struct option options[] = {
        {"file", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct file_args args;
    snapconf_snap *snap = NULL;
    int rc = parse_args(cmd, argc, argv, options, &args);

    if (rc != PARSE_GO_ON)
        return rc;
    if (args.file != NULL && args.n_operands > 0)
        return cli_usage_error(cmd, "give FILE either with --file or as an argument");
    if (args.file == NULL && args.n_operands != 1)
        return cli_usage_error(cmd, args.n_operands == 0 ? "missing FILE" : "too many arguments");
    if (args.file == NULL)
        args.file = args.operand;

    rc = load_file(args.file, &snap);
    if (rc == CLI_EXIT_OK)
        printf("%s: OK\n", args.file);
    snapconf_snap_free(snap);
    return rc;
}

const struct cli_command cli_cmd_check = {
    .name = "check",
    .run = cmd_check,
    .summary = "Check that a configuration file is valid",
    .help = "Usage: snapconf check FILE\n"
            "       snapconf check --file FILE\n"
            "\n"
            "Loads FILE as a configuration and prints \"FILE: OK\" when it is valid.\n"
            "When it is not, prints why to stderr, starting with FILE:LINE:COLUMN.\n"
            "\n"
            "Options:\n"
            "  -f, --file FILE  the configuration file to check\n"
            "  -h, --help       show this help and exit\n"
            "\n"
            "Exit status: 0 valid, 2 usage error, 4 FILE invalid or unreadable,\n"
            "5 internal error.\n",
};

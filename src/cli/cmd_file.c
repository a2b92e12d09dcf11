/*
 * cmd_file.c - get, dump and check: their command lines, and their work
 * when --file names the configuration file to read, merged with the layers
 * --dropin, --env-prefix and --state-file name exactly as snapconfd would
 * merge them.  Without --file they ask snapconfd (cmd_daemon.c) and print
 * the same.
 */
#include "cli.h"
#include "render.h"

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Whether args asks for layers on top of the file. */
static bool layered(const struct cli_args *args)
{
    return args->n_dropins > 0 || (args->env_prefix != NULL && args->env_prefix[0] != '\0') ||
           args->state_file != NULL;
}

/*
 * Prints the library's message, which starts with "FILE:LINE:COLUMN: " as
 * compilers do, so editors can jump to the error, and returns the exit code
 * to use.
 */
static int load_failed(const char *file, int rc, const snapconf_error *err)
{
    if (err->message[0] != '\0')
        fprintf(stderr, "%s\n", err->message);
    else
        fprintf(stderr, "%s: %s\n", file, snapconf_strerror(rc));
    return rc == SNAPCONF_ENOMEM ? CLI_EXIT_INTERNAL : CLI_EXIT_CONFIG;
}

/* The file with its layers; 0 or the library's code with err filled. */
static int load_snap(const struct cli_args *args, snapconf_snap **out, snapconf_error *err)
{
    snapconf_options opts;

    memset(err, 0, sizeof(*err));
    if (!layered(args))
        return snapconf_snap_load_file(args->file, out, err);
    snapconf_options_init(&opts);
    if (args->n_dropins > 0)
        opts.dropin_dirs = (const char *const *)args->dropins;
    if (args->env_prefix != NULL && args->env_prefix[0] != '\0')
        opts.env_prefix = args->env_prefix;
    opts.state_file = args->state_file;
    return snapconf_snap_load_layered(args->file, &opts, out, err);
}

int cli_load_file(const struct cli_args *args, snapconf_snap **out)
{
    snapconf_error err;
    int rc = load_snap(args, out, &err);

    return rc == 0 ? CLI_EXIT_OK : load_failed(args->file, rc, &err);
}

int cli_no_layers(const struct cli_command *cmd, const struct cli_args *args)
{
    if (args->layer_option == NULL)
        return CLI_EXIT_OK;
    return cli_usage_error(cmd,
                           "%s goes with --file: snapconfd merges the layers it was started "
                           "with",
                           args->layer_option);
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

/* The path is compiled first, so that a malformed one is reported with its
 * column, as a usage error, before the file is even read. */
int cli_compile_path(const struct cli_command *cmd, const char *text, snapconf_path **out)
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

/* get --explain: the value (node, NULL when there is none) and where it
 * came from. */
static int print_explained(const snapconf_snap *snap, const snapconf_path *path,
                           const snapconf_node *node, const struct cli_args *args)
{
    struct cli_explanation e;
    int rc = cli_explain_snap(snap, snapconf_path_str(path), &e);

    if (rc == CLI_EXIT_OK)
        rc = cli_print_explained(snapconf_path_str(path), node, &e, args->json);
    cli_explanation_free(&e);
    return rc;
}

static int print_value(const snapconf_snap *snap, const snapconf_path *path,
                       const struct cli_args *args)
{
    const snapconf_node *node;
    render_error err;
    int rc = snapconf_find_path(snap, path, &node);

    if (rc == SNAPCONF_ENOTFOUND) {
        cli_error("%s: %s in %s", args->operand, snapconf_strerror(rc), args->file);
        cli_explain_missing(snapconf_snap_root(snap), args->operand);
        if (args->explain && print_explained(snap, path, NULL, args) != CLI_EXIT_OK)
            return CLI_EXIT_INTERNAL;
        return CLI_EXIT_NOTFOUND;
    }
    if (rc < 0) {
        cli_error("%s: %s", args->operand, snapconf_strerror(rc));
        return CLI_EXIT_INTERNAL;
    }
    if (args->explain)
        return print_explained(snap, path, node, args);
    rc = args->json ? render_json(stdout, node, &err) : render_text(stdout, node, &err);
    return rc < 0 ? report_render_error(args->file, &err) : CLI_EXIT_OK;
}

static int cmd_get(const struct cli_command *cmd, int argc, char **argv)
{
    static const struct option options[] = {
        CLI_OPTION_FILE,       CLI_OPTION_SOCKET, CLI_OPTION_JSON,
        CLI_OPTION_EXPLAIN,    CLI_OPTION_DROPIN, CLI_OPTION_ENV_PREFIX,
        CLI_OPTION_STATE_FILE, CLI_OPTION_HELP,   CLI_OPTION_END,
    };
    struct cli_args args;
    snapconf_path *path = NULL;
    snapconf_snap *snap = NULL;
    int rc = cli_parse_args(cmd, argc, argv, options, &args);

    if (rc != CLI_PARSE_GO_ON)
        return rc;
    if (args.n_operands != 1)
        return cli_usage_error(cmd, args.n_operands == 0 ? "missing PATH" : "too many arguments");
    if (args.file == NULL) {
        rc = cli_no_layers(cmd, &args);
        return rc == CLI_EXIT_OK ? cli_daemon_get(cmd, &args) : rc;
    }

    rc = cli_compile_path(cmd, args.operand, &path);
    if (rc == CLI_EXIT_OK)
        rc = cli_load_file(&args, &snap);
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
    .help = "Usage: snapconf get [--json] [--explain] PATH\n"
            "       snapconf get --file FILE [LAYERS] [--json] [--explain] PATH\n"
            "\n"
            "Prints the value at PATH in snapconfd's current configuration, or with\n"
            "--file in the configuration file FILE.  Both print the same.\n"
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
            "--explain then says where the value came from, like git config\n"
            "--show-origin: one line per layer that set it, the highest first, so the\n"
            "first line is where the live value comes from:\n"
            "  9090\n"
            "    runtime override (set server.port)  value       9090\n"
            "    /etc/app/conf.d/20-port.yaml:3:9    overridden  8081\n"
            "    /etc/app/config.yaml:12:9           overridden  8080\n"
            "A layer is a file (FILE:LINE:COLUMN of the value), an environment\n"
            "variable (env NAME) or a runtime override; its role is value (it set\n"
            "the live value), merged (it gave entries to a live mapping), overridden\n"
            "(a later layer replaced it) or deleted (it removed the value: a null, an\n"
            "unset, or a scalar replacing a parent, named in parentheses); then the\n"
            "layer's own value, shortened.  A value that was deleted is explained\n"
            "on stderr, with exit status 1.\n"
            "\n"
            "Options:\n"
            "  -f, --file FILE        the configuration file to read, without snapconfd\n"
            "      --socket SOCKET    snapconfd's socket (see 'snapconf --help')\n"
            "      --json             print the value as JSON, scalars too (a string gets\n"
            "                         its quotes and escapes); JSON has no infinities or\n"
            "                         NaN, so those print as the strings \".inf\", \"-.inf\",\n"
            "                         \".nan\"; with --explain, one line\n"
            "                         {\"path\", \"value\", \"type\", \"origin\"}, the origins\n"
            "                         lowest first as GET /v1/keys gives them\n"
            "      --explain          also print where the value came from (above)\n"
            "  -h, --help             show this help and exit\n"
            "\n"
            "LAYERS, with --file, as snapconfd's options of the same names:\n"
            "      --dropin DIR       also read DIR/*.yaml over FILE, in the byte order of\n"
            "                         their names; repeatable, in order\n"
            "      --env-prefix P     environment overrides: P_SERVER__PORT=9090 sets\n"
            "                         server.port (default: $SNAPCONF_ENV_PREFIX; '' none)\n"
            "      --state-file F     apply the runtime overrides saved in F\n"
            "\n"
            "Exit status: 0 found, 1 no value at PATH, 2 usage error or malformed PATH,\n"
            "3 snapconfd unreachable, 4 FILE invalid or unreadable, 5 internal error.\n",
};

/* ---- dump --------------------------------------------------------------- */

static int cmd_dump(const struct cli_command *cmd, int argc, char **argv)
{
    static const struct option options[] = {
        CLI_OPTION_FILE,
        CLI_OPTION_SOCKET,
        {"format", required_argument, NULL, CLI_OPT_FORMAT},
        CLI_OPTION_JSON,
        CLI_OPTION_DROPIN,
        CLI_OPTION_ENV_PREFIX,
        CLI_OPTION_STATE_FILE,
        CLI_OPTION_HELP,
        CLI_OPTION_END,
    };
    struct cli_args args;
    snapconf_snap *snap = NULL;
    render_error err;
    bool yaml;
    int rc = cli_parse_no_operands(cmd, argc, argv, options, &args);

    if (rc != CLI_PARSE_GO_ON)
        return rc;
    yaml = args.format != NULL && strcmp(args.format, "yaml") == 0;
    if (!yaml && args.format != NULL && strcmp(args.format, "json") != 0)
        return cli_usage_error(cmd, "unknown format '%s' (use json or yaml)", args.format);
    if (args.file == NULL) {
        rc = cli_no_layers(cmd, &args);
        return rc == CLI_EXIT_OK ? cli_daemon_dump(cmd, &args, yaml) : rc;
    }

    rc = cli_load_file(&args, &snap);
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
    .help = "Usage: snapconf dump [--format json|yaml]\n"
            "       snapconf dump --file FILE [LAYERS] [--format json|yaml]\n"
            "\n"
            "Prints snapconfd's current configuration, or with --file the whole\n"
            "configuration in FILE, as the snapshot holds it: anchors, aliases and\n"
            "merge keys resolved, keys in document order.\n"
            "\n"
            "JSON has no infinities or NaN, so those print as the strings \".inf\",\n"
            "\"-.inf\" and \".nan\".  The YAML output loads back to the same values and\n"
            "types: strings that would read as another type, such as \"8080\", \"true\"\n"
            "or \"\", are quoted.  snapconfd serves JSON, which cannot tell the float\n"
            ".inf from the string \".inf\" nor keep tags such as !color, so the YAML of\n"
            "its configuration writes those as plain strings.\n"
            "\n"
            "Options:\n"
            "  -f, --file FILE      the configuration file to read, without snapconfd\n"
            "      --socket SOCKET  snapconfd's socket (see 'snapconf --help')\n"
            "      --format FORMAT  json (the default) or yaml\n"
            "      --json           the same as --format json\n"
            "  -h, --help           show this help and exit\n"
            "\n"
            "LAYERS, with --file, merged over FILE as snapconfd merges them:\n"
            "      --dropin DIR     also read DIR/*.yaml; repeatable, in order\n"
            "      --env-prefix P   environment overrides (default $SNAPCONF_ENV_PREFIX)\n"
            "      --state-file F   apply the runtime overrides saved in F\n"
            "\n"
            "Exit status: 0 success, 2 usage error, 3 snapconfd unreachable, 4 FILE\n"
            "invalid or unreadable, 5 internal error.\n",
};

/* ---- check -------------------------------------------------------------- */

/*
 * check --json FILE: {"file": FILE, "valid": true}, or "valid": false with
 * "error" shaped as snapconfd's "last_error" (code, message, file, line,
 * column), on stdout either way.
 */
static int check_json(const struct cli_args *args)
{
    const char *file = args->file;
    snapconf_error err;
    snapconf_snap *snap = NULL;
    json_t *out, *error = NULL;
    int rc = load_snap(args, &snap, &err);

    snapconf_snap_free(snap);
    if (rc < 0) {
        error = json_pack("{s:s, s:s, s:s, s:i, s:i}", "code", snapconf_err_name(rc), "message",
                          err.message[0] ? err.message : snapconf_strerror(rc), "file",
                          err.file[0] ? err.file : file, "line", err.line, "column", err.column);
        if (error == NULL)
            return CLI_EXIT_INTERNAL;
    }
    out = json_pack("{s:s, s:b, s:o*}", "file", file, "valid", rc == 0, "error", error);
    if (out == NULL || json_dumpf(out, stdout, JSON_COMPACT) < 0) {
        json_decref(out);
        return CLI_EXIT_INTERNAL;
    }
    json_decref(out);
    fputc('\n', stdout);
    if (rc == 0)
        return CLI_EXIT_OK;
    return rc == SNAPCONF_ENOMEM ? CLI_EXIT_INTERNAL : CLI_EXIT_CONFIG;
}

static int cmd_check(const struct cli_command *cmd, int argc, char **argv)
{
    static const struct option options[] = {
        CLI_OPTION_FILE,       CLI_OPTION_SOCKET,     CLI_OPTION_JSON, CLI_OPTION_DROPIN,
        CLI_OPTION_ENV_PREFIX, CLI_OPTION_STATE_FILE, CLI_OPTION_HELP, CLI_OPTION_END,
    };
    struct cli_args args;
    snapconf_snap *snap = NULL;
    int rc = cli_parse_args(cmd, argc, argv, options, &args);

    if (rc != CLI_PARSE_GO_ON)
        return rc;
    if (args.file != NULL && args.n_operands > 0)
        return cli_usage_error(cmd, "give FILE either with --file or as an argument");
    if (args.n_operands > 1)
        return cli_usage_error(cmd, "too many arguments");
    if (args.file == NULL)
        args.file = args.operand;
    if (args.file == NULL) {
        rc = cli_no_layers(cmd, &args);
        return rc == CLI_EXIT_OK ? cli_daemon_check(cmd, &args) : rc;
    }
    if (args.json)
        return check_json(&args);

    rc = cli_load_file(&args, &snap);
    if (rc == CLI_EXIT_OK)
        printf("%s: OK\n", args.file);
    snapconf_snap_free(snap);
    return rc;
}

const struct cli_command cli_cmd_check = {
    .name = "check",
    .run = cmd_check,
    .summary = "Check that a configuration file is valid",
    .help = "Usage: snapconf check [LAYERS] [--json] FILE\n"
            "       snapconf check [LAYERS] [--json] --file FILE\n"
            "       snapconf check [--json]\n"
            "\n"
            "Loads FILE as a configuration and prints \"FILE: OK\" when it is valid.\n"
            "When it is not, prints why to stderr, starting with FILE:LINE:COLUMN.\n"
            "With LAYERS, checks FILE merged with them, as snapconfd would serve it:\n"
            "a drop-in that does not load is named with its position.\n"
            "\n"
            "Without FILE, asks snapconfd whether its latest load of its configuration\n"
            "file succeeded: prints \"FILE: OK\" with the generation it serves, or the\n"
            "error of the latest failed load (the daemon keeps serving the last good\n"
            "configuration meanwhile).\n"
            "\n"
            "Options:\n"
            "  -f, --file FILE      the configuration file to check\n"
            "      --socket SOCKET  snapconfd's socket (see 'snapconf --help')\n"
            "      --json           print {\"file\", \"valid\", \"error\"} as JSON on stdout,\n"
            "                       \"error\" with code, message, file, line, column\n"
            "  -h, --help           show this help and exit\n"
            "\n"
            "LAYERS, as for get and dump:\n"
            "      --dropin DIR     also read DIR/*.yaml; repeatable, in order\n"
            "      --env-prefix P   environment overrides (default $SNAPCONF_ENV_PREFIX)\n"
            "      --state-file F   apply the runtime overrides saved in F\n"
            "\n"
            "Exit status: 0 valid, 2 usage error, 3 snapconfd unreachable, 4 FILE\n"
            "invalid or unreadable, 5 internal error.\n",
};

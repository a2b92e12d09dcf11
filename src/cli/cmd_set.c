/*
 * cmd_set.c - the commands that change snapconfd's configuration at run
 * time, and the one that lists those changes: set, unset, revert and
 * overrides, over PUT and DELETE /v1/keys/PATH, DELETE /v1/overrides[/PATH]
 * and GET /v1/overrides (docs/API.md).
 *
 * A runtime override lives in the daemon, above every file, until it is
 * reverted; there is no file to write, so --file is refused with a
 * message rather than left to getopt.  Whether the user may change
 * anything is the daemon's decision (its --admin-uid list): a refusal has
 * its own exit status, 6.
 */
#include "cli.h"
#include "client.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const struct option write_options[] = {
    CLI_OPTION_FILE, CLI_OPTION_SOCKET, CLI_OPTION_JSON, CLI_OPTION_HELP, CLI_OPTION_END,
};

/* Parses the command line of set, unset or revert: between min and max
 * operands, no --file.  Returns CLI_PARSE_GO_ON or the exit code. */
static int parse_write(const struct cli_command *cmd, int argc, char **argv, int min, int max,
                       struct cli_args *args)
{
    int rc = cli_parse_args(cmd, argc, argv, write_options, args);

    if (rc != CLI_PARSE_GO_ON)
        return rc;
    if (args->file != NULL)
        return cli_usage_error(cmd,
                               "--file: %s changes what snapconfd serves, not a file; edit the "
                               "file to change it",
                               cmd->name);
    if (args->n_operands < min)
        return cli_usage_error(cmd, "missing %s", args->n_operands == 0 ? "PATH" : "VALUE");
    if (args->n_operands > max)
        return cli_usage_error(cmd, "too many arguments");
    return CLI_PARSE_GO_ON;
}

/* endpoint followed by path, percent-encoded, with path checked first so
 * that a malformed one is a usage error with its column.  NULL (reported,
 * *rc set) on failure. */
static char *target_for(const struct cli_command *cmd, const char *endpoint, const char *path,
                        int *rc)
{
    snapconf_path *compiled = NULL;
    char *escaped, *target = NULL;

    *rc = cli_compile_path(cmd, path, &compiled);
    snapconf_path_free(compiled);
    if (*rc != CLI_EXIT_OK)
        return NULL;
    *rc = CLI_EXIT_INTERNAL;
    escaped = cli_escape(path);
    if (escaped == NULL)
        return NULL;
    if (asprintf(&target, "%s%s", endpoint, escaped) < 0) {
        target = NULL;
        cli_error("out of memory");
    }
    cli_curl.free(escaped);
    if (target != NULL)
        *rc = CLI_EXIT_OK;
    return target;
}

/*
 * The common end of a change: reports a refusal and returns its exit
 * code; else prints the body as it is (--json) or "WHAT PATH: generation
 * N" and returns CLI_EXIT_OK.
 */
static int report_change(const char *socket, const char *what, const char *request,
                         const struct cli_args *args, const struct cli_response *resp)
{
    snapconf_snap *snap = NULL;
    const char *path;
    int64_t generation = resp->generation;
    int rc;

    if (resp->status != 200)
        return cli_report_answer(resp, socket, request);
    if (args->json)
        return cli_print_body(resp);
    rc = cli_response_json(resp, socket, &snap);
    if (rc != CLI_EXIT_OK)
        return rc;
    path = cli_member_str(snapconf_snap_root(snap), "path");
    cli_member_int(snapconf_snap_root(snap), "generation", &generation);
    printf("%s %s: generation %" PRId64 "\n", what,
           path != NULL ? path : (args->operand ? args->operand : ""), generation);
    snapconf_snap_free(snap);
    return CLI_EXIT_OK;
}

/* ---- what set, unset and revert share ----------------------------------- */

static int report_revert(const char *socket, const struct cli_args *args,
                         const struct cli_response *resp)
{
    snapconf_snap *snap = NULL;
    const snapconf_node *root;
    const char *path;
    int64_t n = 0, generation = resp->generation;
    int rc;

    if (resp->status != 200)
        return cli_report_answer(resp, socket, "DELETE /v1/overrides");
    if (args->json)
        return cli_print_body(resp);
    if ((rc = cli_response_json(resp, socket, &snap)) != CLI_EXIT_OK)
        return rc;
    root = snapconf_snap_root(snap);
    path = cli_member_str(root, "path");
    cli_member_int(root, "reverted", &n);
    cli_member_int(root, "generation", &generation);
    if (path == NULL || path[0] == '\0')
        printf("reverted all %" PRId64 " runtime override%s: generation %" PRId64 "\n", n,
               n == 1 ? "" : "s", generation);
    else
        printf("reverted %" PRId64 " runtime override%s at or below %s: generation %" PRId64 "\n",
               n, n == 1 ? "" : "s", path, generation);
    snapconf_snap_free(snap);
    return CLI_EXIT_OK;
}

/*
 * One change through the daemon: the operands parsed (min..max), the
 * request sent (PUT with the second operand as its body, else DELETE) to
 * endpoint + the first operand, and its answer reported.
 */
struct change_spec {
    int min, max;
    const char *method;   /* "PUT" or "DELETE" */
    const char *endpoint; /* "/v1/keys/" or "/v1/overrides/" (its root: every override) */
    const char *what;     /* for report_change(); NULL: report_revert() */
};

static int run_change(const struct cli_command *cmd, int argc, char **argv,
                      const struct change_spec *c)
{
    struct cli_args args;
    struct cli_response resp;
    char request[64];
    int rc = parse_write(cmd, argc, argv, c->min, c->max, &args);

    if (rc != CLI_PARSE_GO_ON)
        return rc;
    char *target = target_for(cmd, c->endpoint, args.operand != NULL ? args.operand : "", &rc);
    if (target == NULL)
        return rc;
    const char *socket = cli_socket_path(args.socket);
    if (strcmp(c->method, "PUT") == 0)
        rc = cli_http_send(socket, "PUT", target, args.operand2, strlen(args.operand2), &resp);
    else
        rc = cli_http(socket, c->method, target, CLI_TIMEOUT_DEFAULT, false, &resp);
    snprintf(request, sizeof request, "%s %s", c->method, c->endpoint);
    if (rc == CLI_EXIT_OK)
        rc = c->what ? report_change(socket, c->what, request, &args, &resp)
                     : report_revert(socket, &args, &resp);
    cli_response_free(&resp);
    free(target);
    return rc;
}

/* ---- set ------------------------------------------------------------------ */

static int cmd_set(const struct cli_command *cmd, int argc, char **argv)
{
    static const struct change_spec spec = {2, 2, "PUT", "/v1/keys/", "set"};
    return run_change(cmd, argc, argv, &spec);
}

const struct cli_command cli_cmd_set = {
    .name = "set",
    .run = cmd_set,
    .summary = "Override a value in snapconfd at run time",
    .help = "Usage: snapconf set [--socket SOCKET] [--json] PATH VALUE\n"
            "\n"
            "Sets the value at PATH in snapconfd's live configuration to VALUE, a\n"
            "runtime override: snapconfd publishes a new generation at once (its\n"
            "watchers hear of it), and the override stays above every file, across\n"
            "reloads and edits, until 'snapconf revert PATH' drops it (and across\n"
            "restarts when snapconfd has a --state-file).  Prints \"set PATH:\n"
            "generation N\".\n"
            "\n"
            "VALUE is YAML text, typed as in a file: 9090 is an int, true a bool,\n"
            "'\"9090\"' the string, '[a, b]' a sequence, '{host: x, port: 1}' a\n"
            "mapping (which replaces the whole mapping at PATH), null a null.  Parent\n"
            "mappings that do not exist are created.\n"
            "\n"
            "snapconfd lets only the users of its --admin-uid list change values, and\n"
            "only on its Unix socket.\n"
            "\n"
            "Options:\n"
            "      --socket SOCKET  snapconfd's socket (see 'snapconf --help')\n"
            "      --json           print the daemon's answer (PUT /v1/keys/PATH) as it is:\n"
            "                       the new value with its origin\n"
            "  -h, --help           show this help and exit\n"
            "\n"
            "Exit status: 0 set, 2 usage error, malformed PATH or VALUE, 3 snapconfd\n"
            "unreachable, 4 the value does not fit (a parent of PATH is no mapping),\n"
            "5 internal error (the state file cannot be written), 6 not allowed.\n",
};

/* ---- unset ---------------------------------------------------------------- */

static int cmd_unset(const struct cli_command *cmd, int argc, char **argv)
{
    static const struct change_spec spec = {1, 1, "DELETE", "/v1/keys/", "unset"};
    return run_change(cmd, argc, argv, &spec);
}

const struct cli_command cli_cmd_unset = {
    .name = "unset",
    .run = cmd_unset,
    .summary = "Delete a value in snapconfd at run time",
    .help = "Usage: snapconf unset [--socket SOCKET] [--json] PATH\n"
            "\n"
            "Deletes the value at PATH from snapconfd's live configuration, a runtime\n"
            "override like 'snapconf set': the key stays deleted whatever the files\n"
            "say, until 'snapconf revert PATH'.  Prints \"unset PATH: generation N\".\n"
            "\n"
            "Options:\n"
            "      --socket SOCKET  snapconfd's socket (see 'snapconf --help')\n"
            "      --json           print the daemon's answer as it is\n"
            "  -h, --help           show this help and exit\n"
            "\n"
            "Exit status: 0 deleted, 1 no value at PATH, 2 usage error or malformed\n"
            "PATH, 3 snapconfd unreachable, 4 the change does not fit, 5 internal\n"
            "error, 6 not allowed.\n",
};

/* ---- revert --------------------------------------------------------------- */

static int cmd_revert(const struct cli_command *cmd, int argc, char **argv)
{
    static const struct change_spec spec = {0, 1, "DELETE", "/v1/overrides/", NULL};
    return run_change(cmd, argc, argv, &spec);
}

const struct cli_command cli_cmd_revert = {
    .name = "revert",
    .run = cmd_revert,
    .summary = "Drop runtime overrides, so the files show again",
    .help = "Usage: snapconf revert [--socket SOCKET] [--json] [PATH]\n"
            "\n"
            "Drops the runtime overrides (of 'snapconf set' and 'unset') made at PATH\n"
            "or below it, or all of them without PATH, so that the values of the\n"
            "files (and drop-ins and environment) show again, in one new\n"
            "generation.  Prints how many were dropped.  'snapconf overrides' lists\n"
            "them.\n"
            "\n"
            "Options:\n"
            "      --socket SOCKET  snapconfd's socket (see 'snapconf --help')\n"
            "      --json           print the daemon's answer as it is\n"
            "  -h, --help           show this help and exit\n"
            "\n"
            "Exit status: 0 reverted, 1 no override at or below PATH, 2 usage error or\n"
            "malformed PATH, 3 snapconfd unreachable, 5 internal error, 6 not allowed.\n",
};

/* ---- overrides ------------------------------------------------------------ */

/* "set PATH = VALUE" or "unset PATH", one line per override. */
static int print_overrides(const char *socket, const struct cli_response *resp)
{
    snapconf_snap *snap = NULL;
    const snapconf_node *list;
    int rc = cli_response_json(resp, socket, &snap);

    if (rc != CLI_EXIT_OK)
        return rc;
    list = cli_member(snapconf_snap_root(snap), "overrides");
    for (size_t i = 0; list != NULL && i < snapconf_node_size(list); i++) {
        const snapconf_node *o = snapconf_node_at(list, i), *value = cli_member(o, "value");
        const char *op = cli_member_str(o, "op"), *path = cli_member_str(o, "path");
        if (op == NULL || path == NULL)
            continue;
        printf("%s %s", op, path);
        if (value != NULL) {
            fputs(" = ", stdout);
            cli_print_compact(stdout, value);
        }
        putchar('\n');
    }
    snapconf_snap_free(snap);
    return CLI_EXIT_OK;
}

static int cmd_overrides(const struct cli_command *cmd, int argc, char **argv)
{
    static const struct option options[] = {
        CLI_OPTION_SOCKET,
        CLI_OPTION_JSON,
        CLI_OPTION_HELP,
        CLI_OPTION_END,
    };
    struct cli_args args;
    struct cli_response resp;
    char *target;
    int rc = cli_parse_args(cmd, argc, argv, options, &args);

    if (rc != CLI_PARSE_GO_ON)
        return rc;
    if (args.n_operands > 1)
        return cli_usage_error(cmd, "too many arguments");
    /* "/v1/overrides/" is the root: every override. */
    target = target_for(cmd, "/v1/overrides/", args.operand != NULL ? args.operand : "", &rc);
    if (target == NULL)
        return rc;
    const char *socket = cli_socket_path(args.socket);
    rc = cli_http(socket, "GET", target, CLI_TIMEOUT_DEFAULT, false, &resp);
    if (rc == CLI_EXIT_OK && resp.status != 200)
        rc = cli_report_answer(&resp, socket, "GET /v1/overrides");
    else if (rc == CLI_EXIT_OK)
        rc = args.json ? cli_print_body(&resp) : print_overrides(socket, &resp);
    cli_response_free(&resp);
    free(target);
    return rc;
}

const struct cli_command cli_cmd_overrides = {
    .name = "overrides",
    .run = cmd_overrides,
    .summary = "List the runtime overrides in force in snapconfd",
    .help = "Usage: snapconf overrides [--socket SOCKET] [--json] [PATH]\n"
            "\n"
            "Lists the runtime overrides in force (those at or below PATH), in the\n"
            "order they were made, one a line: \"set PATH = VALUE\" (VALUE as JSON)\n"
            "or \"unset PATH\".  Prints nothing when there are none.\n"
            "\n"
            "Options:\n"
            "      --socket SOCKET  snapconfd's socket (see 'snapconf --help')\n"
            "      --json           print the daemon's answer (GET /v1/overrides) as it is\n"
            "  -h, --help           show this help and exit\n"
            "\n"
            "Exit status: 0 success, 2 usage error or malformed PATH, 3 snapconfd\n"
            "unreachable, 5 internal error.\n",
};

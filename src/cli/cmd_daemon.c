/*
 * cmd_daemon.c - the commands answered by snapconfd: get (with --explain
 * too), dump and check without --file, status and reload.
 *
 * get and dump print exactly what they print for a file: the daemon's JSON
 * is decoded into snapconf nodes (client.h says why) and goes through the
 * same renderers.
 */
#include "cli.h"
#include "client.h"
#include "render.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Fetches target with GET and decodes the answer; on any failure reports
 * it and returns the exit code. */
static int fetch_json(const char *socket, const char *target, struct cli_response *resp,
                      snapconf_snap **out)
{
    int rc = cli_http(socket, "GET", target, CLI_TIMEOUT_DEFAULT, false, resp);

    if (rc != CLI_EXIT_OK)
        return rc;
    if (resp->status != 200) {
        char what[128];
        snprintf(what, sizeof(what), "GET %s", target);
        return cli_report_answer(resp, socket, what);
    }
    return cli_response_json(resp, socket, out);
}

static int report_render_error(const char *socket, const render_error *err)
{
    if (!ferror(stdout))
        cli_error("snapconfd at %s: %s", socket, err->message);
    return CLI_EXIT_INTERNAL;
}

static int missing_field(const char *socket, const char *target, const char *field)
{
    cli_error("unexpected answer from snapconfd at %s to GET %s: no \"%s\"", socket, target, field);
    return CLI_EXIT_INTERNAL;
}

/* ---- get ---------------------------------------------------------------- */

/*
 * After a 404 for path: says where it was looked for and, from the whole
 * snapshot, which segment failed and what was probably meant, as get
 * --file does.  Costs a second request, on the error path only.
 */
static void explain_not_found(const char *socket, const char *path, const struct cli_response *resp)
{
    struct cli_response snap_resp;
    snapconf_snap *snap = NULL;
    snapconf_error err;
    const snapconf_node *root = NULL;
    const char *source = NULL;
    int64_t generation = resp->generation;

    memset(&err, 0, sizeof(err));
    if (cli_http(socket, "GET", "/v1/snapshot", CLI_TIMEOUT_DEFAULT, true, &snap_resp) ==
            CLI_EXIT_OK &&
        snap_resp.status == 200 &&
        cli_json_load(snap_resp.body, snap_resp.len, "answer", &snap, &err) == 0) {
        root = snapconf_snap_root(snap);
        source = cli_member_str(root, "source");
        cli_member_int(root, "generation", &generation);
    }
    if (source != NULL && generation >= 0)
        cli_error("%s: no value at that path in %s (snapconfd, generation %" PRId64 ")", path,
                  source, generation);
    else
        cli_error("%s: no value at that path (snapconfd at %s)", path, socket);
    if (cli_member(root, "config") != NULL)
        cli_explain_missing(cli_member(root, "config"), path);
    snapconf_snap_free(snap);
    cli_response_free(&snap_resp);
}

/* get --explain through the daemon: the value (NULL after a 404) and the
 * "origin" array of the answer's root (for a 404, of its "error"). */
static int print_explained(const struct cli_args *args, const snapconf_node *root,
                           const snapconf_node *value)
{
    const snapconf_node *holder = value != NULL ? root : cli_member(root, "error");
    const char *path = cli_member_str(holder, "path");
    struct cli_explanation e;
    int rc = cli_explain_json(cli_member(holder, "origin"), &e);

    if (rc == CLI_EXIT_OK)
        rc = cli_print_explained(path != NULL ? path : args->operand, value, &e, args->json);
    cli_explanation_free(&e);
    return rc;
}

/* The answer to GET /v1/keys/PATH, decoded: the value, or after a 404 why
 * it is missing (and, with --explain, which layers deleted it). */
static int print_key(const char *socket, const struct cli_args *args, const char *target,
                     const struct cli_response *resp)
{
    snapconf_snap *snap = NULL;
    const snapconf_node *root, *value = NULL;
    render_error err;
    int rc = cli_response_json(resp, socket, &snap);

    if (rc != CLI_EXIT_OK)
        return rc;
    root = snapconf_snap_root(snap);
    if (resp->status == 200 && (value = cli_member(root, "value")) == NULL)
        rc = missing_field(socket, target, "value");
    else if (args->explain)
        rc = print_explained(args, root, value);
    else if ((args->json ? render_json(stdout, value, &err) : render_text(stdout, value, &err)) < 0)
        rc = report_render_error(socket, &err);
    snapconf_snap_free(snap);
    return rc;
}

int cli_daemon_get(const struct cli_command *cmd, const struct cli_args *args)
{
    const char *socket = cli_socket_path(args->socket);
    struct cli_response resp;
    snapconf_path *path = NULL;
    char *escaped, *target = NULL;
    int rc = cli_compile_path(cmd, args->operand, &path);

    snapconf_path_free(path);
    if (rc != CLI_EXIT_OK)
        return rc;
    escaped = cli_escape(args->operand);
    if (escaped == NULL)
        return CLI_EXIT_INTERNAL;
    if (asprintf(&target, "/v1/keys/%s", escaped) < 0) {
        cli_curl.free(escaped);
        cli_error("out of memory");
        return CLI_EXIT_INTERNAL;
    }
    cli_curl.free(escaped);

    rc = cli_http(socket, "GET", target, CLI_TIMEOUT_DEFAULT, false, &resp);
    if (rc == CLI_EXIT_OK && resp.status == 404 && cli_answer_is(&resp, "not_found")) {
        explain_not_found(socket, args->operand, &resp);
        rc = CLI_EXIT_NOTFOUND;
        if (args->explain && print_key(socket, args, target, &resp) != CLI_EXIT_OK)
            rc = CLI_EXIT_INTERNAL;
    } else if (rc == CLI_EXIT_OK && resp.status != 200) {
        rc = cli_report_answer(&resp, socket, "GET /v1/keys/");
    } else if (rc == CLI_EXIT_OK) {
        rc = print_key(socket, args, target, &resp);
    }
    cli_response_free(&resp);
    free(target);
    return rc;
}

/* ---- dump --------------------------------------------------------------- */

/* YAML comes rendered by the daemon (GET /v1/snapshot?format=yaml), with
 * the same renderer as dump --file: JSON would lose tags, .inf and .nan. */
static int dump_yaml(const char *socket)
{
    const char *target = "/v1/snapshot?format=yaml";
    struct cli_response resp;
    int rc = cli_http(socket, "GET", target, CLI_TIMEOUT_DEFAULT, false, &resp);

    if (rc == CLI_EXIT_OK && resp.status != 200)
        rc = cli_report_answer(&resp, socket, "GET /v1/snapshot?format=yaml");
    else if (rc == CLI_EXIT_OK && fwrite(resp.body, 1, resp.len, stdout) != resp.len)
        rc = CLI_EXIT_INTERNAL;
    cli_response_free(&resp);
    return rc;
}

int cli_daemon_dump(const struct cli_command *cmd, const struct cli_args *args, bool yaml)
{
    const char *socket = cli_socket_path(args->socket);
    struct cli_response resp;
    snapconf_snap *snap = NULL;
    const snapconf_node *config;
    render_error err;
    int rc;

    (void)cmd;
    if (yaml)
        return dump_yaml(socket);
    rc = fetch_json(socket, "/v1/snapshot", &resp, &snap);
    if (rc == CLI_EXIT_OK) {
        config = cli_member(snapconf_snap_root(snap), "config");
        if (config == NULL)
            rc = missing_field(socket, "/v1/snapshot", "config");
        else if (render_json(stdout, config, &err) < 0)
            rc = report_render_error(socket, &err);
    }
    snapconf_snap_free(snap);
    cli_response_free(&resp);
    return rc;
}

/* ---- check -------------------------------------------------------------- */

int cli_daemon_check(const struct cli_command *cmd, const struct cli_args *args)
{
    const char *socket = cli_socket_path(args->socket);
    struct cli_response resp;
    snapconf_snap *snap = NULL;
    const snapconf_node *root, *error;
    const char *source;
    int64_t generation = -1;
    bool ok = true;
    int rc = fetch_json(socket, "/v1/status", &resp, &snap);

    (void)cmd;
    if (rc != CLI_EXIT_OK) {
        cli_response_free(&resp);
        return rc;
    }
    root = snapconf_snap_root(snap);
    source = cli_member_str(root, "source");
    error = cli_member(root, "last_error");
    cli_member_int(root, "generation", &generation);
    if (!cli_member_bool(root, "last_reload_ok", &ok)) {
        rc = missing_field(socket, "/v1/status", "last_reload_ok");
    } else if (args->json) {
        printf("{\"file\":");
        if (cli_print_compact(stdout, cli_member(root, "source")) < 0)
            fputs("null", stdout);
        printf(",\"valid\":%s,\"generation\":%" PRId64, ok ? "true" : "false", generation);
        if (!ok && error != NULL && snapconf_node_type(error) == SNAPCONF_TYPE_MAP) {
            fputs(",\"error\":", stdout);
            cli_print_compact(stdout, error);
        }
        fputs("}\n", stdout);
    } else if (ok) {
        printf("%s: OK (snapconfd serves generation %" PRId64 ")\n",
               source != NULL ? source : "configuration", generation);
    } else {
        if (error != NULL && snapconf_node_type(error) == SNAPCONF_TYPE_MAP)
            cli_print_positioned(stderr, error);
        cli_error("the latest load failed; snapconfd keeps serving generation %" PRId64,
                  generation);
    }
    if (rc == CLI_EXIT_OK && !ok)
        rc = CLI_EXIT_CONFIG;
    snapconf_snap_free(snap);
    cli_response_free(&resp);
    return rc;
}

/* ---- status ------------------------------------------------------------- */

/* "5 s ago", "3 min ago", "2 h ago", "4 days ago" from a Unix time. */
static void print_age(double then)
{
    struct timespec now;
    double age;
    long long s;

    if (clock_gettime(CLOCK_REALTIME, &now) != 0)
        return;
    age = (double)now.tv_sec + (double)now.tv_nsec / 1e9 - then;
    /* NaN fails every comparison, so it is out with the rest. */
    if (!(age >= 0 && age < 1e15))
        return;
    s = (long long)age;
    if (s < 120)
        printf(" (%lld s ago)", s);
    else if (s < 7200)
        printf(" (%lld min ago)", s / 60);
    else if (s < 172800)
        printf(" (%lld h ago)", s / 3600);
    else
        printf(" (%lld days ago)", s / 86400);
}

static void print_status(const char *socket, const snapconf_node *root)
{
    const char *s, *note;
    const snapconf_node *error;
    int64_t n, failed;
    double t;
    bool ok;

    printf("snapconfd %s on %s\n", (s = cli_member_str(root, "version")) ? s : "(version unknown)",
           socket);
    if ((s = cli_member_str(root, "source")) != NULL)
        printf("  source:        %s\n", s);
    if (cli_member_int(root, "generation", &n))
        printf("  generation:    %" PRId64 "\n", n);
    if ((s = cli_member_str(root, "content_hash")) != NULL)
        printf("  content hash:  %s\n", s);
    if ((s = cli_member_str(root, "watch")) != NULL) {
        note = cli_member_str(root, "watch_note");
        printf("  watching:      %s%s%s%s\n", s, note && note[0] ? " (" : "",
               note && note[0] ? note : "", note && note[0] ? ")" : "");
    }
    if ((s = cli_member_str(root, "last_load_time")) != NULL) {
        printf("  last load:     %s", s);
        if (cli_member_double(root, "last_load_time_unix", &t))
            print_age(t);
        putchar('\n');
    }
    if (cli_member_int(root, "reloads", &n)) {
        printf("  reloads:       %" PRId64, n);
        if (cli_member_int(root, "failed_reloads", &failed))
            printf(", %" PRId64 " failed", failed);
        putchar('\n');
    }
    if (cli_member_bool(root, "last_reload_ok", &ok))
        printf("  latest reload: %s\n",
               ok ? "succeeded" : "FAILED (serving the last good configuration)");
    error = cli_member(root, "last_error");
    if (error != NULL && snapconf_node_type(error) == SNAPCONF_TYPE_MAP) {
        fputs("  last error:    ", stdout);
        cli_print_positioned(stdout, error);
    }
    if (cli_member_int(root, "memory_bytes", &n)) {
        printf("  memory:        %" PRId64 " bytes", n);
        if (cli_member_int(root, "nodes", &n))
            printf(", %" PRId64 " nodes", n);
        putchar('\n');
    }
    if (cli_member_int(root, "layers", &n)) {
        printf("  layers:        %" PRId64, n);
        if (cli_member_int(root, "overrides", &failed))
            printf(", %" PRId64 " runtime override%s", failed, failed == 1 ? "" : "s");
        putchar('\n');
    }
    if (cli_member_int(root, "watchers", &n))
        printf("  watchers:      %" PRId64 "\n", n);
}

static int cmd_status(const struct cli_command *cmd, int argc, char **argv)
{
    static const struct option options[] = {
        CLI_OPTION_SOCKET,
        CLI_OPTION_JSON,
        CLI_OPTION_HELP,
        CLI_OPTION_END,
    };
    struct cli_args args;
    struct cli_response resp;
    snapconf_snap *snap = NULL;
    const char *socket;
    int rc = cli_parse_no_operands(cmd, argc, argv, options, &args);

    if (rc != CLI_PARSE_GO_ON)
        return rc;
    socket = cli_socket_path(args.socket);
    rc = fetch_json(socket, "/v1/status", &resp, &snap);
    if (rc == CLI_EXIT_OK) {
        if (args.json)
            cli_print_body(&resp);
        else
            print_status(socket, snapconf_snap_root(snap));
    }
    snapconf_snap_free(snap);
    cli_response_free(&resp);
    return rc;
}

const struct cli_command cli_cmd_status = {
    .name = "status",
    .run = cmd_status,
    .summary = "Show what snapconfd serves and how its reloads went",
    .help = "Usage: snapconf status [--socket SOCKET] [--json]\n"
            "\n"
            "Shows snapconfd's state: the file it serves and the generation, content\n"
            "hash and load time of the configuration it serves, how it watches the\n"
            "file, how many reloads it made and how many failed, the latest failure\n"
            "with its position in the file, and how many layers (the file, drop-ins,\n"
            "environment variables, runtime overrides) make up the configuration.\n"
            "\n"
            "Options:\n"
            "      --socket SOCKET  snapconfd's socket (see 'snapconf --help')\n"
            "      --json           print the daemon's JSON (GET /v1/status) as it is\n"
            "  -h, --help           show this help and exit\n"
            "\n"
            "Exit status: 0 success, 2 usage error, 3 snapconfd unreachable,\n"
            "5 internal error.  'snapconf check' tells by its exit status whether the\n"
            "latest load failed.\n",
};

/* ---- reload ------------------------------------------------------------- */

static int cmd_reload(const struct cli_command *cmd, int argc, char **argv)
{
    static const struct option options[] = {
        CLI_OPTION_SOCKET,
        CLI_OPTION_JSON,
        CLI_OPTION_HELP,
        CLI_OPTION_END,
    };
    struct cli_args args;
    struct cli_response resp;
    snapconf_snap *snap = NULL;
    const snapconf_node *root;
    const char *socket;
    int64_t generation = -1;
    bool published = true;
    int rc = cli_parse_no_operands(cmd, argc, argv, options, &args);

    if (rc != CLI_PARSE_GO_ON)
        return rc;
    socket = cli_socket_path(args.socket);
    rc = cli_http(socket, "POST", "/v1/reload", CLI_TIMEOUT_DEFAULT, false, &resp);
    if (rc != CLI_EXIT_OK)
        return rc;
    /* --json: the daemon's answer, the error included, for the caller to
     * parse; the exit status still tells what happened. */
    if (args.json && (resp.status == 200 || resp.status == 422))
        cli_print_body(&resp);
    if (resp.status != 200) {
        rc = cli_report_answer(&resp, socket, "POST /v1/reload");
        if (rc == CLI_EXIT_CONFIG && resp.generation >= 0)
            cli_error("reload rejected; snapconfd keeps serving generation %" PRId64,
                      resp.generation);
        else if (rc == CLI_EXIT_CONFIG)
            cli_error("reload rejected; snapconfd keeps serving the last good configuration");
    } else if ((rc = cli_response_json(&resp, socket, &snap)) == CLI_EXIT_OK && !args.json) {
        root = snapconf_snap_root(snap);
        cli_member_int(root, "generation", &generation);
        cli_member_bool(root, "published", &published);
        if (published)
            printf("reloaded: generation %" PRId64 "\n", generation);
        else
            printf("reloaded: content unchanged, still generation %" PRId64 "\n", generation);
    }
    snapconf_snap_free(snap);
    cli_response_free(&resp);
    return rc;
}

const struct cli_command cli_cmd_reload = {
    .name = "reload",
    .run = cmd_reload,
    .summary = "Make snapconfd reload its configuration file now",
    .help = "Usage: snapconf reload [--socket SOCKET] [--json]\n"
            "\n"
            "Makes snapconfd reload its configuration file now, as SIGHUP does, and\n"
            "prints the generation it then serves.  When the file is invalid, prints\n"
            "why (FILE:LINE:COLUMN: ...) and exits with 4; the daemon keeps serving\n"
            "the last good configuration.\n"
            "\n"
            "Options:\n"
            "      --socket SOCKET  snapconfd's socket (see 'snapconf --help')\n"
            "      --json           print the daemon's JSON answer (POST /v1/reload) as it\n"
            "                       is, the error too\n"
            "  -h, --help           show this help and exit\n"
            "\n"
            "Exit status: 0 reloaded (or unchanged), 2 usage error, 3 snapconfd\n"
            "unreachable, 4 configuration invalid, 5 internal error.\n",
};

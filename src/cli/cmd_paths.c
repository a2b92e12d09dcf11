/*
 * cmd_paths.c - "snapconf paths", a hidden command for shell completion:
 * every path of the configuration (from --file, or snapconfd's current
 * one) in canonical form, or with --complete WORD the paths one segment
 * longer than what WORD holds complete.
 */
#include "cli.h"
#include "client.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

/* A path being built, segment by segment. */
struct pathbuf {
    char *text;
    size_t len;
    FILE *f; /* writes at the end of text */
};

/*
 * Appends the segment naming child of parent (map or seq, item i) to f:
 * ".key" (bare or quoted) or "[i]"; the first key has no dot.  Returns
 * false for a key no path can name.
 */
static bool write_segment(FILE *f, const snapconf_node *child, bool is_map, size_t i, bool first)
{
    const char *key;
    size_t len;

    if (!is_map) {
        fprintf(f, "[%zu]", i);
        return true;
    }
    key = snapconf_node_key(child, &len);
    if (key == NULL || memchr(key, '\0', len) != NULL)
        return false;
    if (!first)
        fputc('.', f);
    return cli_write_key(f, key, len);
}

/* Prints the path of every node under node, prefix being node's path. */
static void list_paths(const snapconf_node *node, const char *prefix, size_t prefix_len)
{
    snapconf_type type = snapconf_node_type(node);
    bool is_map = type == SNAPCONF_TYPE_MAP;
    char *text = NULL;
    size_t size = 0;

    if (!is_map && type != SNAPCONF_TYPE_SEQ)
        return;
    for (size_t i = 0; i < snapconf_node_size(node); i++) {
        const snapconf_node *child = snapconf_node_at(node, i);
        FILE *f;

        if (child == NULL || (f = open_memstream(&text, &size)) == NULL)
            continue;
        fwrite(prefix, 1, prefix_len, f);
        bool ok = write_segment(f, child, is_map, i, prefix_len == 0);
        if (fclose(f) != 0 || !ok) {
            free(text);
            text = NULL;
            continue;
        }
        fwrite(text, 1, size, stdout);
        fputc('\n', stdout);
        list_paths(child, text, size);
        free(text);
        text = NULL;
    }
}

/*
 * Where the last segment of word starts: the index of the last '.' or '['
 * outside double quotes (or 0).  A quote still open at the end does not
 * matter: the key it opens is the last segment.
 */
static size_t last_separator(const char *word)
{
    bool quoted = false;
    size_t sep = 0;

    for (size_t i = 0; word[i] != '\0'; i++) {
        char c = word[i];

        if (quoted) {
            if (c == '\\' && word[i + 1] != '\0')
                i++;
            else if (c == '"')
                quoted = false;
        } else if (c == '"') {
            quoted = true;
        } else if (c == '.' || c == '[') {
            sep = i;
        }
    }
    return sep;
}

/* A non-empty mapping or sequence: completion goes on inside it. */
static const char *descend_suffix(const snapconf_node *node)
{
    if (snapconf_node_size(node) == 0)
        return "";
    switch (snapconf_node_type(node)) {
    case SNAPCONF_TYPE_MAP:
        return ".";
    case SNAPCONF_TYPE_SEQ:
        return "[";
    default:
        return "";
    }
}

/*
 * Prints the children of the node that word's complete segments name,
 * as paths that start with word: "server.p" gives "server.port", and a
 * non-empty mapping or sequence ends with "." or "[" so that the next
 * completion goes on inside it.
 */
static int complete(const snapconf_node *root, const char *word)
{
    size_t sep = last_separator(word);
    size_t wlen = strlen(word);
    const snapconf_node *parent = root;
    char *parent_text = strndup(word, sep);
    char *text = NULL;
    size_t size = 0;
    bool is_map;

    if (parent_text == NULL)
        return CLI_EXIT_INTERNAL;
    if (sep > 0 && snapconf_node_find(root, parent_text, &parent) != 0) {
        free(parent_text);
        return CLI_EXIT_NOTFOUND;
    }
    is_map = snapconf_node_type(parent) == SNAPCONF_TYPE_MAP;
    for (size_t i = 0; i < snapconf_node_size(parent); i++) {
        const snapconf_node *child = snapconf_node_at(parent, i);
        FILE *f;

        if (child == NULL || (f = open_memstream(&text, &size)) == NULL)
            continue;
        fputs(parent_text, f);
        bool ok = write_segment(f, child, is_map, i, sep == 0);
        if (fclose(f) == 0 && ok && size >= wlen && memcmp(text, word, wlen) == 0)
            printf("%s%s\n", text, descend_suffix(child));
        free(text);
        text = NULL;
    }
    free(parent_text);
    return CLI_EXIT_OK;
}

static int cmd_paths(const struct cli_command *cmd, int argc, char **argv)
{
    static const struct option options[] = {
        CLI_OPTION_FILE, CLI_OPTION_SOCKET, {"complete", required_argument, NULL, CLI_OPT_COMPLETE},
        CLI_OPTION_HELP, CLI_OPTION_END,
    };
    struct cli_args args;
    struct cli_response resp = {0};
    snapconf_snap *snap = NULL;
    snapconf_error err;
    const snapconf_node *root = NULL;
    const char *socket;
    int rc = cli_parse_no_operands(cmd, argc, argv, options, &args);

    if (rc != CLI_PARSE_GO_ON)
        return rc;
    rc = CLI_EXIT_OK;
    if (args.file != NULL) {
        memset(&err, 0, sizeof(err));
        if (snapconf_snap_load_file(args.file, &snap, &err) != 0) {
            fprintf(stderr, "%s\n", err.message);
            return CLI_EXIT_CONFIG;
        }
        root = snapconf_snap_root(snap);
    } else {
        /* Completion must not hang on a stuck daemon: a short timeout. */
        socket = cli_socket_path(args.socket);
        rc = cli_http(socket, "GET", "/v1/snapshot", CLI_TIMEOUT_QUICK, false, &resp);
        if (rc == CLI_EXIT_OK && resp.status != 200)
            rc = cli_report_answer(&resp, socket, "GET /v1/snapshot");
        else if (rc == CLI_EXIT_OK)
            rc = cli_response_json(&resp, socket, &snap);
        if (rc == CLI_EXIT_OK && (root = cli_member(snapconf_snap_root(snap), "config")) == NULL) {
            cli_error("unexpected answer from snapconfd at %s: no \"config\"", socket);
            rc = CLI_EXIT_INTERNAL;
        }
    }
    if (root != NULL && args.complete != NULL)
        rc = complete(root, args.complete);
    else if (root != NULL)
        list_paths(root, "", 0);
    snapconf_snap_free(snap);
    cli_response_free(&resp);
    return rc;
}

const struct cli_command cli_cmd_paths = {
    .name = "paths",
    .run = cmd_paths,
    .summary = "List every path (for shell completion)",
    .help = "Usage: snapconf paths [--file FILE | --socket SOCKET] [--complete WORD]\n"
            "\n"
            "Prints every path of the configuration, one per line, in canonical form\n"
            "(keys quoted only where needed), parents before their children, in\n"
            "document order.  Keys holding a NUL byte, which no path can name, are\n"
            "left out with everything under them.\n"
            "\n"
            "With --complete, prints only the paths one segment longer than the\n"
            "complete segments of WORD that start with WORD; a non-empty mapping\n"
            "ends with '.', a non-empty sequence with '[', ready for the next\n"
            "segment.  The bash completion of snapconf uses this.\n"
            "\n"
            "Options:\n"
            "  -f, --file FILE       the configuration file to read, without snapconfd\n"
            "      --socket SOCKET   snapconfd's socket (see 'snapconf --help')\n"
            "      --complete WORD   the next segments after WORD only\n"
            "  -h, --help            show this help and exit\n"
            "\n"
            "Exit status: 0 success, 1 WORD's parent has no value, 2 usage error,\n"
            "3 snapconfd unreachable, 4 FILE invalid or unreadable, 5 internal error.\n",
    .hidden = true,
};

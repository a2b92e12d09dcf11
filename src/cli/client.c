/*
 * client.c - requests to snapconfd with libcurl, and the decoding of its
 * JSON answers and errors.
 */
#include "client.h"

#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

/* No answer of the daemon is legitimately larger: a snapshot is at most
 * 64 MiB of YAML by default, and its JSON, aliases expanded, within this. */
#define CLI_MAX_BODY ((size_t)1 << 30)

/* Nesting the loader accepts in answers: the daemon's own limit (256 by
 * default, configurable) plus the few levels of the envelope around a
 * value. */
#define CLI_MAX_DEPTH 1024u

const char *cli_socket_path(const char *opt)
{
    static char buf[4096];
    const char *env;

    if (opt != NULL)
        return opt;
    env = getenv("SNAPCONF_SOCKET");
    if (env != NULL && env[0] != '\0')
        return env;
    env = getenv("RUNTIME_DIRECTORY");
    if (env != NULL && env[0] != '\0') {
        /* systemd joins several RuntimeDirectory= entries with ':'; the
         * daemon's own is the first. */
        size_t len = strcspn(env, ":");
        int n = snprintf(buf, sizeof(buf), "%.*s/snapconf.sock", (int)len, env);
        if (n > 0 && (size_t)n < sizeof(buf))
            return buf;
    }
    return CLI_DEFAULT_SOCKET;
}

void cli_response_free(struct cli_response *resp)
{
    free(resp->body);
    memset(resp, 0, sizeof(*resp));
    resp->generation = -1;
}

char *cli_escape(const char *s)
{
    size_t len = strlen(s);

    /* cli_curl.easy_escape() keeps exactly the unreserved characters of RFC
     * 3986, so '.' stays readable and '"', '[', ']', '/', '%', spaces and
     * every non-ASCII byte are encoded.  It needs no handle since 7.82. */
    char *escaped;

    if (cli_curl_load() != CLI_EXIT_OK)
        return NULL;
    escaped = len <= (size_t)INT32_MAX ? cli_curl.easy_escape(NULL, s, (int)len) : NULL;
    if (escaped == NULL)
        cli_error("out of memory");
    return escaped;
}

/* ---- transfers ---------------------------------------------------------- */

struct body_buf {
    char *data;
    size_t len, cap;
};

static size_t collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct body_buf *b = userdata;
    size_t n = size * nmemb;

    if (n > CLI_MAX_BODY - b->len)
        return CURL_WRITEFUNC_ERROR;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *data = realloc(b->data, cap);
        if (data == NULL)
            return CURL_WRITEFUNC_ERROR;
        b->data = data;
        b->cap = cap;
    }
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

CURL *cli_curl_new(const char *socket, const char *method, const char *target, long silence_s,
                   char *errbuf)
{
    CURL *curl;
    char *url = NULL;
    char agent[64];
    bool ok;

    errbuf[0] = '\0';
    if (cli_curl_load() != CLI_EXIT_OK)
        return NULL;
    curl = cli_curl.easy_init();
    snprintf(agent, sizeof(agent), "snapconf/%s", snapconf_version_string());
    if (curl == NULL || asprintf(&url, "http://localhost%s", target) < 0) {
        cli_curl.easy_cleanup(curl);
        cli_error("out of memory");
        return NULL;
    }
    /* curl copies string options, so url can go right after. */
    ok = cli_curl.easy_setopt(curl, CURLOPT_URL, url) == CURLE_OK &&
         cli_curl.easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, socket) == CURLE_OK &&
         /* An http_proxy in the environment must not divert a local
          * socket's requests. */
         cli_curl.easy_setopt(curl, CURLOPT_PROXY, "") == CURLE_OK &&
         cli_curl.easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http") == CURLE_OK &&
         cli_curl.easy_setopt(curl, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
         cli_curl.easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf) == CURLE_OK &&
         cli_curl.easy_setopt(curl, CURLOPT_USERAGENT, agent) == CURLE_OK &&
         cli_curl.easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, silence_s) == CURLE_OK &&
         /* Less than a byte per second for silence_s: the daemon is hung.
          * (watch turns this off: its stream is quiet between changes.) */
         cli_curl.easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L) == CURLE_OK &&
         cli_curl.easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, silence_s) == CURLE_OK;
    if (ok && strcmp(method, "POST") == 0)
        ok = cli_curl.easy_setopt(curl, CURLOPT_POSTFIELDS, "") == CURLE_OK &&
             cli_curl.easy_setopt(curl, CURLOPT_POSTFIELDSIZE, 0L) == CURLE_OK;
    else if (ok && strcmp(method, "GET") != 0)
        ok = cli_curl.easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method) == CURLE_OK;
    free(url);
    if (!ok) {
        cli_curl.easy_cleanup(curl);
        cli_error("out of memory");
        return NULL;
    }
    return curl;
}

/* The hint after "cannot reach snapconfd at SOCKET: REASON". */
static const char *connect_hint(int err)
{
    switch (err) {
    case EACCES:
    case EPERM:
        return "is your user in the group of the socket?";
    default:
        return "is it running? set --socket or SNAPCONF_SOCKET";
    }
}

int cli_report_transfer(CURL *curl, CURLcode rc, const char *socket, const char *errbuf, bool quiet)
{
    const char *why = errbuf != NULL && errbuf[0] != '\0' ? errbuf : cli_curl.easy_strerror(rc);
    long os_errno = 0;

    if (rc == CURLE_OUT_OF_MEMORY) {
        if (!quiet)
            cli_error("out of memory");
        return CLI_EXIT_INTERNAL;
    }
    if (quiet)
        return CLI_EXIT_UNREACHABLE;
    if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST) {
        cli_curl.easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
        if (os_errno != 0)
            why = strerror((int)os_errno);
        cli_error("cannot reach snapconfd at %s: %s (%s)", socket, why,
                  connect_hint((int)os_errno));
    } else if (rc == CURLE_OPERATION_TIMEDOUT) {
        cli_error("snapconfd at %s stopped answering: %s", socket, why);
    } else {
        cli_error("lost connection to snapconfd at %s: %s", socket, why);
    }
    return CLI_EXIT_UNREACHABLE;
}

/* A socket path must fit in sockaddr_un; curl would say only "couldn't
 * connect" about one that does not. */
int cli_check_socket_path(const char *socket, bool quiet)
{
    size_t max = sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1;

    if (strlen(socket) <= max)
        return CLI_EXIT_OK;
    if (!quiet)
        cli_error("cannot reach snapconfd at %s: the socket path is longer than %zu bytes", socket,
                  max);
    return CLI_EXIT_UNREACHABLE;
}

/* The body of a request, as curl sends it: no "Expect: 100-continue"
 * round trip, which a local daemon does not need. */
static CURLcode set_request_body(CURL *curl, const char *data, size_t len,
                                 struct curl_slist **headers)
{
    struct curl_slist *more;

    *headers = cli_curl.slist_append(NULL, "Content-Type: application/yaml");
    more = *headers != NULL ? cli_curl.slist_append(*headers, "Expect:") : NULL;
    if (more == NULL)
        return CURLE_OUT_OF_MEMORY;
    *headers = more;
    CURLcode rc = cli_curl.easy_setopt(curl, CURLOPT_HTTPHEADER, more);
    if (rc == CURLE_OK)
        rc = cli_curl.easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    if (rc == CURLE_OK)
        rc = cli_curl.easy_setopt(curl, CURLOPT_POSTFIELDS, data);
    return rc;
}

/* cli_http() with a request body when data is not NULL. */
static int http_request(const char *socket, const char *method, const char *target,
                        const char *data, size_t data_len, long silence_s, bool quiet,
                        struct cli_response *resp)
{
    char errbuf[CURL_ERROR_SIZE];
    struct body_buf body = {0};
    struct curl_slist *headers = NULL;
    struct curl_header *h;
    CURL *curl;
    CURLcode rc = CURLE_OK;
    int ret = cli_check_socket_path(socket, quiet);

    memset(resp, 0, sizeof(*resp));
    resp->generation = -1;
    if (ret != CLI_EXIT_OK)
        return ret;
    curl = cli_curl_new(socket, method, target, silence_s, errbuf);
    if (curl == NULL)
        return CLI_EXIT_INTERNAL;
    if (data != NULL)
        rc = set_request_body(curl, data, data_len, &headers);
    if (rc == CURLE_OK)
        rc = cli_curl.easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    if (rc == CURLE_OK)
        rc = cli_curl.easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    if (rc == CURLE_OK)
        rc = cli_curl.easy_perform(curl);
    if (rc != CURLE_OK) {
        /* A write error is ours: the body outgrew CLI_MAX_BODY or memory. */
        if (rc == CURLE_WRITE_ERROR)
            rc = CURLE_OUT_OF_MEMORY;
        ret = cli_report_transfer(curl, rc, socket, errbuf, quiet);
        free(body.data);
        cli_curl.easy_cleanup(curl);
        cli_curl.slist_free_all(headers);
        return ret;
    }
    cli_curl.easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
    if (cli_curl.easy_header(curl, "X-Snapconf-Generation", 0, CURLH_HEADER, -1, &h) == CURLHE_OK)
        resp->generation = strtoll(h->value, NULL, 10);
    cli_curl.easy_cleanup(curl);
    cli_curl.slist_free_all(headers);
    if (body.data == NULL && (body.data = calloc(1, 1)) == NULL) {
        if (!quiet)
            cli_error("out of memory");
        return CLI_EXIT_INTERNAL;
    }
    resp->body = body.data;
    resp->len = body.len;
    return CLI_EXIT_OK;
}

int cli_http(const char *socket, const char *method, const char *target, long silence_s, bool quiet,
             struct cli_response *resp)
{
    return http_request(socket, method, target, NULL, 0, silence_s, quiet, resp);
}

int cli_http_send(const char *socket, const char *method, const char *target, const char *body,
                  size_t len, struct cli_response *resp)
{
    return http_request(socket, method, target, body, len, CLI_TIMEOUT_DEFAULT, false, resp);
}

/* ---- JSON --------------------------------------------------------------- */

static int hex4(const char *s)
{
    int v = 0;

    for (int i = 0; i < 4; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/*
 * JSON may write a character outside the BMP as a surrogate pair,
 * "\ud83d\ude00" (encoders that keep their output ASCII do); YAML escapes
 * name code points, and libyaml rejects surrogates.  Rewrites each pair,
 * in place, as the character's UTF-8 bytes, which are fewer.  Everything
 * else, lone surrogates included, is left for the loader to judge.
 * Returns the new length.
 */
static size_t join_surrogates(char *s, size_t len)
{
    size_t r = 0, w = 0;
    bool in_string = false;

    while (r < len) {
        char c = s[r];

        if (!in_string) {
            in_string = c == '"';
            s[w++] = s[r++];
            continue;
        }
        if (c == '"') {
            in_string = false;
        } else if (c == '\\' && r + 12 <= len && s[r + 1] == 'u' && s[r + 6] == '\\' &&
                   s[r + 7] == 'u') {
            int hi = hex4(s + r + 2), lo = hex4(s + r + 8);
            if (hi >= 0xD800 && hi <= 0xDBFF && lo >= 0xDC00 && lo <= 0xDFFF) {
                unsigned cp =
                    0x10000u + (((unsigned)hi - 0xD800u) << 10) + ((unsigned)lo - 0xDC00u);
                s[w++] = (char)(0xF0 | (cp >> 18));
                s[w++] = (char)(0x80 | ((cp >> 12) & 0x3F));
                s[w++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                s[w++] = (char)(0x80 | (cp & 0x3F));
                r += 12;
                continue;
            }
        }
        if (c == '\\' && r + 1 < len) {
            /* Copy the escaped character too, so that "\\" is never read
             * as the start of an escape. */
            s[w++] = s[r++];
        }
        s[w++] = s[r++];
    }
    return w;
}

int cli_json_load(const char *buf, size_t len, const char *name, snapconf_snap **out,
                  snapconf_error *err)
{
    snapconf_options opts;
    char *copy = NULL;
    int rc;

    snapconf_options_init(&opts);
    opts.max_file_size = len + 1;
    opts.max_depth = CLI_MAX_DEPTH;
    opts.max_nodes = (size_t)-1;
    if (memmem(buf, len, "\\ud", 3) != NULL || memmem(buf, len, "\\uD", 3) != NULL) {
        copy = malloc(len ? len : 1);
        if (copy == NULL) {
            memset(err, 0, sizeof(*err));
            err->code = SNAPCONF_ENOMEM;
            snprintf(err->message, sizeof(err->message), "out of memory");
            return SNAPCONF_ENOMEM;
        }
        memcpy(copy, buf, len);
        len = join_surrogates(copy, len);
        buf = copy;
    }
    rc = snapconf_snap_load(name, buf, len, &opts, out, err);
    free(copy);
    return rc;
}

int cli_response_json(const struct cli_response *resp, const char *socket, snapconf_snap **out)
{
    snapconf_error err;
    int rc;

    memset(&err, 0, sizeof(err));
    rc = cli_json_load(resp->body, resp->len, "answer", out, &err);
    if (rc == 0 && snapconf_node_type(snapconf_snap_root(*out)) == SNAPCONF_TYPE_MAP)
        return CLI_EXIT_OK;
    if (rc == 0) {
        snapconf_snap_free(*out);
        *out = NULL;
        cli_error("unexpected answer from snapconfd at %s: not a JSON object", socket);
    } else {
        cli_error("unexpected answer from snapconfd at %s: %s", socket, err.message);
    }
    return CLI_EXIT_INTERNAL;
}

const snapconf_node *cli_member(const snapconf_node *node, const char *key)
{
    const snapconf_node *child;

    if (node == NULL || snapconf_node_child(node, key, strlen(key), &child) != 0)
        return NULL;
    return child;
}

const char *cli_member_str(const snapconf_node *node, const char *key)
{
    const snapconf_node *child = cli_member(node, key);
    const char *s;

    if (child == NULL || snapconf_node_str(child, &s, NULL) != 0)
        return NULL;
    return s;
}

bool cli_member_int(const snapconf_node *node, const char *key, int64_t *out)
{
    const snapconf_node *child = cli_member(node, key);

    return child != NULL && snapconf_node_int(child, out) == 0;
}

bool cli_member_double(const snapconf_node *node, const char *key, double *out)
{
    const snapconf_node *child = cli_member(node, key);

    return child != NULL && snapconf_node_double(child, out) == 0;
}

bool cli_member_bool(const snapconf_node *node, const char *key, bool *out)
{
    const snapconf_node *child = cli_member(node, key);

    return child != NULL && snapconf_node_bool(child, out) == 0;
}

/* ---- errors ------------------------------------------------------------- */

void cli_print_positioned(FILE *out, const snapconf_node *error)
{
    const char *msg = cli_member_str(error, "message");
    const char *file = cli_member_str(error, "file");
    int64_t line = 0, column = 0;
    size_t flen = file != NULL ? strlen(file) : 0;

    if (msg == NULL)
        msg = "(no message)";
    cli_member_int(error, "line", &line);
    cli_member_int(error, "column", &column);
    /* The library's messages start with "FILE:LINE:COLUMN: " already. */
    bool positioned = flen > 0 && strncmp(msg, file, flen) == 0 && msg[flen] == ':';
    if (flen > 0 && !positioned && line > 0)
        fprintf(out, "%s:%lld:%lld: %s\n", file, (long long)line, (long long)column, msg);
    else if (flen > 0 && !positioned)
        fprintf(out, "%s: %s\n", file, msg);
    else if (flen == 0 && line > 0)
        fprintf(out, "line %lld, column %lld: %s\n", (long long)line, (long long)column, msg);
    else
        fprintf(out, "%s\n", msg);
}

/* The exit code for an error code of the API. */
static int exit_for_code(const char *code, long status)
{
    static const struct {
        const char *code;
        int exit;
    } map[] = {
        {"not_found", CLI_EXIT_NOTFOUND},      {"bad_path", CLI_EXIT_USAGE},
        {"bad_request", CLI_EXIT_USAGE},       {"bad_value", CLI_EXIT_USAGE},
        {"payload_too_large", CLI_EXIT_USAGE}, {"too_many_watchers", CLI_EXIT_UNREACHABLE},
        {"invalid_config", CLI_EXIT_CONFIG},   {"conflict", CLI_EXIT_CONFIG},
        {"forbidden", CLI_EXIT_FORBIDDEN},
    };

    for (size_t i = 0; code != NULL && i < sizeof(map) / sizeof(map[0]); i++) {
        if (strcmp(code, map[i].code) == 0)
            return map[i].exit;
    }
    return status == 503 ? CLI_EXIT_UNREACHABLE : CLI_EXIT_INTERNAL;
}

bool cli_answer_is(const struct cli_response *resp, const char *code)
{
    snapconf_snap *snap = NULL;
    snapconf_error err;
    const char *have;
    bool is;

    if (cli_json_load(resp->body, resp->len, "answer", &snap, &err) != 0)
        return false;
    have = cli_member_str(cli_member(snapconf_snap_root(snap), "error"), "code");
    is = have != NULL && strcmp(have, code) == 0;
    snapconf_snap_free(snap);
    return is;
}

int cli_report_answer(const struct cli_response *resp, const char *socket, const char *what)
{
    snapconf_snap *snap = NULL;
    snapconf_error err;
    const snapconf_node *error = NULL;
    const char *code = NULL, *msg = NULL;
    int rc;

    memset(&err, 0, sizeof(err));
    if (cli_json_load(resp->body, resp->len, "answer", &snap, &err) == 0)
        error = cli_member(snapconf_snap_root(snap), "error");
    code = cli_member_str(error, "code");
    msg = cli_member_str(error, "message");
    rc = exit_for_code(code, resp->status);
    if (msg == NULL) {
        cli_error("unexpected answer from snapconfd at %s to %s: HTTP %ld", socket, what,
                  resp->status);
    } else if (rc == CLI_EXIT_CONFIG) {
        /* Without "snapconf: ", as check prints it: editors jump to
         * "FILE:LINE:COLUMN: " at the start of a line. */
        cli_print_positioned(stderr, error);
    } else if (code != NULL && strcmp(code, "no_such_endpoint") == 0) {
        cli_error("snapconfd at %s does not know %s: %s (is it older than this snapconf?)", socket,
                  what, msg);
    } else {
        cli_error("%s", msg);
    }
    snapconf_snap_free(snap);
    return rc;
}

int cli_print_body(const struct cli_response *resp)
{
    fwrite(resp->body, 1, resp->len, stdout);
    if (resp->len == 0 || resp->body[resp->len - 1] != '\n')
        fputc('\n', stdout);
    return CLI_EXIT_OK;
}

/*
 * fuzz_request.c - libFuzzer target for snapconfd's request handling,
 * without the network.
 *
 * An input is a request head, as text:
 *
 *     METHOD SP TARGET [SP anything] LF
 *     Name: value LF            (any number of header lines)
 *
 * Only two headers mean anything here: Last-Event-ID, passed on as the
 * HTTP layer passes it, and Content-Length, whose value beyond API_MAX_BODY
 * marks the body as too large.  The target goes through what snapconfd
 * does before api_handle(): its raw length and any %00 are noted (http.c's
 * on_uri), it is split at '?', the path is percent-decoded and the query
 * split into name=value pairs with '+' as a space and percent-decoding
 * (libmicrohttpd's lenient decoding: a '%' not followed by two hex digits
 * stays as it is; the first occurrence of a parameter wins), and a target
 * in absolute form ("http://host/v1/status") stands for its path (http.c's
 * on_request).  Then api_handle() answers from a fixed live configuration,
 * and the answer must be sound:
 *
 *  - a status this fixture can produce (200, 400, 404, 405, 414, and 403
 *    for PUT and DELETE, which no client of this fixture may send: it has
 *    no --admin-uid and no peer uid): a 500, 422 or 503 would mean a bug,
 *    as memory, the file and the watcher limit are all fine here;
 *  - headers without CR or LF (no header injection), a numeric
 *    X-Snapconf-Generation, an Allow header on every 405;
 *  - a body that is valid JSON when the content type says JSON, with an
 *    "error" object holding "code" and "message" strings on errors; YAML
 *    that loads again when it says YAML; a watch stream that can be read.
 */
#include "fuzz.h"

#include "api.h"
#include "events.h"
#include "log.h"
#include "metrics.h"

#include <jansson.h>
#include <stdbool.h>
#include <strings.h>
#include <unistd.h>

/* The fixture is published as generation 1 and edited twice, so that the
 * event ring holds changes for ?since= and ?prefix= to replay. */
static const char *const versions[] = {
    "server:\n  port: 8080\n  host: 0.0.0.0\nremoved: soon\n",
    "server:\n  port: 8081\n  host: 0.0.0.0\nlist: [1, 2]\n",
    "service: {name: checkout, version: \"2.14.1\"}\n"
    "server:\n"
    "  port: 8082\n"
    "  host: 0.0.0.0\n"
    "  tls: {enabled: true, min_version: \"1.2\"}\n"
    "defaults: &d {port: 5432, pool: 10, timeout: 3.5}\n"
    "database:\n"
    "  primary: {<<: *d, host: db1, pool: 20}\n"
    "  replica: {<<: *d, host: db2}\n"
    "list: [1, 2, 3, [4, 5], {six: 6}]\n"
    "labels:\n"
    "  app.kubernetes.io/name: checkout\n"
    "  \"quote\\\"d\": q\n"
    "  \"\": empty\n"
    "  \"\\u00fc\": unicode\n"
    "odd:\n"
    "  nul: \"a\\0b\"\n"
    "  inf: .inf\n"
    "  nan: .nan\n"
    "  tagged: !color red\n"
    "  binary: !!binary aGk=\n"
    "  on: on\n"
    "  nothing: ~\n"
    "  big: 9223372036854775807\n"
    "  text: |\n"
    "    two\n"
    "    lines\n",
};

static struct {
    char dir[256];
    char file[300];
    snapconf *h;
    struct events *events;
    struct metrics *metrics;
    struct api_ctx api;
} fx;

/* As snapconfd's on_reload: metrics, the event ring, the API's report. */
static void on_reload(void *userdata, const snapconf_reload_report *report)
{
    (void)userdata;
    if (fx.h != NULL)
        metrics_on_reload(fx.metrics, fx.h, report);
    events_on_reload(fx.events, report);
    api_on_reload(report);
}

static void write_config(const char *text)
{
    FILE *f = fopen(fx.file, "w");

    FUZZ_CHECK(f != NULL, "cannot write %s", fx.file);
    FUZZ_CHECK(fputs(text, f) >= 0 && fclose(f) == 0, "cannot write %s", fx.file);
}

static void remove_config(void)
{
    unlink(fx.file);
    rmdir(fx.dir);
}

static void open_fixture(void)
{
    const char *tmp = getenv("TMPDIR");
    snapconf_options opts;
    snapconf_error err;

    snprintf(fx.dir, sizeof(fx.dir), "%s/snapconf-fuzz-XXXXXX", tmp != NULL ? tmp : "/tmp");
    FUZZ_CHECK(mkdtemp(fx.dir) != NULL, "mkdtemp %s", fx.dir);
    snprintf(fx.file, sizeof(fx.file), "%s/app.yaml", fx.dir);
    atexit(remove_config);
    write_config(versions[0]);

    fx.metrics = metrics_new();
    fx.events = events_new(64, 0);
    FUZZ_CHECK(fx.metrics != NULL && fx.events != NULL, "out of memory");
    snapconf_options_init(&opts);
    opts.watch = SNAPCONF_WATCH_NONE; /* only POST /v1/reload reloads */
    opts.on_reload = on_reload;
    FUZZ_CHECK(snapconf_open(&fx.h, fx.file, &opts, &err) == 0, "%s", err.message);
    FUZZ_CHECK(events_attach(fx.events, fx.h) == 0, "events_attach");
    const snapconf_snap *snap = snapconf_snap_hold(fx.h);
    metrics_count_snapshot(fx.metrics, snap);
    snapconf_snap_release(snap);
    for (size_t i = 1; i < sizeof(versions) / sizeof(versions[0]); i++) {
        write_config(versions[i]);
        FUZZ_CHECK(snapconf_reload(fx.h, &err) == 0, "%s", err.message);
    }
    fx.api = (struct api_ctx){.h = fx.h, .events = fx.events, .metrics = fx.metrics};
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    dlog_init(SNAPCONF_LOG_ERROR);
    open_fixture();
    return 0;
}

/* ---- the request head ------------------------------------------------------ */

struct request {
    char *method, *target, *path;
    char *prefix, *since, *format, *last_event_id;
    bool length_seen, body_too_large;
};

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* A malloc'd, percent-decoded copy of len bytes at s ('+' too, in a query).
 * A decoded %00 ends the C string, as it does in libmicrohttpd; the
 * request then carries bad_encoding, which api_handle() answers first. */
static char *decode(const char *s, size_t len, bool plus_is_space)
{
    char *out = malloc(len + 1), *w = out;

    FUZZ_CHECK(out != NULL, "out of memory");
    for (size_t i = 0; i < len; i++) {
        int hi = i + 2 < len && s[i] == '%' ? hex_value(s[i + 1]) : -1;
        int lo = hi >= 0 ? hex_value(s[i + 2]) : -1;
        if (lo >= 0) {
            *w++ = (char)(hi * 16 + lo);
            i += 2;
        } else {
            *w++ = plus_is_space && s[i] == '+' ? ' ' : s[i];
        }
    }
    *w = '\0';
    return out;
}

/* Sets *slot to the value of one "name=value" pair when name is wanted and
 * not seen before; a name without '=' has no value, so it counts as absent. */
static void query_pair(struct request *r, const char *pair, size_t len)
{
    const char *eq = memchr(pair, '=', len);

    if (eq == NULL)
        return;
    char *name = decode(pair, (size_t)(eq - pair), true);
    char **slot = strcmp(name, "prefix") == 0   ? &r->prefix
                  : strcmp(name, "since") == 0  ? &r->since
                  : strcmp(name, "format") == 0 ? &r->format
                                                : NULL;
    if (slot != NULL && *slot == NULL)
        *slot = decode(eq + 1, len - (size_t)(eq - pair) - 1, true);
    free(name);
}

static void parse_target(struct request *r)
{
    const char *q = strchr(r->target, '?');
    size_t plen = q != NULL ? (size_t)(q - r->target) : strlen(r->target);

    r->path = decode(r->target, plen, false);
    for (const char *p = q != NULL ? q + 1 : NULL; p != NULL;) {
        const char *amp = strchr(p, '&');
        size_t len = amp != NULL ? (size_t)(amp - p) : strlen(p);
        query_pair(r, p, len);
        p = amp != NULL ? amp + 1 : NULL;
    }
}

/* One header line: the two that matter, the first of each. */
static void header_line(struct request *r, char *line)
{
    char *colon = strchr(line, ':');

    if (colon == NULL)
        return;
    *colon = '\0';
    char *value = colon + 1 + strspn(colon + 1, " \t");
    if (strcasecmp(line, "Last-Event-ID") == 0 && r->last_event_id == NULL) {
        r->last_event_id = strdup(value);
        FUZZ_CHECK(r->last_event_id != NULL, "out of memory");
    } else if (strcasecmp(line, "Content-Length") == 0 && !r->length_seen) {
        /* As http.c: a body announced beyond the limit is refused. */
        r->length_seen = true;
        r->body_too_large = strtoull(value, NULL, 10) > API_MAX_BODY;
    }
}

/* Splits text (modified in place) into the request line and headers. */
static void parse_request(struct request *r, char *text)
{
    char *save = NULL, *line = strtok_r(text, "\n", &save);
    bool first = true;

    memset(r, 0, sizeof(*r));
    for (; line != NULL; line = strtok_r(NULL, "\n", &save), first = false) {
        line[strcspn(line, "\r")] = '\0';
        if (!first) {
            header_line(r, line);
            continue;
        }
        char *sp = strchr(line, ' ');
        r->target = sp != NULL ? sp + 1 : line + strlen(line);
        if (sp != NULL)
            *sp = '\0';
        r->method = line;
        r->target[strcspn(r->target, " ")] = '\0';
    }
    if (r->method == NULL)
        r->method = r->target = text + strlen(text);
    parse_target(r);
}

static void free_request(struct request *r)
{
    free(r->path);
    free(r->prefix);
    free(r->since);
    free(r->format);
    free(r->last_event_id);
}

/* What http.c hands api_handle() for this request. */
static struct api_request api_request_of(const struct request *r)
{
    struct api_request req = {
        .method = r->method,
        .path = r->path,
        .prefix = r->prefix,
        .since = r->since,
        .format = r->format,
        .last_event_id = r->last_event_id,
        .url_length = strlen(r->target),
        .bad_encoding = strstr(r->target, "%00") != NULL,
        .body_too_large = r->body_too_large,
    };
    if (strncasecmp(req.path, "http://", 7) == 0 || strncasecmp(req.path, "https://", 8) == 0) {
        const char *path = strchr(strstr(req.path, "//") + 2, '/');
        req.path = path != NULL ? path : "/";
    }
    return req;
}

/* ---- the response ---------------------------------------------------------- */

static const char *header_value(const struct api_response *resp, const char *name)
{
    for (size_t i = 0; i < resp->n_headers; i++)
        if (strcmp(resp->headers[i].name, name) == 0)
            return resp->headers[i].value;
    return NULL;
}

static void check_headers(const struct api_response *resp)
{
    FUZZ_CHECK(resp->n_headers <= API_MAX_HEADERS, "%zu headers", resp->n_headers);
    for (size_t i = 0; i < resp->n_headers; i++) {
        const struct api_header *h = &resp->headers[i];
        FUZZ_CHECK(h->name != NULL && h->name[0] != '\0', "header %zu has no name", i);
        FUZZ_CHECK(fuzz_terminated(h->value, sizeof(h->value)), "%s not terminated", h->name);
        FUZZ_CHECK(strpbrk(h->value, "\r\n") == NULL, "%s holds a line break", h->name);
    }
    const char *gen = header_value(resp, "X-Snapconf-Generation");
    FUZZ_CHECK(gen == NULL || (gen[0] != '\0' && strspn(gen, "0123456789") == strlen(gen)),
               "X-Snapconf-Generation '%s'", gen);
    FUZZ_CHECK(resp->status != 405 || header_value(resp, "Allow") != NULL, "405 without Allow");
}

static void check_json(const struct api_response *resp)
{
    json_error_t jerr;
    /* Strings of the config may hold NUL bytes, which JSON writes as
     * \u0000: valid JSON that jansson only reads when told to. */
    json_t *j = json_loadb(resp->body, resp->body_len, JSON_ALLOW_NUL, &jerr);

    FUZZ_CHECK(j != NULL, "%u body is not JSON (%s): %s", resp->status, jerr.text, resp->body);
    FUZZ_CHECK(json_is_object(j), "%u body is not an object: %s", resp->status, resp->body);
    if (resp->status >= 400) {
        json_t *e = json_object_get(j, "error");
        FUZZ_CHECK(json_is_string(json_object_get(e, "code")) &&
                       json_is_string(json_object_get(e, "message")),
                   "error body without code and message: %s", resp->body);
    }
    json_decref(j);
}

static void check_yaml(const struct api_response *resp)
{
    snapconf_snap *snap = NULL;
    snapconf_error err;
    int rc = snapconf_snap_load_buffer(resp->body, resp->body_len, "body.yaml", &snap, &err);

    FUZZ_CHECK(rc == 0, "the YAML body does not load: %s\n%s", err.message, resp->body);
    snapconf_snap_free(snap);
}

/* A watch stream starts with its ": connected" comment; reading it must
 * not block with a zero timeout. */
static void check_stream(struct events_stream *s)
{
    char buf[4096];
    ssize_t n = events_stream_read(s, buf, sizeof(buf), 0);

    FUZZ_CHECK(n > 0 && buf[0] == ':', "watch stream starts with %zd bytes", n);
    for (int i = 0; i < 8 && n > 0; i++)
        n = events_stream_read(s, buf, sizeof(buf), 0);
    FUZZ_CHECK(n >= 0, "watch stream ended");
}

static void check_response(unsigned status, const struct api_response *resp)
{
    FUZZ_CHECK(status == resp->status, "returned %u, response says %u", status, resp->status);
    FUZZ_CHECK(status == 200 || status == 400 || status == 403 || status == 404 || status == 405 ||
                   status == 414,
               "status %u: %s", status, resp->body != NULL ? resp->body : "(stream)");
    FUZZ_CHECK(resp->content_type != NULL, "no content type");
    check_headers(resp);
    if (resp->stream != NULL) {
        FUZZ_CHECK(status == 200 && resp->body == NULL, "a stream with a body or status %u",
                   status);
        check_stream(resp->stream);
        return;
    }
    FUZZ_CHECK(resp->body != NULL, "no body");
    FUZZ_CHECK(strlen(resp->body) == resp->body_len, "body_len %zu, strlen %zu", resp->body_len,
               strlen(resp->body));
    if (strncmp(resp->content_type, "application/json", 16) == 0)
        check_json(resp);
    else if (strncmp(resp->content_type, "application/yaml", 16) == 0)
        check_yaml(resp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstring(data, size);
    struct api_response resp;
    struct request r;

    parse_request(&r, text);
    struct api_request req = api_request_of(&r);
    unsigned status = api_handle(&fx.api, &req, &resp);
    check_response(status, &resp);
    api_response_free(&resp);
    free_request(&r);
    free(text);
    return 0;
}

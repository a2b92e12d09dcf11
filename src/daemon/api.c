/*
 * api.c - request handling for snapconfd's HTTP API, see api.h and
 * docs/API.md.
 */
#include "api_int.h"

#include "jsonw.h"
#include "log.h"
#include "origin.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CT_SSE "text/event-stream"
#define CT_YAML "application/yaml; charset=utf-8"
#define CT_METRICS "text/plain; version=0.0.4; charset=utf-8"

/* Methods an endpoint accepts, for routing and for the Allow header; M_GET
 * stands for GET and HEAD. */
enum methods { M_GET = 1, M_POST = 2, M_PUT = 4, M_DELETE = 8 };

/* ---- responses ------------------------------------------------------------ */

void api_add_header(struct api_response *out, const char *name, const char *fmt, ...)
{
    struct api_header *h;
    va_list ap;

    if (out->n_headers == API_MAX_HEADERS)
        return;
    h = &out->headers[out->n_headers++];
    h->name = name;
    va_start(ap, fmt);
    vsnprintf(h->value, sizeof(h->value), fmt, ap);
    va_end(ap);
}

void api_add_generation(struct api_response *out, uint64_t generation)
{
    api_add_header(out, "X-Snapconf-Generation", "%" PRIu64, generation);
}

/* The last resort when even an error body cannot be built. */
static const char oom_body[] =
    "{\"error\": {\"code\": \"internal\", \"message\": \"out of memory\"}}\n";

void api_set_body(struct api_response *out, unsigned status, const char *content_type, char *body,
                  size_t len)
{
    out->status = status;
    out->content_type = content_type;
    if (body == NULL) {
        /* Out of memory: a fixed 500, with no promise of a snapshot. */
        out->status = 500;
        out->content_type = CT_JSON;
        body = strdup(oom_body);
        len = body != NULL ? strlen(body) : 0;
    }
    free(out->body);
    out->body = body;
    out->body_len = len;
}

unsigned api_error_response(struct api_response *out, unsigned status, const char *code,
                            const char *message, bool has_generation, uint64_t generation,
                            json_t *extra)
{
    json_t *err = json_object(), *root = json_object();
    size_t len = 0;
    char *body = NULL;

    if (err != NULL && root != NULL) {
        json_object_set_new(err, "code", json_string(code));
        json_object_set_new(err, "message", jsonw_string(message));
        if (extra != NULL)
            json_object_update(err, extra);
        json_object_set_new(root, "error", err);
        err = NULL;
        if (has_generation)
            json_object_set_new(root, "generation", json_integer((json_int_t)generation));
        body = jsonw_dump(root, 0, &len);
        root = NULL;
    }
    json_decref(err);
    json_decref(root);
    json_decref(extra);
    api_set_body(out, status, CT_JSON, body, len);
    if (has_generation && out->status == status)
        api_add_generation(out, generation);
    return out->status;
}

void api_error(struct api_response *out, unsigned status, const char *code, const char *message,
               bool has_generation, uint64_t generation)
{
    api_error_response(out, status, code, message, has_generation, generation, NULL);
}

unsigned api_error_fmt(struct api_response *out, unsigned status, const char *code, const char *fmt,
                       ...)
{
    char message[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    return api_error_response(out, status, code, message, false, 0, NULL);
}

void api_response_free(struct api_response *resp)
{
    free(resp->body);
    resp->body = NULL;
    events_stream_close(resp->stream);
    resp->stream = NULL;
}

/* ---- GET /v1/keys/{path} -------------------------------------------------- */

bool api_compile_path(struct api_response *out, const char *text, bool has_generation,
                      uint64_t generation, snapconf_path **path)
{
    snapconf_error err;
    int rc;

    memset(&err, 0, sizeof(err));
    rc = snapconf_path_compile(text, path, &err);
    if (rc == 0)
        return true;
    if (rc == SNAPCONF_EPATH)
        api_error_response(out, 400, "bad_path", err.message, has_generation, generation,
                           json_pack("{s:i}", "column", err.column));
    else
        api_error_response(out, 500, "internal", snapconf_strerror(rc), has_generation, generation,
                           NULL);
    return false;
}

/* "source": the layer the live value comes from (the snapshot's file, at
 * the node's position, when the explanation names none). */
static void put_source(FILE *f, const snapconf_snap *snap, const snapconf_node *node,
                       const struct origin_source *src)
{
    fputs("\"source\": {\"file\": ", f);
    if (src->found) {
        jsonw_put_string(f, src->name);
        fprintf(f, ", \"line\": %u, \"column\": %u, \"layer\": \"%s\"}", src->line, src->column,
                snapconf_layer_kind_name(src->kind));
        return;
    }
    jsonw_put_string(f, snapconf_snap_source(snap));
    fprintf(f, ", \"line\": %u, \"column\": %u, \"layer\": \"file\"}", snapconf_node_line(node),
            snapconf_node_column(node));
}

/* Closes b and answers 500 with why rendering failed. */
static unsigned render_failed(struct api_response *out, struct jsonw_buf *b,
                              const render_error *rerr, uint64_t generation)
{
    size_t len = 0;

    free(jsonw_buf_close(b, &len));
    return api_error_response(out, 500, "internal", rerr->message, true, generation, NULL);
}

unsigned api_key_body(struct api_response *out, const snapconf_snap *snap,
                      const snapconf_path *path, const snapconf_node *node)
{
    uint64_t generation = snapconf_snap_generation(snap);
    struct origin_source src;
    struct jsonw_buf b;
    render_error rerr;
    size_t len = 0;
    char *body;

    if (!jsonw_buf_open(&b))
        return api_error_response(out, 500, "internal", "out of memory", true, generation, NULL);
    fputs("{\"path\": ", b.f);
    jsonw_put_string(b.f, snapconf_path_str(path));
    fputs(", \"value\": ", b.f);
    if (jsonw_put_node(b.f, node, 0, &rerr) < 0)
        return render_failed(out, &b, &rerr, generation);
    fprintf(b.f, ", \"type\": \"%s\", \"generation\": %" PRIu64 ", \"origin\": ",
            snapconf_type_name(snapconf_node_type(node)), generation);
    if (origin_write(b.f, snap, snapconf_path_str(path), &src, &rerr) < 0)
        return render_failed(out, &b, &rerr, generation);
    fputs(", ", b.f);
    put_source(b.f, snap, node, &src);
    fputs("}\n", b.f);
    body = jsonw_buf_close(&b, &len);
    api_set_body(out, 200, CT_JSON, body, len);
    if (out->status == 200)
        api_add_generation(out, generation);
    return out->status;
}

/*
 * 404 for a path with no value.  When layers did set it once (a drop-in's
 * null deleted it, say), the error carries their "origin" too: why it is
 * missing is what the client wants to know next.
 */
static unsigned key_not_found(struct api_response *out, const snapconf_snap *snap,
                              const snapconf_path *path)
{
    uint64_t generation = snapconf_snap_generation(snap);
    const char *text = snapconf_path_str(path);
    struct origin_source src;
    struct jsonw_buf b;
    render_error rerr;
    char message[512];
    size_t len = 0;
    char *body;

    snprintf(message, sizeof(message), "no value at %s", text);
    if (!jsonw_buf_open(&b))
        return api_error_response(out, 500, "internal", "out of memory", true, generation, NULL);
    fputs("{\"error\": {\"code\": \"not_found\", \"message\": ", b.f);
    jsonw_put_string(b.f, message);
    fputs(", \"path\": ", b.f);
    jsonw_put_string(b.f, text);
    fputs(", \"origin\": ", b.f);
    if (origin_write(b.f, snap, text, &src, &rerr) < 0)
        return render_failed(out, &b, &rerr, generation);
    fprintf(b.f, "}, \"generation\": %" PRIu64 "}\n", generation);
    body = jsonw_buf_close(&b, &len);
    api_set_body(out, 404, CT_JSON, body, len);
    if (out->status == 404)
        api_add_generation(out, generation);
    return out->status;
}

static unsigned get_key(struct api_ctx *ctx, const char *text, struct api_response *out)
{
    const snapconf_snap *snap = snapconf_snap_hold(ctx->h);
    uint64_t generation = snapconf_snap_generation(snap);
    const snapconf_node *node = NULL;
    snapconf_path *path = NULL;
    unsigned status;
    int rc;

    if (!api_compile_path(out, text, true, generation, &path)) {
        snapconf_snap_release(snap);
        return out->status;
    }
    rc = snapconf_find_path(snap, path, &node);
    if (rc == 0)
        status = api_key_body(out, snap, path, node);
    else if (rc == SNAPCONF_ENOTFOUND)
        status = key_not_found(out, snap, path);
    else
        status =
            api_error_response(out, 500, "internal", snapconf_strerror(rc), true, generation, NULL);
    snapconf_path_free(path);
    snapconf_snap_release(snap);
    return status;
}

/* ---- GET /v1/snapshot ------------------------------------------------------ */

/* The whole config as YAML, rendered as `snapconf dump --file` renders it:
 * JSON cannot carry tags, .inf or .nan, so a YAML client asks for this. */
static unsigned get_snapshot_yaml(struct api_ctx *ctx, struct api_response *out)
{
    const snapconf_snap *snap = snapconf_snap_hold(ctx->h);
    uint64_t generation = snapconf_snap_generation(snap);
    struct jsonw_buf b;
    render_error rerr;
    size_t len = 0;
    int rc;

    if (!jsonw_buf_open(&b)) {
        snapconf_snap_release(snap);
        return api_error_response(out, 500, "internal", "out of memory", true, generation, NULL);
    }
    rc = render_yaml(b.f, snapconf_snap_root(snap), &rerr);
    snapconf_snap_release(snap);
    char *body = jsonw_buf_close(&b, &len);
    if (rc < 0 || body == NULL) {
        free(body);
        return api_error_response(out, 500, "internal", rc < 0 ? rerr.message : "out of memory",
                                  true, generation, NULL);
    }
    api_set_body(out, 200, CT_YAML, body, len);
    if (out->status == 200)
        api_add_generation(out, generation);
    return out->status;
}

static unsigned get_snapshot_json(struct api_ctx *ctx, struct api_response *out)
{
    const snapconf_snap *snap = snapconf_snap_hold(ctx->h);
    uint64_t generation = snapconf_snap_generation(snap);
    struct jsonw_buf b;
    render_error rerr;
    size_t len = 0;
    char *body;

    if (!jsonw_buf_open(&b)) {
        snapconf_snap_release(snap);
        return api_error_response(out, 500, "internal", "out of memory", true, generation, NULL);
    }
    fprintf(b.f, "{\"generation\": %" PRIu64 ", \"source\": ", generation);
    jsonw_put_string(b.f, snapconf_snap_source(snap));
    fprintf(b.f, ", \"content_hash\": \"%s\", \"config\": ", snapconf_snap_content_hash(snap));
    if (jsonw_put_node(b.f, snapconf_snap_root(snap), 0, &rerr) < 0) {
        snapconf_snap_release(snap);
        free(jsonw_buf_close(&b, &len));
        return api_error_response(out, 500, "internal", rerr.message, true, generation, NULL);
    }
    snapconf_snap_release(snap);
    fputs("}\n", b.f);
    body = jsonw_buf_close(&b, &len);
    api_set_body(out, 200, CT_JSON, body, len);
    if (out->status == 200)
        api_add_generation(out, generation);
    return out->status;
}

static unsigned get_snapshot(struct api_ctx *ctx, const struct api_request *req,
                             struct api_response *out)
{
    if (req->format == NULL || strcmp(req->format, "json") == 0)
        return get_snapshot_json(ctx, out);
    if (strcmp(req->format, "yaml") == 0)
        return get_snapshot_yaml(ctx, out);
    return api_error_fmt(out, 400, "bad_request", "format must be json or yaml, not '%.64s'",
                         req->format);
}

/* ---- GET /v1/status -------------------------------------------------------- */

static json_t *time_iso(int64_t ns)
{
    struct tm tm;
    time_t sec = (time_t)(ns / 1000000000);
    char text[64];

    if (ns <= 0 || gmtime_r(&sec, &tm) == NULL)
        return json_null();
    snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (int)(ns % 1000000000 / 1000000));
    return json_string(text);
}

static const char *watch_name(snapconf_watch_state state)
{
    switch (state) {
    case SNAPCONF_WATCHING_INOTIFY:
        return "inotify";
    case SNAPCONF_WATCHING_POLL:
        return "poll";
    default:
        return "none";
    }
}

static json_t *last_error_json(const snapconf_error *e)
{
    if (e->code == 0)
        return json_null();
    return json_pack("{s:s, s:o, s:o, s:i, s:i}", "code", snapconf_err_name(e->code), "message",
                     jsonw_string(e->message), "file", jsonw_string(e->file), "line", e->line,
                     "column", e->column);
}

/* Seconds with millisecond precision, as last_load_time shows them. */
static double load_time_unix(int64_t ns)
{
    int64_t ms = ns / 1000000;
    return (double)ms / 1e3;
}

static unsigned get_status(struct api_ctx *ctx, struct api_response *out)
{
    snapconf_status_info *st = malloc(sizeof(*st));
    const snapconf_snap *snap;
    uint64_t generation;
    json_t *j;
    size_t len = 0;
    char *body;

    if (st == NULL)
        return api_error_fmt(out, 500, "internal", "out of memory");
    snapconf_status(ctx->h, st);
    snap = snapconf_snap_hold(ctx->h);
    generation = snapconf_snap_generation(snap);
    /* Everything about the snapshot comes from the pinned one; counters
     * and times from the status, which the writer updates as it goes. */
    j = json_pack(
        "{s:I, s:o, s:s, s:s, s:o, s:o, s:f, s:I, s:I, s:b, s:o, s:I, s:I, s:I, s:I, s:I, s:s}",
        "generation", (json_int_t)generation, "source", jsonw_string(snapconf_snap_source(snap)),
        "content_hash", snapconf_snap_content_hash(snap), "watch", watch_name(st->watch),
        "watch_note", jsonw_string(st->watch_note), "last_load_time",
        time_iso(st->last_load_time_ns), "last_load_time_unix",
        load_time_unix(st->last_load_time_ns), "reloads", (json_int_t)st->reloads, "failed_reloads",
        (json_int_t)st->failed_reloads, "last_reload_ok", st->last_reload_ok, "last_error",
        last_error_json(&st->last_error), "memory_bytes", (json_int_t)snapconf_snap_memory(snap),
        "nodes", (json_int_t)snapconf_snap_node_count(snap), "layers", (json_int_t)st->layers,
        "overrides", (json_int_t)st->overrides, "watchers",
        (json_int_t)events_watchers(ctx->events), "version", snapconf_version_string());
    snapconf_snap_release(snap);
    free(st);
    /* 13 significant digits: Unix seconds with milliseconds until 2286. */
    body = jsonw_dump(j, JSON_REAL_PRECISION(13), &len);
    api_set_body(out, 200, CT_JSON, body, len);
    if (out->status == 200)
        api_add_generation(out, generation);
    return out->status;
}

/* ---- GET /v1/watch --------------------------------------------------------- */

/* A generation number: decimal digits only, no sign, no overflow. */
static bool parse_generation(const char *text, uint64_t *out)
{
    uint64_t v = 0;

    if (text == NULL || *text == '\0' || strlen(text) > 20)
        return false;
    for (const char *p = text; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return false;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

static unsigned get_watch(struct api_ctx *ctx, const struct api_request *req, bool head,
                          struct api_response *out)
{
    snapconf_path *prefix = NULL;
    bool has_since = false;
    uint64_t since = 0, generation = 0;
    int rc;

    if (req->since != NULL) {
        if (!parse_generation(req->since, &since))
            return api_error_fmt(out, 400, "bad_request",
                                 "since must be a generation number (decimal digits), not '%.64s'",
                                 req->since);
        has_since = true;
    } else if (req->last_event_id != NULL && parse_generation(req->last_event_id, &since)) {
        /* An EventSource reconnecting says where it stopped. */
        has_since = true;
    }
    if (req->prefix != NULL && req->prefix[0] != '\0' &&
        !api_compile_path(out, req->prefix, false, 0, &prefix))
        return out->status;

    if (head) {
        snapconf_path_free(prefix);
        api_set_body(out, 200, CT_SSE, strdup(""), 0);
        if (out->status == 200) {
            api_add_generation(out, events_generation(ctx->events));
            api_add_header(out, "Cache-Control", "no-cache");
        }
        return out->status;
    }
    rc = events_stream_open(ctx->events, prefix != NULL ? snapconf_path_str(prefix) : "", has_since,
                            since, &out->stream, &generation);
    snapconf_path_free(prefix);
    switch (rc) {
    case 0:
        break;
    case EVENTS_ETOOMANY:
        return api_error_fmt(out, 503, "too_many_watchers",
                             "too many watch streams are open; try again later");
    case EVENTS_ESHUTDOWN:
        return api_error_fmt(out, 503, "shutting_down", "the daemon is shutting down");
    default:
        return api_error_fmt(out, 500, "internal", "out of memory");
    }
    out->status = 200;
    out->content_type = CT_SSE;
    api_add_generation(out, generation);
    api_add_header(out, "Cache-Control", "no-cache");
    return 200;
}

/* ---- POST /v1/reload ------------------------------------------------------- */

/* The report of the reload this thread asked for, if any. */
static __thread snapconf_reload_report *tls_report;

void api_on_reload(const snapconf_reload_report *report)
{
    if (tls_report != NULL) {
        *tls_report = *report;
        tls_report->error = NULL; /* borrowed for the callback only */
    }
}

/* One write (a reload or a runtime change) with this thread's report slot
 * set, so that api_on_reload() hands its report over. */
int api_run_write(struct api_ctx *ctx,
                  int (*fn)(snapconf *h, const char *path, snapconf_error *err, void *arg),
                  const char *path, void *arg, snapconf_reload_report *report, snapconf_error *err)
{
    int rc;

    memset(report, 0, sizeof(*report));
    memset(err, 0, sizeof(*err));
    tls_report = report;
    rc = fn(ctx->h, path, err, arg);
    tls_report = NULL;
    if (report->generation == 0) {
        /* No report came (a failure before the attempt): the generation is
         * the one still published. */
        const snapconf_snap *snap = snapconf_snap_hold(ctx->h);
        report->generation = snapconf_snap_generation(snap);
        report->code = rc;
        snapconf_snap_release(snap);
    }
    return rc;
}

static int do_reload(snapconf *h, const char *path, snapconf_error *err, void *arg)
{
    (void)path;
    (void)arg;
    return snapconf_reload(h, err);
}

int api_reload(struct api_ctx *ctx, snapconf_reload_report *report, snapconf_error *err)
{
    return api_run_write(ctx, do_reload, NULL, NULL, report, err);
}

static unsigned post_reload(struct api_ctx *ctx, struct api_response *out)
{
    snapconf_reload_report report;
    snapconf_error err;
    size_t len = 0;
    char *body;
    int rc = api_reload(ctx, &report, &err);

    if (rc == 0) {
        body = jsonw_dump(json_pack("{s:I, s:b}", "generation", (json_int_t)report.generation,
                                    "published", report.published),
                          0, &len);
        api_set_body(out, 200, CT_JSON, body, len);
        if (out->status == 200)
            api_add_generation(out, report.generation);
        return out->status;
    }
    if (rc == SNAPCONF_ENOMEM || rc == SNAPCONF_ESYS || rc == SNAPCONF_EDEADLK ||
        rc == SNAPCONF_EINVAL)
        return api_error_response(out, 500, "internal", err.message, true, report.generation,
                                  json_pack("{s:s}", "snapconf_code", snapconf_err_name(rc)));
    return api_error_response(out, 422, "invalid_config", err.message, true, report.generation,
                              json_pack("{s:o, s:i, s:i, s:s}", "file", jsonw_string(err.file),
                                        "line", err.line, "column", err.column, "snapconf_code",
                                        snapconf_err_name(rc)));
}

/* ---- GET /metrics ---------------------------------------------------------- */

static unsigned get_metrics(struct api_ctx *ctx, struct api_response *out)
{
    snapconf_status_info *st = malloc(sizeof(*st));
    const snapconf_snap *snap;
    uint64_t generation;
    size_t len = 0;
    char *body;

    if (st == NULL)
        return api_error_fmt(out, 500, "internal", "out of memory");
    snapconf_status(ctx->h, st);
    snap = snapconf_snap_hold(ctx->h);
    generation = snapconf_snap_generation(snap);
    body = metrics_render(ctx->metrics, snap, st, events_watchers(ctx->events), &len);
    snapconf_snap_release(snap);
    free(st);
    api_set_body(out, 200, CT_METRICS, body, len);
    if (out->status == 200)
        api_add_generation(out, generation);
    return out->status;
}

/* ---- routing --------------------------------------------------------------- */

enum endpoint {
    EP_NONE,
    EP_KEYS,
    EP_OVERRIDES,
    EP_SNAPSHOT,
    EP_STATUS,
    EP_WATCH,
    EP_RELOAD,
    EP_METRICS
};

/* An endpoint by its exact path, or by a prefix followed by a config path
 * ("/v1/keys/server.port"); the prefix without its slash is the root. */
static const struct route {
    const char *path;
    bool prefix;
    enum endpoint endpoint;
    unsigned methods;
} routes[] = {
    {"/v1/keys", true, EP_KEYS, M_GET | M_PUT | M_DELETE},
    {"/v1/overrides", true, EP_OVERRIDES, M_GET | M_DELETE},
    {"/v1/snapshot", false, EP_SNAPSHOT, M_GET},
    {"/v1/status", false, EP_STATUS, M_GET},
    {"/v1/watch", false, EP_WATCH, M_GET},
    {"/v1/reload", false, EP_RELOAD, M_POST},
    {"/metrics", false, EP_METRICS, M_GET},
};

static const struct route *route(const char *path, const char **key)
{
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        const struct route *r = &routes[i];
        size_t n = strlen(r->path);

        if (strncmp(path, r->path, n) != 0)
            continue;
        if (path[n] == '\0') {
            *key = "";
            return r;
        }
        if (r->prefix && path[n] == '/') {
            *key = path + n + 1;
            return r;
        }
    }
    return NULL;
}

static unsigned method_bit(const char *method)
{
    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
        return M_GET;
    if (strcmp(method, "POST") == 0)
        return M_POST;
    if (strcmp(method, "PUT") == 0)
        return M_PUT;
    return strcmp(method, "DELETE") == 0 ? M_DELETE : 0;
}

/* "GET, HEAD, PUT, DELETE" for the Allow header and the 405 message. */
static void allow_list(unsigned methods, char *out, size_t size)
{
    static const char *const names[] = {"GET, HEAD", "POST", "PUT", "DELETE"};
    size_t len = 0;

    out[0] = '\0';
    for (unsigned i = 0; i < 4; i++) {
        if ((methods & (1u << i)) != 0 && len < size)
            len += (size_t)snprintf(out + len, size - len, "%s%s", len > 0 ? ", " : "", names[i]);
    }
}

static unsigned method_not_allowed(const struct api_request *req, unsigned methods,
                                   struct api_response *out)
{
    char allow[64];

    allow_list(methods, allow, sizeof(allow));
    api_error_fmt(out, 405, "method_not_allowed", "%.32s is not allowed on %.200s; use %s",
                  req->method, req->path, allow);
    api_add_header(out, "Allow", "%s", allow);
    return 405;
}

static unsigned dispatch(struct api_ctx *ctx, const struct api_request *req, enum endpoint ep,
                         unsigned method, const char *key, struct api_response *out)
{
    bool head = strcmp(req->method, "HEAD") == 0;

    switch (ep) {
    case EP_KEYS:
        if (method == M_PUT)
            return api_put_key(ctx, req, key, out);
        if (method == M_DELETE)
            return api_delete_key(ctx, req, key, out);
        return get_key(ctx, key, out);
    case EP_OVERRIDES:
        if (method == M_DELETE)
            return api_delete_overrides(ctx, req, key, out);
        return api_get_overrides(ctx, key, out);
    case EP_SNAPSHOT:
        return get_snapshot(ctx, req, out);
    case EP_STATUS:
        return get_status(ctx, out);
    case EP_WATCH:
        return get_watch(ctx, req, head, out);
    case EP_RELOAD:
        return post_reload(ctx, out);
    case EP_METRICS:
        return get_metrics(ctx, out);
    default:
        return api_error_fmt(out, 500, "internal", "no handler");
    }
}

unsigned api_handle(struct api_ctx *ctx, const struct api_request *req, struct api_response *out)
{
    const struct route *r;
    const char *key = NULL;
    unsigned method = method_bit(req->method);

    memset(out, 0, sizeof(*out));
    if (req->url_length > API_MAX_URL)
        return api_error_fmt(out, 414, "uri_too_long",
                             "the request target is %zu bytes long; the limit is %d",
                             req->url_length, API_MAX_URL);
    if (req->bad_encoding)
        return api_error_fmt(
            out, 400, "bad_request",
            "the request target contains %%00, which no path or parameter may hold");
    /* A PUT's body is its value: too large is its own answer (413), given
     * once the client is known to be allowed to write at all. */
    if (req->body_too_large && method != M_PUT)
        return api_error_fmt(out, 400, "bad_request", "the request body is larger than %d bytes",
                             API_MAX_BODY);
    r = route(req->path, &key);
    if (r == NULL)
        return api_error_fmt(out, 404, "no_such_endpoint",
                             "no endpoint at %.200s; see docs/API.md for the API", req->path);
    if ((r->methods & method) == 0)
        return method_not_allowed(req, r->methods, out);
    return dispatch(ctx, req, r->endpoint, method, key, out);
}

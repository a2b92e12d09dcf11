/*
 * api_write.c - the endpoints that change the configuration at run time:
 * PUT and DELETE on /v1/keys/{path} (snapconf_set(), snapconf_unset()),
 * DELETE on /v1/overrides[/{path}] (snapconf_revert()), and the list of
 * overrides in force, GET /v1/overrides.  See docs/API.md.
 *
 * Who may write is decided here and only here: a client on the Unix
 * socket whose uid, as the kernel reports it (SO_PEERCRED, read by
 * http.c), is in the --admin-uid list.  TCP carries no identity, so a
 * client there never may; nor may anyone when the list is empty.  Every
 * change and every refusal is logged with the uid, for the audit trail.
 */
#include "api_int.h"

#include "jsonw.h"
#include "log.h"
#include "origin.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- who may write ------------------------------------------------------------ */

bool api_may_write(const struct api_ctx *ctx, const struct api_request *req)
{
    if (!req->has_peer_uid)
        return false;
    for (size_t i = 0; i < ctx->n_admin_uids; i++) {
        if (ctx->admin_uids[i] == req->peer_uid)
            return true;
    }
    return false;
}

/* What would make the request allowed, for the 403. */
static void forbidden_message(const struct api_ctx *ctx, const struct api_request *req,
                              char *message, size_t size)
{
    unsigned uid = (unsigned)req->peer_uid;

    if (req->peer_tcp)
        snprintf(message, size,
                 "runtime changes are refused over TCP, which carries no user identity: send "
                 "them on snapconfd's Unix socket, as a user named by its --admin-uid");
    else if (!req->has_peer_uid)
        snprintf(message, size,
                 "the client's user is unknown, so runtime changes are refused: send them on "
                 "snapconfd's Unix socket, as a user named by its --admin-uid");
    else if (ctx->n_admin_uids == 0)
        snprintf(message, size,
                 "runtime changes are disabled: start snapconfd with --admin-uid %u to allow "
                 "them for your user (uid %u)",
                 uid, uid);
    else
        snprintf(message, size,
                 "uid %u may not change the configuration: start snapconfd with --admin-uid %u "
                 "(added to its list) to allow it",
                 uid, uid);
}

/* The 403, logged: refusals are part of the audit trail. */
static unsigned forbidden(const struct api_ctx *ctx, const struct api_request *req,
                          struct api_response *out)
{
    char message[512], who[32];

    forbidden_message(ctx, req, message, sizeof(message));
    if (req->has_peer_uid)
        snprintf(who, sizeof(who), "uid %u", (unsigned)req->peer_uid);
    else
        snprintf(who, sizeof(who), "%s", req->peer_tcp ? "a TCP client" : "an unknown client");
    dlog(SNAPCONF_LOG_WARNING, "refused %s %.200s from %s: not an --admin-uid", req->method,
         req->path, who);
    return api_error_response(
        out, 403, "forbidden", message, false, 0,
        req->has_peer_uid ? json_pack("{s:I}", "uid", (json_int_t)req->peer_uid) : NULL);
}

/* Compiles the path of a write once the client is known to be allowed;
 * on failure out holds the answer. */
static bool writer_path(const struct api_ctx *ctx, const struct api_request *req, const char *text,
                        struct api_response *out, snapconf_path **path)
{
    if (!api_may_write(ctx, req)) {
        forbidden(ctx, req, out);
        return false;
    }
    return api_compile_path(out, text, false, 0, path);
}

static void log_change(const struct api_request *req, const char *what, const char *path,
                       uint64_t generation)
{
    dlog(SNAPCONF_LOG_INFO, "runtime change by uid %u: %s %.300s (generation %" PRIu64 ")",
         (unsigned)req->peer_uid, what, path[0] != '\0' ? path : "(everything)", generation);
}

/* ---- errors ------------------------------------------------------------------------ */

/* The answer to a write the library refused (docs/API.md, "Errors"). */
static unsigned write_failed(struct api_response *out, int rc, const snapconf_error *err,
                             uint64_t generation)
{
    const char *msg = err->message[0] != '\0' ? err->message : snapconf_strerror(rc);
    const char *name = snapconf_err_name(rc);

    switch (rc) {
    case SNAPCONF_EPATH:
        return api_error_response(out, 400, "bad_path", msg, true, generation,
                                  json_pack("{s:i}", "column", err->column));
    case SNAPCONF_EPARSE:
    case SNAPCONF_ELIMIT:
    case SNAPCONF_ERANGE:
    case SNAPCONF_EINVAL:
        return api_error_response(out, 400, "bad_value", msg, true, generation,
                                  json_pack("{s:i, s:i, s:s}", "line", err->line, "column",
                                            err->column, "snapconf_code", name));
    case SNAPCONF_ETYPE:
        return api_error_response(out, 409, "conflict", msg, true, generation,
                                  json_pack("{s:s}", "snapconf_code", name));
    case SNAPCONF_ENOTFOUND:
        return api_error_response(out, 404, "not_found", msg, true, generation, NULL);
    case SNAPCONF_EVALIDATE:
        return api_error_response(out, 422, "invalid_config", msg, true, generation,
                                  json_pack("{s:o, s:i, s:i, s:s}", "file", jsonw_string(err->file),
                                            "line", err->line, "column", err->column,
                                            "snapconf_code", name));
    case SNAPCONF_EIO:
        return api_error_response(
            out, 500, "io_error", msg, true, generation,
            json_pack("{s:o, s:s}", "file", jsonw_string(err->file), "snapconf_code", name));
    default:
        return api_error_response(out, 500, "internal", msg, true, generation,
                                  json_pack("{s:s}", "snapconf_code", name));
    }
}

/* 404 not_found for a write with nothing to act on, naming the path. */
static unsigned nothing_there(struct api_response *out, const char *message, const char *path,
                              uint64_t generation)
{
    return api_error_response(out, 404, "not_found", message, true, generation,
                              json_pack("{s:o}", "path", jsonw_string(path)));
}

/* {"path": ..., "generation": N} plus more members (released here). */
static unsigned write_done(struct api_response *out, const char *path, uint64_t generation,
                           json_t *more)
{
    json_t *j =
        json_pack("{s:o, s:I}", "path", jsonw_string(path), "generation", (json_int_t)generation);
    size_t len = 0;

    if (j != NULL && more != NULL)
        json_object_update(j, more);
    json_decref(more);
    char *body = jsonw_dump(j, 0, &len);
    api_set_body(out, 200, CT_JSON, body, len);
    if (out->status == 200)
        api_add_generation(out, generation);
    return out->status;
}

/* ---- PUT /v1/keys/{path} ------------------------------------------------------------ */

static int do_set(snapconf *h, const char *path, snapconf_error *err, void *arg)
{
    return snapconf_set(h, path, arg, err);
}

/* The body as a value's YAML text; false with the answer in out when it
 * cannot be one. */
static bool check_value(const struct api_request *req, struct api_response *out)
{
    const char *nul;

    if (req->body_too_large) {
        api_error_fmt(out, 413, "payload_too_large",
                      "the value is larger than %zu bytes (1 MiB); a runtime override is meant "
                      "for a setting, not a whole configuration",
                      API_MAX_PUT_BODY);
        return false;
    }
    if (req->body == NULL || req->body_len == 0) {
        api_error_fmt(out, 400, "bad_value",
                      "the request body is empty: send the YAML text of the value (\"\" for an "
                      "empty string, null for a null)");
        return false;
    }
    nul = memchr(req->body, '\0', req->body_len);
    if (nul != NULL) {
        api_error_fmt(out, 400, "bad_value", "the value holds a NUL byte at offset %zu",
                      (size_t)(nul - req->body));
        return false;
    }
    return true;
}

/* The key as it is now, as GET shows it; the snapshot may be a later one
 * than the change's, which any later one still contains. */
static unsigned answer_key(struct api_ctx *ctx, const snapconf_path *path, struct api_response *out)
{
    const snapconf_snap *snap = snapconf_snap_hold(ctx->h);
    const snapconf_node *node = NULL;
    unsigned status;

    if (snapconf_find_path(snap, path, &node) == 0)
        status = api_key_body(out, snap, path, node);
    else
        status =
            api_error_fmt(out, 409, "conflict", "%s was set, but a later change removed it already",
                          snapconf_path_str(path));
    snapconf_snap_release(snap);
    return status;
}

unsigned api_put_key(struct api_ctx *ctx, const struct api_request *req, const char *key,
                     struct api_response *out)
{
    snapconf_reload_report report;
    snapconf_path *path = NULL;
    snapconf_error err;
    unsigned status;
    int rc;

    if (!writer_path(ctx, req, key, out, &path))
        return out->status;
    if (!check_value(req, out)) {
        snapconf_path_free(path);
        return out->status;
    }
    rc = api_run_write(ctx, do_set, snapconf_path_str(path), (void *)req->body, &report, &err);
    if (rc != 0) {
        status = write_failed(out, rc, &err, report.generation);
    } else {
        log_change(req, "set", snapconf_path_str(path), report.generation);
        status = answer_key(ctx, path, out);
    }
    snapconf_path_free(path);
    return status;
}

/* ---- DELETE /v1/keys/{path} ------------------------------------------------------------ */

static int do_unset(snapconf *h, const char *path, snapconf_error *err, void *arg)
{
    (void)arg;
    return snapconf_unset(h, path, err);
}

/*
 * Whether the current snapshot has a value at path.  Asked before the
 * unset, so that deleting what is not there is a plain 404 rather than a
 * failed write in the handle's status; a race with another writer only
 * means the library says it instead.
 */
static bool has_value(struct api_ctx *ctx, const snapconf_path *path, uint64_t *generation)
{
    const snapconf_snap *snap = snapconf_snap_hold(ctx->h);
    const snapconf_node *node;
    bool found = snapconf_find_path(snap, path, &node) == 0;

    *generation = snapconf_snap_generation(snap);
    snapconf_snap_release(snap);
    return found;
}

unsigned api_delete_key(struct api_ctx *ctx, const struct api_request *req, const char *key,
                        struct api_response *out)
{
    snapconf_reload_report report;
    snapconf_path *path = NULL;
    snapconf_error err;
    uint64_t generation;
    unsigned status;
    int rc;

    if (!writer_path(ctx, req, key, out, &path))
        return out->status;
    const char *text = snapconf_path_str(path);
    if (!has_value(ctx, path, &generation)) {
        char message[512];
        snprintf(message, sizeof(message), "cannot unset %.300s: no value there", text);
        status = nothing_there(out, message, text, generation);
    } else if ((rc = api_run_write(ctx, do_unset, text, NULL, &report, &err)) != 0) {
        status = write_failed(out, rc, &err, report.generation);
    } else {
        log_change(req, "unset", text, report.generation);
        status = write_done(out, text, report.generation, NULL);
    }
    snapconf_path_free(path);
    return status;
}

/* ---- /v1/overrides[/{path}] ------------------------------------------------------------ */

unsigned api_get_overrides(struct api_ctx *ctx, const char *prefix, struct api_response *out)
{
    const snapconf_snap *snap = snapconf_snap_hold(ctx->h);
    uint64_t generation = snapconf_snap_generation(snap);
    snapconf_path *path = NULL;
    struct jsonw_buf b;
    render_error rerr;
    size_t count = 0, len = 0;
    int rc = -1;

    if (!api_compile_path(out, prefix, true, generation, &path)) {
        snapconf_snap_release(snap);
        return out->status;
    }
    if (jsonw_buf_open(&b)) {
        fprintf(b.f, "{\"generation\": %" PRIu64 ", \"overrides\": ", generation);
        rc = origin_write_overrides(b.f, snap, snapconf_path_str(path), &count, &rerr);
        fprintf(b.f, ", \"count\": %zu}\n", count);
        char *body = jsonw_buf_close(&b, &len);
        if (rc == 0)
            api_set_body(out, 200, CT_JSON, body, len);
        else
            free(body);
    } else {
        snprintf(rerr.message, sizeof(rerr.message), "out of memory");
    }
    snapconf_path_free(path);
    snapconf_snap_release(snap);
    if (rc != 0)
        return api_error_response(out, 500, "internal", rerr.message, true, generation, NULL);
    if (out->status == 200)
        api_add_generation(out, generation);
    return out->status;
}

static int do_revert(snapconf *h, const char *path, snapconf_error *err, void *arg)
{
    (void)arg;
    return snapconf_revert(h, path, err);
}

/* How many overrides lie at or below prefix now; as has_value(), asked
 * first so that nothing to revert is a plain 404. */
static size_t count_overrides(struct api_ctx *ctx, const char *prefix, uint64_t *generation)
{
    const snapconf_snap *snap = snapconf_snap_hold(ctx->h);
    render_error rerr;
    size_t count = 0;

    *generation = snapconf_snap_generation(snap);
    if (origin_write_overrides(NULL, snap, prefix, &count, &rerr) != 0)
        count = 1; /* unknown (out of memory): let the library decide */
    snapconf_snap_release(snap);
    return count;
}

unsigned api_delete_overrides(struct api_ctx *ctx, const struct api_request *req,
                              const char *prefix, struct api_response *out)
{
    snapconf_reload_report report;
    snapconf_path *path = NULL;
    snapconf_error err;
    uint64_t generation;
    unsigned status;
    size_t count;
    int rc;

    if (!writer_path(ctx, req, prefix, out, &path))
        return out->status;
    const char *text = snapconf_path_str(path);
    count = count_overrides(ctx, text, &generation);
    if (count == 0) {
        char message[512];
        if (text[0] == '\0')
            snprintf(message, sizeof(message), "no runtime overrides to revert");
        else
            snprintf(message, sizeof(message), "no runtime override at or below %.300s to revert",
                     text);
        status = nothing_there(out, message, text, generation);
    } else if ((rc = api_run_write(ctx, do_revert, text, NULL, &report, &err)) != 0) {
        status = write_failed(out, rc, &err, report.generation);
    } else {
        log_change(req, "revert", text, report.generation);
        status = write_done(out, text, report.generation,
                            json_pack("{s:I}", "reverted", (json_int_t)count));
    }
    snapconf_path_free(path);
    return status;
}

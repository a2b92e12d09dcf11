/*
 * api.h - the HTTP API of snapconfd (docs/API.md), apart from the network.
 *
 * api_handle() turns one request (method, decoded path, query parameters)
 * into one response (status, content type, headers, body) and knows
 * nothing of sockets or of libmicrohttpd, so that tests and fuzz targets
 * can call it directly.  Every response that reads the configuration is
 * built from one pinned snapshot and carries its generation.
 *
 * The only files the daemon ever reads are those the handle was opened on
 * (the configuration, its drop-ins, the state file, all given on the
 * command line): no request names a file, and a path in a URL is a path
 * inside the configuration, looked up in memory.  Requests that change the
 * configuration (runtime overrides) are allowed only for the users in
 * api_ctx.admin_uids, identified by the kernel (SO_PEERCRED), never by
 * anything the request says.
 */
#ifndef SNAPCONFD_API_H
#define SNAPCONFD_API_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <snapconf.h>

#include "events.h"
#include "metrics.h"

/* Longest request target (path and query) accepted; longer gets 414. */
#define API_MAX_URL 8192

/* What the API reads from; everything is borrowed. */
struct api_ctx {
    snapconf *h;
    struct events *events;
    struct metrics *metrics;
    /* The users who may change the configuration at run time (PUT and
     * DELETE): the --admin-uid list.  Empty: nobody. */
    const uid_t *admin_uids;
    size_t n_admin_uids;
};

/* One request, as the HTTP layer parsed it.  Strings are NUL-terminated and
 * percent-decoded; query parameters and last_event_id are NULL when absent. */
struct api_request {
    const char *method;
    const char *path;
    const char *prefix;        /* ?prefix= */
    const char *since;         /* ?since= */
    const char *format;        /* ?format= (json or yaml, for /v1/snapshot) */
    const char *last_event_id; /* the Last-Event-ID header (SSE reconnection) */
    size_t url_length;         /* of the raw request target, for the 414 check */
    bool bad_encoding;         /* the target held %00, which no C string can carry */
    bool body_too_large;       /* the request body exceeded the limit of its method */
    const char *body;          /* PUT only: the request body, NUL-terminated (it may hold
                                  NULs too); NULL when there was none */
    size_t body_len;
    /* Who sent the request: the client's uid when the HTTP layer knows it
     * (a Unix socket, SO_PEERCRED), and whether it came over TCP, which
     * carries no identity.  All zero: unknown, which may not write. */
    bool has_peer_uid;
    uid_t peer_uid;
    bool peer_tcp;
};

#define API_MAX_HEADERS 4

struct api_header {
    const char *name; /* static */
    char value[64];
};

struct api_response {
    unsigned status;
    const char *content_type; /* static */
    char *body;               /* malloc'd; NULL for a stream */
    size_t body_len;
    struct api_header headers[API_MAX_HEADERS];
    size_t n_headers;
    /* For GET /v1/watch: the stream that produces the body, owned by the
     * response until taken (set it to NULL) by the caller. */
    struct events_stream *stream;
};

/* Limit of a request body: a PUT from a client that may write has its body
 * read, the YAML text of a value (larger: 413); other requests' bodies are
 * ignored (larger: 400, or 403 for a PUT). */
#define API_MAX_BODY 65536
#define API_MAX_PUT_BODY ((size_t)1 << 20)

/*
 * Handles one request.  Always fills *out with a complete response (an
 * error response when something failed); returns the status code.  Any
 * thread; never blocks except POST /v1/reload and the runtime changes (PUT
 * and DELETE), which publish on the calling thread.
 */
unsigned api_handle(struct api_ctx *ctx, const struct api_request *req, struct api_response *out);

/* Whether the client of req (its peer fields only) may change the
 * configuration: a Unix-socket client whose uid is in ctx->admin_uids. */
bool api_may_write(const struct api_ctx *ctx, const struct api_request *req);

/* Frees the body and, if still owned, the stream. */
void api_response_free(struct api_response *resp);

/* A response with a JSON error body (docs/API.md, "Errors"), for errors
 * found before api_handle(), e.g. by the HTTP layer.  has_generation says
 * whether generation is meaningful. */
void api_error(struct api_response *out, unsigned status, const char *code, const char *message,
               bool has_generation, uint64_t generation);

/*
 * Reloads the configuration now, as POST /v1/reload does (SIGHUP uses it
 * too): returns snapconf_reload()'s result, with the attempt's report in
 * *report (generation after the attempt, whether it published; its error
 * pointer is NULL) and, on failure, the error in *err.
 */
int api_reload(struct api_ctx *ctx, snapconf_reload_report *report, snapconf_error *err);

/*
 * To be called from the handle's on_reload callback: when the reload was
 * asked for by POST /v1/reload on this thread, hands the report to it (the
 * only race-free way to know whether that very reload published).
 */
void api_on_reload(const snapconf_reload_report *report);

#endif /* SNAPCONFD_API_H */

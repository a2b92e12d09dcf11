/*
 * http.c - libmicrohttpd glue: requests in, api_handle(), responses out.
 * See http.h.
 */
#include "http.h"

#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <microhttpd.h>

/* What a watch stream's reader waits for at once before checking that the
 * client is still there, in milliseconds. */
#define STREAM_POLL_MS 1000
/* Bytes handed to libmicrohttpd per call of the stream's reader. */
#define STREAM_BLOCK 16384

struct http_daemon {
    struct MHD_Daemon *mhd;
    struct api_ctx *api;
    bool tcp;
    const char *name;
};

struct http {
    size_t n;
    struct http_daemon daemons[];
};

/* Per request: what the raw request target told us, who sent it, and the
 * body seen (kept only for a PUT that may be carried out: it is a value). */
struct request {
    size_t url_length;
    bool bad_encoding;
    bool started;
    bool has_peer_uid; /* the client's uid, on a Unix socket */
    uid_t peer_uid;
    size_t body_bytes, limit;
    bool keep_body; /* a PUT from a client that may write */
    char *body;     /* then the bytes so far, NUL-terminated */
};

/* Per watch stream. */
struct stream_ctx {
    struct events_stream *stream;
    int fd; /* the client's socket, to notice a client that has gone */
};

/* ---- libmicrohttpd callbacks ------------------------------------------- */

/* libmicrohttpd's own messages: client misbehaviour is routine (debug),
 * running out of threads or memory is not. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char message[512];
    size_t n;

    (void)cls;
    vsnprintf(message, sizeof(message), fmt, ap);
    n = strlen(message);
    while (n > 0 && (message[n - 1] == '\n' || message[n - 1] == '\r'))
        message[--n] = '\0';
    bool serious = strstr(message, "thread") != NULL || strstr(message, "memory") != NULL ||
                   strstr(message, "listen") != NULL;
    dlog(serious ? SNAPCONF_LOG_WARNING : SNAPCONF_LOG_DEBUG, "http: %s", message);
}

/* Called with the raw request target before libmicrohttpd decodes it: the
 * only place to see its length and any %00, which decoding would turn into
 * a NUL that silently cuts the path short. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *connection)
{
    struct request *r = calloc(1, sizeof(*r));

    (void)cls;
    (void)connection;
    if (r == NULL)
        return NULL;
    r->url_length = strlen(uri);
    for (const char *p = strchr(uri, '%'); p != NULL; p = strchr(p + 1, '%')) {
        if (p[1] == '0' && p[2] == '0') {
            r->bad_encoding = true;
            break;
        }
    }
    return r;
}

static void on_completed(void *cls, struct MHD_Connection *connection, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)connection;
    (void)toe;
    struct request *r = *req_cls;
    if (r != NULL)
        free(r->body);
    free(r);
    *req_cls = NULL;
}

static bool peer_gone(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLRDHUP};

    if (fd < 0)
        return false;
    if (poll(&p, 1, 0) <= 0)
        return false;
    return (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

/* The body of a watch stream.  Thread-per-connection mode lets this block;
 * it never returns 0, which would make libmicrohttpd spin. */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream_ctx *sc = cls;

    (void)pos;
    for (;;) {
        ssize_t n = events_stream_read(sc->stream, buf, max, STREAM_POLL_MS);
        if (n == EVENTS_EOF)
            return MHD_CONTENT_READER_END_OF_STREAM;
        if (n > 0)
            return n;
        if (peer_gone(sc->fd))
            return MHD_CONTENT_READER_END_WITH_ERROR;
    }
}

static void stream_free(void *cls)
{
    struct stream_ctx *sc = cls;

    events_stream_close(sc->stream);
    free(sc);
    dlog(SNAPCONF_LOG_DEBUG, "watch stream closed");
}

/* Whether a Host header names the loopback interface, as every request
 * to a loopback TCP port should: anything else is a web page that had a
 * name of its own resolve to 127.0.0.1 (DNS rebinding) to read the
 * configuration through a browser. */
static bool host_is_loopback(const char *host)
{
    char name[256];
    const char *end;
    size_t len;

    if (host[0] == '[') {
        end = strchr(host, ']');
        if (end == NULL)
            return false;
        len = (size_t)(end - host - 1);
        return len == 3 && strncmp(host + 1, "::1", 3) == 0 && (end[1] == '\0' || end[1] == ':');
    }
    end = strchr(host, ':');
    len = end != NULL ? (size_t)(end - host) : strlen(host);
    if (len == 0 || len >= sizeof(name))
        return false;
    memcpy(name, host, len);
    name[len] = '\0';
    if (strcasecmp(name, "localhost") == 0)
        return true;
    struct in_addr addr;
    return inet_pton(AF_INET, name, &addr) == 1 && (ntohl(addr.s_addr) >> 24) == 127;
}

static enum MHD_Result queue(struct MHD_Connection *connection, struct api_response *resp)
{
    struct MHD_Response *r;
    enum MHD_Result ok;

    if (resp->stream != NULL) {
        struct stream_ctx *sc = malloc(sizeof(*sc));
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (sc == NULL)
            return MHD_NO;
        sc->stream = resp->stream;
        sc->fd = info != NULL ? info->connect_fd : -1;
        r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK, stream_read, sc,
                                              stream_free);
        if (r == NULL) {
            free(sc);
            return MHD_NO;
        }
        resp->stream = NULL; /* the response owns it now */
        dlog(SNAPCONF_LOG_DEBUG, "watch stream opened");
    } else {
        r = MHD_create_response_from_buffer(resp->body_len, resp->body, MHD_RESPMEM_MUST_FREE);
        if (r == NULL)
            return MHD_NO;
        resp->body = NULL;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
    for (size_t i = 0; i < resp->n_headers; i++)
        MHD_add_response_header(r, resp->headers[i].name, resp->headers[i].value);
    ok = MHD_queue_response(connection, resp->status, r);
    MHD_destroy_response(r);
    return ok;
}

/*
 * Who is on the other end: on a Unix socket the kernel says which user
 * connected (SO_PEERCRED, fixed at connect()), and that alone decides
 * whether the client may change the configuration; a request can claim
 * nothing.  TCP has no such thing.
 */
static void peer_identity(const struct http_daemon *d, struct MHD_Connection *connection,
                          struct request *r)
{
    const union MHD_ConnectionInfo *info;
    struct ucred cred;
    socklen_t len = sizeof(cred);

    if (d->tcp)
        return;
    info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (info == NULL || getsockopt(info->connect_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
        len != sizeof(cred))
        return;
    r->has_peer_uid = true;
    r->peer_uid = cred.uid;
}

/*
 * Called once the headers are in: learns who the client is and sets the
 * body limit.  Only a PUT from a client that may write has its body kept
 * (up to API_MAX_PUT_BODY), so that nobody else can make the daemon hold
 * more than nothing.  Returns true when the request can be answered now (it
 * announced a body over the limit: a response is only possible now or once
 * the whole body is in), false when its body, if any, comes in the next
 * calls.
 */
static bool start_body(const struct http_daemon *d, struct MHD_Connection *connection,
                       const char *method, struct request *r)
{
    const char *length = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, "Content-Length");
    struct api_request who = {.peer_tcp = d->tcp};

    r->started = true;
    peer_identity(d, connection, r);
    who.has_peer_uid = r->has_peer_uid;
    who.peer_uid = r->peer_uid;
    r->keep_body = strcmp(method, "PUT") == 0 && api_may_write(d->api, &who);
    r->limit = r->keep_body ? API_MAX_PUT_BODY : API_MAX_BODY;
    if (length == NULL || strtoull(length, NULL, 10) <= r->limit)
        return false;
    r->body_bytes = r->limit + 1;
    return true;
}

/* One piece of the body: kept or counted and dropped (start_body() says
 * which).  False ends the connection: a chunked body past the limit, or no
 * memory. */
static bool take_body(struct request *r, const char *data, size_t n)
{
    if (n > r->limit - r->body_bytes)
        return false;
    if (r->keep_body) {
        char *body = realloc(r->body, r->body_bytes + n + 1);
        if (body == NULL)
            return false;
        memcpy(body + r->body_bytes, data, n);
        body[r->body_bytes + n] = '\0';
        r->body = body;
    }
    r->body_bytes += n;
    return true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *connection, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    struct http_daemon *d = cls;
    struct request *r = *req_cls;
    struct api_request req = {.method = method, .path = url};
    struct api_response resp;
    enum MHD_Result ok;

    (void)version;
    if (r == NULL)
        return MHD_NO; /* out of memory: drop the connection */
    if (!r->started) {
        if (!start_body(d, connection, method, r))
            return MHD_YES;
    } else if (*upload_data_size > 0) {
        bool kept = take_body(r, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return kept ? MHD_YES : MHD_NO;
    }

    /* A request target in absolute form ("GET http://localhost/v1/status",
     * as sent to proxies) means the same as its path. */
    if (strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0) {
        const char *path = strchr(strstr(url, "//") + 2, '/');
        req.path = path != NULL ? path : "/";
    }
    req.url_length = r->url_length;
    req.bad_encoding = r->bad_encoding;
    req.body_too_large = r->body_bytes > r->limit;
    req.body = r->body;
    req.body_len = r->body != NULL ? r->body_bytes : 0;
    req.peer_tcp = d->tcp;
    req.has_peer_uid = r->has_peer_uid;
    req.peer_uid = r->peer_uid;
    const char *host = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, "Host");
    if (d->tcp && host != NULL && !host_is_loopback(host)) {
        memset(&resp, 0, sizeof(resp));
        api_error(&resp, 400, "bad_request",
                  "the Host header must name the loopback interface (localhost, 127.0.0.1, "
                  "[::1])",
                  false, 0);
    } else {
        req.prefix = MHD_lookup_connection_value(connection, MHD_GET_ARGUMENT_KIND, "prefix");
        req.since = MHD_lookup_connection_value(connection, MHD_GET_ARGUMENT_KIND, "since");
        req.format = MHD_lookup_connection_value(connection, MHD_GET_ARGUMENT_KIND, "format");
        req.last_event_id =
            MHD_lookup_connection_value(connection, MHD_HEADER_KIND, "Last-Event-ID");
        api_handle(d->api, &req, &resp);
    }
    dlog(SNAPCONF_LOG_DEBUG, "%s: %.16s %.300s -> %u", d->name, method, req.path, resp.status);
    ok = queue(connection, &resp);
    api_response_free(&resp);
    return ok;
}

/* ---- start and stop --------------------------------------------------------- */

int http_start(struct api_ctx *api, const struct http_listener *listeners, size_t n,
               struct http **out, char *err, size_t errlen)
{
    struct http *server = calloc(1, sizeof(*server) + n * sizeof(server->daemons[0]));
    const unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                           MHD_USE_AUTO | MHD_USE_ITC | MHD_USE_ERROR_LOG;

    if (server == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        struct http_daemon *d = &server->daemons[i];
        d->api = api;
        d->tcp = listeners[i].tcp;
        d->name = listeners[i].name;
        d->mhd = MHD_start_daemon(
            flags, 0, NULL, NULL, on_request, d, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
            MHD_OPTION_LISTEN_SOCKET, (MHD_socket)listeners[i].fd, MHD_OPTION_CONNECTION_LIMIT,
            (unsigned)HTTP_CONNECTION_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
            (unsigned)HTTP_CONNECTION_TIMEOUT, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
            (size_t)HTTP_CONNECTION_MEMORY, MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL,
            MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_THREAD_STACK_SIZE,
            (size_t)1 << 20, MHD_OPTION_SIGPIPE_HANDLED_BY_APP, 1, MHD_OPTION_END);
        if (d->mhd == NULL) {
            snprintf(err, errlen, "cannot start the HTTP server on %s", listeners[i].name);
            /* Quiescing first hands the listening sockets back, so that
             * every fd stays the caller's. */
            for (size_t k = 0; k < i; k++)
                MHD_quiesce_daemon(server->daemons[k].mhd);
            server->n = i;
            http_stop(server);
            return -1;
        }
        server->n = i + 1;
    }
    *out = server;
    return 0;
}

void http_stop(struct http *server)
{
    if (server == NULL)
        return;
    for (size_t i = 0; i < server->n; i++)
        MHD_stop_daemon(server->daemons[i].mhd);
    free(server);
}

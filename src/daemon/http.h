/*
 * http.h - the HTTP server of snapconfd: libmicrohttpd in front of api.c.
 *
 * One libmicrohttpd daemon per listening socket, each in
 * thread-per-connection mode with an internal polling thread.  A thread
 * per connection lets a watch stream simply block on the event ring's
 * condition variable; the connection limit bounds the threads, and the
 * library's writer never waits for any of them.
 */
#ifndef SNAPCONFD_HTTP_H
#define SNAPCONFD_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "api.h"

/* Connections per listening socket. */
#define HTTP_CONNECTION_LIMIT 256
/* Seconds without any progress after which a connection is closed: slow
 * or vanished clients, half-sent requests, watchers that stopped reading. */
#define HTTP_CONNECTION_TIMEOUT 30
/* Memory per connection for the request line, the headers and the output
 * buffer; a request whose head does not fit is refused by libmicrohttpd. */
#define HTTP_CONNECTION_MEMORY (64 * 1024)

/* A listening socket to serve. */
struct http_listener {
    int fd;           /* listening already; libmicrohttpd closes it at stop */
    bool tcp;         /* a loopback TCP socket: Host headers are checked */
    const char *name; /* for messages: the socket's path or address */
};

struct http;

/*
 * Starts serving each of the n listeners with api.  On success every fd
 * belongs to the server (closed by http_stop()) and *out is set; on failure
 * returns -1 with a message in err and closes nothing.
 */
int http_start(struct api_ctx *api, const struct http_listener *listeners, size_t n,
               struct http **out, char *err, size_t errlen);

/* Stops accepting, closes every connection and waits for their threads.
 * Wake the watch streams first (events_shutdown()).  NULL is ignored. */
void http_stop(struct http *server);

#endif /* SNAPCONFD_HTTP_H */

/*
 * events.h - change events for /v1/watch: a ring of the last publications,
 * and the streams that read it.
 *
 * One subscription to the live handle turns every publication into an
 * event (generation, previous generation, and each change with its kind,
 * path, old and new value already rendered as JSON), kept in a ring of the
 * last EVENTS_RING publications under a mutex and a condition variable.
 * The library's writer only renders and appends: it never waits for a
 * client.  Each stream keeps its own cursor (the last generation it has
 * dealt with) and blocks on the condition variable, with a timeout, until
 * there is something after it; a stream that falls behind the ring is told
 * to resync rather than held back.
 *
 * Nothing here knows about sockets or HTTP: a stream produces the bytes of
 * a text/event-stream body, and its caller sends them.
 */
#ifndef SNAPCONFD_EVENTS_H
#define SNAPCONFD_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <snapconf.h>

/* Publications remembered for since=G. */
#define EVENTS_RING 256
/* Bytes of rendered changes the ring may hold; the oldest events go first
 * when a new one would exceed it. */
#define EVENTS_RING_BYTES ((size_t)64 << 20)
/* An event whose changes render to more than this is kept without them,
 * and streams are told to resync at it instead. */
#define EVENTS_MAX_EVENT_BYTES ((size_t)8 << 20)
/* Default interval of ": keepalive" comments. */
#define EVENTS_KEEPALIVE_MS 15000

struct events;
struct events_stream;

/* Errors of events_stream_open(). */
enum {
    EVENTS_ETOOMANY = -1,  /* max_watchers streams are open already */
    EVENTS_ESHUTDOWN = -2, /* events_shutdown() was called */
    EVENTS_ENOMEM = -3,
};

/* Returned by events_stream_read() when the stream has ended. */
#define EVENTS_EOF ((ssize_t)-1)

/* A ring with no handle yet (see events_attach()); NULL when out of
 * memory. */
struct events *events_new(unsigned max_watchers, unsigned keepalive_ms);

/*
 * Subscribes to every change of h and starts counting generations from the
 * one h has published now.  Returns 0 or a negative SNAPCONF_E* code.
 * Publications between snapconf_open() and this call are not lost: the
 * reload report (events_on_reload()) records them, as events whose changes
 * are unknown.
 */
int events_attach(struct events *ev, snapconf *h);

/*
 * To be called from the handle's on_reload callback: records a publication
 * the subscription did not report (new bytes with no change in the values,
 * or one that happened before the subscription), so that the ring has an
 * event for every generation.  Writer's thread.
 */
void events_on_reload(struct events *ev, const snapconf_reload_report *report);

/* Ends every stream: blocked readers wake up and get EVENTS_EOF, and new
 * streams are refused.  Any thread. */
void events_shutdown(struct events *ev);

/* Unsubscribes from the handle (before snapconf_close()). */
void events_detach(struct events *ev);

/* Frees the ring; every stream must be closed.  NULL is ignored. */
void events_free(struct events *ev);

/* Number of open streams. */
unsigned events_watchers(struct events *ev);

/* The last generation the ring knows of. */
uint64_t events_generation(struct events *ev);

/*
 * Opens a stream of the events touching prefix (canonical; "" for all).
 * With has_since, the events after generation since that the ring still
 * holds are sent first, or a resync if it no longer holds them all.
 * *generation receives the generation the stream starts at (its ":
 * connected generation N" line).  Returns 0 or an EVENTS_E* code.
 */
int events_stream_open(struct events *ev, const char *prefix, bool has_since, uint64_t since,
                       struct events_stream **out, uint64_t *generation);

/*
 * Copies up to max bytes of the stream's body into buf.  Blocks until
 * there is something to send (an event, a resync, a keepalive comment),
 * at most timeout_ms (0: do not block), the stream ends, or events_shutdown()
 * is called.  Returns the number of bytes (> 0), 0 when the timeout passed
 * with nothing to send, or EVENTS_EOF.
 */
ssize_t events_stream_read(struct events_stream *s, char *buf, size_t max, unsigned timeout_ms);

/* Closes a stream (NULL is ignored).  Any thread. */
void events_stream_close(struct events_stream *s);

/* True when the canonical paths a and b are the same or one lies below the
 * other, at a segment boundary ("server" and "server.port", not
 * "server" and "servers"). */
bool events_paths_related(const char *a, const char *b);

#endif /* SNAPCONFD_EVENTS_H */

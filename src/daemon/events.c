/*
 * events.c - the ring of change events and the watch streams, see events.h.
 *
 * Locking: one mutex guards the ring, the generation counter, the watcher
 * count and the shutdown flag.  Events are immutable once in the ring and
 * reference-counted, so a stream takes references under the lock and
 * formats its output after releasing it: the writer's append never waits
 * for a stream's formatting, let alone for its client.
 */
#include "events.h"

#include "jsonw.h"
#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Events a stream formats per round, so that one far behind does not
 * build an enormous buffer at once. */
#define STREAM_BATCH 32
/* ... and at most about this many bytes of them (at least one event). */
#define STREAM_BATCH_BYTES ((size_t)1 << 20)

struct ev_change {
    const char *path; /* canonical */
    const char *json; /* {"kind": ..., "path": ..., "old": ..., "new": ...} */
    size_t json_len;
};

struct event {
    atomic_uint refs;
    uint64_t generation, previous;
    /* NULL when the changes are known; else why not (streams resync). */
    const char *unknown;
    size_t n_changes;
    struct ev_change *changes;
    char *text; /* the paths and JSON the changes point into */
    size_t bytes;
};

struct events {
    pthread_mutex_t lock;
    pthread_cond_t cond; /* broadcast on every new event and on shutdown */
    struct event *ring[EVENTS_RING];
    size_t head, count; /* oldest at ring[head] */
    size_t bytes;
    uint64_t latest;     /* last generation accounted for */
    uint64_t failed_gen; /* a publication whose changes could not be recorded */
    bool attached, subscribed, shutdown;
    unsigned watchers, max_watchers, keepalive_ms;
    snapconf *h;
    int sub_id;
};

struct events_stream {
    struct events *ev;
    char *prefix;
    uint64_t cursor; /* every generation up to it has been dealt with */
    char *out;       /* pending output, out_off bytes of it sent */
    size_t out_len, out_off;
    int64_t last_output_ms;
};

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool events_paths_related(const char *a, const char *b)
{
    size_t alen = strlen(a), blen = strlen(b);
    size_t n = alen < blen ? alen : blen;
    const char *longer = alen > blen ? a : b;

    if (memcmp(a, b, n) != 0)
        return false;
    return alen == blen || n == 0 || longer[n] == '.' || longer[n] == '[';
}

/* ---- events ------------------------------------------------------------- */

static void event_unref(struct event *e)
{
    if (e == NULL || atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) != 1)
        return;
    free(e->changes);
    free(e->text);
    free(e);
}

static struct event *event_unknown(uint64_t generation, uint64_t previous, const char *why)
{
    struct event *e = calloc(1, sizeof(*e));

    if (e == NULL)
        return NULL;
    atomic_init(&e->refs, 1);
    e->generation = generation;
    e->previous = previous;
    e->unknown = why;
    e->bytes = sizeof(*e);
    return e;
}

static const char *const kind_names[] = {"added", "removed", "modified"};

/* Writes one change's path (NUL-terminated) then its JSON (NUL-terminated);
 * budget bounds the JSON of all changes together. */
static int write_change(FILE *f, const snapconf_change *c, size_t *budget, render_error *err)
{
    long start;

    fputs(c->path, f);
    putc('\0', f);
    start = ftell(f);
    fputs("{\"kind\": \"", f);
    fputs(c->kind <= SNAPCONF_CHANGE_MODIFIED ? kind_names[c->kind] : "modified", f);
    fputs("\", \"path\": ", f);
    if (jsonw_put_string(f, c->path) < 0)
        return -1;
    if (c->old_node != NULL) {
        fputs(", \"old\": ", f);
        if (jsonw_put_node(f, c->old_node, *budget, err) < 0)
            return -1;
    }
    if (c->new_node != NULL) {
        fputs(", \"new\": ", f);
        if (jsonw_put_node(f, c->new_node, *budget, err) < 0)
            return -1;
    }
    fputs("}", f);
    putc('\0', f);
    if (ferror(f))
        return -1;
    size_t used = (size_t)(ftell(f) - start);
    if (used > *budget) {
        snprintf(err->message, sizeof(err->message), "changes larger than %zu bytes",
                 (size_t)EVENTS_MAX_EVENT_BYTES);
        return -1;
    }
    *budget -= used;
    return 0;
}

/* Renders the changes of one publication into a new event; NULL with err
 * filled in on failure. */
static struct event *event_build(uint64_t generation, uint64_t previous,
                                 const snapconf_change *changes, size_t n, render_error *err)
{
    struct event *e = calloc(1, sizeof(*e));
    size_t *offsets = calloc(n ? n : 1, sizeof(size_t));
    size_t budget = EVENTS_MAX_EVENT_BYTES, len;
    struct jsonw_buf b;

    snprintf(err->message, sizeof(err->message), "out of memory");
    if (e == NULL || offsets == NULL || !jsonw_buf_open(&b))
        goto fail;
    for (size_t i = 0; i < n; i++) {
        offsets[i] = (size_t)ftell(b.f);
        if (write_change(b.f, &changes[i], &budget, err) < 0) {
            jsonw_buf_close(&b, &len);
            free(b.data);
            goto fail;
        }
    }
    e->text = jsonw_buf_close(&b, &len);
    e->changes = calloc(n ? n : 1, sizeof(*e->changes));
    if (e->text == NULL || e->changes == NULL) {
        free(e->text);
        free(e->changes);
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        struct ev_change *c = &e->changes[i];
        c->path = e->text + offsets[i];
        c->json = c->path + strlen(c->path) + 1;
        c->json_len = strlen(c->json);
    }
    free(offsets);
    atomic_init(&e->refs, 1);
    e->generation = generation;
    e->previous = previous;
    e->n_changes = n;
    e->bytes = sizeof(*e) + n * sizeof(*e->changes) + len;
    return e;
fail:
    free(offsets);
    free(e);
    return NULL;
}

static struct event *ring_at(const struct events *ev, size_t i)
{
    return ev->ring[(ev->head + i) % EVENTS_RING];
}

static void ring_drop_oldest(struct events *ev)
{
    struct event *e = ev->ring[ev->head];

    ev->ring[ev->head] = NULL;
    ev->head = (ev->head + 1) % EVENTS_RING;
    ev->count--;
    ev->bytes -= e->bytes;
    event_unref(e);
}

/* Appends e (taking the reference) and wakes the streams.  Called with the
 * lock held. */
static void ring_push_locked(struct events *ev, struct event *e)
{
    if (e->generation <= ev->latest) {
        event_unref(e);
        return;
    }
    while (ev->count > 0 && (ev->count == EVENTS_RING || ev->bytes + e->bytes > EVENTS_RING_BYTES))
        ring_drop_oldest(ev);
    ev->ring[(ev->head + ev->count) % EVENTS_RING] = e;
    ev->count++;
    ev->bytes += e->bytes;
    ev->latest = e->generation;
    pthread_cond_broadcast(&ev->cond);
}

/* The subscription's callback, on the library's writer thread: render,
 * append, signal; never wait for a client. */
static void on_change(void *userdata, const snapconf_snap *old_snap, const snapconf_snap *new_snap,
                      const snapconf_change *changes, size_t count)
{
    struct events *ev = userdata;
    uint64_t generation = snapconf_snap_generation(new_snap);
    uint64_t previous = snapconf_snap_generation(old_snap);
    render_error err;
    struct event *e = event_build(generation, previous, changes, count, &err);

    if (e == NULL) {
        dlog(SNAPCONF_LOG_WARNING, "generation %" PRIu64 ": changes not recorded for watchers: %s",
             generation, err.message);
        e = event_unknown(generation, previous, "the changes could not be recorded");
    }
    pthread_mutex_lock(&ev->lock);
    if (e != NULL)
        ring_push_locked(ev, e);
    else
        ev->failed_gen = generation;
    pthread_mutex_unlock(&ev->lock);
}

void events_on_reload(struct events *ev, const snapconf_reload_report *report)
{
    struct event *e = NULL;

    if (!report->published)
        return;
    pthread_mutex_lock(&ev->lock);
    if (ev->attached && report->generation > ev->latest) {
        /* The subscription said nothing: either the new bytes changed no
         * value (a comment, the layout), or it did not exist yet, or it
         * failed to record them. */
        bool empty = ev->subscribed && report->generation == ev->latest + 1 &&
                     ev->failed_gen != report->generation;
        if (empty)
            e = event_build(report->generation, ev->latest, NULL, 0, &(render_error){{0}});
        if (e == NULL)
            e = event_unknown(report->generation, ev->latest,
                              empty ? "out of memory" : "the changes are not known");
        if (e != NULL)
            ring_push_locked(ev, e);
        else
            ev->latest = report->generation;
    }
    pthread_mutex_unlock(&ev->lock);
}

/* ---- the ring's life ------------------------------------------------------ */

struct events *events_new(unsigned max_watchers, unsigned keepalive_ms)
{
    struct events *ev = calloc(1, sizeof(*ev));
    pthread_condattr_t attr;

    if (ev == NULL)
        return NULL;
    pthread_mutex_init(&ev->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&ev->cond, &attr);
    pthread_condattr_destroy(&attr);
    ev->max_watchers = max_watchers;
    ev->keepalive_ms = keepalive_ms ? keepalive_ms : EVENTS_KEEPALIVE_MS;
    return ev;
}

int events_attach(struct events *ev, snapconf *h)
{
    snapconf_status_info *st = malloc(sizeof(*st));
    int id;

    if (st == NULL)
        return SNAPCONF_ENOMEM;
    snapconf_status(h, st);
    pthread_mutex_lock(&ev->lock);
    ev->h = h;
    ev->attached = true;
    if (st->generation > ev->latest)
        ev->latest = st->generation;
    pthread_mutex_unlock(&ev->lock);
    free(st);

    id = snapconf_subscribe(h, "", on_change, ev);
    if (id < 0)
        return id;
    pthread_mutex_lock(&ev->lock);
    ev->sub_id = id;
    ev->subscribed = true;
    pthread_mutex_unlock(&ev->lock);
    return 0;
}

void events_shutdown(struct events *ev)
{
    pthread_mutex_lock(&ev->lock);
    ev->shutdown = true;
    pthread_cond_broadcast(&ev->cond);
    pthread_mutex_unlock(&ev->lock);
}

void events_detach(struct events *ev)
{
    if (ev == NULL || !ev->subscribed)
        return;
    snapconf_unsubscribe(ev->h, ev->sub_id);
    pthread_mutex_lock(&ev->lock);
    ev->subscribed = false;
    ev->attached = false;
    pthread_mutex_unlock(&ev->lock);
}

void events_free(struct events *ev)
{
    if (ev == NULL)
        return;
    while (ev->count > 0)
        ring_drop_oldest(ev);
    pthread_cond_destroy(&ev->cond);
    pthread_mutex_destroy(&ev->lock);
    free(ev);
}

unsigned events_watchers(struct events *ev)
{
    unsigned n;

    pthread_mutex_lock(&ev->lock);
    n = ev->watchers;
    pthread_mutex_unlock(&ev->lock);
    return n;
}

uint64_t events_generation(struct events *ev)
{
    uint64_t g;

    pthread_mutex_lock(&ev->lock);
    g = ev->latest;
    pthread_mutex_unlock(&ev->lock);
    return g;
}

/* ---- streams -------------------------------------------------------------- */

static void put_resync(FILE *f, uint64_t generation, const char *reason)
{
    fprintf(f, "id: %" PRIu64 "\nevent: resync\ndata: {\"generation\": %" PRIu64 ", \"reason\": ",
            generation, generation);
    jsonw_put_string(f, reason);
    fputs("}\n\n", f);
}

/* Writes e as a "change" event, with only the changes touching the
 * stream's prefix; nothing when none does. */
static void put_event(FILE *f, const struct events_stream *s, const struct event *e)
{
    bool first = true;
    char reason[160];

    if (e->unknown != NULL) {
        snprintf(reason, sizeof(reason), "%s for generation %" PRIu64 "; re-read /v1/snapshot",
                 e->unknown, e->generation);
        put_resync(f, e->generation, reason);
        return;
    }
    /* A watcher of everything hears of every publication, even one that
     * changed no value; a prefix needs a change that touches it. */
    if (s->prefix[0] != '\0') {
        size_t i;
        for (i = 0; i < e->n_changes; i++) {
            if (events_paths_related(e->changes[i].path, s->prefix))
                break;
        }
        if (i == e->n_changes)
            return;
    }
    fprintf(f,
            "id: %" PRIu64 "\nevent: change\ndata: {\"generation\": %" PRIu64
            ", \"previous_generation\": %" PRIu64 ", \"changes\": [",
            e->generation, e->generation, e->previous);
    for (size_t i = 0; i < e->n_changes; i++) {
        if (!events_paths_related(e->changes[i].path, s->prefix))
            continue;
        if (!first)
            fputs(", ", f);
        fwrite(e->changes[i].json, 1, e->changes[i].json_len, f);
        first = false;
    }
    fputs("]}\n\n", f);
}

/* Sets the stream's pending output to what b holds; false when out of
 * memory. */
static bool set_output(struct events_stream *s, struct jsonw_buf *b)
{
    size_t len = 0;
    char *text = jsonw_buf_close(b, &len);

    free(s->out);
    s->out = text;
    s->out_len = text != NULL ? len : 0;
    s->out_off = 0;
    if (s->out_len > 0)
        s->last_output_ms = mono_ms();
    return text != NULL;
}

int events_stream_open(struct events *ev, const char *prefix, bool has_since, uint64_t since,
                       struct events_stream **out, uint64_t *generation)
{
    struct events_stream *s = calloc(1, sizeof(*s));
    struct jsonw_buf b;
    uint64_t latest;
    int rc = 0;

    if (s == NULL || (s->prefix = strdup(prefix)) == NULL || !jsonw_buf_open(&b)) {
        if (s != NULL)
            free(s->prefix);
        free(s);
        return EVENTS_ENOMEM;
    }
    s->ev = ev;
    pthread_mutex_lock(&ev->lock);
    if (ev->shutdown)
        rc = EVENTS_ESHUTDOWN;
    else if (ev->watchers >= ev->max_watchers)
        rc = EVENTS_ETOOMANY;
    else
        ev->watchers++;
    latest = ev->latest;
    pthread_mutex_unlock(&ev->lock);

    if (rc == 0) {
        fprintf(b.f, ": connected generation %" PRIu64 "\n\n", latest);
        s->cursor = latest;
        if (has_since && since > latest) {
            char reason[160];
            snprintf(reason, sizeof(reason),
                     "generation %" PRIu64 " is newer than the daemon's %" PRIu64
                     " (it has restarted); re-read /v1/snapshot",
                     since, latest);
            put_resync(b.f, latest, reason);
        } else if (has_since) {
            /* Replayed, or resynced, by the first read. */
            s->cursor = since;
        }
    }
    if (!set_output(s, &b) && rc == 0)
        rc = EVENTS_ENOMEM;
    if (rc != 0) {
        if (rc == EVENTS_ENOMEM) {
            pthread_mutex_lock(&ev->lock);
            ev->watchers--;
            pthread_mutex_unlock(&ev->lock);
        }
        free(s->out);
        free(s->prefix);
        free(s);
        return rc;
    }
    *out = s;
    *generation = latest;
    return 0;
}

void events_stream_close(struct events_stream *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->ev->lock);
    s->ev->watchers--;
    pthread_mutex_unlock(&s->ev->lock);
    free(s->out);
    free(s->prefix);
    free(s);
}

/* What a stream takes from the ring in one round (under the lock). */
struct batch {
    struct event *events[STREAM_BATCH];
    size_t n;
    bool resync;        /* the ring no longer holds everything after cursor */
    uint64_t resync_at; /* then: the generation to resync at */
};

/* Takes references to the events after the stream's cursor, or decides
 * on a resync.  Called with the lock held, when cursor < latest. */
static void take_batch_locked(struct events_stream *s, struct batch *bt)
{
    struct events *ev = s->ev;
    uint64_t oldest = ev->count > 0 ? ring_at(ev, 0)->generation : ev->latest + 1;

    bt->n = 0;
    bt->resync = false;
    if (s->cursor + 1 < oldest) {
        bt->resync = true;
        bt->resync_at = ev->latest;
        return;
    }
    size_t bytes = 0;
    for (size_t i = 0; i < ev->count && bt->n < STREAM_BATCH && bytes < STREAM_BATCH_BYTES; i++) {
        struct event *e = ring_at(ev, i);
        if (e->generation <= s->cursor)
            continue;
        atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
        bt->events[bt->n++] = e;
        bytes += e->bytes;
    }
}

/* Formats a batch into the stream's pending output, releasing it.  The
 * output may be empty when no event touched the prefix. */
static bool format_batch(struct events_stream *s, struct batch *bt, bool keepalive)
{
    struct jsonw_buf b;
    bool ok = jsonw_buf_open(&b);

    if (bt->resync && ok) {
        char reason[200];
        snprintf(reason, sizeof(reason),
                 "events after generation %" PRIu64
                 " are no longer remembered (the daemon keeps the last %d publications); "
                 "re-read /v1/snapshot",
                 s->cursor, EVENTS_RING);
        put_resync(b.f, bt->resync_at, reason);
    }
    if (bt->resync)
        s->cursor = bt->resync_at;
    for (size_t i = 0; i < bt->n; i++) {
        if (ok)
            put_event(b.f, s, bt->events[i]);
        s->cursor = bt->events[i]->generation;
        event_unref(bt->events[i]);
    }
    if (keepalive && ok)
        fputs(": keepalive\n\n", b.f);
    return ok && set_output(s, &b);
}

static void deadline_ts(int64_t at_ms, struct timespec *ts)
{
    ts->tv_sec = at_ms / 1000;
    ts->tv_nsec = (long)(at_ms % 1000) * 1000000;
}

ssize_t events_stream_read(struct events_stream *s, char *buf, size_t max, unsigned timeout_ms)
{
    struct events *ev = s->ev;
    int64_t deadline = mono_ms() + timeout_ms;

    while (s->out_off >= s->out_len) {
        struct batch bt = {.n = 0};
        bool keepalive = false;

        pthread_mutex_lock(&ev->lock);
        for (;;) {
            if (ev->shutdown) {
                pthread_mutex_unlock(&ev->lock);
                return EVENTS_EOF;
            }
            if (s->cursor < ev->latest) {
                take_batch_locked(s, &bt);
                break;
            }
            int64_t now = mono_ms(), ka = s->last_output_ms + ev->keepalive_ms;
            if (now >= ka) {
                keepalive = true;
                break;
            }
            if (now >= deadline) {
                pthread_mutex_unlock(&ev->lock);
                return 0;
            }
            struct timespec ts;
            deadline_ts(ka < deadline ? ka : deadline, &ts);
            pthread_cond_timedwait(&ev->cond, &ev->lock, &ts);
        }
        pthread_mutex_unlock(&ev->lock);
        if (!format_batch(s, &bt, keepalive))
            return EVENTS_EOF; /* out of memory: end the stream */
    }
    size_t n = s->out_len - s->out_off;
    if (n > max)
        n = max;
    memcpy(buf, s->out + s->out_off, n);
    s->out_off += n;
    return (ssize_t)n;
}

/*
 * Publication through RCU.
 *
 * Flavor: liburcu's "bulletproof" urcu-bp.  Readers need no registration (the
 * first rcu_read_lock() of a thread registers it, and a thread-exit hook
 * unregisters it), so any thread of a host that has never heard of RCU can
 * read.  With the membarrier system call available (Linux >= 4.3) its read
 * side is a thread-local counter update and compiler barriers, no fence; the
 * figures behind the choice are in docs/DESIGN.md and the benchmark.
 *
 * Reclamation: the writer waits for the grace period itself
 * (synchronize_rcu) instead of using call_rcu.  liburcu 0.13's call_rcu
 * worker threads do not block signals, so they could take signals meant
 * for a host using signalfd, and its default worker shows up as a leak at
 * exit; a writer that waits has neither problem and never lets retired
 * snapshots pile up (at most one awaits reclamation at any time).
 */
#define _LGPL_SOURCE
#include <urcu-bp.h>

#include "error.h"
#include "layer.h"
#include "loader.h"
#include "path.h"
#include "publish.h"
#include "reclaim.h"
#include "snapshot.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct snapconf__sub {
    int id;
    char *prefix; /* canonical; "" for everything */
    snapconf_change_fn cb;
    void *userdata;
};

/* The same instructions as rcu_dereference and rcu_xchg_pointer on the
 * platforms liburcu supports (a plain load, a locked exchange), written as
 * compiler atomics so that ThreadSanitizer sees the publication too:
 * liburcu's own versions are inline assembly, invisible to it. */
#define DEREF_CURRENT(h) __atomic_load_n(&(h)->current, __ATOMIC_ACQUIRE)
#define EXCHANGE_CURRENT(h, snap) __atomic_exchange_n(&(h)->current, (snap), __ATOMIC_SEQ_CST)

/* The handle whose writer (or callbacks) this thread is running, to refuse
 * the calls that would deadlock on it. */
static __thread const snapconf *tls_writer_of;

/* ------------------------------------------------------------------------- */
/* Logging and status                                                         */

void snapconf__log(snapconf *h, snapconf_log_level level, const char *fmt, ...)
{
    if (!h->opts.log || level > h->opts.log_level)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    h->opts.log(h->opts.log_userdata, level, line);
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void snapconf__status_watch(snapconf *h, snapconf_watch_state state, const char *note)
{
    pthread_mutex_lock(&h->status_lock);
    h->status.watch = state;
    snprintf(h->status.watch_note, sizeof h->status.watch_note, "%s", note ? note : "");
    pthread_mutex_unlock(&h->status_lock);
}

/* Called with the writer lock held, like record_success(), so that the
 * status follows the order of the attempts. */
static void record_failure(snapconf *h, const snapconf_error *e)
{
    pthread_mutex_lock(&h->status_lock);
    h->status.last_attempt_time_ns = now_ns();
    h->status.failed_reloads++;
    h->status.last_reload_ok = false;
    h->status.last_error = *e;
    pthread_mutex_unlock(&h->status_lock);
    snapconf__log(h, SNAPCONF_LOG_ERROR, "reload failed, keeping generation %llu: %s",
                  (unsigned long long)h->generation, e->message);
}

static void record_success(snapconf *h, const snapconf_snap *snap, bool published)
{
    int64_t t = now_ns();
    pthread_mutex_lock(&h->status_lock);
    h->status.last_attempt_time_ns = t;
    h->status.last_reload_ok = true;
    if (published) {
        h->status.last_load_time_ns = t;
        h->status.generation = snap->generation;
        memcpy(h->status.content_hash, snap->content_hash, sizeof h->status.content_hash);
        h->status.memory = snap->memory;
        h->status.nodes = snap->node_count;
        h->status.layers = snap->layers ? snap->layers->n : 1;
        h->status.overrides = 0;
        for (size_t i = 0; snap->layers && i < snap->layers->n; i++)
            h->status.overrides += snap->layers->items[i]->kind == SNAPCONF_LAYER_RUNTIME;
        if (snap->generation > 1)
            h->status.reloads++;
    }
    pthread_mutex_unlock(&h->status_lock);
}

int snapconf_status(snapconf *h, snapconf_status_info *st)
{
    if (!h || !st)
        return SNAPCONF_EINVAL;
    pthread_mutex_lock(&h->status_lock);
    *st = h->status;
    pthread_mutex_unlock(&h->status_lock);
    snapconf__reclaim_counts(&h->reclaim, &st->retired, &st->retired_peak);
    return 0;
}

/* ------------------------------------------------------------------------- */
/* The read side                                                              */

const snapconf_snap *snapconf_snap_begin(snapconf *h)
{
    if (!h)
        return NULL;
    rcu_read_lock();
    return DEREF_CURRENT(h);
}

void snapconf_snap_end(snapconf *h, const snapconf_snap *snap)
{
    (void)snap;
    if (h) {
        snapconf__tsan_reader_done(&h->current);
        rcu_read_unlock();
    }
}

const snapconf_snap *snapconf_snap_hold(snapconf *h)
{
    if (!h)
        return NULL;
    rcu_read_lock();
    snapconf_snap *s = DEREF_CURRENT(h);
    atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
    snapconf__tsan_reader_done(&h->current);
    rcu_read_unlock();
    return s;
}

void snapconf_snap_release(const snapconf_snap *snap)
{
    if (!snap)
        return;
    snapconf_snap *s = (snapconf_snap *)snap;
    if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1)
        snapconf_snap_free(s);
}

/* ------------------------------------------------------------------------- */
/* Subscriptions                                                              */

int snapconf_subscribe(snapconf *h, const char *prefix, snapconf_change_fn cb, void *userdata)
{
    if (!h || !cb)
        return SNAPCONF_EINVAL;
    if (tls_writer_of == h)
        return SNAPCONF_EDEADLK;
    char *canon = strdup("");
    if (prefix && *prefix) {
        snapconf_path *p;
        int rc = snapconf_path_compile(prefix, &p, NULL);
        if (rc) {
            free(canon);
            return rc;
        }
        free(canon);
        canon = strdup(snapconf_path_str(p));
        snapconf_path_free(p);
    }
    if (!canon)
        return SNAPCONF_ENOMEM;
    pthread_mutex_lock(&h->subs_lock);
    int id = SNAPCONF_ENOMEM;
    if (h->nsubs == h->subs_cap) {
        size_t cap = h->subs_cap ? h->subs_cap * 2 : 4;
        struct snapconf__sub *s = realloc(h->subs, cap * sizeof *s);
        if (s) {
            h->subs = s;
            h->subs_cap = cap;
        }
    }
    if (h->nsubs < h->subs_cap) {
        id = ++h->next_sub_id;
        h->subs[h->nsubs++] = (struct snapconf__sub){id, canon, cb, userdata};
        canon = NULL;
    }
    pthread_mutex_unlock(&h->subs_lock);
    free(canon);
    return id;
}

int snapconf_unsubscribe(snapconf *h, int id)
{
    if (!h)
        return SNAPCONF_EINVAL;
    if (tls_writer_of == h)
        return SNAPCONF_EDEADLK;
    int rc = SNAPCONF_ENOTFOUND;
    pthread_mutex_lock(&h->subs_lock);
    for (size_t i = 0; i < h->nsubs; i++) {
        if (h->subs[i].id != id)
            continue;
        free(h->subs[i].prefix);
        memmove(&h->subs[i], &h->subs[i + 1], (h->nsubs - i - 1) * sizeof h->subs[0]);
        h->nsubs--;
        rc = 0;
        break;
    }
    pthread_mutex_unlock(&h->subs_lock);
    return rc;
}

struct change_list {
    snapconf_change *items;
    size_t len, cap;
    char *paths; /* all paths, NUL-separated; items point here after collection */
    size_t paths_len, paths_cap;
    snapconf_change *scratch; /* len entries: one subscriber's share */
};

static int collect(void *userdata, const snapconf_change *c)
{
    struct change_list *l = userdata;
    size_t plen = strlen(c->path) + 1;
    if (l->len == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        snapconf_change *p = realloc(l->items, cap * sizeof *p);
        if (!p)
            return SNAPCONF_ENOMEM;
        l->items = p;
        l->cap = cap;
    }
    while (l->paths_len + plen > l->paths_cap) {
        size_t cap = l->paths_cap ? l->paths_cap * 2 : 1024;
        char *p = realloc(l->paths, cap);
        if (!p)
            return SNAPCONF_ENOMEM;
        l->paths = p;
        l->paths_cap = cap;
    }
    memcpy(l->paths + l->paths_len, c->path, plen);
    l->items[l->len] = *c;
    /* The offset now, the pointer once the buffer stops moving. */
    /* NOLINTNEXTLINE(performance-no-int-to-ptr): an offset, turned back later */
    l->items[l->len].path = (const char *)(uintptr_t)l->paths_len;
    l->len++;
    l->paths_len += plen;
    return 0;
}

static void notify_one(const struct snapconf__sub *sub, const snapconf_snap *old_snap,
                       const snapconf_snap *new_snap, const struct change_list *all,
                       snapconf_change *scratch)
{
    size_t n = 0;
    for (size_t i = 0; i < all->len; i++)
        if (snapconf__path_within(all->items[i].path, sub->prefix) ||
            snapconf__path_within(sub->prefix, all->items[i].path))
            scratch[n++] = all->items[i];
    if (n)
        sub->cb(sub->userdata, old_snap, new_snap, scratch, n);
}

/* The changes subscribers are to hear of, computed before the swap, so
 * that running out of memory fails the reload instead of publishing a
 * snapshot its subscribers are never told about.  A subscription made
 * while a reload is under way may or may not hear of it, as before. */
static int collect_changes(snapconf *h, const snapconf_snap *old_snap,
                           const snapconf_snap *new_snap, struct change_list *all)
{
    pthread_mutex_lock(&h->subs_lock);
    bool any = h->nsubs > 0;
    pthread_mutex_unlock(&h->subs_lock);
    if (!any || !old_snap)
        return 0;
    int rc = snapconf_diff(old_snap, new_snap, collect, all);
    if (rc == 0 && all->len) {
        for (size_t i = 0; i < all->len; i++)
            all->items[i].path = all->paths + (uintptr_t)all->items[i].path;
        all->scratch = malloc(all->len * sizeof *all->scratch);
        rc = all->scratch ? 0 : SNAPCONF_ENOMEM;
    }
    return rc;
}

static void change_list_free(struct change_list *all)
{
    free(all->scratch);
    free(all->items);
    free(all->paths);
}

static void notify(snapconf *h, const snapconf_snap *old_snap, const snapconf_snap *new_snap,
                   const struct change_list *all)
{
    pthread_mutex_lock(&h->subs_lock);
    for (size_t i = 0; i < h->nsubs && all->len; i++)
        notify_one(&h->subs[i], old_snap, new_snap, all, all->scratch);
    pthread_mutex_unlock(&h->subs_lock);
}

/* ------------------------------------------------------------------------- */
/* The writer                                                                 */

/* Swaps snap in, tells subscribers, and hands the old snapshot to the
 * reclaimer, which frees it once no reader can still see it.  Called with
 * the writer lock held.  Fails, publishing nothing and keeping snap the
 * caller's, only when the changes for subscribers cannot be computed. */
int snapconf__publish(snapconf *h, snapconf_snap *snap, snapconf_error *e)
{
    struct change_list all = {0};
    if (collect_changes(h, h->current, snap, &all) != 0) {
        change_list_free(&all);
        return snapconf__error(e, SNAPCONF_ENOMEM, h->path, 0, 0,
                               "out of memory computing the changes for subscribers");
    }
    snap->generation = ++h->generation;
    atomic_store_explicit(&snap->refs, 1, memory_order_relaxed);
    snapconf_snap *old = EXCHANGE_CURRENT(h, snap);
    record_success(h, snap, true);
    snapconf__log(h, SNAPCONF_LOG_INFO, "published generation %llu from %s (%zu bytes)",
                  (unsigned long long)snap->generation, h->path, snap->memory);
    if (old) {
        notify(h, old, snap, &all);
        snapconf__retire(&h->reclaim, old);
    }
    change_list_free(&all);
    return 0;
}

void snapconf__publish_initial(snapconf *h, snapconf_snap *snap)
{
    pthread_mutex_lock(&h->writer);
    (void)snapconf__publish(h, snap, NULL); /* nothing to compare with: cannot fail */
    pthread_mutex_unlock(&h->writer);
}

int snapconf__validate(snapconf *h, const snapconf_snap *next, snapconf_error *e)
{
    if (!h->opts.validate)
        return 0;
    memset(e, 0, sizeof *e);
    int rc = h->opts.validate(h->opts.validate_userdata, next, h->current, e);
    if (rc == 0)
        return 0;
    if (e->message[0] == '\0')
        snapconf__error(e, SNAPCONF_EVALIDATE, h->path, 0, 0,
                        "the validator rejected the new configuration");
    e->code = SNAPCONF_EVALIDATE;
    return SNAPCONF_EVALIDATE;
}

void snapconf__record_unchanged(snapconf *h)
{
    record_success(h, h->current, false);
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void report(snapconf *h, int rc, uint64_t before, int64_t started, const snapconf_error *e)
{
    if (!h->opts.on_reload)
        return;
    snapconf_reload_report r = {
        .code = rc,
        .published = h->generation != before,
        .generation = h->generation,
        .duration_ns = mono_ns() - started,
        .error = rc ? e : NULL,
    };
    h->opts.on_reload(h->opts.on_reload_userdata, &r);
}

int snapconf__write(snapconf *h, enum snapconf__write_kind kind, snapconf__write_fn fn, void *arg,
                    snapconf_error *err)
{
    snapconf_error e;
    pthread_mutex_lock(&h->writer);
    tls_writer_of = h;
    int64_t started = mono_ns();
    uint64_t before = h->generation;
    int rc = fn(h, arg, &e);
    bool reload = kind == SNAPCONF__WRITE_RELOAD;
    if (rc && reload)
        record_failure(h, &e);
    if (reload || rc == 0)
        report(h, rc, before, started, &e);
    tls_writer_of = NULL;
    pthread_mutex_unlock(&h->writer);
    if (rc && err)
        *err = e;
    return rc;
}

int snapconf__writer_check(snapconf *h, const char *what, snapconf_error *err)
{
    if (!h)
        return snapconf__error(err, SNAPCONF_EINVAL, NULL, 0, 0, "%s: no handle", what);
    if (tls_writer_of == h)
        return snapconf__error(err, SNAPCONF_EDEADLK, NULL, 0, 0,
                               "%s called from a callback of the same handle", what);
    if (rcu_read_ongoing())
        return snapconf__error(err, SNAPCONF_EDEADLK, NULL, 0, 0,
                               "%s called inside a read-side section "
                               "(between snapconf_snap_begin and snapconf_snap_end); it would "
                               "wait for itself",
                               what);
    return 0;
}

/* ------------------------------------------------------------------------- */
/* Set-up and tear-down                                                       */

/* The handle reads the file again and again, possibly after the host has
 * changed directory: pin the path down once. */
static char *absolute(const char *path)
{
    if (path[0] == '/')
        return strdup(path);
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        return NULL;
    size_t n = strlen(cwd) + strlen(path) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", cwd, path);
    return p;
}

static void free_layer_options(snapconf *h)
{
    for (size_t i = 0; i < h->ndropin_dirs; i++)
        free(h->dropin_dirs[i]);
    free(h->dropin_dirs);
    free(h->env_prefix);
    free(h->state_file);
    h->dropin_dirs = NULL;
    h->ndropin_dirs = 0;
    h->env_prefix = h->state_file = NULL;
}

/* The handle reads its layers again at every reload, possibly after the
 * host has changed directory or freed its strings: copies, made absolute. */
static int copy_layer_options(snapconf *h)
{
    size_t n = 0;
    while (h->opts.dropin_dirs && h->opts.dropin_dirs[n])
        n++;
    if (n) {
        h->dropin_dirs = calloc(n + 1, sizeof *h->dropin_dirs);
        if (!h->dropin_dirs)
            return SNAPCONF_ENOMEM;
        for (; h->ndropin_dirs < n; h->ndropin_dirs++)
            if (!(h->dropin_dirs[h->ndropin_dirs] = absolute(h->opts.dropin_dirs[h->ndropin_dirs])))
                return SNAPCONF_ENOMEM;
    }
    if (h->opts.env_prefix && *h->opts.env_prefix && !(h->env_prefix = strdup(h->opts.env_prefix)))
        return SNAPCONF_ENOMEM;
    if (h->opts.state_file && !(h->state_file = absolute(h->opts.state_file)))
        return SNAPCONF_ENOMEM;
    h->opts.dropin_dirs = (const char *const *)h->dropin_dirs;
    h->opts.env_prefix = h->env_prefix;
    h->opts.state_file = h->state_file;
    return 0;
}

int snapconf__publish_init(snapconf *h, const char *path, const snapconf_options *opts,
                           snapconf_error *err)
{
    h->path = absolute(path);
    if (!h->path)
        return snapconf__error(err, SNAPCONF_ENOMEM, path, 0, 0, "out of memory");
    if (opts)
        h->opts = *opts;
    else
        snapconf_options_init(&h->opts);
    if (copy_layer_options(h) != 0) {
        free_layer_options(h);
        free(h->path);
        return snapconf__error(err, SNAPCONF_ENOMEM, path, 0, 0, "out of memory");
    }
    /* Hosts running their own event loop asked for no hidden thread: there
     * the writer waits for grace periods itself. */
    bool threaded = h->opts.watch != SNAPCONF_WATCH_EXTERNAL;
    int rc = snapconf__reclaim_start(&h->reclaim, threaded, &h->current);
    if (rc) {
        free_layer_options(h);
        free(h->path);
        return snapconf__error(err, SNAPCONF_ESYS, path, 0, 0,
                               "cannot start the reclaimer thread: %s", strerror(-rc));
    }
    pthread_mutex_init(&h->writer, NULL);
    pthread_mutex_init(&h->status_lock, NULL);
    pthread_mutex_init(&h->subs_lock, NULL);
    snprintf(h->status.source, sizeof h->status.source, "%s", path);
    return 0;
}

void snapconf__publish_fini(snapconf *h)
{
    snapconf_snap *old = EXCHANGE_CURRENT(h, NULL);
    snapconf__reclaim_stop(&h->reclaim);
    if (old) {
        synchronize_rcu();
        snapconf__tsan_writer_waited(&h->current);
        snapconf__snap_unref(old);
    }
    for (size_t i = 0; i < h->nsubs; i++)
        free(h->subs[i].prefix);
    free(h->subs);
    pthread_mutex_destroy(&h->writer);
    pthread_mutex_destroy(&h->status_lock);
    pthread_mutex_destroy(&h->subs_lock);
    free_layer_options(h);
    free(h->path);
}

int snapconf_error_at(snapconf_error *err, const snapconf_snap *snap, const snapconf_node *node,
                      const char *fmt, ...)
{
    if (!err)
        return SNAPCONF_EVALIDATE;
    char text[SNAPCONF_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    return snapconf__error(err, SNAPCONF_EVALIDATE, snap ? snap->source : NULL,
                           node ? snapconf_node_line(node) : 0,
                           node ? snapconf_node_column(node) : 0, "%s", text);
}

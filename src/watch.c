/*
 * Watching a config file for changes.
 *
 * inotify watches directories, not the file: the directory holding the file
 * and every directory along its symlink chain, each for the one name that
 * matters there.  That is what catches every way a file gets replaced - a
 * rename over it, delete and create, vim's backup dance, and a Kubernetes
 * ConfigMap's "..data" symlink swap - where a watch on the file's inode goes
 * deaf after the first replacement.
 *
 * The watcher reacts to a writer being done (close-after-write, rename,
 * delete, creation of a non-file, attribute changes), never to each write,
 * so a writer that truncates and pauses never gets its partial content
 * loaded.  Events are coalesced by a debounce timer; when it fires, the
 * symlink chain is resolved again (it may have changed), the watches are
 * brought in line, and the publication layer reloads, which publishes only
 * content that differs from what is live.
 */
#include "watch.h"
#include "error.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define WATCH_MASK                                                                                 \
    (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ATTRIB |            \
     IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
#define TRIGGER_MASK (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ATTRIB)
#define MAX_SYMLINK_HOPS 40
#define FALLBACK_POLL_MS 1000u
/* In polling mode, a file modified this recently is hashed on every tick:
 * coarse timestamps can hide a same-size rewrite within one second. */
#define RECENT_NS (2 * 1000000000LL)

enum source { SRC_INOTIFY = 1, SRC_DEBOUNCE, SRC_TICK, SRC_WAKE };

struct interest {
    int wd;
    char *dir;
    char *name;
};

struct file_sig {
    int err; /* errno of stat, 0 when it succeeded */
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
    mode_t mode;
};

struct snapconf__watch {
    snapconf *h;
    char *abspath;
    int epfd, infd, debounce_fd, tick_fd, wake_fd;
    struct interest *ints;
    size_t nints, cap;
    bool pending;
    int64_t pending_since;
    struct file_sig last; /* polling */
    bool poll_pending;
    int64_t changed_at;
    pthread_t thread;
    bool thread_started;
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ------------------------------------------------------------------------- */
/* Resolving the symlink chain                                                */

static int interest_add(struct interest **ints, size_t *n, size_t *cap, const char *dir,
                        const char *name, size_t namelen)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*ints)[i].dir, dir) == 0 && strlen((*ints)[i].name) == namelen &&
            memcmp((*ints)[i].name, name, namelen) == 0)
            return 0;
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 8;
        struct interest *p = realloc(*ints, c * sizeof *p);
        if (!p)
            return -ENOMEM;
        *ints = p;
        *cap = c;
    }
    struct interest *it = &(*ints)[*n];
    it->wd = -1;
    it->dir = strdup(dir);
    it->name = strndup(name, namelen);
    if (!it->dir || !it->name) {
        free(it->dir);
        free(it->name);
        return -ENOMEM;
    }
    (*n)++;
    return 0;
}

static void interests_free(struct interest *ints, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(ints[i].dir);
        free(ints[i].name);
    }
    free(ints);
}

struct resolver {
    char todo[2 * PATH_MAX];
    char cur[PATH_MAX];
    struct interest *ints;
    size_t n, cap;
};

/* Replaces the path still to resolve after following a symlink at
 * cur/comp whose remaining path is rest. */
static bool follow_link(struct resolver *r, const char *link, const char *dir, const char *rest)
{
    char target[PATH_MAX];
    ssize_t len = readlink(link, target, sizeof target - 1);
    if (len < 0)
        return false;
    target[len] = '\0';
    char next[2 * PATH_MAX];
    int n = target[0] == '/' ? snprintf(next, sizeof next, "%s%s", target, rest)
                             : snprintf(next, sizeof next, "%s/%s%s", dir, target, rest);
    if (n < 0 || (size_t)n >= sizeof r->todo)
        return false;
    memcpy(r->todo, next, (size_t)n + 1);
    r->cur[0] = '\0';
    return true;
}

/* Walks todo component by component from the root.  Records (directory,
 * name) for every symlink met and for the final name, and for the first
 * name that does not exist.  Stops quietly on loops or over-long paths: the
 * load will report those properly. */
static int resolve(struct resolver *r)
{
    int hops = 0;
    const char *p = r->todo;
    r->cur[0] = '\0';
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        size_t clen = strcspn(p, "/");
        const char *rest = p + clen;
        const char *dir = r->cur[0] ? r->cur : "/";
        if (clen == 1 && p[0] == '.') {
            p = rest;
            continue;
        }
        if (clen == 2 && p[0] == '.' && p[1] == '.') {
            char *slash = strrchr(r->cur, '/');
            if (slash)
                *slash = '\0';
            p = rest;
            continue;
        }
        char cand[PATH_MAX];
        int n = snprintf(cand, sizeof cand, "%s/%.*s", r->cur, (int)clen, p);
        if (n < 0 || (size_t)n >= sizeof cand)
            return 0;
        bool last = rest[strspn(rest, "/")] == '\0';
        struct stat st;
        bool exists = lstat(cand, &st) == 0;
        if (!exists || S_ISLNK(st.st_mode) || last) {
            int rc = interest_add(&r->ints, &r->n, &r->cap, dir, p, clen);
            if (rc || !exists || !S_ISLNK(st.st_mode))
                return rc;
            char dircopy[PATH_MAX];
            snprintf(dircopy, sizeof dircopy, "%s", dir);
            if (++hops > MAX_SYMLINK_HOPS || !follow_link(r, cand, dircopy, rest))
                return 0;
            p = r->todo;
            continue;
        }
        memcpy(r->cur, cand, (size_t)n + 1);
        p = rest;
    }
    return 0;
}

/* ------------------------------------------------------------------------- */
/* inotify watches                                                            */

static void fall_back_to_polling(struct snapconf__watch *w, const char *why, int e);

/* Brings the watches in line with a fresh resolution: new ones first, so
 * that no moment passes without a watch, then the stale ones go.  Returns
 * 0 or -ENOMEM (negative errnos, like the watcher's other internals). */
static int sync_watches(struct snapconf__watch *w)
{
    struct resolver *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    snprintf(r->todo, sizeof r->todo, "%s", w->abspath);
    int rc = resolve(r);
    for (size_t i = 0; rc == 0 && i < r->n; i++) {
        r->ints[i].wd = inotify_add_watch(w->infd, r->ints[i].dir, WATCH_MASK);
        if (r->ints[i].wd < 0 && errno != ENOENT && errno != ENOTDIR && errno != EACCES) {
            int e = errno;
            interests_free(r->ints, r->n);
            free(r);
            fall_back_to_polling(w, "inotify_add_watch failed", e);
            return 0;
        }
    }
    for (size_t i = 0; rc == 0 && i < w->nints; i++) {
        bool kept = false;
        for (size_t j = 0; j < r->n && !kept; j++)
            kept = r->ints[j].wd == w->ints[i].wd;
        if (!kept && w->ints[i].wd >= 0)
            inotify_rm_watch(w->infd, w->ints[i].wd);
    }
    if (rc == 0) {
        interests_free(w->ints, w->nints);
        w->ints = r->ints;
        w->nints = r->n;
        w->cap = r->cap;
    } else {
        interests_free(r->ints, r->n);
    }
    free(r);
    return rc;
}

/* ------------------------------------------------------------------------- */
/* Debounce                                                                   */

static void arm(int fd, int64_t ns)
{
    struct itimerspec its = {0};
    if (ns <= 0)
        ns = 1; /* zero would disarm */
    its.it_value.tv_sec = ns / 1000000000;
    its.it_value.tv_nsec = ns % 1000000000;
    timerfd_settime(fd, 0, &its, NULL);
}

/* Something changed: (re)start the quiet period, but never let a steady
 * stream of events postpone the reload for ever. */
static void trigger(struct snapconf__watch *w)
{
    int64_t now = mono_ns();
    int64_t debounce = (int64_t)w->h->opts.debounce_ms * 1000000;
    int64_t max_wait = debounce * 20 > 1000000000 ? debounce * 20 : 1000000000;
    if (!w->pending) {
        w->pending = true;
        w->pending_since = now;
    }
    int64_t wait = debounce;
    if (now + wait > w->pending_since + max_wait)
        wait = w->pending_since + max_wait - now;
    arm(w->debounce_fd, wait);
}

static void drain(int fd)
{
    uint64_t v;
    while (read(fd, &v, sizeof v) > 0) {
    }
}

static void on_debounce(struct snapconf__watch *w)
{
    drain(w->debounce_fd);
    if (!w->pending)
        return;
    w->pending = false;
    /* Without memory for a fresh resolution the old watches stay: still
     * right unless the symlink chain changed, which its next event retries. */
    if (w->infd >= 0 && sync_watches(w) != 0)
        snapconf__log(w->h, SNAPCONF_LOG_WARNING,
                      "%s: out of memory resolving the path again; keeping the current watches",
                      w->abspath);
    snapconf__reload(w->h, NULL);
}

/* ------------------------------------------------------------------------- */
/* inotify events                                                             */

static const struct interest *interest_of(const struct snapconf__watch *w, int wd, const char *name)
{
    for (size_t i = 0; i < w->nints; i++)
        if (w->ints[i].wd == wd && strcmp(w->ints[i].name, name) == 0)
            return &w->ints[i];
    return NULL;
}

static bool is_regular(const char *dir, const char *name)
{
    char p[PATH_MAX];
    struct stat st;
    if (snprintf(p, sizeof p, "%s/%s", dir, name) >= (int)sizeof p)
        return false;
    return lstat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static void on_inotify_event(struct snapconf__watch *w, const struct inotify_event *ev)
{
    if (ev->mask & IN_Q_OVERFLOW) {
        snapconf__log(w->h, SNAPCONF_LOG_WARNING, "inotify queue overflowed; re-reading %s in full",
                      w->abspath);
        trigger(w);
        return;
    }
    if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
        /* A watched directory went away or moved: resolve again.  (Watches
         * we dropped ourselves are no longer among the interests.) */
        for (size_t i = 0; i < w->nints; i++)
            if (w->ints[i].wd == ev->wd) {
                trigger(w);
                break;
            }
        return;
    }
    if (!ev->len)
        return;
    const struct interest *it = interest_of(w, ev->wd, ev->name);
    if (!it)
        return;
    /* A new regular file is still being written: its close will follow. */
    if ((ev->mask & TRIGGER_MASK) || ((ev->mask & IN_CREATE) && !is_regular(it->dir, it->name)))
        trigger(w);
}

static void on_inotify(struct snapconf__watch *w)
{
    char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (;;) {
        ssize_t n = read(w->infd, buf, sizeof buf);
        if (n <= 0)
            return;
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)(void *)p;
            on_inotify_event(w, ev);
            p += sizeof *ev + ev->len;
        }
    }
}

/* ------------------------------------------------------------------------- */
/* Polling                                                                    */

static struct file_sig file_sig(const char *path)
{
    struct file_sig s;
    struct stat st;
    memset(&s, 0, sizeof s);
    if (stat(path, &st) < 0) {
        s.err = errno;
        return s;
    }
    s.dev = st.st_dev;
    s.ino = st.st_ino;
    s.size = st.st_size;
    s.mtime = st.st_mtim;
    s.ctime = st.st_ctim;
    s.mode = st.st_mode;
    return s;
}

static bool sig_equal(const struct file_sig *a, const struct file_sig *b)
{
    return a->err == b->err && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mode == b->mode && a->mtime.tv_sec == b->mtime.tv_sec &&
           a->mtime.tv_nsec == b->mtime.tv_nsec && a->ctime.tv_sec == b->ctime.tv_sec &&
           a->ctime.tv_nsec == b->ctime.tv_nsec;
}

static bool recently_modified(const struct file_sig *s)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t age =
        ((int64_t)now.tv_sec - s->mtime.tv_sec) * 1000000000 + (now.tv_nsec - s->mtime.tv_nsec);
    return s->err == 0 && age < RECENT_NS;
}

/* A file is loaded once its stat has stayed the same for the debounce
 * window: polling cannot see a writer close, so it waits for quiet. */
static void on_tick(struct snapconf__watch *w)
{
    drain(w->tick_fd);
    struct file_sig s = file_sig(w->abspath);
    int64_t now = mono_ns();
    if (!sig_equal(&s, &w->last)) {
        w->last = s;
        w->changed_at = now;
        w->poll_pending = true;
        return;
    }
    if (w->poll_pending && now - w->changed_at >= (int64_t)w->h->opts.debounce_ms * 1000000) {
        w->poll_pending = false;
        snapconf__reload(w->h, NULL);
    } else if (!w->poll_pending && recently_modified(&s)) {
        snapconf__reload(w->h, NULL);
    }
}

static int start_ticking(struct snapconf__watch *w, unsigned ms)
{
    w->tick_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (w->tick_fd < 0)
        return -errno;
    struct itimerspec its;
    its.it_interval.tv_sec = ms / 1000;
    its.it_interval.tv_nsec = (long)(ms % 1000) * 1000000;
    its.it_value = its.it_interval;
    timerfd_settime(w->tick_fd, 0, &its, NULL);
    w->last = file_sig(w->abspath);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = SRC_TICK};
    return epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->tick_fd, &ev) < 0 ? -errno : 0;
}

static void fall_back_to_polling(struct snapconf__watch *w, const char *why, int e)
{
    char note[256];
    unsigned ms = w->h->opts.poll_ms ? w->h->opts.poll_ms : FALLBACK_POLL_MS;
    snprintf(note, sizeof note, "%s (%s); polling every %u ms instead", why, strerror(e), ms);
    if (w->infd >= 0) {
        epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->infd, NULL);
        close(w->infd);
        w->infd = -1;
    }
    if (start_ticking(w, ms) == 0) {
        snapconf__status_watch(w->h, SNAPCONF_WATCHING_POLL, note);
        snapconf__log(w->h, SNAPCONF_LOG_WARNING, "%s: %s", w->abspath, note);
    } else {
        snapconf__status_watch(w->h, SNAPCONF_WATCHING_NONE, "cannot watch: no inotify, no timer");
        snapconf__log(w->h, SNAPCONF_LOG_ERROR, "%s: cannot watch the file at all", w->abspath);
    }
}

/* ------------------------------------------------------------------------- */
/* The loop                                                                   */

/* Handles ready sources; returns true when asked to stop. */
static bool dispatch(struct snapconf__watch *w, int timeout_ms)
{
    struct epoll_event evs[8];
    int n = epoll_wait(w->epfd, evs, 8, timeout_ms);
    for (int i = 0; i < n; i++) {
        switch (evs[i].data.u32) {
        case SRC_WAKE:
            return true;
        case SRC_INOTIFY:
            if (w->infd >= 0)
                on_inotify(w);
            break;
        case SRC_DEBOUNCE:
            on_debounce(w);
            break;
        case SRC_TICK:
            on_tick(w);
            break;
        }
    }
    return false;
}

static void *watch_thread(void *arg)
{
    struct snapconf__watch *w = arg;
    while (!dispatch(w, -1)) {
    }
    return NULL;
}

static int add_fd(struct snapconf__watch *w, int fd, enum source src)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = src};
    return epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static int setup_inotify(struct snapconf__watch *w)
{
    w->infd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (w->infd < 0) {
        fall_back_to_polling(w, "inotify is unavailable", errno);
        return 0;
    }
    int rc = add_fd(w, w->infd, SRC_INOTIFY);
    if (rc)
        return rc;
    if ((rc = sync_watches(w)))
        return rc;
    if (w->infd >= 0)
        snapconf__status_watch(w->h, SNAPCONF_WATCHING_INOTIFY, "");
    return 0;
}

static int setup(struct snapconf__watch *w)
{
    w->epfd = epoll_create1(EPOLL_CLOEXEC);
    w->debounce_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (w->epfd < 0 || w->debounce_fd < 0)
        return -errno;
    int rc = add_fd(w, w->debounce_fd, SRC_DEBOUNCE);
    if (rc)
        return rc;
    if (w->h->opts.poll_ms) {
        if ((rc = start_ticking(w, w->h->opts.poll_ms)))
            return rc;
        char note[64];
        snprintf(note, sizeof note, "polling every %u ms", w->h->opts.poll_ms);
        snapconf__status_watch(w->h, SNAPCONF_WATCHING_POLL, note);
        return 0;
    }
    return setup_inotify(w);
}

static int start_thread(struct snapconf__watch *w)
{
    w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->wake_fd < 0)
        return -errno;
    int rc = add_fd(w, w->wake_fd, SRC_WAKE);
    if (rc)
        return rc;
    /* The thread inherits a full signal mask: signals stay with the host. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&w->thread, NULL, watch_thread, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc)
        return -rc;
    w->thread_started = true;
    return 0;
}

static void watch_free(struct snapconf__watch *w)
{
    int fds[] = {w->epfd, w->infd, w->debounce_fd, w->tick_fd, w->wake_fd};
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    interests_free(w->ints, w->nints);
    free(w->abspath);
    free(w);
}

int snapconf__watch_start(snapconf *h, snapconf_error *err)
{
    if (h->opts.watch == SNAPCONF_WATCH_NONE) {
        snapconf__status_watch(h, SNAPCONF_WATCHING_NONE, "watching disabled");
        return 0;
    }
    struct snapconf__watch *w = calloc(1, sizeof *w);
    if (!w)
        return snapconf__error(err, SNAPCONF_ENOMEM, h->path, 0, 0, "out of memory");
    w->h = h;
    w->epfd = w->infd = w->debounce_fd = w->tick_fd = w->wake_fd = -1;
    w->abspath = strdup(h->path); /* absolute since snapconf__publish_init */
    int rc = w->abspath ? setup(w) : -ENOMEM;
    if (rc == 0 && h->opts.watch == SNAPCONF_WATCH_THREAD)
        rc = start_thread(w);
    if (rc) {
        watch_free(w);
        return snapconf__error(err, rc == -ENOMEM ? SNAPCONF_ENOMEM : SNAPCONF_ESYS, h->path, 0, 0,
                               "cannot start watching the file: %s", strerror(-rc));
    }
    h->watch = w;
    return 0;
}

void snapconf__watch_stop(snapconf *h)
{
    struct snapconf__watch *w = h->watch;
    if (!w)
        return;
    if (w->thread_started) {
        uint64_t one = 1;
        ssize_t n = write(w->wake_fd, &one, sizeof one);
        (void)n;
        pthread_join(w->thread, NULL);
    }
    watch_free(w);
    h->watch = NULL;
}

int snapconf__watch_fd(const snapconf *h)
{
    if (!h->watch || h->opts.watch != SNAPCONF_WATCH_EXTERNAL)
        return -1;
    return h->watch->epfd;
}

int snapconf__watch_process(snapconf *h)
{
    if (!h->watch || h->opts.watch != SNAPCONF_WATCH_EXTERNAL)
        return SNAPCONF_EINVAL;
    dispatch(h->watch, 0);
    return 0;
}

/*
 * Watching a config file, and its drop-in directories, for changes.
 *
 * inotify watches directories, not the file: the directory holding the file
 * and every directory along its symlink chain, each for the one name that
 * matters there.  That is what catches every way a file gets replaced - a
 * rename over it, delete and create, vim's backup dance, and a Kubernetes
 * ConfigMap's "..data" symlink swap - where a watch on the file's inode goes
 * deaf after the first replacement.
 *
 * A drop-in directory is watched the same way along its own path (so its
 * creation, removal or replacement is seen), for every name inside it (any
 * file there may be a layer), and along the chain of each symlink in it (a
 * ConfigMap's keys are symlinks into "..data").  Events there that change
 * nothing only cost a reload that finds the content unchanged.
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
#include "layer.h"
#include "hash.h"

#include <dirent.h>
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
/* Past this many resolutions in a row that each found something new, the
 * tree is still being built, and its next steps make events of their own. */
#define MAX_SYNC_ROUNDS 4

enum source { SRC_INOTIFY = 1, SRC_DEBOUNCE, SRC_TICK, SRC_WAKE };

struct interest {
    int wd;
    bool any; /* every name in dir matters: a drop-in directory */
    char *dir;
    char *name;    /* "" when any */
    uint64_t hash; /* of the three above */
};

struct file_sig {
    int err; /* errno of stat, 0 when it succeeded */
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
    mode_t mode;
};

/* What polling compares from one tick to the next. */
struct poll_sig {
    struct file_sig main;
    uint64_t dropins;       /* of the drop-in directories, see dir_digest() */
    struct timespec newest; /* the latest mtime among their *.yaml files */
};

struct snapconf__watch {
    snapconf *h;
    char *abspath;
    int epfd, infd, debounce_fd, tick_fd, wake_fd;
    struct interest *ints;
    size_t nints, cap;
    bool pending;
    int64_t pending_since;
    struct poll_sig last; /* polling */
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

/* A drop-in directory of ConfigMap keys makes two interests a key: an
 * index keeps recording them linear rather than quadratic. */
struct resolver {
    char todo[2 * PATH_MAX];
    char cur[PATH_MAX];
    char final[PATH_MAX]; /* where the path led when it exists, else "" */
    struct interest *ints;
    size_t n, cap;
    size_t *index;     /* open addressing: position in ints + 1, or 0 */
    size_t index_mask; /* its size - 1, a power of two at least 2n */
};

static uint64_t interest_hash(const char *dir, const char *name, size_t namelen, bool any)
{
    return XXH3_64bits_withSeed(name, namelen, XXH3_64bits(dir, strlen(dir)) + any);
}

/* The slot holding (dir, name, any), or the empty one where it belongs. */
static size_t *index_slot(const struct resolver *r, uint64_t hash, const char *dir,
                          const char *name, size_t namelen, bool any)
{
    for (size_t i = hash & r->index_mask;; i = (i + 1) & r->index_mask) {
        size_t *slot = &r->index[i];
        const struct interest *it = *slot ? &r->ints[*slot - 1] : NULL;
        if (!it || (it->hash == hash && it->any == any && strcmp(it->dir, dir) == 0 &&
                    strlen(it->name) == namelen && memcmp(it->name, name, namelen) == 0))
            return slot;
    }
}

static int index_grow(struct resolver *r)
{
    size_t size = r->index ? (r->index_mask + 1) * 2 : 64;
    size_t *index = calloc(size, sizeof *index);
    if (!index)
        return -ENOMEM;
    free(r->index);
    r->index = index;
    r->index_mask = size - 1;
    for (size_t i = 0; i < r->n; i++) {
        const struct interest *it = &r->ints[i];
        *index_slot(r, it->hash, it->dir, it->name, strlen(it->name), it->any) = i + 1;
    }
    return 0;
}

/* Records (dir, name), or (dir, any name) when any; once each. */
static int interest_add(struct resolver *r, const char *dir, const char *name, size_t namelen,
                        bool any)
{
    if (2 * (r->n + 1) > (r->index ? r->index_mask + 1 : 0) && index_grow(r))
        return -ENOMEM;
    uint64_t hash = interest_hash(dir, name, namelen, any);
    size_t *slot = index_slot(r, hash, dir, name, namelen, any);
    if (*slot)
        return 0;
    if (r->n == r->cap) {
        size_t c = r->cap ? r->cap * 2 : 8;
        struct interest *p = realloc(r->ints, c * sizeof *p);
        if (!p)
            return -ENOMEM;
        r->ints = p;
        r->cap = c;
    }
    struct interest *it = &r->ints[r->n];
    it->wd = -1;
    it->any = any;
    it->hash = hash;
    it->dir = strdup(dir);
    it->name = strndup(name, namelen);
    if (!it->dir || !it->name) {
        free(it->dir);
        free(it->name);
        return -ENOMEM;
    }
    *slot = ++r->n;
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

/* Replaces the path still to resolve after following the symlink link in
 * cur, whose remaining path is rest.  A relative target goes on from cur,
 * which holds no symlink: no need to walk again from the root. */
static bool follow_link(struct resolver *r, const char *link, const char *rest)
{
    char target[PATH_MAX];
    ssize_t len = readlink(link, target, sizeof target - 1);
    if (len < 0)
        return false;
    target[len] = '\0';
    char next[2 * PATH_MAX];
    int n = snprintf(next, sizeof next, "%s%s", target, rest);
    if (n < 0 || (size_t)n >= sizeof r->todo)
        return false;
    memcpy(r->todo, next, (size_t)n + 1);
    if (target[0] == '/')
        r->cur[0] = '\0';
    return true;
}

/* Walks todo component by component from cur ("" for the root), which
 * holds no symlink.  Records (directory, name) for every symlink met and
 * for the final name, and for the first name that does not exist; sets
 * final when the whole path exists.  Stops quietly on loops or over-long
 * paths: the load will report those properly. */
static int resolve(struct resolver *r)
{
    int hops = 0;
    const char *p = r->todo;
    r->final[0] = '\0';
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
            int rc = interest_add(r, dir, p, clen, false);
            if (rc || !exists)
                return rc;
            if (!S_ISLNK(st.st_mode)) {
                memcpy(r->final, cand, (size_t)n + 1);
                return 0;
            }
            if (++hops > MAX_SYMLINK_HOPS || !follow_link(r, cand, rest))
                return 0;
            p = r->todo;
            continue;
        }
        memcpy(r->cur, cand, (size_t)n + 1);
        p = rest;
    }
    /* Only "." and ".." came last ("conf.d/."): where they led exists. */
    snprintf(r->final, sizeof r->final, "%s", r->cur[0] ? r->cur : "/");
    return 0;
}

static int resolve_path(struct resolver *r, const char *path)
{
    r->cur[0] = '\0';
    snprintf(r->todo, sizeof r->todo, "%s", path);
    return resolve(r);
}

/* name in dir, a directory already resolved. */
static int resolve_in(struct resolver *r, const char *dir, const char *name)
{
    snprintf(r->cur, sizeof r->cur, "%s", strcmp(dir, "/") == 0 ? "" : dir);
    snprintf(r->todo, sizeof r->todo, "%s", name);
    return resolve(r);
}

static bool is_symlink(const char *dir, const struct dirent *e)
{
    if (e->d_type != DT_UNKNOWN)
        return e->d_type == DT_LNK;
    char p[PATH_MAX];
    struct stat st;
    if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= (int)sizeof p)
        return false;
    return lstat(p, &st) == 0 && S_ISLNK(st.st_mode);
}

/* A drop-in may be a symlink into another directory, as a ConfigMap's keys
 * are: its file can change with no event in dir, so its chain is watched. */
static int resolve_symlinks_in(struct resolver *r, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d && errno == ENOMEM)
        return -ENOMEM;
    if (!d)
        return 0; /* gone or unreadable: the reload says so, the watches see it return */
    int rc = 0, links = 0;
    for (struct dirent *e; rc == 0 && links < SNAPCONF__MAX_DROPINS && (e = readdir(d));) {
        if (!is_symlink(dir, e))
            continue;
        links++;
        rc = resolve_in(r, dir, e->d_name);
    }
    closedir(d);
    return rc;
}

/* A drop-in directory: the chain to it, so that its creation, removal or
 * replacement is seen; any name in it; the chains behind its symlinks. */
static int resolve_dropin_dir(struct resolver *r, const char *path)
{
    int rc = resolve_path(r, path);
    if (rc || !r->final[0])
        return rc;
    char dir[PATH_MAX];
    memcpy(dir, r->final, sizeof dir);
    if ((rc = interest_add(r, dir, "", 0, true)))
        return rc;
    return resolve_symlinks_in(r, dir);
}

static int resolve_all(const struct snapconf__watch *w, struct resolver *r)
{
    int rc = resolve_path(r, w->abspath);
    for (size_t i = 0; rc == 0 && i < w->h->ndropin_dirs; i++)
        rc = resolve_dropin_dir(r, w->h->dropin_dirs[i]);
    return rc;
}

/* ------------------------------------------------------------------------- */
/* inotify watches                                                            */

static void fall_back_to_polling(struct snapconf__watch *w, const char *why, int e);

static bool same_interests(const struct interest *a, size_t na, const struct interest *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (a[i].wd != b[i].wd || a[i].any != b[i].any || strcmp(a[i].dir, b[i].dir) != 0 ||
            strcmp(a[i].name, b[i].name) != 0)
            return false;
    return true;
}

static int wd_cmp(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Removes the watches that only the old interests used; wds has room for
 * the new ones' descriptors (allocated before any watch was added, so that
 * running out of memory changes nothing). */
static void drop_stale(struct snapconf__watch *w, const struct resolver *r, int *wds)
{
    for (size_t i = 0; i < r->n; i++)
        wds[i] = r->ints[i].wd;
    qsort(wds, r->n, sizeof *wds, wd_cmp);
    for (size_t i = 0; i < w->nints; i++)
        if (w->ints[i].wd >= 0 && !bsearch(&w->ints[i].wd, wds, r->n, sizeof *wds, wd_cmp))
            inotify_rm_watch(w->infd, w->ints[i].wd);
}

static void resolver_free(struct resolver *r)
{
    interests_free(r->ints, r->n);
    free(r->index);
    free(r);
}

/* Brings the watches in line with a fresh resolution: new ones first, so
 * that no moment passes without a watch, then the stale ones go.  Sets
 * *changed when they differ from before.  Returns 0 or -ENOMEM (negative
 * errnos, like the watcher's other internals). */
static int sync_once(struct snapconf__watch *w, bool *changed)
{
    struct resolver *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    int rc = resolve_all(w, r);
    int *wds = rc ? NULL : malloc((r->n + 1) * sizeof *wds);
    if (rc == 0 && !wds)
        rc = -ENOMEM;
    for (size_t i = 0; rc == 0 && i < r->n; i++) {
        r->ints[i].wd = inotify_add_watch(w->infd, r->ints[i].dir, WATCH_MASK);
        if (r->ints[i].wd < 0 && errno != ENOENT && errno != ENOTDIR && errno != EACCES) {
            int e = errno;
            free(wds);
            resolver_free(r);
            fall_back_to_polling(w, "inotify_add_watch failed", e);
            return 0;
        }
    }
    if (rc == 0) {
        drop_stale(w, r, wds);
        *changed = !same_interests(w->ints, w->nints, r->ints, r->n);
        interests_free(w->ints, w->nints);
        w->ints = r->ints;
        w->nints = r->n;
        w->cap = r->cap;
        r->ints = NULL;
        r->n = 0;
    }
    free(wds);
    resolver_free(r);
    return rc;
}

/* A name created while a round resolved, in a directory it did not watch
 * yet, makes no event: rounds repeat until one finds what the one before
 * it watched, proof that the watches were in place before it looked. */
static int sync_watches(struct snapconf__watch *w)
{
    bool changed = true;
    int rc = 0;
    for (int round = 0; rc == 0 && changed && w->infd >= 0 && round < MAX_SYNC_ROUNDS; round++)
        rc = sync_once(w, &changed);
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
        if (w->ints[i].wd == wd && (w->ints[i].any || strcmp(w->ints[i].name, name) == 0))
            return &w->ints[i];
    return NULL;
}

/* A regular file with one link was just created by a writer, whose close
 * will follow; a hard link (ln) to existing content has no such close. */
static bool being_written(const char *dir, const char *name)
{
    char p[PATH_MAX];
    struct stat st;
    if (snprintf(p, sizeof p, "%s/%s", dir, name) >= (int)sizeof p)
        return false;
    return lstat(p, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1;
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
    if ((ev->mask & TRIGGER_MASK) || ((ev->mask & IN_CREATE) && !being_written(it->dir, ev->name)))
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

static uint64_t sig_hash(const struct file_sig *s, uint64_t seed)
{
    /* Field by field: a struct's padding bytes are not part of its value. */
    int64_t v[] = {s->err,           (int64_t)s->dev, (int64_t)s->ino,  s->size, s->mtime.tv_sec,
                   s->mtime.tv_nsec, s->ctime.tv_sec, s->ctime.tv_nsec, s->mode};
    return XXH3_64bits_withSeed(v, sizeof v, seed);
}

static bool is_yaml(const char *name)
{
    size_t n = strlen(name);
    return n > 5 && strcmp(name + n - 5, ".yaml") == 0;
}

static void keep_newest(struct timespec *newest, const struct file_sig *s)
{
    if (s->err == 0 && (s->mtime.tv_sec > newest->tv_sec ||
                        (s->mtime.tv_sec == newest->tv_sec && s->mtime.tv_nsec > newest->tv_nsec)))
        *newest = s->mtime;
}

/* One drop-in directory: its own stat, every name in it, and the stat
 * (through symlinks) of each *.yaml file.  The entries' hashes are summed
 * so that readdir's order does not matter. */
static uint64_t dir_digest(const char *dir, struct timespec *newest)
{
    struct file_sig ds = file_sig(dir);
    uint64_t sum = sig_hash(&ds, 0);
    DIR *d = ds.err ? NULL : opendir(dir);
    if (!d)
        return sum;
    int stats = 0;
    for (struct dirent *e; (e = readdir(d));) {
        uint64_t h = XXH3_64bits(e->d_name, strlen(e->d_name));
        char p[PATH_MAX];
        if (is_yaml(e->d_name) && stats++ < SNAPCONF__MAX_DROPINS &&
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name) < (int)sizeof p) {
            struct file_sig fs = file_sig(p);
            h = sig_hash(&fs, h);
            keep_newest(newest, &fs);
        }
        sum += h;
    }
    closedir(d);
    return sum;
}

static struct poll_sig poll_sig(const struct snapconf__watch *w)
{
    struct poll_sig s;
    memset(&s, 0, sizeof s);
    s.main = file_sig(w->abspath);
    for (size_t i = 0; i < w->h->ndropin_dirs; i++)
        s.dropins = s.dropins * 31 + dir_digest(w->h->dropin_dirs[i], &s.newest);
    return s;
}

static bool poll_sig_equal(const struct poll_sig *a, const struct poll_sig *b)
{
    return sig_equal(&a->main, &b->main) && a->dropins == b->dropins;
}

static bool recent(const struct timespec *mtime)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t age =
        ((int64_t)now.tv_sec - mtime->tv_sec) * 1000000000 + (now.tv_nsec - mtime->tv_nsec);
    return age < RECENT_NS;
}

static bool recently_modified(const struct poll_sig *s)
{
    return (s->main.err == 0 && recent(&s->main.mtime)) || recent(&s->newest);
}

/* The files are loaded once their stats have stayed the same for the debounce
 * window: polling cannot see a writer close, so it waits for quiet. */
static void on_tick(struct snapconf__watch *w)
{
    drain(w->tick_fd);
    struct poll_sig s = poll_sig(w);
    int64_t now = mono_ns();
    if (!poll_sig_equal(&s, &w->last)) {
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
    w->last = poll_sig(w);
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

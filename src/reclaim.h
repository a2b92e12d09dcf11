/*
 * Reclaiming retired snapshots after an RCU grace period, off the writer's
 * path.  urcu-bp's synchronize_rcu() can take 10 ms when readers are busy
 * (it sleeps once its short spin fails), which would cap a writer that waits
 * itself at about 100 publications a second.  A reclaimer thread of our own
 * waits instead, one grace period for a whole batch; unlike liburcu's
 * call_rcu workers it blocks every signal and is joined at close.  At most
 * SNAPCONF__RETIRE_MAX snapshots wait at once, queued or in the grace period
 * under way: a writer that would exceed that waits for the reclaimer
 * (back-pressure), so memory stays bounded.
 */
#ifndef SNAPCONF_RECLAIM_H
#define SNAPCONF_RECLAIM_H

#include "snapconf.h"

#include <pthread.h>
#include <stdbool.h>

#define SNAPCONF__RETIRE_MAX 4

struct snapconf__reclaim {
    pthread_mutex_t lock;
    pthread_cond_t work, room;
    snapconf_snap *retired[SNAPCONF__RETIRE_MAX];
    size_t n;
    size_t in_grace; /* taken by the reclaimer, waiting for their grace period */
    size_t most;     /* the largest n + in_grace ever */
    bool stop;
    bool threaded;
    pthread_t thread;
    void *sync_addr; /* for ThreadSanitizer's view of the grace period */
};

/* Starts the reclaimer; with threaded false (hosts that want no hidden
 * thread), snapconf__retire() waits for the grace period itself. */
int snapconf__reclaim_start(struct snapconf__reclaim *r, bool threaded, void *sync_addr);

/* Hands over a snapshot that readers may still see; it is freed once a
 * grace period has passed and nobody holds it. */
void snapconf__retire(struct snapconf__reclaim *r, snapconf_snap *snap);

/* How many snapshots wait for a grace period now (queued or in the
 * reclaimer's hands), and the most ever: at most SNAPCONF__RETIRE_MAX. */
void snapconf__reclaim_counts(struct snapconf__reclaim *r, size_t *now, size_t *peak);

/* Reclaims everything still waiting and stops the thread. */
void snapconf__reclaim_stop(struct snapconf__reclaim *r);

/* Drops one reference; frees the snapshot at zero. */
void snapconf__snap_unref(snapconf_snap *snap);

#if defined(__SANITIZE_THREAD__)
#define SNAPCONF_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SNAPCONF_TSAN 1
#endif
#endif

#ifdef SNAPCONF_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#endif

/*
 * ThreadSanitizer cannot see the ordering a grace period provides (liburcu
 * is not instrumented, and membarrier is invisible to it).  In TSan builds
 * each read-side section releases, and the reclaimer acquires after
 * synchronize_rcu, on one address per handle: exactly the happens-before
 * edge a grace period guarantees.  Inline, because snapconf_snap_end() runs
 * this on every read: out of line, the empty function of a normal build
 * cost a call and a return per read (about 1 ns of the 7 a begin + end
 * pair costs through the shared library).
 */
static inline void snapconf__tsan_reader_done(void *sync_addr)
{
#ifdef SNAPCONF_TSAN
    __tsan_release(sync_addr);
#else
    (void)sync_addr;
#endif
}

static inline void snapconf__tsan_writer_waited(void *sync_addr)
{
#ifdef SNAPCONF_TSAN
    __tsan_acquire(sync_addr);
#else
    (void)sync_addr;
#endif
}

#endif

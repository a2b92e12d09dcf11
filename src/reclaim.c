/* The reclaimer thread: batches of retired snapshots, one grace period each. */
#include <urcu-bp.h>

#include "reclaim.h"
#include "snapshot.h"

#include <signal.h>
#include <stdatomic.h>
#include <string.h>

void snapconf__snap_unref(snapconf_snap *s)
{
    if (s && atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1)
        snapconf_snap_free(s);
}

static void reclaim_batch(struct snapconf__reclaim *r, snapconf_snap **batch, size_t n)
{
    synchronize_rcu();
    snapconf__tsan_writer_waited(r->sync_addr);
    for (size_t i = 0; i < n; i++)
        snapconf__snap_unref(batch[i]);
}

static void *reclaimer_main(void *arg)
{
    struct snapconf__reclaim *r = arg;
    snapconf_snap *batch[SNAPCONF__RETIRE_MAX];
    pthread_mutex_lock(&r->lock);
    for (;;) {
        while (r->n == 0 && !r->stop)
            pthread_cond_wait(&r->work, &r->lock);
        if (r->n == 0)
            break;
        size_t n = r->n;
        /* NOLINTNEXTLINE(bugprone-sizeof-expression): batch holds pointers */
        memcpy(batch, r->retired, n * sizeof *batch);
        r->n = 0;
        r->in_grace = n;
        pthread_mutex_unlock(&r->lock);
        reclaim_batch(r, batch, n);
        pthread_mutex_lock(&r->lock);
        r->in_grace = 0;
        pthread_cond_broadcast(&r->room);
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

int snapconf__reclaim_start(struct snapconf__reclaim *r, bool threaded, void *sync_addr)
{
    memset(r, 0, sizeof *r);
    r->sync_addr = sync_addr;
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->work, NULL);
    pthread_cond_init(&r->room, NULL);
    if (!threaded)
        return 0;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&r->thread, NULL, reclaimer_main, r);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc == 0)
        r->threaded = true;
    return rc ? -rc : 0;
}

void snapconf__retire(struct snapconf__reclaim *r, snapconf_snap *snap)
{
    if (!r->threaded) {
        reclaim_batch(r, &snap, 1);
        return;
    }
    pthread_mutex_lock(&r->lock);
    /* Those in the grace period under way count too: the bound is on
     * memory, not on the queue. */
    while (r->n + r->in_grace >= SNAPCONF__RETIRE_MAX)
        pthread_cond_wait(&r->room, &r->lock);
    r->retired[r->n++] = snap;
    if (r->n + r->in_grace > r->most)
        r->most = r->n + r->in_grace;
    pthread_cond_signal(&r->work);
    pthread_mutex_unlock(&r->lock);
}

void snapconf__reclaim_counts(struct snapconf__reclaim *r, size_t *now, size_t *peak)
{
    pthread_mutex_lock(&r->lock);
    *now = r->n + r->in_grace;
    *peak = r->most;
    pthread_mutex_unlock(&r->lock);
}

void snapconf__reclaim_stop(struct snapconf__reclaim *r)
{
    if (r->threaded) {
        pthread_mutex_lock(&r->lock);
        r->stop = true;
        pthread_cond_signal(&r->work);
        pthread_mutex_unlock(&r->lock);
        pthread_join(r->thread, NULL);
        r->threaded = false;
    }
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->work);
    pthread_cond_destroy(&r->room);
}

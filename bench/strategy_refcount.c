/*
 * strategy_refcount.c - a snapshot pointer with an atomic reference count:
 * acquire = increment, release = decrement, and a replaced snapshot is
 * freed once its count is zero.  Every reader writes the same cache line
 * twice per read, which is what this strategy costs.
 *
 * A count beside a pointer that can change is not safe on its own: a reader
 * may load the pointer, be preempted, and increment the count of a snapshot
 * the writer has meanwhile replaced and freed.  So the counts live in
 * holders that are never freed while the strategy exists (a pool of
 * HOLDERS), and a reader checks after its increment that the holder is
 * still the current one, else gives the count back and tries again; its
 * increment then never touches freed memory, and a holder whose count the
 * writer saw at zero can no longer be taken.  The writer retires the old
 * holder (dropping the reference publication held) and frees the snapshot
 * of every retired holder whose count it finds at zero; it reuses a holder
 * only by moving its count from 0 to 1 with a compare-and-swap, so a stale
 * reader's passing increment makes it pick another.
 */
#include "strategy.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#define HOLDERS 16

typedef struct holder {
    _Alignas(64) atomic_ulong refs; /* readers, plus one while published */
    _Atomic(snapconf_snap *) snap;
    bool retired; /* writer only: replaced, waiting for zero */
    bool in_use;  /* writer only: published or retired */
} holder;

typedef struct refcount_state {
    _Alignas(64) _Atomic(holder *) current;
    holder pool[HOLDERS];
    size_t retired, retired_peak; /* writer only */
} refcount_state;

/* The holder this thread's current read holds: release() gets only the
 * snapshot, and a thread holds one read at a time. */
static __thread holder *tls_held;

static inline const snapconf_snap *refcount_acquire(refcount_state *s)
{
    for (;;) {
        holder *h = atomic_load_explicit(&s->current, memory_order_acquire);
        atomic_fetch_add_explicit(&h->refs, 1, memory_order_seq_cst);
        if (atomic_load_explicit(&s->current, memory_order_seq_cst) == h) {
            tls_held = h;
            return atomic_load_explicit(&h->snap, memory_order_relaxed);
        }
        atomic_fetch_sub_explicit(&h->refs, 1, memory_order_release);
    }
}

static inline void refcount_release(refcount_state *s, const snapconf_snap *snap)
{
    (void)s;
    (void)snap;
    atomic_fetch_sub_explicit(&tls_held->refs, 1, memory_order_release);
}

STRATEGY_DEFINE_LOOPS(refcount, refcount_state, refcount_acquire, refcount_release,
                      STRATEGY_NO_QUIESCE)

/* Frees the snapshots of retired holders nobody counts any more. */
static void reclaim(refcount_state *s)
{
    for (size_t i = 0; i < HOLDERS; i++) {
        holder *h = &s->pool[i];
        if (!h->retired || atomic_load_explicit(&h->refs, memory_order_acquire) != 0)
            continue;
        snapconf_snap_free(atomic_load_explicit(&h->snap, memory_order_relaxed));
        atomic_store_explicit(&h->snap, NULL, memory_order_relaxed);
        h->retired = h->in_use = false;
        s->retired--;
    }
}

/* A free holder, its count moved from 0 to 1 (the publication's reference);
 * waits for readers to let go of retired ones when all are taken. */
static holder *take_holder(refcount_state *s)
{
    for (;;) {
        for (size_t i = 0; i < HOLDERS; i++) {
            holder *h = &s->pool[i];
            unsigned long zero = 0;
            if (!h->in_use && atomic_compare_exchange_strong_explicit(
                                  &h->refs, &zero, 1, memory_order_acq_rel, memory_order_relaxed)) {
                h->in_use = true;
                return h;
            }
        }
        reclaim(s);
        sched_yield();
    }
}

static void publish_snap(refcount_state *s, snapconf_snap *snap)
{
    holder *h = take_holder(s);
    atomic_store_explicit(&h->snap, snap, memory_order_relaxed);
    holder *old = atomic_exchange_explicit(&s->current, h, memory_order_seq_cst);
    if (!old)
        return;
    old->retired = true;
    if (++s->retired > s->retired_peak)
        s->retired_peak = s->retired;
    atomic_fetch_sub_explicit(&old->refs, 1, memory_order_acq_rel);
    reclaim(s);
}

static int refcount_create(void **state, const strategy_env *env)
{
    refcount_state *s = aligned_alloc(64, sizeof(refcount_state));
    snapconf_snap *snap = NULL;
    snapconf_error err;
    int rc = s ? snapconf_snap_load_buffer(env->bytes, env->len, env->file, &snap, &err) : -1;
    if (rc != 0) {
        fprintf(stderr, "strategy refcount: %s\n", s ? err.message : "out of memory");
        free(s);
        return -1;
    }
    atomic_init(&s->current, NULL);
    for (size_t i = 0; i < HOLDERS; i++) {
        atomic_init(&s->pool[i].refs, 0);
        atomic_init(&s->pool[i].snap, NULL);
        s->pool[i].retired = s->pool[i].in_use = false;
    }
    s->retired = s->retired_peak = 0;
    publish_snap(s, snap);
    *state = s;
    return 0;
}

/* Called once every reader has stopped: every count is back to what
 * publication holds. */
static void refcount_destroy(void *state)
{
    refcount_state *s = state;
    for (size_t i = 0; i < HOLDERS; i++)
        snapconf_snap_free(atomic_load_explicit(&s->pool[i].snap, memory_order_relaxed));
    free(s);
}

static int refcount_publish(void *state, const char *bytes, size_t len, strategy_pub_cost *cost)
{
    refcount_state *s = state;
    snapconf_error err;
    snapconf_snap *next;
    uint64_t t0 = strategy_now_ns();
    if (snapconf_snap_load_buffer(bytes, len, "<refcount copy>", &next, &err) != 0) {
        fprintf(stderr, "strategy refcount: %s\n", err.message);
        return -1;
    }
    publish_snap(s, next);
    *cost = (strategy_pub_cost){.publish_ns = strategy_now_ns() - t0};
    return 0;
}

static size_t refcount_retired_peak(void *state)
{
    return ((refcount_state *)state)->retired_peak;
}

const strategy_ops strategy_refcount = {
    .name = "refcount",
    .desc = "atomic increment / decrement of the current snapshot's reference count (checked "
            "against the pointer after the increment); writer frees a replaced snapshot once "
            "its count is zero",
    .create = refcount_create,
    .destroy = refcount_destroy,
    .read = refcount_read,
    .read_timed = refcount_read_timed,
    .pairs = refcount_pairs,
    .publish = refcount_publish,
    .retired_peak = refcount_retired_peak,
};

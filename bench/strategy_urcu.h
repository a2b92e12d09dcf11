/*
 * strategy_urcu.h - the body shared by the liburcu flavor strategies.
 *
 * Not a normal header: each strategy_urcu_<flavor>.c defines _LGPL_SOURCE,
 * includes its flavor's header (<urcu/urcu-memb.h>, ...), defines the macros
 * below, and includes this file once.  One flavor per translation unit,
 * because each flavor's header maps the generic rcu_* names onto its own
 * functions.  With _LGPL_SOURCE the read side is liburcu's inline fast path,
 * exactly as snapconf's src/publish.c uses urcu-bp.
 *
 *   URCU_OPS          the ops table's name (strategy_urcu_memb, ...)
 *   URCU_NAME, URCU_DESC
 *   URCU_READ_LOCK(), URCU_READ_UNLOCK()
 *   URCU_QUIESCE()    after each read-side section (qsbr), else nothing
 *   URCU_REGISTER(), URCU_UNREGISTER()   per reader thread, or nothing (bp)
 *   URCU_SYNCHRONIZE()
 *   URCU_NOTE         a function returning a static string, or NULL
 *
 * The writer loads the new snapshot outside any lock, swaps the pointer,
 * waits for a grace period and frees the old one: the same scheme as
 * snapconf's publish.c, minus the file and the handle.
 */
#ifndef URCU_OPS
#error "strategy_urcu.h is included by strategy_urcu_<flavor>.c only"
#endif

#include "strategy.h"

#include <stdio.h>
#include <stdlib.h>

/*
 * As in snapconf's publish.c: the pointer is read with an acquire load and
 * swapped with a sequentially consistent exchange - on the platforms liburcu
 * supports the same instructions as rcu_dereference and rcu_xchg_pointer,
 * but ones ThreadSanitizer understands (liburcu's uatomic_xchg is inline
 * assembly it cannot see) - and in TSan builds the read side releases, and
 * the writer acquires after the grace period, on the pointer's address.
 */
#if defined(__SANITIZE_THREAD__)
#define FLAVOR_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define FLAVOR_TSAN 1
#endif
#endif
#ifdef FLAVOR_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define FLAVOR_READER_DONE(s) __tsan_release(&(s)->current)
#define FLAVOR_WRITER_WAITED(s) __tsan_acquire(&(s)->current)
#else
#define FLAVOR_READER_DONE(s) ((void)(s))
#define FLAVOR_WRITER_WAITED(s) ((void)0)
#endif

typedef struct flavor_state {
    snapconf_snap *current; /* RCU-protected */
    size_t retired_peak;    /* 1 once the writer has waited for a grace period */
} flavor_state;

static inline const snapconf_snap *flavor_acquire(flavor_state *s)
{
    URCU_READ_LOCK();
    return __atomic_load_n(&s->current, __ATOMIC_ACQUIRE);
}

static inline void flavor_release(flavor_state *s, const snapconf_snap *snap)
{
    (void)snap;
    FLAVOR_READER_DONE(s);
    URCU_READ_UNLOCK();
}

static inline void flavor_quiesce(flavor_state *s)
{
    (void)s;
    URCU_QUIESCE();
}

STRATEGY_DEFINE_LOOPS(flavor, flavor_state, flavor_acquire, flavor_release, flavor_quiesce)

static int flavor_create(void **state, const strategy_env *env)
{
    flavor_state *s = calloc(1, sizeof(*s));
    snapconf_error err;
    snapconf_snap *snap = NULL;
    int rc = s ? snapconf_snap_load_buffer(env->bytes, env->len, env->file, &snap, &err) : -1;
    if (rc != 0) {
        fprintf(stderr, "strategy %s: %s\n", URCU_NAME, s ? err.message : "out of memory");
        free(s);
        return -1;
    }
    __atomic_store_n(&s->current, snap, __ATOMIC_RELEASE);
    *state = s;
    return 0;
}

static void flavor_destroy(void *state)
{
    flavor_state *s = state;
    snapconf_snap *old = __atomic_exchange_n(&s->current, NULL, __ATOMIC_SEQ_CST);
    URCU_SYNCHRONIZE();
    FLAVOR_WRITER_WAITED(s);
    snapconf_snap_free(old);
    free(s);
}

static void flavor_online(void *state)
{
    (void)state;
    URCU_REGISTER();
}

static void flavor_offline(void *state)
{
    (void)state;
    URCU_UNREGISTER();
}

static int flavor_publish(void *state, const char *bytes, size_t len, strategy_pub_cost *cost)
{
    flavor_state *s = state;
    snapconf_error err;
    snapconf_snap *next;
    uint64_t t0 = strategy_now_ns();
    if (snapconf_snap_load_buffer(bytes, len, "<urcu copy>", &next, &err) != 0) {
        fprintf(stderr, "strategy %s: %s\n", URCU_NAME, err.message);
        return -1;
    }
    snapconf_snap *old = __atomic_exchange_n(&s->current, next, __ATOMIC_SEQ_CST);
    s->retired_peak = 1; /* old, for the grace period the writer waits for */
    URCU_SYNCHRONIZE();
    FLAVOR_WRITER_WAITED(s);
    snapconf_snap_free(old);
    *cost = (strategy_pub_cost){.publish_ns = strategy_now_ns() - t0};
    return 0;
}

static size_t flavor_retired_peak(void *state)
{
    return ((flavor_state *)state)->retired_peak;
}

const strategy_ops URCU_OPS = {
    .name = URCU_NAME,
    .desc = URCU_DESC,
    .create = flavor_create,
    .destroy = flavor_destroy,
    .thread_online = flavor_online,
    .thread_offline = flavor_offline,
    .read = flavor_read,
    .read_timed = flavor_read_timed,
    .pairs = flavor_pairs,
    .publish = flavor_publish,
    .retired_peak = flavor_retired_peak,
    .note = URCU_NOTE,
};

/*
 * strategy_rwlock.c - the usual design: the config in a mutable map behind a
 * pthread_rwlock_t.  Readers take the read lock around the lookup.  The
 * writer builds the new config outside the lock (as every strategy's writer
 * does), then takes the write lock and deep-copies it into the shared map
 * (strategy_map.h), so readers are locked out for the copy only.
 *
 * Two variants: glibc's default lock, which prefers readers (with readers
 * that overlap without pause a writer may wait for ever), and the
 * writer-preferring kind (PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP).
 */
#include "strategy.h"
#include "strategy_map.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct rwlock_state {
    pthread_rwlock_t lock;
    strategy_map map;
    const char *name;
} rwlock_state;

static inline const snapconf_snap *rwlock_acquire(rwlock_state *s)
{
    pthread_rwlock_rdlock(&s->lock);
    return s->map.snap;
}

static inline void rwlock_release(rwlock_state *s, const snapconf_snap *snap)
{
    (void)snap;
    pthread_rwlock_unlock(&s->lock);
}

STRATEGY_DEFINE_LOOPS(rwlock, rwlock_state, rwlock_acquire, rwlock_release, STRATEGY_NO_QUIESCE)

static int create_kind(void **state, const strategy_env *env, int kind, const char *name)
{
    rwlock_state *s = calloc(1, sizeof(*s));
    snapconf_snap *first = NULL;
    snapconf_error err;
    int rc = s ? snapconf_snap_load_buffer(env->bytes, env->len, env->file, &first, &err) : -1;
    if (rc == 0 && strategy_map_init(&s->map, first) != 0) {
        snprintf(err.message, sizeof(err.message), "out of memory");
        rc = -1;
    }
    snapconf_snap_free(first);
    if (rc != 0) {
        fprintf(stderr, "strategy %s: %s\n", name, s ? err.message : "out of memory");
        free(s);
        return -1;
    }
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, kind);
    pthread_rwlock_init(&s->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    s->name = name;
    *state = s;
    return 0;
}

static int rwlock_create(void **state, const strategy_env *env)
{
    return create_kind(state, env, PTHREAD_RWLOCK_DEFAULT_NP, "rwlock");
}

static int rwlock_wp_create(void **state, const strategy_env *env)
{
    return create_kind(state, env, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP, "rwlock-wp");
}

static void rwlock_destroy(void *state)
{
    rwlock_state *s = state;
    pthread_rwlock_destroy(&s->lock);
    strategy_map_free(&s->map);
    free(s);
}

static int rwlock_publish(void *state, const char *bytes, size_t len, strategy_pub_cost *cost)
{
    rwlock_state *s = state;
    snapconf_error err;
    snapconf_snap *next;
    uint64_t t0 = strategy_now_ns();
    if (snapconf_snap_load_buffer(bytes, len, "<rwlock copy>", &next, &err) != 0) {
        fprintf(stderr, "strategy %s: %s\n", s->name, err.message);
        return -1;
    }
    pthread_rwlock_wrlock(&s->lock);
    uint64_t t1 = strategy_now_ns();
    int rc = strategy_map_assign(&s->map, next);
    uint64_t t2 = strategy_now_ns();
    pthread_rwlock_unlock(&s->lock);
    snapconf_snap_free(next);
    if (rc != 0) {
        fprintf(stderr, "strategy %s: out of memory copying the config\n", s->name);
        return -1;
    }
    *cost = (strategy_pub_cost){.publish_ns = strategy_now_ns() - t0, .exclusive_ns = t2 - t1};
    return 0;
}

/* The old content is overwritten under the lock: nothing ever waits. */
static size_t rwlock_retired_peak(void *state)
{
    (void)state;
    return 0;
}

const strategy_ops strategy_rwlock = {
    .name = "rwlock",
    .desc = "pthread_rwlock_t (glibc default: prefers readers) around the lookup in a mutable "
            "map; writer builds the new config, then deep-copies it into the map under the "
            "write lock",
    .create = rwlock_create,
    .destroy = rwlock_destroy,
    .read = rwlock_read,
    .read_timed = rwlock_read_timed,
    .pairs = rwlock_pairs,
    .publish = rwlock_publish,
    .retired_peak = rwlock_retired_peak,
};

const strategy_ops strategy_rwlock_wp = {
    .name = "rwlock-wp",
    .desc = "as rwlock, with PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP",
    .create = rwlock_wp_create,
    .destroy = rwlock_destroy,
    .read = rwlock_read,
    .read_timed = rwlock_read_timed,
    .pairs = rwlock_pairs,
    .publish = rwlock_publish,
    .retired_peak = rwlock_retired_peak,
};

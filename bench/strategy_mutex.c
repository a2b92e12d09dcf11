/*
 * strategy_mutex.c - the config in a mutable map behind a pthread_mutex_t:
 * as strategy_rwlock.c, but readers exclude each other too.  The writer
 * builds the new config outside the lock and deep-copies it into the map
 * under the mutex (strategy_map.h).
 */
#include "strategy.h"
#include "strategy_map.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct mutex_state {
    pthread_mutex_t lock;
    strategy_map map;
} mutex_state;

static inline const snapconf_snap *mutex_acquire(mutex_state *s)
{
    pthread_mutex_lock(&s->lock);
    return s->map.snap;
}

static inline void mutex_release(mutex_state *s, const snapconf_snap *snap)
{
    (void)snap;
    pthread_mutex_unlock(&s->lock);
}

STRATEGY_DEFINE_LOOPS(mutex, mutex_state, mutex_acquire, mutex_release, STRATEGY_NO_QUIESCE)

static int mutex_create(void **state, const strategy_env *env)
{
    mutex_state *s = calloc(1, sizeof(*s));
    snapconf_snap *first = NULL;
    snapconf_error err;
    int rc = s ? snapconf_snap_load_buffer(env->bytes, env->len, env->file, &first, &err) : -1;
    if (rc == 0 && strategy_map_init(&s->map, first) != 0) {
        snprintf(err.message, sizeof(err.message), "out of memory");
        rc = -1;
    }
    snapconf_snap_free(first);
    if (rc != 0) {
        fprintf(stderr, "strategy mutex: %s\n", s ? err.message : "out of memory");
        free(s);
        return -1;
    }
    pthread_mutex_init(&s->lock, NULL);
    *state = s;
    return 0;
}

static void mutex_destroy(void *state)
{
    mutex_state *s = state;
    pthread_mutex_destroy(&s->lock);
    strategy_map_free(&s->map);
    free(s);
}

static int mutex_publish(void *state, const char *bytes, size_t len, strategy_pub_cost *cost)
{
    mutex_state *s = state;
    snapconf_error err;
    snapconf_snap *next;
    uint64_t t0 = strategy_now_ns();
    if (snapconf_snap_load_buffer(bytes, len, "<mutex copy>", &next, &err) != 0) {
        fprintf(stderr, "strategy mutex: %s\n", err.message);
        return -1;
    }
    pthread_mutex_lock(&s->lock);
    uint64_t t1 = strategy_now_ns();
    int rc = strategy_map_assign(&s->map, next);
    uint64_t t2 = strategy_now_ns();
    pthread_mutex_unlock(&s->lock);
    snapconf_snap_free(next);
    if (rc != 0) {
        fputs("strategy mutex: out of memory copying the config\n", stderr);
        return -1;
    }
    *cost = (strategy_pub_cost){.publish_ns = strategy_now_ns() - t0, .exclusive_ns = t2 - t1};
    return 0;
}

/* The old content is overwritten under the lock: nothing ever waits. */
static size_t mutex_retired_peak(void *state)
{
    (void)state;
    return 0;
}

const strategy_ops strategy_mutex = {
    .name = "mutex",
    .desc = "pthread_mutex_t around the lookup in a mutable map; writer builds the new config, "
            "then deep-copies it into the map under the mutex",
    .create = mutex_create,
    .destroy = mutex_destroy,
    .read = mutex_read,
    .read_timed = mutex_read_timed,
    .pairs = mutex_pairs,
    .publish = mutex_publish,
    .retired_peak = mutex_retired_peak,
};

/*
 * strategy_sharded.c - 64 shards, each with its own pthread_rwlock_t, the
 * shard chosen by a hash of the key: readers of different keys mostly take
 * different locks, so they stop fighting over one lock's cache line.
 *
 * Each shard holds the lock and a pointer to the current snapshot, on a
 * cache line of its own.  The writer builds the new snapshot outside any
 * lock, then walks the shards: write lock, swap the pointer, unlock.  Once
 * it has passed every shard, no reader can still hold the old snapshot (a
 * reader holds a shard's read lock for as long as it uses what it got from
 * that shard), so the writer frees it.  A real sharded map would keep only
 * its shard's keys in each shard; sharing one immutable snapshot keeps the
 * lookup itself identical to the other strategies'.
 *
 * The key hash is a multiplicative hash of the key's number: about a
 * nanosecond, where a sharded map would reuse the hash of its own lookup.
 */
#include "strategy.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define SHARDS 64
#define SHARD_BITS 6

typedef struct shard {
    _Alignas(64) pthread_rwlock_t lock;
    snapconf_snap *snap;
} shard;

typedef struct sharded_state {
    shard shards[SHARDS];
    snapconf_snap *current; /* writer only: what every shard points to */
    size_t retired_peak;
} sharded_state;

static inline shard *shard_of(sharded_state *s, uint32_t key)
{
    return &s->shards[(uint64_t)key * UINT64_C(0x9e3779b97f4a7c15) >> (64 - SHARD_BITS)];
}

static inline const snapconf_snap *sharded_acquire(sharded_state *s, uint32_t key)
{
    shard *sh = shard_of(s, key);
    pthread_rwlock_rdlock(&sh->lock);
    return sh->snap;
}

static inline void sharded_release(sharded_state *s, const snapconf_snap *snap, uint32_t key)
{
    (void)snap;
    pthread_rwlock_unlock(&shard_of(s, key)->lock);
}

STRATEGY_DEFINE_KEYED_LOOPS(sharded, sharded_state, sharded_acquire, sharded_release,
                            STRATEGY_NO_QUIESCE)

static int sharded_create(void **state, const strategy_env *env)
{
    sharded_state *s = aligned_alloc(64, sizeof(sharded_state));
    snapconf_error err;
    int rc = s ? snapconf_snap_load_buffer(env->bytes, env->len, env->file, &s->current, &err) : -1;
    if (rc != 0) {
        fprintf(stderr, "strategy sharded: %s\n", s ? err.message : "out of memory");
        free(s);
        return -1;
    }
    for (size_t i = 0; i < SHARDS; i++) {
        pthread_rwlock_init(&s->shards[i].lock, NULL);
        s->shards[i].snap = s->current;
    }
    s->retired_peak = 0;
    *state = s;
    return 0;
}

static void sharded_destroy(void *state)
{
    sharded_state *s = state;
    for (size_t i = 0; i < SHARDS; i++)
        pthread_rwlock_destroy(&s->shards[i].lock);
    snapconf_snap_free(s->current);
    free(s);
}

static int sharded_publish(void *state, const char *bytes, size_t len, strategy_pub_cost *cost)
{
    sharded_state *s = state;
    snapconf_error err;
    snapconf_snap *next;
    uint64_t t0 = strategy_now_ns(), locked = 0;
    if (snapconf_snap_load_buffer(bytes, len, "<sharded copy>", &next, &err) != 0) {
        fprintf(stderr, "strategy sharded: %s\n", err.message);
        return -1;
    }
    snapconf_snap *old = s->current;
    s->current = next;
    s->retired_peak = 1; /* old waits for the pass over the shards */
    for (size_t i = 0; i < SHARDS; i++) {
        pthread_rwlock_wrlock(&s->shards[i].lock);
        uint64_t t1 = strategy_now_ns();
        s->shards[i].snap = next;
        locked += strategy_now_ns() - t1;
        pthread_rwlock_unlock(&s->shards[i].lock);
    }
    snapconf_snap_free(old);
    *cost = (strategy_pub_cost){.publish_ns = strategy_now_ns() - t0, .exclusive_ns = locked};
    return 0;
}

static size_t sharded_retired_peak(void *state)
{
    return ((sharded_state *)state)->retired_peak;
}

const strategy_ops strategy_sharded = {
    .name = "sharded",
    .desc = "64 pthread_rwlock_t shards chosen by key hash; writer builds the new snapshot, then "
            "swaps each shard's pointer under that shard's write lock and frees the old one "
            "after the pass",
    .create = sharded_create,
    .destroy = sharded_destroy,
    .read = sharded_read,
    .read_timed = sharded_read_timed,
    .pairs = sharded_pairs,
    .publish = sharded_publish,
    .retired_peak = sharded_retired_peak,
};

/*
 * strategy_refcount.c - a snapshot pointer with an atomic reference count:
 * acquire = increment, release = decrement.  Every reader writes the same
 * cache line twice per read, which is what this strategy costs.
 *
 * For now it only reads (item 4's "atomic refcount pair, for scale").  A
 * safe publish needs more than a counter beside the pointer - a reader may
 * increment the count of a snapshot the writer has just retired and freed -
 * so the writer side (type-stable holders and a writer that waits for the
 * retired holder's count to reach zero, or a lock bit in the pointer as
 * libstdc++'s atomic<shared_ptr> does) is left for issue #6's matrix.
 */
#include "strategy.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct refcount_state {
    snapconf_snap *snap;
    _Alignas(64) atomic_ulong refs; /* its own cache line: the one readers fight over */
} refcount_state;

static inline const snapconf_snap *refcount_acquire(refcount_state *s)
{
    atomic_fetch_add_explicit(&s->refs, 1, memory_order_acquire);
    return s->snap;
}

static inline void refcount_release(refcount_state *s, const snapconf_snap *snap)
{
    (void)snap;
    atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel);
}

STRATEGY_DEFINE_LOOPS(refcount, refcount_state, refcount_acquire, refcount_release,
                      STRATEGY_NO_QUIESCE)

static int refcount_create(void **state, const strategy_env *env)
{
    refcount_state *s = aligned_alloc(64, sizeof(refcount_state));
    snapconf_error err;
    int rc = s ? snapconf_snap_load_buffer(env->bytes, env->len, env->file, &s->snap, &err) : -1;
    if (rc != 0) {
        fprintf(stderr, "strategy refcount: %s\n", s ? err.message : "out of memory");
        free(s);
        return -1;
    }
    atomic_init(&s->refs, 1);
    *state = s;
    return 0;
}

static void refcount_destroy(void *state)
{
    refcount_state *s = state;
    snapconf_snap_free(s->snap);
    free(s);
}

const strategy_ops strategy_refcount = {
    .name = "refcount",
    .desc = "atomic increment / decrement of a count beside the snapshot pointer (read side "
            "only for now)",
    .create = refcount_create,
    .destroy = refcount_destroy,
    .read = refcount_read,
    .pairs = refcount_pairs,
};

/*
 * strategy_unsync.c - the lower bound: one snapshot loaded with
 * snapconf_snap_load_buffer() and never published, read with no
 * synchronisation at all.  It cannot be replaced while readers run, so it
 * has no writer.
 */
#include "strategy.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct unsync_state {
    snapconf_snap *snap;
} unsync_state;

/* A relaxed atomic load is a plain load on every platform liburcu supports;
 * it only stops the compiler from hoisting the load out of the pair loop. */
static inline const snapconf_snap *unsync_acquire(unsync_state *s)
{
    return __atomic_load_n(&s->snap, __ATOMIC_RELAXED);
}

static inline void unsync_release(unsync_state *s, const snapconf_snap *snap)
{
    (void)s;
    (void)snap;
}

STRATEGY_DEFINE_LOOPS(unsync, unsync_state, unsync_acquire, unsync_release, STRATEGY_NO_QUIESCE)

static int unsync_create(void **state, const strategy_env *env)
{
    unsync_state *s = calloc(1, sizeof(*s));
    snapconf_error err;
    int rc = s ? snapconf_snap_load_buffer(env->bytes, env->len, env->file, &s->snap, &err) : -1;
    if (rc != 0) {
        fprintf(stderr, "strategy unsync: %s\n", s ? err.message : "out of memory");
        free(s);
        return -1;
    }
    *state = s;
    return 0;
}

static void unsync_destroy(void *state)
{
    unsync_state *s = state;
    snapconf_snap_free(s->snap);
    free(s);
}

const strategy_ops strategy_unsync = {
    .name = "unsynchronised",
    .desc = "snapconf_snap_load_buffer() snapshot read directly: no publication, no writer",
    .create = unsync_create,
    .destroy = unsync_destroy,
    .read = unsync_read,
    .read_timed = unsync_read_timed,
    .pairs = unsync_pairs,
};

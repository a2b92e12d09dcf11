/*
 * strategy_snapconf.c - snapconf's own live handle, through the shared
 * library as an embedding service would call it: snapconf_snap_begin(), the
 * lookup, snapconf_snap_end().  The writer rewrites the file (temporary file
 * renamed over it) and calls snapconf_reload() on a handle opened with
 * SNAPCONF_WATCH_NONE, so publications happen exactly when the benchmark
 * says and not a debounce window later.
 */
#include "bench_files.h"
#include "strategy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct live_state {
    snapconf *h;
    const char *file;
    uint64_t publications; /* successful publish calls, checked at the end */
} live_state;

static inline const snapconf_snap *live_acquire(live_state *s)
{
    return snapconf_snap_begin(s->h);
}

static inline void live_release(live_state *s, const snapconf_snap *snap)
{
    snapconf_snap_end(s->h, snap);
}

STRATEGY_DEFINE_LOOPS(live, live_state, live_acquire, live_release, STRATEGY_NO_QUIESCE)

static int live_create(void **state, const strategy_env *env)
{
    live_state *s = calloc(1, sizeof(*s));
    if (!s) {
        fputs("strategy snapconf: out of memory\n", stderr);
        return -1;
    }
    snapconf_options opts;
    snapconf_options_init(&opts);
    opts.watch = SNAPCONF_WATCH_NONE;
    snapconf_error err;
    if (snapconf_open(&s->h, env->file, &opts, &err) != 0) {
        fprintf(stderr, "strategy snapconf: cannot open %s: %s\n", env->file, err.message);
        free(s);
        return -1;
    }
    s->file = env->file;
    *state = s;
    return 0;
}

static void live_destroy(void *state)
{
    live_state *s = state;
    /* Each publish changed a value, so each must have made a generation. */
    snapconf_status_info st;
    if (snapconf_status(s->h, &st) == 0 && st.reloads != s->publications)
        fprintf(stderr,
                "strategy snapconf: library bug? %llu reloads of changed content, "
                "status counts %llu publications\n",
                (unsigned long long)s->publications, (unsigned long long)st.reloads);
    snapconf_close(s->h);
    free(s);
}

static int live_publish(void *state, const char *bytes, size_t len, strategy_pub_cost *cost)
{
    live_state *s = state;
    uint64_t t0 = strategy_now_ns();
    if (bench_write_rename(s->file, bytes, len) != 0) {
        fprintf(stderr, "strategy snapconf: cannot rewrite %s: %s\n", s->file, strerror(errno));
        return -1;
    }
    uint64_t t1 = strategy_now_ns();
    snapconf_error err;
    int rc = snapconf_reload(s->h, &err);
    uint64_t t2 = strategy_now_ns();
    if (rc != 0) {
        fprintf(stderr, "strategy snapconf: reload failed: %s\n", err.message);
        return -1;
    }
    s->publications++;
    *cost = (strategy_pub_cost){.prepare_ns = t1 - t0, .publish_ns = t2 - t1};
    return 0;
}

/* The library's own count (snapconf_status_info.retired_peak): snapshots
 * handed to the reclaimer and not yet freed, queued or in the grace period
 * under way. */
static size_t live_retired_peak(void *state)
{
    live_state *s = state;
    snapconf_status_info st;
    return snapconf_status(s->h, &st) == 0 ? st.retired_peak : 0;
}

const strategy_ops strategy_snapconf = {
    .name = "snapconf",
    .desc = "snapconf_snap_begin + lookup + snapconf_snap_end through libsnapconf.so; writer: "
            "rewrite the file (rename over) + snapconf_reload (read, build, swap; the "
            "library's reclaimer thread frees the old snapshot after a grace period)",
    .prepare_what = "file write + rename",
    .create = live_create,
    .destroy = live_destroy,
    .read = live_read,
    .read_timed = live_read_timed,
    .pairs = live_pairs,
    .publish = live_publish,
    .retired_peak = live_retired_peak,
};
